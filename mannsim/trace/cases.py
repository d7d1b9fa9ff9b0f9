"""A compact trace's table of cases (what its checked cycles share, see
:mod:`mannsim.trace.compact`)."""
from __future__ import annotations

import re
from collections.abc import Callable

from .compact import Block
from .records import Case, move_of
from .schema import TraceError, parse_line

#: A line of a meta block: (the block, its index there)
Place = tuple[Block, int]
#: A compact cycle as mannsim writes it (anything else is parsed as JSON and validated).
SHORT = re.compile(rb'\{"t":"c","k":(\d{1,9})(?:,"ms":(\d{1,12}(?:\.\d{1,20})?(?:e-?\d{1,3})?))?'
                   rb'(,"cached":true)?\}')


class Cases:
    """A compact trace's case table: case number -> (case, its move, its line). A lenient
    reader notes a case by place and parses it, validated, the first time a cycle names it."""

    def __init__(self, path: str, meta_line: Callable[[Place], bytes]):
        self.path, self._meta_line = path, meta_line
        self._cases: dict[int, tuple[Case, int, int]] = {}
        self._at: dict[int, tuple[Place, int]] = {}

    def note(self, k: int, place: Place, lineno: int) -> None:
        self._cases.pop(k, None)
        self._at[k] = (place, lineno)

    def put(self, k: int, case: Case, lineno: int) -> None:
        self._at.pop(k, None)
        self._cases[k] = (case, move_of(case.updates), lineno)

    def all(self) -> dict[int, Case]:
        return {k: self.get(k, 0, 1 << 62)[0] for k in sorted({*self._cases, *self._at})}

    def get(self, k: int, n: int, lineno: int) -> tuple[Case, int]:
        """Case ``k`` and its move, named by cycle ``n`` on ``lineno``: it must be defined
        before that line."""
        found = self._cases.get(k)
        if found is not None and found[2] <= lineno:
            return found[0], found[1]
        at = self._at.get(k)
        if at is None or at[1] > lineno:
            raise TraceError(f"cycle {n} names case {k}, which no earlier record defines",
                             self.path, lineno)
        place, line = at
        rec = parse_line(self._meta_line(place), line, self.path)
        if rec["t"] != "case" or rec["k"] != k:
            raise TraceError("a case record that is not the one it starts as", self.path, line)
        self.put(k, Case.from_json(rec), line)
        return self._cases[k][0], self._cases[k][1]

    def short(self, line: re.Match[bytes], n: int, lineno: int) -> tuple[Case, int, float, bool]:
        """The case, its move, the latency and the cached flag of cycle ``n``, a compact line
        (:data:`SHORT`) on ``lineno``."""
        ms = float(line.group(2)) if line.group(2) is not None else 0.0
        if not 0 <= ms < 1e12:
            raise TraceError("c record has an invalid 'ms'", self.path, lineno)
        case, move = self.get(int(line.group(1)), n, lineno)
        return case, move, ms, line.group(3) is not None
