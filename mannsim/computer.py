"""The stored-instruction computer: read -> compute -> write, checked against the reference.

Each cycle renders ``op`` (read substitution), asks the backend once, and applies its answer
(write substitution, assignments, updates). A :class:`~mannsim.machine.Stepper` runs beside it:
after every cycle the configuration decoded from MEMORY must equal the reference's, otherwise
the run stops with a :class:`Divergence` report. Answers that do not parse, are too long, or write
where they should not are divergences, never crashes.
"""
from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from . import __version__
from .backends.base import MAX_ANSWER, Backend, Completion, complete_all
from .errors import MannsimError
from .limits import DEFAULT_BACKEND_STEPS, MAX_TAPE_SPAN
from .machine import Stepper, canonical
from .memory import Memory, MemoryError_, Renderer
from .program import HALT, Program
from .program.check import answer_problem, apply_checked
from .trace import TraceError, TraceWriter, prompt_hash
from .trace.compact import SNAP_EVERY


@dataclass
class Divergence:
    cycle: int
    reason: str
    expected: dict
    actual: dict
    prompt: str
    answer: str
    parsed: dict

    def as_dict(self) -> dict:
        return {"cycle": self.cycle, "reason": self.reason, "expected": self.expected,
                "actual": self.actual, "prompt": self.prompt, "answer": self.answer,
                "parsed": self.parsed}


@dataclass
class RunReport:
    reason: str                      # halt | max_steps | divergence | interrupted | error
    cycles: int
    steps: int                       # reference steps taken
    state: str | None
    head: int | None
    cells: dict[int, str]
    elapsed: float
    checks: int                      # cycles checked against the reference and found equal
    divergence: Divergence | None = None
    error: str | None = None
    model_seconds: float = 0.0
    tokens_in: int = 0
    tokens_out: int = 0
    cached: int = 0
    resumed_from: int = 0
    notes: tuple[str, ...] = ()

    @property
    def halted(self) -> bool:
        return self.reason == "halt"

    @property
    def diverged(self) -> bool:
        return self.divergence is not None

    def as_dict(self, machine) -> dict:
        """The report as ``run --json`` prints it (``machine`` spells the tape)."""
        tape, start = machine.span_text(self.cells)
        d = self.divergence
        return {
            "steps": self.steps, "cycles": self.cycles, "halted": self.halted,
            "reason": self.reason, "final_state": self.state, "head": self.head,
            "tape": tape, "tape_start": start, "nonblank": len(self.cells),
            "checks": self.checks, "diverged": d is not None,
            "divergence_step": d.cycle if d else None, "divergence": d.as_dict() if d else None,
            "cached": self.cached, "seconds": round(self.elapsed, 6), "error": self.error,
            "resumed_from": self.resumed_from,
        }


class Computer:
    """Runs a :class:`Program` on a backend, in lockstep with the reference machine."""

    def __init__(self, program: Program, backend: Backend, *, max_steps: int = DEFAULT_BACKEND_STEPS,
                 trace: str | None = None, memo: bool = False,
                 progress: Callable[[Computer], None] | None = None):
        self.program = program
        self.backend = backend
        self.max_steps = max_steps
        self.trace_path = trace
        self.memo = {} if memo else None
        self.progress = progress
        self.memory: Memory = program.initial_memory()
        self.render = Renderer(self.memory)
        self.stepper = Stepper(program.machine)
        self.cycle = 0               # cycles done (checked or diverged)
        self.result: RunReport | None = None
        self.failure: MannsimError | None = None  # the error that stopped the run, if any
        self.divergence: Divergence | None = None
        self.checks = 0
        self.model_seconds = 0.0
        self.tokens_in = self.tokens_out = self.cached = 0
        self.resumed_from = 0
        #: what a resume found worth saying (a verdict the current rules changed)
        self.notes: list[str] = []
        self.finished = False
        self._writer: TraceWriter | None = None
        self._prompt_hash: dict[str, str] = {}
        self.started = time.perf_counter()

    # -- trace -------------------------------------------------------------------------
    def header(self) -> dict:
        machine = self.program.machine
        return {
            "mannsim": __version__,
            "program": {"name": machine.name, "path": machine.path,
                        "sha256": canonical.digest(machine), "machine": canonical.to_data(machine),
                        "keys": self.program.key_policy},
            "dialect": {"name": self.program.dialect.name, "sha256": self.program.dialect.digest},
            "backend": self.backend.identity(),
            "settings": {"max_steps": self.max_steps, "memo": self.memo is not None},
            "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        }

    def _open_trace(self, append: bool = False) -> None:
        if self.trace_path and self._writer is None:
            self._writer = TraceWriter(self.trace_path, None if append else self.header(),
                                       append=append)

    def _digest(self, prompt: str) -> str:
        """The prompt's trace hash, cached (a run has few distinct prompts)."""
        digest = self._prompt_hash.get(prompt)
        if digest is None:
            digest = prompt_hash(prompt)
            if len(self._prompt_hash) < 65536:
                self._prompt_hash[prompt] = digest
        return digest

    def _hash_prompt(self, prompt: str) -> str:
        """The prompt's hash, its text written to the trace the first time."""
        digest = self._digest(prompt)
        if self._writer is not None and not self._writer.knows_prompt(digest):
            self._writer.add_prompt(digest, prompt)
        return digest

    # -- one cycle ----------------------------------------------------------------------
    def _ask(self, prompt: str) -> Completion:
        if self.memo is not None:
            hit = self.memo.get(prompt)
            if hit is not None:
                self.cached += 1
                # no model call: no latency and no tokens (the first call counted them)
                return Completion(hit.text, 0, 0, 0.0, cached=True)
        completion = complete_all(self.backend, [prompt])[0]
        if self.memo is not None and len(self.memo) < 1 << 16:
            self.memo[prompt] = completion
        return completion

    def step(self) -> Divergence | None:
        """One read -> compute -> write cycle, checked. Returns a divergence or None."""
        st = self.stepper
        state, head, read = st.state, st.head, st.read()
        self.cycle += 1
        n = self.cycle
        try:
            prompt = self.render(self.memory["op"])
        except MemoryError_ as e:
            return self._diverge(n, f"read substitution failed: {e}", state, head, read,
                                 self.memory["op"], "", {})
        completion = self._ask(prompt)
        self.model_seconds += completion.latency
        self.tokens_in += completion.tokens_in
        self.tokens_out += completion.tokens_out
        t, problem, answer, parsed = self._execute(head, completion.text, completion.truncated)
        if self._writer is not None:
            self._writer.write({
                "t": "cycle", "n": n, "state": state, "head": head, "read": read,
                "prompt": self._hash_prompt(prompt), "answer": answer,
                "writes": parsed.get("writes", []), "updates": parsed.get("updates", []),
                "check": "diverged" if problem else "ok",
                "ms": round(completion.latency * 1000, 3), "tin": completion.tokens_in,
                "tout": completion.tokens_out, "cached": completion.cached,
                # the answer was cut at the token limit, or is stored cut at MAX_ANSWER: a
                # replay must reject it as the run did, whatever its text
                **({"cut": True} if completion.truncated or len(completion.text) > MAX_ANSWER
                   else {}),
            })
        if problem:
            return self._diverge(n, problem, state, head, read, prompt, answer, parsed, t)
        self.checks += 1
        if self._writer is not None and self._writer.compact and n % SNAP_EVERY == 0:
            self._writer.write(self._snapshot())
        return None

    def _snapshot(self) -> dict:
        """The machine after this cycle, for a compact trace (views open any cycle from the
        nearest snapshot; a resume checks each one)."""
        st = self.stepper
        cells = st.cells
        lo, hi = (min(cells), max(cells)) if cells else (st.head, st.head)
        blank = self.program.machine.blank
        return {"t": "snap", "cycles": self.cycle, "state": st.state, "head": st.head,
                "tape": [cells.get(c, blank) for c in range(lo, hi + 1)], "tape_start": lo}

    def _execute(self, head: int, answer: str, truncated: bool = False):
        """The write half of a cycle, checked: step the reference machine, apply ``answer``
        under the caps, compare. Returns (transition, problem or None, answer, parsed)."""
        mem = self.memory
        t = self.stepper.step()
        parsed: dict = {}
        problem = answer_problem(answer, truncated)
        if problem:
            return t, problem, answer[:MAX_ANSWER], parsed
        problem, applied = apply_checked(self.program, mem, t, self.stepper.state, head, answer)
        if applied is not None:
            assigns, updates = applied
            parsed = {"writes": self.program.writes_record(assigns, t and t.next),
                      "updates": updates}
        return t, problem, answer, parsed

    def _diverge(self, n, reason, state, head, read, prompt, answer, parsed, t=None) -> Divergence:
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
            self._writer.write({"t": "divergence", **div.as_dict()})
        return div

    # -- the loop -----------------------------------------------------------------------
    def cycles(self, *, append: bool = False) -> Iterator[int]:
        """The run, one checked cycle at a time: the primitive every driver consumes (the CLI's
        plain and live runs, the viewer's worker thread, tests).

        Yields each cycle's number once it is checked and written to the trace; between two
        yields the computer's fields (``stepper``, ``memory``, ``cycle``, ``checks``...) are
        that cycle's. The run ends by itself at the halt, at ``max_steps``, at a divergence
        (its cycle is yielded, then the run stops) or an error; a consumer that stops early
        (``break`` or ``close()``) or a Ctrl-C ends it as ``interrupted``. Either way the trace
        is finished (its end record written) and :attr:`result` holds the :class:`RunReport`.
        """
        self._open_trace(append)
        reason, divergence, error = "max_steps", None, None
        self.started = time.perf_counter()
        try:
            while True:
                if self.memory.get("op") == HALT:
                    reason = "halt"
                    break
                if self.cycle >= self.max_steps:
                    break
                if abs(self.stepper.head) > MAX_TAPE_SPAN:
                    raise MannsimError(f"the head reached cell {self.stepper.head:,}: past the "
                                       f"tape span cap of {MAX_TAPE_SPAN:,} cells from cell 0")
                divergence = self.step()
                if divergence is not None:
                    reason = "divergence"
                    self.divergence = divergence
                    yield self.cycle
                    break
                yield self.cycle
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
            self.result = self.report(reason, divergence, error)
            self.finished = True
            self._finish(self.result)

    def run(self, *, append: bool = False) -> RunReport:
        """Drive :meth:`cycles` to the end, calling ``progress(self)`` after every cycle (it
        throttles itself; ``self.finished`` marks the last, exact call)."""
        run = self.cycles(append=append)
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
        return self.result

    def report(self, reason, divergence=None, error=None) -> RunReport:
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
            self._writer.write({"t": "end", "reason": report.reason, "cycles": report.cycles,
                                "steps": report.steps, "state": report.state, "head": report.head,
                                "tape": tape, "tape_start": start,
                                "error": report.error})
        except TraceError:
            pass
        self._writer.close()
        self._writer = None

    # -- resume -------------------------------------------------------------------------
    @classmethod
    def resume(cls, trace_path: str, backend: Backend, *, max_steps: int | None = None,
               memo: bool = False, progress=None, dialect=None, machine=None) -> Computer:
        """Rebuild a run from its trace and re-check it (:meth:`replayed`), then go on
        appending after the last valid record with the same backend."""
        comp = cls.replayed(trace_path, backend, max_steps=max_steps, memo=memo,
                            progress=progress, dialect=dialect, machine=machine)
        comp._writer = TraceWriter(trace_path, None, append=True, keep=comp._keep_bytes)
        comp._writer._prompts.update(comp._trace_prompts)
        for k, case in comp._trace_cases.items():
            comp._writer.knows_case(k, case)
        comp._writer.write({"t": "resume", "from": comp.resumed_from, "mannsim": __version__,
                            "backend": backend.identity()})
        return comp

    @classmethod
    def replayed(cls, trace_path: str, backend: Backend | None = None, *,
                 max_steps: int | None = None, memo: bool = False, progress=None, dialect=None,
                 machine=None) -> Computer:
        """The computer in the state a trace leaves it, every recorded cycle re-checked (see
        :func:`mannsim.replay.replayed`). Nothing is written."""
        from .replay import replayed
        return replayed(cls, trace_path, backend, max_steps=max_steps, memo=memo,
                        progress=progress, dialect=dialect, machine=machine)
