"""The Turing machine: an immutable, validated transition table with its initial tape.

Halting has two forms, as in every format mannsim reads: a *halting state* (one that has no
transitions, e.g. ``Z`` in ``1RB1LB_1LA1RZ`` or Morphett's ``halt-accept``) and an *undefined
transition* (``---``, e.g. U15,2's (J, 1)). A transition into a halting state is a step; finding
no transition is not. That gives the busy-beaver community's counts (BB(2) = 6 with ``1RZ``)
and U15,2's 39,065 steps for its test vector.
"""
from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

from ..errors import MachineError
from ..limits import MAX_NAME, MAX_STATES, MAX_SYMBOLS, MAX_TABLE, MAX_TAPE_CELLS, MAX_TAPE_SPAN

L, S, R = -1, 0, 1
MOVE_NAMES = {L: "L", S: "S", R: "R"}


@dataclass(frozen=True, slots=True)
class Transition:
    """What a machine does in one (state, symbol) cell: write, move (-1, 0, +1), next state."""

    write: str
    move: int
    next: str


def has_control(text: str) -> bool:
    """True when ``text`` holds a control character (C0, DEL, C1) or a lone surrogate."""
    return any(ord(c) < 32 or 127 <= ord(c) < 160 or 0xD800 <= ord(c) < 0xE000 for c in text)


def check_size(states: int, symbols: int, path: str | None = None, line: int | None = None) -> None:
    """Refuse a table larger than the limits before anything is built from it."""
    if states > MAX_STATES or symbols > MAX_SYMBOLS or states * symbols > MAX_TABLE:
        raise MachineError(f"the machine is too large: {states:,} states x {symbols:,} symbols "
                           f"(limits: {MAX_STATES:,} states, {MAX_SYMBOLS:,} symbols, "
                           f"{MAX_TABLE:,} table cells)", path, line)


def check_head(head: int, path: str | None = None, line: int | None = None) -> None:
    if abs(head) > MAX_TAPE_SPAN:
        raise MachineError(f"head {head if abs(head) < 10**30 else '(a huge number)'} is past the "
                           f"tape span cap of {MAX_TAPE_SPAN:,} cells from cell 0", path, line)


def check_tape_length(cells: int, path: str | None = None, line: int | None = None) -> None:
    if cells > MAX_TAPE_CELLS:
        raise MachineError(f"the initial tape has {cells:,} cells; at most {MAX_TAPE_CELLS:,}",
                           path, line)


def parse_head(text: str, path: str | None = None, line: int | None = None) -> int:
    """An initial head position from text: a short ASCII integer within the span cap."""
    text = text.strip()
    if not (0 < len(text) <= 12) or not text.lstrip("+-").isascii() or \
            not text.lstrip("+-").isdigit() or text.count("-") + text.count("+") > 1:
        raise MachineError(f"the head must be an integer, got {text[:40]!r}", path, line)
    head = int(text)
    check_head(head, path, line)
    return head


class Machine:
    """An immutable deterministic Turing machine with a two-way infinite tape.

    ``tape`` is the initial content from cell 0 rightwards (a tuple of symbols); ``head`` is the
    start cell (it may lie outside the written part). ``locations`` maps (state, symbol) to the
    source line of its rule, so validation errors can name the line.
    """

    __slots__ = (
        "name", "states", "symbols", "blank", "start", "transitions", "halt_states", "tape",
        "head", "path", "_hash", "_frozen",
    )

    def __init__(
        self,
        *,
        states: Iterable[str],
        symbols: Iterable[str],
        blank: str,
        start: str,
        transitions: Mapping[tuple[str, str], Transition],
        halt_states: Iterable[str] = (),
        tape: Iterable[str] = (),
        head: int = 0,
        name: str | None = None,
        path: str | None = None,
        locations: Mapping[tuple[str, str], int] | None = None,
    ):
        self.path = path
        self.name = name
        self.states = tuple(states)
        self.symbols = tuple(symbols)
        self.blank = blank
        self.start = start
        self.halt_states = frozenset(halt_states)
        self.tape = tuple(tape)
        self.head = head
        self.transitions = MappingProxyType(dict(transitions))
        self._hash: int | None = None
        self._validate(locations or {})
        self._frozen = True

    # -- validation ---------------------------------------------------------------------
    def _fail(self, message: str, line: int | None = None) -> None:
        raise MachineError(message, self.path, line)

    def _validate(self, locations: Mapping[tuple[str, str], int]) -> None:
        self._validate_names()
        self._validate_start()
        self._validate_transitions(locations)
        self._validate_tape()

    def _validate_names(self) -> None:
        if not self.states:
            self._fail("the machine has no states")
        check_size(len(self.states), len(self.symbols), self.path)
        if self.name is not None and (not isinstance(self.name, str) or len(self.name) > MAX_NAME
                                      or has_control(self.name)):
            self._fail(f"invalid machine name: at most {MAX_NAME} characters, no control "
                       "characters")
        if len(set(self.states)) != len(self.states):
            self._fail("a state is listed twice")
        if len(set(self.symbols)) != len(self.symbols):
            self._fail("a symbol is listed twice")
        for name in self.states + self.symbols:
            if not isinstance(name, str) or not name or any(c.isspace() for c in name):
                self._fail(f"invalid name {name[:40]!r}: names are non-empty and have no spaces")
            if len(name) > MAX_NAME or has_control(name):
                self._fail(f"invalid name {name[:40]!r}: at most {MAX_NAME} characters, no "
                           "control characters")
        if self.blank not in self.symbols:
            self._fail(f"the blank symbol {self.blank!r} is not among the symbols")

    def _validate_start(self) -> None:
        if self.start not in self.states:
            self._fail(f"the start state {self.start!r} is not a state of the machine")
        unknown = self.halt_states - set(self.states)
        if unknown:
            self._fail(f"halting state {sorted(unknown)[0]!r} is not a state of the machine")
        if not isinstance(self.head, int) or isinstance(self.head, bool):
            self._fail("the head position must be an integer")
        check_head(self.head, self.path)

    def _validate_transitions(self, locations: Mapping[tuple[str, str], int]) -> None:
        states, symbols = set(self.states), set(self.symbols)
        for (state, symbol), t in self.transitions.items():
            line = locations.get((state, symbol))
            if state not in states:
                self._fail(f"rule for unknown state {state!r}", line)
            if symbol not in symbols:
                self._fail(f"rule reads unknown symbol {symbol!r}", line)
            if state in self.halt_states:
                self._fail(f"halting state {state!r} has a rule", line)
            if not isinstance(t, Transition):
                self._fail(f"rule for ({state}, {symbol}) is not a Transition", line)
            if t.write not in symbols:
                self._fail(f"rule writes unknown symbol {t.write!r}", line)
            if t.move not in MOVE_NAMES:
                self._fail(f"rule has invalid move {t.move!r}", line)
            if t.next not in states:
                self._fail(f"rule goes to unknown state {t.next!r}", line)

    def _validate_tape(self) -> None:
        check_tape_length(len(self.tape), self.path)
        symbols = set(self.symbols)
        for cell, symbol in enumerate(self.tape):
            if symbol not in symbols:
                self._fail(f"initial tape cell {cell} holds unknown symbol {symbol!r}")

    # -- queries -------------------------------------------------------------------------
    def transition(self, state: str, symbol: str) -> Transition | None:
        return self.transitions.get((state, symbol))

    def rules(self) -> Iterator[tuple[str, str, Transition]]:
        """Every (state, symbol, transition) of the table in the order writers list it: the
        machine's state order, then its symbol order within a state."""
        for q in self.states:
            for s in self.symbols:
                t = self.transitions.get((q, s))
                if t is not None:
                    yield q, s, t

    @property
    def word_symbols(self) -> bool:
        """True when some symbol is longer than one character (tapes are then space-separated)."""
        return any(len(s) != 1 for s in self.symbols)

    def tape_text(self, cells: Iterable[str]) -> str:
        """Render a run of cells as text: characters joined, or words joined by spaces."""
        return (" " if self.word_symbols else "").join(cells)

    def span_text(self, cells: Mapping[int, str]) -> tuple[str, int | None]:
        """(the non-blank span of ``cells`` as text, its first cell), or ("", None) if blank."""
        if not cells:
            return "", None
        lo, hi = min(cells), max(cells)
        return self.tape_text(cells.get(c, self.blank) for c in range(lo, hi + 1)), lo

    def _key(self) -> tuple[object, ...]:
        """What makes two machines equal: the same table, names and tape (order of listing aside)."""
        return (
            tuple(sorted(self.states)), tuple(sorted(self.symbols)), self.blank, self.start,
            tuple(sorted(self.halt_states)),
            tuple(sorted((k, (t.write, t.move, t.next)) for k, t in self.transitions.items())),
            self.tape, self.head,
        )

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Machine) and self._key() == other._key()

    def __hash__(self) -> int:
        if self._hash is None:
            self._hash = hash(self._key())
        return self._hash

    def __setattr__(self, key: str, value: object) -> None:
        if key != "_hash" and getattr(self, "_frozen", False):
            raise AttributeError("Machine is immutable")
        object.__setattr__(self, key, value)

    def __repr__(self) -> str:
        return (f"Machine(name={self.name!r}, states={len(self.states)}, "
                f"symbols={self.symbols!r}, start={self.start!r})")

    # -- derived machines ----------------------------------------------------------------
    def replace(self, **changes: Any) -> Machine:
        """A copy with some fields changed (validated again)."""
        fields: dict[str, Any] = dict(
            states=self.states, symbols=self.symbols, blank=self.blank, start=self.start,
            transitions=self.transitions, halt_states=self.halt_states, tape=self.tape,
            head=self.head, name=self.name, path=self.path,
        )
        fields.update(changes)
        return Machine(**fields)

    def rename_symbols(self, mapping: Mapping[str, str]) -> Machine:
        """A copy with symbols renamed (symbols absent from ``mapping`` keep their names)."""
        def m(s: str) -> str:
            return mapping.get(s, s)

        return self.replace(
            symbols=[m(s) for s in self.symbols], blank=m(self.blank), tape=[m(s) for s in self.tape],
            transitions={(q, m(s)): Transition(m(t.write), t.move, t.next)
                         for (q, s), t in self.transitions.items()},
        )

    def rename_states(self, mapping: Mapping[str, str]) -> Machine:
        def m(s: str) -> str:
            return mapping.get(s, s)

        return self.replace(
            states=[m(s) for s in self.states], start=m(self.start),
            halt_states=[m(s) for s in self.halt_states],
            transitions={(m(q), s): Transition(t.write, t.move, m(t.next))
                         for (q, s), t in self.transitions.items()},
        )


def with_input(machine: Machine, tape: str | None = None, head: str | int | None = None,
               state: str | None = None) -> Machine:
    """``machine`` with its input replaced: ``tape`` as text (characters, or words separated by
    spaces when a symbol is longer than one character; ``_``-free machines may use spaces for
    blanks only in word form), ``head`` a cell, ``state`` the start state."""
    changes: dict[str, object] = {}
    if tape is not None:
        check_tape_length(len(tape))
        cells = tape.split() if machine.word_symbols else [c for c in tape if not c.isspace()]
        unknown = [c for c in cells if c not in machine.symbols]
        if unknown:
            raise MachineError(f"--tape: {unknown[0][:20]!r} is not a symbol of the machine "
                               f"(symbols: {' '.join(machine.symbols)[:200]})")
        changes["tape"] = cells
    if head is not None:
        changes["head"] = head if isinstance(head, int) else parse_head(str(head))
    if state is not None:
        if state not in machine.states:
            raise MachineError(f"--state: {state[:40]!r} is not a state of the machine (states: "
                               f"{' '.join(machine.states)[:200]})")
        changes["start"] = state
    return machine.replace(**changes) if changes else machine
