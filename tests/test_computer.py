"""The stored-instruction computer: full runs, lockstep checks, faults, traces and resume."""
import json
import random
import signal
import subprocess
import sys
import time

import pytest

from mannsim import replay
from mannsim.backends import load_backend
from mannsim.computer import Computer
from mannsim.machine import load, run
from mannsim.program import compile_program, load_dialect
from mannsim.trace import read_trace

from conftest import DATA, PROGRAMS, ROOT
from helpers import FaultyBackend, run_cli

DIALECT = load_dialect("schuurmans")


def program(name):
    return compile_program(load(str(PROGRAMS / name)), DIALECT)


@pytest.mark.slow
def test_u15_2_test_vector_through_the_memory_loop(tmp_path, u15):
    trace = tmp_path / "u15.jsonl"
    report = Computer(program("u15_2.tm"), load_backend("symbolic"), trace=str(trace)).run()
    assert report.reason == "halt" and report.divergence is None
    assert report.cycles == 39066 and report.steps == 39065 and report.checks == 39066
    assert report.state == "J" and report.head == 0
    ref = run(load(str(PROGRAMS / "u15_2.tm")))
    assert report.cells == ref.cells
    last = max(report.cells)
    assert "".join(report.cells.get(c, "0") for c in range(294, last + 1)) == u15["final_from_294"]
    t = read_trace(str(trace))
    assert len(t.cycles) == 39066 and not t.warnings
    assert t.end.reason == "halt" and t.end.state == "J"
    assert len(t.prompts) == 29  # each distinct prompt stored once
    assert t.header.program_name == "U15,2" and t.header.dialect_name == "schuurmans"
    assert {c.check for c in t.cycles} == {"ok"}


SMALL = ["bb2.tm", "bb3.tm", "bb3_ones.tm", "bb4.tm", "binary_addition.tm", "binary_increment.tm",
         "copy.tm", "palindrome.tm", "unary_multiplication.tm"]


@pytest.mark.parametrize("name", SMALL)
def test_every_program_runs_to_the_references_result(name):
    report = Computer(program(name), load_backend("symbolic")).run()
    ref = run(load(str(PROGRAMS / name)))
    assert report.reason == "halt" and report.divergence is None
    assert (report.steps, report.state, report.head, report.cells) == (
        ref.steps, ref.state, ref.head, ref.cells)
    assert report.cycles == ref.steps + 1  # the last call answers op="halt"


@pytest.mark.parametrize("name", ["bb5.tm", "bb2x4.tm"])
def test_long_programs_agree_for_their_first_cycles(name):
    report = Computer(program(name), load_backend("symbolic"), max_steps=20000).run()
    ref = run(load(str(PROGRAMS / name)), 20000)
    assert report.reason == "max_steps" and report.checks == 20000
    assert (report.state, report.head, report.cells) == (ref.state, ref.head, ref.cells)


@pytest.mark.parametrize("fault", ["garbage", "wrong-branch", "oversized", "empty",
                                   "write-elsewhere", "halt-early", '" op="%[B]" i+=x "'])
def test_faults_end_in_a_divergence_report_and_a_valid_trace(tmp_path, fault):
    trace = tmp_path / "t.jsonl"
    backend = FaultyBackend(fault, at=7)
    report = Computer(program("u15_2.tm"), backend, trace=str(trace)).run()
    assert report.reason == "divergence"
    d = report.divergence
    assert d.cycle == 7 and d.reason
    assert d.prompt.endswith("$result\n")
    assert d.expected["answer"].startswith('" op=')
    t = read_trace(str(trace))
    assert not t.warnings and len(t.cycles) == 7
    assert t.cycles[-1].check == "diverged" and t.divergence.cycle == 7
    assert t.end.reason == "divergence"


def test_divergence_report_rendering():
    from rich.console import Console

    from mannsim.cli.run_view import print_report
    report = Computer(program("bb2.tm"), FaultyBackend("wrong-branch", at=3)).run()
    console = Console(record=True, width=120)
    print_report(console, report, program("bb2.tm").machine, "bb2", "faulty", None)
    text = console.export_text()
    assert "DIVERGED" in text and "cycle 3" in text and "expected answer" in text
    assert "model answer" in text and "$result" in text


def test_resume_after_a_divergence_retries_from_the_last_good_cycle(tmp_path):
    trace = tmp_path / "t.jsonl"
    Computer(program("bb2.tm"), FaultyBackend("wrong-branch", at=3), trace=str(trace)).run()
    # another backend is refused: one run, one backend
    out = run_cli(["run", "--resume", str(trace),
                   "-b", "symbolic", "--json"])
    assert out.returncode == 2 and out.stdout == ""
    assert out.stderr.count("\n") == 1 and "would mix two backends" in out.stderr
    # the same backend (its fault now past) replays the 2 good cycles, re-checked, and finishes
    comp = replay.resume(str(trace), FaultyBackend("wrong-branch", at=10**9))
    report = comp.run()
    assert report.halted and report.resumed_from == 2 and report.checks == 7
    assert report.steps == 6 and report.cells == {-2: "1", -1: "1", 0: "1", 1: "1"}


@pytest.mark.slow
def test_sigkill_at_a_random_cycle_then_resume(tmp_path):
    rng = random.Random(12)
    full = tmp_path / "full.jsonl"
    cut = tmp_path / "cut.jsonl"
    args = [sys.executable, "-m", "mannsim", "run", str(PROGRAMS / "bb2x4.tm"), "-b", "symbolic",
            "--max-steps", "60000", "--json", "--trace"]
    subprocess.run(args + [str(full)], check=True, capture_output=True)
    proc = subprocess.Popen(args + [str(cut)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wait_for = rng.randint(200, 20000)  # bytes of trace before the kill: a random cycle
    while proc.poll() is None and (not cut.exists() or cut.stat().st_size < wait_for * 40):
        time.sleep(0.005)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    before = read_trace(str(cut))
    assert before.end is None and 0 < len(before.cycles) < 60000
    out = run_cli(["run", "--resume", str(cut), "-b",
                   "symbolic", "--json"], check=True)
    data = json.loads(out.stdout)
    a, b = read_trace(str(full)).end, read_trace(str(cut)).end
    for key in ("reason", "cycles", "steps", "state", "head", "tape", "tape_start"):
        assert getattr(a, key) == getattr(b, key), key
    assert data["resumed_from"] == len(before.cycles) and data["cycles"] == 60000
    assert len(read_trace(str(cut)).cycles) == 60000


@pytest.mark.slow
def test_interrupt_keeps_a_valid_resumable_trace(tmp_path):
    trace = tmp_path / "t.jsonl"
    backend = FaultyBackend("none", at=-1)
    comp = Computer(program("u15_2.tm"), backend, trace=str(trace))

    def interrupt(c):  # Ctrl-C while a progress frame is drawn
        if c.cycle == 1024:
            raise KeyboardInterrupt
    comp.progress = interrupt
    report = comp.run()
    assert report.reason == "interrupted" and report.cycles == 1024
    t = read_trace(str(trace))
    assert t.end.reason == "interrupted" and len(t.cycles) == 1024
    resumed = replay.resume(str(trace), FaultyBackend("none", at=-1)).run()
    assert resumed.reason == "halt" and resumed.cycles == 39066 and resumed.resumed_from == 1024
    assert read_trace(str(trace)).end.reason == "halt"


def test_truncated_trace_reads_to_last_complete_record(tmp_path):
    trace = tmp_path / "t.jsonl"
    Computer(program("bb4.tm"), load_backend("symbolic"), trace=str(trace)).run()
    data = trace.read_bytes()
    cut = data[: len(data) - 150]
    trace.write_bytes(cut)
    t = read_trace(str(trace))
    assert len(t.warnings) == 1 and "incomplete last record" in t.warnings[0]
    assert t.end is None and len(t.cycles) >= 100


def test_resume_refuses_a_changed_program(tmp_path):
    trace = tmp_path / "t.jsonl"
    Computer(program("bb2.tm"), load_backend("symbolic"), trace=str(trace)).run()
    lines = trace.read_text().splitlines()
    header = json.loads(lines[0])
    assert header["program"]["machine"]["rules"][0] == ["A", "0", "1", "R", "B"]
    header["program"]["machine"]["rules"][0][2] = "0"
    trace.write_text("\n".join([json.dumps(header)] + lines[1:]) + "\n")
    proc = run_cli(["run", "--resume", str(trace)])
    assert proc.returncode == 2 and "does not match its hash" in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1


def test_run_json_fields(tmp_path):
    out = run_cli(["run", str(PROGRAMS / "bb3.tm"), "-b",
                   "symbolic", "--json"], check=True)
    data = json.loads(out.stdout)
    for key in ("steps", "halted", "final_state", "head", "tape", "backend", "diverged", "cycles",
                "divergence_step"):
        assert key in data
    assert data["diverged"] is False and data["cycles"] == 22 and data["backend"] == "symbolic"


@pytest.mark.slow
def test_memo_answers_repeats_from_cache(tmp_path):
    trace = tmp_path / "t.jsonl"
    report = Computer(program("u15_2.tm"), load_backend("symbolic"), trace=str(trace), memo=True).run()
    assert report.reason == "halt" and report.cached == 39066 - 29
    t = read_trace(str(trace))
    assert sum(c.cached for c in t.cycles) == 39066 - 29


def test_the_cycle_generator_is_the_loop(tmp_path):
    # a consumer that stops early ends the run as interrupted, its trace finished and resumable
    trace = tmp_path / "t.jsonl"
    comp = Computer(program("bb3.tm"), load_backend("symbolic"), trace=str(trace))
    seen = []
    for rec in comp.cycles():
        n = rec.n
        seen.append((n, comp.cycle, comp.stepper.steps, comp.checks))
        if n == 5:
            break
    assert seen == [(k, k, k, k) for k in range(1, 6)]
    assert comp.result.reason == "interrupted" and comp.result.cycles == 5 and comp.finished
    assert read_trace(str(trace)).end.reason == "interrupted"
    resumed = replay.resume(str(trace), load_backend("symbolic"))
    assert [c.n for c in resumed.cycles()] == list(range(6, 23))
    assert resumed.result.reason == "halt" and read_trace(str(trace)).end.reason == "halt"
    # a divergence is yielded once, then the run ends with it even if the consumer stops there
    comp = Computer(program("bb2.tm"), FaultyBackend("garbage", at=3), trace=None)
    got = []
    for rec in comp.cycles():
        got.append(rec.n)
        if comp.divergence is not None:
            break
    assert got == [1, 2, 3] and comp.result.reason == "divergence"
    assert comp.result.divergence.cycle == 3


def test_the_live_view_follows_the_cycle_generator_to_an_exact_last_frame():
    # `mannsim run --live` on a non-terminal still draws: the last frame names the final cycle
    from helpers import run_cli
    out = run_cli(["run", "bb3", "-b", "symbolic", "--live"])
    assert out.returncode == 0, out.stderr
    assert "22 / 22 (100.0%)" in out.stdout and "checks passed" in out.stdout
    assert "bb3 on symbolic: halted" in out.stdout


@pytest.mark.parametrize("dialect", ["compact", str(DATA / "dialects" / "table")])
@pytest.mark.parametrize("fault", ["wrong-branch", "halt-early", "write-elsewhere"])
def test_faults_are_injected_in_any_dialects_syntax(dialect, fault):
    """The fault injector reads prompts with the run's dialect (a lookup table has no if-then
    line): each fault is caught at its cycle as the divergence it is."""
    d = load_dialect(dialect)
    prog = compile_program(load(str(PROGRAMS / "bb3.tm")), d)
    report = Computer(prog, FaultyBackend(fault, at=3, dialect=d)).run()
    assert report.reason == "divergence" and report.divergence.cycle == 3
    assert report.divergence.answer != prog.answer(*_state_read_at(prog, 3))


def _state_read_at(prog, k):
    from mannsim.machine import Stepper
    st = Stepper(prog.machine)
    for _ in range(k - 1):
        st.step()
    return st.state, st.read()


@pytest.mark.parametrize("dialect", ["schuurmans", "compact"])
@pytest.mark.parametrize("keys", ["registers", "names"])
def test_every_prompt_is_the_memory_rendered_afresh(dialect, keys):
    """The loop keeps an instruction's prompt by (state, head cell) instead of rendering it
    again: every prompt a backend is asked must be MEMORY rendered afresh at that moment, and
    its trace hash that prompt's, on machines with identical instructions, word symbols and a
    long run (the cache must never stand in for a MEMORY it does not describe); a fault
    injected where the cache is warm must still be seen in the prompt after it."""
    from mannsim.memory import Renderer
    from mannsim.trace import prompt_hash

    class Watch(FaultyBackend):
        def complete(self, prompts):
            mem = comp.memory
            assert prompts == [Renderer(mem)(mem["op"])]
            return super().complete(prompts)

    d = load_dialect(dialect)
    for name in ("u15_2.tm", "bb4.tm", "palindrome.tm", "copy.tm"):
        prog = compile_program(load(str(PROGRAMS / name)), d, keys)
        comp = Computer(prog, Watch("none", at=-1, dialect=d), max_steps=3000)
        seen = {}
        for rec in comp.cycles():
            seen.setdefault(rec.prompt, rec.n)
        assert comp.result.reason in ("halt", "max_steps") and comp.checks == comp.cycle > 0
        # each distinct hash is the hash of a prompt the program renders
        rendered = {prompt_hash(c.prompt) for c in prog.cases()}
        assert set(seen) <= rendered
    # a wrong answer after the cache is warm: the next prompt is MEMORY's, and the run stops
    prog = compile_program(load(str(PROGRAMS / "bb4.tm")), d, keys)
    comp = Computer(prog, Watch("write-elsewhere", at=40, dialect=d), max_steps=3000)
    assert comp.run().reason == "divergence" and comp.divergence.cycle == 40


def test_a_prompt_too_long_to_render_is_a_divergence_on_every_read_path(tmp_path):
    """Found by a review: a dialect whose boot is just under the dialect size cap renders
    prompts past MAX_VALUE; the read path that keeps instructions' prompts must report that as
    the divergence it is (read substitution failed), as the path that renders every time does."""
    import shutil
    folder = tmp_path / "big"
    shutil.copytree(ROOT / "prompts" / "schuurmans", folder)
    spec = (folder / "dialect.toml").read_text()
    boot = next(line.split('"')[1] for line in spec.splitlines() if line.startswith("boot"))
    (folder / boot).write_text("x" * ((1 << 20) - 10) + "\n")
    d = load_dialect(str(folder))
    comp = Computer(compile_program(load(str(PROGRAMS / "bb2.tm")), d),
                    load_backend("symbolic", dialect=d))
    report = comp.run()
    assert report.reason == "divergence" and comp.failure is None
    assert report.divergence.cycle == 1 and "read substitution failed" in report.divergence.reason
