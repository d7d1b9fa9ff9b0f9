"""The clockwise machine that simulates a Turing machine M, one read at a time (the middle
step of :mod:`.fromtm`'s chain).

The ring holds a boundary ``#`` and then M's tape cells, left to right. The sweeper (the E
state) keeps the ring item it read last *pending*: not yet written back. That one-item delay is
what lets it act on the cell to the left of the head. M's head is either inside the sweeper's
window (pending item + the item just read), or recorded on the ring by a *mark* on an item:

- ``L`` mark on an item X: the head is on the cell just before X, in state q (when the item before
  X is ``#``, on a new blank cell between ``#`` and X: the tape grows to the left);
- ``N`` mark on ``#``: the head is on a new blank cell just before ``#`` (the tape grows right);
- ``F`` mark: M halted here, in state q (only in the final word).

Reading an item, the sweeper puts it in the window, turns a mark in the window into a head
position, then runs M inside the window as long as the head stays there (a right move off the
window's end leaves the head "on the next item", so runs of right moves cost one read each; a
left move off its start becomes an L mark; stepping onto ``#`` inserts a blank cell, at most one
per read). It writes back all but one window item (at most two: the bi-tag limit), which stays
pending. A left move off the window costs one turn of the ring, as in Neary & Woods' lemma.
When M halts, the window is written back with an F mark and the system reaches ``eh``. When M
provably loops inside the window, the sweeper enters a state that copies the ring for ever.
A machine with one halting state whose head ends on the last item written needs no F mark (see
:mod:`.fromtm`).
"""
from __future__ import annotations

from typing import TypeAlias

from ..machine import Machine

CAP = 3      # most items in the window: the pending item, the item read, one inserted cell
HASH = "#"

# Ring symbols are (item, mark): item is a symbol index (int) or HASH; mark is None or
# (kind, state index) with kind "L", "N" or "F". Sweeper states are ("S", pending, head) with
# head None or a state index ("the head is on the next item read"), ("Z", pending) (flush after a
# halt), "LOOP" and "HALT".
Item: TypeAlias = int | str                                  # a symbol index, or HASH
Mark: TypeAlias = tuple[str, int]                            # (kind, state index)
RingSymbol: TypeAlias = tuple[Item, Mark | None]
Scan: TypeAlias = tuple[str, RingSymbol | None, int | None]  # ("S", pending, head)
Flush: TypeAlias = tuple[str, RingSymbol]                    # ("Z", pending)
State: TypeAlias = Scan | Flush | str                        # or "LOOP", "HALT"
Written: TypeAlias = tuple[tuple[RingSymbol, ...], State]    # (written back, next state)


class Sweeper:
    def __init__(self, machine: Machine):
        self.sym = {s: k for k, s in enumerate(machine.symbols)}
        self.st = {q: k for k, q in enumerate(machine.states)}
        self.blank = self.sym[machine.blank]
        self.last_steps = 0
        self.table: dict[tuple[int, Item], tuple[int, int, int]] = {}
        for (q, s), t in machine.transitions.items():
            self.table[(self.st[q], self.sym[s])] = (self.sym[t.write], t.move, self.st[t.next])
        # a machine with one halting state needs no F mark where the head ends last written
        halts = sorted(machine.halt_states)
        self.implicit = self.st[halts[0]] if len(halts) == 1 else None

    @staticmethod
    def possible(state: State, ring_symbol: RingSymbol) -> bool:
        """Whether a run from a valid start can put ``state`` in front of ``ring_symbol``: the
        ring holds one '#' and one head (a mark, or the sweeper's), and F marks appear only when
        M halts. Impossible pairs get a placeholder production."""
        item, mark = ring_symbol
        if isinstance(state, str):  # "LOOP", "HALT"
            return True
        pending = state[1]
        if pending is None:  # the start of an empty tape: the ring is only '#'
            return ring_symbol == (HASH, None)
        if len(state) == 2:  # ("Z", pending), flushing after the halt: on a tiny ring it meets
            return not (item == HASH and pending[0] == HASH)  # its own F mark
        if mark is not None and mark[0] == "F":
            return False
        head_in_state = state[2] is not None or pending[1] is not None
        if head_in_state and mark is not None:
            return False
        return not (item == HASH and pending[0] == HASH)

    def read(self, state: State, ring_symbol: RingSymbol) -> Written:
        """(symbols written back, next state) for the sweeper in ``state`` reading one symbol.
        ``self.last_steps`` is then the number of M steps that reading performed."""
        self.last_steps = 0
        if isinstance(state, str):  # "LOOP", "HALT"
            return (ring_symbol,), "LOOP"
        if len(state) == 2:  # ("Z", pending)
            return (state[1], ring_symbol), "HALT"
        _, pending, head = state
        window = [ring_symbol] if pending is None else [pending, ring_symbol]
        pos: tuple[int, int] | None = None  # (index, M state) of the head inside the window
        # 1. the head: carried over ("next"), or a mark in the window
        if head is not None:
            item, mark = ring_symbol
            if mark is not None:
                return (ring_symbol,), "LOOP"   # two heads: cannot happen from a valid start
            r = len(window) - 1
            if item == HASH:  # the head is on a new blank cell before '#'
                window.insert(r, (self.blank, None))
            pos = (r, head)
        else:
            for k, (item, mark) in enumerate(window):
                if mark is None or mark[0] == "F":
                    continue
                kind, q = mark
                if kind == "L" and k >= 1:
                    window[k] = (item, None)
                    if window[k - 1][0] == HASH:
                        window.insert(k, (self.blank, None))
                        pos = (k, q)
                    else:
                        pos = (k - 1, q)
                elif kind == "N":
                    window[k] = (item, None)
                    window.insert(k, (self.blank, None))
                    pos = (k, q)
                break
        # 2. run M inside the window
        seen: set[tuple[tuple[RingSymbol, ...], tuple[int, int]]] = set()
        next_head: int | None = None
        while pos is not None:
            k, q = pos
            cell = window[k][0]
            rule = self.table.get((q, cell))
            if rule is None:
                window[k] = (cell, ("F", q))
                return self._write_back_halted(window)
            key = (tuple(window), pos)
            if key in seen:
                return tuple(window[:2]), "LOOP"
            seen.add(key)
            self.last_steps += 1
            write, move, q2 = rule
            window[k] = (write, None)
            j = k + move
            if j == len(window):
                next_head, pos = q2, None
            elif j < 0:
                window[0] = (window[0][0], ("L", q2))
                pos = None
            elif window[j][0] == HASH:
                if move > 0:
                    if len(window) < CAP:
                        window.insert(j, (self.blank, None))
                        pos = (j, q2)
                    else:
                        window[j] = (HASH, ("N", q2))
                        pos = None
                else:
                    if len(window) < CAP:
                        window.insert(j + 1, (self.blank, None))
                        pos = (j + 1, q2)
                    else:  # the head is on a new cell between '#' and window[j + 1]
                        window[j + 1] = (window[j + 1][0], ("L", q2))
                        pos = None
            else:
                pos = (j, q2)
        # 3. write back all but one item (at most two), keep the last pending
        out, keep = window[:-1], window[-1]
        assert 1 <= len(out) <= 2, window
        return tuple(out), ("S", keep, next_head)

    def _write_back_halted(self, window: list[RingSymbol]) -> Written:
        if len(window) <= 2:
            cell, mark = window[-1]
            if mark == ("F", self.implicit):  # never matches when there is no one halting state
                # the head is the last item written: the decoder finds it just before eh
                return tuple(window[:-1]) + ((cell, None),), "HALT"
            return tuple(window), "HALT"
        return tuple(window[:2]), ("Z", window[2])


def ring_name(a: RingSymbol) -> str:
    """The A symbol name of a ring symbol: ``#``, ``c3``, ``c3.L1``."""
    item, mark = a
    base = "#" if item == HASH else f"c{item}"
    if mark is None:
        return base
    kind, q = mark
    return f"{base}.{kind}{q}"


def state_name(e: State) -> str:
    """The E symbol name of a sweeper state: ``halt``, ``loop``, ``z.c1.F0``, ``s.-.n0``."""
    if isinstance(e, str):  # "HALT", "LOOP"
        return e.lower()
    if len(e) == 2:  # ("Z", pending)
        return f"z.{ring_name(e[1])}"
    _, pending, head = e
    base = "s.-" if pending is None else f"s.{ring_name(pending)}"
    return base + ("" if head is None else f".n{head}")
