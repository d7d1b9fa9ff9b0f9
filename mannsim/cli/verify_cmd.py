"""``mannsim verify``: every distinct prompt of a program put to a backend once."""
from __future__ import annotations

import json
import sys
from typing import Any

import click
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from ..backends import load_backend
from ..errors import MannsimError
from ..machine import formats
from ..program import DEFAULT_KEYS, KEY_POLICIES, Program, compile_program, load_dialect
from ..program.dialect import DEFAULT_DIALECT
from ..safe_text import one_line
from ..verify import CaseResult, audit, certificate, describe_compilation, read_certificate
from ..verify import replay as run_replay
from ..verify import verify as run_verify
from .consoles import console, format_option
from .options import backend_options as backend_options_decorator
from .output import check_output, write_text
from .progress import Ticker


@click.command()
@click.argument("program")
@click.option("--backend", "-b", default=None, metavar="NAME",
              help="The backend to verify (see `mannsim backends`; default symbolic, or "
                   "with --replay the certificate's).")
@click.option("--dialect", "-d", default=DEFAULT_DIALECT, show_default=True,
              help="Prompt dialect (a folder under prompts/, or a path).")
@click.option("--keys", type=click.Choice(KEY_POLICIES), default=DEFAULT_KEYS.value,
              show_default=True,
              help="MEMORY keys of the states, as `run --keys` compiles them: short registers, "
                   "or the state names themselves. --check proves only the compilation these "
                   "options make.")
@click.option("--json", "json_path", type=click.Path(dir_okay=False),
              help="Write the JSON report (a certificate) here; '-' for standard output.")
@click.option("--batch", type=click.IntRange(min=1), default=1, show_default=True,
              help="hf: decode this many prompts side by side after their shared prefix "
                   "(1: one at a time on the speculative fast path, faster on a CPU).")
@click.option("--check", "check_path", type=click.Path(dir_okay=False),
              help="Audit this JSON report instead of verifying: re-check its hashes, its "
                   "cases and every recorded answer against PROGRAM, with no model. Proves "
                   "that the recorded answers run the machine exactly, not who gave them.")
@click.option("--replay", is_flag=True,
              help="With --check: also ask the backend every recorded prompt again (the "
                   "certificate's backend, model and weights; the backend options select "
                   "it) and require the same answers.")
@backend_options_decorator
@format_option()
def verify(program: str, backend: str | None, dialect: str, keys: str, json_path: str | None,
           batch: int, check_path: str | None, replay: bool, fmt: str | None,
           backend_options: dict[str, Any]) -> None:
    """Put every distinct (state, symbol) prompt of PROGRAM to a backend once.

    Each answer is checked textually and by its effect (next instruction, symbol written,
    head move, halt) at two heads of every sign and length of the heads a run can reach,
    and may not read the tape. If every case passes, model plus memory simulates the
    machine exactly on every input (README: "What verify proves"). Exit code 0 only when
    all cases pass.

    With --check CERT no model is called: CERT is audited against PROGRAM compiled as run
    compiles it with the same --dialect and --keys (a certificate made under other settings
    is refused, exit 2, naming the field), and exit code 0 means a consistent, passing
    certificate. --replay adds the model's side: the backend is asked again and must give
    the recorded answers, cut or not at the token limit as recorded.
    """
    if replay and not check_path:
        raise click.UsageError("--replay needs --check CERT")
    if json_path and json_path != "-":
        check_output(json_path)
    d = load_dialect(dialect)
    machine = formats.load(program, fmt)
    if check_path:
        report = read_certificate(check_path)
        prog = compile_program(machine, d, keys)
        summary = audit(prog, report, check_path)
        be = summary["backend"]
        who = one_line(f"{be.get('name')} {be.get('model') or ''}".strip(), 120)
        ok = summary["verdict"] == "pass"
        console.print(f"{escape(one_line(check_path))}: a consistent certificate for "
                      f"{escape(one_line(prog.machine.name or program))} ({escape(d.name)} "
                      f"dialect): {summary['passed']}/{summary['cases']} cases pass, "
                      "re-checked without a model: "
                      + ("[green]PASS[/]" if ok else "[red]FAIL[/]"), highlight=False)
        console.print("  proved   these answers make model + memory run the machine exactly "
                      "(every case re-applied at every probe head)" if ok else
                      "  proved   the recorded verdict (fail) follows from the answers",
                      highlight=False)
        console.print(f"  for      {escape(one_line(prog.machine.name or program, 60))} compiled "
                      f"with {escape(describe_compilation(summary['compilation']))}",
                      highlight=False)
        if summary["version"] < 3:
            console.print(f"  [yellow]note[/]     a version-{summary['version']} certificate, "
                          "re-checked under the current rules; it did not record whether an "
                          "answer was cut at the token limit (--replay asks again)",
                          highlight=False)
            for where, was, now in summary["changed"][:10]:
                console.print(f"  [yellow]changed[/]  {escape(where)}: recorded "
                              f"{'pass' if was else 'fail'}, re-checks as "
                              f"{'pass' if now else 'fail'}", highlight=False)
        if not replay:
            console.print(f"  recorded backend {escape(who)} (not proved: --replay asks the "
                          "backend again)", highlight=False)
            sys.exit(0 if ok else 1)
        name = backend or be.get("name")
        if name != be.get("name"):
            raise MannsimError(f"the certificate was made with backend "
                               f"{one_line(be.get('name'), 40)!r}, not {backend!r}", check_path)
        bk = load_backend(name, stop=d.stop, dialect=d, **backend_options)
        try:
            result = run_replay(prog, report, bk, check_path)
        finally:
            bk.close()
        for case, answer in result["differ"][:10]:
            console.print(f"[red]✗[/] {escape(one_line('/'.join(case.states), 60))} reading "
                          f"{escape(one_line('/'.join(case.symbols), 60))}: now answers "
                          f"{escape(one_line(repr(answer), 80))}", highlight=False)
        same = not result["differ"]
        console.print(f"  replayed {result['same']}/{result['cases']} answers identical from "
                      f"{escape(who)}: " + ("[green]SAME[/]" if same else "[red]DIFFERENT[/]"),
                      highlight=False)
        sys.exit(0 if ok and same else 1)
    prog = compile_program(machine, d, keys)
    be = load_backend(backend or "symbolic", stop=d.stop, dialect=d, **backend_options)
    try:
        with Ticker(console, f"verify {one_line(prog.machine.name or program, 60)}",
                    unit="cases") as tick:
            results = run_verify(prog, be, batch,
                                 progress=(lambda done, total: tick(done, total))
                                 if tick.on else None)
        report = certificate(prog, be, results)
    finally:
        be.close()
    if json_path == "-":
        click.echo(json.dumps(report, indent=1))
    else:
        if json_path:
            write_text(json_path, json.dumps(report, indent=1))
        _table(console, prog, results, report, backend or "symbolic")
    sys.exit(0 if report["verdict"] == "pass" else 1)


def _table(console: Console, prog: Program, results: list[CaseResult], report: dict[str, Any],
           backend: str) -> None:
    m = prog.machine
    cell: dict[tuple[str, str], CaseResult] = {}
    for r in results:
        for q in r.states:
            for s in r.symbols:
                cell[(q, s)] = r
    table = Table(title=escape(f"verify {m.name or ''} on {backend} ({prog.dialect.name} dialect)"))
    table.add_column("state", style="bold")
    for s in m.symbols:
        table.add_column(escape(f"read {s}"))
    for q in m.states:
        row: list[str] = []
        for s in m.symbols:
            r = cell[(q, s)]
            if r.passed:
                row.append("[green]✓[/]" + ("" if r.textual else " [dim](same effect)[/]"))
            else:
                row.append(f"[red]✗[/] {escape(one_line(repr(r.answer[:40])))}")
        table.add_row(escape(q), *row)
    console.print(table)
    failed = [r for r in results if not r.passed]
    for r in failed[:10]:
        console.print(f"[red]✗[/] {escape('/'.join(r.states))} reading "
                      f"{escape('/'.join(r.symbols))}: {escape(one_line(r.problem))}\n"
                      f"   expected {escape(r.expected)}\n   got      "
                      f"{escape(one_line(repr(r.answer), 300))}", highlight=False)
    verdict = "[green]PASS[/]" if report["verdict"] == "pass" else "[red]FAIL[/]"
    console.print(f"{verdict}: {report['passed']}/{report['total']} distinct cases "
                  f"({report['textual']} textually exact)")
