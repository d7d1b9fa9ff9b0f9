"""A verify report (a certificate) read from a file: bounded, validated field by field, so a
hostile or damaged file is one clear error (:class:`CertificateError`), never a traceback.
What a certificate proves, and how it is checked against a program, is :mod:`mannsim.verify`."""
from __future__ import annotations

import json
import re
from typing import Any

from .errors import MannsimError, read_bounded
from .limits import MAX_FILE_BYTES
from .machine.model import has_control
from .program.compiler import KEY_POLICIES, KeyPolicy
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


MAX_CERTIFICATE_BYTES = MAX_FILE_BYTES
_BACKEND_NAME = re.compile(r"[A-Za-z0-9_.-]{1,40}", re.ASCII)
_SHA = re.compile(r"[0-9a-f]{64}", re.ASCII)


class CertificateError(MannsimError):
    """A verify report that is not a valid certificate for the program."""


def read_certificate(path: str) -> dict[str, Any]:
    """Read a JSON report from disk: bounded, UTF-8, a JSON object of kind mannsim-verify."""
    return parse_certificate(read_bounded(path, MAX_CERTIFICATE_BYTES, CertificateError), path)


def parse_certificate(data: bytes, path: str | None = None) -> dict[str, Any]:
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
        if len(comp["dialect"]) > 300 or has_control(comp["dialect"]):
            raise CertificateError("field compilation.dialect must be at most 300 characters "
                                   "without control characters", path)
    return report


def _check_identity(report: dict[str, Any], path: str | None) -> None:
    """The text fields a person reads: names, hashes and the backend's identity."""

    def readable(field: str, value: Any) -> None:  # None, or short text without control characters
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
    try:
        key_policy(report)
    except ValueError:
        raise CertificateError(f"program keys must be one of {', '.join(KEY_POLICIES)}",
                               path) from None
    for part in ("program", "dialect"):
        readable(f"{part} name", report[part].get("name"))
        if not (isinstance(report[part].get("sha256"), str) and _SHA.fullmatch(report[part]["sha256"])):
            raise CertificateError(f"{part} sha256 must be 64 hex digits", path)


def key_policy(report: dict[str, Any]) -> KeyPolicy:
    """How the certified program named its MEMORY keys (certificates before register keys:
    ``names``); ValueError for anything else."""
    return KeyPolicy.recorded(report["program"].get("keys"))
