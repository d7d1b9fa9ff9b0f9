"""Bi-tag systems (Neary & Woods 2009), their file format and a direct interpreter.

A bi-tag system has symbols A = {a1..aq}, E = {e1..eh} (eh halts). A word holds exactly one E
symbol. A step: a word starting with eh halts; one starting with ai deletes it and appends ai;
one starting with ej ai deletes both and appends P(ej, ai), which is ``ak em`` or ``ak al em``.

File format (``.bitag``)::

    ; comments start with ';'
    A: a1 a2            ; the A symbols, in order (a1 is index 1)
    E: e1 e2            ; the E symbols, in order; the last one halts
    word: e1 a1 a1      ; the initial word
    e1 a1 -> a1 e2      ; one production per (non-halting E, A) pair
    e1 a2 -> a2 e2
"""
from __future__ import annotations

from collections import deque
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TypeAlias

from ..errors import MannsimError, read_bounded
from ..limits import DEFAULT_BITAG_STEPS, MAX_BITAG_SYMBOLS, MAX_BITAG_WORD, MAX_FILE_BYTES

#: (ej, ai) -> the symbols it appends (A..., E).
Productions: TypeAlias = dict[tuple[str, str], tuple[str, ...]]
#: Called for every step: ``observe(e, a)`` for an active step, ``observe(a, None)`` for a
#: passive one.
Observer: TypeAlias = Callable[[str, str | None], None]


class BitagError(MannsimError):
    """An invalid bi-tag system or file."""


@dataclass(frozen=True)
class Bitag:
    a: tuple[str, ...]
    e: tuple[str, ...]
    productions: Productions
    word: tuple[str, ...]
    path: str | None = None

    @property
    def halting(self) -> str:
        return self.e[-1]

    def validate(self) -> Bitag:
        names = self.a + self.e
        if not self.a or not self.e:
            raise BitagError("a bi-tag system needs at least one A and one E symbol", self.path)
        if len(set(names)) != len(names):
            raise BitagError("a symbol is listed twice", self.path)
        check_word(self, self.word, "the initial word")
        for ej in self.e[:-1]:
            for ai in self.a:
                rhs = self.productions.get((ej, ai))
                if rhs is None:
                    raise BitagError(f"no production for {ej} {ai}", self.path)
                if len(rhs) not in (2, 3) or rhs[-1] not in self.e or any(s not in self.a for s in rhs[:-1]):
                    raise BitagError(f"production {ej} {ai} -> {' '.join(rhs)} must be 'ak em' or "
                                     "'ak al em'", self.path)
        for (ej, _ai) in self.productions:
            if ej == self.halting:
                raise BitagError(f"the halting symbol {ej} has a production", self.path)
        return self


def check_word(system: Bitag, word: Iterable[str], what: str = "a word") -> None:
    unknown = [s for s in word if s not in system.a and s not in system.e]
    if unknown:
        raise BitagError(f"{what} has unknown symbol {unknown[0]!r}", system.path)
    if sum(s in system.e for s in word) != 1:
        raise BitagError(f"{what} must hold exactly one E symbol", system.path)


def parse(text: str, path: str | None = None) -> Bitag:
    fields: dict[str, tuple[list[str], int]] = {}
    productions: Productions = {}
    lines: dict[tuple[str, str], int] = {}
    for lineno, raw in enumerate(text.splitlines(), 1):
        line = raw.split(";", 1)[0].strip()
        if not line:
            continue
        if "->" in line:
            lhs, rhs = (part.split() for part in line.split("->", 1))
            if len(lhs) != 2:
                raise BitagError("a production is 'ej ai -> ak em' or 'ej ai -> ak al em'", path, lineno)
            pair = (lhs[0], lhs[1])
            if pair in productions:
                raise BitagError(f"second production for {lhs[0]} {lhs[1]} (first on line "
                                 f"{lines[pair]})", path, lineno)
            productions[pair], lines[pair] = tuple(rhs), lineno
            continue
        head, sep, rest = line.partition(":")
        key = head.strip().lower()
        if not sep or key not in ("a", "e", "word"):
            raise BitagError(f"expected 'A:', 'E:', 'word:' or a production, got {line[:40]!r}",
                             path, lineno)
        if key in fields:
            raise BitagError(f"'{head.strip()}:' given twice", path, lineno)
        fields[key] = (rest.split(), lineno)
    for key in ("a", "e", "word"):
        if key not in fields:
            raise BitagError(f"missing '{'word' if key == 'word' else key.upper()}:' line", path, 1)
    for key, cap in (("a", MAX_BITAG_SYMBOLS), ("e", MAX_BITAG_SYMBOLS), ("word", MAX_BITAG_WORD)):
        if len(fields[key][0]) > cap:
            raise BitagError(f"too many symbols: {len(fields[key][0]):,} (at most {cap:,})", path,
                             fields[key][1])
    system = Bitag(tuple(fields["a"][0]), tuple(fields["e"][0]), productions,
                   tuple(fields["word"][0]), path)
    for (ej, ai), lineno in lines.items():
        if ej not in system.e or ai not in system.a:
            raise BitagError(f"production for {ej} {ai}: the left side must be an E symbol and an "
                             "A symbol", path, lineno)
    try:
        return system.validate()
    except BitagError as e:
        if e.line is None and e.message.startswith("production "):
            words = e.message.split()
            e.line = lines.get((words[1], words[2]))
        raise


def load(path: str) -> Bitag:
    data = read_bounded(path, MAX_FILE_BYTES, BitagError)
    try:
        return parse(data.decode("utf-8"), path)
    except UnicodeDecodeError:
        raise BitagError("not UTF-8 text", path) from None


def dump(system: Bitag) -> str:
    out = [f"A: {' '.join(system.a)}", f"E: {' '.join(system.e)}", f"word: {' '.join(system.word)}"]
    for ej in system.e[:-1]:
        for ai in system.a:
            out.append(f"{ej} {ai} -> {' '.join(system.productions[(ej, ai)])}")
    return "\n".join(out) + "\n"


@dataclass
class BitagRun:
    word: tuple[str, ...]
    steps: int
    halted: bool


def interpret(productions: Mapping[tuple[str, str], Sequence[str]], e_symbols: Collection[str],
              word: Iterable[str], halting: str, max_steps: int, observe: Observer | None = None,
              path: str | None = None) -> BitagRun:
    """Run from ``word`` to ``halting`` at the front, or ``max_steps`` steps. ``observe``, when
    given, is called for every step: ``observe(e, a)`` for an active step (the E symbol and the A
    symbol it consumed), ``observe(a, None)`` for a passive one."""
    queue = deque(word)
    steps = 0
    while steps < max_steps:
        if not queue or queue[0] == halting:
            return BitagRun(tuple(queue), steps, bool(queue))
        front = queue.popleft()
        if front in e_symbols:
            if not queue:
                raise BitagError(f"stuck: the word is only {front}", path)
            a = queue.popleft()
            queue.extend(productions[(front, a)])
            if observe is not None:
                observe(front, a)
        else:
            queue.append(front)
            if observe is not None:
                observe(front, None)
        steps += 1
    return BitagRun(tuple(queue), steps, False)


def run(system: Bitag, max_steps: int = DEFAULT_BITAG_STEPS,
        observe: Observer | None = None) -> BitagRun:
    return interpret(system.productions, set(system.e), system.word, system.halting, max_steps,
                     observe, system.path)
