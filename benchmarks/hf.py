"""The hf backend's fast path against plain ``model.generate`` on the full prompt.

Same model (the embedded one), same prompts (the first cycles of the U15,2 test vector, in
order, as a run sends them), same run; the outputs must be identical.
"""
from __future__ import annotations

import time
from pathlib import Path

from mannsim.backends import load_backend
from mannsim.machine import load
from mannsim.memory import Renderer, apply_answer
from mannsim.program import compile_program, load_dialect

from .floor import eager_forward_ms, gemm_floor_ms

ROOT = Path(__file__).resolve().parent.parent
answer = load_dialect("schuurmans").shape.evaluate  # the symbolic CPU's answer


def run_prompts(n: int) -> list[str]:
    """The prompts of the first ``n`` cycles of U15,2 (answered by the symbolic CPU)."""
    prog = compile_program(load(str(ROOT / "programs" / "u15_2.tm")), load_dialect("schuurmans"))
    mem = prog.initial_memory()
    render = Renderer(mem)
    prompts = []
    for _ in range(n):
        p = render(mem["op"])
        prompts.append(p)
        apply_answer(answer(p), mem)
    return prompts


def bench(n_fast: int = 400, n_plain: int = 100, threads: int = 1) -> dict:
    stop = load_dialect("schuurmans").stop
    prompts = run_prompts(n_fast)
    fast = load_backend("hf", stop=stop, threads=threads)
    plain = load_backend("hf", stop=stop, threads=threads, fast=False)
    fast.complete(prompts[:2])
    plain.complete(prompts[:2])
    fast.forward_passes = 0
    t0 = time.perf_counter()
    fast_out = fast.complete(prompts)
    t_fast = (time.perf_counter() - t0) / len(prompts)
    t0 = time.perf_counter()
    plain_out = plain.complete(prompts[:n_plain])
    t_plain = (time.perf_counter() - t0) / n_plain
    identical = [a.text for a in fast_out[:n_plain]] == [b.text for b in plain_out]
    assert identical, "fast path and plain generate disagree"
    passes = fast.forward_passes / len(prompts)
    speedup = t_plain / t_fast
    # the step against what one verifying pass costs at the least, same process and threads
    floor = gemm_floor_ms()
    eager = eager_forward_ms()
    return {
        "name": "hf backend: prefix KV cache + batched prompt lookup, embedded model",
        "prompts": len(prompts),
        "ms_per_step": round(t_fast * 1000, 2),
        "forward_passes_per_step": round(passes, 2),
        "baseline": f"plain model.generate on the full prompt ({n_plain} prompts)",
        "baseline_ms_per_step": round(t_plain * 1000, 2),
        "speedup": round(speedup, 1),
        "identical_outputs": identical,
        "floor_ms": round(floor["ms"], 3),
        "floor_is": f"{floor['gemms']} matrix products of one pass, 32 new tokens over a "
                    f"300-token cache ({floor['mflop']:.0f} MFLOP), back to back",
        "step_over_floor": round(t_fast * 1000 / floor["ms"], 2),
        "eager_forward_ms": round(eager, 3),
        "eager_forward_is": "one eager transformers forward of the same size",
        "step_over_eager_forward": round(t_fast * 1000 / eager, 2),
        "threads": threads,
        "bar": "at least 5x faster, fewer than 3 forward passes per step",
        "pass": speedup >= 5 and passes < 3,
    }


def verify_batch(threads: int = 1, batch: int = 32) -> dict:
    """verify on every case of programs/ (190): one at a time on the fast path, vs batched."""
    root = Path(__file__).resolve().parent.parent
    dialect = load_dialect("schuurmans")
    backend = load_backend("hf", stop=dialect.stop, threads=threads)
    prompts = [c.prompt for f in sorted((root / "programs").glob("*.tm"))
               for c in compile_program(load(str(f)), dialect).cases()]
    backend.complete(prompts[:2])
    t0 = time.perf_counter()
    one = backend.complete(prompts)
    t_one = time.perf_counter() - t0
    passes = backend.forward_passes
    t0 = time.perf_counter()
    many = backend.complete_batch(prompts, batch)
    t_many = time.perf_counter() - t0
    same = [c.text for c in one] == [c.text for c in many]
    return {"name": f"hf verify of {len(prompts)} cases: one at a time vs batches of {batch}",
            "one_at_a_time_s": round(t_one, 2), "batched_s": round(t_many, 2),
            "ratio": round(t_one / t_many, 2),
            "forward_passes_batched": backend.forward_passes - passes,
            "identical": same, "pass": same}
