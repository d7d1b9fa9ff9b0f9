"""Exhaustive conformance: every distinct (state, symbol) prompt of a program, put to a backend once.

What a passing run of :func:`verify` proves, and under which assumptions, is stated in the
README ("What verify proves") and in :mod:`mannsim.program.check`: each answer must be right
at two heads of every (sign, length) class of the heads a run can reach, may not read the
tape, and meets the same caps as in a run; then, for a backend that answers a prompt the same
way every time, model plus memory simulates the machine exactly on every input within the
span cap, by induction on the steps.

A certificate (the JSON report) records the answers. ``audit`` (``verify --check``) proves the
certificate is consistent: that *these answers* make the machine run exactly. That *this model*
gave them is only recorded until ``replay`` (``verify --check --replay``) asks the backend again
and gets the same answers from the same weights.
"""
from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .backends.base import Backend, complete_all, same_backend
from .certificate import (
    CERT_VERSION,
    KIND,
    READ_VERSIONS,
    CertificateError,
    key_policy,
    parse_certificate,
    read_certificate,
)
from .limits import MAX_ANSWER, MAX_TAPE_SPAN
from .machine import canonical
from .program import Program
from .program.check import PROBE_HEADS, case_problem, tapeless_memory
from .safe_text import one_line
from .trace.header import provenance

__all__ = ["CERT_VERSION", "KIND", "READ_VERSIONS", "CaseResult", "CertificateError",
           "CompilationMismatch", "audit", "certificate", "compilation", "describe_compilation",
           "parse_certificate", "read_certificate", "replay", "verify"]

def sha(text: str) -> str:
    """A prompt's digest in a certificate."""
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


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
    truncated: bool = False

    @property
    def passed(self) -> bool:
        return self.effect


def verify(program: Program, backend: Backend, batch: int = 1,
           progress: Callable[[int, int], object] | None = None) -> list[CaseResult]:
    """Put every case to ``backend`` once; with ``batch`` > 1 and a backend that has
    ``complete_batch`` (hf), that many prompts decode side by side. ``progress(done, total)``
    is called after each case (one at a time)."""
    cases = program.cases()
    prompts = [c.prompt for c in cases]
    if batch > 1 and hasattr(backend, "complete_batch"):
        completions = complete_all(backend, prompts, batch)
    elif progress is not None:
        completions = []
        for p in prompts:
            completions += complete_all(backend, [p])
            progress(len(completions), len(prompts))
    else:
        completions = complete_all(backend, prompts)
    results = []
    base = tapeless_memory(program)
    for case, comp in zip(cases, completions):
        problem = case_problem(program, case.states, case.symbols, comp.text, comp.truncated,
                               base=base)
        results.append(CaseResult(case.states, case.symbols, case.prompt, case.answer, comp.text,
                                  comp.text == case.answer and not comp.truncated,
                                  problem is None, problem, comp.latency, comp.truncated))
    return results


def compilation(program: Program) -> dict[str, Any]:
    """Everything about a compilation that shapes a prompt or a verdict, as a certificate
    records it: the key policy, the dialect and its boot, a digest of the compiled MEMORY
    without tape (every instruction text, register and symbol code), the answer cap and the
    tape span (which fixes the probe heads)."""
    mem = tapeless_memory(program)
    memory = hashlib.sha256(json.dumps(sorted(mem.items()) + [["", mem.default]],
                                       ensure_ascii=False).encode("utf-8", "surrogatepass"))
    return {"keys": program.key_policy, "dialect": program.dialect.name,
            "dialect_sha256": program.dialect.digest, "boot_sha256": sha(program.dialect.boot),
            "memory_sha256": memory.hexdigest(), "max_answer": MAX_ANSWER,
            "tape_span": MAX_TAPE_SPAN}


def describe_compilation(c: dict[str, Any]) -> str:
    """One line: the compilation a certificate proves."""
    return (f"{c['keys']} keys, dialect {one_line(str(c['dialect']), 40)} "
            f"(sha256 {c['dialect_sha256'][:12]}), boot sha256 {c['boot_sha256'][:12]}, "
            f"MEMORY sha256 {c['memory_sha256'][:12]}, answers <= {c['max_answer']:,} "
            f"characters, heads within {c['tape_span']:,} cells")


def certificate(program: Program, backend: Backend,
                results: list[CaseResult]) -> dict[str, Any]:
    """The JSON report: what was checked, with what, and every answer."""
    passed = sum(r.passed for r in results)
    prov = provenance({"name": program.machine.name,
                       "sha256": canonical.digest(program.machine), "keys": program.key_policy},
                      {"name": program.dialect.name, "sha256": program.dialect.digest},
                      backend.identity())
    return {
        "mannsim": prov["mannsim"],
        "kind": KIND,
        "version": CERT_VERSION,
        "created": prov["created"],
        "program": prov["program"],
        "dialect": prov["dialect"],
        "backend": prov["backend"],
        "compilation": compilation(program),
        "checked_at_heads": list(PROBE_HEADS),
        "tape_span": MAX_TAPE_SPAN,
        "total": len(results),
        "passed": passed,
        "textual": sum(r.textual for r in results),
        "verdict": "pass" if passed == len(results) else "fail",
        "cases": [
            {"states": list(r.states), "symbols": list(r.symbols),
             "prompt_sha256": sha(r.prompt),
             "expected": r.expected, "answer": r.answer, "textual": r.textual,
             "effect": r.effect, "pass": r.passed, "problem": r.problem,
             "truncated": r.truncated, "latency_ms": round(r.latency * 1000, 3)}
            for r in results
        ],
    }


class CompilationMismatch(CertificateError):
    """A certificate made under other settings than the ones this check compiles with."""


def _bind(program: Program, report: dict[str, Any], path: str | None) -> dict[str, Any]:
    """The certificate must be for the compilation ``program`` is: the one ``run`` and
    ``verify`` make with the same options. Each difference is refused naming its field.
    Returns ``program``'s compilation (:func:`compilation`)."""
    now = compilation(program)
    def refuse(field: str, recorded: Any, now: Any, how: str) -> None:
        raise CompilationMismatch(
            f"field {field}: the certificate was made with {one_line(str(recorded), 60)}, this "
            f"check compiles with {one_line(str(now), 60)} (what run and verify use with these "
            f"options; {how})", path)

    if report["program"].get("sha256") != canonical.digest(program.machine):
        raise CertificateError("field program.sha256: the certificate is for another program",
                               path)
    if key_policy(report) != program.key_policy:
        refuse("program.keys", f"{key_policy(report)} keys", f"{program.key_policy} keys",
               f"pass --keys {key_policy(report)} to check that compilation")
    if report["dialect"].get("sha256") != program.dialect.digest:
        refuse("dialect.sha256", f"dialect {report['dialect'].get('name')}",
               f"dialect {program.dialect.name}",
               f"pass -d {one_line(str(report['dialect'].get('name')), 40)} if it is that "
               "dialect's current version")
    if report["version"] < 3:
        return now
    recorded = report["compilation"]
    for field, how in (("keys", "pass --keys"), ("dialect_sha256", "pass -d"),
                       ("boot_sha256", "the dialect's boot differs"),
                       ("memory_sha256", "the compiled MEMORY differs: another mannsim "
                                         "compiles this program otherwise"),
                       ("max_answer", "another mannsim's answer cap"),
                       ("tape_span", "another mannsim's tape span")):
        if recorded[field] != now[field]:
            refuse(f"compilation.{field}", recorded[field], now[field], how)
    if report.get("checked_at_heads") != list(PROBE_HEADS):
        refuse("checked_at_heads", "other probe heads", "these", "another mannsim")
    return now


def audit(program: Program, report: dict[str, Any],
          path: str | None = None) -> dict[str, Any]:
    """Re-check a certificate against ``program`` without any model: the compilation it was
    made for (refused unless it is ``program``'s), the set of cases, every prompt hash, and
    every recorded answer's effect with its recorded truncation. Returns a summary; raises
    :class:`CertificateError` at the first inconsistency.

    A version-2 certificate is re-checked under the current rules: a case whose verdict
    changes is listed in ``changed`` rather than refused (the rules changed, not the record),
    and it recorded no truncation, which the summary says (``truncation_recorded``)."""
    proved = _bind(program, report, path)
    old = report["version"] < 3
    cases = {(tuple(c.states), tuple(c.symbols)): c for c in program.cases()}
    seen = set()
    passed = 0
    changed = []
    base = tapeless_memory(program)
    for k, rec in enumerate(report["cases"], 1):
        key = (tuple(rec["states"]), tuple(rec["symbols"]))
        where = f"case {k} ({one_line('/'.join(key[0]), 40)}, {one_line('/'.join(key[1]), 40)})"
        case = cases.get(key)
        if case is None or key in seen:
            raise CertificateError(f"{where} is not a case of this program, or appears twice", path)
        seen.add(key)
        if rec.get("prompt_sha256") != sha(case.prompt):
            raise CertificateError(f"{where}: the prompt hash differs from this program's", path)
        truncated = bool(rec.get("truncated", False))
        ok = case_problem(program, key[0], key[1], rec["answer"], truncated, base=base) is None
        if ok != rec["pass"]:
            if not old:
                raise CertificateError(f"{where}: recorded {'pass' if rec['pass'] else 'fail'}, "
                                       f"but the answer re-checks as {'pass' if ok else 'fail'}",
                                       path)
            changed.append((where, rec["pass"], ok))
        passed += ok
    if len(seen) != len(cases):
        raise CertificateError(f"{len(cases) - len(seen)} of the program's {len(cases)} cases "
                               "are missing", path)
    verdict = "pass" if passed == len(cases) else "fail"
    if not old and (report["passed"], report["total"], report["verdict"]) != (
            passed, len(cases), verdict):
        raise CertificateError("the totals or the verdict do not match the cases", path)
    return {"cases": len(cases), "passed": passed, "verdict": verdict,
            "backend": report["backend"], "compilation": proved,
            "version": report["version"], "changed": changed, "truncation_recorded": not old}


def replay(program: Program, report: dict[str, Any], backend: Backend,
           path: str | None = None) -> dict[str, Any]:
    """Ask ``backend`` every prompt of an audited certificate again; the answers must be the
    recorded ones, from the recorded backend, model and weights. Returns a summary with the
    cases whose answer differs; raises :class:`CertificateError` when the backend is not the
    certificate's."""
    why = same_backend(backend.identity(), report["backend"], "the certificate")
    if why:
        raise CertificateError(f"cannot replay: {why}", path)
    recorded = {(tuple(c["states"]), tuple(c["symbols"])): (c["answer"],
                                                            bool(c.get("truncated", False)))
                for c in report["cases"]}
    cases = program.cases()
    completions = complete_all(backend, [c.prompt for c in cases])
    differ = [(c, comp.text + (" (cut at the token limit)" if comp.truncated else ""))
              for c, comp in zip(cases, completions)
              if (comp.text, comp.truncated) != recorded[(tuple(c.states), tuple(c.symbols))]]
    return {"cases": len(cases), "same": len(cases) - len(differ), "differ": differ}
