"""The report card as a bar chart: cases and machines passed per suite and dialect, with their
Wilson 95% intervals."""
from __future__ import annotations

import textwrap
from collections.abc import Sequence
from typing import TYPE_CHECKING

from ..errors import MannsimError
from .card import Cell
from .stats import wilson

if TYPE_CHECKING:
    from matplotlib.figure import Figure


def plot_figure(cells: Sequence[Cell], title: str) -> Figure:
    """The bar chart of :func:`plot`, as a matplotlib Figure (laid out: the title wrapped to
    the figure's width, the legend below the axes, outside the bars)."""
    # matplotlib takes longer to import than the rest of eval: only a --plot pays for it
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    labels = [f"{c.distribution}\n{c.dialect}" for c in cells]
    width_in = max(6.4, 1.0 + 1.1 * len(cells))
    fig = Figure(figsize=(width_in, 4.8), dpi=100, layout="constrained")
    FigureCanvasAgg(fig)  # no pyplot: nothing global, no window
    ax = fig.add_subplot()
    xs = list(range(len(cells)))
    for offset, what, label in ((-0.2, "cases", "cases passed"),
                                (0.2, "machines", "machines passed")):
        ks = [(getattr(c, f"{what}_passed"), getattr(c, what)) for c in cells]
        rates = [100 * k / n if n else 0.0 for k, n in ks]
        cis = [wilson(k, n) for k, n in ks]
        err = [[r - 100 * lo for r, (lo, _) in zip(rates, cis)],
               [100 * hi - r for r, (_, hi) in zip(rates, cis)]]
        ax.bar([x + offset for x in xs], rates, width=0.4, yerr=err, capsize=3,
               error_kw={"elinewidth": 0.8}, label=f"{label} (%, 95% Wilson CI)")
    ax.set_xticks(xs, labels, fontsize=8)
    pad = max(0.0, (3 - len(cells)) / 2)  # one or two suites: bars of a three-suite width
    ax.set_xlim(-0.6 - pad, len(cells) - 0.4 + pad)
    ax.set_ylim(0, 104)  # the caps of the intervals at 100% show
    ax.set_yticks(range(0, 101, 20))
    ax.set_ylabel("passed (%)", fontsize=9)
    chars = max(30, int(width_in * 72 / (10 * 0.62)))  # about 0.6 em a character at 10 pt
    ax.set_title(textwrap.fill(title, chars), fontsize=10)
    fig.legend(loc="outside lower center", ncols=2, fontsize=8, frameon=False)
    return fig


def plot(cells: Sequence[Cell], out: str, title: str) -> None:
    """A bar chart of cases and machines passed per suite and dialect, with 95% intervals."""
    fig = plot_figure(cells, title)
    try:
        fig.savefig(out)
    except OSError as e:
        raise MannsimError(f"cannot write: {e.strerror or e}", out) from None
