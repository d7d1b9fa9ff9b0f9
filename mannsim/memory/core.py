"""Implementation of :mod:`mannsim.memory` (see its docstring for the exact semantics)."""
from __future__ import annotations

import re
from typing import Any

from ..errors import MannsimError
from ..limits import MAX_KEYS

#: Names are ASCII: ``[A-Za-z0-9_-]+`` (``re.ASCII``), so a digit is one of 0-9 and a name
#: that looks like a number is one (``²`` or ``٣`` are not name characters).
NAME = r"[\w-]+"
_A = re.ASCII
READ = re.compile(r"@\[(" + NAME + r")\]", _A)
WRITE = re.compile(r"%\[(" + NAME + r")\]", _A)
ASSIGN = re.compile(r"(?<![\w-])(" + NAME + r')="((?:[^\n]*\n)+?(?=")|[^"\n]*)"', _A)
UPDATE = re.compile(r"(?<![\w-])([\w-]*\w)([+-])=(\d{1,18})(?!\d)", _A)
_NAME_FULL = re.compile(NAME, _A)
#: A tape cell's key: a canonical ASCII decimal (no sign on 0, no leading zeros).
CELL_KEY = re.compile(r"-?[1-9][0-9]*|0", _A)
#: What an update accepts as a number (ASCII digits only; ``int()`` alone would take
#: ``" 5"``, ``"5_0"`` or ``"٥"``).
_INTEGER = re.compile(r"-?[0-9]{1,18}", _A)

#: Most read-substitution passes (nesting depth) before rendering is refused.
MAX_DEPTH = 8
#: Largest value (characters) a write may store or a render may produce.
MAX_VALUE = 1 << 20


class MemoryError_(MannsimError):
    """A memory operation refused: too deep, too large, or not an integer where one is needed."""


class Memory(dict[str, str]):
    """MEMORY: string keys to string values; a missing key reads as ``default`` (the blank)."""

    __slots__ = ("default",)

    def __init__(self, *args: Any, default: str = "0", **kwargs: str) -> None:
        super().__init__(*args, **kwargs)
        self.default = default

    def copy(self) -> Memory:
        return Memory(self, default=self.default)


def _passes(text: str, memory: Memory) -> str:
    """The paper's read substitution, pass by pass, until no marker remains (the exact path)."""
    get, default = memory.get, memory.default
    lookup = lambda m: get(m.group(1), default)  # noqa: E731
    for _ in range(MAX_DEPTH):
        if READ.search(text) is None:
            return text
        text = READ.sub(lookup, text)
        if len(text) > MAX_VALUE:
            raise MemoryError_(f"rendered text is longer than {MAX_VALUE} characters")
    if READ.search(text) is None:
        return text
    raise MemoryError_(f"read substitution nested deeper than {MAX_DEPTH}")


def render(text: str, memory: Memory) -> str:
    """Replace ``@[name]`` by memory values until none remain (bounded depth)."""
    return _passes(text, memory)


class Renderer:
    """Read substitution with a compiled fast path; results are identical to :func:`render`.

    Each distinct template (an ``op`` value) is compiled once into literal pieces, ``@[name]``
    references and ``@[@[name]]`` double references, when its literal text holds no other
    ``@``. A render then costs one lookup per reference and one join (the long constant boot
    is not re-scanned) as long as every value looked up is inert (holds no ``@``: every marker
    starts with one, so the paper's later passes could find nothing new) and every inner value
    of a double reference is a whole name. Otherwise it falls back to the exact passes.
    """

    _PIECE = re.compile(r"@\[@\[(" + NAME + r")\]\]|@\[(" + NAME + r")\]", _A)
    #: the kinds of a plan's pieces
    LITERAL, REF, DOUBLE_REF = 0, 1, 2

    def __init__(self, memory: Memory):
        self.memory = memory
        self._plans: dict[str, list[tuple[int, str]] | None] = {}
        self._inert: dict[int, tuple[str, bool]] = {}

    def _compile(self, text: str) -> list[tuple[int, str]] | None:
        plan, pos = [], 0
        for m in self._PIECE.finditer(text):
            lit = text[pos:m.start()]
            if "@" in lit:
                return None
            if lit:
                plan.append((self.LITERAL, lit))
            plan.append((self.DOUBLE_REF, m.group(1)) if m.group(1) else (self.REF, m.group(2)))
            pos = m.end()
        lit = text[pos:]
        if "@" in lit:
            return None
        if lit:
            plan.append((self.LITERAL, lit))
        return plan

    def _is_inert(self, value: str) -> bool:
        if len(value) < 256:
            return "@" not in value
        cached = self._inert.get(id(value))
        if cached is not None and cached[0] is value:
            return cached[1]
        if len(self._inert) > 256:
            self._inert.clear()
        inert = "@" not in value
        self._inert[id(value)] = (value, inert)
        return inert

    def __call__(self, text: str) -> str:
        if text in self._plans:
            plan = self._plans[text]
        else:
            plan = self._plans[text] = self._compile(text) if len(self._plans) < 4096 else None
        if plan is None:
            return _passes(text, self.memory)
        mem = self.memory
        get, default = mem.get, mem.default
        out = []
        literal, double_ref = self.LITERAL, self.DOUBLE_REF
        for kind, arg in plan:
            if kind == literal:
                out.append(arg)
                continue
            value = get(arg, default)
            if kind == double_ref:
                if not _NAME_FULL.fullmatch(value):
                    return _passes(text, mem)
                value = get(value, default)
            if not self._is_inert(value):
                return _passes(text, mem)
            out.append(value)
        result = "".join(out)
        if len(result) > MAX_VALUE:
            raise MemoryError_(f"rendered text is longer than {MAX_VALUE} characters")
        return result


def substitute(text: str, memory: Memory) -> str:
    """Replace each ``%[name]`` by its memory value, in one pass."""
    if "%[" not in text:
        return text
    get, default = memory.get, memory.default
    return WRITE.sub(lambda m: get(m.group(1), default), text)


def parse_assignments(text: str) -> list[tuple[str, str]]:
    """``label="value"`` pairs, left to right."""
    return ASSIGN.findall(text)


def parse_updates(text: str) -> list[tuple[str, int]]:
    """``label+=N`` / ``label-=N`` found outside the assignments, as (label, signed N)."""
    outside = ASSIGN.sub(" ", text) if '="' in text else text
    return [(label, int(n) if sign == "+" else -int(n)) for label, sign, n in UPDATE.findall(outside)]


def apply_answer(answer: str, memory: Memory) -> tuple[list[tuple[str, str]], list[tuple[str, int]]]:
    """The write half of a cycle: substitute, parse, and apply to ``memory``.

    Returns the assignments and updates applied. Raises :class:`MemoryError_` (and changes
    nothing) for an oversized value, too many keys, or an update of a non-integer value.
    """
    text = substitute(answer, memory)
    assigns = parse_assignments(text)
    updates = parse_updates(text)
    new_keys = 0
    for label, value in assigns:
        if len(value) > MAX_VALUE:
            raise MemoryError_(f"value for {label!r} is longer than {MAX_VALUE} characters")
        new_keys += label not in memory
    if len(memory) + new_keys > MAX_KEYS:
        raise MemoryError_(f"memory would hold more than {MAX_KEYS} keys")
    staged = {}
    for label, value in assigns:
        staged[label] = value
    for label, delta in updates:
        current = staged.get(label, memory.get(label, memory.default))
        if not _INTEGER.fullmatch(current):
            raise MemoryError_(f"update {label}{'+' if delta >= 0 else '-'}={abs(delta)} "
                               f"of a value that is not an integer: {current[:40]!r}")
        staged[label] = str(int(current) + delta)
    memory.update(staged)
    return assigns, updates
