"""Reading a trace written as JSON Lines: one record a line.

The file is scanned once for line offsets. Every record goes through :func:`schema.validate`;
a cycle record written by mannsim itself (it starts with ``{"t":"cycle"``) is only located by
the lenient scan and parsed on demand by :meth:`JsonlSource.cycle`, with the same validation.
An unfinished last line (a killed run) is dropped with a warning.
"""
from __future__ import annotations

from collections.abc import Iterator

from ..limits import MAX_TRACE_LINE
from .header import parse_header
from .records import JSON, Cycle, Facts, Step
from .schema import TraceError, parse_line
from .source import Source, bounded, bounded_iter, facts_of, steps_of

_CYCLE = b'{"t":"cycle"'


class JsonlSource(Source):
    """A JSON Lines trace."""

    def __init__(self, path: str, strict: bool):
        self._offsets: list[int] = []
        self._lines: list[int] = []
        super().__init__(path, strict)

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
                self.header = parse_header(data[pos:nl], self.path)
            elif not self.strict and data[pos:pos + len(_CYCLE)] == _CYCLE:
                self._offsets.append(pos)
                self._lines.append(lineno)
            else:
                try:
                    self._take(parse_line(data[pos:nl], lineno, self.path), pos, lineno)
                except TraceError as e:
                    if self._bad(e, lineno):
                        break
            pos = nl + 1
            self.valid_end = pos

    def _take(self, rec: JSON, pos: int, lineno: int) -> None:
        kind = rec["t"]
        if kind == "cycle":
            if self.strict:
                self._check_next_cycle(rec, len(self._offsets), lineno)
            self._offsets.append(pos)
            self._lines.append(lineno)
        elif kind == "resume":
            keep = self._resume_keeps(rec, len(self._offsets), lineno)
            del self._offsets[keep:]
            del self._lines[keep:]
        else:  # (case, c and snap records mean nothing here: skipped, as before)
            self._take_meta(rec, lineno)

    def __len__(self) -> int:
        return len(self._offsets)

    def line_of(self, k: int) -> int:
        return self._lines[k - 1]

    @bounded
    def cycle(self, k: int) -> Cycle:
        start = self._offsets[k - 1]
        end = self._data.find(b"\n", start)
        rec = parse_line(self._data[start:end], self._lines[k - 1], self.path)
        if rec["t"] != "cycle":
            raise TraceError("not a cycle record", self.path, self._lines[k - 1])
        return Cycle.from_json(rec)

    @bounded_iter
    def steps(self) -> Iterator[Step]:
        for k in range(1, len(self) + 1):
            yield steps_of(self.cycle(k))

    @bounded_iter
    def facts(self) -> Iterator[Facts]:
        for k in range(1, len(self) + 1):
            yield facts_of(self.cycle(k))

    def load_prompt(self, digest: str, place: object) -> str:
        assert isinstance(place, tuple)
        text, lineno = place
        return self._checked_text(digest, text, lineno)
