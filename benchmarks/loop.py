"""The memory loop with the symbolic CPU on U15,2, against the reference machine, same run."""
from __future__ import annotations

import cProfile
import io
import os
import pstats
import tempfile
import time
from pathlib import Path

from mannsim.backends import load_backend
from mannsim.computer import Computer
from mannsim.machine import load, run
from mannsim.program import compile_program, load_dialect

ROOT = Path(__file__).resolve().parent.parent


def _program():
    return compile_program(load(str(ROOT / "programs" / "u15_2.tm")), load_dialect("schuurmans"))


def bench(profile: bool = False) -> dict:
    machine = load(str(ROOT / "programs" / "u15_2.tm"))
    t0 = time.perf_counter()
    for _ in range(20):
        ref = run(machine)
    t_ref = (time.perf_counter() - t0) / 20
    prog = _program()
    best = None
    for _ in range(3):
        t0 = time.perf_counter()
        report = Computer(prog, load_backend("symbolic")).run()
        dt = time.perf_counter() - t0
        best = dt if best is None else min(best, dt)
        assert report.reason == "halt" and report.cycles == 39066 and report.cells == ref.cells
    with tempfile.TemporaryDirectory() as tmp:
        trace = os.path.join(tmp, "t.jsonl")
        t0 = time.perf_counter()
        Computer(prog, load_backend("symbolic"), trace=trace).run()
        t_trace = time.perf_counter() - t0
        trace_bytes = os.path.getsize(trace)
    cps = report.cycles / best
    result = {
        "name": "memory loop, symbolic CPU, U15,2 test vector",
        "cycles": report.cycles,
        "seconds": round(best, 3),
        "cycles_per_s": round(cps),
        "cycles_per_s_with_trace": round(report.cycles / t_trace),
        "trace_bytes": trace_bytes,
        "baseline": "reference simulator, same machine",
        "baseline_steps_per_s": round(ref.steps / t_ref),
        "ratio_loop_to_reference": round(cps / (ref.steps / t_ref), 4),
        "us_per_cycle": round(1e6 / cps, 1),
        "bar": "at least 20,000 cycles/s",
        "pass": cps >= 20000,
    }
    if profile:
        pr = cProfile.Profile()
        pr.enable()
        Computer(prog, load_backend("symbolic")).run()
        pr.disable()
        out = io.StringIO()
        pstats.Stats(pr, stream=out).sort_stats("tottime").print_stats(8)
        result["profile"] = "\n" + out.getvalue()
    return result
