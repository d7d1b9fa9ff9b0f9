"""Intervals on eval's rates: Wilson's score interval of a proportion, Newcombe's of a
difference, and the rates as a card prints them (never a bare percentage of a finite sample)."""
from __future__ import annotations

import math

#: The two-sided 95% normal quantile.
Z95 = 1.959963984540054


def wilson(k: int, n: int, z: float = Z95) -> tuple[float, float]:
    """The Wilson score interval of a proportion ``k``/``n`` (95% by default):
    (p + z²/2n ± z·sqrt(p(1-p)/n + z²/4n²)) / (1 + z²/n). Exact 0 below when k = 0 and 1 above
    when k = n; (0, 1) for n = 0."""
    if n <= 0:
        return 0.0, 1.0
    if not 0 <= k <= n:
        raise ValueError(f"{k} successes out of {n}")
    p, z2 = k / n, z * z
    denom = 1 + z2 / n
    center = (p + z2 / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z2 / (4 * n * n)) / denom
    return (0.0 if k == 0 else max(0.0, center - half)), (1.0 if k == n else min(1.0, center + half))


def newcombe(k1: int, n1: int, k2: int, n2: int) -> tuple[float, float, float]:
    """(d, low, high): the difference d = k2/n2 - k1/n1 and its 95% interval by Newcombe's hybrid
    score method (method 10 of Newcombe 1998, from the two Wilson intervals)."""
    p1, p2 = k1 / n1, k2 / n2
    l1, u1 = wilson(k1, n1)
    l2, u2 = wilson(k2, n2)
    d = p2 - p1
    return (d, d - math.sqrt((p2 - l2) ** 2 + (u1 - p1) ** 2),
            d + math.sqrt((u2 - p2) ** 2 + (p1 - l1) ** 2))


def _pct(x: float, full: bool, zero: bool) -> str:
    """``x`` (a proportion) as a percentage with one decimal, more where rounding would show
    100 for a proportion that is not all, or 0 for one that is not none."""
    for digits in range(1, 5):
        text = f"{100 * x:.{digits}f}"
        if (full or float(text) < 100) and (zero or float(text) > 0):
            return text
    return "99.9999" if not full and x > 0.5 else "0.0001"


def rate_cells(k: int, n: int) -> tuple[str, str]:
    """(``k/n (p%)``, ``lo–hi%``, the Wilson 95% interval): a table's two columns."""
    if n <= 0:
        return f"{k:,}/{n:,}", "-"
    lo, hi = wilson(k, n)
    return (f"{k:,}/{n:,} ({_pct(k / n, k == n, k == 0)}%)",
            f"{_pct(lo, False, lo == 0)}–{_pct(hi, hi == 1, False)}%")


def rate_text(k: int, n: int) -> str:
    """``k/n (p%, 95% CI lo–hi%)``: never a bare percentage of a finite sample."""
    if n <= 0:
        return f"{k:,}/{n:,} (-)"
    rate, ci = rate_cells(k, n)
    return f"{rate[:-1]}, 95% CI {ci})"


def rate_json(k: int, n: int) -> tuple[float | None, list[float]]:
    """(the rate, its Wilson 95% interval [lo, hi]), rounded for the JSON card."""
    lo, hi = wilson(k, n)
    return (round(k / n, 6) if n else None), [round(lo, 6), round(hi, 6)]


def diff_text(k1: int, n1: int, k2: int, n2: int) -> str:
    """B - A in percentage points with its 95% interval, or ``-``."""
    if not n1 or not n2:
        return "-"
    d, lo, hi = newcombe(k1, n1, k2, n2)
    return f"{100 * d:+.1f} pp (95% CI {100 * lo:+.1f} to {100 * hi:+.1f})"
