"""Values turned into text the way JavaScript does (``String(value)``), as the site sees them."""
from __future__ import annotations

import math
from decimal import Decimal
from typing import Any


class TooLong(Exception):
    """The text would pass the limit given to :func:`js_text`."""


class _Comma:
    """The comma between two items of a list turned into text."""


_COMMA = _Comma()


def js_number(x: int | float) -> str:
    """``String(x)`` for a JavaScript number (ECMAScript Number::toString)."""
    if isinstance(x, int):
        if -(1 << 53) < x < (1 << 53):
            return str(x)
        try:
            x = float(x)
        except OverflowError:
            return "Infinity" if x > 0 else "-Infinity"
    if math.isnan(x):
        return "NaN"
    if math.isinf(x):
        return "Infinity" if x > 0 else "-Infinity"
    if x == 0:
        return "0"
    sign = "-" if x < 0 else ""
    t = Decimal(repr(abs(x))).as_tuple()
    s = "".join(map(str, t.digits)).rstrip("0")
    k = len(s)
    n = int(t.exponent) + len(t.digits)  # x = 0.s * 10**n
    if k <= n <= 21:
        return sign + s + "0" * (n - k)
    if 0 < n <= 21:
        return sign + s[:n] + "." + s[n:]
    if -6 < n <= 0:
        return sign + "0." + "0" * -n + s
    e = n - 1
    mantissa = s if k == 1 else s[0] + "." + s[1:]
    return f"{sign}{mantissa}e{'+' if e >= 0 else '-'}{abs(e)}"


def js_text(value: Any, limit: int) -> str:
    """``String(value)`` as JavaScript writes it (null -> "null", a list joined by commas with
    null as "", a mapping -> "[object Object]"); raises TooLong past ``limit`` characters."""
    parts: list[str] = []
    size = 0
    stack: list[Any] = [value]
    while stack:
        v = stack.pop()
        if isinstance(v, _Comma):
            text = ","
        elif isinstance(v, list):
            items: list[Any] = []
            for i, item in enumerate(v):
                if i:
                    items.append(_COMMA)
                if item is not None:
                    items.append(item)
            stack.extend(reversed(items))
            continue
        elif isinstance(v, str):
            text = v
        elif v is None:
            text = "null"
        elif isinstance(v, bool):
            text = "true" if v else "false"
        elif isinstance(v, (int, float)):
            text = js_number(v)
        else:  # a mapping
            text = "[object Object]"
        size += len(text)
        if size > limit:
            raise TooLong
        parts.append(text)
    return parts[0] if len(parts) == 1 else "".join(parts)


def js_value(n: int | float) -> int | float:
    """A parsed integer as the JavaScript number it becomes (exact below 2**53)."""
    if isinstance(n, float) or -(1 << 53) < n < (1 << 53):
        return n
    try:
        return float(n)
    except OverflowError:
        return math.inf if n > 0 else -math.inf


def utf16_len(text: str) -> int:
    """The length of ``text`` to JavaScript (UTF-16 code units)."""
    return len(text) + sum(1 for c in text if ord(c) > 0xFFFF)
