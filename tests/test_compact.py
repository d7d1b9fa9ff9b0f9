"""Compact traces (issue 15): the same records in zstd blocks with an index; any cycle opens
without reading the rest; a killed run resumes to the same end; hostile files fail cleanly."""
import json
import os
import random
import signal
import struct
import subprocess
import sys
import time

import pytest
import zstandard

from mannsim import replay
from mannsim.backends import load_backend
from mannsim.computer import Computer
from mannsim.machine import load
from mannsim.program import compile_program, load_dialect
from mannsim.trace import TraceError, TraceIndex, compact, read_trace

from conftest import PROGRAMS
from helpers import mannsim

DIALECT = load_dialect("schuurmans")


def record_run(path, name="u15_2.tm", max_steps=10**7, memo=False):
    p = compile_program(load(str(PROGRAMS / name)), DIALECT)
    return Computer(p, load_backend("symbolic"), max_steps=max_steps, trace=str(path),
                    memo=memo).run()


@pytest.fixture(scope="module")
def u15_pair(tmp_path_factory):
    d = tmp_path_factory.mktemp("u15")
    record_run(d / "t.jsonl")
    record_run(d / "t.jsonl.zst")
    return d / "t.jsonl", d / "t.jsonl.zst"


def _strip(cycle):
    return cycle._replace(ms=0.0)


def test_compact_trace_reads_as_the_same_records(u15_pair):
    plain, small = u15_pair
    a, b = read_trace(str(plain)), read_trace(str(small), strict=True)
    assert len(a.cycles) == len(b.cycles) == 39_066
    assert [_strip(c) for c in a.cycles] == [_strip(c) for c in b.cycles]
    assert a.prompts == b.prompts and a.end == b.end and not b.warnings
    assert os.path.getsize(small) * 100 < os.path.getsize(plain)  # 0.9 vs 260 bytes a cycle


def test_stats_facts_equal_the_whole_records(u15_pair, tmp_path):
    # trace stats reads compact cycles from their cases without expanding them: the same facts
    # as the whole records, in both formats
    plain, small = u15_pair
    from mannsim.trace.views import stats
    with TraceIndex(str(small)) as ix:
        facts = list(ix.facts())
        whole = [(r.state, r.read, r.ms, r.tin, r.tout, r.cached, r.ok)
                 for r in (ix.cycle(k) for k in range(1, len(ix) + 1))]
        assert facts == whole and len(facts) == 39_066
        compact_stats = stats(ix)
    with TraceIndex(str(plain)) as ix:
        plain_stats = stats(ix)
    drop = ("latency_ms",)  # the two runs' latencies differ; everything else is the same
    assert {k: v for k, v in compact_stats.items() if k not in drop} == \
        {k: v for k, v in plain_stats.items() if k not in drop}


def test_replay_steps_equal_the_whole_records(u15_pair):
    # the replay reads (state, head, read, prompt, answer, ok, writes, updates) without building
    # whole records: the very values of the records, in both formats
    for path in u15_pair:
        with TraceIndex(str(path)) as ix:
            steps = list(ix.steps())
            whole = [(r.state, r.head, r.read, r.prompt, r.answer, r.ok and not r.cut,
                      r.writes, r.updates)
                     for r in (ix.cycle(k) for k in range(1, len(ix) + 1))]
            assert steps == whole and len(steps) == 39_066


def test_any_cycle_opens_alone_and_equals_the_sequential_read(u15_pair):
    plain, small = u15_pair
    ref = read_trace(str(plain)).cycles
    rng = random.Random(3)
    with TraceIndex(str(small)) as ix:
        assert ix.compact and len(ix) == len(ref)
        for k in rng.sample(range(1, len(ref) + 1), 50) + [1, len(ref)]:
            assert _strip(ix.cycle(k)) == _strip(ref[k - 1])
        assert ix.config_before(len(ref))[0] == ref[-1].state


def test_decompressed_it_is_json_lines(u15_pair):
    _, small = u15_pair
    with open(small, "rb") as f:  # zstd skips the index frames, as `zstd -dc` does
        text = zstandard.ZstdDecompressor().stream_reader(f, read_across_frames=True).read()
    records = [json.loads(line) for line in text.decode().splitlines()]
    assert records[0]["t"] == "header" and records[-1]["t"] == "end"
    kinds = {r["t"] for r in records}
    assert {"prompt", "case", "c"} <= kinds
    assert sum(r["t"] == "c" for r in records) == 39_066


def test_the_cli_commands_open_compact_traces(u15_pair):
    _, small = u15_pair
    out = mannsim("trace", "show", str(small), "--steps", "39000:39001")
    assert out.returncode == 0 and "39000 state H" in out.stdout
    out = mannsim("trace", "stats", str(small))
    assert out.returncode == 0 and "39,066 cycles" in out.stdout


def test_snapshots_let_a_view_start_near_any_cycle(tmp_path):
    path = tmp_path / "u.jsonl.zst"
    p = compile_program(load(str(PROGRAMS / "compiled" / "unary_successor.u15_2.tm")), DIALECT)
    Computer(p, load_backend("symbolic"), max_steps=2 * compact.SNAP_EVERY + 10, trace=str(path),
             memo=True).run()
    with TraceIndex(str(path)) as ix:
        assert ix.snapshot_cycles() == [compact.SNAP_EVERY, 2 * compact.SNAP_EVERY]
        state, head, cells = ix.config_before(2 * compact.SNAP_EVERY + 5)
        rec = ix.cycle(2 * compact.SNAP_EVERY + 5)
        assert (state, head) == (rec.state, rec.head)
        # both snapshots were checked against the machine on the way (2^19 steps, once), and
        # the cycle replayed 4 steps from the second
        assert ix.replayed_steps == 2 * compact.SNAP_EVERY + 4
        assert ix.checked(2 * compact.SNAP_EVERY + 5).verified
        before = ix.replayed_steps
        ix.config_before(compact.SNAP_EVERY + 7)  # from the first snapshot, checked: 6 steps
        ix.config_before(2 * compact.SNAP_EVERY + 9)  # from the one kept before cycle +5: 4
        assert ix.replayed_steps - before == 6 + 4


def test_a_run_killed_at_a_random_point_resumes_to_the_same_end(tmp_path):
    """SIGKILL (no chance to flush) at random moments, then --resume: the end is the end of an
    uninterrupted run."""
    program = str(PROGRAMS / "u15_2.tm")
    whole = tmp_path / "whole.jsonl.zst"
    ref = json.loads(mannsim("run", program, "-b", "symbolic", "--json", "--trace",
                             str(whole)).stdout)
    rng = random.Random(15)
    for attempt in range(3):
        path = tmp_path / f"k{attempt}.jsonl.zst"
        proc = subprocess.Popen([sys.executable, "-m", "mannsim", "run", program, "-b",
                                 "symbolic", "--no-live", "--trace", str(path)],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        # a random point of the run, by how much trace it has written (not by the clock, so
        # a slow machine kills it as far in as a fast one)
        target = rng.uniform(0.05, 0.8) * whole.stat().st_size
        while proc.poll() is None and (not path.exists() or path.stat().st_size < target):
            time.sleep(0.002)
        assert proc.poll() is None, "the run ended before the kill"
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        with TraceIndex(str(path)) as ix:
            kept = len(ix)
        out = mannsim("run", "--resume", str(path), "--json")
        assert out.returncode == 0, out.stderr
        got = json.loads(out.stdout)
        assert got["resumed_from"] == kept
        for key in ("reason", "cycles", "final_state", "head", "tape", "tape_start"):
            assert got[key] == ref[key], key
        full = read_trace(str(path), strict=True)
        assert len(full.cycles) == ref["cycles"] and full.end.reason == "halt"


# -- hostile files ----------------------------------------------------------------------------
def _blocks(path):
    with open(path, "rb") as f:
        data = f.read()
    return data, compact.scan_blocks(data, str(path), [])


def _index_of(block_kind, csize, raw, records, first=1, head=0):
    return struct.pack("<II", compact.SKIP_MAGIC, compact.BLOCK.size) + compact.BLOCK.pack(
        block_kind, csize, raw, records, first, head)


def _open_error(path, strict=False):
    with pytest.raises(TraceError) as e:
        with TraceIndex(str(path), strict=strict) as ix:
            for k in range(1, len(ix) + 1):
                ix.cycle(k)
    return e.value.message


def test_a_bomb_block_is_refused_before_it_is_decompressed(tmp_path, u15_pair):
    _, small = u15_pair
    data, blocks = _blocks(small)
    head = data[:blocks[1].offset]  # the header block
    # 30 bytes that say 1 GiB: the index is refused without decompressing anything
    bomb = zstandard.ZstdCompressor(level=19).compress(b"\n" * (64 << 20))
    assert len(bomb) < 10_000
    for raw_said in (len(bomb) and (64 << 20), 1 << 30):
        path = tmp_path / f"bomb{raw_said}.jsonl.zst"
        path.write_bytes(head + _index_of(compact.CYCLES, len(bomb), raw_said, 1) + bomb)
        msg = _open_error(path)
        assert "block" in msg
    # an index that lies about the size: the frame's own header disagrees
    path = tmp_path / "liar.jsonl.zst"
    path.write_bytes(head + _index_of(compact.CYCLES, len(bomb), 100, 1) + bomb)
    assert "does not hold the size its index says" in _open_error(path)


def test_a_cut_off_last_block_is_dropped_with_a_warning(u15_pair, tmp_path):
    _, small = u15_pair
    data, blocks = _blocks(small)
    path = tmp_path / "cut.jsonl.zst"
    path.write_bytes(data[:blocks[-2].offset + 40])
    with TraceIndex(str(path)) as ix:
        assert ix.warnings and "incomplete last block" in ix.warnings[0]
        assert 0 < len(ix) < 39_066
        ix.cycle(len(ix))


def test_damaged_and_forged_blocks_fail_with_a_located_error(u15_pair, tmp_path):
    _, small = u15_pair
    data, blocks = _blocks(small)
    # flip bytes anywhere inside cycle blocks' frames: each frame carries its checksum, so
    # every flip is a located error naming the block (it once decoded into other records)
    cycle_blocks = [b for b in blocks if b.kind == compact.CYCLES and b.records > 100][:6]
    assert len(cycle_blocks) >= 3
    for cyc in cycle_blocks:
        for frac in (2, 3, 5, 7):
            bad = bytearray(data)
            mid = cyc.offset + compact.HEAD_SIZE + cyc.size // frac
            bad[mid:mid + 8] = b"\xff" * 8
            (tmp_path / "flip.jsonl.zst").write_bytes(bytes(bad))
            msg = _open_error(tmp_path / "flip.jsonl.zst", strict=True)
            assert msg.startswith(f"block at byte {cyc.offset} "), msg
    # a cycle naming a case no record defines
    lines = [b'{"t":"c","k":99999}'] * cyc.records
    raw = b"\n".join(lines) + b"\n"
    frame = zstandard.ZstdCompressor().compress(raw)
    forged = data[:cyc.offset] + _index_of(compact.CYCLES, len(frame), len(raw), cyc.records,
                                           cyc.first, cyc.head) + frame + data[cyc.end:]
    (tmp_path / "case.jsonl.zst").write_bytes(forged)
    assert "names case 99999, which no earlier record defines" in _open_error(
        tmp_path / "case.jsonl.zst", strict=True)
    # a block of cycles that skips ahead
    skipped = data[:cyc.offset] + _index_of(compact.CYCLES, cyc.size, cyc.raw_size, cyc.records,
                                            cyc.first + 7, cyc.head) + data[cyc.offset +
                                                                            compact.HEAD_SIZE:]
    (tmp_path / "skip.jsonl.zst").write_bytes(skipped)
    assert "starts at cycle" in _open_error(tmp_path / "skip.jsonl.zst", strict=True)
    # garbage that is not a block
    (tmp_path / "junk.jsonl.zst").write_bytes(data + b"junk" * 10)
    assert "not a compact mannsim trace block" in _open_error(tmp_path / "junk.jsonl.zst")
    out = mannsim("trace", "show", str(tmp_path / "junk.jsonl.zst"))
    assert out.returncode != 0 and "Traceback" not in out.stderr


@pytest.mark.parametrize("size", [0, 3, 8, 31, 32])
def test_tiny_files_are_refused_in_one_line(tmp_path, size):
    path = tmp_path / "tiny.jsonl.zst"
    path.write_bytes(struct.pack("<I", compact.SKIP_MAGIC) + b"\0" * max(0, size - 4))
    out = mannsim("trace", "show", str(path))
    assert out.returncode != 0 and "Traceback" not in out.stderr
    assert len(out.stderr.strip().splitlines()) == 1


def test_a_forged_snapshot_is_caught_by_resume(tmp_path):
    path = tmp_path / "s.jsonl.zst"
    p = compile_program(load(str(PROGRAMS / "compiled" / "unary_successor.u15_2.tm")), DIALECT)
    Computer(p, load_backend("symbolic"), max_steps=compact.SNAP_EVERY + 10, trace=str(path),
             memo=True).run()
    data, blocks = _blocks(path)
    snaps = [b for b in blocks if b.kind == compact.SNAP]
    assert [b.first for b in snaps] == [compact.SNAP_EVERY]
    b = snaps[0]
    (line,) = compact.decode_block(data, b, str(path))
    snap = json.loads(line)
    snap["tape"][0] = "1" if snap["tape"][0] == "0" else "0"
    raw = (json.dumps(snap, separators=(",", ":")) + "\n").encode()
    frame = zstandard.ZstdCompressor().compress(raw)
    path.write_bytes(data[:b.offset] + _index_of(compact.SNAP, len(frame), len(raw), 1, b.first,
                                                 b.head) + frame + data[b.end:])
    with pytest.raises(TraceError, match="snapshot after cycle"):
        replay.replayed(str(path), backend=load_backend("symbolic"))
    # a snapshot block whose index names another cycle than its record
    path.write_bytes(data[:b.offset] + _index_of(compact.SNAP, b.size, b.raw_size, 1, b.first - 1,
                                                 b.head) + data[b.offset + compact.HEAD_SIZE:])
    with TraceIndex(str(path)) as ix, pytest.raises(TraceError, match="does not hold"):
        ix.snapshot(b.first - 1)


@pytest.mark.parametrize("suffix", [".jsonl", ".jsonl.zst"])
def test_replay_checks_each_answer_once_at_every_head_or_live_where_it_stood(tmp_path, suffix):
    """Replay checks a distinct answer at every probe head (verify's theorem) and falls back to
    the live check for an answer right only at the head where it was given: such a trace
    resumes, and the same answer moved to another cycle is refused."""
    plain = tmp_path / "t.jsonl"
    record_run(plain, "bb2.tm")
    lines = plain.read_text().splitlines()
    out = []
    for line in lines:
        rec = json.loads(line)
        if rec["t"] == "cycle" and rec["n"] == 3:  # the head cell written by its literal key
            rec["answer"] = rec["answer"].replace("%[i]=", f"{rec['head']}=")
            absolute = rec
        out.append(json.dumps(rec))
    plain.write_text("\n".join(out) + "\n")
    path = tmp_path / f"abs{suffix}"
    if suffix.endswith(".zst"):  # the same records through the compact writer
        from mannsim.trace import TraceWriter
        w = TraceWriter(str(path), None)
        for rec in map(json.loads, out):
            if rec["t"] == "prompt":
                w.add_prompt(rec["hash"], rec["text"])
            else:
                w.write(rec)
        w.close()
    else:
        path.write_text(plain.read_text())
    comp = replay.replayed(str(path), backend=load_backend("symbolic"))
    assert comp.state.cycle == 7 and comp.program.state_of(comp.state.memory) == "Z"
    # the literal key one cell off: refused, naming the cycle
    bad = [json.dumps({**absolute, "answer": absolute["answer"].replace(
        f"{absolute['head']}=", f"{absolute['head'] + 1}=")}) if json.loads(x).get("n") == 3
        and json.loads(x)["t"] == "cycle" else x for x in out]
    (tmp_path / "bad.jsonl").write_text("\n".join(bad) + "\n")
    with pytest.raises(TraceError, match="cycle 3 is recorded as ok, but its answer fails"):
        replay.replayed(str(tmp_path / "bad.jsonl"), backend=load_backend("symbolic"))


def test_trace_html_refuses_more_cycles_than_a_page_holds(u15_pair, tmp_path, monkeypatch):
    from click.testing import CliRunner

    import mannsim.trace.html as html
    from mannsim.cli import cli
    _, small = u15_pair
    monkeypatch.setattr(html, "MAX_PAGE_CYCLES", 10_000)
    result = CliRunner().invoke(cli, ["trace", "html", str(small), "-o", str(tmp_path / "p.html")])
    assert result.exit_code == 2 and "choose a window, e.g. --steps 1:10000" in result.output
    result = CliRunner().invoke(cli, ["trace", "html", str(small), "-o", str(tmp_path / "p.html"),
                                      "--steps", "30000:39066"])
    assert result.exit_code == 0, result.output
    assert "9,067 cycles (30,000–39,066 of 39,066)" in result.output


def test_views_use_a_snapshot_only_once_it_is_checked(tmp_path, monkeypatch):
    """A snapshot rewritten to claim ten 1s is caught when a view first needs it (replayed
    from the start, the check kept): the view shows the machine's tape and flags the record;
    past the verification budget a snapshot is used but reported as unchecked."""
    import mannsim.trace.configs as configs
    from mannsim.machine import Stepper
    path = tmp_path / "s.jsonl.zst"
    machine = load(str(PROGRAMS / "compiled" / "unary_successor.u15_2.tm"))
    p = compile_program(machine, DIALECT)
    Computer(p, load_backend("symbolic"), max_steps=compact.SNAP_EVERY + 10, trace=str(path),
             memo=True).run()
    data, blocks = _blocks(path)
    (b,) = [b for b in blocks if b.kind == compact.SNAP]
    (line,) = compact.decode_block(data, b, str(path))
    snap = json.loads(line)
    snap["tape"], snap["tape_start"] = ["1"] * 10, snap["head"] - 5
    raw = (json.dumps(snap, separators=(",", ":")) + "\n").encode()
    frame = zstandard.ZstdCompressor().compress(raw)
    forged = tmp_path / "forged.jsonl.zst"
    forged.write_bytes(data[:b.offset] + _index_of(compact.SNAP, len(frame), len(raw), 1, b.first,
                                                   b.head) + frame + data[b.end:])
    k = compact.SNAP_EVERY + 5
    st = Stepper(machine)
    for _ in range(k - 1):
        st.step()
    with TraceIndex(str(path)) as ix:  # the real trace: the snapshot checks, and is used
        assert ix.config_before(k) == (st.state, st.head, st.cells)
        assert ix.checked(k).verified and not ix.warnings
    with TraceIndex(str(forged)) as ix:
        assert ix.config_before(k) == (st.state, st.head, st.cells)  # the machine's, not ten 1s
        c = ix.checked(k)
        assert c.config == "reference" and not c.verified
        assert any(f"snapshot after cycle {compact.SNAP_EVERY:,} is not the reference" in p
                   for p in c.problems)
        assert any(f":{ix.snapshot_line(b.first)}: the snapshot after cycle" in w
                   for w in ix.warnings)
        assert ix.checked(k - 10).verified  # before the snapshot: nothing to do with it
    # a viewer following a run re-opens the trace: what was replayed carries over, and the
    # snapshots of the file as it is now are still compared (here: the forged one)
    with TraceIndex(str(path)) as old, TraceIndex(str(forged)) as fresh:
        old.config_before(k)
        fresh.continue_from(old)
        assert fresh.config_before(k) == (st.state, st.head, st.cells)
        assert fresh.replayed_steps == 0  # the configuration kept by the old index
        assert any("is not the reference machine's" in p for p in fresh.checked(k).problems)
        assert fresh.checked(k - 10).verified
    monkeypatch.setattr(configs, "MAX_VERIFY_STEPS", 1000)  # too few steps to check it
    with TraceIndex(str(forged)) as ix:
        state, head, cells = ix.config_before(k)
        c = ix.checked(k)
        assert (c.config, c.snapshot, c.verified) == ("snapshot", b.first, False)
        assert ix.replayed_steps == 4  # from the snapshot, as the trace says: marked unchecked
    with TraceIndex(str(path)) as ix:
        ix.config_before(k)
        assert ix.checked(k).config == "snapshot" and not ix.checked(k).verified


def test_a_case_fits_a_cycle_exactly_when_the_cycle_makes_that_case():
    """The compact writer reuses the case a (prompt, answer) made last when ``Case.fits`` says
    the cycle is that case at its own head: it must agree with building the case, on writes
    that name the head cell, other cells, literal labels equal to another cycle's head, and
    every field that can differ."""
    from hypothesis import given, settings
    from hypothesis import strategies as st

    from mannsim.trace import Case, Cycle

    label = st.sampled_from(["op", "i", "halted", "3", "4", "-1", "x"])
    value = st.sampled_from(["1", "0", "<instruction B>", ""])
    writes = st.lists(st.tuples(label, value), max_size=4).map(tuple)
    updates = st.sampled_from([(), (("i", 1),), (("i", -1),), (("i", 1), ("x", 2))])

    def cycles(head):
        return st.builds(lambda s, r, a, w, u, tin, tout: Cycle(1, s, head, r, "p" * 16, a, w, u,
                                                                True, 0.0, tin, tout),
                         st.sampled_from("AB"), st.sampled_from("01"), st.sampled_from("xy"),
                         writes, updates, st.integers(0, 1), st.integers(0, 1))

    @settings(max_examples=1000, deadline=None)
    @given(st.integers(2, 4).flatmap(cycles), st.integers(2, 4).flatmap(cycles))
    def check(a, b):
        assert Case.of(a).fits(b) == (Case.of(a) == Case.of(b))
        assert Case.of(a).fits(a)

    check()
