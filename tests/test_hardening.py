"""Hostile inputs: model answers, full disks, secrets."""
import json
import os
import resource
import signal
import subprocess
import sys

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mannsim.backends.base import Completion
from mannsim.computer import Computer
from mannsim.machine import load
from mannsim.memory import MAX_KEYS, MAX_VALUE, Memory, MemoryError_, apply_answer
from mannsim.program import compile_program, load_dialect
from mannsim.trace import read_trace

from conftest import PROGRAMS
from helpers import FaultyBackend, run_cli

DIALECT = load_dialect("schuurmans")
PROG = compile_program(load(str(PROGRAMS / "u15_2.tm")), DIALECT)

ADVERSARIAL = st.sampled_from([
    '" op="%[B]" %[i]="0" i+=1 "', 'op="', '"""', '%[', '@[@[@[i]]]', 'op="@[op]"',
    'boot="x"', 'A="evil"', 'i+=99999999999999999999', 'i-=1', "\x00", "\ud800", 'op="halt"',
    '%[boot]', '%[op]', '="', 'x' * 5000, '999999="1"', 'halted="A"', "\n", ' ', '-1="1"',
])


@settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(ADVERSARIAL | st.text(max_size=40), max_size=8).map("".join))
def test_write_path_never_crashes_and_stays_bounded(answer):
    mem = PROG.initial_memory()
    size = len(mem)
    try:
        apply_answer(answer, mem)
    except MemoryError_:
        pass
    assert len(mem) <= size + answer.count("=")
    assert all(isinstance(k, str) and isinstance(v, str) for k, v in mem.items())


class Scripted(FaultyBackend):
    def __init__(self, answers):
        super().__init__("none", at=-1)
        self.answers = list(answers)

    def complete(self, prompts):
        return [Completion(self.answers.pop(0) if self.answers else "") for _ in prompts]


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(ADVERSARIAL | st.text(max_size=60), min_size=1, max_size=4))
def test_any_answer_is_data_not_a_crash(answers):
    report = Computer(PROG, Scripted(answers), max_steps=4).run()
    assert report.reason in ("divergence", "max_steps", "halt")
    if report.reason == "divergence":
        assert report.divergence.reason


def test_huge_values_and_key_floods_are_refused():
    mem = Memory({"i": "0"})
    apply_answer(" ".join(f'{k}="1"' for k in range(1000)), mem)  # within the cap
    assert len(mem) == 1001 and MAX_KEYS > 1001
    # a flood past the cap is refused whole: nothing of it is written
    full = Memory({str(k): "1" for k in range(MAX_KEYS - 5)})
    with pytest.raises(MemoryError_, match=f"more than {MAX_KEYS} keys"):
        apply_answer(" ".join(f'x{k}="1"' for k in range(10)), full)
    assert len(full) == MAX_KEYS - 5 and "x0" not in full
    # a value past its cap is refused too
    with pytest.raises(MemoryError_):
        apply_answer('v="' + "a" * (MAX_VALUE + 1) + '"', Memory({"i": "0"}))
    report = Computer(PROG, FaultyBackend("oversized", at=1)).run()
    assert report.reason == "divergence"


def test_writes_to_boot_or_instructions_are_divergences():
    for fault in ("write-elsewhere", 'op="%[B]" A="x" %[i]="0" i+=1'):
        report = Computer(PROG, FaultyBackend(fault, at=2)).run()
        assert report.reason == "divergence" and "may not write" in report.divergence.reason


def _limit_file_size():
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_FSIZE, (300_000, 300_000))


def test_full_disk_ends_cleanly_and_the_trace_resumes(tmp_path):
    trace = tmp_path / "t.jsonl"
    proc = subprocess.run([sys.executable, "-m", "mannsim", "run", str(PROGRAMS / "u15_2.tm"), "-b",
                           "symbolic", "--trace", str(trace)], capture_output=True, text=True,
                          preexec_fn=_limit_file_size)
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines()[-1].startswith("mannsim: error: ")
    assert "cannot write trace" in proc.stderr and "Traceback" not in proc.stderr
    t = read_trace(str(trace))
    assert 100 < len(t.cycles) < 39066 and t.end is None
    out = run_cli(["run", "--resume", str(trace), "-b",
                   "symbolic", "--json"], check=True)
    data = json.loads(out.stdout)
    assert data["halted"] and data["cycles"] == 39066 and data["final_state"] == "J"


def test_api_key_never_reaches_an_artefact(tmp_path):
    key = "sk-live-DO-NOT-LEAK-4242"
    env = dict(os.environ, OPENAI_API_KEY=key)
    from servers import free_port
    url = f"http://127.0.0.1:{free_port()}/v1"
    trace = tmp_path / "t.jsonl"
    report = tmp_path / "r.json"
    runs = [
        ["run", str(PROGRAMS / "bb2.tm"), "-b", "openai", "--base-url", url, "--retries", "0",
         "--trace", str(trace)],
        ["verify", str(PROGRAMS / "bb2.tm"), "-b", "openai", "--base-url", url, "--retries", "0",
         "--json", str(report)],
        ["run", str(PROGRAMS / "bb2.tm"), "-b", "openai", "--base-url", url, "--api-key", key,
         "--retries", "0"],
        ["run", "--help"],
    ]
    seen = ""
    for args in runs:
        proc = subprocess.run([sys.executable, "-m", "mannsim", *args], capture_output=True,
                              text=True, env=env)
        seen += proc.stdout + proc.stderr
    for path in tmp_path.iterdir():
        seen += path.read_text(errors="replace")
    assert trace.exists() and key not in seen


def test_tape_span_cap_ends_the_run_with_a_valid_trace(tmp_path, monkeypatch):
    import mannsim.computer as computer
    monkeypatch.setattr(computer, "MAX_TAPE_SPAN", 5)
    from mannsim.backends import load_backend
    trace = tmp_path / "t.jsonl"
    prog = compile_program(load(str(PROGRAMS / "bb4.tm")), DIALECT)
    report = Computer(prog, load_backend("symbolic"), trace=str(trace)).run()
    assert report.reason == "error" and "tape span cap of 5 cells" in report.error
    t = read_trace(str(trace))
    assert not t.warnings and t.end.reason == "error" and len(t.cycles) == report.cycles > 0
    assert all(abs(c.head) <= 5 for c in t.cycles)
