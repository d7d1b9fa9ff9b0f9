"""Reading compact traces (:mod:`mannsim.trace.compact`), blocks expanded on demand.

Opening a trace decodes its meta blocks (at most ``MAX_TRACE_META`` bytes in all, refused from
the index before anything is decompressed) but parses only the records that say how the run
went (header, whole cycles, divergence, resume, end): a lenient reader keeps each prompt and
case as the line it is, and parses one when a view needs it (a prompt's text is then checked
against its hash), so memory holds the lines, not the objects they could expand into. The
strict reader (resume, decode) validates every record when it opens the trace.
"""
from __future__ import annotations

import bisect
import re
from collections.abc import Callable, Iterator
from typing import TypeVar

from . import compact
from .cases import SHORT, Cases, Place
from .compact import Block
from .header import parse_header
from .records import JSON, Case, Cycle, Facts, Snapshot, Step
from .schema import TraceError, parse_line
from .source import UNMATCHED_PROMPT, Source, bounded, bounded_iter, facts_of, steps_of

#: The start of a prompt and of a case definition as mannsim writes them: a lenient reader
#: notes where such a record is and parses it when it is needed (anything else is parsed now).
_PROMPT_AT = re.compile(rb'\{"t":"prompt","hash":"([0-9a-f]{16})","text":"')
_CASE_AT = re.compile(rb'\{"t":"case","k":(\d{1,9}),')

T = TypeVar("T")
#: A segment of cycles: a block of compact cycles, or one whole cycle record (and its line)
Segment = tuple[int, "Block | tuple[Cycle, int]"]
#: A short cycle: its case, the head before it, its latency and cached flag
Short = tuple[Case, int, float, bool]


class CompactSource(Source):
    """A compact trace (zstd blocks with an index)."""

    compact = True

    def __init__(self, path: str, strict: bool):
        #: the lines of the meta blocks that hold records kept by place
        self._meta_kept: dict[int, list[bytes]] = {}
        self._seg_first: list[int] = []   # the first cycle of each segment
        self._segs: list[Segment] = []
        self._count = 0
        self._cases = Cases(path, self.meta_line)
        self._decoded: tuple[int, list[Cycle]] | None = None
        #: the machine after N cycles: its block, or (its place in a meta block, its line)
        self._snaps: dict[int, Block | tuple[Place, int]] = {}
        super().__init__(path, strict)

    def _scan(self) -> None:
        blocks = compact.scan_blocks(self._data, self.path, self.warnings)
        if not blocks or blocks[0].kind != compact.META:
            raise TraceError("not a mannsim trace (no header)", self.path, 1)
        compact.check_meta_budget(blocks, self.path)
        for b in blocks:
            try:
                self._scan_block(b)
            except TraceError as e:
                if b.line == 1:
                    raise
                self._bad(e, e.line or b.line)  # strict: raises; lenient: warns
                break
            self.valid_end = b.end

    def _scan_block(self, b: Block) -> None:
        if b.kind == compact.SNAP:
            if b.first > self._count:
                raise TraceError(f"a snapshot after cycle {b.first}, but only "
                                 f"{self._count} precede it", self.path, b.line)
            self._snaps[b.first] = b
            return
        if b.kind == compact.CYCLES:
            if b.first != self._count + 1:
                raise TraceError(f"a block of cycles starts at cycle {b.first}, after "
                                 f"cycle {self._count}", self.path, b.line)
            self._seg_first.append(b.first)
            self._segs.append((b.records, b))
            self._count += b.records
            return
        try:
            lines = compact.decode_block(self._data, b, self.path)
        except TraceError:
            if b.line == 1:
                raise TraceError("not a mannsim trace (no header)", self.path, 1) from None
            raise
        for i, raw in enumerate(lines):
            lineno = b.line + i
            if lineno == 1:
                self.header = parse_header(raw, self.path)
                continue
            if not self.strict and self._note(raw, b, i, lineno):
                self._meta_kept[b.offset] = lines  # kept by place: keep its lines
                continue
            rec = parse_line(raw, lineno, self.path)
            if rec["t"] == "snap":
                self._meta_kept[b.offset] = lines
            self._take(rec, lineno, (b, i))

    def _note(self, raw: bytes, block: Block, i: int, lineno: int) -> bool:
        """A lenient reader notes where a prompt or case mannsim wrote is (True), unparsed."""
        m = _PROMPT_AT.match(raw)
        if m is not None:
            self.prompts.put(m.group(1).decode("ascii"), ((block, i), lineno))
            return True
        m = _CASE_AT.match(raw)
        if m is not None:
            self._cases.note(int(m.group(1)), (block, i), lineno)
            return True
        return False

    def meta_line(self, place: Place) -> bytes:
        """A line of a meta block whose lines were kept when the trace was opened (all kept
        lines together are at most ``MAX_TRACE_META`` bytes)."""
        block, i = place
        return self._meta_kept[block.offset][i]

    def load_prompt(self, digest: str, place: object) -> str:
        assert isinstance(place, tuple)
        where, lineno = place
        if isinstance(where, str):  # a strict reader's text, or one parsed from a whole record
            return self._checked_text(digest, where, lineno)
        try:
            rec = parse_line(self.meta_line(where), lineno, self.path)
            if rec["t"] != "prompt" or rec["hash"] != digest:
                raise TraceError("a prompt record that is not the one it starts as",
                                 self.path, lineno)
        except TraceError as e:
            self.warn_once(f"{self.path}:{lineno}: {e.message}; not shown")
            return UNMATCHED_PROMPT
        return self._checked_text(digest, rec["text"], lineno)

    def _take(self, rec: JSON, lineno: int, place: Place) -> None:
        kind = rec["t"]
        if kind == "case":
            if self.strict and rec["prompt"] not in self.prompts:
                raise TraceError(f"case {rec['k']} names prompt {rec['prompt']}, which no "
                                 "earlier record defines", self.path, lineno)
            self._cases.put(rec["k"], Case.from_json(rec), lineno)
        elif kind == "snap":  # mannsim writes these in blocks of their own; kept by place
                self._snaps[rec["cycles"]] = (place, lineno)
        elif kind == "c":
            raise TraceError("a compact cycle outside a block of cycles", self.path, lineno)
        elif kind == "cycle":
            self._check_next_cycle(rec, self._count, lineno)
            self._seg_first.append(rec["n"])
            self._segs.append((1, (Cycle.from_json(rec), lineno)))
            self._count += 1
        elif kind == "resume":
            keep = self._resume_keeps(rec, self._count, lineno)
            while self._seg_first and self._seg_first[-1] > keep:
                self._seg_first.pop()
                self._segs.pop()
            if self._segs:
                count, obj = self._segs[-1]
                self._segs[-1] = (min(count, keep - self._seg_first[-1] + 1), obj)
            self._count = keep
            self._snaps = {c: r for c, r in self._snaps.items() if c <= keep}
        else:
            self._take_meta(rec, lineno)

    def __len__(self) -> int:
        return self._count

    def _segment(self, k: int) -> tuple[int, int, Block | tuple[Cycle, int]]:
        if not 1 <= k <= len(self):
            raise IndexError(k)
        i = bisect.bisect_right(self._seg_first, k) - 1
        count, obj = self._segs[i]
        return self._seg_first[i], count, obj

    @bounded
    def line_of(self, k: int) -> int:
        first, _, obj = self._segment(k)
        return obj[1] if isinstance(obj, tuple) else obj.line + (k - first)

    @bounded
    def cycle(self, k: int) -> Cycle:
        first, _, obj = self._segment(k)
        if isinstance(obj, tuple):
            return obj[0]
        return self._expand(obj)[k - first]

    @bounded_iter
    def steps(self) -> Iterator[Step]:
        return self._each(steps_of, lambda c, head, ms, cached: Step(
            c.state, head, c.read, c.prompt, c.answer, True, c.writes_at(head), c.updates))

    @bounded_iter
    def facts(self) -> Iterator[Facts]:
        return self._each(facts_of, lambda c, head, ms, cached: Facts(
            c.state, c.read, ms, c.tin, c.tout, cached, True))

    def _each(self, whole: Callable[[Cycle], T],
              short: Callable[[Case, int, float, bool], T]) -> Iterator[T]:
        """``whole(cycle)`` of every cycle in order, or ``short(case, head, ms, cached)`` of
        one in a block of compact lines as mannsim writes them (no record is built)."""
        for count, obj in self._segs:  # (a resume record may keep part of a block)
            if isinstance(obj, tuple):
                yield whole(obj[0])
                continue
            rows = self._short_block(obj)
            if rows is None:
                yield from map(whole, self._expand(obj)[:count])
            else:
                for row in rows[:count]:
                    yield short(*row)

    def first_divergence(self) -> int | None:
        if self.divergence is not None:
            return self.divergence.cycle
        # only checked cycles are compacted: the others are whole records
        return next((obj[0].n for _, obj in self._segs
                     if isinstance(obj, tuple) and not obj[0].ok), None)

    # -- snapshots and cases -----------------------------------------------------------------
    def snapshot_cycles(self) -> list[int]:
        return sorted(self._snaps)

    def snapshot_line(self, cycles: int) -> int | None:
        """The line of the snapshot after ``cycles`` cycles (as ``zstd -dc`` prints the trace)."""
        found = self._snaps.get(cycles)
        if found is None:
            return None
        return found[1] if isinstance(found, tuple) else found.line

    @bounded
    def snapshot(self, cycles: int) -> Snapshot | None:
        """The ``snap`` record after ``cycles`` cycles, validated, or None. It is what the trace
        says, unchecked; it is decoded each time (not kept)."""
        found = self._snaps.get(cycles)
        if found is None:
            return None
        if isinstance(found, tuple):  # a snap record in a meta block
            place, lineno = found
            raw = self.meta_line(place)
        else:
            (raw,) = compact.decode_block(self._data, found, self.path)
            lineno = found.line
        rec = parse_line(raw, lineno, self.path)
        if rec["t"] != "snap" or rec["cycles"] != cycles:
            raise TraceError("a snapshot block that does not hold its snapshot", self.path,
                             lineno)
        return Snapshot.from_json(rec)

    @bounded
    def cases(self) -> dict[int, Case]:
        return self._cases.all()

    # -- blocks of cycles --------------------------------------------------------------------
    def _short_block(self, block: Block) -> list[Short] | None:
        """(case, head, ms, cached) of each cycle of a block whose lines are all compact lines
        as mannsim writes them, checked as :meth:`_expand` checks them; None for a block that
        holds any other line (the caller expands it)."""
        lines = compact.decode_block(self._data, block, self.path)
        out = []
        head = block.head
        for i, raw in enumerate(lines):
            short = SHORT.fullmatch(raw)
            if short is None:
                return None
            case, move, ms, cached = self._cases.short(short, block.first + i, block.line + i)
            out.append((case, head, ms, cached))
            head += move
        return out

    def _expand(self, block: Block) -> list[Cycle]:
        """The cycle records of a block of cycles, compact ones expanded from their cases."""
        if self._decoded is not None and self._decoded[0] == block.offset:
            return self._decoded[1]
        lines = compact.decode_block(self._data, block, self.path)
        out: list[Cycle] = []
        n, head = block.first, block.head
        for i, raw in enumerate(lines):
            lineno = block.line + i
            short = SHORT.fullmatch(raw)
            if short is not None:  # the lines mannsim writes: parsed without json
                case, move, ms, cached = self._cases.short(short, n, lineno)
                out.append(case.at(n, head, ms, cached))
            else:
                rec = parse_line(raw, lineno, self.path)
                if rec["t"] == "c":
                    case, move = self._cases.get(rec["k"], n, lineno)
                    c = case.at(n, head, rec.get("ms", 0.0), rec.get("cached", False))
                    out.append(c._replace(tin=rec.get("tin", case.tin),
                                          tout=rec.get("tout", case.tout)))
                else:
                    if rec["t"] != "cycle" or rec["n"] != n:
                        raise TraceError(f"expected cycle {n} here", self.path, lineno)
                    c = Cycle.from_json(rec)
                    out.append(c)
                    head, move = c.head, c.move
            head += move
            n += 1
        self._decoded = (block.offset, out)
        return out

