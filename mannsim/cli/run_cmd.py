"""``mannsim run``: the reference machine, or the stored-instruction computer on a backend."""
from __future__ import annotations

import json
import os
import signal
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from types import FrameType
from typing import TYPE_CHECKING, Any

import click
from rich.console import Console
from rich.markup import escape

from .. import backends, replay
from ..backends import load_backend
from ..computer import Computer
from ..errors import MannsimError
from ..limits import DEFAULT_BACKEND_STEPS, DEFAULT_REFERENCE_STEPS
from ..machine import formats
from ..machine.model import Machine
from ..machine.simulator import run as run_reference
from ..program import Dialect, compile_program, load_dialect
from ..program.compiler import DEFAULT_KEYS, KEY_POLICIES, KeyPolicy
from ..program.dialect import DEFAULT_DIALECT
from ..run_state import RunReport
from ..safe_text import one_line
from ..trace import TraceIndex, read_header
from .consoles import console, format_option
from .options import backend_options as backend_options_decorator
from .options import input_options, load_machine
from .progress import Ticker
from .render import plain_head, tape_window
from .run_view import LiveView, print_report

if TYPE_CHECKING:
    from ..viewer import TraceViewer

REFERENCE = "reference"


def backend_names() -> list[str]:
    return [REFERENCE] + sorted(backends.registry())  # looked up at call time (tests patch it)


def run_reference_cmd(console: Console, machine: Machine, label: str, max_steps: int,
                      as_json: bool) -> int:
    t0 = time.perf_counter()
    with Ticker(console, f"{label} on reference", max_steps, "steps", limit=True) as tick:
        result = run_reference(machine, max_steps, progress=tick)
    elapsed = time.perf_counter() - t0
    if as_json:
        out = result.as_dict()
        if result.interrupted:
            out["reason"] = "interrupted"
        out.update(backend=REFERENCE, program=label, cycles=None, diverged=False,
                   seconds=round(elapsed, 6))
        click.echo(json.dumps(out))
        return 130 if result.interrupted else 0
    status = ("[green]halted[/]" if result.halted else "[yellow]interrupted (Ctrl-C)[/]"
              if result.interrupted else f"[yellow]stopped at --max-steps {max_steps:,}[/]")
    console.print(f"[bold]{escape(str(label))}[/] on [cyan]reference[/]: {status}")
    console.print(f"  steps  {result.steps:,}   state {escape(result.state)}   head {result.head}   "
                  f"non-blank {result.nonblank:,}   time {elapsed:.3f} s")
    console.print("  tape   ", tape_window(result.cells, result.head, machine.blank,
                                           plain=plain_head(console)), sep="")
    return 130 if result.interrupted else 0


def _run_with_viewer(comp: Computer,
                     show: Callable[[TraceViewer], object] = lambda app: app.run(),
                     ) -> RunReport:
    """Run in a thread while the viewer follows the trace; quitting the viewer stops the run.
    ``show(app)`` runs the viewer (a test runs it headless)."""
    from ..viewer import TraceViewer  # lazy: Textual costs ~0.15 s to import
    stop = threading.Event()

    def work() -> None:
        for _ in comp.cycles():
            if stop.is_set():
                break  # ends the run as interrupted, its trace finished

    path = comp.trace_path
    assert path is not None  # a run with the viewer always writes a trace
    worker = threading.Thread(target=work, daemon=True)
    worker.start()
    deadline = time.time() + 30
    while time.time() < deadline and worker.is_alive():
        try:
            index = TraceIndex(path)
            break
        except MannsimError:
            time.sleep(0.05)
    else:
        index = TraceIndex(path)
    show(TraceViewer(index, start=max(1, len(index)), follow=True))
    stop.set()
    worker.join()
    assert comp.result is not None  # the worker finished the run
    return comp.result


def _resume_settings(resume: str, program_spec: str | None, fmt: str | None,
                     backend_name: str | None, dialect_name: str | None,
                     ) -> tuple[str, Dialect, Machine | None]:
    """What a resumed run uses: the trace's backend and dialect unless given (then they must
    agree), and PROGRAM only to check it is the trace's. Returns (backend, dialect, machine)."""
    # the backend is chosen from the header before the whole trace is read (and re-checked) by
    # the resume, with the dialect loaded here
    header = read_header(resume)
    recorded = header.backend_name
    recorded_dialect = header.dialect_name
    if backend_name is not None and backend_name != recorded:
        raise MannsimError(f"the trace was recorded with backend {one_line(recorded, 40)!r}; "
                           f"--backend {backend_name} would mix two backends in one run (leave "
                           "-b out)", resume, 1)
    if not isinstance(recorded, str) or recorded not in backend_names() or recorded == REFERENCE:
        raise MannsimError(f"the trace names backend {one_line(recorded, 40)!r}, which is not "
                           "installed", resume, 1)
    backend_name = recorded
    dialect = load_dialect(dialect_name) if dialect_name else \
        load_dialect(str(recorded_dialect), allow_path=False)
    machine = formats.load(program_spec, fmt) if program_spec else None
    return backend_name, dialect, machine


def run_computer(console: Console, *, program_spec: str | None, fmt: str | None,
                 backend_name: str | None, backend_options: dict[str, Any],
                 dialect_name: str | None, max_steps: int | None, trace: str | None,
                 resume: str | None, memo: bool, as_json: bool, live: bool, view: bool = False,
                 inputs: dict[str, str] | None = None,
                 keys: KeyPolicy | str = DEFAULT_KEYS) -> int:
    if resume:
        if trace and os.path.abspath(trace) != os.path.abspath(resume):
            raise click.UsageError("--resume continues its own trace; leave --trace out")
        backend_name, dialect, given = _resume_settings(resume, program_spec, fmt, backend_name,
                                                        dialect_name)
    else:
        dialect = load_dialect(dialect_name or DEFAULT_DIALECT)
    assert backend_name is not None  # `run` names one unless the run resumes a trace
    backend = load_backend(backend_name, stop=dialect.stop, dialect=dialect, **backend_options)
    try:
        if resume:
            comp = replay.resume(resume, backend, max_steps=max_steps, memo=memo,
                                 dialect=dialect, machine=given)
            trace = resume
        else:
            assert program_spec is not None  # `run` wants a PROGRAM unless the run resumes
            machine = load_machine(program_spec, fmt, inputs)
            program = compile_program(machine, dialect, keys)
            if view and not trace:
                trace = os.path.join(tempfile.mkdtemp(prefix="mannsim-"), "trace.jsonl")
            limit = DEFAULT_BACKEND_STEPS if max_steps is None else max_steps
            comp = Computer(program, backend, max_steps=limit, trace=trace, memo=memo)
        machine = comp.program.machine
        label = machine.name or program_spec or resume
        assert label is not None  # a new run has a PROGRAM, a resumed one its trace
        previous = signal.signal(signal.SIGTERM, _raise_interrupt)
        try:
            if view:
                report = _run_with_viewer(comp)
            elif live:
                with LiveView(console, label, backend_name, comp) as live_view:
                    comp.progress = live_view
                    report = comp.run()
            else:
                report = comp.run()
        finally:
            signal.signal(signal.SIGTERM, previous)
    finally:
        backend.close()
    if as_json:
        click.echo(json.dumps({**report.as_dict(machine), "backend": backend_name,
                               "program": label, "dialect": comp.program.dialect.name,
                               "trace": trace}))
    else:
        print_report(console, report, machine, label, backend_name, trace,
                     program=comp.program)
    if report.reason == "divergence":
        return 1
    if report.reason == "interrupted":
        return 130
    if report.reason == "error":  # one line on stderr, with the error's own exit code
        raise comp.failure or MannsimError(report.error or "the run stopped with an error")
    return 0


def _raise_interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt


@click.command()
@click.argument("program", required=False)
@click.option("--backend", "-b", default=None, metavar="NAME",
              help="What executes the machine: 'reference' (the plain simulator; the "
                   "default), 'symbolic' (the memory loop with a perfect CPU), or a "
                   "language-model backend (see `mannsim backends`). With --resume: the "
                   "trace's backend.")
@click.option("--dialect", "-d", default=None,
              help="Prompt dialect: a folder under prompts/, or a path (default "
                   "schuurmans; with --resume, the trace's).")
@click.option("--keys", type=click.Choice(KEY_POLICIES), default=None,
              help="MEMORY keys of the states: short registers (the default) or the state "
                   "names themselves (with --resume: the trace's).")
@click.option("--max-steps", type=click.IntRange(min=0), default=None,
              help="Stop after this many steps (with a backend: cycles, one model call "
                   "each). Default: 10^9 for reference, 10^7 otherwise.")
@click.option("--trace", type=click.Path(dir_okay=False),
              help="Write a trace here: JSON Lines, or compact (zstd blocks with an index, "
                   "about 1 byte a cycle) when FILE ends in .zst.")
@click.option("--resume", type=click.Path(dir_okay=False, exists=True),
              help="Continue the run recorded in this trace, re-checking every recorded "
                   "cycle; program, dialect and backend come from the trace (a PROGRAM or "
                   "-b that differs is refused).")
@click.option("--memo", is_flag=True,
              help="Answer a repeated prompt from an in-process cache instead of the model.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object instead of a report.")
@click.option("--live/--no-live", default=None,
              help="Live display (default: on when standard output is a terminal).")
@click.option("--view", is_flag=True, help="Open the trace viewer following the run as it "
              "happens (quit it to stop the run; the trace is kept).")
@input_options
@backend_options_decorator
@format_option()
def run(program: str | None, backend: str | None, dialect: str | None, keys: str | None,
        max_steps: int | None, trace: str | None, resume: str | None, memo: bool,
        as_json: bool, live: bool | None, view: bool, fmt: str | None,
        backend_options: dict[str, Any], inputs: dict[str, str]) -> None:
    """Run PROGRAM and report steps, state, head and tape.

    With --backend reference the machine runs on the fast reference simulator. Any other
    backend runs the stored-instruction computer: the machine is compiled into a prompt
    program (--dialect), and each cycle renders `op`, asks the backend once and applies its
    answer to MEMORY, checked against the reference machine in lockstep; the first
    difference stops the run with a divergence report (exit code 1).
    """
    if not program and not resume:
        raise click.UsageError("give a PROGRAM, or --resume TRACE")
    if resume and keys:
        raise click.UsageError("--keys compiles a new run; a resumed run keeps the trace's keys")
    if resume and inputs:
        raise click.UsageError("--tape, --head and --state start a new run; a resumed run "
                               "keeps the trace's input")
    if backend is None and not resume:
        backend = REFERENCE
    if backend is not None and backend not in backend_names():
        raise click.BadParameter(
            f"unknown backend {backend!r} (installed: {', '.join(backend_names())})",
            param_hint="--backend")
    if backend == REFERENCE:
        if resume or trace or memo or view:
            raise click.UsageError("--trace, --resume, --memo and --view need a backend other than "
                                   "'reference' (for example --backend symbolic)")
        if backend_options:
            raise click.UsageError(f"--{next(iter(backend_options)).replace('_', '-')} "
                                   "needs a backend other than 'reference'")
        if dialect or keys:
            raise click.UsageError("--dialect and --keys need a backend other than 'reference'")
        assert program is not None  # given: a reference run cannot --resume (checked above)
        machine = load_machine(program, fmt, inputs)
        code = run_reference_cmd(console, machine, machine.name or program,
                                 DEFAULT_REFERENCE_STEPS if max_steps is None else max_steps, as_json)
    else:
        if live is None:
            live = sys.stdout.isatty() and not as_json
        code = run_computer(console, program_spec=program, fmt=fmt, backend_name=backend,
                            backend_options=backend_options, dialect_name=dialect, max_steps=max_steps,
                            trace=trace, resume=resume, memo=memo, as_json=as_json, live=live,
                            view=view, inputs=inputs, keys=keys or DEFAULT_KEYS)
    sys.exit(code)
