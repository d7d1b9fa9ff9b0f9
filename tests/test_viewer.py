"""The trace viewer (Textual, headless via its pilot) and the trace commands."""
import asyncio
import json

import pytest

from mannsim import replay
from mannsim.backends import load_backend
from mannsim.computer import Computer
from mannsim.machine import load
from mannsim.program import compile_program, load_dialect
from mannsim.trace import TraceIndex
from mannsim.viewer import TraceViewer

from conftest import PROGRAMS
from helpers import FaultyBackend, run_cli

DIALECT = load_dialect("schuurmans")


@pytest.fixture(scope="module")
def u15_trace(tmp_path_factory):
    path = tmp_path_factory.mktemp("t") / "u15.jsonl"
    prog = compile_program(load(str(PROGRAMS / "u15_2.tm")), DIALECT)
    Computer(prog, load_backend("symbolic"), trace=str(path)).run()
    return path


@pytest.fixture(scope="module")
def diverged_trace(tmp_path_factory):
    path = tmp_path_factory.mktemp("t") / "div.jsonl"
    prog = compile_program(load(str(PROGRAMS / "u15_2.tm")), DIALECT)
    Computer(prog, FaultyBackend("wrong-branch", at=500), trace=str(path)).run()
    return path


def run_pilot(path, keys_and_checks):
    async def main():
        app = TraceViewer(TraceIndex(str(path)))
        async with app.run_test(size=(120, 40)) as pilot:
            for keys, check in keys_and_checks:
                if keys:
                    await pilot.press(*keys)
                check(app.texts())
    asyncio.run(main())


def test_viewer_steps_through_the_u15_trace(u15_trace):
    def at_start(t):
        assert "step 1 " in t["status"] and "state A" in t["status"] and "head 295" in t["status"]
        assert "cycle 1 / 39,066" in t["title"]
        assert "^" in t["tape"] and "cell 295" in t["tape"]
        assert "✓" in t["check"]
        assert t["prompt"].startswith("result = ") and "if 0==1 then" in t["prompt"]
        assert "op=\"%[B]\"" in t["answer"]

    def second(t):
        assert "step 2 " in t["status"] and "state B" in t["status"] and "head 296" in t["status"]

    def last(t):
        assert "step 39066" in t["status"] and "state J" in t["status"] and "head 0" in t["status"]
        assert "op=\"halt\"" in t["answer"]

    def jumped(t):
        assert "step 1000 " in t["status"]

    def plus_ten(t):
        assert "step 1010 " in t["status"]

    def found_j(t):
        assert "state J" in t["status"] and "J at cycle" in t["title"]

    def no_div(t):
        assert "no divergence" in t["title"]

    run_pilot(u15_trace, [
        ((), at_start), (("right",), second), (("left", "left"), at_start), (("end",), last),
        (("g", "1", "0", "0", "0", "enter"), jumped), (("plus",), plus_ten),
        (("s", "J", "enter"), found_j), (("d",), no_div), (("home",), at_start),
    ])


def test_viewer_tape_fills_the_terminal_shows_the_state_plays_and_searches(u15_trace):
    def wide(t):
        tape_line = t["tape"].splitlines()[1]
        assert len(tape_line) > 140  # 160 columns: ~75 cells each side, not 25
        assert t["tape"].splitlines()[0].strip() == "▼ A"  # the state stands over the head

    def playing(t):
        assert "playing at" in t["title"]

    def paused(t):
        assert "paused" in t["title"]
        assert int(t["status"].split()[1]) > 1

    def back_to_i(t):
        assert "state I" in t["status"] and "I at cycle" in t["title"]

    def pair(t):
        assert "state C" in t["status"] and "read 1" in t["status"]

    def cell(t):
        assert "head 300" in t["status"]

    async def main():
        app = TraceViewer(TraceIndex(str(u15_trace)))
        async with app.run_test(size=(160, 40)) as pilot:
            wide(app.texts())
            await pilot.press("right_square_bracket", "right_square_bracket", "space")
            playing(app.texts())
            await pilot.pause(0.5)
            await pilot.press("space")
            paused(app.texts())
            await pilot.press("end", "r", "I", "enter")
            back_to_i(app.texts())
            await pilot.press("home", "s", "C", "space", "1", "enter")
            pair(app.texts())
            await pilot.press("s", "@", "3", "0", "0", "enter")
            cell(app.texts())
    asyncio.run(main())


def test_viewer_jumps_to_the_divergence(diverged_trace):
    def diverged(t):
        assert "first divergence: cycle 500" in t["title"] and "step 500 " in t["status"]
        assert "✗" in t["check"] and "expected" in t["check"] and "actual" in t["check"]

    run_pilot(diverged_trace, [(("d",), diverged)])


def test_index_opens_fast_and_reads_truncated_traces(u15_trace, tmp_path):
    ix = TraceIndex(str(u15_trace))
    assert len(ix) == 39066 and len(ix.prompts) == 29 and ix.end.reason == "halt"
    assert ix.config_before(39066)[:2] == ("J", 0)
    cut = tmp_path / "cut.jsonl"
    data = u15_trace.read_bytes()
    cut.write_bytes(data[: len(data) // 2])
    ix = TraceIndex(str(cut))
    assert len(ix.warnings) == 1 and "incomplete last record" in ix.warnings[0]
    assert 0 < len(ix) < 39066 and ix.end is None
    old = tmp_path / "old.jsonl"
    lines = u15_trace.read_text().splitlines()
    header = json.loads(lines[0])
    header["version"] = 0
    old.write_text(json.dumps(header) + "\n")
    proc = run_cli(["trace", "stats", str(old)])
    assert proc.returncode == 2 and "version" in proc.stderr
    proc = run_cli(["trace", "stats", str(cut)])
    assert proc.returncode == 0 and proc.stderr.count("warning") == 1


def test_trace_show_and_stats(u15_trace, diverged_trace):
    out = run_cli(["trace", "show", str(u15_trace),
                   "--steps", "1:3", "--json"], check=True)
    recs = [json.loads(line) for line in out.stdout.splitlines()]
    assert [r["n"] for r in recs] == [1, 2, 3] and recs[0]["state"] == "A"
    assert len(recs[0]["tape"]) == 25
    out = run_cli(["trace", "stats", str(diverged_trace),
                   "--json"], check=True)
    s = json.loads(out.stdout)
    assert s["cycles"] == 500 and s["first_divergence"] == 500 and s["end"] == "divergence"
    assert sum(s["pairs"].values()) == 500
    out = run_cli(["trace", "show", str(diverged_trace),
                   "--steps", "499:"], check=True)
    assert "divergence:" in out.stdout and "✗" in out.stdout


def test_viewer_opens_a_compact_trace_at_its_last_cycle_from_a_snapshot(tmp_path):
    from mannsim.trace.compact import SNAP_EVERY
    path = tmp_path / "succ.jsonl.zst"
    prog = compile_program(load(str(PROGRAMS / "compiled" / "unary_successor.u15_2.tm")),
                           DIALECT)
    n = SNAP_EVERY + 50
    Computer(prog, load_backend("symbolic"), trace=str(path), memo=True, max_steps=n).run()
    with TraceIndex(str(path)) as ix:
        rec = ix.cycle(n)

    def last(t):
        assert f"cycle {n:,} / {n:,}" in t["title"]
        assert f"state {rec.state}" in t["status"] and f"head {rec.head}" in t["status"]
        assert "✓" in t["check"]
    run_pilot(path, [(["end"], last)])


def test_run_view_follows_the_run_and_quitting_stops_it(tmp_path):
    # `mannsim run --view`: the run is a worker consuming Computer.cycles(); the viewer follows
    # its trace; quitting the viewer stops the run as interrupted, its trace finished
    from mannsim.cli.run_cmd import _run_with_viewer
    from mannsim.trace import read_trace
    trace = tmp_path / "t.jsonl"
    prog = compile_program(load(str(PROGRAMS / "u15_2.tm")), DIALECT)
    comp = Computer(prog, FaultyBackend("none", at=-1, delay=0.002), trace=str(trace))
    seen = []

    def show(app):
        async def main():
            async with app.run_test(size=(120, 40)) as pilot:
                for _ in range(40):
                    await pilot.pause(0.05)
                    seen.append(app.k)
                await pilot.press("q")
        asyncio.run(main())

    report = _run_with_viewer(comp, show)
    assert report.reason == "interrupted" and 0 < report.cycles < 39066
    assert seen[-1] > seen[0] >= 1  # the viewer followed the run as it went
    t = read_trace(str(trace))
    assert t.end.reason == "interrupted" and len(t.cycles) == report.cycles
    resumed = replay.resume(str(trace), FaultyBackend("none", at=-1))
    assert resumed.cycle == report.cycles


def test_views_fold_the_prompt_only_with_the_shipped_dialect_the_trace_names(u15_trace, tmp_path):
    # a trace whose dialect digest is not the shipped one's (or names no shipped dialect): its
    # prompts are shown whole, never read with a grammar that may not be theirs
    from mannsim.trace.views import cycle_view
    with TraceIndex(str(u15_trace)) as ix:
        v = cycle_view(ix, 1)
        assert v["prompt_block"].startswith("result = ") and len(v["prompt_block"]) < len(
            v["prompt_text"])
    for field, value in (("sha256", "0" * 64), ("name", "no-such-dialect")):
        lines = u15_trace.read_text().splitlines(keepends=True)
        head = json.loads(lines[0])
        head["dialect"][field] = value
        other = tmp_path / f"{field}.jsonl"
        other.write_text(json.dumps(head) + "\n" + "".join(lines[1:]))
        with TraceIndex(str(other)) as ix:
            v = cycle_view(ix, 1)
            assert v["prompt_block"] == v["prompt_text"]
