"""``mannsim trace``: show, stats and view a run's trace."""
from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any, TypeVar

import click
from rich.console import Console
from rich.markup import escape
from rich.table import Table
from rich.text import Text

from ..program import compile_program, load_dialect
from ..program.dialect import DEFAULT_DIALECT
from ..safe_text import one_line, printable
from ..trace import Cycle, TraceIndex
from ..trace import html as trace_html
from ..trace import plot as trace_plot
from ..trace.views import cycle_view, cycle_writes, divergence_lines, parse_steps, plural, stats
from .consoles import console, err_console
from .options import input_options, load_machine
from .output import check_output, write_text
from .progress import Ticker
from .render import plain_head, tape_line

F = TypeVar("F", bound=Callable[..., Any])


def _open(path: str, err_console: Console) -> TraceIndex:
    ix = TraceIndex(path)
    for w in ix.warnings:
        err_console.print(f"mannsim: warning: {one_line(w, 400)}", markup=False, highlight=False)
    return ix


def _span(spec: str | None, last: int) -> tuple[int, int]:
    """``A:B`` as (first, last) steps; either side may be empty."""
    if not spec:
        return 0, last
    try:
        a, _, b = spec.partition(":")
        first = int(a.replace(",", "")) if a.strip() else 0
        end = int(b.replace(",", "")) if b.strip() else last
    except ValueError:
        raise click.BadParameter("use A:B with integers, e.g. 1000:2000 or 5000:",
                                 param_hint="--steps") from None
    if not 0 <= first < end:
        raise click.BadParameter(f"{spec} is an empty range (need 0 <= A < B)", param_hint="--steps")
    return first, min(end, last)


def _check_image(path: str) -> None:
    if not path.lower().endswith((".png", ".svg")):
        raise click.BadParameter("the output must end in .png or .svg", param_hint="--output")
    check_output(path)


@click.group()
def trace() -> None:
    """Inspect a run's trace (written by `mannsim run --trace FILE`)."""


@trace.command()
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@click.option("--steps", help="Cycles A:B (1-based, inclusive), e.g. 1:20 or 39000: .")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per cycle.")
@click.option("--prompt", is_flag=True, help="Also print each prompt (boot folded).")
def show(file: str, steps: str | None, as_json: bool, prompt: bool) -> None:
    """Print cycles of FILE: state, head, tape, answer, writes, check, latency."""
    ix = _open(file, err_console)
    try:
        span = parse_steps(steps, len(ix))
    except ValueError as e:
        why = str(e) if "range" in str(e) or "trace has" in str(e) else \
            "use A:B with integers (1-based, inclusive), e.g. 1:20 or 39000:"
        raise click.BadParameter(why, param_hint="--steps") from None
    blank = ix.machine().blank
    plain = plain_head(console)  # off a terminal the head cell is bracketed: 00[1]00
    n0 = len(ix.warnings)
    for k in span:
        v = cycle_view(ix, k)
        if as_json:
            v = dict(v)
            v["tape"] = "".join(s for _, s in v["tape"])
            if not prompt:
                v.pop("prompt_text", None)
                v.pop("prompt_block", None)
            click.echo(json.dumps(v, ensure_ascii=False))
            continue
        checked = v["checked"]
        # ✓ only for a record checked against the reference machine; ! a record that
        # disagrees with it; ? a configuration or record this view could not check
        mark = ("[red]✗[/]" if v["check"] != "ok" else "[bold red]![/]" if checked["problems"]
                else "[green]✓[/]" if checked["verified"] else "[yellow]?[/]")
        console.print(f"{mark} [bold]{k:>6}[/] state {escape(one_line(v['state'], 60))}  "
                      f"head {v['head']}  read {escape(one_line(v['read'], 40))}  "
                      f"{v['ms']:.2f} ms  tokens {v['tin']}/{v['tout']}"
                      + ("  [cyan]cached[/]" if v["cached"] else ""), highlight=False)
        console.print("        tape   ", tape_line(v["tape"], v["head"], blank, plain), sep="")
        console.print(f"        answer {one_line(repr(v['answer']), 600)}", markup=False,
                      highlight=False)
        console.print(f"        writes {cycle_writes(ix, Cycle.from_json(v))}", markup=False, highlight=False)
        for problem in checked["problems"]:
            console.print(f"        disagrees: {one_line(problem, 400)}", style="red",
                          markup=False, highlight=False)
        if checked["config"] == "snapshot":
            console.print(f"        unchecked: tape from the trace's snapshot after cycle "
                          f"{checked['snapshot']}", style="yellow", markup=False, highlight=False)
        elif not checked["verified"] and not checked["problems"] and v["check"] == "ok":
            console.print("        unchecked: the trace's dialect is not a shipped one, so its "
                          "answers cannot be re-applied", style="yellow", markup=False,
                          highlight=False)
        if prompt:
            console.print(Text("        " + printable(v["prompt_block"])
                               .replace("\n", "\n        ")))
        if "divergence" in v:
            d = v["divergence"]
            console.print(f"        divergence: {one_line(d.get('reason'))}", style="red",
                          markup=False, highlight=False)
            for line in divergence_lines(d):
                console.print(f"        {line}", markup=False, highlight=False)
            want = (d.get("expected") or {}).get("answer")
            if isinstance(want, str):
                console.print(f"        expected answer {one_line(repr(want), 600)}",
                              markup=False, highlight=False)
    for w in ix.warnings[n0:]:
        err_console.print(f"mannsim: warning: {one_line(w, 400)}", markup=False, highlight=False)


@trace.command("stats")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
def stats_cmd(file: str, as_json: bool) -> None:
    """Cycles, distinct prompts, (state, symbol) counts, latency, tokens, cache hits."""
    s = stats(_open(file, err_console))
    if as_json:
        click.echo(json.dumps(s))
        return
    lat = s["latency_ms"]
    console.print(f"[bold]{escape(one_line(s['program'], 80))}[/] on "
                  f"{escape(one_line(s['backend'], 40))}: {plural(s['cycles'], 'cycle')}, "
                  f"{s['distinct_prompts']} distinct prompts, ended: "
                  f"{s['end'] or '(no end record)'}", highlight=False)
    console.print(f"latency ms  p50 {lat['p50']:.3f}  p90 {lat['p90']:.3f}  p99 {lat['p99']:.3f}  "
                  f"max {lat['max']:.3f}  mean {lat['mean']:.3f}")
    console.print(f"tokens in {s['tokens_in']:,}  out {s['tokens_out']:,}   cache hit rate "
                  f"{s['cache_hit_rate']:.1%}")
    if s["first_divergence"]:
        console.print(f"[red]first divergence at cycle {s['first_divergence']}[/] "
                      f"({s['model_ms_to_first_divergence']} ms of model time before it)")
    table = Table(title="cycles per (state, symbol read)")
    table.add_column("state, symbol")
    table.add_column("cycles", justify="right")
    for pair, count in s["pairs"].items():
        table.add_row(escape(one_line(pair, 80)), f"{count:,}")
    console.print(table)


@trace.command()
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False),
              help="Image to write: .png or .svg.")
@click.option("--steps", "span", help="Only cycles A:B (either side may be empty).")
def plot(file: str, output: str, span: str | None) -> None:
    """Draw FILE's space-time diagram (tape per step, head, divergence, latency panel)."""
    _check_image(output)
    ix = _open(file, err_console)
    first, last = _span(span, len(ix))
    title = one_line(f"{ix.header.program_name} on {ix.header.backend_name}", 80)
    trace_plot.save(trace_plot.from_trace(ix, first, last), output, title=title)
    console.print(f"wrote {output}")


def _reference_output(what: str, steps: str) -> Callable[[F], F]:
    """PROGRAM, ``-o/--output`` (``what``) and ``--max-steps`` (``steps``) of a command drawing
    a run of the reference machine."""
    def options(f: F) -> F:
        f = click.option("--max-steps", type=click.IntRange(min=1), default=100_000,
                         show_default=True, help=steps)(f)
        f = click.option("-o", "--output", required=True, type=click.Path(dir_okay=False),
                         help=what)(f)
        return click.argument("program")(f)
    return options


@click.command("plot")
@_reference_output("Image to write: .png or .svg.", "Steps of the reference machine to draw.")
@click.option("--steps", "span", help="Only steps A:B (either side may be empty; B at most "
              "--max-steps).")
@input_options
def plot_program(program: str, output: str, max_steps: int, span: str | None,
                 inputs: dict[str, str]) -> None:
    """Draw PROGRAM's space-time diagram with the reference machine (busy beavers too)."""
    _check_image(output)
    machine = load_machine(program, None, inputs)
    with Ticker(console, f"plot {one_line(machine.name or program, 60)}", max_steps,
                "steps", limit=True) as tick:
        first, last = _span(span, max_steps)
        data = trace_plot.collect(machine, last, progress=lambda done, total: tick(done, total),
                                  first=first)
    if tick.stop_requested:
        raise KeyboardInterrupt
    trace_plot.save(data, output)
    console.print(f"wrote {output}")


@trace.command("html")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False),
              help="The page to write (one self-contained .html file).")
@click.option("--steps", "span", help="Only cycles A:B (1-based, inclusive; at most "
              "2,000,000), e.g. 40000000:40100000.")
def html_cmd(file: str, output: str, span: str | None) -> None:
    """Write FILE as one web page that opens from disk, with no server and no network:
    play/pause, step, jump to a cycle, the divergence or a (state, symbol); the tape with
    the state on it, the prompt, answer, writes and check of each cycle, a space-time
    diagram and the state diagram. A trace of more than 2,000,000 cycles is written a
    window at a time (--steps)."""
    check_output(output)
    ix = _open(file, err_console)
    try:
        window = parse_steps(span, len(ix))
    except ValueError as e:
        raise click.BadParameter(str(e), param_hint="--steps") from None
    first, last = window.start, window.stop - 1
    if last - first + 1 > trace_html.MAX_PAGE_CYCLES:
        raise click.BadParameter(
            f"{last - first + 1:,} cycles are more than one page holds "
            f"({trace_html.MAX_PAGE_CYCLES:,}); choose a window, e.g. --steps {first}:"
            f"{first + trace_html.MAX_PAGE_CYCLES - 1}", param_hint="--steps")
    write_text(output, trace_html.from_trace(ix, first=first, last=last))
    console.print(f"wrote {output}: {plural(last - first + 1, 'cycle')}"
                  + (f" ({first:,}–{last:,} of {len(ix):,})" if span else ""),
                  highlight=False)


@click.command("html")
@_reference_output("The page to write (one self-contained .html file).",
                   "Cycles of the reference machine to put in the page.")
@click.option("--dialect", "-d", default=DEFAULT_DIALECT, show_default=True,
              help="Prompt dialect whose prompts and answers the page shows.")
@input_options
def html_program(program: str, output: str, max_steps: int, dialect: str,
                 inputs: dict[str, str]) -> None:
    """Write PROGRAM's run on the reference machine as one web page (see `trace html`);
    each cycle shows the prompt a model would see and the answer a perfect model gives."""
    check_output(output)
    prog = compile_program(load_machine(program, None, inputs), load_dialect(dialect))
    write_text(output, trace_html.from_program(prog, max_steps))
    console.print(f"wrote {output}", highlight=False)


@trace.command()
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
def view(file: str) -> None:
    """Step through FILE interactively (keys: ? for help)."""
    from ..viewer import TraceViewer  # lazy: Textual costs ~0.15 s to import
    TraceViewer(_open(file, err_console)).run()
