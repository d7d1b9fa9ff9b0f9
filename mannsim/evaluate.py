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
"""
from __future__ import annotations

import random
import re
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from .backends.base import Completion
from .machine import Machine
from .memory import WRITE, parse_assignments, parse_updates
from .program import compile_program
from .program.check import answer_problem
from .resources import data_dir
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
        shape = load_dialect("schuurmans", allow_path=False).shape
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

    def as_dict(self) -> dict:
        return {"distribution": self.distribution, "dialect": self.dialect,
                "machines": self.machines, "machines_passed": self.machines_passed,
                "cases": self.cases, "cases_passed": self.cases_passed,
                "failures": dict(self.failures), "examples": self.examples}


class ConcurrentBackend:
    """Keeps ``concurrency`` requests in flight (each prompt on its own thread); the answers
    come back in the order of the prompts, so results equal a sequential run's."""

    def __init__(self, backend, concurrency: int):
        self.backend, self.concurrency = backend, concurrency
        self.name = backend.name
        self.pool = ThreadPoolExecutor(max_workers=concurrency)

    def identity(self) -> dict:
        return self.backend.identity()

    def complete(self, prompts) -> list[Completion]:
        return list(self.pool.map(lambda p: self.backend.complete([p])[0], prompts))

    def close(self) -> None:
        self.pool.shutdown()


def shipped_machines() -> list[tuple[str, Machine]]:
    from .machine import load
    base = data_dir("programs")
    return [(p.stem, load(str(p))) for p in sorted(base.glob("*.tm"))] if base else []


def evaluate(backend, dialects, distributions, n: int, seed: int = DEFAULT_SEED,
             programs: bool = True, progress=None, keys: str = "registers",
             batch: int = 1) -> list[Cell]:
    """Verify ``backend`` on the shipped programs and on ``n`` machines of each distribution,
    in each dialect, compiled with the ``keys`` policy. ``progress(done, total)`` after each
    machine."""
    suites: list[tuple[str, list[Machine]]] = []
    if programs:
        suites.append(("programs", [m for _, m in shipped_machines()]))
    for dist in distributions:
        rng = random.Random(f"{seed}:{dist}")
        suites.append((dist, [random_machine(dist, rng) for _ in range(n)]))
    total = sum(len(ms) for _, ms in suites) * len(dialects)
    done = 0
    cells = []
    for dialect in dialects:
        for name, machines in suites:
            cell = Cell(name, dialect.name)
            for machine in machines:
                results = verify(compile_program(machine, dialect, keys), backend, batch)
                cell.machines += 1
                cell.machines_passed += all(r.passed for r in results)
                for r in results:
                    cell.cases += 1
                    cell.cases_passed += r.passed
                    if not r.passed:
                        kind = classify(r, dialect.shape)
                        cell.failures[kind] += 1
                        cell.examples.setdefault(kind, {"expected": r.expected,
                                                        "answer": r.answer[:300],
                                                        "states": list(r.states)})
                done += 1
                if progress is not None:
                    progress(done, total)
            cells.append(cell)
    return cells


def markdown(cells: list[Cell], title: str) -> str:
    lines = [f"# {title}", "", "| suite | dialect | machines passed | cases passed | failures |",
             "|---|---|---|---|---|"]
    for c in cells:
        fails = ", ".join(f"{k}: {v}" for k, v in c.failures.most_common()) or "none"
        lines.append(f"| {c.distribution} | {c.dialect} | {c.machines_passed}/{c.machines} "
                     f"({_pct(c.machines_passed, c.machines)}) | {c.cases_passed}/{c.cases} "
                     f"({_pct(c.cases_passed, c.cases)}) | {fails} |")
    examples = [(c, k, e) for c in cells for k, e in c.examples.items()]
    if examples:
        lines += ["", "## Examples of failures", ""]
        for c, kind, e in examples[:20]:
            lines.append(f"- {c.distribution}/{c.dialect}, {kind}: expected `{e['expected']}`, "
                         f"got `{e['answer'][:120]}`")
    return "\n".join(lines) + "\n"


def _pct(a: int, b: int) -> str:
    return f"{100 * a / b:.2f}%" if b else "-"


def plot(cells: list[Cell], out: str, title: str) -> None:
    """A bar chart of cases and machines passed per suite and dialect."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from .errors import MannsimError
    labels = [f"{c.distribution}\n{c.dialect}" for c in cells]
    cases = [100 * c.cases_passed / c.cases if c.cases else 0 for c in cells]
    machines = [100 * c.machines_passed / c.machines if c.machines else 0 for c in cells]
    fig, ax = plt.subplots(figsize=(max(6, 1.3 * len(cells)), 4.5), dpi=100)
    xs = range(len(cells))
    ax.bar([x - 0.2 for x in xs], cases, width=0.4, label="cases passed (%)")
    ax.bar([x + 0.2 for x in xs], machines, width=0.4, label="machines passed (%)")
    ax.set_xticks(list(xs), labels, fontsize=8)
    ax.set_ylim(0, 105)
    ax.set_title(title, fontsize=10)
    ax.legend(fontsize=8, loc="lower left")
    fig.tight_layout()
    try:
        fig.savefig(out)
    except OSError as e:
        raise MannsimError(f"cannot write: {e.strerror or e}", out) from None
    finally:
        plt.close(fig)
