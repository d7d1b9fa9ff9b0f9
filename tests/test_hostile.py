"""Issue 12: hostile traces, files, answers and servers. Each ends in one line and the
documented exit code, is refused or bounded, and never fools a check."""
import json
import os
import resource
import time

import pytest

from mannsim.backends import load_backend
from mannsim.computer import Computer
from mannsim.limits import MAX_KEYS, MAX_STATES, MAX_TAPE_SPAN
from mannsim.machine import load
from mannsim.program import compile_program, load_dialect
from mannsim.trace import TraceError, TraceIndex, read_trace

from conftest import PROGRAMS
from helpers import FaultyBackend, mannsim, one_line_error

DIALECT = load_dialect("schuurmans")


def symbolic_trace(tmp_path, name="bb2.tm", **kw):
    trace = tmp_path / "t.jsonl"
    prog = compile_program(load(str(PROGRAMS / name)), DIALECT)
    Computer(prog, load_backend("symbolic"), trace=str(trace), **kw).run()
    return trace


def edit_cycle(trace, n, **fields):
    lines = trace.read_text().splitlines()
    for k, line in enumerate(lines):
        rec = json.loads(line)
        if rec.get("t") == "cycle" and rec["n"] == n:
            rec.update(fields)
            lines[k] = json.dumps(rec)
            trace.write_text("\n".join(lines) + "\n")
            return k + 1
    raise AssertionError(f"no cycle {n}")


# -- resume re-checks every recorded cycle ---------------------------------------------------
@pytest.mark.parametrize("answer, why", [
    ('" op="halt" "', "op is not the instruction"),              # halt early: a forged ending
    ('" op="%[A]" %[i]="1" i+=1 5="1" 6="1" 7="1" "', "may not write"),  # distant cells
    ('" op="%[A]" %[i]="0" i-=1 "', "wrong symbol"),             # a plainly wrong step
])
def test_resume_rechecks_recorded_answers(tmp_path, answer, why):
    trace = symbolic_trace(tmp_path, max_steps=4)
    line = edit_cycle(trace, 2, answer=answer)
    out = mannsim("run", "--resume", trace)
    err = one_line_error(out, f"t.jsonl:{line}: cycle 2 is recorded as ok")
    assert why in err


def test_resume_rechecks_the_recorded_machine_configuration_and_prompt(tmp_path):
    trace = symbolic_trace(tmp_path, max_steps=4)
    line = edit_cycle(trace, 3, head=7)
    one_line_error(mannsim("run", "--resume", trace), f":{line}: cycle 3 records state")
    trace = symbolic_trace(tmp_path, max_steps=4)
    line = edit_cycle(trace, 3, prompt="0123456789abcdef")
    one_line_error(mannsim("run", "--resume", trace), f":{line}: cycle 3 names prompt")


def test_a_corrupt_or_reordered_record_ends_resume_naming_its_line(tmp_path):
    trace = symbolic_trace(tmp_path, "bb3.tm", max_steps=6)
    lines = trace.read_text().splitlines()
    cycles = [k for k, line in enumerate(lines) if '"t":"cycle"' in line]
    garbled = lines[:cycles[2]] + ["{this is not json"] + lines[cycles[2]:]
    trace.write_text("\n".join(garbled) + "\n")
    one_line_error(mannsim("run", "--resume", trace), f"t.jsonl:{cycles[2] + 1}: unreadable")
    show = mannsim("trace", "show", trace)  # the lenient reader reads up to it, with a warning
    assert show.returncode == 0 and f"t.jsonl:{cycles[2] + 1}" in show.stderr
    swapped = list(lines)
    swapped[cycles[1]], swapped[cycles[2]] = swapped[cycles[2]], swapped[cycles[1]]
    trace.write_text("\n".join(swapped) + "\n")
    one_line_error(mannsim("run", "--resume", trace), "out of order")


def test_an_oversized_record_is_the_same_corrupt_record_for_every_reader(tmp_path):
    trace = symbolic_trace(tmp_path, "bb3.tm", max_steps=6)
    lines = trace.read_text().splitlines()
    lines.insert(3, json.dumps({"t": "prompt", "hash": "0" * 16, "text": "x" * (17 << 20)}))
    trace.write_text("\n".join(lines) + "\n")
    one_line_error(mannsim("run", "--resume", trace), "t.jsonl:4: record longer than")
    ix = TraceIndex(str(trace))
    assert any("t.jsonl:4: record longer than" in w for w in ix.warnings)
    assert len(ix) == len(read_trace(str(trace)).cycles)


def test_resumed_records_go_after_the_last_valid_record(tmp_path):
    trace = symbolic_trace(tmp_path, "bb3.tm", max_steps=5)
    with open(trace, "ab") as f:
        f.write(b'{"t":"cycle","n":6,"state":"A"')  # a run killed mid-write
    out = mannsim("run", "--resume", trace, "--max-steps", "100", "--json")
    assert out.returncode == 0 and json.loads(out.stdout)["halted"]
    t = read_trace(str(trace), strict=True)
    assert not t.warnings and t.end.reason == "halt" and [c.n for c in t.cycles] == \
        list(range(1, len(t.cycles) + 1))


def test_both_readers_agree_on_a_trace_with_ordinary_json_spacing(tmp_path):
    trace = symbolic_trace(tmp_path, "bb3.tm")
    spaced = tmp_path / "spaced.jsonl"
    spaced.write_text("".join(json.dumps(json.loads(line)) + "\n"
                              for line in trace.read_text().splitlines()))
    n = len(read_trace(str(trace)).cycles)
    assert n == 22
    assert len(TraceIndex(str(spaced))) == len(read_trace(str(spaced)).cycles) == n
    assert len(TraceIndex(str(spaced), strict=True)) == n
    out = mannsim("run", "--resume", spaced, "--json")
    assert out.returncode == 0 and json.loads(out.stdout)["resumed_from"] == n


def test_the_header_machine_is_lossless_and_resume_rebuilds_it(tmp_path):
    yaml = tmp_path / "star.yaml"  # a '*' symbol: a wildcard in .tm, an ordinary symbol here
    yaml.write_text("name: stars\nblank: ' '\nstart state: a\ninput: '*1*'\ntable:\n"
                    "  a:\n    '*': {write: '1', R: a}\n    '1': {write: '*', R: a}\n"
                    "    ' ': {L: b}\n  b:\n")
    trace = tmp_path / "t.jsonl"
    ref = mannsim("run", yaml, "--json")
    cut = mannsim("run", yaml, "-b", "symbolic", "--max-steps", "2", "--trace", trace, "--json")
    assert cut.returncode == 0
    resumed = mannsim("run", "--resume", trace, "--max-steps", "1000", "--json")
    assert resumed.returncode == 0, resumed.stderr
    a, b = json.loads(ref.stdout), json.loads(resumed.stdout)
    assert (a["tape"], a["final_state"], a["steps"]) == (b["tape"], b["final_state"], b["steps"])
    assert a["tape"] == "1*1"


def test_a_trace_cannot_name_a_dialect_by_path(tmp_path):
    trace = symbolic_trace(tmp_path)
    lines = trace.read_text().splitlines()
    header = json.loads(lines[0])
    header["dialect"]["name"] = str(tmp_path)  # a folder the attacker controls
    (tmp_path / "dialect.toml").write_text((DIALECT_DIR / "dialect.toml").read_text())
    (tmp_path / "boot.txt").write_text("")
    trace.write_text("\n".join([json.dumps(header)] + lines[1:]) + "\n")
    one_line_error(mannsim("run", "--resume", trace), "unknown dialect")


DIALECT_DIR = PROGRAMS.parent / "prompts" / "schuurmans"


def test_a_dialects_boot_must_be_inside_its_folder(tmp_path):
    folder = tmp_path / "evil"
    folder.mkdir()
    spec = (DIALECT_DIR / "dialect.toml").read_text().replace('boot = "boot.txt"',
                                                               'boot = "/etc/hostname"')
    (folder / "dialect.toml").write_text(spec)
    one_line_error(mannsim("prompts", PROGRAMS / "bb2.tm", "-d", folder),
                   "inside the dialect's folder")
    (folder / "dialect.toml").write_text(spec.replace("/etc/hostname", "../../etc/hostname"))
    one_line_error(mannsim("prompts", PROGRAMS / "bb2.tm", "-d", folder),
                   "inside the dialect's folder")


def test_resume_takes_program_and_backend_from_the_trace(tmp_path):
    trace = symbolic_trace(tmp_path, "bb3.tm", max_steps=5)
    one_line_error(mannsim("run", PROGRAMS / "bb2.tm", "--resume", trace), "another program")
    out = mannsim("run", PROGRAMS / "bb3.tm", "--resume", trace, "--json", "--max-steps", "99")
    assert out.returncode == 0 and json.loads(out.stdout)["halted"]
    trace = symbolic_trace(tmp_path, "bb3.tm", max_steps=5)
    one_line_error(mannsim("run", "--resume", trace, "-b", "hf"), "would mix two backends")
    out = mannsim("run", "--resume", trace, "--json")  # no -b: the trace's backend and limit
    data = json.loads(out.stdout)
    assert out.returncode == 0 and data["backend"] == "symbolic" and data["cycles"] == 5


def test_decode_trace_accepts_only_a_trace_that_rechecks(tmp_path):
    prog = PROGRAMS / "bitag" / "test_vector.tm"
    trace = tmp_path / "t.jsonl"
    assert mannsim("run", prog, "-b", "symbolic", "--memo", "--trace", trace).returncode == 0
    ok = mannsim("decode", PROGRAMS / "bitag" / "test_vector.bitag", "--trace", trace,
                 "--program", prog, "--json")
    assert ok.returncode == 0 and json.loads(ok.stdout)["match"]
    # a one-record forgery: a machine that "halts" at once on the expected final tape
    lines = trace.read_text().splitlines()
    header = json.loads(lines[0])
    forged = tmp_path / "forged.jsonl"
    end = json.loads(lines[-1])
    forged.write_text(json.dumps(header) + "\n" + json.dumps(end) + "\n")
    one_line_error(mannsim("decode", PROGRAMS / "bitag" / "test_vector.bitag", "--trace", forged),
                   "does not end halted")
    m = header["program"]["machine"]
    m["rules"] = []
    m["tape"] = list("1" * 10)
    from mannsim.machine import canonical
    header["program"]["sha256"] = canonical.digest(canonical.from_data(m))
    forged.write_text(json.dumps(header) + "\n")
    one_line_error(mannsim("decode", PROGRAMS / "bitag" / "test_vector.bitag", "--trace", forged),
                   "does not end halted")


# -- no traceback from any input -------------------------------------------------------------
@pytest.mark.parametrize("answer", ['\u00b2="1"', '--5="1"', '\u0663="1" i+=1', 'i="\u0665"',
                                    '" op="halt" \ud800 "', "\x1b[2J\x00"])
def test_hostile_answers_are_divergences_with_a_readable_trace(tmp_path, answer):
    trace = tmp_path / "t.jsonl"
    prog = compile_program(load(str(PROGRAMS / "bb2.tm")), DIALECT)
    report = Computer(prog, FaultyBackend(answer, at=2), trace=str(trace)).run()
    assert report.reason == "divergence" and report.divergence.cycle == 2
    t = read_trace(str(trace), strict=True)
    assert t.cycles[-1].answer == answer and t.end.reason == "divergence"
    show = mannsim("trace", "show", trace)
    assert show.returncode == 0 and "\x1b" not in show.stdout and "Traceback" not in show.stderr


FIELD_EDITS = [
    ("resume.from null", "resume", {"from": None}),
    ("resume.from too large", "resume", {"from": 99}),
    ("dialect a string", "header", {"dialect": "schuurmans"}),
    ("program a list", "header", {"program": [1, 2]}),
    ("machine a string", "header.program", {"machine": "A 0 1 R B"}),
    ("ms a string", "cycle", {"ms": "fast"}),
    ("tin a string", "cycle", {"tin": "12"}),
    ("n negative", "cycle", {"n": -1}),
    ("head a float", "cycle", {"head": 0.5}),
    ("answer a number", "cycle", {"answer": 42}),
    ("check unknown", "cycle", {"check": "probably"}),
    ("end.tape a number", "end", {"tape": 1111}),
    ("end.reason unknown", "end", {"reason": "victory"}),
    ("divergence.cycle a string", "divergence", {"cycle": "two"}),
    ("prompt hash not hex", "prompt", {"hash": "zz"}),
    ("version 99", "header", {"version": 99}),
]


def _mangled(tmp_path, where, fields):
    trace = tmp_path / "t.jsonl"
    prog = compile_program(load(str(PROGRAMS / "bb2.tm")), DIALECT)
    Computer(prog, FaultyBackend("garbage", at=3), trace=str(trace)).run()
    if where == "resume":
        with open(trace, "a") as f:
            f.write(json.dumps({"t": "resume", "from": 2}) + "\n")
    lines = [json.loads(line) for line in trace.read_text().splitlines()]
    for rec in lines:
        kind = rec["t"]
        if where == "header.program" and kind == "header":
            rec["program"].update(fields)
            break
        if kind == where:
            rec.update(fields)
            break
    trace.write_text("".join(json.dumps(r) + "\n" for r in lines))
    return trace


@pytest.mark.parametrize("label, where, fields", FIELD_EDITS, ids=[e[0] for e in FIELD_EDITS])
def test_malformed_trace_fields_are_one_line_in_every_command(tmp_path, label, where, fields):
    trace = _mangled(tmp_path, where, fields)
    commands = [("run", "--resume", trace), ("trace", "show", trace), ("trace", "stats", trace),
                ("trace", "plot", trace, "-o", tmp_path / "p.png"),
                ("decode", PROGRAMS / "bitag" / "test_vector.bitag", "--trace", trace)]
    for args in commands:
        out = mannsim(*args)
        assert "Traceback" not in out.stderr, (args, out.stderr[-3000:])
        if out.returncode == 2:
            one_line_error(out)
        else:  # the lenient readers may read up to the bad record, with a warning
            assert out.returncode in (0, 1) and args[0] == "trace", (args, out.returncode)
    try:  # the viewer opens through the same reader and reads cycles through it
        ix = TraceIndex(str(trace))
        from mannsim.trace.views import cycle_view
        for k in range(1, len(ix) + 1):
            cycle_view(ix, k)
    except TraceError as e:
        assert "\n" not in str(e)


@pytest.mark.parametrize("head", ["100000000000", "9" * 4000, "1_000_000_000", "-5e3", "²"])
def test_absurd_heads_are_one_line(tmp_path, head):
    f = tmp_path / "m.tm"
    f.write_text(f"head: {head}\nA 0 1 R B\nB 0 1 L A\n")
    one_line_error(mannsim("run", f, "-b", "symbolic"), "m.tm:1: ")


@pytest.mark.parametrize("command", [
    ("verify", PROGRAMS / "bb2.tm", "--json", "{out}"),
    ("plot", PROGRAMS / "bb2.tm", "-o", "{out}.png"),
    ("trace", "plot", "{trace}", "-o", "{out}.png"),
    ("convert", PROGRAMS / "bb2.tm", "--to", "std", "-o", "{out}"),
    ("compile", PROGRAMS / "bb2.tm", "-o", "{out}"),
])
@pytest.mark.parametrize("where", ["missing/folder/out", "afile/out", "/proc/version/out"])
def test_output_into_a_missing_or_unwritable_folder_is_one_line(tmp_path, command, where):
    trace = symbolic_trace(tmp_path)
    (tmp_path / "afile").write_text("x")
    out_path = where if where.startswith("/") else str(tmp_path / where)
    args = [str(a).replace("{out}", out_path).replace("{trace}", str(trace)) for a in command]
    one_line_error(mannsim(*args), "cannot write")


# -- resources: tiny hostile files under a memory limit ---------------------------------------
LIMIT_BYTES = 1536 << 20
BACKEND_FAILED = 3  # the exit code of a backend that failed (unreachable, timed out, malformed)


def _limited():
    resource.setrlimit(resource.RLIMIT_AS, (LIMIT_BYTES, LIMIT_BYTES))


def hostile_files(tmp_path):
    files = {}
    files["head.tm"] = "head: 1_000_000_000\nA 0 1 R B\nB 0 1 L A\n".replace("_", "")
    files["wide.tm"] = ("states: " + " ".join(f"q{i}" for i in range(3000)) + "\nsymbols: "
                        + " ".join(f"s{i}" for i in range(3000)) + "\nblank: s0\n* * * R *\n")
    levels = ["a: &a [x,x,x,x,x,x,x,x,x]"] + [
        f"{chr(98 + k)}: &{chr(98 + k)} [" + ",".join([f"*{chr(97 + k)}"] * 9) + "]"
        for k in range(8)]
    files["bomb.yaml"] = ("blank: '0'\nstart state: A\n" + "\n".join(levels)
                          + "\ntable: {A: {'0': R}}\n")
    files["wide.bitag"] = ("A: " + " ".join(f"a{i}" for i in range(3000)) + "\nE: e1 e2\n"
                           "word: e1 a0\n" + "".join(f"e1 a{i} -> a{i} e2\n" for i in range(3000)))
    files["tape.tm"] = "tape: " + "1" * (15 << 20) + "\nA 1 1 R A\n"
    for name, text in files.items():
        (tmp_path / name).write_text(text)
    return files


@pytest.mark.parametrize("name, args, why", [
    ("head.tm", ["run", "{f}", "-b", "symbolic"], "tape span cap"),
    ("head.tm", ["run", "{f}"], "tape span cap"),
    ("wide.tm", ["show", "{f}"], "too large"),
    ("bomb.yaml", ["run", "{f}"], "aliases are expanded"),
    ("wide.bitag", ["compile", "{f}", "-o", "{tmp}/out.tm"], "too many symbols"),
    ("tape.tm", ["run", "{f}", "-b", "symbolic"], "initial tape has"),
])
def test_tiny_hostile_files_are_refused_under_a_memory_limit(tmp_path, name, args, why):
    """Refused by a cap before anything large is built: within the address-space limit, with
    the cap's one-line error (how long it takes is a benchmark: --only hostile)."""
    hostile_files(tmp_path)
    argv = [a.replace("{f}", str(tmp_path / name)).replace("{tmp}", str(tmp_path)) for a in args]
    one_line_error(mannsim(*argv, preexec_fn=_limited, timeout=600), why)


def test_the_span_cap_ends_a_run_before_the_key_cap():
    # a run's cells lie within the span (checked before each step), so its memory is at most
    # every cell of the span plus the program's keys (two per state, a few fixed)
    assert 2 * MAX_TAPE_SPAN + 1 + 2 * MAX_STATES + 4 <= MAX_KEYS


def test_an_unbounded_tape_run_ends_with_the_span_cap_error(tmp_path, monkeypatch):
    import mannsim.computer as computer
    from mannsim.machine import Machine, Transition
    monkeypatch.setattr(computer, "MAX_TAPE_SPAN", 300)
    right = Machine(states=["A"], symbols=["0", "1"], blank="0", start="A",
                    transitions={("A", "0"): Transition("1", 1, "A")})
    report = Computer(compile_program(right, DIALECT), load_backend("symbolic")).run()
    assert report.reason == "error" and "tape span cap of 300" in report.error
    assert report.divergence is None and report.cycles == 301


# -- the openai backend against hostile servers -----------------------------------------------
@pytest.fixture
def hostile():
    from servers import HostileServer
    servers = []

    def make(mode, **kw):
        s = HostileServer(mode, **kw)
        servers.append(s)
        return s
    yield make
    for s in servers:
        s.stop()


def openai_run(url, *extra, trace=None, key="sk-test-SECRET-0042", timeout=None):
    args = ["run", PROGRAMS / "bb2.tm", "-b", "openai", "--base-url", url, "--retries", "0",
            "--json", *extra]
    if trace:
        args += ["--trace", trace]
    return mannsim(*args, env=dict(os.environ, OPENAI_API_KEY=key), timeout=timeout)


def test_timeout_is_the_whole_requests_deadline(hostile):
    # one byte every 0.5 s: the whole answer would take minutes, and every byte comes well
    # within a per-read timeout (the bug: 83 s). The client must hang up at its 2-second
    # deadline, long before the body is complete, whatever the machine's speed.
    server = hostile("trickle", delay=0.5)
    out = openai_run(server.url, "--timeout", "2", timeout=600)
    one_line_error(out, "timed out", code=BACKEND_FAILED)
    deadline = time.monotonic() + 60  # the server notices the hang-up at its next write
    while not server.trickled and time.monotonic() < deadline:
        time.sleep(0.1)
    assert len(server.trickled) == 1
    sent, size = server.trickled[0]
    assert size > 100 and sent < size // 2  # it hung up within ~40 s of an 80-s trickle


def test_response_bodies_are_capped(hostile):
    out = openai_run(hostile("huge").url, timeout=600)
    one_line_error(out, "larger than 1,048,576 bytes", code=BACKEND_FAILED)


def test_redirects_to_another_origin_are_refused(hostile):
    target = hostile("ok")
    server = hostile("redirect", redirect_to=target.url.replace("127.0.0.1", "localhost")
                     + "/completions")
    one_line_error(openai_run(server.url), "redirected to another origin", code=BACKEND_FAILED)
    assert target.bodies == []


def test_a_server_echoing_the_key_never_gets_it_shown_or_stored(hostile, tmp_path):
    key = "sk-live-ECHOED-9999"
    server = hostile("echo_key")
    trace = tmp_path / "t.jsonl"
    out = openai_run(server.url, trace=trace, key=key)
    one_line_error(out, "HTTP 401", code=BACKEND_FAILED)
    assert key not in out.stderr + out.stdout + trace.read_text() and "***" in out.stderr


def test_userinfo_is_stripped_from_recorded_urls(hostile, tmp_path):
    server = hostile("ok")
    url = server.url.replace("http://", "http://alice:hunter2pass@")
    trace = tmp_path / "t.jsonl"
    out = openai_run(url, trace=trace)
    assert out.returncode == 0, out.stderr
    text = trace.read_text() + out.stdout + out.stderr
    assert "hunter2pass" not in text and "alice" not in text
    assert json.loads(trace.read_text().splitlines()[0])["backend"]["base_url"] == server.url


def test_usage_that_is_not_an_integer_counts_as_zero(hostile):
    out = openai_run(hostile("usage_str").url)
    assert out.returncode == 0 and json.loads(out.stdout)["halted"], out.stderr


def test_an_answer_cut_at_the_token_limit_is_truncated(hostile):
    backend = load_backend("openai", base_url=hostile("length").url, retries=0)
    try:
        assert backend.complete(['result = " op="halt" "\n$result\n'])[0].truncated
    finally:
        backend.close()


def test_every_stop_string_is_sent(hostile):
    server = hostile("ok")
    stops = ["\n", "$result", "###", "STOP", "END", "\n\n"]
    backend = load_backend("openai", base_url=server.url, retries=0, stop=stops)
    try:
        backend.complete(['result = " op="halt" "\n$result\n'])
    finally:
        backend.close()
    assert server.bodies[0]["stop"] == stops


# -- the smaller ones ------------------------------------------------------------------------
def test_a_start_state_that_does_not_exist_is_refused(tmp_path):
    tm = tmp_path / "m.tm"
    tm.write_text("start: nowhere\nA 0 1 R B\nB 0 1 L A\n")
    one_line_error(mannsim("run", tm), "m.tm:1: start state 'nowhere'")
    mt = tmp_path / "m.morphett"
    mt.write_text("; $START_STATE: nowhere\n0 _ 1 r 1\n1 _ 1 l 0\n")
    one_line_error(mannsim("run", mt), "start state 'nowhere'")


def test_max_steps_zero_means_zero_cycles():
    out = mannsim("run", PROGRAMS / "bb2.tm", "-b", "symbolic", "--max-steps", "0", "--json")
    data = json.loads(out.stdout)
    assert out.returncode == 0 and data["cycles"] == 0 and data["reason"] == "max_steps"


def test_unknown_backend_options_are_refused():
    one_line_error(mannsim("run", PROGRAMS / "bb2.tm", "-b", "symbolic", "--model", "gpt-4",
                           "--device", "cuda"), "does not take --model")
    one_line_error(mannsim("verify", PROGRAMS / "bb2.tm", "-b", "openai", "--device", "cuda"),
                   "does not take --device")


def test_hf_fast_path_honours_max_new_tokens():
    hf = load_backend("hf", stop=DIALECT.stop, threads=1, max_new_tokens=3)
    prompt = compile_program(load(str(PROGRAMS / "bb2.tm")), DIALECT).cases()[0].prompt
    c = hf.complete([prompt])[0]
    assert c.truncated and c.tokens_out <= 3 and hf.complete([prompt])[0].text == c.text


@pytest.mark.parametrize("text", [
    "name: evil\x1b[31m\nA 0 1 R B\n", "A\x1b[2J 0 1 R B\n", "A 0 \x07 R B\n",
])
def test_control_characters_in_names_never_reach_the_terminal(tmp_path, text):
    f = tmp_path / "m.tm"
    f.write_text(text)
    out = mannsim("show", f)
    assert "\x1b" not in out.stdout + out.stderr and "\x07" not in out.stdout + out.stderr
    one_line_error(out, "control characters")


def test_error_messages_escape_control_characters(tmp_path):
    out = mannsim("run", "no\x1b[31msuch")
    assert out.returncode == 2 and "\x1b" not in out.stderr and "\\x1b" in out.stderr


def test_a_bitag_system_whose_encoding_would_be_huge_is_refused_before_it_is_built(tmp_path):
    """400 A and 3 E symbols pass the alphabet caps, but their U15,2 encoding would take
    hundreds of millions of cells: refused from the size bound, in seconds, within the limit."""
    a = [f"a{i}" for i in range(400)]
    text = (f"A: {' '.join(a)}\nE: e1 e2 e3\nword: e1 a0\n"
            + "".join(f"e{j} {x} -> {x} e3\n" for j in (1, 2) for x in a))
    f = tmp_path / "big.bitag"
    f.write_text(text)
    out = mannsim("compile", f, "-o", tmp_path / "out.tm", preexec_fn=_limited, timeout=600)
    one_line_error(out, "the encoding would take up to")
    assert not (tmp_path / "out.tm").exists()
