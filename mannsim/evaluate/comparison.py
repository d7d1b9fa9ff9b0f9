"""Two report cards side by side: :func:`read_card` checks a card file, :func:`compare` pairs
their cells with Newcombe's interval on each difference, :func:`differences` says what makes
their suites differ."""
from __future__ import annotations

import json
from typing import Any

from ..errors import MannsimError, read_bounded
from ..limits import MAX_FILE_BYTES
from ..safe_text import one_line
from .card import CARD_KIND, Card
from .stats import diff_text


class CardError(MannsimError):
    """A file that is not a mannsim eval report card."""


def read_card(path: str) -> Card:
    """Read and check an eval card (``mannsim eval --json``): bounded, UTF-8 JSON of kind
    mannsim-eval whose cells have consistent counts."""
    raw = read_bounded(path, MAX_FILE_BYTES, CardError, "an eval card")
    try:
        card = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError, ValueError):
        raise CardError("not an eval card (not JSON text)", path) from None
    if not isinstance(card, dict) or card.get("kind") != CARD_KIND:
        raise CardError(f'not an eval card (no "kind": "{CARD_KIND}"; make one with '
                        "mannsim eval --json)", path)
    cells = card.get("cells")
    if not isinstance(cells, list):
        raise CardError("not an eval card (no list of cells)", path)
    for k, c in enumerate(cells):
        ok = (isinstance(c, dict) and all(isinstance(c.get(f), str)
                                          for f in ("distribution", "dialect"))
              and all(type(c.get(f)) is int and c[f] >= 0
                      for f in ("machines", "machines_passed", "cases", "cases_passed"))
              and c["machines_passed"] <= c["machines"] and c["cases_passed"] <= c["cases"])
        if not ok:
            raise CardError(f"not an eval card (cell {k + 1} lacks consistent counts)", path)
    return card


def compare(a: Card, b: Card) -> list[dict[str, Any]]:
    """Rows of two cards side by side, per (suite, dialect) in A's order then B's: each with
    both cells (None where a card lacks it) and the differences B - A."""
    keyed = [{(c["distribution"], c["dialect"]): c for c in card["cells"]} for card in (a, b)]
    order = list(keyed[0]) + [k for k in keyed[1] if k not in keyed[0]]
    rows = []
    for key in order:
        ca, cb = keyed[0].get(key), keyed[1].get(key)
        row = {"suite": key[0], "dialect": key[1], "a": ca, "b": cb}
        for what in ("cases", "machines"):
            row[what] = (diff_text(ca[f"{what}_passed"], ca[what], cb[f"{what}_passed"], cb[what])
                         if ca and cb else "-")
        rows.append(row)
    return rows


def differences(a: Card, b: Card) -> list[str]:
    """What makes two cards' suites differ (a comparison of different machines says so)."""
    out = []
    for field_, what in (("seed", "seed"), ("machines", "machines per distribution"),
                         ("keys", "key policy"), ("mannsim", "mannsim version")):
        if a.get(field_) != b.get(field_):
            out.append(f"{what}: {one_line(a.get(field_), 40)} vs {one_line(b.get(field_), 40)}")
    da = {d.get("name"): d.get("sha256") for d in a.get("dialects", []) if isinstance(d, dict)}
    db = {d.get("name"): d.get("sha256") for d in b.get("dialects", []) if isinstance(d, dict)}
    changed = sorted(str(k) for k in set(da) & set(db) if da[k] != db[k])
    if changed:
        out.append(f"dialect text differs: {', '.join(one_line(k, 40) for k in changed)}")
    return out
