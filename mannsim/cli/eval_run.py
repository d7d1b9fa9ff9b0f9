"""What ``mannsim eval`` does once its backend is loaded: the report card (with progress on a
terminal or, off one, as lines) and ``--rerun``, one machine's cases again."""
from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable, Sequence

import click
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from ..backends.base import Backend
from ..evaluate import (
    Card,
    ConcurrentBackend,
    classify,
    duration,
    evaluate,
    facts,
    failures_text,
    make_card,
    markdown,
    plot,
    rate_cells,
    rerun_command,
    utc_now,
    who,
)
from ..machine import Machine, formats
from ..program import compile_program
from ..program.dialect import Dialect
from ..safe_text import one_line
from ..verify import verify
from .consoles import console
from .output import write_text
from .progress import Ticker, eta_text

#: Off a terminal, a progress line every this many seconds by default.
PROGRESS_EVERY = 10.0


class LineProgress:
    """Progress off a terminal: a plain line (no control codes) to standard error when the
    work starts, then at most one every ``every`` seconds (0: after every machine), and when
    the last machine is done. ``clock`` and ``write`` can be replaced (tests)."""

    def __init__(self, label: str, every: float = PROGRESS_EVERY,
                 clock: Callable[[], float] = time.monotonic,
                 write: Callable[[str], object] | None = None) -> None:
        self.label, self.every, self.clock = label, every, clock
        self.write = write or (lambda line: click.echo(line, err=True))
        self.started = clock()
        self.next = self.started + every

    def __call__(self, done: int, total: int, cases: int = 0, failed: int = 0) -> None:
        now = self.clock()
        if done == 0:
            self.started, self.next = now, now + self.every
            self.write(f"{self.label}: {total:,} machines to verify; a line every "
                       f"{self.every:g} s")
            return
        if now < self.next and done < total:
            return
        self.next = now + self.every
        elapsed = now - self.started
        eta = eta_text(done, total, elapsed)
        self.write(f"{self.label}: {done:,}/{total:,} machines ({100 * done / max(total, 1):.1f}%), "
                   f"{cases:,} cases, {failed:,} failed, elapsed {duration(elapsed)}"
                   + (f", {eta}" if eta else ""))


def runner(be: Backend, concurrency: int) -> Backend:
    """``be``, or ``be`` behind a pool of ``concurrency`` threads (the caller closes it)."""
    return ConcurrentBackend(be, concurrency) if concurrency > 1 else be


def run_card(be: Backend, backend: str, ds: Sequence[Dialect], dists: Sequence[str], n: int,
             seed: int, no_programs: bool, keys: str, concurrency: int, batch: int,
             json_path: str | None, md_path: str | None, plot_path: str | None,
             progress_every: float) -> None:
    """Evaluate ``be``, print and write its card; exits 0 when every case passes, 1 when one
    fails, 130 after Ctrl-C (the card then covers the machines verified before it)."""
    run = runner(be, concurrency)
    started, t0 = utc_now(), time.perf_counter()
    label = f"mannsim eval {one_line(backend, 40)}"
    try:
        with Ticker(console, label, unit="machines") as tick:
            lines = None if tick.on else LineProgress(label, progress_every)

            def progress(done: int, total: int, cases: int, failed: int) -> bool:
                if lines is None:
                    tick(done, total)
                else:
                    lines(done, total, cases, failed)
                return tick.stop_requested  # Ctrl-C: stop after this machine

            cells = evaluate(run, ds, dists, n, seed, programs=not no_programs, keys=keys,
                             batch=batch, progress=progress)
    finally:
        if run is not be:
            run.close()
    wall = time.perf_counter() - t0
    card = make_card(cells, be.identity(), seed=seed, n=n, keys=keys, dialects=ds,
                     distributions=dists, programs=not no_programs, concurrency=concurrency,
                     batch=batch, started=started, wall_s=wall,
                     interrupted=tick.stop_requested)
    if json_path == "-":
        click.echo(json.dumps(card, indent=1))
    else:
        if json_path:
            write_text(json_path, json.dumps(card, indent=1))
        print_card(console, card)
    if md_path:
        write_text(md_path, markdown(card))
    if plot_path:
        plot(cells, plot_path, card["title"])
    if tick.stop_requested:
        click.echo("mannsim: interrupted: the card covers only the machines verified before "
                   "Ctrl-C", err=True)
        sys.exit(130)
    sys.exit(0 if all(c.cases_passed == c.cases for c in cells) else 1)


def print_card(out: Console, card: Card) -> None:
    """The card as a table, its provenance and one failure example of each class."""
    table = Table(title=escape(card["title"]))
    for col in ("suite", "dialect", "machines passed", "95% CI", "cases passed", "95% CI",
                "failures"):
        table.add_column(col)
    for c in card["cells"] + [dict(card["total"], distribution="all", dialect="all")]:
        table.add_row(escape(c["distribution"]), escape(c["dialect"]),
                      *rate_cells(c["machines_passed"], c["machines"]),
                      *rate_cells(c["cases_passed"], c["cases"]), escape(failures_text(c)))
    if out.is_terminal:
        out.print(table)
    else:  # off a terminal nothing is cut (the console is 80 columns there)
        Console(width=max(out.width, 240), soft_wrap=True).print(table)
    for label, text in facts(card):
        out.print(f"{label + ':':16}{text}", markup=False, highlight=False)
    examples = [(c, k, e) for c in card["cells"] for k, e in c["examples"].items()]
    if examples:
        out.print("failures (one example of each class per suite and dialect):",
                  markup=False, highlight=False)
    for c, kind, e in examples:
        out.print(f"  {one_line(e['machine'], 80)} ({c['distribution']}/{c['dialect']}) state "
                  f"{one_line('/'.join(e['states']), 80)} reading "
                  f"{one_line('/'.join(e['symbols']), 40)}: {kind}\n"
                  f"    expected {one_line(e['expected'], 100)}\n"
                  f"    got      {one_line(e['answer'], 100)}\n"
                  f"    rerun:   {rerun_command(card, c['dialect'], e['machine'])}",
                  markup=False, highlight=False)


def rerun(be: Backend, mid: str, what: str, machine: Machine, ds: Sequence[Dialect], keys: str,
          batch: int, concurrency: int) -> bool:
    """Verify one machine in each dialect and print every case; True when all pass."""
    run = runner(be, concurrency)
    click.echo(f"{mid}: {what}, {len(machine.states)} states, {len(machine.symbols)} symbols")
    click.echo(formats.dump(machine, "tm").rstrip("\n"))
    click.echo(f"backend: {who(be.identity())}; {keys} keys")
    passed = failed = 0
    try:
        for dialect in ds:
            results = verify(compile_program(machine, dialect, keys), run, batch)
            click.echo(f"dialect {dialect.name}: {len(results)} cases")
            for r in results:
                where = (f"state {one_line('/'.join(r.states), 80)} reading "
                         f"{one_line('/'.join(r.symbols), 40)}")
                if r.passed:
                    passed += 1
                    click.echo(f"  {where}: pass")
                    continue
                failed += 1
                click.echo(f"  {where}: FAIL, {classify(r, dialect.shape)}\n"
                           f"    expected {one_line(r.expected, 200)}\n"
                           f"    got      {one_line(r.answer, 200)}")
    finally:
        if run is not be:
            run.close()
    click.echo(f"{mid}: {passed + failed} cases, {passed} passed, {failed} failed")
    return failed == 0
