"""Neary & Woods' encoding of a bi-tag system onto U15,2's tape, and reading the result back.

Tape alphabet c = 0, b = 1; q = |A|, h = |E| (see their paper, "Four small universal Turing
machines", 2009). The program ⟨P⟩ is ``bbcccb``, the active rules joined by ``cb`` (j from h-1
down to 1, within each j, i from q down to 1), ``cbcb``, the passive rules joined by ``cbcb``
(i from q down to 1), ``cbcbcb``. The tape is ⟨P⟩ + ``bc`` + the encoded word; the head starts on
the ``c`` of that ``bc`` in state A.

Decoding (found by simulation, not stated in the paper): at a halt the non-blank tape ends in
``cb``; before it stand blocks ``(cb)^k bb`` with k ≡ 3 (mod 8), one per A symbol that follows
eh in the final word, in order, i = (k+5)/8. Reading stops at the first block that is not of
that form.
"""
from __future__ import annotations

from collections import Counter, deque
from typing import TypeAlias

from ..limits import MAX_COMPILED_CELLS
from ..machine import Machine
from ..machine import load as load_machine
from ..resources import find_program
from .bitag import Bitag, BitagError

#: A direct run's steps grouped by what U15,2 reads (see :func:`profile_run`).
Profile: TypeAlias = dict[tuple[str, str | None], tuple[int, Counter[str]]]


def _rep(s: str, n: int) -> str:
    return s * n


def encode_symbol(system: Bitag, sym: str) -> str:
    q, h = len(system.a), len(system.e)
    if sym in system.a:
        i = system.a.index(sym) + 1
        return _rep("cb", 8 * i - 5) + "bb"
    j = system.e.index(sym) + 1
    if j < h:
        return _rep("cb", 8 * j * q)
    return _rep("cb", 8 * h * q + 3) + "bb"


def encode_rule(system: Bitag, ej: str, ai: str) -> str:
    q, h = len(system.a), len(system.e)
    rhs = system.productions[(ej, ai)]
    idx_a = [system.a.index(s) + 1 for s in rhs[:-1]]
    m = system.e.index(rhs[-1]) + 1
    sep = _rep("cccb", 2)
    if len(idx_a) == 1:
        k = idx_a[0]
        if m < h:
            return _rep("cb", 5) + _rep("cc", 8 * m * q) + sep + _rep("cc", 8 * k - 5)
        return _rep("cb", 3) + sep + _rep("cc", 8 * h * q + 3) + sep + _rep("cc", 8 * k - 5)
    k, second = idx_a
    if m < h:
        return (_rep("cb", 3) + _rep("cc", 8 * m * q) + sep + _rep("cc", 8 * second - 5) + sep
                + _rep("cc", 8 * k - 5))
    return ("cb" + sep + _rep("cc", 8 * h * q + 3) + sep + _rep("cc", 8 * second - 5) + sep
            + _rep("cc", 8 * k - 5))


def encode_passive(system: Bitag, i: int) -> str:
    return _rep("cb", 4) + _rep("cccb", 2) + _rep("cc", 8 * i - 5)


def program_part(system: Bitag) -> str:
    q, h = len(system.a), len(system.e)
    active = [encode_rule(system, system.e[j - 1], system.a[i - 1])
              for j in range(h - 1, 0, -1) for i in range(q, 0, -1)]
    passive = [encode_passive(system, i) for i in range(q, 0, -1)]
    return "bbcccb" + "cb".join(active) + "cbcb" + "cbcb".join(passive) + "cbcbcb"


def size_bound(system: Bitag) -> int:
    """An upper bound on the encoded tape's length (cells), computed without building it."""
    q, h = len(system.a), len(system.e)
    rule = 2 * (8 * h * q + 3) + 2 * 3 * (8 * q) + 40     # an active rule, separator included
    passive = 24 + 2 * (8 * q)
    symbol = 2 * (8 * h * q + 3) + 2
    return 8 + (h - 1) * q * rule + q * passive + 2 + len(system.word) * symbol


def symbol_cells(system: Bitag, sym: str) -> int:
    """len(encode_symbol(system, sym)), computed."""
    q, h = len(system.a), len(system.e)
    if sym in system.a:
        return 16 * (system.a.index(sym) + 1) - 8
    j = system.e.index(sym) + 1
    return 16 * j * q if j < h else 16 * h * q + 8


def program_cells(system: Bitag) -> int:
    """len(program_part(system)), computed from the indices (O(rules), no string built)."""
    q, h = len(system.a), len(system.e)
    ai = {a: k + 1 for k, a in enumerate(system.a)}
    ej = {e: k + 1 for k, e in enumerate(system.e)}
    total = 16 + 2 * ((h - 1) * q - 1) + 4 * (q - 1)   # the framing and separators
    for e in system.e[:-1]:
        for a in system.a:
            rhs = system.productions[(e, a)]
            m = ej[rhs[-1]]
            target = 16 * m * q if m < h else 16 * h * q + 6
            written = sum(16 * ai[x] - 10 for x in rhs[:-1])
            fixed = (10 if m < h else 14) if len(rhs) == 2 else (14 if m < h else 18)
            total += fixed + target + 8 + written
    return total + sum(16 * i + 6 for i in range(1, q + 1))


def cost_model(system: Bitag, profile: Profile) -> int:
    """A proxy for the U15,2 steps of a run whose direct bi-tag run is ``profile`` (see
    :func:`profile_run`): every step costs the encoded tape's length times the unary index U15,2
    counts down for it (8jq + 8i - 5 for ej ai, 8i - 5 for a passive ai, 8hq + 3 for eh).
    Measured against U15,2 on the shipped examples, U15,2's steps are 2.2-3.2x this figure, so it
    ranks numberings and orientations; it is not a step count."""
    q, h = len(system.a), len(system.e)
    ai = {a: 8 * k + 3 for k, a in enumerate(system.a)}          # 8i - 5 with i = k + 1
    ej = {e: 8 * (k + 1) * q for k, e in enumerate(system.e)}
    ej[system.halting] = 8 * h * q + 3
    cells = {s: symbol_cells(system, s) for s in system.a + system.e}
    program = program_cells(system)
    total = 0
    for (front, a), (steps, counts) in profile.items():
        index = ej[front] + (ai[a] if a is not None else 0) if front in ej else ai[front]
        tape = steps * program + sum(n * cells[s] for s, n in counts.items())
        total += index * tape
    return total


def profile_run(system: Bitag, max_steps: int) -> Profile | None:
    """The direct run's steps grouped by what U15,2 reads: {(front, a or None): (steps, {symbol:
    total count in the words of those steps})}, the final eh included; None if it does not halt
    within ``max_steps``."""
    word = deque(system.word)
    counts = Counter(word)
    e = set(system.e)
    profile: Profile = {}
    for _ in range(max_steps + 1):
        front = word[0]
        a = word[1] if front in e and front != system.halting else None
        steps, seen = profile.setdefault((front, a), (0, Counter()))
        seen.update(counts)
        profile[(front, a)] = (steps + 1, seen)
        if front == system.halting:
            return profile
        word.popleft()
        if a is None:
            word.append(front)
            continue
        word.popleft()
        out = system.productions[(front, a)]
        word.extend(out)
        counts[a] -= 1
        counts[front] -= 1
        counts.update(out)
    return None


def encode(system: Bitag) -> tuple[str, int]:
    """(tape as 0/1 text from cell 0, head cell)."""
    bound = size_bound(system)
    if bound > MAX_COMPILED_CELLS:
        raise BitagError(f"the encoding would take up to {bound:,} cells of U15,2's tape "
                         f"(at most {MAX_COMPILED_CELLS:,}): {len(system.a)} A and "
                         f"{len(system.e)} E symbols", system.path)
    prog = program_part(system)
    data = "".join(encode_symbol(system, s) for s in system.word)
    tape = prog + "bc" + data
    return tape.replace("c", "0").replace("b", "1"), len(prog) + 1


def decode(system: Bitag, cells: dict[int, str]) -> tuple[str, ...]:
    """The final bi-tag word (eh followed by A symbols) read from a halted U15,2 tape."""
    if not cells:
        raise BitagError("the tape is blank: nothing to decode")
    hi = max(cells)
    lo = min(0, min(cells))
    text = "".join("b" if cells.get(c, "0") == "1" else "c" for c in range(lo, hi + 1))
    if not text.endswith("cb"):
        raise BitagError("the final tape does not end in 'cb': not a halted encoding")
    pos = len(text) - 2
    symbols: list[str] = []
    q = len(system.a)
    while text[pos - 2:pos] == "bb":
        end = pos - 2
        k = 0
        while end - 2 * (k + 1) >= 0 and text[end - 2 * (k + 1):end - 2 * k] == "cb":
            k += 1
        i = (k + 5) // 8
        if k % 8 != 3 or not 1 <= i <= q:
            break  # the rest of the tape: what is left of the program and of eh
        symbols.append(system.a[i - 1])
        pos = end - 2 * k
    return (system.halting,) + tuple(reversed(symbols))


def u15_machine() -> Machine:
    """U15,2 as shipped in programs/u15_2.tm (the one source of its transition table)."""
    path = find_program("u15_2")
    if path is None:
        raise BitagError("programs/u15_2.tm is not installed")
    return load_machine(path)


def compile_bitag(system: Bitag) -> Machine:
    """A U15,2 machine whose initial tape and head encode ``system``."""
    tape, head = encode(system)
    u15 = u15_machine()
    return u15.replace(tape=list(tape), head=head,
                       name=f"U15,2 running {system.path or 'a bi-tag system'}")
