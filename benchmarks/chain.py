"""Cost of compiled Turing machines on U15,2: U15,2 steps of each example, against the figures of
the first frequency-numbered compiler (the baseline; step counts are exact, not timings)."""
from __future__ import annotations

import time
from pathlib import Path

from mannsim.machine import load, run
from mannsim.utm import compile_bitag, decode
from mannsim.utm.fromtm import Decoded, compile_tm

PROGRAMS = Path(__file__).resolve().parent.parent / "programs"
BEFORE = {"unary_successor": 2_314_367, "binary_increment": 42_795_475, "parity": 59_537_481,
          "bb2": 42_927_933}
GOAL_BB2 = 10_000_000


def bench() -> dict:
    out: dict = {"name": "TM -> bi-tag -> U15,2: U15,2 steps per compiled example"}
    ok = True
    for name, before in BEFORE.items():
        path = PROGRAMS / (f"{name}.tm" if name == "bb2" else f"compiled/{name}.tm")
        source = load(str(path))
        t0 = time.perf_counter()
        compiled = compile_tm(source)
        t_compile = time.perf_counter() - t0
        u15 = run(compile_bitag(compiled.system), 10**9)
        got = compiled.decode(decode(compiled.system, u15.cells))
        want = Decoded.of_result(source, run(source))
        match = u15.halted and got.trimmed(source.blank) == want.trimmed(source.blank) \
            and got.state == want.state
        ok &= match
        out[name] = (f"{u15.steps:,} steps (before {before:,}, x{before / u15.steps:.1f} fewer), "
                     f"{len(compiled.system.a)} A / {len(compiled.system.e)} E"
                     f"{', mirrored' if compiled.mirrored else ''}, compiled in {t_compile:.2f} s, "
                     f"decoded {'= reference' if match else 'WRONG'}")
        if name == "bb2":
            out["bar"] = f"bb2 <= {GOAL_BB2:,} U15,2 steps, every example decoded = reference"
            ok &= u15.steps <= GOAL_BB2
    out["pass"] = ok
    return out
