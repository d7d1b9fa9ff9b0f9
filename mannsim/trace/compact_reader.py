"""Reading compact traces (see :mod:`mannsim.trace.compact`): the part of :class:`TraceIndex`
that scans block indexes, takes meta records, and expands blocks of compact cycles on demand.

Opening a trace decodes its meta blocks (at most ``MAX_TRACE_META`` bytes in all, refused from
the index before anything is decompressed) but parses only the records that say how the run
went (header, whole cycles, divergence, resume, end): a lenient reader keeps each prompt and
case as the line it is, and parses one when a view needs it (a prompt's text is then checked
against its hash), so memory holds the lines, not the objects they could expand into. The
strict reader (resume, decode) validates every record when it opens the trace, as before.
"""
from __future__ import annotations

import bisect
import functools
import re
from collections.abc import Mapping

from ..limits import MAX_TAPE_SPAN
from . import compact
from .schema import TraceError, cycle_defaults, parse_line, prompt_hash

#: A compact cycle as mannsim writes it (anything else is parsed as JSON and validated).
_SHORT = re.compile(rb'\{"t":"c","k":(\d{1,9})(?:,"ms":(\d{1,12}(?:\.\d{1,20})?(?:e-?\d{1,3})?))?'
                    rb'(,"cached":true)?\}')
#: The start of a prompt and of a case definition as mannsim writes them: a lenient reader
#: notes where such a record is and parses it when it is needed (anything else is parsed now).
_PROMPT_AT = re.compile(rb'\{"t":"prompt","hash":"([0-9a-f]{16})","text":"')
_CASE_AT = re.compile(rb'\{"t":"case","k":(\d{1,9}),')


def out_of_memory(path: str | None) -> TraceError:
    """Running out of memory while reading a trace, as the one-line error it is to a user."""
    return TraceError("out of memory reading the trace (it asks for more than this process may "
                      "use)", path)


def _bounded(method):
    """``method`` with a MemoryError turned into a one-line :class:`TraceError`."""
    @functools.wraps(method)
    def wrapper(self, *args, **kwargs):
        try:
            return method(self, *args, **kwargs)
        except MemoryError:
            raise out_of_memory(self.path) from None
    return wrapper


def _bounded_iter(method):
    """The generator ``method`` with a MemoryError turned into a :class:`TraceError`."""
    @functools.wraps(method)
    def wrapper(self, *args, **kwargs):
        try:
            yield from method(self, *args, **kwargs)
        except MemoryError:
            raise out_of_memory(self.path) from None
    return wrapper


#: What a lenient reader gives for a prompt whose record is unreadable or whose text does not
#: match its hash.
UNMATCHED_PROMPT = ("(the trace's record of this prompt is unreadable or its text does not match "
                    "its hash; not shown)")


class Prompts(Mapping):
    """A trace's prompts, hash -> text: a text is read from the trace when it is asked for, and
    a lenient reader's text that does not match its hash (or an unreadable record) is never
    returned (a placeholder, :data:`UNMATCHED_PROMPT`, with a warning)."""

    def __init__(self, ix):
        self._ix = ix
        self._at: dict[str, object] = {}  # hash -> text (checked) or (Block, index, line)

    def __setitem__(self, digest: str, text_or_place) -> None:
        self._at[digest] = text_or_place

    @property
    def path(self) -> str:
        return self._ix.path

    @_bounded
    def __getitem__(self, digest: str) -> str:
        found = self._at[digest]
        if isinstance(found, str):
            return found
        text = self._ix._load_prompt(digest, found)
        self._at[digest] = text
        return text

    def __contains__(self, digest) -> bool:
        return digest in self._at

    def __iter__(self):
        return iter(self._at)

    def __len__(self) -> int:
        return len(self._at)


class CompactReader:
    """Mixed into :class:`~mannsim.trace.index.TraceIndex`, which provides the state (``path``,
    ``strict``, ``_data``, ``_segs``, ``_seg_first``, ``_count``, ``_cases``, ``_snaps``,
    ``prompts``, ``header``, ``warnings``, ``valid_end``) and ``_bad``, ``_take``,
    ``_check_next_cycle``, ``_resume_keeps`` and ``_parse_header``."""

    def _scan_compact(self) -> None:
        blocks = compact.scan_blocks(self._data, self.path, self.warnings)
        if not blocks or blocks[0].kind != compact.META:
            raise TraceError("not a mannsim trace (no header)", self.path, 1)
        compact.check_meta_budget(blocks, self.path)
        for b in blocks:
            try:
                if b.kind == compact.SNAP:
                    if b.first > self._count:
                        raise TraceError(f"a snapshot after cycle {b.first}, but only "
                                         f"{self._count} precede it", self.path, b.line)
                    self._snaps[b.first] = b
                elif b.kind == compact.CYCLES:
                    if b.first != self._count + 1:
                        raise TraceError(f"a block of cycles starts at cycle {b.first}, after "
                                         f"cycle {self._count}", self.path, b.line)
                    self._seg_first.append(b.first)
                    self._segs.append((b.records, b))
                    self._count += b.records
                else:
                    try:
                        lines = compact.decode_block(self._data, b, self.path)
                    except TraceError:
                        if b.line == 1:
                            raise TraceError("not a mannsim trace (no header)", self.path,
                                             1) from None
                        raise
                    for i, raw in enumerate(lines):
                        lineno = b.line + i
                        if lineno == 1:
                            self.header = self._parse_header(raw)
                            continue
                        if not self.strict and self._note(raw, b, i, lineno):
                            self._meta_kept[b.offset] = lines  # kept by place: keep its lines
                            continue
                        rec = parse_line(raw, lineno, self.path)
                        if rec["t"] == "snap":
                            self._meta_kept[b.offset] = lines
                        self._take_compact(rec, lineno, (b, i))
            except TraceError as e:
                if b.line == 1:
                    raise
                self._bad(e, e.line or b.line)  # strict: raises; lenient: warns
                break
            self.valid_end = b.end

    def _note(self, raw: bytes, block, i: int, lineno: int) -> bool:
        """A lenient reader notes where a prompt or case mannsim wrote is (True), unparsed."""
        m = _PROMPT_AT.match(raw)
        if m is not None:
            self.prompts[m.group(1).decode("ascii")] = (block, i, lineno)
            return True
        m = _CASE_AT.match(raw)
        if m is not None:
            self._cases[int(m.group(1))] = ((block, i), lineno)
            return True
        return False

    def _meta_line(self, block, i: int) -> bytes:
        """Line ``i`` of a meta block whose lines were kept when the trace was opened (all kept
        lines together are at most ``MAX_TRACE_META`` bytes)."""
        return self._meta_kept[block.offset][i]

    def _load_prompt(self, digest: str, place) -> str:
        """The text of the prompt record at ``place`` ((text, line) of a plain trace, or (meta
        block, index, line)), checked against its hash: a text that does not match is never
        shown (a placeholder says so, with a warning)."""
        if len(place) == 2:
            text, lineno = place
        else:
            block, i, lineno = place
            try:
                rec = parse_line(self._meta_line(block, i), lineno, self.path)
                if rec["t"] != "prompt" or rec["hash"] != digest:
                    raise TraceError("a prompt record that is not the one it starts as",
                                     self.path, lineno)
            except TraceError as e:
                self._warn_once(f"{self.path}:{lineno}: {e.message}; not shown")
                return UNMATCHED_PROMPT
            text = rec["text"]
        if prompt_hash(text) != digest:
            self._warn_once(f"{self.path}:{lineno}: prompt {digest}'s text does not match its "
                            "hash; not shown")
            return UNMATCHED_PROMPT
        return text

    def _take_compact(self, rec: dict, lineno: int, place=None) -> None:
        kind = rec["t"]
        if kind == "case":
            _check_case(rec, self.path, lineno)
            if self.strict and rec["prompt"] not in self.prompts:
                raise TraceError(f"case {rec['k']} names prompt {rec['prompt']}, which no "
                                 "earlier record defines", self.path, lineno)
            rec["move"] = sum(d for label, d in rec["updates"] if label == "i")
            self._cases[rec["k"]] = (rec, lineno)
        elif kind == "snap":  # mannsim writes these in blocks of their own; kept by place
            _check_snap(rec, self.path, lineno)
            self._snaps[rec["cycles"]] = (place, lineno)
        elif kind == "c":
            raise TraceError("a compact cycle outside a block of cycles", self.path, lineno)
        elif kind == "cycle":
            self._check_next_cycle(rec, self._count, lineno)
            self._seg_first.append(rec["n"])
            self._segs.append((1, (rec, lineno)))
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
            self._take(rec, 0, lineno)

    def snapshot_cycles(self) -> list[int]:
        """The cycle counts after which the trace records the machine (compact traces)."""
        return sorted(self._snaps)

    def snapshot_line(self, cycles: int) -> int | None:
        """The line of the snapshot after ``cycles`` cycles (as ``zstd -dc`` prints the trace)."""
        found = self._snaps.get(cycles)
        if found is None:
            return None
        return found[1] if isinstance(found, tuple) else found.line

    @_bounded
    def snapshot(self, cycles: int) -> dict | None:
        """The ``snap`` record after ``cycles`` cycles, validated, or None. It is what the trace
        says, unchecked: a view uses a snapshot only once it is checked against the machine
        (:meth:`~mannsim.trace.index.TraceIndex.config_before`); a resume compares each one.
        It is decoded each time (not kept)."""
        found = self._snaps.get(cycles)
        if found is None:
            return None
        if isinstance(found, tuple):  # a snap record in a meta block
            (block, i), lineno = found
            raw = self._meta_line(block, i)
        else:
            (raw,) = compact.decode_block(self._data, found, self.path)
            lineno = found.line
        rec = parse_line(raw, lineno, self.path)
        if rec["t"] != "snap" or rec["cycles"] != cycles:
            raise TraceError("a snapshot block that does not hold its snapshot", self.path,
                             lineno)
        _check_snap(rec, self.path, lineno)
        return rec

    @_bounded
    def cases(self) -> dict[int, dict]:
        """A compact trace's cases (k -> case fields)."""
        out = {}
        for k in list(self._cases):
            rec = self._case(k, 0, self._cases[k][1])
            out[k] = {f: rec[f] for f in ("state", "read", "prompt", "answer", "writes",
                                          "updates", "tin", "tout")}
        return out

    def _segment(self, k: int) -> tuple[int, int, object]:
        if not 1 <= k <= len(self):
            raise IndexError(k)
        i = bisect.bisect_right(self._seg_first, k) - 1
        count, obj = self._segs[i]
        return self._seg_first[i], count, obj

    def _case(self, k: int, n: int, lineno: int) -> dict:
        """Case ``k``, named by cycle ``n`` on ``lineno``: it must be defined before that line
        (a case noted by place is parsed and validated the first time it is named)."""
        found = self._cases.get(k)
        if found is None or found[1] > lineno:
            raise TraceError(f"cycle {n} names case {k}, which no earlier record defines",
                             self.path, lineno)
        rec, line = found
        if isinstance(rec, tuple):
            rec = parse_line(self._meta_line(*rec), line, self.path)
            if rec["t"] != "case" or rec["k"] != k:
                raise TraceError("a case record that is not the one it starts as", self.path,
                                 line)
            _check_case(rec, self.path, line)
            rec["move"] = sum(d for label, d in rec["updates"] if label == "i")
            self._cases[k] = (rec, line)
        return rec

    def _short(self, short: re.Match, n: int, lineno: int) -> tuple[dict, float, bool]:
        """The case, latency and cached flag of a compact cycle line as mannsim writes it."""
        ms = float(short.group(2)) if short.group(2) is not None else 0.0
        if not 0 <= ms < 1e12:
            raise TraceError("c record has an invalid 'ms'", self.path, lineno)
        return self._case(int(short.group(1)), n, lineno), ms, short.group(3) is not None

    def _short_block(self, block) -> list[tuple[dict, int, float, bool]] | None:
        """(case, head, ms, cached) of each cycle of a block whose lines are all compact lines
        as mannsim writes them, checked as :meth:`_expand` checks them; None for a block that
        holds any other line (the caller expands it)."""
        lines = compact.decode_block(self._data, block, self.path)
        out = []
        head = block.head
        for i, raw in enumerate(lines):
            short = _SHORT.fullmatch(raw)
            if short is None:
                return None
            case, ms, cached = self._short(short, block.first + i, block.line + i)
            out.append((case, head, ms, cached))
            head += case["move"]
        return out

    def _steps(self, block) -> list[tuple]:
        """(state, head, read, prompt, answer, ok) of each cycle of a block: what a replay
        checks, read from the cases without expanding writes."""
        rows = self._short_block(block)
        if rows is None:
            return [(r["state"], r["head"], r["read"], r["prompt"], r["answer"],
                     r["check"] == "ok") for r in self._expand(block)]
        return [(c["state"], head, c["read"], c["prompt"], c["answer"], True)
                for c, head, _, _ in rows]

    def _facts(self, block) -> list[tuple]:
        """(state, read, ms, tin, tout, cached, ok) of each cycle of a block (``trace stats``),
        read from the cases without expanding writes."""
        rows = self._short_block(block)
        if rows is None:
            return [(r["state"], r["read"], r["ms"], r["tin"], r["tout"], r["cached"],
                     r["check"] == "ok") for r in self._expand(block)]
        return [(c["state"], c["read"], ms, c["tin"], c["tout"], cached, True)
                for c, _, ms, cached in rows]

    def _expand(self, block) -> list[dict]:
        """The cycle records of a block of cycles, compact ones expanded from their cases."""
        if self._decoded is not None and self._decoded[0] == block.offset:
            return self._decoded[1]
        lines = compact.decode_block(self._data, block, self.path)
        out: list[dict] = []
        n, head = block.first, block.head
        for i, raw in enumerate(lines):
            lineno = block.line + i
            short = _SHORT.fullmatch(raw)
            if short is not None:  # the lines mannsim writes: parsed without json
                case, ms, cached = self._short(short, n, lineno)
                rec = {"ms": ms, "cached": cached}
            else:
                rec = parse_line(raw, lineno, self.path)
                case = self._case(rec["k"], n, lineno) if rec["t"] == "c" else None
            if case is not None:
                # valid by construction: the case was validated when it was read
                out.append({
                    "t": "cycle", "n": n, "state": case["state"], "head": head,
                    "read": case["read"], "prompt": case["prompt"], "answer": case["answer"],
                    "writes": [[str(head) if key is None else key, v] for key, v in case["writes"]],
                    "updates": case["updates"], "check": "ok", "ms": rec.get("ms", 0.0),
                    "tin": rec.get("tin", case["tin"]), "tout": rec.get("tout", case["tout"]),
                    "cached": rec.get("cached", False)})
                head += case["move"]
                n += 1
                continue
            if rec["t"] != "cycle" or rec["n"] != n:
                raise TraceError(f"expected cycle {n} here", self.path, lineno)
            _check_case(rec, self.path, lineno)
            out.append(cycle_defaults(rec))
            head = rec["head"] + sum(d for label, d in rec["updates"] if label == "i")
            n += 1
        self._decoded = (block.offset, out)
        return out


def _check_snap(rec: dict, path: str | None, line: int) -> None:
    if len(rec["tape"]) > 2 * MAX_TAPE_SPAN + 1:
        raise TraceError("snapshot tape longer than the span cap", path, line)


def _pairs(v, value) -> bool:
    return isinstance(v, list) and all(
        isinstance(p, list) and len(p) == 2 and value(p[1]) for p in v)


def _check_case(rec: dict, path: str | None, line: int) -> None:
    """The writes and updates of a case (or cycle) are [key, value] pairs of the right types."""
    ok = _pairs(rec["writes"], lambda v: isinstance(v, str)) and all(
        p[0] is None or isinstance(p[0], str) for p in rec["writes"]) and _pairs(
        rec["updates"], lambda v: isinstance(v, int) and not isinstance(v, bool)) and all(
        isinstance(p[0], str) for p in rec["updates"])
    if not ok:
        raise TraceError(f"{rec['t']} record has malformed writes or updates", path, line)
