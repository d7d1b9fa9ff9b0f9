"""Traces: bytes per cycle and write overhead, JSON Lines against compact (.zst), same runs.

The baseline is the same run with no trace (cycles/s), in the same process and minutes; sizes
are bytes per cycle. Three runs: the U15,2 test vector on the symbolic CPU, its first cycles
on the embedded model (latencies are real, so the records are not all alike), and the compiled
unary successor with ``--memo`` (cycles answered from the memo). Then the time to open the
compact trace and read a random cycle, from a cold process state (a new index each time).
"""
from __future__ import annotations

import os
import random
import tempfile
import time
from pathlib import Path

from mannsim.backends import load_backend
from mannsim.computer import Computer
from mannsim.machine import load
from mannsim.program import compile_program, load_dialect
from mannsim.trace import TraceIndex

ROOT = Path(__file__).resolve().parent.parent


def _run(prog, backend, trace, max_steps, memo):
    t0 = time.perf_counter()
    report = Computer(prog, backend, max_steps=max_steps, trace=trace, memo=memo).run()
    return report, time.perf_counter() - t0


def _compare(prog, backend, tmp, tag, max_steps, memo, repeat=2) -> dict:
    out = {}
    for kind, path in (("none", None), ("jsonl", os.path.join(tmp, f"{tag}.jsonl")),
                       ("zst", os.path.join(tmp, f"{tag}.jsonl.zst"))):
        best = None
        for _ in range(repeat):
            report, dt = _run(prog, backend, path, max_steps, memo)
            best = dt if best is None else min(best, dt)
        out[kind] = (report.cycles / best, os.path.getsize(path) / report.cycles if path else 0)
    cycles_none = out["none"][0]
    return {
        f"{tag}_cycles": report.cycles,
        f"{tag}_cycles_per_s_no_trace": round(cycles_none),
        f"{tag}_ratio_jsonl": round(out["jsonl"][0] / cycles_none, 3),
        f"{tag}_ratio_zst": round(out["zst"][0] / cycles_none, 3),
        f"{tag}_bytes_per_cycle_jsonl": round(out["jsonl"][1], 1),
        f"{tag}_bytes_per_cycle_zst": round(out["zst"][1], 2),
    }


def bench() -> dict:
    d = load_dialect("schuurmans")
    u15 = compile_program(load(str(ROOT / "programs" / "u15_2.tm")), d)
    succ = compile_program(load(str(ROOT / "programs" / "compiled" / "unary_successor.u15_2.tm")), d)
    result: dict = {"name": "traces: JSON Lines vs compact (.zst), against no trace"}
    with tempfile.TemporaryDirectory() as tmp:
        sym = load_backend("symbolic")
        result.update(_compare(u15, sym, tmp, "u15_symbolic", 10**7, False, repeat=3))
        hf = load_backend("hf", threads=1)
        try:
            result.update(_compare(u15, hf, tmp, "u15_hf", 3000, False, repeat=1))
        finally:
            hf.close()
        result.update(_compare(succ, sym, tmp, "succ_memo", 10**7, True, repeat=1))
        path = os.path.join(tmp, "succ_memo.jsonl.zst")
        rng = random.Random(1)
        worst = 0.0
        with TraceIndex(path) as ix:
            n = len(ix)
        for k in [n, n // 2] + [rng.randint(1, n) for _ in range(8)]:
            t0 = time.perf_counter()
            with TraceIndex(path) as ix:
                ix.cycle(k)
                ix.config_before(k)
            worst = max(worst, time.perf_counter() - t0)
        result["open_cycle_worst_s"] = round(worst, 3)
        result["open_cycle_trace_cycles"] = n
    result["bar"] = ("compact <= 16 B/cycle on U15,2 with hf, <= 2 B per memo cycle, cycle N of "
                     "the largest trace opened (with its tape) in < 1 s")
    result["pass"] = (result["u15_hf_bytes_per_cycle_zst"] <= 16
                      and result["succ_memo_bytes_per_cycle_zst"] <= 2
                      and result["open_cycle_worst_s"] < 1)
    return result
