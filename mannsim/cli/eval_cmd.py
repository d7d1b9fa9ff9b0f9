"""``mannsim eval``: a backend's report card over the shipped programs and random machines;
``mannsim eval --rerun ID``: one machine of a card again; ``mannsim eval compare A B``: two cards
side by side."""
from __future__ import annotations

import json
import sys
import time

import click
from click.core import ParameterSource
from rich.markup import escape
from rich.table import Table

from ..errors import MannsimError
from ..program.dialect import DEFAULT_DIALECT
from ..safe_text import one_line
from .options import backend_options as backend_options_decorator
from .output import check_output, write_text
from .progress import Ticker, eta_text

#: Off a terminal, a progress line every this many seconds by default.
PROGRESS_EVERY = 10.0
#: The options that choose eval's machines or outputs, which --rerun and compare do not take.
SUITE_OPTIONS = ("n", "seed", "distributions", "no_programs", "json_path", "md_path", "plot_path")


class LineProgress:
    """Progress off a terminal: a plain line (no control codes) to standard error when the
    work starts, then at most one every ``every`` seconds (0: after every machine), and when
    the last machine is done. ``clock`` and ``write`` can be replaced (tests)."""

    def __init__(self, label: str, every: float = PROGRESS_EVERY, clock=time.monotonic,
                 write=None):
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
        from ..evaluate import duration
        eta = eta_text(done, total, elapsed)
        self.write(f"{self.label}: {done:,}/{total:,} machines ({100 * done / max(total, 1):.1f}%), "
                   f"{cases:,} cases, {failed:,} failed, elapsed {duration(elapsed)}"
                   + (f", {eta}" if eta else ""))


class EvalGroup(click.Group):
    """``mannsim eval [OPTIONS]`` runs the evaluation; ``mannsim eval compare A B`` compares."""

    def format_usage(self, ctx, formatter):
        formatter.write_usage(ctx.command_path, "[OPTIONS]")
        formatter.write_usage(ctx.command_path, "[OPTIONS] --rerun ID", prefix="       ")
        formatter.write_usage(ctx.command_path, "compare A.json B.json [--markdown FILE]",
                              prefix="       ")


@click.group("eval", cls=EvalGroup, invoke_without_command=True)
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
                   "the same as one at a time. Only for a thread-safe backend (symbolic, "
                   "openai; not hf).")
@click.option("--batch", type=click.IntRange(min=1), default=1, show_default=True,
              help="hf: decode this many prompts of a machine side by side (the answers are "
                   "those of one at a time; faster on a GPU).")
@click.option("--json", "json_path", type=click.Path(dir_okay=False),
              help="Write the report card as JSON here ('-' for standard output).")
@click.option("--markdown", "md_path", type=click.Path(dir_okay=False),
              help="Write the report card as Markdown here.")
@click.option("--plot", "plot_path", type=click.Path(dir_okay=False),
              help="Write a bar chart (.png or .svg) of cases and machines passed, with 95% "
                   "intervals.")
@click.option("--rerun", "rerun_id", metavar="ID",
              help="Draw again the one machine a card's failure example names (its id, e.g. "
                   "human:1000003:17 or programs:bb5), verify it on the backend in each dialect "
                   "and print every case.")
@click.option("--progress-every", type=click.FloatRange(min=0), default=PROGRESS_EVERY,
              show_default=True, metavar="SECONDS",
              help="Off a terminal: a progress line on standard error every SECONDS (0: after "
                   "every machine). On a terminal the progress line is live.")
@backend_options_decorator
@click.pass_context
def eval_cmd(ctx, backend, dialects, distributions, n, seed, no_programs, keys, concurrency,
             batch, json_path, md_path, plot_path, rerun_id, progress_every, backend_options):
    """Verify a backend over a suite and print its report card.

    The suite is the shipped programs and N random machines from each distribution (training:
    like the embedded model's training data; human: word-like names with '_', '-' and digits,
    symbols such as # X a y; large: 8-10 states, 5-8 symbols, names up to 16 characters), in
    each dialect. The card gives cases and machines passed per suite and dialect with Wilson
    95% intervals; the backend's identity (name, model, weights sha256), mannsim's version,
    the date (UTC), seed, dialects, key policy, wall time, ms per case and tokens (where the
    backend counts them); and a taxonomy of the failures (over-long answer, format error,
    wrong branch, copy error in the state name, wrong symbol, wrong move) with an example of
    each naming its machine's id, state and read symbol. Exit code 0 when every case passes.

    --rerun ID verifies the one machine ID names again and prints its cases (exit 0 when all
    pass). `mannsim eval compare A.json B.json` sets two JSON cards side by side.
    """
    if ctx.invoked_subcommand is not None:
        given = [p for p in ctx.command.params
                 if ctx.get_parameter_source(p.name) not in (ParameterSource.DEFAULT, None)]
        if given:
            raise MannsimError(f"{given[0].opts[-1]} is an option of mannsim eval, not of "
                               f"mannsim eval {ctx.invoked_subcommand}")
        return
    from ..backends import load_backend
    from ..evaluate import DEFAULT_SEED, check_concurrency
    from ..program import load_dialect
    if rerun_id is not None:
        given = [p for p in ctx.command.params if p.name in SUITE_OPTIONS
                 and ctx.get_parameter_source(p.name) not in (ParameterSource.DEFAULT, None)]
        if given:
            raise MannsimError(f"--rerun takes the machine (and its seed) from the id: leave out "
                               f"{given[0].opts[-1]}")
    for path in (json_path, md_path, plot_path):
        if path and path != "-":
            check_output(path)
    ds = [load_dialect(d) for d in (dialects or (DEFAULT_DIALECT, "compact"))]
    dists = list(distributions or ("training", "human", "large"))
    seed = DEFAULT_SEED if seed is None else seed
    if rerun_id is not None:
        from ..evaluate import machine_from_id
        what, machine = machine_from_id(rerun_id)  # a bad id is refused before a model loads
    check_concurrency(_backend_class(backend), concurrency, backend)
    be = load_backend(backend, stop=ds[0].stop, dialect=ds, **backend_options)
    try:
        check_concurrency(be, concurrency, backend)
        if rerun_id is not None:
            ok = _rerun(be, rerun_id.strip(), what, machine, ds, keys, batch, concurrency)
            sys.exit(0 if ok else 1)
        _card(be, backend, ds, dists, n, seed, no_programs, keys, concurrency, batch,
              json_path, md_path, plot_path, progress_every)
    finally:
        be.close()


def _backend_class(name: str):
    """The class registered as backend ``name`` (None when it cannot be imported: then
    load_backend says why)."""
    from importlib import import_module

    from ..backends import registry
    module, _, attr = registry().get(name, ":").partition(":")
    try:
        return getattr(import_module(module), attr)
    except Exception:  # noqa: BLE001 - load_backend reports a backend that does not load
        return None


def _runner(be, concurrency: int):
    from ..evaluate import ConcurrentBackend
    return ConcurrentBackend(be, concurrency) if concurrency > 1 else be


def _card(be, backend, ds, dists, n, seed, no_programs, keys, concurrency, batch,
          json_path, md_path, plot_path, progress_every):
    from ..evaluate import Cell, evaluate, make_card, markdown, plot, utc_now
    runner = _runner(be, concurrency)
    console = _console()
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

            cells: list[Cell] = evaluate(runner, ds, dists, n, seed, programs=not no_programs,
                                         keys=keys, batch=batch, progress=progress)
    finally:
        if runner is not be:
            runner.close()
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
        _print_card(console, card)
    if md_path:
        write_text(md_path, markdown(card))
    if plot_path:
        plot(cells, plot_path, card["title"])
    if tick.stop_requested:
        click.echo("mannsim: interrupted: the card covers only the machines verified before "
                   "Ctrl-C", err=True)
        sys.exit(130)
    sys.exit(0 if all(c.cases_passed == c.cases for c in cells) else 1)


def _print_card(console, card: dict) -> None:
    from ..evaluate import facts, rate_cells, rerun_command
    table = Table(title=escape(card["title"]))
    for col in ("suite", "dialect", "machines passed", "95% CI", "cases passed", "95% CI",
                "failures"):
        table.add_column(col)
    for c in card["cells"] + [dict(card["total"], distribution="all", dialect="all")]:
        fails = ", ".join(f"{k}: {v}" for k, v in sorted(c["failures"].items(),
                                                            key=lambda kv: -kv[1])) or "none"
        table.add_row(escape(c["distribution"]), escape(c["dialect"]),
                      *rate_cells(c["machines_passed"], c["machines"]),
                      *rate_cells(c["cases_passed"], c["cases"]), escape(fails))
    if console.is_terminal:
        console.print(table)
    else:  # off a terminal nothing is cut (the console is 80 columns there)
        from rich.console import Console
        Console(width=max(console.width, 240), soft_wrap=True).print(table)
    for label, text in facts(card):
        console.print(f"{label + ':':16}{text}", markup=False, highlight=False)
    examples = [(c, k, e) for c in card["cells"] for k, e in c["examples"].items()]
    if examples:
        console.print("failures (one example of each class per suite and dialect):",
                      markup=False, highlight=False)
    for c, kind, e in examples:
        console.print(f"  {one_line(e['machine'], 80)} ({c['distribution']}/{c['dialect']}) state "
                      f"{one_line('/'.join(e['states']), 80)} reading "
                      f"{one_line('/'.join(e['symbols']), 40)}: {kind}\n"
                      f"    expected {one_line(e['expected'], 100)}\n"
                      f"    got      {one_line(e['answer'], 100)}\n"
                      f"    rerun:   {rerun_command(card, c['dialect'], e['machine'])}",
                      markup=False, highlight=False)


def _rerun(be, mid, what, machine, ds, keys, batch, concurrency) -> bool:
    """Verify one machine in each dialect and print every case; True when all pass."""
    from ..evaluate import classify, who
    from ..machine import formats
    from ..program import compile_program
    from ..verify import verify
    runner = _runner(be, concurrency)
    click.echo(f"{mid}: {what}, {len(machine.states)} states, {len(machine.symbols)} symbols")
    click.echo(formats.dump(machine, "tm").rstrip("\n"))
    click.echo(f"backend: {who(be.identity())}; {keys} keys")
    passed = failed = 0
    try:
        for dialect in ds:
            results = verify(compile_program(machine, dialect, keys), runner, batch)
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
        if runner is not be:
            runner.close()
    click.echo(f"{mid}: {passed + failed} cases, {passed} passed, {failed} failed")
    return failed == 0


@eval_cmd.command("compare")
@click.argument("a", metavar="A.json", type=click.Path(dir_okay=False))
@click.argument("b", metavar="B.json", type=click.Path(dir_okay=False))
@click.option("--markdown", "md_path", type=click.Path(dir_okay=False),
              help="Also write the comparison as Markdown here.")
def compare_cmd(a, b, md_path):
    """Set two report cards (mannsim eval --json) side by side.

    Per suite and dialect: cases and machines passed on each card with Wilson 95% intervals,
    and the difference B - A in percentage points with Newcombe's 95% interval. Cards whose
    seed, machines, key policy, dialect text or mannsim version differ are compared, with a
    note that their suites are not the same machines. A file that is not an eval card is
    refused (exit 2).
    """
    from ..evaluate import compare, differences, facts, rate_text, read_card
    if md_path:
        check_output(md_path)
    ca, cb = read_card(a), read_card(b)
    rows = compare(ca, cb)
    heads = []
    for tag, path, card in (("A", a, ca), ("B", b, cb)):
        f = dict(facts(card))
        heads.append(f"{tag}: {one_line(path, 200)}: {one_line(card.get('title'), 300)}; "
                     f"mannsim {f['mannsim']}, {f['date (UTC)']}")
    notes = differences(ca, cb)
    for line in heads:
        click.echo(line)
    for note in notes:
        click.echo(f"note: not the same suite: {note}")

    def rt(c, what):
        return rate_text(c[f"{what}_passed"], c[what]) if c else "-"

    for r in rows:
        click.echo(f"{one_line(r['suite'], 40)}/{one_line(r['dialect'], 40)}")
        for what in ("cases", "machines"):
            click.echo(f"  {what:9} A {rt(r['a'], what)}   B {rt(r['b'], what)}   "
                       f"B - A {r[what]}")
    if md_path:
        cols = ("suite", "dialect", "A cases", "B cases", "cases B - A", "A machines",
                "B machines", "machines B - A")
        lines = ["# mannsim eval compare", ""] + [f"- {h}" for h in heads]
        lines += [f"- note: not the same suite: {n}" for n in notes]
        lines += ["", "| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
        for r in rows:
            row = (r["suite"], r["dialect"], rt(r["a"], "cases"), rt(r["b"], "cases"), r["cases"],
                   rt(r["a"], "machines"), rt(r["b"], "machines"), r["machines"])
            lines.append("| " + " | ".join(one_line(x, 200).replace("|", "\\|") for x in row)
                         + " |")
        write_text(md_path, "\n".join(lines) + "\n")


def _console():
    from .consoles import console
    return console
