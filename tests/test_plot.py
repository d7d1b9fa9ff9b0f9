"""Space-time diagrams: size, and pixels at known places (head, a known symbol, divergence)."""
import subprocess
import sys

import matplotlib.image as mpimg
import pytest

from conftest import PROGRAMS
from mannsim.machine import load
from mannsim.trace import TraceIndex
from mannsim.trace.plot import DIVERGENCE_COLOUR, HEAD_COLOUR, PALETTE, collect, figure, from_trace
from test_viewer import diverged_trace, u15_trace  # noqa: F401 - fixtures


def pixel_at(fig, ax, path, x, y):
    px, py = ax.transData.transform((x, y))
    fig.savefig(path, dpi=100)
    img = mpimg.imread(path)
    h = img.shape[0]
    return img.shape, tuple(img[int(round(h - py)), int(round(px))][:3])


def close(a, b, tol=0.15):
    return all(abs(x - y) < tol for x, y in zip(a, b))


def test_busy_beaver_diagram_pixels(tmp_path):
    m = load(str(PROGRAMS / "bb4.tm"))
    data = collect(m, 10**6)
    assert data.every == 1 and len(data.rows) == 108  # 107 steps + the start
    fig, ax = figure(data)
    # row 0: the head on cell 0 (red); the last row: cell 3 holds a 1 (palette colour 1)
    shape, head = pixel_at(fig, ax, tmp_path / "bb4.png", 0, 0)
    assert shape[:2] == (800 if data.latency_ms else 700, 1000)
    assert close(head, HEAD_COLOUR)
    _, one = pixel_at(fig, ax, tmp_path / "bb4.png", 3, 107)
    assert close(one, PALETTE[1])
    _, blank = pixel_at(fig, ax, tmp_path / "bb4.png", -10, 0)
    assert close(blank, PALETTE[0])


def test_u15_trace_diagram_with_latency_panel(tmp_path, u15_trace):  # noqa: F811
    data = from_trace(TraceIndex(str(u15_trace)))
    assert data.every == 33 and len(data.latency_ms) == 39066
    fig, ax = figure(data)
    r = 600  # the head path at row 600 (step 19,800)
    shape, head = pixel_at(fig, ax, tmp_path / "u15.png", data.lo + data.heads[r], r)
    assert shape[:2] == (800, 1000) and close(head, HEAD_COLOUR)
    # cells 0-1 hold '1' (the program starts 11...) for most of the run: palette colour 1
    _, cell0 = pixel_at(fig, ax, tmp_path / "u15.png", 0.5, 300)
    assert close(cell0, PALETTE[1])


def test_divergence_row_is_highlighted(tmp_path, diverged_trace):  # noqa: F811
    data = from_trace(TraceIndex(str(diverged_trace)))
    assert data.divergence_row is not None
    fig, ax = figure(data)
    col = data.lo + (data.heads[data.divergence_row] + 5) % len(data.rows[0])
    _, px = pixel_at(fig, ax, tmp_path / "div.png", col, data.divergence_row)
    assert close(px, DIVERGENCE_COLOUR)


def test_plot_commands(tmp_path, u15_trace):  # noqa: F811
    out = tmp_path / "bb2.svg"
    subprocess.run([sys.executable, "-m", "mannsim", "plot", str(PROGRAMS / "bb2.tm"), "-o",
                    str(out)], check=True, capture_output=True)
    assert out.read_text().lstrip().startswith("<?xml")
    out = tmp_path / "u15.png"
    subprocess.run([sys.executable, "-m", "mannsim", "trace", "plot", str(u15_trace), "-o",
                    str(out)], check=True, capture_output=True)
    assert mpimg.imread(out).shape[:2] == (800, 1000)
    proc = subprocess.run([sys.executable, "-m", "mannsim", "plot", str(PROGRAMS / "bb2.tm"),
                           "-o", str(tmp_path / "x.gif")], capture_output=True, text=True)
    assert proc.returncode == 2 and ".png or .svg" in proc.stderr
