"""A/B against another commit, in one run: the symbolic loop and the hf step of this checkout
and of REV (default ``HEAD~1``), measured in fresh processes, interleaved (A, B, A, B, ...), so
both meet the same machine load. Prints, per measure, the median of the rounds with the spread
(min-max) and the ratio of the medians.

    python -m benchmarks.ab [REV] [--rounds 5]

REV is checked out with ``git worktree`` into a temporary folder and imported from there (this
virtual environment's packages, that tree's ``mannsim``). The code timed uses only interfaces
both sides have: ``Computer(...).run()`` on the U15,2 test vector with the symbolic CPU (cycles
per second, the best of 3 runs in the process), and ``load_backend("hf").complete`` on the first
200 prompts of that run, one at a time, after a warm-up (ms a step, the best of 3 passes).
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

PROBE = r'''
import json, sys, time
from mannsim.backends import load_backend
from mannsim.computer import Computer
from mannsim.machine import load
from mannsim.memory import Renderer, apply_answer
from mannsim.program import compile_program, load_dialect
what = sys.argv[1]
d = load_dialect("schuurmans")
prog = compile_program(load("programs/u15_2.tm"), d)
sym = load_backend("symbolic", dialect=d)
if what == "loop":
    best = None
    for _ in range(3):
        t0 = time.perf_counter()
        report = Computer(prog, sym).run()
        dt = time.perf_counter() - t0
        best = dt if best is None else min(best, dt)
    assert report.reason == "halt" and report.cycles == 39066
    print(json.dumps({"loop_cycles_per_s": report.cycles / best}))
else:
    mem = prog.initial_memory()
    render = Renderer(mem)
    prompts = []
    for _ in range(200):
        p = render(mem["op"])
        prompts.append(p)
        apply_answer(sym.complete([p])[0].text, mem)
    hf = load_backend("hf", stop=d.stop, threads=1)
    for p in prompts[:20]:
        hf.complete([p])
    best = None
    for _ in range(3):
        t0 = time.perf_counter()
        out = [hf.complete([p])[0].text for p in prompts]
        ms = (time.perf_counter() - t0) / len(prompts) * 1000
        best = ms if best is None else min(best, ms)
    print(json.dumps({"hf_ms_per_step": best, "answers": out}))
'''


def measure(tree: Path, what: str) -> dict:
    env = dict(os.environ, PYTHONPATH=str(tree), HF_HUB_OFFLINE="1")
    out = subprocess.run([sys.executable, "-c", PROBE, what], cwd=tree, env=env,
                         capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> int:
    ap = argparse.ArgumentParser(prog="python -m benchmarks.ab")
    ap.add_argument("rev", nargs="?", default="HEAD~1")
    ap.add_argument("--rounds", type=int, default=5)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="mannsim-ab-") as tmp:
        base = Path(tmp) / "base"
        subprocess.run(["git", "worktree", "add", "--detach", str(base), args.rev], cwd=ROOT,
                       check=True, capture_output=True)
        try:
            runs: dict[str, dict[str, list[float]]] = {"this": {}, "base": {}}
            answers: dict[str, list[str]] = {}
            for r in range(args.rounds):
                for side, tree in (("this", ROOT), ("base", base)) if r % 2 == 0 else \
                        (("base", base), ("this", ROOT)):
                    for what in ("loop", "hf"):
                        got = measure(tree, what)
                        if "answers" in got:
                            answers.setdefault(side, got.pop("answers"))
                        for key, value in got.items():
                            runs[side].setdefault(key, []).append(value)
            print(f"A/B: this checkout vs {args.rev}, {args.rounds} interleaved rounds, fresh "
                  "processes; median (min-max)")
            for key in runs["this"]:
                a, b = runs["this"][key], runs["base"][key]
                ma, mb = statistics.median(a), statistics.median(b)
                print(f"  {key:20} this {ma:10.2f} ({min(a):.2f}-{max(a):.2f})   "
                      f"{args.rev} {mb:10.2f} ({min(b):.2f}-{max(b):.2f})   ratio {ma / mb:.3f}")
            print(f"  hf answers identical on both sides: {answers['this'] == answers['base']}")
        finally:
            subprocess.run(["git", "worktree", "remove", "--force", str(base)], cwd=ROOT,
                           check=False, capture_output=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
