"""The reference machine run forward fast, in blocks of cells: what a machine does from a
(state, head offset, block content) until its head leaves the block is computed once and
reused. Views replay a trace's cycles and check its snapshots with it; it equals
:class:`~mannsim.machine.simulator.Stepper` step for step."""
from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import Any

from ..errors import MachineError
from ..limits import MAX_TAPE_SPAN
from .model import Machine

#: A tape of symbol numbers: a bytearray for at most 256 symbols, else a list.
Cells = Any


class BlockTape:
    """A configuration in the replay's form: the state's row of the flat table (``base``), the
    tape as symbol numbers (the blank is 0) in an array covering the cells from ``offset`` on,
    and the head's index ``pos`` in it."""

    __slots__ = ("base", "pos", "offset", "tape")

    def __init__(self, base: int, pos: int, offset: int, tape: Cells):
        self.base, self.pos, self.offset, self.tape = base, pos, offset, tape

    def copy(self) -> BlockTape:
        return BlockTape(self.base, self.pos, self.offset, self.tape[:])


class BlockRun:
    """The reference machine run forward from any configuration, as :class:`Stepper` runs it
    (a step per transition; none, and the halt, where there is no transition), fast: the tape
    is cut into blocks of :data:`BLOCK` cells, and what the machine does from a (state, head
    offset, block content) until the head leaves the block (at most :data:`WITHIN` steps) is
    computed once and reused. U15,2 replays about 8 times faster than one step at a time; any
    run of steps equals the stepper's (``tests/test_trace_bounds.py``)."""

    BLOCK = 32
    WITHIN = 2048
    #: block outcomes kept (the cache is emptied when full)
    MACROS = 1 << 16

    def __init__(self, machine: Machine,
                 past_span: Callable[[int], Exception] | None = None) -> None:
        #: what a run past the tape span cap raises (the caller names it in its own terms)
        self.past_span = past_span or (lambda cell: MachineError(
            f"the head reaches cell {cell:,}, past the tape span cap of {MAX_TAPE_SPAN:,}"))
        blank = machine.blank
        self.symbols = (blank,) + tuple(s for s in machine.symbols if s != blank)
        self.number = {s: i for i, s in enumerate(self.symbols)}
        self.states = machine.states
        self.state_number = {q: i for i, q in enumerate(self.states)}
        self.k = k = len(self.symbols)
        table: list[tuple[int, int, int] | None] = [None] * (len(self.states) * k)
        for (q, sym), t in machine.transitions.items():
            table[self.state_number[q] * k + self.number[sym]] = (
                self.number[t.write], t.move, self.state_number[t.next] * k)
        self.table = table
        self.narrow = k <= 256  # a bytearray tape; otherwise a list
        self.macros: dict[tuple[Any, ...], tuple[Any, ...]] = {}

    def _array(self, n: int) -> Cells:
        return bytearray(n) if self.narrow else [0] * n

    def config(self, state: str, head: int, cells: dict[int, str]) -> BlockTape | None:
        """(state, head, cells) as a configuration; None when a name is not the machine's or a
        cell lies past the tape span cap (no run gets there)."""
        q = self.state_number.get(state)
        if q is None:
            return None
        lo = min(min(cells, default=head), head)
        hi = max(max(cells, default=head), head)
        if lo < -MAX_TAPE_SPAN - 1 or hi > MAX_TAPE_SPAN + 1:
            return None
        pad = 4 * self.BLOCK
        offset = lo - pad
        tape = self._array(hi - lo + 1 + 2 * pad)
        for c, sym in cells.items():
            v = self.number.get(sym)
            if v is None:
                return None
            tape[c - offset] = v
        return BlockTape(q * self.k, head - offset, offset, tape)

    def from_snapshot(self, snap: dict[str, Any]) -> BlockTape | None:
        start = snap["tape_start"]
        return self.config(snap["state"], snap["head"],
                           {start + i: sym for i, sym in enumerate(snap["tape"])})

    def state(self, cfg: BlockTape) -> str:
        return self.states[cfg.base // self.k]

    def head(self, cfg: BlockTape) -> int:
        return cfg.pos + cfg.offset

    def cells(self, cfg: BlockTape) -> dict[int, str]:
        """The non-blank cells."""
        syms, off = self.symbols, cfg.offset
        return {i + off: syms[v] for i, v in enumerate(cfg.tape) if v}

    def digest(self, cfg: BlockTape) -> bytes:
        """A digest of :meth:`key` (what a checked snapshot is compared with)."""
        base, head, first, span = self.key(cfg)
        h = hashlib.sha256(repr((base, head, first)).encode())
        h.update(span if isinstance(span, bytes) else repr(span).encode())
        return h.digest()

    def key(self, cfg: BlockTape) -> tuple[Any, ...]:
        """What two equal configurations share (state, head, the non-blank span and where)."""
        t = cfg.tape
        span: bytes | tuple[int, ...]
        if self.narrow:
            first = len(t) - len(t.lstrip(b"\0"))
            span = bytes(t.strip(b"\0"))
        else:
            nz = [i for i, v in enumerate(t) if v]
            first = nz[0] if nz else len(t)
            span = tuple(t[first:nz[-1] + 1]) if nz else ()
        return cfg.base, cfg.pos + cfg.offset, (first + cfg.offset) if span else None, span

    #: How far past the tape span cap the array may reach (a run stops at the cap: its head
    #: is checked before every step, so a replay never needs cells much past it).
    SLACK = 1 << 12

    def _grow(self, cfg: BlockTape) -> None:
        tape, B = cfg.tape, self.BLOCK
        add = max(len(tape), 1024) // B * B
        if cfg.pos < 3 * B:
            room = (cfg.offset + MAX_TAPE_SPAN + self.SLACK) // B * B
            if room < B:
                raise self.past_span(cfg.pos + cfg.offset)
            add = min(add, room)
            tape[0:0] = self._array(add)
            cfg.pos += add
            cfg.offset -= add
        if cfg.pos + 3 * B >= len(tape):
            room = MAX_TAPE_SPAN + self.SLACK - (cfg.offset + len(tape))
            if room < B:
                raise self.past_span(cfg.pos + cfg.offset)
            tape.extend(self._array(min(add, room)))

    def _within(self, base: int, p: int, block: Cells) -> tuple[Any, ...]:
        """What the machine does from ``base`` with the head on cell ``p`` of ``block``: (the
        block after, the head's cell after (-1 or BLOCK when it left), base after, steps,
        halted)."""
        t = bytearray(block) if self.narrow else list(block)
        table, B, steps = self.table, self.BLOCK, 0
        while 0 <= p < B and steps < self.WITHIN:
            e = table[base + t[p]]
            if e is None:
                return (bytes(t) if self.narrow else tuple(t)), p, base, steps, True
            t[p] = e[0]
            p += e[1]
            base = e[2]
            steps += 1
        return (bytes(t) if self.narrow else tuple(t)), p, base, steps, False

    def advance(self, cfg: BlockTape, n: int) -> int:
        """Run ``cfg`` forward ``n`` steps, or to the halt; returns the steps taken."""
        B, macros, narrow = self.BLOCK, self.macros, self.narrow
        done = 0
        while done < n:
            if cfg.pos < 3 * B or cfg.pos + 3 * B >= len(cfg.tape):
                self._grow(cfg)
            tape, pos, base = cfg.tape, cfg.pos, cfg.base
            b0 = pos - (pos + cfg.offset) % B  # blocks aligned on cells, whatever the array
            block = bytes(tape[b0:b0 + B]) if narrow else tuple(tape[b0:b0 + B])
            key = (base, pos - b0, block)
            out = macros.get(key)
            if out is None:
                out = self._within(base, pos - b0, block)
                if len(macros) >= self.MACROS:
                    macros.clear()
                macros[key] = out
            after, p, nbase, steps, halted = out
            if steps > n - done:
                # the block's outcome would go past n: the rest one by one, all inside the
                # block (it is left on its last step)
                done += self._steps(cfg, n - done)
                return done
            tape[b0:b0 + B] = after
            cfg.pos, cfg.base = b0 + p, nbase
            done += steps
            if halted:
                break
            if steps < 8:  # the head crosses a border to and fro: a few steps one by one
                taken = self._steps(cfg, min(B, n - done))
                done += taken
                if taken < B and done < n:
                    break  # halted
        return done

    def _steps(self, cfg: BlockTape, n: int) -> int:
        """At most ``n`` single steps, to the halt; the steps taken (the caller knows they stay
        on the array: inside a block, or at most BLOCK from a head 3 * BLOCK from its ends)."""
        table, tape, pos, base = self.table, cfg.tape, cfg.pos, cfg.base
        done = 0
        while done < n:
            e = table[base + tape[pos]]
            if e is None:
                break
            tape[pos] = e[0]
            pos += e[1]
            base = e[2]
            done += 1
        cfg.pos, cfg.base = pos, base
        return done
