"""The one schema of trace records: every record a reader returns has passed :func:`validate`.

A trace is hostile until validated: each field's type is checked here, once, so the commands
that read traces (run --resume, trace show/stats/plot/view, decode --trace) never meet a
``null`` where a number belongs.
"""
from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable
from typing import Any

from ..errors import MannsimError
from ..limits import MAX_ANSWER, MAX_TAPE_SPAN
from .records import JSON

FORMAT = "mannsim-trace"
#: Version 2 records the machine losslessly (canonical JSON, see machine.canonical);
#: version 1 (native .tm text) is still read. Version 3: written under the MEMORY lemma (a
#: never-written cell is the blank in every check); older traces are re-checked under it and a
#: recorded divergence that it now passes is reported (``replay.recheck``).
VERSION = 3
VERSIONS = (1, 2, 3)
END_REASONS = ("halt", "max_steps", "divergence", "interrupted", "error")
_HASH = re.compile(r"[0-9a-f]{16}", re.ASCII)
#: a field's check: does a (parsed JSON) value fit?
Check = Callable[[Any], bool]


def prompt_hash(text: str) -> str:
    """How a trace names a prompt: the first 16 hex digits of its sha256 (UTF-8; a lone
    surrogate is hashed as it stands)."""
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:16]


class TraceError(MannsimError):
    """A trace that cannot be written or read."""


def _int(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _nonneg(v: Any) -> bool:
    return _int(v) and v >= 0


def _number(v: Any) -> bool:
    return (isinstance(v, (int, float)) and not isinstance(v, bool) and v == v
            and 0 <= v < 1e12)


def _str(v: Any) -> bool:
    return isinstance(v, str)


def _opt_str(v: Any) -> bool:
    return v is None or isinstance(v, str)


def _opt_int(v: Any) -> bool:
    return v is None or _int(v)


def _dict(v: Any) -> bool:
    return isinstance(v, dict)


def _list(v: Any) -> bool:
    return isinstance(v, list)


def _bool(v: Any) -> bool:
    return isinstance(v, bool)


def _pairs(key_ok: Check, value_ok: Check) -> Check:
    """A list of [key, value] lists whose keys and values pass the checks."""
    def ok(v: Any) -> bool:
        return isinstance(v, list) and all(
            isinstance(p, list) and len(p) == 2 and key_ok(p[0]) and value_ok(p[1]) for p in v)
    return ok


_WRITES = _pairs(_str, _str)
_CASE_WRITES = _pairs(_opt_str, _str)  # a case keys the head's own cell None
_UPDATES = _pairs(_str, _int)


#: kind -> {field: (required, check)}
SCHEMA: dict[str, dict[str, tuple[bool, Check]]] = {
    "header": {"format": (True, _str), "version": (True, _int), "program": (True, _dict),
               "dialect": (True, _dict), "backend": (True, _dict), "settings": (False, _dict),
               "mannsim": (False, _str), "created": (False, _str)},
    "prompt": {"hash": (True, lambda v: _str(v) and _HASH.fullmatch(v) is not None),
               "text": (True, _str)},
    "cycle": {"n": (True, lambda v: _int(v) and v >= 1), "state": (True, _str),
              "head": (True, _int), "read": (True, _str),
              "prompt": (True, lambda v: _str(v) and _HASH.fullmatch(v) is not None),
              "answer": (True, lambda v: _str(v) and len(v) <= MAX_ANSWER),
              "writes": (False, _WRITES), "updates": (False, _UPDATES),
              "check": (True, lambda v: v in ("ok", "diverged")),
              "ms": (False, _number), "tin": (False, _nonneg), "tout": (False, _nonneg),
              "cached": (False, _bool), "cut": (False, _bool)},
    "divergence": {"cycle": (True, lambda v: _int(v) and v >= 1), "reason": (True, _str),
                   "expected": (False, _dict), "actual": (False, _dict),
                   "prompt": (False, _str), "answer": (False, _str), "parsed": (False, _dict)},
    "resume": {"from": (True, _nonneg), "mannsim": (False, _str), "backend": (False, _dict)},
    # compact traces (see trace.compact): a case is what cycles with the same text share; "c" is
    # a cycle by case (n and head follow from the cycle before); "snap" the machine after
    # ``cycles`` cycles
    "case": {"k": (True, _nonneg), "state": (True, _str), "read": (True, _str),
             "prompt": (True, lambda v: _str(v) and _HASH.fullmatch(v) is not None),
             "answer": (True, lambda v: _str(v) and len(v) <= MAX_ANSWER),
             "writes": (True, _CASE_WRITES), "updates": (True, _UPDATES), "tin": (True, _nonneg),
             "tout": (True, _nonneg)},
    "c": {"k": (True, _nonneg), "ms": (False, _number), "tin": (False, _nonneg),
          "tout": (False, _nonneg), "cached": (False, _bool)},
    "snap": {"cycles": (True, _nonneg), "state": (True, _str), "head": (True, _int),
             "tape": (True, lambda v: _list(v) and len(v) <= 2 * MAX_TAPE_SPAN + 1
                      and all(isinstance(s, str) for s in v)),
             "tape_start": (True, _int)},
    "end": {"reason": (True, lambda v: v in END_REASONS), "cycles": (True, _nonneg),
            "steps": (False, _nonneg), "state": (False, _opt_str), "head": (False, _opt_int),
            "tape": (False, _str), "tape_start": (False, _opt_int), "error": (False, _opt_str)},
}


def validate(rec: Any, line: int, path: str | None) -> JSON:
    """``rec`` if it is a well-formed record, else :class:`TraceError` naming the line."""
    if not isinstance(rec, dict):
        raise TraceError("the record is not a JSON object", path, line)
    kind = rec.get("t")
    fields = SCHEMA.get(kind) if isinstance(kind, str) else None
    if fields is None:
        raise TraceError(f"unknown record kind {str(kind)[:20]!r}", path, line)
    for name, (required, ok) in fields.items():
        if name not in rec:
            if required:
                raise TraceError(f"{kind} record misses {name!r}", path, line)
            continue
        if not ok(rec[name]):
            raise TraceError(f"{kind} record has an invalid {name!r}", path, line)
    return rec


def parse_line(raw: bytes, line: int, path: str | None) -> JSON:
    """One line of a trace, parsed and validated."""
    try:
        rec = json.loads(raw)
    except (json.JSONDecodeError, UnicodeDecodeError, RecursionError, ValueError):
        raise TraceError("unreadable record (not JSON)", path, line) from None
    return validate(rec, line, path)


def cycle_defaults(rec: JSON) -> JSON:
    """A validated cycle record with its optional fields filled in."""
    out: JSON = {"writes": [], "updates": [], "ms": 0.0, "tin": 0, "tout": 0, "cached": False}
    out.update(rec)
    return out
