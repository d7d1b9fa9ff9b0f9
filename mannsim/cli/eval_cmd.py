"""``mannsim eval``: a backend's report card over the shipped programs and random machines."""
from __future__ import annotations

import json
import sys

import click
from rich.markup import escape
from rich.table import Table

from ..safe_text import one_line
from .options import backend_options as backend_options_decorator
from .output import check_output, write_text
from .progress import Ticker


@click.command("eval")
@click.option("--backend", "-b", default="symbolic", show_default=True, metavar="NAME",
              help="The backend to evaluate (see `mannsim backends`).")
@click.option("--dialect", "-d", "dialects", multiple=True,
              help="Prompt dialect(s) (repeat the option; default: schuurmans and compact).")
@click.option("--distribution", "distributions", multiple=True,
              type=click.Choice(["training", "human", "large"]),
              help="Random-machine distribution(s) (repeat; default: all three; see README).")
@click.option("-n", "--machines", "n", type=click.IntRange(min=0), default=100, show_default=True,
              help="Random machines per distribution.")
@click.option("--seed", type=int, default=None, help="Seed of the random machines "
              "(default 1000003, never used in training).")
@click.option("--no-programs", is_flag=True, help="Leave out the shipped programs.")
@click.option("--keys", type=click.Choice(["registers", "names"]), default="registers",
              show_default=True,
              help="MEMORY keys of the states: short registers (what run and verify use), or "
                   "the state names themselves (measures how well a model copies long names).")
@click.option("--concurrency", type=click.IntRange(min=1), default=1, show_default=True,
              help="Requests kept in flight (openai: lets a server batch them); answers are "
                   "the same as one at a time.")
@click.option("--batch", type=click.IntRange(min=1), default=1, show_default=True,
              help="hf: decode this many prompts of a machine side by side (the answers are "
                   "those of one at a time; faster on a GPU).")
@click.option("--json", "json_path", type=click.Path(dir_okay=False),
              help="Write the report card as JSON here ('-' for standard output).")
@click.option("--markdown", "md_path", type=click.Path(dir_okay=False),
              help="Write the report card as Markdown here.")
@click.option("--plot", "plot_path", type=click.Path(dir_okay=False),
              help="Write a bar chart (.png or .svg) of cases and machines passed.")
@backend_options_decorator
def eval_cmd(backend, dialects, distributions, n, seed, no_programs, keys, concurrency, batch,
             json_path, md_path, plot_path, backend_options):
    """Verify a backend over a suite and print its report card.

    The suite is the shipped programs and N random machines from each distribution (training:
    like the embedded model's training data; human: word-like names with '_', '-' and digits,
    symbols such as # X a y; large: 8-10 states, 5-8 symbols, names up to 16 characters), in
    each dialect. The card gives cases and machines passed per suite and dialect, and a
    taxonomy of the failures (over-long answer, format error, wrong branch, copy error in the
    state name, wrong symbol, wrong move) with an example of each. Exit code 0 when every case
    passes.
    """
    from ..backends import load_backend
    from ..evaluate import DEFAULT_SEED, ConcurrentBackend, evaluate, markdown, plot
    from ..program import load_dialect
    for path in (json_path, md_path, plot_path):
        if path and path != "-":
            check_output(path)
    ds = [load_dialect(d) for d in (dialects or ("schuurmans", "compact"))]
    dists = list(distributions or ("training", "human", "large"))
    seed = DEFAULT_SEED if seed is None else seed
    be = load_backend(backend, stop=ds[0].stop, dialect=ds, **backend_options)
    runner = ConcurrentBackend(be, concurrency) if concurrency > 1 else be
    console = _console()
    try:
        with Ticker(console, f"eval {backend}", unit="machines") as tick:
            cells = evaluate(runner, ds, dists, n, seed, programs=not no_programs, keys=keys,
                             batch=batch,
                             progress=lambda done, total: tick(done, total))
    finally:
        if runner is not be:
            runner.close()
        be.close()
    who = be.identity().get("model") or backend
    title = (f"mannsim eval: {one_line(who, 80)} on {backend} (seed {seed}, {n} machines each, "
             f"{keys} keys)")
    card = {"title": title, "backend": be.identity(), "seed": seed, "machines": n, "keys": keys,
            "cells": [c.as_dict() for c in cells]}
    if json_path == "-":
        click.echo(json.dumps(card, indent=1))
    else:
        if json_path:
            write_text(json_path, json.dumps(card, indent=1))
        table = Table(title=escape(title))
        for col in ("suite", "dialect", "machines passed", "cases passed", "failures"):
            table.add_column(col)
        for c in cells:
            fails = ", ".join(f"{k}: {v}" for k, v in c.failures.most_common()) or "none"
            table.add_row(c.distribution, c.dialect, f"{c.machines_passed}/{c.machines}",
                          f"{c.cases_passed}/{c.cases}", escape(fails))
        console.print(table)
        for c in cells:
            for kind, e in c.examples.items():
                console.print(f"  {c.distribution}/{c.dialect} {kind}: expected "
                              f"{one_line(e['expected'], 100)}  got {one_line(e['answer'], 100)}",
                              markup=False, highlight=False)
    if md_path:
        write_text(md_path, markdown(cells, title))
    if plot_path:
        plot(cells, plot_path, title)
    sys.exit(0 if all(c.cases_passed == c.cases for c in cells) else 1)


def _console():
    from .consoles import console
    return console
