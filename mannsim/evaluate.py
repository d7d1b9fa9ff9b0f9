"""``mannsim eval``: a backend's report card, verify over a suite of machines.

The suite is the shipped programs plus N random machines from each named distribution:

- ``training``: drawn like the embedded model's training data (`mannsim.train.data`): 2-7
  states named by a capital, two characters or a short word; 2-4 symbols, digits or a pool of
  letters and punctuation.
- ``human``: machines written the way people write them: 2-7 states named by words joined with
  ``_`` or ``-``, often with digits (``carry_halt_``, ``seek_left2``, ``done_23``); 2-5 symbols
  such as ``#``, ``X``, ``a``, ``y``, ``_``, ``0``, ``1``.
- ``large``: 8-10 states with names of up to 16 characters (letters, digits, ``_`` and ``-``
  anywhere), 5-8 symbols from a wide printable set.

Every case a backend fails is put in one class of a taxonomy (:func:`classify`): over-long,
format error, wrong branch, copy error in the state name, wrong symbol, wrong move, other.
Each failure example names its machine by an id (``human:1000003:17``: the 18th machine of the
human distribution with seed 1000003; ``programs:bb5``) from which :func:`machine_from_id` draws
it again (``mannsim eval --rerun ID``).

The card (:func:`make_card`) records what a citation needs: the backend's identity, mannsim's
version, the date, seed, dialects (with their sha256), key policy, wall time, ms per case,
tokens where the backend reports them, and Wilson 95% intervals (:func:`wilson`) on every rate;
:func:`compare` sets two cards side by side with Newcombe's interval on each difference.
"""
from __future__ import annotations

import json
import math
import random
import re
import textwrap
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from . import __version__
from .backends.base import Completion, complete_all, thread_safe
from .errors import MannsimError, read_bounded
from .limits import MAX_FILE_BYTES
from .machine import Machine
from .memory import WRITE, parse_assignments, parse_updates
from .program import compile_program
from .program.check import answer_problem
from .program.dialect import DEFAULT_DIALECT
from .resources import data_dir
from .safe_text import one_line
from .train import data
from .verify import CaseResult, verify

DISTRIBUTIONS = ("training", "human", "large")
#: The default seed: never used in training (training seeds are small integers).
DEFAULT_SEED = 1_000_003


def random_machine(distribution: str, rng: random.Random) -> Machine:
    """One machine drawn from a named distribution (see the module docstring)."""
    if distribution == "training":
        return data.random_machine(rng)
    if distribution == "human":
        return data.human_machine(rng)
    if distribution == "large":
        return data.large_machine(rng)
    raise ValueError(f"unknown distribution {distribution!r} (choose from {', '.join(DISTRIBUTIONS)})")


# -- the taxonomy of failures ---------------------------------------------------------------
CLASSES = ("over-long answer", "format error", "wrong branch", "copy error in the state name",
           "wrong symbol", "wrong move", "other")


_WRITTEN = re.compile(r'%\[i\]="([^"\n]*)"')
_HALTED = re.compile(r'halted="([^"\n]*)"')


def _parts(answer: str) -> tuple[str | None, str | None, int]:
    """(next-state reference, written symbol, head move) read from an answer's text."""
    target = next((m.group(1) for m in WRITE.finditer(answer.split("%[i]=")[0])), None)
    if target is None:  # a halting answer names its halting state in halted="…"
        target = next((m.group(1) for m in _HALTED.finditer(answer)), None)
    written = next((m.group(1) for m in _WRITTEN.finditer(answer)), None)
    move = sum(d for label, d in parse_updates(answer) if label == "i")
    return target, written, move


def classify(result: CaseResult, shape=None) -> str:
    """The failure class of a failed case (see CLASSES); ``shape``: the dialect's grammar
    (default: the schuurmans dialect's)."""
    answer, expected = result.answer, result.expected
    if answer_problem(answer) or "cut at the token limit" in (result.problem or ""):
        return CLASSES[0] if answer.strip() else CLASSES[1]
    if not parse_assignments(answer):
        return CLASSES[1]
    if shape is None:
        from .program import load_dialect
        shape = load_dialect(DEFAULT_DIALECT, allow_path=False).shape
    if answer in shape.branches(result.prompt):
        return CLASSES[2]
    got, want = _parts(answer), _parts(expected)
    if ('op="halt"' in answer) != ('op="halt"' in expected):
        return CLASSES[2]  # a step where the machine halts, or a halt where it steps
    if got[0] != want[0]:
        return CLASSES[3]
    if got[1] != want[1]:
        return CLASSES[4]
    if got[2] != want[2]:
        return CLASSES[5]
    return CLASSES[6]


# -- machine ids: every machine of a card can be drawn again ----------------------------------
#: ``--rerun`` draws the machines before the one it names again (about 0.2 ms each).
MAX_INDEX = 1_000_000
_RANDOM_ID = re.compile(r"([a-z]+):(-?[0-9]{1,30}):([0-9]{1,12})", re.ASCII)


def draw(distribution: str, seed: int, n: int) -> list[Machine]:
    """The first ``n`` machines eval draws from ``distribution`` with ``seed`` (one stream per
    (seed, distribution), so machine k is the same whatever ``n`` is)."""
    rng = random.Random(f"{seed}:{distribution}")
    return [random_machine(distribution, rng) for _ in range(n)]


def machine_id(suite: str, seed: int, index: int, name: str | None = None) -> str:
    """A machine's id on the card, exactly what ``mannsim eval --rerun`` takes:
    ``DIST:SEED:INDEX`` (the INDEX-th machine, from 0, of a distribution) or ``programs:NAME``."""
    return f"programs:{name}" if suite == "programs" else f"{suite}:{seed}:{index}"


def machine_from_id(mid: str) -> tuple[str, Machine]:
    """(what the id names, in words; the machine), drawn again from its id (see
    :func:`machine_id`); a MannsimError for an id that names no machine."""
    text = str(mid).strip()
    if text.startswith("programs:"):
        name = text[len("programs:"):]
        found = dict(shipped_machines())
        if name not in found:
            raise MannsimError(f"no shipped program {one_line(name, 40)!r} (the programs suite has "
                               f"{', '.join(sorted(found)) or 'none'})")
        return f"shipped program {name}", found[name]
    m = _RANDOM_ID.fullmatch(text)
    if m is None or m.group(1) not in DISTRIBUTIONS:
        raise MannsimError(f"{one_line(mid, 60)!r} is not a machine id of mannsim eval "
                           "(DIST:SEED:INDEX, e.g. human:1000003:17, with DIST one of "
                           f"{', '.join(DISTRIBUTIONS)}; or programs:NAME)")
    dist, seed, index = m.group(1), int(m.group(2)), int(m.group(3))
    if index >= MAX_INDEX:
        raise MannsimError(f"machine index {index:,} is past --rerun's limit ({MAX_INDEX - 1:,})")
    return (f"machine {index} of the {dist} distribution, seed {seed}",
            draw(dist, seed, index + 1)[-1])


def suites(distributions, n: int, seed: int = DEFAULT_SEED,
           programs: bool = True) -> list[tuple[str, list[tuple[str, Machine]]]]:
    """(suite name, [(machine id, machine)]) of an eval: the shipped programs, then ``n``
    machines of each distribution."""
    out: list[tuple[str, list[tuple[str, Machine]]]] = []
    if programs:
        out.append(("programs", [(machine_id("programs", seed, k, name), m)
                                 for k, (name, m) in enumerate(shipped_machines())]))
    for dist in distributions:
        out.append((dist, [(machine_id(dist, seed, k), m)
                           for k, m in enumerate(draw(dist, seed, n))]))
    return out


# -- intervals ---------------------------------------------------------------------------------
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


def _rate(k: int, n: int) -> dict:
    lo, hi = wilson(k, n)
    return {"rate": round(k / n, 6) if n else None, "ci95": [round(lo, 6), round(hi, 6)]}


# -- the report card ------------------------------------------------------------------------
@dataclass
class Cell:
    """One (distribution, dialect) of the report card."""

    distribution: str
    dialect: str
    machines: int = 0
    machines_passed: int = 0
    cases: int = 0
    cases_passed: int = 0
    failures: Counter = field(default_factory=Counter)
    examples: dict = field(default_factory=dict)
    wall_s: float = 0.0
    latency_s: float = 0.0
    tokens_in: int | None = None     # None: the backend reported no token counts
    tokens_out: int | None = None

    def as_dict(self) -> dict:
        m, c = _rate(self.machines_passed, self.machines), _rate(self.cases_passed, self.cases)
        return {"distribution": self.distribution, "dialect": self.dialect,
                "machines": self.machines, "machines_passed": self.machines_passed,
                "machines_rate": m["rate"], "machines_ci95": m["ci95"],
                "cases": self.cases, "cases_passed": self.cases_passed,
                "cases_rate": c["rate"], "cases_ci95": c["ci95"],
                "failures": dict(self.failures), "examples": self.examples,
                "wall_s": round(self.wall_s, 3),
                "ms_per_case": round(1000 * self.wall_s / self.cases, 3) if self.cases else None,
                "latency_ms_mean": (round(1000 * self.latency_s / self.cases, 3)
                                    if self.cases else None),
                "tokens": {"prompt": self.tokens_in, "completion": self.tokens_out}}


class ConcurrentBackend:
    """Keeps ``concurrency`` requests in flight (each prompt on its own thread); the answers
    come back in the order of the prompts, so results equal a sequential run's. Only for a
    backend whose ``thread_safe`` is true (see :func:`check_concurrency`)."""

    def __init__(self, backend, concurrency: int):
        self.backend, self.concurrency = backend, concurrency
        self.name = backend.name
        self.thread_safe = getattr(backend, "thread_safe", False) is True
        self.pool = ThreadPoolExecutor(max_workers=concurrency)

    def identity(self) -> dict:
        return self.backend.identity()

    def complete(self, prompts) -> list[Completion]:
        return list(self.pool.map(lambda p: complete_all(self.backend, [p])[0], prompts))

    def close(self) -> None:
        self.pool.shutdown()


def check_concurrency(backend, concurrency: int, name: str | None = None) -> None:
    """Refuse ``concurrency`` > 1 for a backend (an instance or its class) that does not
    declare ``thread_safe = True`` (as :func:`mannsim.backends.base.thread_safe` reads it):
    its ``complete`` would be called from several threads."""
    if concurrency > 1 and not thread_safe(backend):
        who = name or getattr(backend, "name", type(backend).__name__)
        raise MannsimError(f"backend {one_line(who, 40)!r} is not thread-safe: --concurrency "
                           f"{concurrency} would call it from several threads (use --concurrency "
                           "1; --batch N batches an hf model's prompts)")


class Metered:
    """Counts the tokens a backend reports in its completions (``Completion.tokens_in`` and
    ``tokens_out``); ``reported`` counts the completions that report any."""

    thread_safe = False  # its counts are not locked: called from eval's one thread

    def __init__(self, backend):
        self.backend, self.name = backend, backend.name
        self.tokens_in = self.tokens_out = self.reported = 0
        if hasattr(backend, "complete_batch"):  # verify batches only where the backend can
            self.complete_batch = self._complete_batch

    def identity(self) -> dict:
        return self.backend.identity()

    def _count(self, completions: list[Completion]) -> list[Completion]:
        for c in completions:
            if c.tokens_in > 0 or c.tokens_out > 0:
                self.reported += 1
                self.tokens_in += c.tokens_in
                self.tokens_out += c.tokens_out
        return completions

    def complete(self, prompts) -> list[Completion]:
        return self._count(complete_all(self.backend, prompts))

    def _complete_batch(self, prompts, batch_size: int = 32) -> list[Completion]:
        return self._count(complete_all(self.backend, prompts, batch_size))

    def close(self) -> None:
        pass  # the caller closes the backend it made


def shipped_machines() -> list[tuple[str, Machine]]:
    from .machine import load
    base = data_dir("programs")
    return [(p.stem, load(str(p))) for p in sorted(base.glob("*.tm"))] if base else []


def evaluate(backend, dialects, distributions, n: int, seed: int = DEFAULT_SEED,
             programs: bool = True, progress=None, keys: str = "registers",
             batch: int = 1, clock=time.perf_counter) -> list[Cell]:
    """Verify ``backend`` on the shipped programs and on ``n`` machines of each distribution,
    in each dialect, compiled with the ``keys`` policy. ``progress(done, total, cases, failed)``
    (machines done and in all, cases done and failed so far) once before the first machine and
    after each; when it returns True the evaluation stops there (the cells so far are
    returned, the last one partial). Each failure example names its machine's id
    (:func:`machine_id`), state and read symbol; each cell has its wall time (by ``clock``),
    backend latency and tokens."""
    todo = suites(distributions, n, seed, programs)
    total = sum(len(ms) for _, ms in todo) * len(dialects)
    meter = Metered(backend)
    done = cases_done = failed = 0
    stop = progress is not None and progress(0, total, 0, 0) is True
    cells: list[Cell] = []
    for dialect in dialects:
        for name, machines in todo:
            if stop:
                break
            cell = Cell(name, dialect.name)
            t0, tin, tout, reported = clock(), meter.tokens_in, meter.tokens_out, meter.reported
            for mid, machine in machines:
                results = verify(compile_program(machine, dialect, keys), meter, batch)
                cell.machines += 1
                cell.machines_passed += all(r.passed for r in results)
                for r in results:
                    cell.cases += 1
                    cell.cases_passed += r.passed
                    cell.latency_s += r.latency
                    if not r.passed:
                        kind = classify(r, dialect.shape)
                        cell.failures[kind] += 1
                        cell.examples.setdefault(kind, {"machine": mid, "states": list(r.states),
                                                        "symbols": list(r.symbols),
                                                        "expected": r.expected,
                                                        "answer": r.answer[:300]})
                done += 1
                cases_done += len(results)
                failed += sum(not r.passed for r in results)
                if progress is not None and progress(done, total, cases_done, failed) is True:
                    stop = True
                    break
            cell.wall_s = clock() - t0
            if meter.reported > reported:
                cell.tokens_in, cell.tokens_out = meter.tokens_in - tin, meter.tokens_out - tout
            cells.append(cell)
    return cells


CARD_KIND = "mannsim-eval"
#: Version 1: kind, mannsim version, date, wall time, tokens, dialect digests, Wilson
#: intervals, failure examples with machine ids.
CARD_VERSION = 1
_UTC = "%Y-%m-%dT%H:%M:%SZ"


def utc_now() -> str:
    return time.strftime(_UTC, time.gmtime())


def who(identity: dict) -> str:
    """A backend's identity in words: ``symbolic backend (no model)``, ``hf backend, model M
    (weights sha256 0123456789ab…)``."""
    name = one_line(identity.get("name") or "unnamed", 40)
    model, weights = identity.get("model"), identity.get("weights")
    if not model and not weights:
        return f"{name} backend (no model)"
    text = f"{name} backend" + (f", model {one_line(model, 80)}" if model else "")
    return text + (f" (weights sha256 {one_line(weights, 64)[:12]}…)" if weights else "")


def make_card(cells: list[Cell], identity: dict, *, seed: int, n: int, keys: str, dialects,
              distributions, programs: bool = True, concurrency: int = 1, batch: int = 1,
              started: str | None = None, wall_s: float = 0.0,
              interrupted: bool = False) -> dict:
    """The report card (the JSON one; :func:`markdown` and the command's table render it)."""
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


def rerun_command(card: dict, dialect: str, mid: str) -> str:
    """The command line that reruns one machine of ``card`` (add the backend's own options,
    such as --model, when the card was made with them)."""
    name = (card.get("backend") or {}).get("name") or "symbolic"
    return f"mannsim eval -b {name} -d {dialect} --keys {card.get('keys', 'registers')} --rerun {mid}"


def duration(seconds: float) -> str:
    if seconds < 60:
        return f"{seconds:.1f} s"
    if seconds < 3600:
        return f"{int(seconds // 60)} min {seconds % 60:04.1f} s"
    return f"{int(seconds // 3600)} h {int(seconds % 3600 // 60):02d} min"


def facts(card: dict) -> list[tuple[str, str]]:
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


def example_where(e: dict) -> str:
    """``state S reading X`` of a failure example (``/`` joins the states or symbols that render
    to the same prompt)."""
    return (f"state {'/'.join(map(str, e.get('states', [])))} reading "
            f"{'/'.join(map(str, e.get('symbols', [])))}")


def markdown(card: dict) -> str:
    """The report card in Markdown."""
    lines = [f"# {one_line(card['title'], 300)}", "", "| | |", "|---|---|"]
    lines += [f"| {k} | {v.replace('|', chr(92) + '|')} |" for k, v in facts(card)]
    lines += ["", "| suite | dialect | machines passed | cases passed | failures |",
              "|---|---|---|---|---|"]
    for c in card["cells"] + [dict(card["total"], distribution="**all**", dialect="all")]:
        fails = ", ".join(f"{k}: {v}" for k, v in sorted(c["failures"].items(),
                                                            key=lambda kv: -kv[1])) or "none"
        lines.append(f"| {c['distribution']} | {c['dialect']} | "
                     f"{rate_text(c['machines_passed'], c['machines'])} | "
                     f"{rate_text(c['cases_passed'], c['cases'])} | {fails} |")
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


# -- comparing two cards ------------------------------------------------------------------------
class CardError(MannsimError):
    """A file that is not a mannsim eval report card."""


def read_card(path: str) -> dict:
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


def diff_text(k1: int, n1: int, k2: int, n2: int) -> str:
    """B - A in percentage points with its 95% interval, or ``-``."""
    if not n1 or not n2:
        return "-"
    d, lo, hi = newcombe(k1, n1, k2, n2)
    return f"{100 * d:+.1f} pp (95% CI {100 * lo:+.1f} to {100 * hi:+.1f})"


def compare(a: dict, b: dict) -> list[dict]:
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


def differences(a: dict, b: dict) -> list[str]:
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


def plot_figure(cells: list[Cell], title: str):
    """The bar chart of :func:`plot`, as a matplotlib Figure (laid out: the title wrapped to
    the figure's width, the legend below the axes, outside the bars)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    labels = [f"{c.distribution}\n{c.dialect}" for c in cells]
    width_in = max(6.4, 1.0 + 1.1 * len(cells))
    fig = Figure(figsize=(width_in, 4.8), dpi=100, layout="constrained")
    FigureCanvasAgg(fig)  # no pyplot: nothing global, no window
    ax = fig.add_subplot()
    xs = list(range(len(cells)))
    for offset, what, label in ((-0.2, "cases", "cases passed"),
                                (0.2, "machines", "machines passed")):
        ks = [(getattr(c, f"{what}_passed"), getattr(c, what)) for c in cells]
        rates = [100 * k / n if n else 0.0 for k, n in ks]
        cis = [wilson(k, n) for k, n in ks]
        err = [[r - 100 * lo for r, (lo, _) in zip(rates, cis)],
               [100 * hi - r for r, (_, hi) in zip(rates, cis)]]
        ax.bar([x + offset for x in xs], rates, width=0.4, yerr=err, capsize=3,
               error_kw={"elinewidth": 0.8}, label=f"{label} (%, 95% Wilson CI)")
    ax.set_xticks(xs, labels, fontsize=8)
    pad = max(0.0, (3 - len(cells)) / 2)  # one or two suites: bars of a three-suite width
    ax.set_xlim(-0.6 - pad, len(cells) - 0.4 + pad)
    ax.set_ylim(0, 104)  # the caps of the intervals at 100% show
    ax.set_yticks(range(0, 101, 20))
    ax.set_ylabel("passed (%)", fontsize=9)
    chars = max(30, int(width_in * 72 / (10 * 0.62)))  # about 0.6 em a character at 10 pt
    ax.set_title(textwrap.fill(title, chars), fontsize=10)
    fig.legend(loc="outside lower center", ncols=2, fontsize=8, frameon=False)
    return fig


def plot(cells: list[Cell], out: str, title: str) -> None:
    """A bar chart of cases and machines passed per suite and dialect, with 95% intervals."""
    fig = plot_figure(cells, title)
    try:
        fig.savefig(out)
    except OSError as e:
        raise MannsimError(f"cannot write: {e.strerror or e}", out) from None
