"""Space-time diagrams: size, and pixels at known places (head, a known symbol, divergence)."""

import matplotlib.image as mpimg
from test_viewer import diverged_trace, u15_trace  # noqa: F401 - fixtures

from mannsim.machine import load
from mannsim.trace import TraceIndex
from mannsim.trace.plot import DIVERGENCE_COLOUR, HEAD_COLOUR, PALETTE, collect, colour, figure, from_trace

from conftest import PROGRAMS
from helpers import run_cli


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


def test_divergence_row_is_marked_but_not_hidden(tmp_path, diverged_trace):  # noqa: F811
    data = from_trace(TraceIndex(str(diverged_trace)))
    r = data.divergence_row
    assert r is not None
    fig, ax = figure(data)
    # the mark stands just left of the diagram, on the divergence row
    x_left = ax.get_xlim()[0]
    px, py = ax.transData.transform((x_left, r))
    fig.savefig(tmp_path / "div.png", dpi=100)
    img = mpimg.imread(tmp_path / "div.png")
    h = img.shape[0]
    mark = tuple(img[int(round(h - py)), int(round(px)) - 4][:3])
    assert close(mark, DIVERGENCE_COLOUR)
    # the row itself still shows the tape: a cell away from the head has its symbol's colour
    col = (data.heads[r] + 5) % len(data.rows[0])
    _, cell = pixel_at(fig, ax, tmp_path / "div.png", data.lo + col, r)
    assert close(cell, colour(data.rows[r][col]))


def test_many_symbols_get_distinct_colours_and_long_runs_honest_titles():
    colours = {tuple(round(c, 3) for c in colour(k)) for k in range(40)}
    assert len(colours) == 40
    m = load(str(PROGRAMS / "bb5.tm"))
    data = collect(m, 300_000, first=100_000)
    fig, ax = figure(data)
    title = ax.get_title()
    assert "steps 100,000–300,000" in title and "one row every" in title
    assert data.steps[0] == 100_000 and data.every == 167


def test_plot_commands(tmp_path, u15_trace):  # noqa: F811
    out = tmp_path / "bb2.svg"
    run_cli(["plot", str(PROGRAMS / "bb2.tm"), "-o",
             str(out)], check=True, text=False)
    assert out.read_text().lstrip().startswith("<?xml")
    out = tmp_path / "u15.png"
    run_cli(["trace", "plot", str(u15_trace), "-o",
             str(out)], check=True, text=False)
    assert mpimg.imread(out).shape[:2] == (800, 1000)
    proc = run_cli(["plot", str(PROGRAMS / "bb2.tm"),
                    "-o", str(tmp_path / "x.gif")])
    assert proc.returncode == 2 and ".png or .svg" in proc.stderr
    proc = run_cli(["plot", "bb4", "--steps", "20:80",
                    "-o", str(tmp_path / "part.png")])
    assert proc.returncode == 0, proc.stderr
    proc = run_cli(["plot", "bb4", "--steps", "80:20",
                    "-o", str(tmp_path / "part.png")])
    assert proc.returncode == 2 and "empty range" in proc.stderr
