"""Language-model backends on a real model: hf (in process) and openai (a real local server)."""
import json
import subprocess
import sys

import pytest

from mannsim import replay
from mannsim.backends import BackendError, load_backend, registry
from mannsim.backends.hf import DEFAULT_MODEL
from mannsim.machine import load
from mannsim.program import compile_program, load_dialect

from conftest import PROGRAMS
from helpers import run_cli
from servers import FaultProxy, TransformersServe

DIALECT = load_dialect("schuurmans")


def cases(name):
    return compile_program(load(str(PROGRAMS / name)), DIALECT).cases()


@pytest.fixture(scope="module")
def hf():
    backend = load_backend("hf", stop=DIALECT.stop, threads=1)
    yield backend
    backend.close()


@pytest.fixture(scope="module")
def server():
    s = TransformersServe(str(DEFAULT_MODEL))
    yield s
    s.stop()


@pytest.fixture(scope="module")
def answers(server):
    """The real server's answers to every request of a clean bb3 run (and to bb2's first
    prompt), kept by the proxy's cache: the fault tests below replay them at once, so their
    deadlines are met only by the faults they inject, never by the model's own latency (a loaded
    CPU takes seconds an answer). Warmed with no tight deadline."""
    cache: dict = {}
    proxy = FaultProxy(server.port, cache)
    try:
        proc = subprocess.run(
            [sys.executable, "-m", "mannsim", "run", str(PROGRAMS / "bb3.tm"), "-b", "openai",
             "--base-url", proxy.url, "--model", str(DEFAULT_MODEL), "--timeout", "600"],
            capture_output=True, text=True, timeout=900)
        assert proc.returncode == 0, proc.stderr
        oa = load_backend("openai", base_url=proxy.url, model=str(DEFAULT_MODEL),
                          stop=DIALECT.stop, timeout=600)
        oa.complete([cases("bb2.tm")[0].prompt])
    finally:
        proxy.stop()
    return cache


def test_registry_lists_builtins_through_entry_points():
    from importlib.metadata import entry_points
    names = {ep.name for ep in entry_points(group="mannsim.backends")}
    assert {"symbolic", "hf", "openai"} <= names
    assert {"symbolic", "hf", "openai"} <= set(registry())
    out = run_cli(["backends"], check=True).stdout
    assert "hf" in out and "openai" in out and "symbolic" in out


def test_hf_fast_path_equals_plain_generate(hf):
    plain = load_backend("hf", stop=DIALECT.stop, fast=False, threads=1)
    prompts = [c.prompt for name in ("u15_2.tm", "bb2x4.tm", "palindrome.tm") for c in cases(name)]
    before = hf.forward_passes
    fast_out = hf.complete(prompts)
    passes = (hf.forward_passes - before) / len(prompts)
    plain_out = plain.complete(prompts)
    assert [c.text for c in fast_out] == [c.text for c in plain_out]
    assert passes < 4
    assert all(c.tokens_in > 0 for c in fast_out)


def test_hf_identity_hashes_the_weights(hf):
    ident = hf.identity()
    assert ident["name"] == "hf" and len(ident["weights"]) == 64
    assert ident["decoding"]["method"] == "greedy" and ident["decoding"]["stop"] == ["\n"]


def test_hf_refuses_pickled_weights(tmp_path):
    import shutil

    import torch
    folder = tmp_path / "pickled"
    shutil.copytree(DEFAULT_MODEL, folder)
    from safetensors.torch import load_file
    state = load_file(str(folder / "model.safetensors"))
    (folder / "model.safetensors").unlink()
    torch.save(state, folder / "pytorch_model.bin")
    with pytest.raises(BackendError, match="pickled"):
        load_backend("hf", model=str(folder))
    backend = load_backend("hf", model=str(folder), allow_pickle=True)
    assert backend.identity()["weights"]


def test_hf_bad_model_path_is_a_clear_error(tmp_path):
    proc = run_cli(["verify", str(PROGRAMS / "bb2.tm"),
                    "-b", "hf", "--model", str(tmp_path)])
    assert proc.returncode == 2 and "not a model folder" in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1


def test_openai_backend_equals_hf_on_every_verify_case(server, hf):
    oa = load_backend("openai", base_url=server.url, model=str(DEFAULT_MODEL), stop=DIALECT.stop)
    for name in ("u15_2.tm", "binary_addition.tm"):
        prompts = [c.prompt for c in cases(name)]
        assert [c.text for c in oa.complete(prompts)] == [c.text for c in hf.complete(prompts)]
    ident = oa.identity()
    assert ident["decoding"]["temperature"] == 0 and ident["decoding"]["top_p"] == 1
    assert ident["decoding"]["stop"] == ["\n"] and "seed" in ident["decoding"]


def test_eval_concurrency_against_transformers_serve_equals_sequential(server, tmp_path):
    """`mannsim eval --concurrency 4` keeps four requests in flight at a real server; the report
    card (every case's verdict and failure class) equals the sequential one."""
    cards = []
    for concurrency in ("1", "4"):
        out = tmp_path / f"card{concurrency}.json"
        proc = run_cli(["eval", "-b", "openai",
                        "--base-url", server.url, "--model", str(DEFAULT_MODEL), "-n", "2",
                        "--distribution", "human", "--no-programs", "-d", "schuurmans",
                        "--concurrency", concurrency, "--json", str(out)])
        assert proc.returncode in (0, 1), proc.stderr[-2000:]
        cards.append([{k: c[k] for k in ("machines_passed", "cases", "cases_passed", "failures",
                                         "examples")} for c in json.loads(out.read_text())["cells"]])
    assert cards[0] == cards[1] and cards[0][0]["cases"] > 10


def test_openai_chat_mode(server, hf):
    oa = load_backend("openai", base_url=server.url, model=str(DEFAULT_MODEL), stop=DIALECT.stop,
                      api_mode="chat")
    prompts = [c.prompt for c in cases("bb2.tm")]
    assert [c.text for c in oa.complete(prompts)] == [c.text for c in hf.complete(prompts)]


def test_openai_retries_then_succeeds_and_times_out(server, answers):
    proxy = FaultProxy(server.port, answers)
    try:
        oa = load_backend("openai", base_url=proxy.url, model=str(DEFAULT_MODEL),
                          stop=DIALECT.stop, retries=3, backoff=0.05, timeout=2.0)
        prompt = cases("bb2.tm")[0].prompt
        expected = oa.complete([prompt])[0].text
        proxy.plan = ["500", "429", "500"]
        assert oa.complete([prompt])[0].text == expected  # three failures, then success
        proxy.plan = ["slow", "ok"]
        assert oa.complete([prompt])[0].text == expected  # a withheld answer times out, retried
        assert proxy.withheld == 1
        proxy.plan = ["500"] * 4
        with pytest.raises(BackendError, match="kept failing"):
            oa.complete([prompt])
        proxy.plan = ["malformed"]
        with pytest.raises(BackendError):
            oa.complete([prompt])
        assert proxy.upstream == 0  # every good answer came from the warmed cache
    finally:
        proxy.stop()


def test_openai_unreachable_server_is_one_line(tmp_path):
    from servers import free_port
    url = f"http://127.0.0.1:{free_port()}/v1"
    proc = run_cli(["run", str(PROGRAMS / "bb2.tm"),
                    "-b", "openai", "--base-url", url, "--retries", "1",
                    "--trace", str(tmp_path / "t.jsonl")])
    assert proc.returncode == 3
    assert proc.stderr.strip().splitlines() == [f"mannsim: error: server at {url} is unreachable "
                                                "(after 2 attempts)"]


def test_server_killed_mid_run_then_resume(server, answers, tmp_path):
    from mannsim.computer import Computer
    from mannsim.trace import read_trace
    proxy = FaultProxy(server.port, answers)
    trace = tmp_path / "t.jsonl"
    key = "sk-test-SECRET-key-123"
    try:
        oa = load_backend("openai", base_url=proxy.url, model=str(DEFAULT_MODEL), api_key=key,
                          stop=DIALECT.stop, retries=1, backoff=0.05, timeout=600)
        prog = compile_program(load(str(PROGRAMS / "bb3.tm")), DIALECT)
        comp = Computer(prog, oa, trace=str(trace))

        for rec in comp.cycles():
            if rec.n == 8:
                proxy.stop()
        report = comp.result
        assert report.reason == "error" and "unreachable" in report.error
        t = read_trace(str(trace))
        assert t.end.reason == "error" and len(t.cycles) == 8 and not t.warnings
    finally:
        proxy.stop()
    proxy2 = FaultProxy(server.port, answers)
    try:
        oa = load_backend("openai", base_url=proxy2.url, model=str(DEFAULT_MODEL), api_key=key,
                          stop=DIALECT.stop)
        resumed = replay.resume(str(trace), oa)
        assert resumed.cycle == 8
        resumed.run()
    finally:
        proxy2.stop()
    assert key not in trace.read_text()


# The fault matrix, through the command line: what the user sees, and the trace on disk.
FAULTS = {
    # plan (after 3 good requests): exit code, end reason, words in the one error line
    "transient 500 and 429": (["500", "429"], 0, "halt", None),
    "one slow answer": (["slow"], 0, "halt", None),
    "persistent 500": (["500"] * 20, 3, "error", "kept failing (HTTP 500) after 3 attempts"),
    "malformed JSON": (["malformed"], 3, "error", "malformed response"),
    "invalid UTF-8": (["badutf8"], 3, "error", "malformed response"),
    "garbage answer": (["garbage"], 1, "divergence", None),
}


@pytest.mark.parametrize("fault", sorted(FAULTS))
def test_fault_matrix(server, answers, tmp_path, fault):
    from mannsim.trace import read_trace
    plan, code, reason, words = FAULTS[fault]
    proxy = FaultProxy(server.port, answers)
    proxy.skip, proxy.plan = 3, list(plan)
    trace = tmp_path / "t.jsonl"
    try:
        proc = subprocess.run(
            [sys.executable, "-m", "mannsim", "run", str(PROGRAMS / "bb3.tm"), "-b", "openai",
             "--base-url", proxy.url, "--model", str(DEFAULT_MODEL), "--retries", "2",
             "--timeout", "2", "--trace", str(trace), "--json"],
            capture_output=True, text=True, timeout=300)
    finally:
        proxy.stop()
    assert proc.returncode == code, proc.stderr
    assert proxy.upstream == 0  # the 2-second deadline met only the withheld answer
    assert "Traceback" not in proc.stderr
    t = read_trace(str(trace))
    assert not t.warnings and t.end.reason == reason
    # bb3: 21 steps + the halt answer; an error keeps the 3 good cycles; a divergence also
    # records the cycle that diverged
    assert len(t.cycles) == {"halt": 22, "error": 3, "divergence": 4}[reason]
    if words:
        assert len(proc.stderr.strip().splitlines()) == 1 and words in proc.stderr
    if reason == "divergence":
        assert t.divergence and "pwned" in t.divergence.answer
    if reason != "halt":  # the trace resumes against a healthy server and ends like a clean run
        healthy = FaultProxy(server.port, answers)
        try:
            proc = subprocess.run(
                [sys.executable, "-m", "mannsim", "run", "--resume", str(trace), "-b", "openai",
                 "--base-url", healthy.url, "--model", str(DEFAULT_MODEL), "--json"],
                capture_output=True, text=True, timeout=300)
        finally:
            healthy.stop()
        assert proc.returncode == 0, proc.stderr
        out = json.loads(proc.stdout)
        assert out["reason"] == "halt" and out["steps"] == 21
        assert read_trace(str(trace)).end.reason == "halt"


def test_hf_batched_verify_equals_one_at_a_time(hf):
    from mannsim.verify import verify
    for name in ("u15_2.tm", "unary_multiplication.tm", "palindrome.tm"):
        prog = compile_program(load(str(PROGRAMS / name)), DIALECT)
        one = [r.answer for r in verify(prog, hf)]
        batched = [r.answer for r in verify(prog, hf, batch=8)]
        assert batched == one


def test_pretrained_names_resolve_or_say_how_to_install(monkeypatch, tmp_path):
    from mannsim.backends import hf as hf_module
    from mannsim.backends.hf import Pretrained
    monkeypatch.setitem(hf_module.PRETRAINED, "nothing-1m",
                        Pretrained("no_such_package_xyz", "pip install x"))
    with pytest.raises(BackendError, match="model nothing-1m is not installed: pip install x"):
        hf_module.resolve_pretrained("nothing-1m")
    with pytest.raises(BackendError, match="nothing-1m is not installed"):
        load_backend("hf", model="nothing-1m")
    assert {"gemma3-270m", "smollm2-135m"} <= set(hf_module.PRETRAINED)
    # each package's way to its .gguf file is a hook in the table (an installed package here)
    gguf = tmp_path / "m.gguf"
    monkeypatch.setitem(hf_module.PRETRAINED, "hooked-1m",
                        Pretrained("json", "pip install x", gguf=lambda package: str(gguf)))
    assert hf_module.resolve_pretrained("hooked-1m") == str(gguf)

    def broken(package):
        raise OSError(f"{package}: disk full")
    monkeypatch.setitem(hf_module.PRETRAINED, "broken-1m", Pretrained("json", "x", gguf=broken))
    with pytest.raises(BackendError, match="^cannot assemble broken-1m: json: disk full$"):
        hf_module.resolve_pretrained("broken-1m")


def reference_finish(tokenizer, stops, eos, generated):
    """The stop rule as the hf backend first wrote it: the whole text decoded again for every
    prefix. (text, tokens used, stopped)."""
    eos_at = next((n for n, t in enumerate(generated) if t in eos), None)
    body = generated if eos_at is None else generated[:eos_at]
    full = tokenizer.decode(body)
    hits = [full.find(s) for s in stops if s in full]
    if not hits:
        return full, len(body) + (eos_at is not None), eos_at is not None
    for n in range(1, len(body) + 1):
        if any(s in tokenizer.decode(body[:n]) for s in stops):
            return full[:min(hits)], n, True
    return full[:min(hits)], len(body), True


@pytest.mark.parametrize("stop", [("\n",), ('" "',), ('"%[', "i+=1"), ('" op="halt" "',),
                                  ("é",), ("\n\n", "1 0")])
def test_hf_stops_token_by_token_as_the_whole_text_says(hf, stop):
    """The stop scan (decoding only a short tail at the tokens that may end a stop string)
    stops where decoding the whole answer at every token does, stop strings that span tokens
    and multi-byte characters split over byte tokens included; and the text is cut the same."""
    import random

    from mannsim.backends.hf.text import Stops, StopScan
    tokenizer = hf.engine.tokenizer
    stops = Stops(tokenizer, stop)
    rng = random.Random(7)
    prompts = [c.prompt for c in cases("u15_2.tm")]
    real = [tokenizer(a.text + "\n")["input_ids"] for a in hf.complete(prompts[:10])]
    pieces = [tokenizer(t)["input_ids"] for t in ('" op="halt" "', "é", "\n\n", "1 0", '"%[',
                                                    "i+=1", '" "', "x")]
    seqs = []
    for _ in range(300):
        seq = []
        while len(seq) < 40:
            roll = rng.random()
            seq += rng.choice(pieces) if roll < 0.3 else rng.choice(real)[:rng.randrange(1, 8)] \
                if roll < 0.6 else [rng.randrange(stops.vocab)]
        seqs.append(seq[:rng.randrange(1, 41)])
    for seq in seqs:
        text, used, stopped = reference_finish(tokenizer, stops.stop, stops.eos, seq)
        scan = StopScan(stops)
        scan.feed(seq)
        assert scan.settle() == (used, stopped), seq
        assert stops.text(seq[:used]) == reference_finish(tokenizer, stops.stop, stops.eos,
                                                         seq[:used])[0]
        assert stops.text(seq) == text
        if stopped:  # the scan saw the stop at the token itself, not only when settling
            assert len(scan.tokens) == used or seq[used - 1] in stops.eos
    # only a token whose text may end a stop string costs a decode
    plain = next(t for t in range(stops.vocab) if t not in stops.enders)
    assert all(s[-1] not in stops.token_text(plain) for s in stops.stop)


def test_hf_transformers_internals_are_checked_loudly(hf, monkeypatch):
    # the installed release passes the check the backend runs on load, and is in the range
    # pyproject.toml declares (compat.SUPPORTED)
    import tomllib
    import transformers
    from packaging.specifiers import SpecifierSet

    from mannsim.backends.hf import compat
    compat.check(hf.model)
    assert transformers.__version__ in SpecifierSet(compat.SUPPORTED)
    project = tomllib.loads((PROGRAMS.parent / "pyproject.toml").read_text())["project"]
    assert f"transformers{compat.SUPPORTED}" in project["optional-dependencies"]["hf"]
    # a release that renames the cache keyword, or whose cache has no per-layer tensors: the
    # fast path is refused with one line naming the version and the way out
    monkeypatch.setattr(compat, "cache_kwarg", lambda model: "kv_state")
    with pytest.raises(BackendError, match=r"transformers .* is not supported .*fast=False"):
        compat.check(hf.model)
    monkeypatch.undo()

    class NoLayers:
        def __getattr__(self, name):
            raise AttributeError(name)
    monkeypatch.setattr(compat, "new_cache", lambda model: NoLayers())
    with pytest.raises(BackendError, match="is not supported") as err:
        load_backend("hf", stop=DIALECT.stop, threads=1)
    assert "\n" not in str(err.value)
    plain = load_backend("hf", stop=DIALECT.stop, threads=1, fast=False)  # the way out works
    assert plain.complete([cases("bb2.tm")[0].prompt])[0].text
