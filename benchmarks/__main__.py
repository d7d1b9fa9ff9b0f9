"""Run every benchmark and print a table; exit 1 if a bar is missed. ``--only NAME`` picks one."""
from __future__ import annotations

import argparse
import json
import sys

from . import chain, hf, hostile, loop, model, reference, trace

BENCHES = {"reference": reference.bench, "loop": loop.bench, "hf": hf.bench,
           "verify-batch": hf.verify_batch,
           "fresh": model.fresh_machines, "u15-model": model.u15_end_to_end,
           "hostile": hostile.bench, "trace": trace.bench, "chain": chain.bench}


def main() -> int:
    ap = argparse.ArgumentParser(prog="python -m benchmarks")
    ap.add_argument("--only", choices=sorted(BENCHES), action="append")
    ap.add_argument("--json", action="store_true", help="one JSON object per line")
    ap.add_argument("--profile", action="store_true", help="add a cProfile summary to 'loop'")
    args = ap.parse_args()
    ok = True
    for name in args.only or BENCHES:
        result = BENCHES[name](profile=True) if (args.profile and name == "loop") else BENCHES[name]()
        ok &= bool(result.get("pass", True))
        if args.json:
            print(json.dumps(result), flush=True)
        else:
            print(f"== {result.pop('name')}")
            for key, value in result.items():
                print(f"   {key:22} {value}")
            sys.stdout.flush()
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
