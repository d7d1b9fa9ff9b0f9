"""What a run shows: the live display while it runs, and the report (with the divergence
panel) when it ends."""
from __future__ import annotations

import time
from types import TracebackType
from typing import TYPE_CHECKING

from rich.console import Console, Group
from rich.live import Live
from rich.markup import escape
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from ..errors import MannsimError
from ..machine import Machine
from ..machine import run as run_machine
from ..program import Program, compile_program, load_dialect
from ..program.dialect import DEFAULT_DIALECT
from ..safe_text import one_line
from ..trace import read_header
from ..trace.views import MemoryNames, divergence_lines, divergence_writes, memory_names
from .progress import eta_text
from .render import plain_head, tape_window

if TYPE_CHECKING:  # annotations only: this module needs no run machinery of its own
    from ..computer import Computer, RunReport

#: Most reference-machine steps the live display runs to learn a run's exact cycle count (its
#: percentage and ETA); a run that takes more shows its step limit instead.
ETA_REFERENCE_STEPS = 2_000_000


class LiveView:
    """The live rich display: cycle of the total (or the limit), percentage, ETA, cycles/s,
    state, tape around the head, checks passed; refreshed by time, the last frame exact."""

    def __init__(self, console: Console, label: str, backend_name: str,
                 comp: Computer | None = None):
        self.console, self.label, self.backend_name = console, label, backend_name
        self.live = Live(console=console, auto_refresh=False, transient=False)
        self._last = 0.0
        self.total: int | None = None
        self.exact = False
        if comp is not None:
            self.total, self.exact = expected_cycles(comp)

    def __enter__(self) -> LiveView:
        self.live.__enter__()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.live.__exit__(exc_type, exc, tb)
        if not self.console.is_terminal:  # rich ends the last frame with a newline on terminals only
            self.console.line()

    def __call__(self, comp: Computer) -> None:
        now = time.perf_counter()
        if now - self._last < 0.1 and not comp.finished:
            return
        self._last = now
        st, m = comp.stepper, comp.program.machine
        elapsed = max(now - comp.started, 1e-9)
        done = comp.cycle - comp.resumed_from
        rate = done / elapsed
        total = self.total
        grid = Table.grid(padding=(0, 2))
        of = (f" {'/' if self.exact else 'of at most'} {total:,} ({100 * comp.cycle / total:.1f}%)"
              if total else "")
        eta = eta_text(done, (total - comp.resumed_from) if total and self.exact else None,
                       elapsed)
        grid.add_row("cycle", f"{comp.cycle:,}{of}", "state", escape(str(st.state)),
                     "head", str(st.head))
        grid.add_row("cycles/s", f"{rate:,.0f}", "checks passed", f"{comp.checks:,}",
                     "model time", f"{comp.model_seconds:.1f} s" + (f"   {eta}" if eta and not
                                                                     comp.finished else ""))
        self.live.update(Panel(Group(grid, tape_window(st.cells, st.head, m.blank, radius=30,
                                                          plain=plain_head(self.console))),
                               title=escape(f"{self.label} on {self.backend_name}")),
                         refresh=True)


def expected_cycles(comp: Computer, budget: int = ETA_REFERENCE_STEPS) -> tuple[int, bool]:
    """How many cycles the run will take: exact when the reference machine halts within a
    short budget of steps (then percentage and ETA are real), else the limit."""
    limit = comp.max_steps
    ref = run_machine(comp.program.machine, min(limit, budget))
    if ref.halted and ref.steps + 1 <= limit:
        return ref.steps + 1, True
    return limit, False


def print_report(console: Console, report: RunReport, machine: Machine, label: str,
                 backend_name: str, trace: str | None, program: Program | None = None) -> None:
    """The report of a backend run; ``program`` (the compiled program the run used) names the
    states and symbols of a divergence's writes (without it: the trace's header, else the
    default dialect with register keys when the prompt starts with its boot)."""
    status = {
        "halt": "[green]halted[/]",
        "max_steps": f"[yellow]stopped at --max-steps {report.cycles:,}[/]",
        "divergence": "[red]DIVERGED[/]", "interrupted": "[yellow]interrupted[/]",
        "error": "[red]stopped by an error[/]",
    }[report.reason]
    console.print(f"[bold]{escape(str(label))}[/] on [cyan]{escape(backend_name)}[/]: {status}")
    # the rate of this run's own cycles: replayed ones (a resume) and model loading excluded
    rate = (report.cycles - report.resumed_from) / report.elapsed if report.elapsed else 0
    if report.resumed_from:
        console.print(f"  resumed after {report.resumed_from:,} recorded cycles, each re-checked")
    for note in getattr(report, "notes", ()):
        console.print(f"  [yellow]note[/]   {escape(one_line(note, 300))}", highlight=False)
    console.print(f"  cycles {report.cycles:,}   steps {report.steps:,}   "
                  f"state {escape(str(report.state))}   "
                  f"head {report.head}   checks passed {report.checks:,}   "
                  f"time {report.elapsed:.2f} s ({rate:,.0f} cycles/s)")
    if report.cached:
        console.print(f"  memo   {report.cached:,} cycles answered from the cache")
    if report.head is not None:
        console.print("  tape   ", tape_window(report.cells, report.head, machine.blank,
                                               plain=plain_head(console)), sep="")
    # report.error is not repeated here: the command ends with it, once, on standard error
    if trace:
        console.print(f"  trace  {trace}")
    d = report.divergence
    if d is not None:
        record = d.as_dict()
        body = Text()
        body.append(f"cycle {d.cycle}: {d.reason}\n", style="bold red")
        for line in divergence_lines(record):
            body.append(line + "\n")
        body.append("expected answer  ")
        body.append(d.expected["answer"] + "\n", style="green")
        body.append("model answer     ")
        body.append(one_line(repr(d.answer), 600) + "\n", style="red")
        names = _names(machine, trace, program, d.prompt)
        body.append(f"writes           {divergence_writes(record, names)}\n")
        tail = d.prompt.rsplit("\n", 6)[1:] if d.prompt.count("\n") > 6 else [d.prompt]
        body.append("prompt (boot folded):\n  …\n  " + "\n  ".join(tail))
        console.print(Panel(body, title="divergence from the reference machine", border_style="red"))


def _names(machine: Machine, trace: str | None, program: Program | None,
           prompt: str) -> MemoryNames:
    """How the run's MEMORY values read back (see :func:`print_report`)."""
    if program is not None:
        return MemoryNames(program)
    if trace:
        try:
            return memory_names(read_header(trace), machine)
        except MannsimError:
            pass
    guess = compile_program(machine, load_dialect(DEFAULT_DIALECT))
    return MemoryNames(guess, known=prompt.startswith(guess.dialect.boot))
