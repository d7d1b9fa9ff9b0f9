"""Rebuilding a run from its trace, every recorded cycle re-checked (:func:`replayed`), and going
on with it (:func:`resume`): the soundness of a resumed or decoded run lives in this module,
apart from the live loop, which it drives through public constructors only (a
:class:`~mannsim.computer.Computer` from the rebuilt :class:`~mannsim.run_state.RunState`, a
:meth:`~mannsim.trace.TraceWriter.reopen`-ed writer)."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from .backends.base import Backend, same_backend
from .computer import Computer
from .limits import DEFAULT_BACKEND_STEPS, MAX_TAPE_SPAN
from .machine import canonical
from .machine.model import Machine
from .program import Dialect, Program, compile_program, load_dialect
from .program.check import answer_problem, apply_checked
from .program.compiler import HALT
from .run_state import RunState, snapshot_of
from .safe_text import one_line
from .trace import Case, Header, Resume, TraceError, TraceIndex, TraceWriter, header_machine
from .trace.schema import prompt_hash


@dataclass(frozen=True)
class Replayed:
    """A run rebuilt from its trace, every recorded cycle re-checked: the program that ran, the
    state its checked cycles leave, and what a writer needs to go on after them."""

    path: str
    header: Header
    program: Program
    state: RunState
    #: the byte offset just past the trace's last valid record
    valid_end: int
    prompts: tuple[str, ...]
    cases: dict[int, Case]


def replayed(trace_path: str, *, backend: Backend | None = None, dialect: Dialect | None = None,
             machine: Machine | None = None) -> Replayed:
    """The run a trace records, every recorded cycle re-checked: each goes through the same
    prompt check and lockstep check as a live one.

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
        if dialect is None:
            dialect = load_dialect(str(head.dialect.get("name")), allow_path=False)
        if dialect.digest != head.dialect.get("sha256"):
            raise TraceError(f"dialect {dialect.name!r} is not the one the trace was "
                             "written with (its sha256 differs)", trace_path, 1)
        if backend is not None:
            why = same_backend(backend.identity(), head.backend)
            if why:
                raise TraceError(f"{why}; resume with the same backend and model",
                                 trace_path, 1)
        program = compile_program(recorded, dialect, head.keys)
        state = RunState.initial(program)
        state.resumed_from = recheck(program, state, ix)
        return Replayed(trace_path, head, program, state, ix.valid_end, tuple(ix.prompts),
                        ix.cases())


def resume(trace_path: str, backend: Backend, *, max_steps: int | None = None,
           memo: bool = False, progress: Callable[[Computer], None] | None = None,
           dialect: Dialect | None = None, machine: Machine | None = None) -> Computer:
    """A run rebuilt from its trace and re-checked (:func:`replayed`), going on with the same
    backend, appending after the last valid record (the step limit is the recorded one unless
    ``max_steps`` is given)."""
    r = replayed(trace_path, backend=backend, dialect=dialect, machine=machine)
    if max_steps is None:
        max_steps = r.header.max_steps
        max_steps = DEFAULT_BACKEND_STEPS if max_steps is None else max_steps
    writer = TraceWriter.reopen(trace_path, r.valid_end, r.prompts, r.cases)
    writer.resume(Resume(r.state.resumed_from, backend.identity()))
    return Computer(r.program, backend, max_steps=max_steps, trace=trace_path, memo=memo,
                    progress=progress, start=r.state, writer=writer)


def recheck(prog: Program, state: RunState, ix: TraceIndex) -> int:
    """Re-check the recorded ok cycles exactly as the live run checked them, advancing
    ``state``; the number kept.

    MEMORY starts as the program's initial MEMORY and every recorded answer is applied to it,
    in order, with the live check (:func:`mannsim.program.check.apply_checked`) against the
    reference machine: the same caps, the same lockstep comparison, on that cycle's own
    configuration. Each cycle's recorded state, head and symbol must be the reference
    machine's and its prompt hash the prompt the program renders there (by the MEMORY lemma a
    prompt depends on MEMORY only through the configuration, so the case's prompt is the one
    the live run rendered). So a cycle the live run would reject is never accepted, whatever
    the probe-head theorem says, a cycle must record the writes and updates its answer makes
    (traces of version 3), and a snapshot must be the machine the cycles lead to.
    """
    st, mem = state.stepper, state.memory
    prompts = {}
    for case in prog.cases():
        digest = prompt_hash(case.prompt)
        for q in case.states:
            for sym in case.symbols:
                prompts[(q, sym)] = digest
    snap_at = set(ix.snapshot_cycles())
    old_rules = ix.header.version < 3
    n = len(ix)
    for k, step in enumerate(ix.steps(), 1):
        if k > n:  # (a reader never yields more steps than the trace keeps; refused if it did)
            raise TraceError(f"the trace keeps {n} cycles but reads more", ix.path)
        if not step.ok:  # diverged, or an answer the run cut (at the token limit or MAX_ANSWER)
            if old_rules and (step.state, step.head, step.read) == (st.state, st.head, st.read()) \
                    and not ix.cycle(k).cut:
                _note_changed_verdict(prog, state, k, step.answer)
            break
        where = f"cycle {k}"
        if abs(st.head) > MAX_TAPE_SPAN:
            raise TraceError(f"{where} is past the tape span cap", ix.path, ix.line_of(k))
        if st.halted or mem.get("op") == HALT:
            raise TraceError(f"{where} follows the halt", ix.path, ix.line_of(k))
        q, read = st.state, st.read()
        if (step.state, step.head, step.read) != (q, st.head, read):
            raise TraceError(f"{where} records state {one_line(step.state, 40)}, head "
                             f"{step.head}, read {one_line(step.read, 40)}; the machine is "
                             f"in {one_line(q, 40)} at {st.head} reading "
                             f"{one_line(read, 40)}", ix.path, ix.line_of(k))
        if prompts.get((q, read)) != step.prompt:
            raise TraceError(f"{where}'s recorded prompt is not the one the program renders "
                             "here", ix.path, ix.line_of(k))
        head = st.head
        problem = answer_problem(step.answer)
        if problem is None:
            t = st.step()
            problem, applied = apply_checked(prog, mem, t, st.state, head, step.answer)
            if problem is None and applied is not None and not old_rules and (
                    prog.writes_record(applied[0], None if t is None else t.next),
                    tuple(applied[1])) != (step.writes, step.updates):
                raise TraceError(f"{where} records writes or updates its answer does not make",
                                 ix.path, ix.line_of(k))
        if problem:
            raise TraceError(f"{where} is recorded as ok, but its answer fails the live "
                             f"check: {problem}", ix.path, ix.line_of(k))
        state.cycle += 1
        state.checks += 1
        snap = ix.snapshot(state.cycle) if state.cycle in snap_at else None
        if snap is not None and snap != snapshot_of(prog.machine, st, state.cycle):
            raise TraceError(f"the snapshot after cycle {state.cycle} is not the machine "
                             "the cycles lead to", ix.path, ix.line_of(k))
    return state.cycle


def _note_changed_verdict(prog: Program, state: RunState, k: int, answer: str) -> None:
    """A trace written before the MEMORY lemma recorded cycle ``k`` as diverged: say so when the
    current rules pass its answer (the resume asks the backend again from there)."""
    st = state.stepper
    t = prog.machine.transition(st.state, st.read())
    problem = answer_problem(answer) or apply_checked(
        prog, state.memory.copy(), t, st.state if t is None else t.next, st.head, answer)[0]
    if problem is None:
        state.notes.append(f"cycle {k} was recorded as diverged by an older mannsim; under the "
                           "current rules (a never-written cell is the blank) its answer passes, "
                           "and the run goes on from there")
