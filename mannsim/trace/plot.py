"""Space-time diagrams: one row per step (or per k steps), one column per cell, a colour per
symbol, the head marked, a diverging step highlighted, and a latency panel for traces."""
from __future__ import annotations

import colorsys
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ..errors import MannsimError
from ..machine import Machine, Stepper, run
from .index import TraceIndex

MAX_ROWS = 1200
HEAD_COLOUR = (0.85, 0.1, 0.1)
DIVERGENCE_COLOUR = (1.0, 0.0, 1.0)
PALETTE = [(1.0, 1.0, 1.0), (0.12, 0.24, 0.55), (0.95, 0.6, 0.1), (0.2, 0.6, 0.3),
           (0.55, 0.3, 0.65), (0.4, 0.4, 0.4), (0.1, 0.7, 0.8), (0.8, 0.75, 0.2)]


def colour(k: int) -> tuple[float, float, float]:
    """Symbol k's colour: the palette, then distinct hues (golden angle) for many symbols."""
    if k < len(PALETTE):
        return PALETTE[k]
    hue = (k * 0.618033988749895) % 1.0
    return colorsys.hsv_to_rgb(hue, 0.65, 0.55 + 0.3 * ((k // len(PALETTE)) % 2))


@dataclass
class SpaceTime:
    machine: Machine
    rows: list[list[int]]          # symbol index per cell, one list per sampled step
    heads: list[int]               # head column per row
    steps: list[int]               # step number per row
    lo: int                        # cell of column 0
    every: int                     # steps per row
    divergence_row: int | None = None
    latency_ms: list[float] = field(default_factory=list)
    first: int = 0                 # the step of row 0


def collect(machine: Machine, steps: int, divergence: int | None = None,
            latency_ms: list[float] | None = None,
            progress: Callable[[int, int], bool] | None = None, first: int = 0) -> SpaceTime:
    """Run the reference machine from step ``first`` to step ``steps``, sampling at most
    MAX_ROWS rows; ``progress(done, total)`` is called now and then (true stops early)."""
    steps = min(steps, run(machine, steps).steps)
    first = min(first, steps)
    every = max(1, -(-(steps - first) // MAX_ROWS))
    symbols = [machine.blank] + [s for s in machine.symbols if s != machine.blank]
    index = {s: k for k, s in enumerate(symbols)}
    st = Stepper(machine)
    if first:
        start = run(machine, first)
        st.state, st.head, st.cells, st.steps = start.state, start.head, dict(start.cells), first
    snaps = []
    # cells change only under the head: the extent is the initial tape's and the head's
    lo = min([st.head] + list(st.cells))
    hi = max([st.head] + list(st.cells))
    while True:
        if (st.steps - first) % every == 0:
            snaps.append((st.steps, st.head, dict(st.cells)))
        if st.head < lo:
            lo = st.head
        elif st.head > hi:
            hi = st.head
        if st.steps >= steps or st.step() is None:
            break
        if progress is not None and st.steps % 65536 == 0 and progress(st.steps, steps):
            break
    if snaps[-1][0] != st.steps:
        snaps.append((st.steps, st.head, dict(st.cells)))
        lo, hi = min(lo, st.head), max(hi, st.head)
    rows = [[index[cells.get(c, machine.blank)] for c in range(lo, hi + 1)] for _, _, cells in snaps]
    heads = [h - lo for _, h, _ in snaps]
    div_row = None
    if divergence is not None and first <= divergence - 1 <= steps:
        div_row = min(range(len(snaps)), key=lambda r: abs(snaps[r][0] - (divergence - 1)))
    return SpaceTime(machine, rows, heads, [s for s, _, _ in snaps], lo, every, div_row,
                     list(latency_ms or [])[first:steps + 1], first)


def figure(data: SpaceTime, title: str = "") -> tuple[Any, Any]:
    """A matplotlib figure (Agg, no display needed); returns (fig, axes of the diagram)."""
    import matplotlib  # lazy: only the plot commands need it (~0.5 s to import)
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np
    from matplotlib.colors import ListedColormap
    from matplotlib.patches import Rectangle
    from matplotlib.ticker import MaxNLocator
    n_sym = len(data.machine.symbols)
    image = np.array(data.rows, dtype=np.int16)
    colours = np.array([colour(k) for k in range(n_sym)])
    panels = 2 if data.latency_ms else 1
    fig = plt.figure(figsize=(10, 8 if panels == 2 else 7), dpi=100)
    grid = fig.add_gridspec(panels, 1, height_ratios=[4, 1][:panels], hspace=0.3, right=0.86)
    ax = fig.add_subplot(grid[0])
    ax.imshow(image, cmap=ListedColormap(colours), vmin=0, vmax=len(colours) - 1,
              interpolation="nearest", aspect="auto",
              extent=(data.lo - 0.5, data.lo + image.shape[1] - 0.5, len(data.rows) - 0.5, -0.5))
    rows_y = list(range(len(data.rows)))
    heads_x = [data.lo + h for h in data.heads]
    if data.every == 1 and len(data.rows) <= 400:  # every step a row: the head's path
        ax.plot(heads_x, rows_y, color=HEAD_COLOUR, linewidth=0.9)
    else:  # sampled rows: one small mark per row, never a band hiding the tape
        ax.scatter(heads_x, rows_y, color=HEAD_COLOUR, s=1.5, marker="s", linewidths=0)
    if data.divergence_row is not None:  # marks beside the row, which stays visible
        for x, m in ((0.0, ">"), (1.0, "<")):
            ax.plot([x], [data.divergence_row], marker=m, color=DIVERGENCE_COLOUR,
                    markersize=9, transform=ax.get_yaxis_transform(), clip_on=False)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    last = data.steps[-1] if data.steps else 0
    ax.set_xlabel("cell")
    ax.set_ylabel(f"row (one every {data.every:,} steps)" if data.every > 1 else "step")
    if data.every == 1 and data.first == 0:
        ax.yaxis.set_major_formatter(lambda v, _: f"{int(v):,}")
    else:
        ax.yaxis.set_major_formatter(lambda v, _: f"{data.first + int(v) * data.every:,}")
        ax.set_ylabel("step" + (f" (rows sampled: one every {data.every:,})" if data.every > 1
                                else ""))
    name = title or (data.machine.name or "machine")
    ax.set_title(f"{name}: steps {data.first:,}–{last:,}"
                 + (f", one row every {data.every:,} steps ({len(data.rows):,} rows)"
                    if data.every > 1 else ""), fontsize=10)
    legend = [Rectangle((0, 0), 1, 1, facecolor=colours[k], edgecolor="black", linewidth=0.5)
              for k in range(n_sym)] + [Rectangle((0, 0), 1, 1, color=HEAD_COLOUR)]
    labels = [f"'{s}'" for s in ([data.machine.blank] + [s for s in data.machine.symbols
                                                         if s != data.machine.blank])] + ["head"]
    if data.divergence_row is not None:
        legend.append(Rectangle((0, 0), 1, 1, color=DIVERGENCE_COLOUR))
        labels.append("divergence (row marked)")
    ax.legend(legend, labels, loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=8,
              borderaxespad=0)
    if panels == 2:
        lat = fig.add_subplot(grid[1])
        xs = range(data.first + 1, data.first + len(data.latency_ms) + 1)
        lat.plot(xs, data.latency_ms, linewidth=0.6)
        lat.set_xlabel("cycle")
        lat.set_ylabel("latency (ms)")
        lat.set_xlim(data.first + 1, max(data.first + 2, data.first + len(data.latency_ms)))
        lat.xaxis.set_major_locator(MaxNLocator(integer=True))
    return fig, ax


def save(data: SpaceTime, out: str, title: str = "") -> None:
    import matplotlib.pyplot as plt  # lazy: matplotlib costs ~0.5 s to import

    fig, _ = figure(data, title)
    try:
        fig.savefig(out, dpi=100)
    except OSError as e:
        raise MannsimError(f"cannot write: {e.strerror or e}", out) from None
    finally:
        plt.close(fig)


def from_trace(ix: TraceIndex, first: int = 0, last: int | None = None) -> SpaceTime:
    """The space-time diagram of a trace (the reference machine the trace was checked
    against), of its cycles ``first + 1 .. last``."""
    n = len(ix) if last is None else min(last, len(ix))
    latency = [ix.cycle(k).ms for k in range(1, n + 1)]
    div = ix.first_divergence()
    return collect(ix.machine(), n, divergence=div, latency_ms=latency, first=first)
