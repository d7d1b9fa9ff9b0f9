"""The one trace reader: a lazy index over a trace file, behind every command that reads one.

The file is scanned once for line offsets. Every record goes through :func:`schema.validate`;
a cycle record written by mannsim itself (it starts with ``{"t":"cycle"``) is only located by
the lenient scan and parsed on demand by :meth:`TraceIndex.cycle`, with the same validation.
Lenient mode (show, stats, plot, view) reads up to the first bad record with a warning; strict
mode (resume, decode) parses everything and refuses a bad, reordered or foreign record with
one error naming its line. Either way an unfinished last line (a killed run) is dropped with a
warning. The machine's tape at any cycle comes from the reference machine in the header
(replayed with snapshots every 1,000 steps), which the trace's checks tie to MEMORY at every
cycle marked ok.
"""
from __future__ import annotations

import hashlib
import mmap
import os
import struct
from dataclasses import dataclass, field
from typing import Iterator

from ..errors import MannsimError
from ..limits import MAX_TRACE_LINE
from ..program.compiler import KEY_POLICIES
from . import compact
from .compact_reader import CompactReader
from .schema import (FORMAT, VERSIONS, TraceError, cycle_defaults, parse_line, prompt_hash)

_CYCLE = b'{"t":"cycle"'
_COMPACT_MAGIC = struct.pack("<I", compact.SKIP_MAGIC)
SNAPSHOT_EVERY = 1000


class TraceIndex(CompactReader):
    def __init__(self, path: str, strict: bool = False):
        self.path = path
        self.strict = strict
        self.warnings: list[str] = []
        self.prompts: dict[str, str] = {}
        self.divergence: dict | None = None
        self.end: dict | None = None
        self.header: dict = {}
        self._offsets: list[int] = []
        self._lines: list[int] = []
        #: byte offset just past the last record read (where appended records go)
        self.valid_end = 0
        try:
            self._f = open(path, "rb")
            size = os.fstat(self._f.fileno()).st_size
        except OSError as e:
            raise TraceError(f"cannot read trace: {e.strerror}", path) from None
        if size == 0:
            self._f.close()
            raise TraceError("empty trace", path)
        self._data = mmap.mmap(self._f.fileno(), 0, access=mmap.ACCESS_READ)
        #: a compact trace (zstd blocks, see trace.compact) rather than plain JSON Lines
        self.compact = self._data[:4] == _COMPACT_MAGIC
        self._seg_first: list[int] = []   # compact: the first cycle of each segment
        self._segs: list = []             # compact: (count, Block) or (1, (record, line))
        self._count = 0
        self._cases: dict[int, tuple[dict, int]] = {}
        self._decoded: tuple[int, list[dict]] | None = None
        #: the machine after N cycles, as compact traces record it: N -> its block (decoded
        #: on demand by snapshot()) or its record
        self._snaps: dict[int, object] = {}
        try:
            if self.compact:
                self._scan_compact()
            else:
                self._scan()
        except BaseException:
            self.close()
            raise
        self._stepper = None
        self._machine = None
        self._snapshots: dict[int, tuple] = {}

    def _bad(self, error: TraceError, lineno: int) -> bool:
        """Strict: raise. Lenient: warn and stop reading (returns True)."""
        if self.strict:
            raise error
        self.warnings.append(f"{self.path}:{lineno}: {error.message}; read up to line {lineno - 1}")
        return True

    def _scan(self) -> None:
        data, pos, lineno = self._data, 0, 0
        while True:
            nl = data.find(b"\n", pos)
            lineno += 1
            if nl < 0:
                if pos < len(data):
                    if lineno == 1:
                        raise TraceError("not a mannsim trace (no complete header)", self.path, 1)
                    self.warnings.append(f"{self.path}:{lineno}: incomplete last record; read up "
                                         f"to line {lineno - 1}")
                break
            if nl - pos > MAX_TRACE_LINE:
                if lineno == 1:
                    raise TraceError("not a mannsim trace (header too long)", self.path, 1)
                if self._bad(TraceError(f"record longer than {MAX_TRACE_LINE} bytes", self.path,
                                        lineno), lineno):
                    break
            if lineno == 1:
                self._read_header(pos, nl)
            elif not self.strict and data[pos:pos + len(_CYCLE)] == _CYCLE:
                self._offsets.append(pos)
                self._lines.append(lineno)
            else:
                try:
                    rec = parse_line(data[pos:nl], lineno, self.path)
                    self._take(rec, pos, lineno)
                except TraceError as e:
                    if self._bad(e, lineno):
                        break
            pos = nl + 1
            self.valid_end = pos

    def _parse_header(self, raw: bytes) -> dict:
        return parse_header(raw, self.path)

    def _read_header(self, pos: int, nl: int) -> None:
        self.header = parse_header(self._data[pos:nl], self.path)

    def _check_next_cycle(self, rec: dict, count: int, lineno: int) -> None:
        """A whole cycle record must follow the ``count`` before it and (strict) name a prompt
        an earlier record defines."""
        if rec["n"] != count + 1:
            raise TraceError(f"cycle {rec['n']} is out of order (expected cycle {count + 1})",
                             self.path, lineno)
        if self.strict and rec["prompt"] not in self.prompts:
            raise TraceError(f"cycle {rec['n']} names prompt {rec['prompt']}, which no "
                             "earlier record defines", self.path, lineno)

    def _resume_keeps(self, rec: dict, count: int, lineno: int) -> int:
        """How many cycles a resume record keeps (at most the ``count`` before it); what
        followed them (a divergence, an end) no longer counts."""
        keep = rec["from"]
        if keep > count:
            raise TraceError(f"resume record keeps {keep} cycles, but only {count} precede it",
                             self.path, lineno)
        self.divergence = self.end = None
        return keep

    def _take(self, rec: dict, pos: int, lineno: int) -> None:
        kind = rec["t"]
        if kind == "cycle":
            if self.strict:
                self._check_next_cycle(rec, len(self._offsets), lineno)
            self._offsets.append(pos)
            self._lines.append(lineno)
        elif kind == "prompt":
            text = rec["text"]
            if self.strict and prompt_hash(text) != rec["hash"]:
                raise TraceError("prompt record's text does not match its hash", self.path,
                                 lineno)
            self.prompts[rec["hash"]] = text
        elif kind == "divergence":
            self.divergence = rec
        elif kind == "end":
            self.end = rec
        elif kind == "resume":
            keep = self._resume_keeps(rec, len(self._offsets), lineno)
            del self._offsets[keep:]
            del self._lines[keep:]
        elif kind == "header":
            raise TraceError("a second header", self.path, lineno)

    # -- compact traces ------------------------------------------------------------------
    def __len__(self) -> int:
        return self._count if self.compact else len(self._offsets)

    def line_of(self, k: int) -> int:
        """The line of cycle ``k`` (1-based): in the file, or in a compact trace's JSON Lines
        (as ``zstd -dc`` prints them)."""
        if self.compact:
            first, _, obj = self._segment(k)
            return obj[1] if isinstance(obj, tuple) else obj.line + (k - first)
        return self._lines[k - 1]

    def cycle(self, k: int) -> dict:
        """The validated record of cycle ``k`` (1-based), optional fields filled in."""
        if self.compact:
            first, _, obj = self._segment(k)
            if isinstance(obj, tuple):
                return cycle_defaults(obj[0])
            return self._expand(obj)[k - first]
        start = self._offsets[k - 1]
        end = self._data.find(b"\n", start)
        rec = parse_line(self._data[start:end], self._lines[k - 1], self.path)
        if rec["t"] != "cycle":
            raise TraceError("not a cycle record", self.path, self._lines[k - 1])
        return cycle_defaults(rec)

    def steps(self) -> Iterator[tuple]:
        """(state, head, read, prompt, answer, ok) of every cycle in order: the fields a replay
        checks (:func:`mannsim.replay.recheck`), read without building whole records where the
        format allows (the same values as :meth:`cycle`'s, tested)."""
        if not self.compact:
            for k in range(1, len(self) + 1):
                r = self.cycle(k)
                yield r["state"], r["head"], r["read"], r["prompt"], r["answer"], r["check"] == "ok"
            return
        for _, obj in self._segs:
            if isinstance(obj, tuple):
                r = cycle_defaults(obj[0])
                yield r["state"], r["head"], r["read"], r["prompt"], r["answer"], r["check"] == "ok"
            else:
                yield from self._steps(obj)

    def facts(self) -> Iterator[tuple]:
        """(state, read, ms, tin, tout, cached, ok) of every cycle in order: what ``trace
        stats`` counts, read without building whole records where the format allows."""
        if not self.compact:
            for k in range(1, len(self) + 1):
                r = self.cycle(k)
                yield (r["state"], r["read"], r["ms"], r["tin"], r["tout"], r["cached"],
                       r["check"] == "ok")
            return
        for _, obj in self._segs:
            if isinstance(obj, tuple):
                r = cycle_defaults(obj[0])
                yield (r["state"], r["read"], r["ms"], r["tin"], r["tout"], r["cached"],
                       r["check"] == "ok")
            else:
                yield from self._facts(obj)

    def first_divergence(self) -> int | None:
        if self.divergence is not None:
            return self.divergence["cycle"]
        if self.compact:  # only checked cycles are compacted: the others are whole records
            return next((obj[0]["n"] for _, obj in self._segs
                         if isinstance(obj, tuple) and obj[0]["check"] != "ok"), None)
        for k in range(1, len(self) + 1):
            if self.cycle(k)["check"] != "ok":
                return k
        return None

    # -- the machine, from the header ---------------------------------------------------
    def machine(self):
        """The machine the header records (checked against its hash)."""
        if self._machine is None:
            self._machine = header_machine(self.header, self.path)
        return self._machine

    def config_before(self, k: int):
        """(state, head, cells) of the reference machine before cycle ``k``."""
        from ..machine import Stepper
        if self._stepper is None:
            self._stepper = Stepper(self.machine())
            self._snapshots[0] = (self._stepper.state, self._stepper.head, dict(self._stepper.cells))
        target = k - 1
        recorded = max((c for c in self._snaps if c <= target), default=0)
        if recorded > max(s for s in self._snapshots if s <= target):
            snap = self.snapshot(recorded)
            cells = {snap["tape_start"] + i: sym for i, sym in enumerate(snap["tape"])}
            self._snapshots[recorded] = (snap["state"], snap["head"], cells)
        base = max(s for s in self._snapshots if s <= target)
        st = self._stepper
        st.state, st.head, snap = self._snapshots[base]
        st.cells, st.steps, st.halted = dict(snap), base, False
        while st.steps < target:
            if st.step() is None:
                break
            if st.steps % SNAPSHOT_EVERY == 0 and st.steps not in self._snapshots:
                self._snapshots[st.steps] = (st.state, st.head, dict(st.cells))
        return st.state, st.head, dict(st.cells)

    def close(self) -> None:
        try:
            self._data.close()
            self._f.close()
        except (OSError, ValueError, AttributeError):
            pass

    def __enter__(self) -> "TraceIndex":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def parse_header(raw: bytes, path: str | None) -> dict:
    """The first line of a trace, parsed and validated as a header."""
    try:
        rec = parse_line(raw, 1, path)
    except TraceError:
        raise TraceError("not a mannsim trace (no header)", path, 1) from None
    if rec.get("t") != "header" or rec.get("format") != FORMAT:
        raise TraceError("not a mannsim trace (no header)", path, 1)
    if rec.get("version") not in VERSIONS:
        raise TraceError(f"trace version {str(rec.get('version'))[:20]} is not one of "
                         f"{', '.join(map(str, VERSIONS))}", path, 1)
    if rec["program"].get("keys", "names") not in KEY_POLICIES:
        raise TraceError("header field program.keys is not a key policy "
                         f"({', '.join(KEY_POLICIES)})", path, 1)
    for key in ("program", "dialect", "backend"):
        part = rec[key]
        for name in ("name", "sha256"):
            if name in part and not (part[name] is None or isinstance(part[name], str)):
                raise TraceError(f"header field {key}.{name} is not a string", path, 1)
    return rec


def read_header(path: str) -> dict:
    """Only a trace's header (its first line), validated: what a command needs to know before
    it reads the whole trace."""
    try:
        with open(path, "rb") as f:
            if f.read(4) == _COMPACT_MAGIC:
                return _compact_header(f, path)
            f.seek(0)
            raw = f.readline(MAX_TRACE_LINE + 1)
    except OSError as e:
        raise TraceError(f"cannot read trace: {e.strerror}", path) from None
    if not raw.endswith(b"\n"):
        raise TraceError("not a mannsim trace (no complete header)", path, 1)
    return parse_header(raw, path)


def _compact_header(f, path: str) -> dict:
    """The header of a compact trace: the first record of its first block."""
    f.seek(0)
    start = f.read(compact.HEAD_SIZE)
    blocks = compact.scan_blocks(start, path, [], partial=True)
    if not blocks or blocks[0].kind != compact.META:
        raise TraceError("not a mannsim trace (no header)", path, 1)
    f.seek(0)
    data = f.read(blocks[0].end)
    try:
        lines = compact.decode_block(data, blocks[0], path)
    except TraceError:
        lines = []
    if not lines:
        raise TraceError("not a mannsim trace (no header)", path, 1)
    return parse_header(lines[0], path)


def header_machine(header: dict, path: str | None, exact: bool = False):
    """The machine a trace header records, checked against the header's hash.

    Version 2 headers hold the canonical form (lossless). Version 1 headers hold native ``.tm``
    text, which cannot carry every machine; with ``exact`` (resume) such a header is accepted
    only when its text round-trips through the native format unchanged.
    """
    from ..machine import canonical
    from ..machine.formats import native
    prog = header.get("program") or {}
    try:
        if header.get("version", 1) >= 2:
            machine = canonical.from_data(prog.get("machine"), path)
            if canonical.digest(machine) != prog.get("sha256"):
                raise TraceError("the machine in the trace header does not match its hash",
                                 path, 1)
            return machine
        text = prog.get("text")
        if not isinstance(text, str) or \
                hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest() != prog.get("sha256"):
            raise TraceError("the program in the trace header does not match its hash", path, 1)
        machine = native.parse(text, path)
        if exact and native.dump(machine) != text:
            raise TraceError("this version-1 trace's program does not round-trip through the "
                             ".tm format, so it cannot be rebuilt exactly", path, 1)
        return machine
    except TraceError:
        raise
    except MannsimError as e:
        raise TraceError(f"the program in the trace header is invalid: {e.message}", path,
                         1) from None


@dataclass
class Trace:
    """A trace read whole: header, cycles (after applying resume records), prompts, end."""

    path: str
    header: dict
    cycles: list[dict] = field(default_factory=list)
    prompts: dict[str, str] = field(default_factory=dict)
    divergence: dict | None = None
    end: dict | None = None
    warnings: list[str] = field(default_factory=list)


def read_trace(path: str, strict: bool = False) -> Trace:
    """Read a whole trace through :class:`TraceIndex` (small traces, tests, tools)."""
    with TraceIndex(path, strict=strict) as ix:
        cycles = []
        for k in range(1, len(ix) + 1):
            try:
                cycles.append(ix.cycle(k))
            except TraceError as e:
                if strict:
                    raise
                ix.warnings.append(f"{path}:{ix.line_of(k)}: {e.message}; read up to cycle {k - 1}")
                break
        return Trace(path, ix.header, cycles, dict(ix.prompts), ix.divergence, ix.end,
                     list(ix.warnings))
