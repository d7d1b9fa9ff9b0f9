"""Exhaustive conformance: every distinct (state, symbol) prompt of a program, put to a backend once.

Greedy decoding makes the model a function of the prompt, and the prompt of a cycle depends
only on (state, symbol under the head). So if every distinct prompt gets an answer with the
right effect (next instruction, symbol written, head move, or halt), the model plus memory
simulates the machine exactly, for every input, by induction on the steps (Schuurmans 2023).
"""
from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass

from . import __version__
from .backends.base import Backend
from .computer import check_cycle, sha
from .machine.formats import native
from .memory import Memory, MemoryError_, apply_answer
from .program import Program


@dataclass
class CaseResult:
    states: tuple[str, ...]
    symbols: tuple[str, ...]
    prompt: str
    expected: str
    answer: str
    textual: bool
    effect: bool
    problem: str | None
    latency: float

    @property
    def passed(self) -> bool:
        return self.effect


def check_effect(program: Program, state: str, symbol: str, answer: str) -> str | None:
    """Apply ``answer`` to a MEMORY in (state, symbol) with the head on cell 0; what is wrong?"""
    mem = program.initial_memory()
    for key in [k for k in mem if k.lstrip("-").isdigit()]:
        del mem[key]
    mem["op"], mem["i"], mem["0"] = program.texts[state], "0", program.codes[symbol]
    before = {"i": mem.get("i"), "0": mem.get("0"), "op": mem["op"], "halted": mem.get("halted")}
    t = program.machine.transition(state, symbol)
    try:
        assigns, updates = apply_answer(answer, mem)
    except MemoryError_ as e:
        return f"answer could not be applied: {e}"
    return check_cycle(program, mem, t, state if t is None else t.next, 0, assigns, updates, before)


def verify(program: Program, backend: Backend) -> list[CaseResult]:
    cases = program.cases()
    completions = backend.complete([c.prompt for c in cases])
    results = []
    for case, comp in zip(cases, completions):
        problems = [check_effect(program, q, s, comp.text) for q in case.states for s in case.symbols]
        problem = next((p for p in problems if p), None)
        if not comp.text.strip():
            problem = problem or "empty answer"
        results.append(CaseResult(case.states, case.symbols, case.prompt, case.answer, comp.text,
                                  comp.text == case.answer, problem is None, problem,
                                  comp.latency))
    return results


def certificate(program: Program, backend: Backend, results: list[CaseResult]) -> dict:
    """The JSON report: what was checked, with what, and every answer."""
    text = native.dump(program.machine)
    passed = sum(r.passed for r in results)
    return {
        "mannsim": __version__,
        "kind": "mannsim-verify",
        "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "program": {"name": program.machine.name, "sha256": sha(text)},
        "dialect": {"name": program.dialect.name, "sha256": program.dialect.digest},
        "backend": backend.identity(),
        "total": len(results),
        "passed": passed,
        "textual": sum(r.textual for r in results),
        "verdict": "pass" if passed == len(results) else "fail",
        "cases": [
            {"states": list(r.states), "symbols": list(r.symbols),
             "prompt_sha256": hashlib.sha256(r.prompt.encode()).hexdigest(),
             "expected": r.expected, "answer": r.answer, "textual": r.textual,
             "effect": r.effect, "pass": r.passed, "problem": r.problem,
             "latency_ms": round(r.latency * 1000, 3)}
            for r in results
        ],
    }
