"""Exhaustive conformance: every distinct (state, symbol) prompt of a program, put to a backend once.

Greedy decoding makes the model a function of the prompt, and the prompt of a cycle depends
only on (state, symbol under the head). So if every distinct prompt gets an answer with the
right effect (next instruction, symbol written, head move, or halt), the model plus memory
simulates the machine exactly, for every input, by induction on the steps (Schuurmans 2023).
"""
from __future__ import annotations

import hashlib
import json
import time
from dataclasses import dataclass

from . import __version__
from .backends.base import Backend
from .computer import check_cycle, sha
from .errors import MannsimError
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


def case_problem(program: Program, states, symbols, answer: str) -> str | None:
    """What is wrong with ``answer`` for a case (every (state, symbol) it stands for), or None."""
    problems = [check_effect(program, q, s, answer) for q in states for s in symbols]
    problem = next((p for p in problems if p), None)
    if not answer.strip():
        problem = problem or "empty answer"
    return problem


def verify(program: Program, backend: Backend, batch: int = 1) -> list[CaseResult]:
    """Put every case to ``backend`` once; with ``batch`` > 1 and a backend that has
    ``complete_batch`` (hf), that many prompts decode side by side."""
    cases = program.cases()
    prompts = [c.prompt for c in cases]
    if batch > 1 and hasattr(backend, "complete_batch"):
        completions = backend.complete_batch(prompts, batch)
    else:
        completions = backend.complete(prompts)
    results = []
    for case, comp in zip(cases, completions):
        problem = case_problem(program, case.states, case.symbols, comp.text)
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


MAX_CERTIFICATE_BYTES = 16 << 20


class CertificateError(MannsimError):
    """A verify report that is not a valid certificate for the program."""


def read_certificate(path: str) -> dict:
    """Read a JSON report from disk: bounded, UTF-8, a JSON object of kind mannsim-verify."""
    try:
        with open(path, "rb") as f:
            data = f.read(MAX_CERTIFICATE_BYTES + 1)
    except OSError as e:
        raise CertificateError(f"cannot read: {e.strerror}", path) from None
    if len(data) > MAX_CERTIFICATE_BYTES:
        raise CertificateError(f"larger than {MAX_CERTIFICATE_BYTES} bytes", path)
    return parse_certificate(data, path)


def parse_certificate(data: bytes, path: str | None = None) -> dict:
    try:
        report = json.loads(data.decode("utf-8"))
    except UnicodeDecodeError:
        raise CertificateError("not UTF-8 text", path) from None
    except (json.JSONDecodeError, RecursionError) as e:
        line = getattr(e, "lineno", None)
        raise CertificateError(f"not JSON ({getattr(e, 'msg', 'nested too deeply')})", path,
                               line) from None
    if not isinstance(report, dict) or report.get("kind") != "mannsim-verify":
        raise CertificateError("not a mannsim verify report (no \"kind\": \"mannsim-verify\")", path)
    for key, kind in (("program", dict), ("dialect", dict), ("backend", dict), ("cases", list),
                      ("total", int), ("passed", int), ("verdict", str)):
        if not isinstance(report.get(key), kind):
            raise CertificateError(f"field {key!r} is missing or not a {kind.__name__}", path)
    for k, case in enumerate(report["cases"], 1):
        if not (isinstance(case, dict) and isinstance(case.get("answer"), str)
                and isinstance(case.get("pass"), bool)
                and all(isinstance(case.get(f), list) and case[f]
                        and all(isinstance(x, str) for x in case[f])
                        for f in ("states", "symbols"))):
            raise CertificateError(f"case {k} is malformed (needs states, symbols, answer, pass)",
                                   path)
    return report


def audit(program: Program, report: dict, path: str | None = None) -> dict:
    """Re-check a certificate against ``program`` without any model: the hashes, the set of
    cases, every prompt hash, and every recorded answer's effect. Returns a summary; raises
    :class:`CertificateError` at the first inconsistency."""
    text = native.dump(program.machine)
    if report["program"].get("sha256") != sha(text):
        raise CertificateError("the certificate is for another program (sha256 differs)", path)
    if report["dialect"].get("sha256") != program.dialect.digest:
        raise CertificateError(f"the certificate is for another dialect (it names "
                               f"{str(report['dialect'].get('name'))[:40]!r})", path)
    cases = {(tuple(c.states), tuple(c.symbols)): c for c in program.cases()}
    seen = set()
    passed = 0
    for k, rec in enumerate(report["cases"], 1):
        key = (tuple(rec["states"]), tuple(rec["symbols"]))
        where = f"case {k} ({'/'.join(key[0])[:40]}, {'/'.join(key[1])[:40]})"
        case = cases.get(key)
        if case is None or key in seen:
            raise CertificateError(f"{where} is not a case of this program, or appears twice", path)
        seen.add(key)
        if rec.get("prompt_sha256") != hashlib.sha256(case.prompt.encode()).hexdigest():
            raise CertificateError(f"{where}: the prompt hash differs from this program's", path)
        ok = case_problem(program, key[0], key[1], rec["answer"]) is None
        if ok != rec["pass"]:
            raise CertificateError(f"{where}: recorded {'pass' if rec['pass'] else 'fail'}, but "
                                   f"the answer re-checks as {'pass' if ok else 'fail'}", path)
        passed += ok
    if len(seen) != len(cases):
        raise CertificateError(f"{len(cases) - len(seen)} of the program's {len(cases)} cases "
                               "are missing", path)
    verdict = "pass" if passed == len(cases) else "fail"
    if (report["passed"], report["total"], report["verdict"]) != (passed, len(cases), verdict):
        raise CertificateError("the totals or the verdict do not match the cases", path)
    return {"cases": len(cases), "passed": passed, "verdict": verdict,
            "backend": report["backend"]}
