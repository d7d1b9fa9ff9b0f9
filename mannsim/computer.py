"""The stored-instruction computer: read -> compute -> write, checked against the reference.

Each cycle renders ``op`` (read substitution), asks the backend once, and applies its answer
(write substitution, assignments, updates). A :class:`~mannsim.machine.Stepper` runs beside it:
after every cycle the configuration decoded from MEMORY must equal the reference's, otherwise
the run stops with a :class:`Divergence` report. Answers that do not parse, are too long, or write
where they should not are divergences, never crashes.
"""
from __future__ import annotations

import time
from collections.abc import Callable, Generator
from typing import Any

from .backends.base import Backend, Completion, complete_all
from .errors import MannsimError
from .limits import DEFAULT_BACKEND_STEPS, MAX_ANSWER, MAX_MEMO, MAX_TAPE_SPAN
from .machine import Stepper
from .memory import Memory, MemoryError_, Renderer
from .program import HALT, Program
from .program.check import answer_problem, apply_checked
from .run_state import RunReport, RunState, header_of, snapshot_of
from .trace import TraceError, TraceWriter, prompt_hash
from .trace.header import Header
from .trace.records import Cycle, Divergence, End, Snapshot, Updates, Writes

#: Builds a record from its fields in order (what ``Cycle(...)`` does, without its argument
#: parsing: the loop builds one a cycle)
_new = tuple.__new__

__all__ = ["Computer", "Divergence", "RunReport", "RunState"]


class Computer:
    """Runs a :class:`Program` on a backend, in lockstep with the reference machine."""

    def __init__(self, program: Program, backend: Backend, *,
                 max_steps: int = DEFAULT_BACKEND_STEPS, trace: str | None = None,
                 memo: bool = False, progress: Callable[[Computer], None] | None = None,
                 start: RunState | None = None, writer: TraceWriter | None = None):
        """A run of ``program`` on ``backend``: a new one writing a new trace at ``trace``, or
        one going on from ``start`` (a state a replay rebuilt) with ``writer`` (the reopened
        trace)."""
        self.program = program
        self.backend = backend
        self.max_steps = max_steps
        self.trace_path = trace
        self.memo: dict[str, Completion] | None = {} if memo else None
        self.progress = progress
        state = start or RunState.initial(program)
        self.memory: Memory = state.memory
        self.stepper: Stepper = state.stepper
        self.cycle = state.cycle
        self.checks = state.checks
        self.resumed_from = state.resumed_from
        self.notes: list[str] = list(state.notes)
        self.render = Renderer(self.memory)
        self.result: RunReport | None = None
        self.failure: MannsimError | None = None  # the error that stopped the run, if any
        self.divergence: Divergence | None = None
        self.model_seconds = 0.0
        self.tokens_in = self.tokens_out = self.cached = 0
        self.finished = False
        self._writer = writer
        self._new_trace = writer is None and trace is not None
        self._prompt_hash: dict[str, str] = {}
        self._texts, self._boot = program.texts, program.dialect.boot
        self._rendered: dict[tuple[str, str | None], tuple[str, str]] = {}
        self.started = time.perf_counter()

    # -- trace -------------------------------------------------------------------------
    def header(self) -> Header:
        """The trace header of this run: its provenance and settings."""
        return header_of(self.program, self.backend.identity(),
                         {"max_steps": self.max_steps, "memo": self.memo is not None})

    def _open_trace(self) -> None:
        if self._new_trace and self._writer is None and self.trace_path:
            self._writer = TraceWriter(self.trace_path, self.header())
            self._new_trace = False

    def _digest(self, prompt: str) -> str:
        """The prompt's trace hash, cached (a run has few distinct prompts)."""
        digest = self._prompt_hash.get(prompt)
        if digest is None:
            digest = prompt_hash(prompt)
            if len(self._prompt_hash) < MAX_MEMO:
                self._prompt_hash[prompt] = digest
        return digest

    def _render_new(self, key: tuple[str, str | None], op: str) -> tuple[str, str]:
        """An instruction's prompt at a head cell not met before, and its hash (kept while
        there is room). Rendering can still fail (a boot near the dialect size cap makes a
        prompt past MAX_VALUE): the caller reports that as the uncached path does."""
        prompt = self.render(op)
        hit = (prompt, prompt_hash(prompt))
        if len(self._rendered) < MAX_MEMO:
            self._rendered[key] = hit
        return hit

    # -- one cycle ----------------------------------------------------------------------
    def _ask(self, prompt: str) -> Completion:
        if self.memo is not None:
            hit = self.memo.get(prompt)
            if hit is not None:
                self.cached += 1
                # no model call: no latency and no tokens (the first call counted them)
                return Completion(hit.text, 0, 0, 0.0, cached=True)
        completion = complete_all(self.backend, [prompt])[0]
        if self.memo is not None and len(self.memo) < MAX_MEMO:
            self.memo[prompt] = completion
        return completion

    def step(self) -> Cycle:
        """One read -> compute -> write cycle, checked and written to the trace; its record.
        A cycle that diverged (``not ok``) leaves its report in :attr:`divergence`."""
        st = self.stepper
        state, head, read = st.state, st.head, st.read()
        self.cycle += 1
        n = self.cycle
        mem = self.memory
        op = mem["op"]
        # the read half. A prompt rendered from the reference state's own instruction text,
        # with the dialect's boot in place, reads MEMORY only at the head cell (a dialect's
        # templates read only @[boot] and @[@[i]]; the README's MEMORY lemma), so it and its
        # trace hash are kept by (state, head cell) and not rendered or hashed again (the
        # text compares by memcmp); any other op is rendered and hashed as it stands
        i = mem.get("i")
        try:
            if i is not None and op == self._texts.get(state) and mem.get("boot") == self._boot:
                key = (state, mem.get(i))
                hit = self._rendered.get(key)
                if hit is None:
                    hit = self._render_new(key, op)
                prompt, digest = hit
            else:
                prompt = self.render(op)
                digest = self._digest(prompt)
        except MemoryError_ as e:
            self.divergence = self._diverge(n, f"read substitution failed: {e}", state, head,
                                            read, op, "", {})
            return Cycle(n, state, head, read, self._digest(op), "", (), (), False)
        completion = self._ask(prompt)
        self.model_seconds += completion.latency
        self.tokens_in += completion.tokens_in
        self.tokens_out += completion.tokens_out
        text, truncated = completion.text, completion.truncated
        # the write half, checked: step the reference machine, apply the answer under the
        # caps, compare (writes None: the answer was not applied)
        t = st.step()
        writes: Writes | None = None
        updates: Updates = ()
        answer = text
        problem = answer_problem(text, truncated)
        if problem:
            answer = text[:MAX_ANSWER]
        else:
            problem, applied = apply_checked(self.program, self.memory, t, st.state, head, text)
            if applied is not None:
                writes = self.program.writes_record(applied[0],
                                                    None if t is None else t.next)
                updates = tuple(applied[1])
        writer = self._writer
        if writer is not None and not writer.knows_prompt(digest):
            writer.add_prompt(digest, prompt)
        rec = _new(Cycle, (n, state, head, read, digest, answer, writes or (), updates,
                           problem is None, completion.latency * 1000, completion.tokens_in,
                           completion.tokens_out, completion.cached,
                           truncated or len(text) > MAX_ANSWER))
        if writer is not None:
            writer.cycle(rec, self._snapshot)
        if problem:
            parsed = {} if writes is None else {"writes": [list(w) for w in writes],
                                                 "updates": [list(u) for u in updates]}
            self.divergence = self._diverge(n, problem, state, head, read, prompt, answer,
                                            parsed, t)
        else:
            self.checks += 1
        return rec

    def _snapshot(self) -> Snapshot:
        """The machine now, for a compact trace's snapshot."""
        return snapshot_of(self.program.machine, self.stepper, self.cycle)

    def _diverge(self, n: int, reason: str, state: str, head: int, read: str, prompt: str,
                 answer: str, parsed: dict[str, Any], t: Any = None) -> Divergence:
        prog, mem, st = self.program, self.memory, self.stepper
        expected = {"state": st.state, "head": st.head, "answer": prog.answer(state, read),
                    "written": None if t is None else t.write}
        dstate, dhead, _ = prog.decode(mem)
        same = prog.states_of_text.get(mem.get("op") or "", [])
        if len(same) > 1:  # identical instructions: MEMORY cannot say which, so name them all
            dstate = " or ".join(same) + " (identical instructions)"
        actual = {"state": dstate, "head": dhead, "op": (mem.get("op") or "")[:200],
                  "written": prog.symbol_of.get(mem.get(str(head), mem.default),
                                                mem.get(str(head), mem.default))}
        div = Divergence(n, reason, expected, actual, prompt, answer, parsed)
        if self._writer is not None:
            self._writer.divergence(div)
        return div

    # -- the loop -----------------------------------------------------------------------
    def cycles(self) -> Generator[Cycle, None, None]:
        """The run, one checked cycle at a time: the primitive every driver consumes (the CLI's
        plain and live runs, the viewer's worker thread, tests).

        Yields each cycle's record once it is checked and written to the trace; between two
        yields the computer's fields (``stepper``, ``memory``, ``cycle``, ``checks``...) are
        that cycle's. The run ends by itself at the halt, at ``max_steps``, at a divergence
        (its cycle is yielded, then the run stops) or an error; a consumer that stops early
        (``break`` or ``close()``) or a Ctrl-C ends it as ``interrupted``. Either way the trace
        is finished (its end record written) and :attr:`result` holds the :class:`RunReport`.
        """
        reason, error = "max_steps", None
        self.started = time.perf_counter()
        try:
            self._open_trace()
            while True:
                if self.memory.get("op") == HALT:
                    reason = "halt"
                    break
                if self.cycle >= self.max_steps:
                    break
                if abs(self.stepper.head) > MAX_TAPE_SPAN:
                    raise MannsimError(f"the head reached cell {self.stepper.head:,}: past the "
                                       f"tape span cap of {MAX_TAPE_SPAN:,} cells from cell 0")
                rec = self.step()
                if not rec.ok:
                    reason = "divergence"
                    yield rec
                    break
                yield rec
        except (GeneratorExit, KeyboardInterrupt):
            if reason != "divergence":  # stopping at the divergence's own cycle keeps it
                reason = "interrupted"
        except TraceError as e:
            reason, error = "error", str(e)
            self._writer = None  # the trace is valid up to its last whole record
        except MannsimError as e:
            reason, error = "error", str(e)
            self.failure = e  # the CLI re-raises it: its class decides the exit code
        finally:
            self.result = self.report(reason, self.divergence, error)
            self.finished = True
            self._finish(self.result)

    def run(self) -> RunReport:
        """Drive :meth:`cycles` to the end, calling ``progress(self)`` after every cycle (it
        throttles itself; ``self.finished`` marks the last, exact call)."""
        run = self.cycles()
        try:
            for _ in run:
                if self.progress is not None:
                    self.progress(self)
        except KeyboardInterrupt:  # pressed while a progress frame was drawn
            run.close()
        try:
            if self.progress is not None:
                self.progress(self)  # the final frame: exact
        except KeyboardInterrupt:
            pass
        assert self.result is not None
        return self.result

    def report(self, reason: str, divergence: Divergence | None = None,
               error: str | None = None) -> RunReport:
        state, head, cells = self.program.decode(self.memory)
        st = self.stepper
        if divergence is None and state is not None and (
                self.program.texts.get(st.state) == self.memory.get("op") or st.halted):
            # every cycle checked: MEMORY is the reference machine's configuration, whose state
            # is named exactly (MEMORY alone cannot tell states with identical instructions)
            state = st.state
        return RunReport(
            reason=reason, cycles=self.cycle, steps=self.stepper.steps, state=state, head=head,
            cells=cells, elapsed=time.perf_counter() - self.started, checks=self.checks,
            divergence=divergence, error=error, model_seconds=self.model_seconds,
            tokens_in=self.tokens_in, tokens_out=self.tokens_out, cached=self.cached,
            resumed_from=self.resumed_from, notes=tuple(self.notes))

    def _finish(self, report: RunReport) -> None:
        if self._writer is None:
            return
        tape, start = self.program.machine.span_text(report.cells)
        try:
            self._writer.end(End(report.reason, report.cycles, report.steps, report.state,
                                 report.head, tape, start, report.error))
        except TraceError:
            pass
        self._writer.close()
        self._writer = None
