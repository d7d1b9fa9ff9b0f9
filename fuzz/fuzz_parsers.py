"""Coverage-guided fuzzing (atheris) of every parser mannsim feeds untrusted text to.

    python fuzz/fuzz_parsers.py TARGET -max_total_time=60

TARGET is one of: tm, std, morphett, yaml, bitag, trace, answer, report (verify certificates,
audited against bb2). Any exception other than
mannsim's own one-line errors is a crash. `make fuzz` runs every target for a bounded time.
"""
import os
import sys
import tempfile

import atheris

with atheris.instrument_imports():
    from mannsim.errors import MannsimError
    from mannsim.machine.formats import parse as parse_machine
    from mannsim.memory import Memory, MemoryError_, apply_answer
    from mannsim.trace import TraceIndex, read_trace
    from mannsim.utm import parse as parse_bitag
    from mannsim.verify import audit, parse_certificate

TARGET = sys.argv.pop(1) if len(sys.argv) > 1 and not sys.argv[1].startswith("-") else "tm"
TRACE = os.path.join(tempfile.mkdtemp(), "t.jsonl")
COUNT = [0]

if TARGET == "report":
    from pathlib import Path

    from mannsim.machine.formats import load as load_machine
    from mannsim.program import compile_program, load_dialect
    BB2 = compile_program(load_machine(str(Path(__file__).resolve().parent.parent / "programs"
                                           / "bb2.tm")), load_dialect("schuurmans"))


def one(data: bytes) -> None:
    COUNT[0] += 1
    text = data.decode("utf-8", errors="replace")
    try:
        if TARGET in ("tm", "std", "morphett", "yaml"):
            parse_machine(text, TARGET, "fuzz")
        elif TARGET == "bitag":
            parse_bitag(text, "fuzz")
        elif TARGET == "trace":
            with open(TRACE, "wb") as f:
                f.write(b'{"t":"header","format":"mannsim-trace","version":1}\n' + data)
            read_trace(TRACE)
            TraceIndex(TRACE).close()
        elif TARGET == "report":
            audit(BB2, parse_certificate(data, "fuzz"), "fuzz")
        elif TARGET == "answer":
            mem = Memory({"op": "x", "i": "0", "A": "text\n"}, default="0")
            try:
                apply_answer(text, mem)
            except MemoryError_:
                pass
            assert len(mem) < 10_000
    except MannsimError as e:
        assert "\n" not in str(e)


if __name__ == "__main__":
    atheris.Setup(sys.argv, one)
    try:
        atheris.Fuzz()
    finally:
        print(f"fuzz {TARGET}: {COUNT[0]} inputs", file=sys.stderr)
