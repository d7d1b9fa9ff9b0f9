"""The busy-beaver community's standard text format: ``1RB1LB_1LA1RZ``.

Rows are states A, B, C, ... (A starts); each row has one 3-character cell per symbol 0, 1, ...:
the digit written, ``L`` or ``R``, the next state. ``---`` is an undefined transition (the machine
halts without a step); a next state past the last row (Z, H, ...) is a halting state, and the
transition into it counts as a step. Blank 0, blank tape, head at cell 0.
"""
from __future__ import annotations

import re

from ...errors import FormatError
from ..model import L, Machine, R, Transition

LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
_CELL = r"(?:[0-9][LR][A-Z]|---)"
PATTERN = re.compile(rf"{_CELL}+(?:_{_CELL}+)*")


def looks_like(text: str) -> bool:
    """True when ``text`` is a standard-format machine (used to accept one on the command line)."""
    return PATTERN.fullmatch(text.strip()) is not None


def parse(text: str, path: str | None = None) -> Machine:
    text = text.strip()
    if not PATTERN.fullmatch(text):
        raise FormatError(
            "not a standard-format machine: expected rows like '1RB1LB' joined by '_' "
            "(cells: digit, L/R, state letter; '---' for undefined)", path, 1)
    rows = text.split("_")
    widths = {len(r) for r in rows}
    if len(widths) != 1 or widths.pop() % 3:
        raise FormatError("every row must have the same number of 3-character cells", path, 1)
    k = len(rows[0]) // 3
    if len(rows) > 26:
        raise FormatError("at most 26 states (A-Z)", path, 1)
    symbols = [str(d) for d in range(k)]
    states = list(LETTERS[: len(rows)])
    halt_states: list[str] = []
    transitions = {}
    for qi, row in enumerate(rows):
        for si in range(k):
            cell = row[3 * si: 3 * si + 3]
            if cell == "---":
                continue
            write, move, nxt = cell[0], cell[1], cell[2]
            if int(write) >= k:
                raise FormatError(f"cell {cell!r} of row {LETTERS[qi]} writes symbol {write}, "
                                  f"but rows have {k} symbols", path, 1)
            if nxt not in states and nxt not in halt_states:
                halt_states.append(nxt)
            transitions[(states[qi], symbols[si])] = Transition(write, L if move == "L" else R, nxt)
    return Machine(states=states + halt_states, symbols=symbols, blank="0", start="A",
                   transitions=transitions, halt_states=halt_states, path=path)


def dump(machine: Machine) -> str:
    m = machine
    k = len(m.symbols)
    if sorted(m.symbols, key=lambda s: (len(s), s)) != [str(d) for d in range(k)] or k > 10:
        raise FormatError("the standard text format needs symbols 0..k-1 (at most 10)", m.path)
    if m.blank != "0":
        raise FormatError("the standard text format needs blank 0", m.path)
    if any(s != m.blank for s in m.tape) or m.head != 0:
        raise FormatError("the standard text format cannot carry an initial tape or head; use .tm",
                          m.path)
    if any(t.move == 0 for t in m.transitions.values()):
        raise FormatError("the standard text format has no stay move", m.path)
    rows = [m.start] + [q for q in m.states if q != m.start and q not in m.halt_states]
    halts = [q for q in m.states if q in m.halt_states]
    if len(rows) + len(halts) > 26:
        raise FormatError("too many states for the standard text format (26 letters)", m.path)
    name = {q: LETTERS[i] for i, q in enumerate(rows)}
    for q in halts:  # a halting state keeps its letter where it can (Z, H, ...)
        if len(q) == 1 and q in LETTERS and q not in name.values():
            name[q] = q
    spare = [c for c in reversed(LETTERS) if c not in name.values()]
    name.update({q: spare.pop(0) for q in halts if q not in name})
    out = []
    for q in rows:
        cells = []
        for d in range(k):
            t = m.transitions.get((q, str(d)))
            cells.append("---" if t is None else f"{t.write}{'L' if t.move < 0 else 'R'}{name[t.next]}")
        out.append("".join(cells))
    return "_".join(out)
