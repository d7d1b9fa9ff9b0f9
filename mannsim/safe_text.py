"""Text from files, models and servers made safe for a terminal: no control characters (no
escape-sequence injection), no lone surrogates (which cannot be encoded), bounded length."""
from __future__ import annotations

import re

_UNSAFE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff]")
_UNSAFE_LINES = re.compile("[\x00-\x1f\x7f-\x9f\ud800-\udfff]")


def _escape(m: re.Match[str]) -> str:
    c = ord(m.group())
    return f"\\x{c:02x}" if c < 256 else f"\\u{c:04x}"


def printable(text: object, limit: int | None = None, newlines: bool = True) -> str:
    """``text`` with control characters and surrogates written as ``\\xNN``/``\\uNNNN``
    (newlines and tabs kept when ``newlines``), cut to ``limit`` characters with an ellipsis."""
    text = str(text)
    if limit is not None and len(text) > limit:
        text = text[:limit] + "…"
    return (_UNSAFE if newlines else _UNSAFE_LINES).sub(_escape, text)


def one_line(text: object, limit: int | None = 200) -> str:
    """``text`` on one line: every control character (newline included) escaped."""
    return printable(text, limit, newlines=False)
