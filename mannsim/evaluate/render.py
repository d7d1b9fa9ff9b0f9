"""The report card as text: its provenance (:func:`facts`) and the Markdown card."""
from __future__ import annotations

import json
import re
from typing import Any

from ..safe_text import one_line
from .card import Card, rerun_command
from .stats import rate_text


def duration(seconds: float) -> str:
    if seconds < 60:
        return f"{seconds:.1f} s"
    if seconds < 3600:
        return f"{int(seconds // 60)} min {seconds % 60:04.1f} s"
    return f"{int(seconds // 3600)} h {int(seconds % 3600 // 60):02d} min"


def facts(card: Card) -> list[tuple[str, str]]:
    """The card's provenance, as (label, text) pairs (the Markdown card's first table)."""
    ident = card.get("backend") or {}
    progs = next((c["machines"] for c in card["cells"] if c["distribution"] == "programs"), 0)
    suite = [f"{progs} shipped programs"] if card.get("programs", True) and progs else []
    if card.get("distributions"):
        suite.append(f"{card['machines']} random machines each of "
                     f"{', '.join(card['distributions'])}")
    tok = card.get("tokens") or {}
    tokens = ("n/a (the backend reports no token counts)" if tok.get("prompt") is None else
              f"{tok['prompt']:,} prompt, {tok['completion']:,} completion")
    per = f"{card['ms_per_case']:.3f} ms per case" if card.get("ms_per_case") is not None else "-"
    lat = card.get("latency_ms_mean")
    out = [("backend", one_line(ident.get("name"), 40)),
           ("model", one_line(ident.get("model"), 200) if ident.get("model") else "none"),
           ("weights sha256", one_line(ident.get("weights"), 64) if ident.get("weights") else "n/a")]
    if ident.get("base_url"):
        out.append(("endpoint", one_line(ident["base_url"], 200)))
    out += [("decoding", one_line(json.dumps(ident.get("decoding", {}), sort_keys=True), 300)),
            ("mannsim", one_line(card.get("mannsim"), 40)),
            ("date (UTC)", one_line(card.get("started"), 40)),
            ("seed", str(card.get("seed"))),
            ("suite", " + ".join(suite) or "none"),
            ("dialects", ", ".join(f"{one_line(d['name'], 40)} (sha256 {one_line(d['sha256'], 64)[:12]}…)"
                                   for d in card.get("dialects", []))),
            ("key policy", one_line(card.get("keys"), 20)),
            ("wall time", f"{duration(card.get('wall_s') or 0.0)}, {per}"
                          + (f" (backend latency {lat:.3f} ms per case)" if lat is not None else "")
                          + f"; concurrency {card.get('concurrency', 1)}, batch {card.get('batch', 1)}"),
            ("tokens", tokens),
            ("intervals", "Wilson score, 95%")]
    if card.get("complete") is False:
        out.append(("interrupted", "yes: the card covers only the machines verified before "
                                   "Ctrl-C"))
    return out


def _code(text: str, limit: int = 120) -> str:
    """``text`` as a Markdown code span (fenced with more backticks than it holds)."""
    text = one_line(text, limit).replace("|", "\\|")
    longest = max((len(m) for m in re.findall(r"`+", text)), default=0)
    fence = "`" * (longest + 1)
    pad = " " if text.startswith("`") or text.endswith("`") or not text else ""
    return f"{fence}{pad}{text}{pad}{fence}"


def example_where(e: dict[str, Any]) -> str:
    """``state S reading X`` of a failure example (``/`` joins the states or symbols that render
    to the same prompt)."""
    return (f"state {'/'.join(map(str, e.get('states', [])))} reading "
            f"{'/'.join(map(str, e.get('symbols', [])))}")


def failures_text(cell: dict[str, Any]) -> str:
    """A card cell's failure counts, the commonest first (``none`` when it has none)."""
    return ", ".join(f"{k}: {v}" for k, v in sorted(cell["failures"].items(),
                                                     key=lambda kv: -kv[1])) or "none"


def markdown(card: Card) -> str:
    """The report card in Markdown."""
    lines = [f"# {one_line(card['title'], 300)}", "", "| | |", "|---|---|"]
    lines += [f"| {k} | {v.replace('|', chr(92) + '|')} |" for k, v in facts(card)]
    lines += ["", "| suite | dialect | machines passed | cases passed | failures |",
              "|---|---|---|---|---|"]
    for c in card["cells"] + [dict(card["total"], distribution="**all**", dialect="all")]:
        lines.append(f"| {c['distribution']} | {c['dialect']} | "
                     f"{rate_text(c['machines_passed'], c['machines'])} | "
                     f"{rate_text(c['cases_passed'], c['cases'])} | {failures_text(c)} |")
    examples = [(c, k, e) for c in card["cells"] for k, e in c["examples"].items()]
    if examples:
        lines += ["", "## Failures: one example of each class per suite and dialect", "",
                  "Each names its machine's id: `mannsim eval --rerun ID` (with the card's "
                  "backend, its options, dialect and key policy) draws that machine again and "
                  "verifies it.", ""]
        for c, kind, e in examples[:40]:
            mid = e.get("machine", "?")
            lines.append(f"- {_code(mid, 80)} ({c['distribution']}/{c['dialect']}), state "
                         f"{_code('/'.join(map(str, e.get('states', []))), 80)} reading "
                         f"{_code('/'.join(map(str, e.get('symbols', []))), 40)}: {kind}; "
                         f"expected {_code(e['expected'])}, "
                         f"got {_code(e['answer'])}; rerun: "
                         f"{_code(rerun_command(card, c['dialect'], mid), 300)}")
        if len(examples) > 40:
            lines.append(f"- … and {len(examples) - 40} more in the JSON card")
    return "\n".join(lines) + "\n"
