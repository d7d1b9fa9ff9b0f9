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
import re
import time
from dataclasses import dataclass

from . import __version__
from .backends.base import Backend, same_backend
from .errors import MannsimError
from .limits import MAX_FILE_BYTES, MAX_TAPE_SPAN
from .machine import canonical
from .program import Program
from .program.compiler import KEY_POLICIES
from .program.check import PROBE_HEADS, case_problem, tapeless_memory
from .safe_text import one_line

KIND = "mannsim-verify"
#: Version 2: the program is hashed in canonical form; answers are checked at PROBE_HEADS.
CERT_VERSION = 2


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

    @property
    def passed(self) -> bool:
        return self.effect


def verify(program: Program, backend: Backend, batch: int = 1,
           progress=None) -> list[CaseResult]:
    """Put every case to ``backend`` once; with ``batch`` > 1 and a backend that has
    ``complete_batch`` (hf), that many prompts decode side by side. ``progress(done, total)``
    is called after each case (one at a time)."""
    cases = program.cases()
    prompts = [c.prompt for c in cases]
    if batch > 1 and hasattr(backend, "complete_batch"):
        completions = backend.complete_batch(prompts, batch)
    elif progress is not None:
        completions = []
        for p in prompts:
            completions += backend.complete([p])
            progress(len(completions), len(prompts))
    else:
        completions = backend.complete(prompts)
    results = []
    base = tapeless_memory(program)
    for case, comp in zip(cases, completions):
        problem = case_problem(program, case.states, case.symbols, comp.text, comp.truncated,
                               base=base)
        results.append(CaseResult(case.states, case.symbols, case.prompt, case.answer, comp.text,
                                  comp.text == case.answer, problem is None, problem,
                                  comp.latency))
    return results


def certificate(program: Program, backend: Backend, results: list[CaseResult]) -> dict:
    """The JSON report: what was checked, with what, and every answer."""
    passed = sum(r.passed for r in results)
    return {
        "mannsim": __version__,
        "kind": KIND,
        "version": CERT_VERSION,
        "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "program": {"name": program.machine.name, "sha256": canonical.digest(program.machine),
                    "keys": program.key_policy},
        "dialect": {"name": program.dialect.name, "sha256": program.dialect.digest},
        "backend": backend.identity(),
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
             "latency_ms": round(r.latency * 1000, 3)}
            for r in results
        ],
    }


MAX_CERTIFICATE_BYTES = MAX_FILE_BYTES
_BACKEND_NAME = re.compile(r"[A-Za-z0-9_.-]{1,40}", re.ASCII)
_SHA = re.compile(r"[0-9a-f]{64}", re.ASCII)


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
    if not isinstance(report, dict) or report.get("kind") != KIND:
        raise CertificateError("not a mannsim verify report (no \"kind\": \"mannsim-verify\")", path)
    if report.get("version") != CERT_VERSION:
        raise CertificateError(f"certificate version {str(report.get('version'))[:20]} is not "
                               f"{CERT_VERSION}: verify the program again to get a current one",
                               path)
    for key, kind in (("program", dict), ("dialect", dict), ("backend", dict), ("cases", list),
                      ("total", int), ("passed", int), ("verdict", str)):
        if not isinstance(report.get(key), kind):
            raise CertificateError(f"field {key!r} is missing or not a {kind.__name__}", path)
    _check_identity(report, path)
    for k, case in enumerate(report["cases"], 1):
        if not (isinstance(case, dict) and isinstance(case.get("answer"), str)
                and isinstance(case.get("pass"), bool)
                and all(isinstance(case.get(f), list) and case[f]
                        and all(isinstance(x, str) for x in case[f])
                        for f in ("states", "symbols"))):
            raise CertificateError(f"case {k} is malformed (needs states, symbols, answer, pass)",
                                   path)
    return report


def _check_identity(report: dict, path: str | None) -> None:
    """The text fields a person reads: names, hashes and the backend's identity."""
    from .machine.model import has_control

    def readable(field: str, value) -> None:  # None, or short text without control characters
        if value is not None and not (isinstance(value, str) and len(value) <= 300
                                      and not has_control(value)):
            raise CertificateError(f"{field} must be a string of at most 300 characters "
                                   "without control characters", path)

    be = report["backend"]
    if not (isinstance(be.get("name"), str) and _BACKEND_NAME.fullmatch(be["name"])):
        raise CertificateError("backend name must be 1-40 characters of A-Z a-z 0-9 _ . -", path)
    readable("backend model", be.get("model"))
    weights = be.get("weights")
    if weights is not None and not (isinstance(weights, str) and _SHA.fullmatch(weights)):
        raise CertificateError("backend weights must be a sha256 (64 hex digits) or null", path)
    if key_policy(report) not in KEY_POLICIES:
        raise CertificateError(f"program keys must be one of {', '.join(KEY_POLICIES)}", path)
    for part in ("program", "dialect"):
        readable(f"{part} name", report[part].get("name"))
        if not (isinstance(report[part].get("sha256"), str) and _SHA.fullmatch(report[part]["sha256"])):
            raise CertificateError(f"{part} sha256 must be 64 hex digits", path)


def key_policy(report: dict) -> str:
    """How the certified program named its MEMORY keys (certificates before register keys:
    ``names``)."""
    return report["program"].get("keys", "names")


def audit(program: Program, report: dict, path: str | None = None) -> dict:
    """Re-check a certificate against ``program`` without any model: the hashes, the set of
    cases, every prompt hash, and every recorded answer's effect. Returns a summary; raises
    :class:`CertificateError` at the first inconsistency."""
    if report["program"].get("sha256") != canonical.digest(program.machine):
        raise CertificateError("the certificate is for another program (sha256 differs)", path)
    if key_policy(report) != program.key_policy:
        raise CertificateError(f"the certificate was compiled with {key_policy(report)} keys, "
                               f"not {program.key_policy}", path)
    if report["dialect"].get("sha256") != program.dialect.digest:
        raise CertificateError(f"the certificate is for another dialect (it names "
                               f"{str(report['dialect'].get('name'))[:40]!r})", path)
    cases = {(tuple(c.states), tuple(c.symbols)): c for c in program.cases()}
    seen = set()
    passed = 0
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
        ok = case_problem(program, key[0], key[1], rec["answer"], base=base) is None
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


def replay(program: Program, report: dict, backend: Backend, path: str | None = None) -> dict:
    """Ask ``backend`` every prompt of an audited certificate again; the answers must be the
    recorded ones, from the recorded backend, model and weights. Returns a summary with the
    cases whose answer differs; raises :class:`CertificateError` when the backend is not the
    certificate's."""
    why = same_backend(backend.identity(), report["backend"], "the certificate")
    if why:
        raise CertificateError(f"cannot replay: {why}", path)
    recorded = {(tuple(c["states"]), tuple(c["symbols"])): c["answer"] for c in report["cases"]}
    cases = program.cases()
    completions = backend.complete([c.prompt for c in cases])
    differ = [(c, comp.text) for c, comp in zip(cases, completions)
              if comp.text != recorded[(tuple(c.states), tuple(c.symbols))]]
    return {"cases": len(cases), "same": len(cases) - len(differ), "differ": differ}
