"""``mannsim eval compare A B``: two report cards side by side."""
from __future__ import annotations

from typing import Any

import click

from ..evaluate import compare, differences, facts, rate_text, read_card
from ..safe_text import one_line
from .output import check_output, write_text


def _rate(cell: dict[str, Any] | None, what: str) -> str:
    """A cell's ``what`` (cases or machines) passed, with its interval; ``-`` for no cell."""
    return rate_text(cell[f"{what}_passed"], cell[what]) if cell else "-"


@click.command("compare")
@click.argument("a", metavar="A.json", type=click.Path(dir_okay=False))
@click.argument("b", metavar="B.json", type=click.Path(dir_okay=False))
@click.option("--markdown", "md_path", type=click.Path(dir_okay=False),
              help="Also write the comparison as Markdown here.")
def compare_cmd(a: str, b: str, md_path: str | None) -> None:
    """Set two report cards (mannsim eval --json) side by side.

    Per suite and dialect: cases and machines passed on each card with Wilson 95% intervals,
    and the difference B - A in percentage points with Newcombe's 95% interval. Cards whose
    seed, machines, key policy, dialect text or mannsim version differ are compared, with a
    note that their suites are not the same machines. A file that is not an eval card is
    refused (exit 2).
    """
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
    for r in rows:
        click.echo(f"{one_line(r['suite'], 40)}/{one_line(r['dialect'], 40)}")
        for what in ("cases", "machines"):
            click.echo(f"  {what:9} A {_rate(r['a'], what)}   B {_rate(r['b'], what)}   "
                       f"B - A {r[what]}")
    if md_path:
        cols = ("suite", "dialect", "A cases", "B cases", "cases B - A", "A machines",
                "B machines", "machines B - A")
        lines = ["# mannsim eval compare", ""] + [f"- {h}" for h in heads]
        lines += [f"- note: not the same suite: {n}" for n in notes]
        lines += ["", "| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
        for r in rows:
            row = (r["suite"], r["dialect"], _rate(r["a"], "cases"), _rate(r["b"], "cases"),
                   r["cases"], _rate(r["a"], "machines"), _rate(r["b"], "machines"),
                   r["machines"])
            lines.append("| " + " | ".join(one_line(x, 200).replace("|", "\\|") for x in row)
                         + " |")
        write_text(md_path, "\n".join(lines) + "\n")
