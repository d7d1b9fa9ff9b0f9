"""The one schema of trace records: every record a reader returns has passed :func:`validate`.

A trace is hostile until validated: each field's type is checked here, once, so the commands
that read traces (run --resume, trace show/stats/plot/view, decode --trace) never meet a
``null`` where a number belongs.
"""
from __future__ import annotations

import hashlib
import json
import re

from ..errors import MannsimError
from ..limits import MAX_ANSWER

FORMAT = "mannsim-trace"
#: Version 2 records the machine losslessly (canonical JSON, see machine.canonical);
#: version 1 (native .tm text) is still read. Version 3: written under the MEMORY lemma (a
#: never-written cell is the blank in every check); older traces are re-checked under it and a
#: recorded divergence that it now passes is reported (``replay.recheck``).
VERSION = 3
VERSIONS = (1, 2, 3)
END_REASONS = ("halt", "max_steps", "divergence", "interrupted", "error")
_HASH = re.compile(r"[0-9a-f]{16}", re.ASCII)


def prompt_hash(text: str) -> str:
    """How a trace names a prompt: the first 16 hex digits of its sha256 (UTF-8; a lone
    surrogate is hashed as it stands)."""
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:16]


class TraceError(MannsimError):
    """A trace that cannot be written or read."""


def _int(v) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _nonneg(v) -> bool:
    return _int(v) and v >= 0


def _number(v) -> bool:
    return (isinstance(v, (int, float)) and not isinstance(v, bool) and v == v
            and 0 <= v < 1e12)


def _str(v) -> bool:
    return isinstance(v, str)


def _opt_str(v) -> bool:
    return v is None or isinstance(v, str)


def _opt_int(v) -> bool:
    return v is None or _int(v)


def _dict(v) -> bool:
    return isinstance(v, dict)


def _list(v) -> bool:
    return isinstance(v, list)


def _bool(v) -> bool:
    return isinstance(v, bool)


#: kind -> {field: (required, check)}
SCHEMA = {
    "header": {"format": (True, _str), "version": (True, _int), "program": (True, _dict),
               "dialect": (True, _dict), "backend": (True, _dict), "settings": (False, _dict),
               "mannsim": (False, _str), "created": (False, _str)},
    "prompt": {"hash": (True, lambda v: _str(v) and _HASH.fullmatch(v) is not None),
               "text": (True, _str)},
    "cycle": {"n": (True, lambda v: _int(v) and v >= 1), "state": (True, _str),
              "head": (True, _int), "read": (True, _str),
              "prompt": (True, lambda v: _str(v) and _HASH.fullmatch(v) is not None),
              "answer": (True, lambda v: _str(v) and len(v) <= MAX_ANSWER),
              "writes": (False, _list), "updates": (False, _list),
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
             "writes": (True, _list), "updates": (True, _list), "tin": (True, _nonneg),
             "tout": (True, _nonneg)},
    "c": {"k": (True, _nonneg), "ms": (False, _number), "tin": (False, _nonneg),
          "tout": (False, _nonneg), "cached": (False, _bool)},
    "snap": {"cycles": (True, _nonneg), "state": (True, _str), "head": (True, _int),
             "tape": (True, lambda v: _list(v) and all(isinstance(s, str) for s in v)),
             "tape_start": (True, _int)},
    "end": {"reason": (True, lambda v: v in END_REASONS), "cycles": (True, _nonneg),
            "steps": (False, _nonneg), "state": (False, _opt_str), "head": (False, _opt_int),
            "tape": (False, _str), "tape_start": (False, _opt_int), "error": (False, _opt_str)},
}


def validate(rec, line: int, path: str | None) -> dict:
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


def parse_line(raw: bytes, line: int, path: str | None) -> dict:
    """One line of a trace, parsed and validated."""
    try:
        rec = json.loads(raw)
    except (json.JSONDecodeError, UnicodeDecodeError, RecursionError, ValueError):
        raise TraceError("unreadable record (not JSON)", path, line) from None
    return validate(rec, line, path)


def cycle_defaults(rec: dict) -> dict:
    """A validated cycle record with its optional fields filled in."""
    out = {"writes": [], "updates": [], "ms": 0.0, "tin": 0, "tout": 0, "cached": False}
    out.update(rec)
    return out
