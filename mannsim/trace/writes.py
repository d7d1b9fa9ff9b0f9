"""MEMORY writes as every view shows them (``op=<B> [5]=1 i=6``): one representation for the
run report, ``trace show``, the viewer and the page."""
from __future__ import annotations

import json
import re
from typing import Any

from ..machine.model import Machine
from ..memory import CELL_KEY
from ..program.compiler import RECORD_CUT, Program
from ..program.recorded import recorded_program
from ..safe_text import one_line
from .header import Header
from .index import TraceIndex
from .records import JSON, Cycle

#: A value or symbol shown as it is: no space, quote, ``=``, ``<``, ``>``, bracket or backslash.
_BARE = re.compile(r"[^\s\"'=<>\[\]\\]+")
#: How a run records an instruction text longer than 80 characters (``computer``).
_SUMMARY = re.compile(r"<instruction (.+)>", re.DOTALL)
_INTEGER = re.compile(r"-?[0-9]{1,18}", re.ASCII)
#: Values at most this long are shown (quoted when needed); longer ones by their length.
_SHORT = 24
#: What a record keeps of a long value that is no instruction: its first characters and an
#: ellipsis (``Program.writes_record``).
_CUT = RECORD_CUT


class MemoryNames:
    """How a run's MEMORY values read back in a view: an instruction text (or the
    ``<instruction KEY>`` a trace records for a long one) as its state, a cell's code as its
    symbol, the dialect's boot as ``<boot>``. ``known`` False (a dialect this mannsim does not
    ship, or one changed since): register keys and symbol codes still read back, and the op of a
    checked cycle is the reference machine's next state."""

    def __init__(self, program: Program, known: bool = True) -> None:
        self.state_of_key: dict[str, str] = dict(program.state_of_key)
        self.symbol_of: dict[str, str] = dict(program.symbol_of)
        self.state_of_text: dict[str, str] = dict(program.state_of_text) if known else {}
        self.boot: str | None = program.dialect.boot if known else None
        self.known = known

    def state(self, value: str) -> str | None:
        """The state whose instruction ``value`` is (the text or its recorded summary)."""
        q = self.state_of_text.get(value)
        if q is None:
            m = _SUMMARY.fullmatch(value)
            q = self.state_of_key.get(m.group(1)) if m else None
        return q

    def is_boot(self, value: str) -> bool:
        b = self.boot
        return b is not None and (value == b or (len(value) == _CUT + 1 and value.endswith("…")
                                                 and b.startswith(value[:-1])))

    def value(self, label: str, value: str, next_state: str | None = None) -> str:
        """``value`` written at ``label``, as every view shows it (``next_state``: the reference
        machine's next state on a checked cycle, what its op holds)."""
        if label == "op" and next_state is not None:
            return f"<{one_line(next_state, 60)}>"
        q = self.state(value)
        if q is not None:
            return f"<{one_line(q, 60)}>"
        if label == "op" and value == "halt":
            return "halt"
        if self.is_boot(value):
            return "<boot>"
        if label == "halted" and value in self.state_of_key:
            return f"<{one_line(self.state_of_key[value], 60)}>"
        if CELL_KEY.fullmatch(label):
            sym = self.symbol_of.get(value)
            return symbol_text(sym) if sym is not None else _not("a symbol", value)
        if label == "op" and self.known:
            return _not("an instruction", value)
        return _text(value)


def _not(what: str, value: str) -> str:
    shown = _text(value)
    return f"<not {what}: {shown[1:-1] if shown.startswith('<') else shown}>"


def symbol_text(sym: object) -> str:
    """A tape symbol as views show it: bare, or quoted when it holds a space, quote, ``=``…"""
    if sym is None:
        return "-"
    sym = str(sym)
    if _BARE.fullmatch(sym) and sym.isprintable():
        return one_line(sym, 40)
    return one_line(json.dumps(sym, ensure_ascii=False), 40)


def _text(value: str) -> str:
    """A written value that is no instruction, boot or symbol: short ones quoted when needed,
    long ones by their length (never the text itself)."""
    if len(value) == _CUT + 1 and value.endswith("…"):  # what a trace keeps of a long one
        return f"<text of over {_CUT} characters>"
    if len(value) > _SHORT or "\n" in value:
        return f"<text of {len(value):,} characters>"
    return one_line(json.dumps(value, ensure_ascii=False), 40)


def _label(label: str) -> str:
    return f"[{label}]" if CELL_KEY.fullmatch(label) else symbol_text(label)


def writes_text(writes: Any, updates: Any, head: int, names: MemoryNames,
                next_state: str | None = None) -> str:
    """A cycle's MEMORY writes as every view shows them: ``op=<B>`` (op now holds state B's
    instruction; ``op=halt``), ``[5]=1`` (tape cell 5 now holds symbol 1), any other key
    written, and last ``i=6``, the head after the cycle's writes and updates (absent when the
    cycle left it alone); ``(none)`` when nothing was written. ``head`` is the head before the
    cycle, ``next_state`` the reference machine's next state on a checked cycle."""
    items: list[str] = []
    i_value: str | None = None
    for pair in writes if isinstance(writes, (list, tuple)) else ():
        if not (isinstance(pair, (list, tuple)) and len(pair) == 2
                and isinstance(pair[0], str) and isinstance(pair[1], str)):
            items.append("<malformed write>")
            continue
        label, value = pair
        if label == "i":
            i_value = value  # later writes win, then the updates apply (memory's order)
            continue
        items.append(f"{_label(label)}={names.value(label, value, next_state)}")
    moved, delta = False, 0
    for pair in updates if isinstance(updates, (list, tuple)) else ():
        if not (isinstance(pair, (list, tuple)) and len(pair) == 2 and isinstance(pair[0], str)
                and isinstance(pair[1], int) and not isinstance(pair[1], bool)):
            items.append("<malformed update>")
            continue
        label, d = pair
        if label == "i":
            moved, delta = True, delta + d
        else:
            items.append(f"{_label(label)}{'+' if d >= 0 else '-'}={abs(d)}")
    if moved:
        base = str(head) if i_value is None else i_value
        items.append(f"i={int(base) + delta}" if _INTEGER.fullmatch(base) else
                     f"i=<not an integer: {_text(base)}>")
    elif i_value is not None:
        items.append("i=" + (i_value if CELL_KEY.fullmatch(i_value) else
                             one_line(json.dumps(i_value, ensure_ascii=False), 40)))
    return " ".join(items) or "(none)"


_NAMES: dict[tuple[object, ...], MemoryNames] = {}


def memory_names(header: Header, machine: Machine) -> MemoryNames:
    """The :class:`MemoryNames` of a trace (its header and the machine it records): register
    keys by the header's key policy, instruction texts by the shipped dialect it names."""
    d = header.dialect
    key = (header.program.get("sha256"), header.version, header.keys, d.get("name"),
           d.get("sha256"))
    hit = _NAMES.get(key)
    if hit is None:
        program, known = recorded_program(machine, header.keys, d.get("name"), d.get("sha256"))
        if len(_NAMES) >= 8:
            _NAMES.clear()
        hit = _NAMES[key] = MemoryNames(program, known=known)
    return hit


def cycle_writes(ix: TraceIndex, rec: Cycle) -> str:
    """:func:`writes_text` of a cycle record of ``ix``."""
    machine = ix.machine()
    t = machine.transition(rec.state, rec.read) if rec.ok else None
    return writes_text(rec.writes, rec.updates, rec.head, memory_names(ix.header, machine),
                       None if t is None else t.next)


def divergence_writes(d: JSON, names: MemoryNames) -> str:
    """:func:`writes_text` of a divergence record's parsed answer (``(none)`` when the answer
    was not applied); the head it moved from is the actual head less the updates of ``i``."""
    parsed = d.get("parsed")
    parsed = parsed if isinstance(parsed, dict) else {}
    updates = parsed.get("updates")
    moves = [u[1] for u in updates if isinstance(u, (list, tuple)) and len(u) == 2
             and u[0] == "i" and isinstance(u[1], int)] if isinstance(updates, list) else []
    actual = d.get("actual")
    after = (actual if isinstance(actual, dict) else {}).get("head")
    head = after - sum(moves) if isinstance(after, int) and not isinstance(after, bool) else 0
    return writes_text(parsed.get("writes"), updates, head, names)


def divergence_lines(d: JSON) -> list[str]:
    """The expected and the actual configuration of a divergence record, one line each (the
    actual state is the one op's text is the instruction of; ``-`` when it is none)."""
    lines = []
    for who in ("expected", "actual"):
        side = d.get(who)
        side = side if isinstance(side, dict) else {}
        state, head = side.get("state"), side.get("head")
        lines.append(f"{who:<9} state {'-' if state is None else one_line(state, 60)}  "
                     f"head {'-' if head is None else one_line(head, 30)}  "
                     f"written {symbol_text(side.get('written'))}")
    return lines
