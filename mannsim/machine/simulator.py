"""The reference simulator: a step-by-step stepper (for lockstep checking) and a fast run.

Both count a step for every transition performed, the one into a halting state included, and
none for finding no transition (see :mod:`mannsim.machine.model`).
"""
from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from ..errors import MachineError
from ..limits import DEFAULT_REFERENCE_STEPS, MAX_SIM_TAPE_ARRAY
from .model import Machine, Transition


@dataclass(frozen=True, slots=True)
class Config:
    """A machine configuration after ``step`` steps."""

    step: int
    state: str
    head: int
    tape: dict[int, str]  # non-blank cells only


@dataclass
class Result:
    """The outcome of a run: steps taken, whether it halted, final state, head and tape."""

    machine: Machine
    steps: int
    halted: bool
    state: str
    head: int
    cells: dict[int, str] = field(repr=False)
    interrupted: bool = False    # stopped by Ctrl-C (the configuration is the one reached)

    @property
    def span(self) -> tuple[int, int]:
        """(first, last) non-blank cell, or (head, head - 1) when the tape is blank."""
        if not self.cells:
            return self.head, self.head - 1
        return min(self.cells), max(self.cells)

    @property
    def tape(self) -> str:
        """The non-blank span of the tape as text (blanks inside the span included)."""
        lo, hi = self.span
        blank = self.machine.blank
        return self.machine.tape_text(self.cells.get(c, blank) for c in range(lo, hi + 1))

    @property
    def tape_start(self) -> int:
        return self.span[0]

    @property
    def nonblank(self) -> int:
        return len(self.cells)

    def as_dict(self) -> dict[str, object]:
        return {
            "steps": self.steps, "halted": self.halted,
            "reason": "halt" if self.halted else "max_steps", "final_state": self.state,
            "head": self.head, "tape": self.tape, "tape_start": self.tape_start,
            "nonblank": self.nonblank,
        }


class Stepper:
    """Runs a machine one transition at a time; the primitive for lockstep checking.

    ``step()`` performs one transition and returns it, or returns ``None`` (and sets
    ``halted``) when the machine has no transition for the current (state, symbol).
    """

    __slots__ = ("machine", "state", "head", "cells", "steps", "halted", "_table", "_blank")

    def __init__(self, machine: Machine):
        self.machine = machine
        self.state = machine.start
        self.head = machine.head
        self._blank = machine.blank
        self.cells = {i: s for i, s in enumerate(machine.tape) if s != machine.blank}
        self.steps = 0
        self._table = machine.transitions
        self.halted = False

    def read(self) -> str:
        return self.cells.get(self.head, self._blank)

    def step(self) -> Transition | None:
        t = self._table.get((self.state, self.cells.get(self.head, self._blank)))
        if t is None:
            self.halted = True
            return None
        if t.write == self._blank:
            self.cells.pop(self.head, None)
        else:
            self.cells[self.head] = t.write
        self.head += t.move
        self.state = t.next
        self.steps += 1
        return t

    def config(self) -> Config:
        return Config(self.steps, self.state, self.head, dict(self.cells))

    def result(self) -> Result:
        """The run so far; ``halted`` also when stopped in a halting configuration."""
        halted = self.halted or self._table.get((self.state, self.read())) is None
        return Result(self.machine, self.steps, halted, self.state, self.head, dict(self.cells))


def configurations(machine: Machine, max_steps: int | None = None) -> Iterator[Config]:
    """Yield the initial configuration and the one after each step, until halt or ``max_steps``."""
    stepper = Stepper(machine)
    yield stepper.config()
    while max_steps is None or stepper.steps < max_steps:
        if stepper.step() is None:
            return
        yield stepper.config()


def run_naive(machine: Machine, max_steps: int) -> Result:
    """A plain dict-based loop: the baseline the benchmarks compare :func:`run` against."""
    table = machine.transitions
    blank = machine.blank
    cells = {i: s for i, s in enumerate(machine.tape) if s != blank}
    state, head, steps = machine.start, machine.head, 0
    halted = False
    while steps < max_steps:
        t = table.get((state, cells.get(head, blank)))
        if t is None:
            halted = True
            break
        cells[head] = t.write
        head += t.move
        state = t.next
        steps += 1
    # stopped by the limit in a halting configuration (e.g. in state Z): that is a halt too
    halted = halted or table.get((state, cells.get(head, blank))) is None
    cells = {i: s for i, s in cells.items() if s != blank}
    return Result(machine, steps, halted, state, head, cells)


#: Loop iterations of the fast run between two progress calls (a call costs one clock read).
PROGRESS_EVERY = 1 << 16


def run(machine: Machine, max_steps: int = DEFAULT_REFERENCE_STEPS,
        progress: Callable[[int], object] | None = None) -> Result:
    """Run to halt or ``max_steps`` steps, fast.

    The tape is a ``bytearray`` of symbol indices (blank = 0), the table a flat list, and a
    transition that keeps the state and moves over a run of the symbol it reads (a *sweep*) is
    applied to the whole run at once with C-level searches. Results equal :func:`run_naive`.
    ``progress(steps)``, when given, is called every PROGRESS_EVERY iterations; when it returns
    true the run stops there (a consistent configuration, marked ``interrupted``).
    """
    symbols = (machine.blank,) + tuple(s for s in machine.symbols if s != machine.blank)
    if len(symbols) > 255:
        return run_naive(machine, max_steps)
    sym_index = {s: k for k, s in enumerate(symbols)}
    states = machine.states
    state_index = {s: k for k, s in enumerate(states)}
    k = len(symbols)
    table: list[tuple[int, int, int, bool] | None] = [None] * (len(states) * k)
    for (q, s), t in machine.transitions.items():
        qi, si, ni = state_index[q], sym_index[s], state_index[t.next]
        sweep = ni == qi and t.move != 0
        table[qi * k + si] = (sym_index[t.write], t.move, ni * k, sweep)
    others = [[bytes([y]) for y in range(k) if y != x] for x in range(k)]
    not_x = [re.compile(b"[^" + re.escape(bytes([x])) + b"]") for x in range(k)]
    fills = [bytes([x]) for x in range(k)]

    # the tape array covers cells [offset, offset + len(tape)); pos is the head's index in it
    init = bytes(sym_index[s] for s in machine.tape)
    pad = 1024
    lo_cell = min(0, machine.head) - pad
    hi_cell = max(len(init), machine.head + 1) + pad
    tape = bytearray(hi_cell - lo_cell)
    tape[-lo_cell:-lo_cell + len(init)] = init
    offset = lo_cell
    pos = machine.head - offset
    base = state_index[machine.start] * k
    steps = 0
    halted = False

    countdown = PROGRESS_EVERY if progress is not None else -1
    interrupted = False
    while steps < max_steps:
        x = tape[pos]
        entry = table[base + x]
        if entry is None:
            halted = True
            break
        countdown -= 1
        if countdown == 0:
            # asked to stop (Ctrl-C): the configuration is consistent
            if progress is not None and progress(steps):
                interrupted = True
                break
            countdown = PROGRESS_EVERY
        w, mv, base, sweep = entry
        if not sweep:
            tape[pos] = w
            pos += mv
            steps += 1
        else:
            budget = max_steps - steps
            if mv > 0:
                m = not_x[x].search(tape, pos)
                end = m.start() if m else len(tape)
                n = min(end - pos, budget)
                tape[pos:pos + n] = fills[w] * n
                pos += n
            else:
                n = _run_left(tape, pos, others[x], budget)
                tape[pos - n + 1:pos + 1] = fills[w] * n
                pos -= n
            steps += n
        if pos < 0 or pos >= len(tape):
            grow = len(tape)
            if grow * 2 > MAX_SIM_TAPE_ARRAY:
                raise MachineError(f"tape grew past {MAX_SIM_TAPE_ARRAY} cells", machine.path)
            if pos < 0:
                tape[0:0] = bytes(grow)
                pos += grow
                offset -= grow
            else:
                tape.extend(bytes(grow))

    state = states[base // k]
    halted = halted or table[base + tape[pos]] is None  # a halting configuration at the limit
    cells = {i + offset: symbols[v] for i, v in enumerate(tape) if v}
    return Result(machine, steps, halted, state, pos + offset, cells, interrupted)


def _run_left(tape: bytearray, pos: int, others: list[bytes], budget: int) -> int:
    """Length of the run of equal symbols ending at ``pos`` going left (at most ``budget``,
    stopping at the array's left edge)."""
    window = 64
    while True:
        lo = max(0, pos + 1 - window)
        found = max((tape.rfind(o, lo, pos + 1) for o in others), default=-1)
        if found >= 0:
            return min(pos - found, budget)
        if lo == 0 or pos + 1 - lo >= budget:
            return min(pos + 1 - lo, budget) if lo == 0 else budget
        window *= 4
