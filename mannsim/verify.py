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
from .backends.base import Backend, complete_all, same_backend
from .errors import MannsimError, read_bounded
from .limits import MAX_ANSWER, MAX_FILE_BYTES, MAX_TAPE_SPAN
from .machine import canonical
from .program import Program
from .program.check import PROBE_HEADS, case_problem, tapeless_memory
from .program.compiler import KEY_POLICIES
from .safe_text import one_line

KIND = "mannsim-verify"
#: Version 2: the program is hashed in canonical form; answers are checked at PROBE_HEADS.
#: Version 3: a cell never written is the blank in every check (the MEMORY lemma); each case
#: records whether its answer was cut at the token limit; ``compilation`` binds everything
#: that shapes a prompt or a verdict (key policy, dialect and boot, the compiled MEMORY, caps).
CERT_VERSION = 3
#: Versions still read: a version-2 certificate is re-checked under version 3's rules and
#: every case whose verdict changes is reported (it recorded no truncation: not proved).
READ_VERSIONS = (2, 3)


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
           progress=None) -> list[CaseResult]:
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


def compilation(program: Program) -> dict:
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


def describe_compilation(c: dict) -> str:
    """One line: the compilation a certificate proves."""
    return (f"{c['keys']} keys, dialect {one_line(str(c['dialect']), 40)} "
            f"(sha256 {c['dialect_sha256'][:12]}), boot sha256 {c['boot_sha256'][:12]}, "
            f"MEMORY sha256 {c['memory_sha256'][:12]}, answers <= {c['max_answer']:,} "
            f"characters, heads within {c['tape_span']:,} cells")


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


MAX_CERTIFICATE_BYTES = MAX_FILE_BYTES
_BACKEND_NAME = re.compile(r"[A-Za-z0-9_.-]{1,40}", re.ASCII)
_SHA = re.compile(r"[0-9a-f]{64}", re.ASCII)


class CertificateError(MannsimError):
    """A verify report that is not a valid certificate for the program."""


def read_certificate(path: str) -> dict:
    """Read a JSON report from disk: bounded, UTF-8, a JSON object of kind mannsim-verify."""
    return parse_certificate(read_bounded(path, MAX_CERTIFICATE_BYTES, CertificateError), path)


def parse_certificate(data: bytes, path: str | None = None) -> dict:
    try:
        report = json.loads(data.decode("utf-8"))
    except UnicodeDecodeError:
        raise CertificateError("not UTF-8 text", path) from None
    except (json.JSONDecodeError, RecursionError) as e:
        line = getattr(e, "lineno", None)
        raise CertificateError(f"not JSON ({getattr(e, 'msg', 'nested too deeply')})", path,
                               line) from None
    except ValueError as e:  # e.g. an integer of more digits than Python converts
        raise CertificateError(f"not a certificate ({one_line(e, 120)})", path) from None
    if not isinstance(report, dict) or report.get("kind") != KIND:
        raise CertificateError("not a mannsim verify report (no \"kind\": \"mannsim-verify\")", path)
    if type(report.get("version")) is not int or report["version"] not in READ_VERSIONS:
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
        if report["version"] >= 3 and not isinstance(case.get("truncated"), bool):
            raise CertificateError(f"case {k} is malformed (needs truncated: true or false)", path)
    if report["version"] >= 3:
        comp = report.get("compilation")
        fields = {"keys": str, "dialect": str, "dialect_sha256": str, "boot_sha256": str,
                  "memory_sha256": str, "max_answer": int, "tape_span": int}
        if not isinstance(comp, dict) or any(not isinstance(comp.get(f), t) or
                                             isinstance(comp.get(f), bool)
                                             for f, t in fields.items()):
            raise CertificateError("field 'compilation' is missing or malformed (needs "
                                   + ", ".join(fields) + ")", path)
        for f in ("dialect_sha256", "boot_sha256", "memory_sha256"):
            if not _SHA.fullmatch(comp[f]):
                raise CertificateError(f"field compilation.{f} must be 64 hex digits", path)
        from .machine.model import has_control
        if len(comp["dialect"]) > 300 or has_control(comp["dialect"]):
            raise CertificateError("field compilation.dialect must be at most 300 characters "
                                   "without control characters", path)
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


class CompilationMismatch(CertificateError):
    """A certificate made under other settings than the ones this check compiles with."""


def _bind(program: Program, report: dict, path: str | None) -> dict:
    """The certificate must be for the compilation ``program`` is: the one ``run`` and
    ``verify`` make with the same options. Each difference is refused naming its field.
    Returns ``program``'s compilation (:func:`compilation`)."""
    now = compilation(program)
    def refuse(field: str, recorded, now, how: str) -> None:
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


def audit(program: Program, report: dict, path: str | None = None) -> dict:
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


def replay(program: Program, report: dict, backend: Backend, path: str | None = None) -> dict:
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
