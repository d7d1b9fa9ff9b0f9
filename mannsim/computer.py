"""The stored-instruction computer: read -> compute -> write, checked against the reference.

Each cycle renders ``op`` (read substitution), asks the backend once, and applies its answer
(write substitution, assignments, updates). A :class:`~mannsim.machine.Stepper` runs beside it:
after every cycle the configuration decoded from MEMORY must equal the reference's, otherwise
the run stops with a :class:`Divergence` report. Answers that do not parse, are too long, or write
where they should not are divergences, never crashes.
"""
from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass, field
from typing import Callable

from . import __version__
from .backends.base import MAX_ANSWER, Backend, Completion
from .errors import MannsimError
from .machine import Stepper
from .machine.formats import native
from .memory import Memory, MemoryError_, Renderer, apply_answer
from .program import HALT, Program, compile_program, load_dialect
from .trace import TraceError, TraceWriter, read_trace

#: Farthest cell from 0 a run may reach (every cell visited becomes a MEMORY key).
MAX_TAPE_SPAN = 1 << 22


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
    extra: dict = field(default_factory=dict)

    @property
    def halted(self) -> bool:
        return self.reason == "halt"

    @property
    def diverged(self) -> bool:
        return self.divergence is not None


def sha(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def check_cycle(prog: Program, mem: Memory, t, state_after: str, head: int, assigns, updates,
                before: dict) -> str | None:
    """Compare MEMORY after one cycle with the reference transition ``t`` (``None``: halt).

    ``state_after`` is the reference state after the transition (the halting state when
    ``t`` is None), ``head`` the head before it, ``before`` the values of ``i`` and the head
    cell before the cycle. Returns what is wrong, or None.
    """
    allowed = {"op", "i", str(head)}
    if prog.named_halts:
        allowed.add("halted")
    for label, _ in assigns:
        if label not in allowed:
            return f"answer writes {label!r}, which this cycle may not write"
    for label, _ in updates:
        if label != "i":
            return f"answer updates {label!r}, which this cycle may not update"
    op = mem.get("op")
    if t is None:
        if op != HALT:
            return "the reference machine halts here but op is not 'halt'"
        if prog.named_halts and prog.state_of(mem) != state_after:
            return "halted in the wrong halting state"
        if mem.get("i") != before["i"] or mem.get(str(head)) != before[str(head)]:
            return "the halting answer changed the tape or the head"
        return None
    if op != prog.texts[t.next]:
        return "op is not the instruction of the next state"
    try:
        i = int(mem.get("i", ""))
    except ValueError:
        return "i is not an integer"
    if i != head + t.move:
        return "head moved to the wrong cell"
    if mem.get(str(head), mem.default) != prog.codes[t.write]:
        return "wrong symbol written"
    return None


class Computer:
    """Runs a :class:`Program` on a backend, in lockstep with the reference machine."""

    PROGRESS_EVERY = 256

    def __init__(self, program: Program, backend: Backend, *, max_steps: int = 10**7,
                 trace: str | None = None, memo: bool = False,
                 progress: Callable[["Computer"], None] | None = None):
        self.program = program
        self.backend = backend
        self.max_steps = max_steps
        self.trace_path = trace
        self.memo = {} if memo else None
        self.progress = progress
        self.memory: Memory = program.initial_memory()
        self.render = Renderer(self.memory)
        self.stepper = Stepper(program.machine)
        self.cycles = 0
        self.checks = 0
        self.model_seconds = 0.0
        self.tokens_in = self.tokens_out = self.cached = 0
        self.resumed_from = 0
        self._writer: TraceWriter | None = None
        self._prompt_hash: dict[str, str] = {}
        self.started = time.perf_counter()

    # -- trace -------------------------------------------------------------------------
    def header(self) -> dict:
        machine = self.program.machine
        text = native.dump(machine)
        return {
            "mannsim": __version__,
            "program": {"name": machine.name, "path": machine.path, "sha256": sha(text), "text": text},
            "dialect": {"name": self.program.dialect.name, "sha256": self.program.dialect.digest},
            "backend": self.backend.identity(),
            "settings": {"max_steps": self.max_steps, "memo": self.memo is not None},
            "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        }

    def _open_trace(self, append: bool = False) -> None:
        if self.trace_path and self._writer is None:
            self._writer = TraceWriter(self.trace_path, None if append else self.header(),
                                       append=append)

    def _hash_prompt(self, prompt: str) -> str:
        digest = self._prompt_hash.get(prompt)
        if digest is None:
            digest = sha(prompt)[:16]
            if len(self._prompt_hash) < 65536:
                self._prompt_hash[prompt] = digest
        if self._writer is not None and not self._writer.knows_prompt(digest):
            self._writer.add_prompt(digest, prompt)
        return digest

    # -- one cycle ----------------------------------------------------------------------
    def _ask(self, prompt: str) -> Completion:
        if self.memo is not None:
            hit = self.memo.get(prompt)
            if hit is not None:
                self.cached += 1
                return Completion(hit.text, hit.tokens_in, hit.tokens_out, 0.0, cached=True)
        completion = self.backend.complete([prompt])[0]
        if self.memo is not None and len(self.memo) < 1 << 16:
            self.memo[prompt] = completion
        return completion

    def _writes_summary(self, assigns) -> list:
        out = []
        for label, value in assigns:
            if len(value) > 80:
                q = self.program.state_of_text.get(value)
                value = f"<instruction {self.program.keys[q]}>" if q else value[:80] + "…"
            out.append([label, value])
        return out

    def step(self) -> Divergence | None:
        """One read -> compute -> write cycle, checked. Returns a divergence or None."""
        mem, st = self.memory, self.stepper
        state, head = st.state, st.head
        read = st.read()
        self.cycles += 1
        n = self.cycles
        try:
            prompt = self.render(mem["op"])
        except MemoryError_ as e:
            return self._diverge(n, f"read substitution failed: {e}", state, head, read, mem["op"], "", {})
        completion = self._ask(prompt)
        answer = completion.text
        self.model_seconds += completion.latency
        self.tokens_in += completion.tokens_in
        self.tokens_out += completion.tokens_out
        t = st.step()
        parsed: dict = {}
        problem = None
        if len(answer) > MAX_ANSWER or completion.truncated:
            problem = f"answer longer than {MAX_ANSWER} characters (or cut at the token limit)"
            answer = answer[:MAX_ANSWER]
        elif not answer.strip():
            problem = "empty answer"
        else:
            before = {k: mem.get(k) for k in ("op", "i", str(head), "halted")}
            try:
                assigns, updates = apply_answer(answer, mem)
                parsed = {"writes": self._writes_summary(assigns), "updates": updates}
                problem = self._check(t, head, read, assigns, updates, before)
            except MemoryError_ as e:
                problem = f"answer could not be applied: {e}"
        if self._writer is not None:
            self._writer.write({
                "t": "cycle", "n": n, "state": state, "head": head, "read": read,
                "prompt": self._hash_prompt(prompt), "answer": answer,
                "writes": parsed.get("writes", []), "updates": parsed.get("updates", []),
                "check": "diverged" if problem else "ok",
                "ms": round(completion.latency * 1000, 3), "tin": completion.tokens_in,
                "tout": completion.tokens_out, "cached": completion.cached,
            })
        if problem:
            return self._diverge(n, problem, state, head, read, prompt, answer, parsed, t)
        self.checks += 1
        return None

    def _check(self, t, head, read, assigns, updates, before) -> str | None:
        return check_cycle(self.program, self.memory, t, self.stepper.state, head, assigns,
                           updates, before)

    def _diverge(self, n, reason, state, head, read, prompt, answer, parsed, t=None) -> Divergence:
        prog, mem, st = self.program, self.memory, self.stepper
        expected = {"state": st.state, "head": st.head, "answer": prog.answer(state, read),
                    "written": None if t is None else t.write}
        dstate, dhead, _ = prog.decode(mem)
        actual = {"state": dstate, "head": dhead, "op": (mem.get("op") or "")[:200],
                  "written": prog.symbol_of.get(mem.get(str(head), mem.default),
                                                mem.get(str(head), mem.default))}
        div = Divergence(n, reason, expected, actual, prompt, answer, parsed)
        if self._writer is not None:
            self._writer.write({"t": "divergence", **div.as_dict()})
        return div

    # -- the loop -----------------------------------------------------------------------
    def run(self, *, append: bool = False) -> RunReport:
        self._open_trace(append)
        reason, divergence, error = "max_steps", None, None
        self.started = time.perf_counter()
        every = self.PROGRESS_EVERY
        try:
            while True:
                if self.memory.get("op") == HALT:
                    reason = "halt"
                    break
                if self.cycles >= self.max_steps:
                    break
                if abs(self.stepper.head) > MAX_TAPE_SPAN:
                    raise MannsimError(f"the head reached cell {self.stepper.head}: past the "
                                       f"tape span cap of {MAX_TAPE_SPAN:,} cells from cell 0")
                divergence = self.step()
                if divergence is not None:
                    reason = "divergence"
                    break
                if self.progress is not None and self.cycles % every == 0:
                    self.progress(self)
        except KeyboardInterrupt:
            reason = "interrupted"
        except TraceError as e:
            reason, error = "error", str(e)
            self._writer = None  # the trace is valid up to its last whole record
        except MannsimError as e:
            reason, error = "error", str(e)
        report = self.report(reason, divergence, error)
        try:
            if self.progress is not None:
                self.progress(self)
        except KeyboardInterrupt:
            pass
        finally:
            self._finish(report)
        return report

    def report(self, reason, divergence=None, error=None) -> RunReport:
        state, head, cells = self.program.decode(self.memory)
        return RunReport(
            reason=reason, cycles=self.cycles, steps=self.stepper.steps, state=state, head=head,
            cells=cells, elapsed=time.perf_counter() - self.started, checks=self.checks,
            divergence=divergence, error=error, model_seconds=self.model_seconds,
            tokens_in=self.tokens_in, tokens_out=self.tokens_out, cached=self.cached,
            resumed_from=self.resumed_from)

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
               memo: bool = False, progress=None) -> "Computer":
        """Rebuild a run from its trace: replay the recorded answers, then go on appending."""
        trace = read_trace(trace_path)
        head = trace.header
        prog_info = head.get("program") or {}
        text = prog_info.get("text", "")
        if sha(text) != prog_info.get("sha256"):
            raise TraceError("the program in the trace header does not match its hash", trace_path, 1)
        machine = native.parse(text, prog_info.get("path") or trace_path)
        dialect = load_dialect(head.get("dialect", {}).get("name", ""))
        if dialect.digest != head.get("dialect", {}).get("sha256"):
            raise TraceError(f"dialect {dialect.name!r} changed since the trace was written",
                             trace_path, 1)
        program = compile_program(machine, dialect)
        settings = head.get("settings", {})
        comp = cls(program, backend, max_steps=max_steps or settings.get("max_steps", 10**7),
                   trace=trace_path, memo=memo, progress=progress)
        kept = 0
        for rec in trace.cycles:
            if rec.get("check") != "ok":
                break
            comp.cycles += 1
            comp.stepper.step()
            try:
                apply_answer(str(rec.get("answer", "")), comp.memory)
            except MemoryError_ as e:
                raise TraceError(f"cycle {comp.cycles} of the trace cannot be replayed: {e}",
                                 trace_path) from None
            comp.checks += 1
            kept += 1
        comp.resumed_from = kept
        comp._writer = TraceWriter(trace_path, None, append=True)
        comp._writer._prompts.update(trace.prompts)
        comp._writer.write({"t": "resume", "from": kept, "mannsim": __version__,
                            "backend": backend.identity()})
        return comp
