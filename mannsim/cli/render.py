"""Rich renderings shared by the commands (no logic a test would call without a terminal)."""
from __future__ import annotations

from collections.abc import Iterable, Sequence

from rich.console import Console
from rich.markup import escape
from rich.table import Table
from rich.text import Text

from ..machine.model import MOVE_NAMES, Machine


def plain_head(console: Console) -> bool:
    """Whether the head cell must be marked in the text itself: off a terminal (a pipe, a file)
    and on a terminal that shows no styles (``TERM=dumb``), where a style would be lost."""
    return not console.is_terminal or console.color_system is None


def tape_line(window: Iterable[tuple[int, str]], head: int, blank: str,
              plain: bool = False) -> Text:
    """Cells ``(cell, symbol)`` as one line, the head cell highlighted (bold reverse), and in
    ``plain`` text, for pipes, bracketed: ``00[1]00``. Symbols longer than one character are
    separated by spaces."""
    window = list(window)
    wide = any(len(s) > 1 for _, s in window) or len(blank) > 1
    text = Text()
    for n, (c, sym) in enumerate(window):
        if wide and n:
            text.append(" ")
        style = "bold reverse" if c == head else ("dim" if sym == blank else "")
        text.append(f"[{sym}]" if plain and c == head else sym, style=style)
    return text


def tape_window(cells: dict[int, str], head: int, blank: str, radius: int = 16,
                plain: bool = False) -> Text:
    """A line of tape around the head, the head cell highlighted (in ``plain`` text, for pipes,
    the head cell is bracketed: ``00[1]00``)."""
    return tape_line(((c, cells.get(c, blank)) for c in range(head - radius, head + radius + 1)),
                     head, blank, plain)


def head_marked(symbols: Sequence[str], offset: int | None, blank: str,
                plain: bool = False) -> Text:
    """A tape given as its symbols from its first cell (``decode``'s tapes), the head's cell,
    ``offset`` in them, marked as :func:`tape_line` marks it (None: no head to mark)."""
    return tape_line(enumerate(symbols), -1 if offset is None else offset, blank, plain)


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
