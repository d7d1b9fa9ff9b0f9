"""Rich renderings shared by the commands (no logic a test would call without a terminal)."""
from __future__ import annotations

from rich.markup import escape
from rich.table import Table
from rich.text import Text

from ..machine.model import MOVE_NAMES, Machine


def tape_window(cells: dict[int, str], head: int, blank: str, radius: int = 16,
                plain: bool = False) -> Text:
    """A line of tape around the head, the head cell highlighted (in ``plain`` text, for pipes,
    the head cell is bracketed: ``00[1]00``)."""
    text = Text()
    wide = any(len(s) > 1 for s in cells.values()) or len(blank) > 1
    for c in range(head - radius, head + radius + 1):
        sym = cells.get(c, blank)
        style = "bold reverse" if c == head else ("dim" if sym == blank else "")
        text.append(f"[{sym}]" if plain and c == head else sym, style=style)
        if wide:
            text.append(" ")
    return text


def transition_table(machine: Machine) -> Table:
    m = machine
    table = Table(title=escape(m.name or "machine"), show_lines=False)
    table.add_column("state", style="bold")
    for s in m.symbols:
        table.add_column(escape(f"read {s}"), justify="center")
    for q in m.states:
        row = []
        for s in m.symbols:
            t = m.transitions.get((q, s))
            row.append("[dim]halt[/]" if t is None else
                       escape(f"{t.write} {MOVE_NAMES[t.move]} {t.next}"))
        label = escape(q) + (" (start)" if q == m.start else "") + (
            " (halt)" if q in m.halt_states else "")
        table.add_row(label, *row)
    return table
