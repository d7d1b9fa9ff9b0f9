"""``mannsim verify``: every distinct prompt of a program put to a backend once."""
from __future__ import annotations

import json
import sys

import click
from rich.markup import escape
from rich.table import Table

from ..machine import formats
from .options import backend_options as backend_options_decorator


def register(cli, console, format_option):
    @cli.command()
    @click.argument("program")
    @click.option("--backend", "-b", default="symbolic", show_default=True, metavar="NAME",
                  help="The backend to verify (see `mannsim backends`).")
    @click.option("--dialect", "-d", default="schuurmans", show_default=True,
                  help="Prompt dialect (a folder under prompts/, or a path).")
    @click.option("--json", "json_path", type=click.Path(dir_okay=False),
                  help="Write the JSON report (a certificate) here; '-' for standard output.")
    @click.option("--batch", type=click.IntRange(min=1), default=1, show_default=True,
                  help="hf: decode this many prompts side by side after their shared prefix "
                       "(1: one at a time on the speculative fast path, faster on a CPU).")
    @click.option("--check", "check_path", type=click.Path(dir_okay=False),
                  help="Audit this JSON report instead of calling a backend: re-check its "
                       "hashes, its cases and every recorded answer against PROGRAM.")
    @backend_options_decorator
    @format_option()
    def verify(program, backend, dialect, json_path, batch, check_path, fmt, backend_options):
        """Put every distinct (state, symbol) prompt of PROGRAM to a backend once.

        Each answer is checked textually and by its effect (next instruction, symbol written,
        head move, halt). If every case passes, model plus memory simulates the machine exactly
        (by induction on the steps). Exit code 0 only when all cases pass.

        With --check CERT no model is called: the report CERT is audited against PROGRAM (and
        --dialect), and exit code 0 means it is a valid, passing certificate.
        """
        from ..backends import load_backend
        from ..program import compile_program, load_dialect
        from ..verify import audit, certificate, read_certificate, verify as run_verify

        d = load_dialect(dialect)
        prog = compile_program(formats.load(program, fmt), d)
        if check_path:
            summary = audit(prog, read_certificate(check_path), check_path)
            be = summary["backend"]
            who = f"{str(be.get('name'))[:40]} {str(be.get('model') or '')[:80]}".strip()
            console.print(f"{escape(check_path)}: a consistent certificate for "
                          f"{escape(prog.machine.name or program)} ({d.name} dialect), backend "
                          f"{escape(who)}: {summary['passed']}/{summary['cases']} cases pass, "
                          f"re-checked without a model: "
                          + ("[green]PASS[/]" if summary["verdict"] == "pass" else "[red]FAIL[/]"))
            sys.exit(0 if summary["verdict"] == "pass" else 1)
        be = load_backend(backend, stop=d.stop, **backend_options)
        try:
            results = run_verify(prog, be, batch)
            report = certificate(prog, be, results)
        finally:
            be.close()
        if json_path == "-":
            click.echo(json.dumps(report, indent=1))
        else:
            if json_path:
                with open(json_path, "w", encoding="utf-8") as f:
                    json.dump(report, f, indent=1)
            _table(console, prog, results, report, backend)
        sys.exit(0 if report["verdict"] == "pass" else 1)


def _table(console, prog, results, report, backend):
    m = prog.machine
    cell = {}
    for r in results:
        for q in r.states:
            for s in r.symbols:
                cell[(q, s)] = r
    table = Table(title=f"verify {m.name or ''} on {backend} ({prog.dialect.name} dialect)")
    table.add_column("state", style="bold")
    for s in m.symbols:
        table.add_column(f"read {s}")
    for q in m.states:
        row = []
        for s in m.symbols:
            r = cell[(q, s)]
            if r.passed:
                row.append("[green]✓[/]" + ("" if r.textual else " [dim](same effect)[/]"))
            else:
                row.append(f"[red]✗[/] {escape(repr(r.answer[:40]))}")
        table.add_row(q, *row)
    console.print(table)
    failed = [r for r in results if not r.passed]
    for r in failed[:10]:
        console.print(f"[red]✗[/] {escape('/'.join(r.states))} reading "
                      f"{escape('/'.join(r.symbols))}: {escape(str(r.problem))}\n"
                      f"   expected {escape(r.expected)}\n   got      {escape(repr(r.answer))}")
    verdict = "[green]PASS[/]" if report["verdict"] == "pass" else "[red]FAIL[/]"
    console.print(f"{verdict}: {report['passed']}/{report['total']} distinct cases "
                  f"({report['textual']} textually exact)")
