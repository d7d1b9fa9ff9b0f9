"""The cycle check: does an answer do what the reference machine does?

``computer`` calls :func:`check_cycle` on every cycle of a run (and of a resumed run's replay);
``verify`` calls :func:`case_problem` once per distinct prompt. Both share the caps of
:func:`answer_problem`.

The MEMORY lemma (README): every verdict reads MEMORY through substitution, which reads an
absent key as the blank, or through :func:`cell_value`, which does the same, so it depends on
MEMORY only through its configuration (state, head, tape with absent cells blank); the key
cap cannot decide a passing answer's verdict (see limits.MAX_KEYS). So verify may probe a case
in any MEMORY of its configuration, and :func:`probe_memories` probes several.

Why a passing ``verify`` proves a run (the README states the theorem). A cycle's answer ``A``
for a prompt is applied to MEMORY by write substitution, then assignments and updates. For
the effect of ``A`` to be the same in every cycle that shows the same prompt, it may depend on
MEMORY only through the head: :func:`reference_problem` refuses an answer that reads a tape
cell (``%[5]``). Every other key it can read is fixed for the whole run (instruction texts,
``boot``, ``op`` = the current instruction; keys that no cycle may write read as the blank),
so after substitution the text is ``T(s)`` with ``s = str(head)`` at fixed places. The parsing
rules of :mod:`mannsim.memory` look only at character classes (ASCII digit, word character,
``-``, ``"``, ``=``, newline) and at lengths of digit runs, so two heads whose decimal forms
have the same sign and length parse the same way, position by position. Within such a class,
labels and values that contain ``s`` change with it and can equal a fixed string (the next
instruction, the written symbol) for at most one head, the head's key ``str(h)`` only when the
label is exactly ``s``, and the new head is an affine function ``c + k*h``: agreeing with
``h + move`` at two heads forces ``k = 1, c = move``. So an answer that passes at two heads of
every (sign, length) class (:func:`probe_heads`) passes at every head within the span cap.
"""
from __future__ import annotations

from collections.abc import Iterable, Iterator

from ..limits import MAX_ANSWER, MAX_TAPE_SPAN
from ..machine.model import Transition
from ..memory import CELL_KEY, WRITE, Memory, MemoryError_, apply_answer
from .compiler import HALT, Program

Assigns = list[tuple[str, str]]
Updates = list[tuple[str, int]]


def answer_problem(answer: str, truncated: bool = False) -> str | None:
    """The caps every answer meets before it is applied, in a run and in verify alike."""
    if len(answer) > MAX_ANSWER or truncated:
        return f"answer longer than {MAX_ANSWER} characters (or cut at the token limit)"
    if not answer.strip():
        return "empty answer"
    return None


def reference_problem(answer: str) -> str | None:
    """An answer whose effect would depend on the tape (it reads a cell with ``%[n]``)."""
    for m in WRITE.finditer(answer):
        if CELL_KEY.fullmatch(m.group(1)):
            return (f"answer reads tape cell {m.group(1)} (%[{m.group(1)}]), so its effect "
                    "depends on the tape, not only on the prompt")
    return None


def check_cycle(prog: Program, mem: Memory, t: Transition | None, state_after: str, head: int,
                assigns: Assigns, updates: Updates,
                before: dict[str, str | None]) -> str | None:
    """Compare MEMORY after one cycle with the reference transition ``t`` (``None``: halt).

    ``state_after`` is the reference state after the transition (the halting state when ``t``
    is None), ``head`` the head before it, ``before`` the values of ``i`` and the head cell
    before the cycle. A cycle may write ``op``, ``i`` and the head cell (and ``halted`` when it
    halts a machine with several halting states), update only ``i``, and must leave ``i`` a
    canonical decimal (``05`` would make the next prompt read another key). Returns what is
    wrong, or None.
    """
    cell = str(head)
    allowed = {"op", "i", cell}
    if prog.named_halts and t is None:
        allowed.add("halted")
    for label, _ in assigns:
        if label not in allowed:
            return f"answer writes {label[:40]!r}, which this cycle may not write"
    for label, _ in updates:
        if label != "i":
            return f"answer updates {label[:40]!r}, which this cycle may not update"
    op = mem.get("op")
    if t is None:
        if op != HALT:
            return "the reference machine halts here but op is not 'halt'"
        if prog.named_halts and prog.state_of(mem) != state_after:
            return "halted in the wrong halting state"
        if mem.get("i") != before["i"] or cell_value(mem, cell) != before[cell]:
            return "the halting answer changed the tape or the head"
        return None
    if op != prog.texts[t.next]:
        return "op is not the instruction of the next state"
    if mem.get("i") != str(head + t.move):
        return "head moved to the wrong cell" if CELL_KEY.fullmatch(mem.get("i") or "") else \
            "i is not a canonical integer"
    if cell_value(mem, cell) != prog.codes[t.write]:
        return "wrong symbol written"
    return None


def cell_value(mem: Memory, key: str) -> str:
    """A tape cell's value, total: a cell that was never written holds the blank. Every
    verdict reads cells through this (or through read and write substitution, which read an
    absent key as the blank too), so it cannot tell an absent cell from a blank one."""
    return mem.get(key, mem.default)


def apply_checked(prog: Program, mem: Memory, t: Transition | None, state_after: str,
                  head: int,
                  answer: str) -> tuple[str | None, tuple[Assigns, Updates] | None]:
    """Apply ``answer`` to ``mem`` (the head on ``head``) and compare with the reference
    transition ``t``: (what is wrong or None, (assignments, updates) or None when the answer
    could not be applied, in which case ``mem`` is unchanged)."""
    before = {"i": mem.get("i"), str(head): cell_value(mem, str(head))}
    try:
        assigns, updates = apply_answer(answer, mem)
    except MemoryError_ as e:
        return f"answer could not be applied: {e}", None
    return check_cycle(prog, mem, t, state_after, head, assigns, updates, before), (assigns,
                                                                                    updates)


def probe_heads(span: int = MAX_TAPE_SPAN) -> tuple[int, ...]:
    """Two heads of every (sign, number of digits) class of the heads in ``[-span, span]``:
    the smallest and the largest magnitude of each class."""
    heads: list[int] = []
    digits = 1
    while 10 ** (digits - 1) <= span:
        lo, hi = (0 if digits == 1 else 10 ** (digits - 1)), min(10 ** digits - 1, span)
        heads += [lo, hi] if hi != lo else [lo]
        nlo = max(1, lo)
        heads += [-nlo, -hi] if hi != nlo else [-nlo]
        digits += 1
    return tuple(heads)


PROBE_HEADS = probe_heads()


def probe_memories(prog: Program, base: Memory, state: str, symbol: str,
                   head: int) -> Iterator[Memory]:
    """The MEMORYs a case is probed in, with the head on ``head`` reading ``symbol``: each
    representation a run can hold of such a configuration. The head cell stored, or absent
    when it reads the blank (a run never wrote it); neighbours holding decoy symbols, or
    absent. By the MEMORY lemma (README) the verdict is the same in all of them; probing
    each keeps that lemma checked on every case."""
    codes = [prog.codes[s] for s in prog.machine.symbols]
    blank = prog.codes[symbol] == base.default
    for neighbours in (True, False):
        for stored in ((True, False) if blank else (True,)):
            mem = base.copy()
            mem["op"], mem["i"] = prog.texts[state], str(head)
            if neighbours:
                mem[str(head - 1)] = codes[-1]
                mem[str(head + 1)] = codes[len(codes) // 2]
            if stored:
                mem[str(head)] = prog.codes[symbol]
            yield mem


def effect_problem(prog: Program, base: Memory, state: str, symbol: str, head: int,
                   answer: str) -> str | None:
    """Apply ``answer`` in (state, symbol) with the head on ``head`` to every probe MEMORY
    (:func:`probe_memories`, built on ``base``, the program's MEMORY without tape); what is
    wrong?"""
    t = prog.machine.transition(state, symbol)
    for mem in probe_memories(prog, base, state, symbol, head):
        problem = apply_checked(prog, mem, t, state if t is None else t.next, head, answer)[0]
        if problem:
            return problem
    return None


def tapeless_memory(prog: Program) -> Memory:
    """The program's initial MEMORY with its tape removed (what every probe starts from)."""
    mem = prog.initial_memory()
    for key in [k for k in mem if CELL_KEY.fullmatch(k)]:
        del mem[key]
    return mem


def case_problem(prog: Program, states: Iterable[str], symbols: Iterable[str], answer: str,
                 truncated: bool = False,
                 heads: tuple[int, ...] = PROBE_HEADS, base: Memory | None = None) -> str | None:
    """What is wrong with ``answer`` for a case (every (state, symbol) it stands for), checked
    at every probe head, or None when its effect is right wherever a run can be."""
    problem = answer_problem(answer, truncated) or reference_problem(answer)
    if problem:
        return problem
    base = tapeless_memory(prog) if base is None else base
    for q in states:
        for s in symbols:
            for h in heads:
                problem = effect_problem(prog, base, q, s, h, answer)
                if problem:
                    return problem if h == 0 else f"{problem} (with the head on cell {h})"
    return None
