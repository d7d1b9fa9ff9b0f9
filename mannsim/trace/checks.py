"""A cycle's record held against the program that ran: its prompt, its answer under the live
check, the writes that answer makes (what :meth:`mannsim.trace.TraceIndex.checked` adds to the
reference machine's configuration)."""
from __future__ import annotations

from collections.abc import Callable

from ..memory import Memory, MemoryError_, Renderer
from ..program.check import answer_problem, apply_checked, reference_problem, tapeless_memory
from ..program.compiler import Program
from ..safe_text import one_line
from .records import Cycle, Updates, Writes
from .schema import prompt_hash


class CycleChecks:
    """The checks of one trace's cycles against ``program`` (the one the header names)."""

    def __init__(self, program: Program):
        self.program = program
        self._prompt_of: dict[tuple[str, str], str] = {}
        self._tapeless = tapeless_memory(program)

    def _prompt_digest(self, state: str, read: str) -> str:
        prog = self.program
        digest = self._prompt_of.get((state, read))
        if digest is None:
            mem = Memory({"boot": prog.dialect.boot, "i": "0", "0": prog.codes[read]},
                         default=prog.blank_code)
            try:
                digest = prompt_hash(Renderer(mem)(prog.texts[state]))
            except MemoryError_:
                digest = ""
            self._prompt_of[(state, read)] = digest
        return digest

    def derive(self, k: int, rec: Cycle, state: str, head: int, read: str,
               cells: Callable[[], dict[int, str]]) -> tuple[Writes, Updates, list[str]]:
        """(writes, updates, problems) of cycle ``k``'s answer applied, with the live check, to
        a MEMORY of the configuration (state, head, read). By the MEMORY lemma (README) the
        verdict and the parse depend on MEMORY only through the configuration, and an answer
        that reads no tape cell reads only the head's, so for one the program's MEMORY without
        its tape, the head cell set, stands for the whole (``cells()`` gives the whole tape)."""
        prog = self.program
        problems = []
        if rec.prompt != self._prompt_digest(state, read):
            problems.append(f"cycle {k}'s recorded prompt is not the one the program renders "
                            "here")
        answer = rec.answer
        t = prog.machine.transition(state, read)
        mem = self._tapeless.copy()
        if reference_problem(answer) is None:
            mem["op"], mem["i"] = prog.texts[state], str(head)
            if read != prog.machine.blank:
                mem[str(head)] = prog.codes[read]
        else:  # it reads tape cells: the whole configuration
            prog.set_configuration(mem, state, head, cells())
        problem = answer_problem(answer, rec.cut)
        writes: Writes = ()
        updates: Updates = ()
        if problem is None:
            problem, applied = apply_checked(prog, mem, t, state if t is None else t.next, head,
                                             answer)
            if applied is not None:
                next_state = None if t is None else t.next
                writes = prog.writes_record(applied[0], next_state)
                updates = tuple((label, d) for label, d in applied[1])
        if rec.ok and problem is not None:
            problems.append(f"cycle {k} is recorded as ok, but its answer fails the live check: "
                            f"{problem}")
        if rec.writes != writes or rec.updates != updates:
            problems.append(f"cycle {k} records writes {one_line(_lists(rec.writes), 200)} and "
                            f"updates {one_line(_lists(rec.updates), 80)}; its answer makes "
                            f"{one_line(_lists(writes), 200)} and {one_line(_lists(updates), 80)}")
        return writes, updates, problems


def _lists(pairs: tuple[tuple[object, object], ...]) -> list[list[object]]:
    """Pairs as the trace's JSON shows them."""
    return [list(p) for p in pairs]
