"""A bi-tag system compiled from a Turing machine M (see :mod:`.fromtm`), its direct run, and
reading M's tape, head and state back from its words."""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from ..limits import DEFAULT_CHAIN_STEPS
from ..machine import Machine, Result
from .bitag import Bitag, BitagError
from .bitag import run as run_bitag
from .sweeper import HASH, RingSymbol


@dataclass(frozen=True)
class Compiled:
    """A bi-tag system that simulates a Turing machine, and how to read its words back."""

    system: Bitag
    machine: Machine
    ring_symbols: dict[str, RingSymbol]   # A symbol name -> ring symbol (item, mark)
    m_steps: dict[tuple[str, str], int]   # (E, A) -> steps of the Turing machine it performs
    implicit_halt: str | None = None      # the state of a halt written without an F mark
    mirrored: bool = False                # compiled with left and right swapped

    def run(self, max_steps: int = DEFAULT_CHAIN_STEPS) -> ChainRun:
        """Run the bi-tag system directly, counting the Turing machine's steps it performs."""
        count = 0

        def observe(front: str, a: str | None) -> None:
            nonlocal count
            if a is not None:
                count += self.m_steps.get((front, a), 0)

        r = run_bitag(self.system, max_steps, observe)
        return ChainRun(r.word, r.steps, count, r.halted)

    def decode(self, word: Iterable[str]) -> Decoded:
        return decode_word(self, word)


@dataclass(frozen=True)
class ChainRun:
    word: tuple[str, ...]
    steps: int       # bi-tag steps
    m_steps: int     # Turing machine steps simulated
    halted: bool


@dataclass(frozen=True)
class Decoded:
    cells: tuple[str, ...]   # the tape, leftmost ring cell first
    head: int | None         # index of the head cell in ``cells`` (None: not found)
    state: str | None        # the state M halted in

    @classmethod
    def of_result(cls, machine: Machine, result: Result) -> Decoded:
        """The same view of a reference run's result (a :class:`~mannsim.machine.Result`)."""
        span = list(result.cells) + [result.head]
        lo, hi = min(span), max(span)
        cells = tuple(result.cells.get(k, machine.blank) for k in range(lo, hi + 1))
        return cls(cells, result.head - lo, result.state)

    def trimmed(self, blank: str) -> tuple[str, int | None]:
        """The tape between the first and last non-blank cell (or the head), and the head's
        offset from that span's first cell: comparable with a reference run."""
        keep = [k for k, s in enumerate(self.cells) if s != blank]
        if self.head is not None:
            keep.append(self.head)
        if not keep:
            return "", None
        lo, hi = min(keep), max(keep)
        return "\x00".join(self.cells[lo:hi + 1]), (None if self.head is None else self.head - lo)


def decode_word(compiled: Compiled, word: Iterable[str]) -> Decoded:
    """Read the Turing machine's tape, head and state from a bi-tag word (any rotation)."""
    m = compiled.machine
    word = list(word)
    eh = compiled.system.halting
    halted = eh in word
    if halted:  # read the ring from eh on: its last item is the last one the sweeper wrote
        k = word.index(eh)
        word = word[k + 1:] + word[:k]
    ring = [compiled.ring_symbols[s] for s in word if s in compiled.ring_symbols]
    if not ring or sum(item == HASH for item, _ in ring) != 1:
        raise BitagError("the word does not hold exactly one '#' boundary: not a compiled tape")
    k = next(i for i, (item, _) in enumerate(ring) if item == HASH)
    last = len(ring) - 1 - (k + 1)   # the last item's index once the ring starts after '#'
    ring = ring[k + 1:] + ring[:k]
    cells: list[str] = []
    head: int | None = None
    state: str | None = None
    for item, mark in ring:
        assert isinstance(item, int)  # the ring's one '#' was left out just above
        if mark is not None and mark[0] == "F":
            head, state = len(cells), m.states[mark[1]]
        cells.append(m.symbols[item])
    if head is None and halted and compiled.implicit_halt is not None and last >= 0:
        # halted in the machine's one halting state, the head on the last item written
        head, state = last, compiled.implicit_halt
    if compiled.mirrored:
        cells.reverse()
        head = None if head is None else len(cells) - 1 - head
    return Decoded(tuple(cells), head, state)
