"""The openai backend from the command line and under concurrency.

No silent default endpoint (the base URL comes from --base-url or OPENAI_BASE_URL, else one
line and exit 2); a backend that fails while answering (unreachable, kept failing, malformed
response) is one line and exit 3; and requests made at the same time from several threads
(``eval --concurrency``) keep their own deadline and their own refusal.

Every server here is a small real HTTP server on loopback that answers canned completions at
once, or withholds its answer until the test releases it: no test waits on a model.
"""
import json
import threading
import time
from http.server import BaseHTTPRequestHandler

import pytest

from mannsim.backends import load_backend
from mannsim.backends.base import BackendError, BackendFailure
from mannsim.errors import EXIT_BACKEND, EXIT_BAD_INPUT
from mannsim.limits import MAX_RESPONSE_BYTES

from conftest import PROGRAMS
from helpers import run_cli
from servers import Loopback, completion_body, free_port, perfect, send_json

pytestmark = pytest.mark.slow  # real servers (tests/conftest.py: SLOW_MODULES)

#: The longest any test waits for a server event that a correct client makes happen at once;
#: reaching it means the behaviour under test is broken, never that the machine is slow.
CAP = 60.0


class CannedServer(Loopback):
    """/v1/completions answered by the model's name, or else the prompt's first word: ``huge``
    (a body past the cap), ``trickle`` (a byte every 50 ms, never the whole body, until the
    client hangs up), ``hold`` (nothing until :attr:`release` is set, then the connection is
    closed unanswered), anything else the symbolic CPU's answer to the prompt, at once
    (``echo:TEXT``: TEXT). :attr:`arrived` is set when a ``hold`` or ``trickle`` request comes
    in."""

    def __init__(self):
        self.port = free_port()
        self.arrived = threading.Event()
        self.release = threading.Event()
        self.stopping = threading.Event()
        self.requests = 0
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers.get("content-length", 0))))
                server.requests += 1
                prompt = body.get("prompt", "")
                word = body.get("model")
                if word not in ("hold", "huge", "trickle"):
                    word = prompt.split(" ", 1)[0]
                if word == "hold":
                    server.arrived.set()
                    server.release.wait(CAP)
                    return  # closes the connection without a response
                if word == "huge":
                    data = completion_body("x")
                    send_json(self, 200, data[:-1] + b', "pad": "' + b"x" * (MAX_RESPONSE_BYTES + 1)
                              + b'"}')
                    return
                if word == "trickle":
                    data = completion_body("late")
                    self.send_response(200)
                    self.send_header("content-type", "application/json")
                    self.send_header("content-length", str(len(data) + 4000))
                    self.end_headers()
                    server.arrived.set()
                    try:  # never completes the promised length while the client listens
                        while not server.stopping.is_set():
                            self.wfile.write(b" ")
                            self.wfile.flush()
                            time.sleep(0.05)
                    except OSError:
                        pass
                    return
                text = prompt[5:] if word.startswith("echo:") else perfect(prompt)
                send_json(self, 200, completion_body(text))

        self.serve(Handler)

    def stop(self):
        self.stopping.set()
        self.release.set()
        self.shutdown()


@pytest.fixture
def canned():
    s = CannedServer()
    yield s
    s.stop()


@pytest.fixture
def no_env_url(monkeypatch):
    monkeypatch.delenv("OPENAI_BASE_URL", raising=False)


def dead_url() -> str:
    return f"http://127.0.0.1:{free_port()}/v1"  # nothing listens there


def one_line(proc, code, text="", progress=False):
    """Exit ``code`` and exactly one line on stderr, the error, containing ``text``
    (``progress``: after eval's progress lines, which go to stderr off a terminal)."""
    lines = proc.stderr.strip().splitlines()
    assert proc.returncode == code, (proc.returncode, proc.stdout[-500:], proc.stderr[-2000:])
    if progress:  # the error is the last line, and the only error line
        assert sum(line.startswith("mannsim: error: ") for line in lines) == 1, proc.stderr
        lines = lines[-1:]
    assert len(lines) == 1 and lines[0].startswith("mannsim: error: "), proc.stderr[-2000:]
    assert text in lines[0], lines[0]
    return lines[0]


# -- where the server is: --base-url or OPENAI_BASE_URL, never a silent default ---------------
NO_URL = ("mannsim: error: the openai backend needs a server: give --base-url URL (for example "
          "http://127.0.0.1:8000/v1) or set OPENAI_BASE_URL (https://api.openai.com/v1 for "
          "OpenAI itself)")


@pytest.mark.parametrize("command", [
    ["run", PROGRAMS / "bb2.tm", "-b", "openai"],
    ["verify", PROGRAMS / "bb2.tm", "-b", "openai"],
    ["eval", "-b", "openai", "-n", "1", "--no-programs", "--distribution", "training"],
])
def test_no_base_url_is_one_line_of_bad_input(no_env_url, command):
    proc = run_cli(command)
    assert proc.returncode == EXIT_BAD_INPUT == 2
    assert proc.stderr.strip().splitlines() == [NO_URL] and proc.stdout == ""


def test_an_empty_environment_url_counts_as_none(monkeypatch):
    monkeypatch.setenv("OPENAI_BASE_URL", "")
    with pytest.raises(BackendError, match="needs a server") as e:
        load_backend("openai")
    assert not isinstance(e.value, BackendFailure)


def test_the_environment_url_is_used(canned, monkeypatch):
    monkeypatch.setenv("OPENAI_BASE_URL", canned.url)
    proc = run_cli(["run", PROGRAMS / "bb2.tm", "-b", "openai", "--json"])
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    assert out["halted"] and out["steps"] == 6 and canned.requests == 7


def test_base_url_option_wins_over_the_environment(canned, monkeypatch):
    monkeypatch.setenv("OPENAI_BASE_URL", dead_url())
    backend = load_backend("openai", base_url=canned.url, retries=0)
    try:
        assert backend.complete(["echo:hi"])[0].text == "hi"
    finally:
        backend.close()


# -- a backend that fails while answering: one line, exit 3 -----------------------------------
def test_attempts_are_counted_in_the_right_number():
    url = dead_url()
    for retries, words in ((0, "1 attempt)"), (1, "2 attempts)")):
        backend = load_backend("openai", base_url=url, retries=retries, backoff=0.01)
        try:
            with pytest.raises(BackendFailure) as e:
                backend.complete(["echo:x"])
        finally:
            backend.close()
        assert str(e.value) == f"server at {url} is unreachable (after {words}"


def test_verify_on_an_unreachable_server_is_one_line_exit_3():
    url = dead_url()
    proc = run_cli(["verify", PROGRAMS / "bb2.tm", "-b", "openai", "--base-url", url,
                    "--retries", "0"])
    assert EXIT_BACKEND == 3
    assert one_line(proc, 3) == f"mannsim: error: server at {url} is unreachable (after 1 attempt)"


@pytest.mark.parametrize("concurrency", ["1", "3"])
def test_eval_on_an_unreachable_server_is_one_line_exit_3(concurrency):
    url = dead_url()
    proc = run_cli(["eval", "-b", "openai", "--base-url", url, "--retries", "0", "-n", "1",
                    "--no-programs", "--distribution", "training", "-d", "schuurmans",
                    "--concurrency", concurrency])
    one_line(proc, 3, f"server at {url} is unreachable (after 1 attempt)", progress=True)


@pytest.mark.parametrize("command", ["verify", "eval"])
def test_a_malformed_response_is_exit_3(canned, command):
    # every answer is a body past the 1 MiB cap: cut off, the backend's failure
    args = [PROGRAMS / "bb2.tm"] if command == "verify" else [
        "-n", "1", "--no-programs", "--distribution", "training", "-d", "schuurmans"]
    proc = run_cli([command, *args, "-b", "openai", "--base-url", canned.url, "--model", "huge",
                    "--retries", "0"])
    one_line(proc, 3, f"is larger than {MAX_RESPONSE_BYTES:,} bytes", progress=command == "eval")


def test_bad_options_are_still_exit_2():
    one_line(run_cli(["verify", PROGRAMS / "bb2.tm", "-b", "openai", "--base-url",
                      "ftp://example.org/v1"]), 2, "must be an http(s) URL")


@pytest.mark.parametrize("as_json", [False, True])
@pytest.mark.parametrize("fault", ["unreachable", "huge"])
def test_a_run_whose_backend_fails_is_one_line_exit_3(canned, tmp_path, fault, as_json):
    url = dead_url() if fault == "unreachable" else canned.url
    line = (f"server at {url} is unreachable (after 1 attempt)" if fault == "unreachable" else
            f"the response from {url} is larger than {MAX_RESPONSE_BYTES:,} bytes")
    trace = tmp_path / "t.jsonl"
    proc = run_cli(["run", PROGRAMS / "bb2.tm", "-b", "openai", "--base-url", url, "--model",
                    fault, "--retries", "0", "--trace", trace] + (["--json"] if as_json else []))
    assert one_line(proc, 3) == f"mannsim: error: {line}"
    if as_json:
        assert json.loads(proc.stdout)["reason"] == "error"
    else:  # the report says how far the run got; the error itself is said once, on stderr
        assert "stopped by an error" in proc.stdout and line not in proc.stdout
    from mannsim.trace import read_trace
    assert read_trace(str(trace)).end.reason == "error"


# -- concurrent requests are independent ------------------------------------------------------
def in_thread(fn):
    """Run ``fn`` in a real thread; returns (thread, box): box['error'] or box['value']."""
    box = {}

    def work():
        try:
            box["value"] = fn()
        except Exception as e:  # noqa: BLE001 - handed to the test
            box["error"] = e
        box["done"] = time.monotonic()

    t = threading.Thread(target=work, daemon=True)
    t.start()
    return t, box


def test_a_request_keeps_its_own_deadline_while_others_start(canned):
    """A trickled answer must end at its own deadline (2 s) even while other requests on the
    same backend keep starting (before: each new request moved the shared deadline, so the slow
    one lived as long as others kept coming)."""
    backend = load_backend("openai", base_url=canned.url, timeout=2.0, retries=0)
    try:
        slow, box = in_thread(lambda: backend.complete(["trickle"]))
        assert canned.arrived.wait(CAP)
        others = 0
        t0 = time.monotonic()
        while slow.is_alive() and time.monotonic() - t0 < CAP:
            assert backend.complete(["echo:ok"])[0].text == "ok"
            others += 1
        ended_while_others_ran = not slow.is_alive()
        slow.join(CAP)
    finally:
        backend.close()
    assert ended_while_others_ran, "the slow request outlived its deadline while others ran"
    assert isinstance(box.get("error"), BackendFailure) and "timed out" in str(box["error"])
    assert others >= 1


def test_a_refusal_belongs_to_its_own_request(canned):
    """One request's refusal (a body past the cap) must not become another's error: the held
    request, dropped by the server, is 'unreachable', not 'larger than ...' (before: the
    refusal was one field of the backend, read by whichever request failed next)."""
    backend = load_backend("openai", base_url=canned.url, retries=0)
    try:
        held, box = in_thread(lambda: backend.complete(["hold"]))
        assert canned.arrived.wait(CAP)
        with pytest.raises(BackendFailure, match="larger than"):
            backend.complete(["huge"])
        canned.release.set()
        held.join(CAP)
    finally:
        backend.close()
    assert not held.is_alive()
    error = box.get("error")
    assert isinstance(error, BackendFailure), box
    assert "larger than" not in str(error) and "unreachable" in str(error)


def test_a_refusal_does_not_outlive_its_request(canned):
    """After a refused request, the next one (another thread, a new attempt) starts clean."""
    backend = load_backend("openai", base_url=canned.url, retries=0)
    try:
        with pytest.raises(BackendFailure, match="larger than"):
            backend.complete(["huge"])
        t, box = in_thread(lambda: backend.complete(["echo:fine"]))
        t.join(CAP)
        assert box["value"][0].text == "fine"
    finally:
        backend.close()


def test_many_threads_get_their_own_answers(canned):
    backend = load_backend("openai", base_url=canned.url, retries=0)
    threads = []
    try:
        for k in range(8):
            threads.append(in_thread(lambda k=k: [backend.complete([f"echo:{k}-{j}"])[0].text
                                                  for j in range(15)]))
        for t, _ in threads:
            t.join(CAP)
    finally:
        backend.close()
    for k, (_, box) in enumerate(threads):
        assert box.get("value") == [f"{k}-{j}" for j in range(15)], box.get("error")
    assert backend.attempts == 8 * 15


# -- the declared capability ------------------------------------------------------------------
def test_backends_declare_whether_they_are_thread_safe():
    from mannsim.backends.base import Backend, thread_safe
    from mannsim.backends.hf import HFBackend
    from mannsim.backends.openai_backend import OpenAIBackend
    from mannsim.backends.symbolic import SymbolicBackend
    assert Backend.thread_safe is False
    assert (SymbolicBackend.thread_safe, OpenAIBackend.thread_safe, HFBackend.thread_safe) == \
        (True, True, False)
    assert thread_safe(load_backend("symbolic")) is True

    class Undeclared:  # a third-party backend that says nothing is not thread safe
        name = "x"

    class Truthy:
        thread_safe = "yes"
    assert thread_safe(Undeclared()) is False and thread_safe(Truthy()) is False
