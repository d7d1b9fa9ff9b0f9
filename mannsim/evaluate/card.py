"""The report card: :class:`Cell` (one suite in one dialect) and :func:`make_card`, the JSON
card with what a citation needs (the backend's identity, mannsim's version, the date, seed,
dialects with their sha256, key policy, wall time, tokens, Wilson intervals)."""
from __future__ import annotations

import time
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from .. import __version__
from ..program.dialect import Dialect
from ..safe_text import one_line
from .stats import rate_json

#: A report card, as ``mannsim eval --json`` writes it.
Card = dict[str, Any]

CARD_KIND = "mannsim-eval"
#: Version 1: kind, mannsim version, date, wall time, tokens, dialect digests, Wilson
#: intervals, failure examples with machine ids.
CARD_VERSION = 1
_UTC = "%Y-%m-%dT%H:%M:%SZ"


@dataclass
class Cell:
    """One (distribution, dialect) of the report card."""

    distribution: str
    dialect: str
    machines: int = 0
    machines_passed: int = 0
    cases: int = 0
    cases_passed: int = 0
    failures: Counter[str] = field(default_factory=Counter)
    examples: dict[str, dict[str, Any]] = field(default_factory=dict)
    wall_s: float = 0.0
    latency_s: float = 0.0
    tokens_in: int | None = None     # None: the backend reported no token counts
    tokens_out: int | None = None

    def as_dict(self) -> dict[str, Any]:
        m_rate, m_ci = rate_json(self.machines_passed, self.machines)
        c_rate, c_ci = rate_json(self.cases_passed, self.cases)
        return {"distribution": self.distribution, "dialect": self.dialect,
                "machines": self.machines, "machines_passed": self.machines_passed,
                "machines_rate": m_rate, "machines_ci95": m_ci,
                "cases": self.cases, "cases_passed": self.cases_passed,
                "cases_rate": c_rate, "cases_ci95": c_ci,
                "failures": dict(self.failures), "examples": self.examples,
                "wall_s": round(self.wall_s, 3),
                "ms_per_case": round(1000 * self.wall_s / self.cases, 3) if self.cases else None,
                "latency_ms_mean": (round(1000 * self.latency_s / self.cases, 3)
                                    if self.cases else None),
                "tokens": {"prompt": self.tokens_in, "completion": self.tokens_out}}


def utc_now() -> str:
    return time.strftime(_UTC, time.gmtime())


def who(identity: dict[str, Any]) -> str:
    """A backend's identity in words: ``symbolic backend (no model)``, ``hf backend, model M
    (weights sha256 0123456789ab…)``."""
    name = one_line(identity.get("name") or "unnamed", 40)
    model, weights = identity.get("model"), identity.get("weights")
    if not model and not weights:
        return f"{name} backend (no model)"
    text = f"{name} backend" + (f", model {one_line(model, 80)}" if model else "")
    return text + (f" (weights sha256 {one_line(weights, 64)[:12]}…)" if weights else "")


def make_card(cells: Sequence[Cell], identity: dict[str, Any], *, seed: int, n: int, keys: str,
              dialects: Iterable[Dialect], distributions: Iterable[str], programs: bool = True,
              concurrency: int = 1, batch: int = 1, started: str | None = None,
              wall_s: float = 0.0, interrupted: bool = False) -> Card:
    """The report card (the JSON one; :func:`~mannsim.evaluate.markdown` and the command's
    table render it)."""
    cases = sum(c.cases for c in cells)
    told = [c for c in cells if c.tokens_in is not None]
    tokens = ({"prompt": sum(c.tokens_in or 0 for c in told),
               "completion": sum(c.tokens_out or 0 for c in told)} if told
              else {"prompt": None, "completion": None})
    total = Cell("all", "all", machines=sum(c.machines for c in cells),
                 machines_passed=sum(c.machines_passed for c in cells), cases=cases,
                 cases_passed=sum(c.cases_passed for c in cells),
                 failures=sum((c.failures for c in cells), Counter()))
    title = (f"mannsim eval: {who(identity)}; seed {seed}, {n} machines per distribution, "
             f"{keys} keys" + (" (interrupted: a partial card)" if interrupted else ""))
    return {
        "kind": CARD_KIND, "version": CARD_VERSION, "mannsim": __version__, "title": title,
        "started": started or utc_now(), "wall_s": round(wall_s, 3),
        "ms_per_case": round(1000 * wall_s / cases, 3) if cases else None,
        "latency_ms_mean": (round(1000 * sum(c.latency_s for c in cells) / cases, 3)
                            if cases else None),
        "tokens": tokens, "backend": identity, "seed": seed, "machines": n,
        "distributions": list(distributions), "programs": programs, "keys": keys,
        "dialects": [{"name": d.name, "sha256": d.digest} for d in dialects],
        "concurrency": concurrency, "batch": batch, "interval": "Wilson score, 95%",
        "complete": not interrupted,
        "cells": [c.as_dict() for c in cells],
        "total": {k: v for k, v in total.as_dict().items()
                  if k not in ("distribution", "dialect", "examples", "wall_s", "ms_per_case",
                               "latency_ms_mean", "tokens")},
    }


def rerun_command(card: Card, dialect: str, mid: str) -> str:
    """The command line that reruns one machine of ``card`` (add the backend's own options,
    such as --model, when the card was made with them)."""
    name = (card.get("backend") or {}).get("name") or "symbolic"
    return f"mannsim eval -b {name} -d {dialect} --keys {card.get('keys', 'registers')} --rerun {mid}"
