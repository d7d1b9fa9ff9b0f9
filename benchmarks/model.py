"""The embedded model: verify on fresh random machines, and the U15,2 test vector end to end."""
from __future__ import annotations

import random
import time
from pathlib import Path

from mannsim.backends import load_backend
from mannsim.computer import Computer
from mannsim.machine import load, run
from mannsim.program import compile_program, load_dialect
from mannsim.train.data import random_machine
from mannsim.verify import verify

ROOT = Path(__file__).resolve().parent.parent
FRESH_SEED = 20_261_126  # never used in training (training seeds are small integers)


def fresh_machines(n: int = 1000, threads: int = 1) -> dict:
    dialect = load_dialect("schuurmans")
    backend = load_backend("hf", stop=dialect.stop, threads=threads)
    rng = random.Random(FRESH_SEED)
    total = passed = 0
    failures = []
    t0 = time.perf_counter()
    for _ in range(n):
        prog = compile_program(random_machine(rng), dialect)
        for r in verify(prog, backend):
            total += 1
            passed += r.passed
            if not r.passed and len(failures) < 5:
                failures.append((r.expected, r.answer))
    dt = time.perf_counter() - t0
    return {"name": f"embedded model, verify on {n} fresh random machines (seed {FRESH_SEED})",
            "cases": total, "passed": passed, "rate": round(passed / total, 5),
            "seconds": round(dt, 1), "ms_per_case": round(dt / total * 1000, 2),
            "first_failures": failures, "bar": "at least 99.9%", "pass": passed / total >= 0.999}


def u15_end_to_end(threads: int = 1) -> dict:
    dialect = load_dialect("schuurmans")
    machine = load(str(ROOT / "programs" / "u15_2.tm"))
    backend = load_backend("hf", stop=dialect.stop, threads=threads)
    report = Computer(compile_program(machine, dialect), backend).run()
    ref = run(machine)
    ok = report.reason == "halt" and report.cells == ref.cells and report.divergence is None
    return {"name": "embedded model, U15,2 test vector end to end (no --memo)",
            "cycles": report.cycles, "reason": report.reason, "checks": report.checks,
            "wall_s": round(report.elapsed, 1),
            "ms_per_step": round(report.elapsed / max(report.cycles, 1) * 1000, 2),
            "model_ms_per_step": round(report.model_seconds / max(report.cycles, 1) * 1000, 2),
            "same_final_tape": report.cells == ref.cells, "pass": ok}
