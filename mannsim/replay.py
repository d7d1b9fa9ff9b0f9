"""Rebuilding a run from its trace, every recorded cycle re-checked (``Computer.replayed`` and
``Computer.resume`` delegate here): the soundness of a resumed or decoded run lives in this
module, apart from the live loop."""
from __future__ import annotations

from typing import TYPE_CHECKING

from .backends.base import Backend, same_backend
from .limits import MAX_TAPE_SPAN
from .machine import canonical
from .program import compile_program, load_dialect
from .program.check import apply_checked, case_problem, tapeless_memory
from .safe_text import one_line
from .trace import TraceError, TraceIndex, header_machine

if TYPE_CHECKING:
    from .computer import Computer


def replayed(cls: type["Computer"], trace_path: str, backend: Backend | None = None, *,
             max_steps: int | None = None, memo: bool = False, progress=None, dialect=None,
             machine=None) -> "Computer":
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
            max_steps = limit if isinstance(limit, int) and limit >= 0 else 10**7
        comp = cls(program, backend, max_steps=max_steps, trace=trace_path, memo=memo,
                   progress=progress)
        comp.resumed_from = recheck(comp, ix)
        comp._keep_bytes = ix.valid_end
        comp._trace_prompts = dict(ix.prompts)
        comp._trace_cases = ix.cases()
    return comp


def recheck(comp: "Computer", ix: TraceIndex) -> int:
    """Re-check the recorded ok cycles; the number kept.

    Each cycle's state, head and symbol must be the reference machine's and its prompt hash
    the prompt the program renders there; each distinct (state, symbol, answer) is checked
    once, at every probe head, as verify checks a case. By verify's theorem (README, "What
    verify proves") such an answer has the right effect at every head within the span, so
    MEMORY after the cycles is the compiled configuration of the machine, which is then
    rebuilt from the reference machine: as sound as applying every answer, and 10^8 cycles
    replay at the speed of reading them. An answer that fails at some probe head (a model
    right only where it stood) gets the live check instead, on that cycle's
    configuration."""
    st, prog = comp.stepper, comp.program
    prompts = {}
    for case in prog.cases():
        digest = comp._digest(case.prompt)
        for q in case.states:
            for sym in case.symbols:
                prompts[(q, sym)] = digest
    base = tapeless_memory(prog)
    checked: set[tuple[str, str, str]] = set()
    snap_at = set(ix.snapshot_cycles())
    for k, (r_state, r_head, r_read, r_prompt, r_answer, ok) in enumerate(ix.steps(), 1):
        if not ok:
            break
        where = f"cycle {k}"
        if abs(st.head) > MAX_TAPE_SPAN:
            raise TraceError(f"{where} is past the tape span cap", ix.path, ix.line_of(k))
        if st.halted:
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
        key = (state, read, r_answer)
        if key in checked:
            st.step()
        elif case_problem(prog, (state,), (read,), r_answer, base=base) is None:
            checked.add(key)
            st.step()
        else:  # right at this head only, maybe: the live check, on this configuration
            head = st.head
            prog.set_configuration(comp.memory, state, head, st.cells)
            problem, _ = apply_checked(prog, comp.memory, st.step(), st.state, head, r_answer)
            if problem:
                raise TraceError(f"{where} is recorded as ok, but its answer fails the check: "
                                 f"{problem}", ix.path, ix.line_of(k))
        comp.cycle += 1
        comp.checks += 1
        snap = ix.snapshot(comp.cycle) if comp.cycle in snap_at else None
        if snap is not None and snap != comp._snapshot():
            raise TraceError(f"the snapshot after cycle {comp.cycle} is not the machine "
                             "the cycles lead to", ix.path, ix.line_of(k))
    prog.set_configuration(comp.memory, st.state, st.head, st.cells, st.halted)
    return comp.cycle
