"""The ``mannsim`` command line: click commands that parse options, call the layers, render."""
from __future__ import annotations

import sys
from collections.abc import Sequence

import click

from .. import __version__
from ..backends import describe, registry
from ..errors import EXIT_BACKEND, EXIT_BAD_INPUT, MannsimError
from ..machine import Machine, formats
from ..program import compile_program, load_dialect, render_listing
from ..program.dialect import DEFAULT_DIALECT
from ..resources import list_programs
from ..safe_text import one_line
from . import eval_cmd, run_cmd, trace_cmd, utm_cmd, verify_cmd
from .consoles import console, err_console
from .consoles import format_option as _format_option
from .output import check_output, write_text
from .render import transition_table


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="mannsim")
def cli() -> None:
    """mannsim: run Turing machines with a language model as the CPU.

    PROGRAM arguments are machine files (.tm, Morphett .morphett/.mt, turingmachine.io
    .yaml/.yml, standard text .std), the name of a shipped program (see `mannsim programs`:
    u15_2, bb5, ...), or a busy-beaver standard-format string such as 1RB1LB_1LA1RZ given in
    place of a file (one starting with '-' goes after '--').
    """


@cli.command()
@click.argument("program")
@_format_option()
def show(program: str, fmt: str | None) -> None:
    """Print PROGRAM's transition table."""
    machine = formats.load(program, fmt)
    console.print(transition_table(machine))
    tape = machine.tape_text(machine.tape) or "(blank)"
    console.print(f"start {machine.start}   blank {machine.blank}   head {machine.head}   "
                  f"halting {', '.join(sorted(machine.halt_states)) or '(undefined transitions)'}",
                  markup=False, highlight=False)
    console.print(f"tape  {tape if len(tape) < 200 else tape[:200] + '…'}", markup=False,
                  highlight=False)


@cli.command()
@click.argument("program")
@click.option("--to", "to_fmt", required=True, type=click.Choice(formats.FORMAT_NAMES),
              help="Output format.")
@click.option("-o", "--output", type=click.Path(dir_okay=False),
              help="Write here instead of standard output.")
@_format_option()
def convert(program: str, to_fmt: str, output: str | None, fmt: str | None) -> None:
    """Write PROGRAM in another format (tm, std, morphett, yaml)."""
    if output:
        check_output(output)
    text = formats.dump(formats.load(program, fmt), to_fmt)
    if not text.endswith("\n"):
        text += "\n"
    if output:
        write_text(output, text)
    else:
        click.echo(text, nl=False)


@cli.command()
@click.argument("program")
@click.option("--dialect", "-d", default=DEFAULT_DIALECT, show_default=True,
              help="Prompt dialect (a folder under prompts/, or a path).")
@click.option("--cases", is_flag=True, help="Print every distinct rendered prompt with its answer.")
@_format_option()
def prompts(program: str, dialect: str, cases: bool, fmt: str | None) -> None:
    """Print PROGRAM compiled into a prompt program: exactly what the model will see."""
    prog = compile_program(formats.load(program, fmt), load_dialect(dialect))
    if not cases:
        click.echo(render_listing(prog), nl=False)
        return
    for k, case in enumerate(prog.cases(), 1):
        click.echo(f"; case {k}: state {'/'.join(case.states)} reading {'/'.join(case.symbols)}")
        click.echo(case.prompt, nl=False)
        click.echo(f"; expected answer:\n{case.answer}\n")


def state_count(m: Machine) -> str:
    """States as busy-beaver tables count them: the working states, halting ones apart
    (bb2: "2 states + halting Z")."""
    halting = [q for q in m.states if q in m.halt_states]
    working = len(m.states) - len(halting)
    text = f"{working} state{'s' if working != 1 else ''}"
    if len(halting) == 1:
        return f"{text} + halting {halting[0]}"
    return f"{text} + {len(halting)} halting" if halting else text


@cli.command("programs")
def programs_cmd() -> None:
    """List the programs shipped with mannsim, by the name that runs them (`mannsim run NAME`)."""
    # lazy: only this command and compile/decode read bi-tag systems; --help stays fast
    from ..utm import load as load_bitag
    shipped = list_programs()
    width = max((len(n) for n, _ in shipped), default=0) + 2
    for name, path in shipped:
        try:
            if path.endswith(".bitag"):
                s = load_bitag(path)
                what = f"bi-tag system, {len(s.a)} A and {len(s.e)} E symbols"
            else:
                m = formats.load(path)
                what = (f"{m.name or ''}: {state_count(m)}, {len(m.symbols)} symbols"
                        + (f", tape of {len(m.tape):,} cells" if m.tape else ""))
        except MannsimError as e:
            what = f"(unreadable: {e.message})"
        click.echo(f"{name:{width}}{one_line(what, 120)}")


@cli.command()
def backends() -> None:
    """List the installed backends (entry-point group mannsim.backends)."""
    click.echo(f"{run_cmd.REFERENCE:10} (built in) the plain reference simulator, no memory loop")
    for name, target in sorted(registry().items()):
        click.echo(f"{name:10} {one_line(describe(name), 160)}  [{one_line(target, 80)}]")


for command in (run_cmd.run, verify_cmd.verify, trace_cmd.trace, trace_cmd.plot_program,
                trace_cmd.html_program, utm_cmd.compile_cmd, utm_cmd.decode, eval_cmd.eval_cmd):
    cli.add_command(command)


def main(argv: Sequence[str] | None = None) -> None:
    """Entry point: every error ends in one line on standard error and its exit code: 2 for bad
    input, 3 for a backend that failed while answering (:class:`BackendFailure`)."""
    try:
        cli.main(args=argv, prog_name="mannsim", standalone_mode=False)
    except click.exceptions.Exit as e:
        sys.exit(e.exit_code)
    except click.exceptions.Abort:
        err_console.print("mannsim: interrupted")
        sys.exit(130)
    except click.exceptions.NoSuchOption as e:
        if (e.option_name or "").startswith("---"):
            click.echo(f"mannsim: error: {one_line(e.option_name, 80)} looks like a standard-format "
                       "machine starting with '---': put it after '--' (mannsim run -- "
                       f"{one_line(e.option_name, 80)})", err=True)
            sys.exit(2)
        e.show()
        sys.exit(2)
    except click.ClickException as e:
        e.show()
        sys.exit(2 if e.exit_code in (1, 2) else e.exit_code)
    except MannsimError as e:
        click.echo(f"mannsim: error: {one_line(e, 600)}", err=True)
        sys.exit(e.exit_code if e.exit_code in (EXIT_BAD_INPUT, EXIT_BACKEND) else EXIT_BAD_INPUT)
    except MemoryError:
        click.echo("mannsim: error: out of memory (the input asks for more than this process "
                   "may use)", err=True)
        sys.exit(EXIT_BAD_INPUT)
    except KeyboardInterrupt:
        click.echo("mannsim: interrupted", err=True)
        sys.exit(130)
    except BrokenPipeError:
        sys.exit(0)
