"""The reference simulator on the 5-state busy-beaver champion, against a naive dict loop."""
from __future__ import annotations

import time

from mannsim.machine import parse, run, run_naive

BB5 = "1RB1LC_1RC1RB_1RD0LE_1LA1LD_1RZ0LA"
BB5_STEPS, BB5_ONES = 47_176_870, 4_098


def bench() -> dict:
    m = parse(BB5, "std")
    t0 = time.perf_counter()
    fast = run(m)
    t_fast = time.perf_counter() - t0
    t0 = time.perf_counter()
    naive = run_naive(m, 10**9)
    t_naive = time.perf_counter() - t0
    assert (fast.steps, fast.nonblank) == (BB5_STEPS, BB5_ONES), (fast.steps, fast.nonblank)
    assert (naive.steps, naive.cells, naive.head) == (fast.steps, fast.cells, fast.head)
    return {
        "name": "reference simulator, BB(5) champion",
        "steps": fast.steps,
        "seconds": round(t_fast, 4),
        "steps_per_s": round(fast.steps / t_fast),
        "baseline": "naive dict loop",
        "baseline_seconds": round(t_naive, 3),
        "baseline_steps_per_s": round(naive.steps / t_naive),
        "ratio": round(t_naive / t_fast, 1),
        "bar": "under 10 s, at least as fast as the naive loop",
        "pass": t_fast < 10 and t_fast <= t_naive,
    }
