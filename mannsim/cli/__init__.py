"""The ``mannsim`` command line: click commands that parse options, call the layers, render."""
from __future__ import annotations

import json
import sys
import time

import click
from rich.console import Console

from .. import __version__
from ..errors import MannsimError
from ..machine import formats
from ..machine.simulator import run as run_reference
from .render import tape_window, transition_table

BACKENDS = ("reference",)

console = Console()
err_console = Console(stderr=True)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="mannsim")
def cli():
    """mannsim: run Turing machines with a language model as the CPU.

    PROGRAM arguments are machine files (.tm, Morphett .morphett/.mt, turingmachine.io
    .yaml/.yml, standard text .std) or a busy-beaver standard-format string such as
    1RB1LB_1LA1RZ given in place of a file.
    """


def _format_option():
    return click.option("--format", "fmt", type=click.Choice(formats.FORMAT_NAMES),
                        help="Input format (default: from the extension or the content).")


@cli.command()
@click.argument("program")
@click.option("--backend", "-b", default="reference", show_default=True,
              type=click.Choice(BACKENDS), help="What executes the machine.")
@click.option("--max-steps", type=click.IntRange(min=0), default=10**9, show_default=True,
              help="Stop after this many steps.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object instead of a report.")
@_format_option()
def run(program, backend, max_steps, as_json, fmt):
    """Run PROGRAM to halt (or --max-steps) and report steps, state, head and tape."""
    machine = formats.load(program, fmt)
    t0 = time.perf_counter()
    result = run_reference(machine, max_steps)
    elapsed = time.perf_counter() - t0
    if as_json:
        out = result.as_dict()
        out.update(backend=backend, program=machine.name or program, seconds=round(elapsed, 6))
        click.echo(json.dumps(out))
        return
    status = "[green]halted[/]" if result.halted else f"[yellow]stopped at --max-steps {max_steps}[/]"
    console.print(f"[bold]{machine.name or program}[/] on [cyan]{backend}[/]: {status}")
    console.print(f"  steps  {result.steps:,}   state {result.state}   head {result.head}   "
                  f"non-blank {result.nonblank:,}   time {elapsed:.3f} s")
    console.print("  tape   ", tape_window(result.cells, result.head, machine.blank), sep="")


@cli.command()
@click.argument("program")
@_format_option()
def show(program, fmt):
    """Print PROGRAM's transition table."""
    machine = formats.load(program, fmt)
    console.print(transition_table(machine))
    tape = machine.tape_text(machine.tape) or "(blank)"
    console.print(f"start {machine.start}   blank {machine.blank}   head {machine.head}   "
                  f"halting {', '.join(sorted(machine.halt_states)) or '(undefined transitions)'}")
    console.print(f"tape  {tape if len(tape) < 200 else tape[:200] + '…'}")


@cli.command()
@click.argument("program")
@click.option("--to", "to_fmt", required=True, type=click.Choice(formats.FORMAT_NAMES),
              help="Output format.")
@click.option("-o", "--output", type=click.Path(dir_okay=False, writable=True),
              help="Write here instead of standard output.")
@_format_option()
def convert(program, to_fmt, output, fmt):
    """Write PROGRAM in another format (tm, std, morphett, yaml)."""
    text = formats.dump(formats.load(program, fmt), to_fmt)
    if not text.endswith("\n"):
        text += "\n"
    if output:
        with open(output, "w", encoding="utf-8") as f:
            f.write(text)
    else:
        click.echo(text, nl=False)


def main(argv=None) -> None:
    """Entry point: every error a user can cause ends in one line and exit code 2."""
    try:
        cli.main(args=argv, prog_name="mannsim", standalone_mode=False)
    except click.exceptions.Abort:
        err_console.print("mannsim: interrupted")
        sys.exit(130)
    except click.ClickException as e:
        e.show()
        sys.exit(2 if e.exit_code in (1, 2) else e.exit_code)
    except MannsimError as e:
        click.echo(f"mannsim: error: {e}", err=True)
        sys.exit(2)
    except KeyboardInterrupt:
        click.echo("mannsim: interrupted", err=True)
        sys.exit(130)
    except BrokenPipeError:
        sys.exit(0)
