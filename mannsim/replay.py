"""Rebuilding a run from its trace, every recorded cycle re-checked (``Computer.replayed`` and
``Computer.resume`` delegate here): the soundness of a resumed or decoded run lives in this
module, apart from the live loop."""
from __future__ import annotations

from typing import TYPE_CHECKING

from .backends.base import Backend, same_backend
from .limits import DEFAULT_BACKEND_STEPS, MAX_TAPE_SPAN
from .machine import canonical
from .program import compile_program, load_dialect
from .program.check import answer_problem, apply_checked
from .program.compiler import HALT
from .safe_text import one_line
from .trace import TraceError, TraceIndex, header_machine

if TYPE_CHECKING:
    from .computer import Computer


def replayed(cls: type[Computer], trace_path: str, backend: Backend | None = None, *,
             max_steps: int | None = None, memo: bool = False, progress=None, dialect=None,
             machine=None) -> Computer:
    """The computer in the state a trace leaves it, every recorded cycle re-checked: each
    goes through the same prompt check and lockstep check as a live one.

    The machine is the one the header records (canonical form and hash), the dialect the
    shipped one it names (or ``dialect``, which must have the same digest), and
    ``backend``, when given, must be the recorded one (name, model, weights). ``machine``,
    when given (a PROGRAM on the command line), must equal the recorded machine. Any
    mismatch, and any record that does not re-check, is a :class:`TraceError` naming the
    trace's line. Nothing is written.
    """
    with TraceIndex(trace_path, strict=True) as ix:
        head = ix.header
        recorded = header_machine(head, trace_path, exact=True)
        if machine is not None and canonical.digest(machine) != canonical.digest(recorded):
            raise TraceError("the trace records another program than the one given "
                             "(leave PROGRAM out to use the trace's own)", trace_path, 1)
        info = head["dialect"]
        if dialect is None:
            dialect = load_dialect(info.get("name"), allow_path=False)
        if dialect.digest != info.get("sha256"):
            raise TraceError(f"dialect {dialect.name!r} is not the one the trace was "
                             "written with (its sha256 differs)", trace_path, 1)
        if backend is not None:
            why = same_backend(backend.identity(), head["backend"])
            if why:
                raise TraceError(f"{why}; resume with the same backend and model",
                                 trace_path, 1)
        # traces written before register keys compiled with the names themselves
        program = compile_program(recorded, dialect, head["program"].get("keys", "names"))
        settings = head.get("settings") or {}
        limit = settings.get("max_steps")
        if max_steps is None:
            max_steps = limit if isinstance(limit, int) and limit >= 0 else DEFAULT_BACKEND_STEPS
        comp = cls(program, backend, max_steps=max_steps, trace=trace_path, memo=memo,
                   progress=progress)
        comp.resumed_from = recheck(comp, ix)
        comp._keep_bytes = ix.valid_end
        comp._trace_prompts = dict(ix.prompts)
        comp._trace_cases = ix.cases()
    return comp


def recheck(comp: Computer, ix: TraceIndex) -> int:
    """Re-check the recorded ok cycles exactly as the live run checked them; the number kept.

    MEMORY starts as the program's initial MEMORY and every recorded answer is applied to it,
    in order, with the live check (:func:`mannsim.program.check.apply_checked`) against the
    reference machine: the same caps, the same lockstep comparison, on that cycle's own
    configuration. Each cycle's recorded state, head and symbol must be the reference
    machine's and its prompt hash the prompt the program renders there (by the MEMORY lemma a
    prompt depends on MEMORY only through the configuration, so the case's prompt is the one
    the live run rendered). So a cycle the live run would reject is never accepted, whatever
    the probe-head theorem says, and a snapshot must be the machine the cycles lead to.
    """
    st, prog = comp.stepper, comp.program
    prompts = {}
    for case in prog.cases():
        digest = comp._digest(case.prompt)
        for q in case.states:
            for sym in case.symbols:
                prompts[(q, sym)] = digest
    mem = comp.memory
    snap_at = set(ix.snapshot_cycles())
    old_rules = (ix.header.get("version") or 1) < 3
    for k, (r_state, r_head, r_read, r_prompt, r_answer, ok) in enumerate(ix.steps(), 1):
        if not ok:  # diverged, or an answer the run cut (at the token limit or at MAX_ANSWER)
            if old_rules and (r_state, r_head, r_read) == (st.state, st.head, st.read()) \
                    and not ix.cycle(k).get("cut"):
                _note_changed_verdict(comp, k, r_answer)
            break
        where = f"cycle {k}"
        if abs(st.head) > MAX_TAPE_SPAN:
            raise TraceError(f"{where} is past the tape span cap", ix.path, ix.line_of(k))
        if st.halted or mem.get("op") == HALT:
            raise TraceError(f"{where} follows the halt", ix.path, ix.line_of(k))
        state, read = st.state, st.read()
        if (r_state, r_head, r_read) != (state, st.head, read):
            raise TraceError(f"{where} records state {one_line(r_state, 40)}, head "
                             f"{r_head}, read {one_line(r_read, 40)}; the machine is "
                             f"in {one_line(state, 40)} at {st.head} reading "
                             f"{one_line(read, 40)}", ix.path, ix.line_of(k))
        if prompts.get((state, read)) != r_prompt:
            raise TraceError(f"{where}'s recorded prompt is not the one the program renders "
                             "here", ix.path, ix.line_of(k))
        head = st.head
        problem = answer_problem(r_answer)
        if problem is None:
            problem, _ = apply_checked(prog, mem, st.step(), st.state, head, r_answer)
        if problem:
            raise TraceError(f"{where} is recorded as ok, but its answer fails the live "
                             f"check: {problem}", ix.path, ix.line_of(k))
        comp.cycle += 1
        comp.checks += 1
        snap = ix.snapshot(comp.cycle) if comp.cycle in snap_at else None
        if snap is not None and snap != comp._snapshot():
            raise TraceError(f"the snapshot after cycle {comp.cycle} is not the machine "
                             "the cycles lead to", ix.path, ix.line_of(k))
    return comp.cycle


def _note_changed_verdict(comp: Computer, k: int, answer: str) -> None:
    """A trace written before the MEMORY lemma recorded cycle ``k`` as diverged: say so when the
    current rules pass its answer (the resume asks the backend again from there)."""
    st = comp.stepper
    t = comp.program.machine.transition(st.state, st.read())
    problem = answer_problem(answer) or apply_checked(
        comp.program, comp.memory.copy(), t, st.state if t is None else t.next, st.head, answer)[0]
    if problem is None:
        comp.notes.append(f"cycle {k} was recorded as diverged by an older mannsim; under the "
                          "current rules (a never-written cell is the blank) its answer passes, "
                          "and the run goes on from there")
