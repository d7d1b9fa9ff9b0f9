"""Coverage-guided fuzzing (atheris) of every parser mannsim feeds untrusted text to.

    python fuzz/fuzz_parsers.py TARGET -max_total_time=60

TARGET is one of: tm, std, morphett, yaml, bitag, trace, answer, report (verify certificates,
audited against bb2), cycle (a whole cycle: the input is the model's answer at every cycle of
bb2, applied and checked; a run that reports no divergence must equal the reference machine,
and an answer verify accepts must pass its cycle), resume (the input follows a real trace
header: the strict reader and the re-checking replay, then the lenient reader and stats).
Any exception other than mannsim's own one-line errors is a crash. `make fuzz` runs every
target for a bounded time.
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

if TARGET == "ztrace":
    TRACE += ".zst"
if TARGET in ("report", "cycle", "resume", "trace", "ztrace"):
    from pathlib import Path

    from mannsim import replay
    from mannsim.backends.base import Completion
    from mannsim.computer import Computer
    from mannsim.machine import run as run_machine
    from mannsim.machine.formats import load as load_machine
    from mannsim.program import compile_program, load_dialect
    from mannsim.program.check import case_problem
    from mannsim.trace.views import stats
    BB2 = compile_program(load_machine(str(Path(__file__).resolve().parent.parent / "programs"
                                           / "bb2.tm")), load_dialect("schuurmans"))

    class Fixed:
        """A backend answering ``text`` to every prompt."""
        name = "symbolic"

        def __init__(self, text):
            self.text = text

        def identity(self):
            return {"name": "symbolic", "model": None, "weights": None, "decoding": {}}

        def complete(self, prompts):
            return [Completion(self.text) for _ in prompts]

        def close(self):
            pass

    HEADER = None
    if TARGET in ("resume", "trace"):
        Computer(BB2, Fixed(""), trace=TRACE).run()
        with open(TRACE, "rb") as f:
            HEADER = f.readline()
    if TARGET == "ztrace":  # the header block of a real compact trace
        from mannsim.backends.symbolic import SymbolicBackend
        from mannsim.trace import compact
        Computer(BB2, SymbolicBackend(dialect=load_dialect("schuurmans")), trace=TRACE).run()
        with open(TRACE, "rb") as f:
            whole = f.read()
        HEADER = whole[:compact.scan_blocks(whole, TRACE, [])[1].offset]


def one_ztrace(data: bytes) -> None:
    """Raw bytes after a real header block, or (first byte odd) the bytes as the content of a
    well-formed block, so the records inside blocks are reached too."""
    from mannsim.trace import compact
    if data[:1] and data[0] & 1:
        import struct

        import zstandard
        kind = compact.CYCLES if data[0] & 2 else compact.META
        frame = zstandard.ZstdCompressor().compress(data[1:])
        first = 1 + (data[0] >> 4)
        tail = struct.pack("<II", compact.SKIP_MAGIC, compact.BLOCK.size) + compact.BLOCK.pack(
            kind, len(frame), len(data) - 1, data[1:].count(b"\n"), first, data[0] >> 2) + frame
    else:
        tail = data
    one_resume(tail)  # HEADER is the compact header block here
    read_trace(TRACE)


def one_cycle(text: str) -> None:
    report = Computer(BB2, Fixed(text), max_steps=8).run()
    if report.divergence is None and report.reason != "error":
        ref = run_machine(BB2.machine, report.steps)
        assert (report.state, report.head, report.cells) == (ref.state, ref.head, ref.cells)
    if case_problem(BB2, ("A",), ("0",), text) is None:
        assert report.cycles >= 1 and (report.divergence is None or report.divergence.cycle > 1)


def one_resume(data: bytes) -> None:
    with open(TRACE, "wb") as f:
        f.write(HEADER + data)
    try:
        replay.replayed(TRACE)
    except MannsimError as e:
        assert "\n" not in str(e)
    t = TraceIndex(TRACE)
    try:
        stats(t)
    finally:
        t.close()


def one(data: bytes) -> None:
    COUNT[0] += 1
    text = data.decode("utf-8", errors="replace")
    try:
        if TARGET in ("tm", "std", "morphett", "yaml"):
            parse_machine(text, TARGET, "fuzz")
        elif TARGET == "bitag":
            parse_bitag(text, "fuzz")
        elif TARGET == "trace":
            with open(TRACE, "wb") as f:  # a real header, then the input
                f.write(HEADER + data)
            read_trace(TRACE)
            TraceIndex(TRACE).close()
        elif TARGET == "report":
            audit(BB2, parse_certificate(data, "fuzz"), "fuzz")
        elif TARGET == "cycle":
            one_cycle(text)
        elif TARGET == "resume":
            one_resume(data)
        elif TARGET == "ztrace":
            one_ztrace(data)
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
