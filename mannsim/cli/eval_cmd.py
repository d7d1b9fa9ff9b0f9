"""``mannsim eval``: a backend's report card over the shipped programs and random machines;
``mannsim eval --rerun ID``: one machine of a card again; ``mannsim eval compare A B``: two cards
side by side. The command parses and checks its options here; :mod:`.eval_run` runs the card
or the rerun, :mod:`.eval_compare` compares."""
from __future__ import annotations

import sys
from collections.abc import Callable
from importlib import import_module
from typing import Any

import click
from click.core import ParameterSource

from ..backends import load_backend, registry
from ..errors import MannsimError
from ..evaluate import DEFAULT_SEED, check_concurrency, machine_from_id
from ..program import DEFAULT_KEYS, KEY_POLICIES, load_dialect
from ..program.dialect import DEFAULT_DIALECT
from . import options
from .eval_compare import compare_cmd
from .eval_run import PROGRESS_EVERY, LineProgress, rerun, run_card
from .output import check_output

__all__ = ["PROGRESS_EVERY", "SUITE_OPTIONS", "EvalGroup", "LineProgress", "compare_cmd", "eval_cmd"]

#: The options that choose eval's machines or outputs, which --rerun and compare do not take.
SUITE_OPTIONS = ("n", "seed", "distributions", "no_programs", "json_path", "md_path", "plot_path")
#: The backend options (--model, --device, ...), typed for the decorator stack below.
backend_options_decorator: Callable[[Callable[..., Any]], Callable[..., Any]] = options.backend_options


class EvalGroup(click.Group):
    """``mannsim eval [OPTIONS]`` runs the evaluation; ``mannsim eval compare A B`` compares."""

    def format_usage(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
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
@click.option("--keys", type=click.Choice(KEY_POLICIES), default=DEFAULT_KEYS.value,
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
def eval_cmd(ctx: click.Context, backend: str, dialects: tuple[str, ...],
             distributions: tuple[str, ...], n: int, seed: int | None, no_programs: bool, keys: str,
             concurrency: int, batch: int, json_path: str | None, md_path: str | None,
             plot_path: str | None, rerun_id: str | None, progress_every: float,
             backend_options: dict[str, Any]) -> None:
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
                 if ctx.get_parameter_source(p.name or "") not in (ParameterSource.DEFAULT, None)]
        if given:
            raise MannsimError(f"{given[0].opts[-1]} is an option of mannsim eval, not of "
                               f"mannsim eval {ctx.invoked_subcommand}")
        return
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
        what, machine = machine_from_id(rerun_id)  # a bad id is refused before a model loads
    check_concurrency(_backend_class(backend), concurrency, backend)
    be = load_backend(backend, stop=ds[0].stop, dialect=ds, **backend_options)
    try:
        check_concurrency(be, concurrency, backend)
        if rerun_id is not None:
            ok = rerun(be, rerun_id.strip(), what, machine, ds, keys, batch, concurrency)
            sys.exit(0 if ok else 1)
        run_card(be, backend, ds, dists, n, seed, no_programs, keys, concurrency, batch,
                 json_path, md_path, plot_path, progress_every)
    finally:
        be.close()


def _backend_class(name: str) -> object:
    """The class registered as backend ``name`` (None when it cannot be imported: then
    load_backend says why)."""
    module, _, attr = registry().get(name, ":").partition(":")
    try:
        return getattr(import_module(module), attr)
    except Exception:  # noqa: BLE001 - load_backend reports a backend that does not load
        return None


eval_cmd.add_command(compare_cmd)
