"""Trust, round 3: compact traces are read within bounds (a decompression bomb is refused from
the block index, running out of memory is one line, prompts and cases are parsed only when
needed), and the views' reader shows only what it checked (snapshots checked against the
reference machine before use, records and case writes compared with the machine and with what
their answers parse to)."""
import json
import random
import resource
import struct
import subprocess
import sys

import pytest
import zstandard

from mannsim import replay
from mannsim.backends import load_backend
from mannsim.computer import Computer
from mannsim.limits import MAX_TRACE_LINE, MAX_TRACE_META
from mannsim.machine import Machine, Stepper, load
from mannsim.machine.blockrun import BlockRun
from mannsim.machine.model import Transition
from mannsim.program import compile_program, load_dialect
from mannsim.trace import Case, TraceError, TraceIndex, compact
from mannsim.trace.source import UNMATCHED_PROMPT

from conftest import DATA, PROGRAMS
from helpers import one_line_error, random_machine, run_cli

DIALECT = load_dialect("schuurmans")
LIMIT_BYTES = 1536 << 20  # the address-space limit of tests/test_hostile.py


def _limited():
    resource.setrlimit(resource.RLIMIT_AS, (LIMIT_BYTES, LIMIT_BYTES))


def mannsim(*args, limit=None):
    """``mannsim ARGS`` in a process of its own, its address space capped at ``limit``."""
    def cap():
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    return subprocess.run([sys.executable, "-m", "mannsim", *map(str, args)],
                          capture_output=True, text=True, timeout=120,
                          preexec_fn=cap if limit else None)


def bb2_trace(path, name="bb2.tm", **kw):
    prog = compile_program(load(str(PROGRAMS / name)), DIALECT)
    Computer(prog, load_backend("symbolic"), trace=str(path), **kw).run()
    return path


def _index(kind, csize, raw, records, first=0, head=0):
    return struct.pack("<II", compact.SKIP_MAGIC, compact.BLOCK.size) + compact.BLOCK.pack(
        kind, csize, raw, records, first, head)


def _block(kind, lines, first=0, head=0):
    raw = b"".join(line + b"\n" for line in lines)
    frame = zstandard.ZstdCompressor(level=3).compress(raw)
    return _index(kind, len(frame), len(raw), len(lines), first, head) + frame


def _blocks(path):
    data = path.read_bytes()
    return data, compact.scan_blocks(data, str(path), [])


def meta_bomb(path, clean, blocks=45):
    """A trace that starts like ``clean`` (its header block), then ``blocks`` meta blocks of
    64 MiB each once decompressed (four prompts of nearly 16 MiB, distinct hashes, so a
    reader that keeps every prompt keeps them all), then the rest of ``clean``: about 2.3 KB a
    block on disk, the issue's 95 KB trace that took `trace stats` to 2.8 GB."""
    data, index = _blocks(clean)
    text = b"a" * (compact.MAX_BLOCK // 4 - 100)
    bombs = []
    for b in range(blocks):
        lines = [b'{"t":"prompt","hash":"%016x","text":"' % (4 * b + i) + text + b'"}'
                 for i in range(4)]
        bombs.append(_block(compact.META, lines))
    path.write_bytes(data[:index[1].offset] + b"".join(bombs) + data[index[1].offset:])
    return path


@pytest.fixture(scope="module")
def clean(tmp_path_factory):
    return bb2_trace(tmp_path_factory.mktemp("clean") / "t.jsonl.zst")


@pytest.fixture(scope="module")
def bomb(tmp_path_factory, clean):
    return meta_bomb(tmp_path_factory.mktemp("bomb") / "bomb.jsonl.zst", clean)


# -- bounded reading -------------------------------------------------------------------------
def test_the_bomb_is_small_on_disk_and_huge_decompressed(bomb):
    data, index = _blocks(bomb)
    meta = sum(b.raw_size for b in index if b.kind == compact.META)
    assert len(data) < 150_000 and meta > 3_000_000_000
    assert meta > 40 * MAX_TRACE_META


@pytest.mark.parametrize("command", [
    ("trace", "stats", "{t}"),
    ("trace", "show", "{t}"),
    ("trace", "show", "{t}", "--steps", "3:3", "--json"),
    ("trace", "plot", "{t}", "-o", "{tmp}/p.png"),
    ("trace", "html", "{t}", "-o", "{tmp}/p.html"),
    ("run", "--resume", "{t}"),
    ("decode", PROGRAMS / "bb2.tm", "--trace", "{t}"),
], ids=["stats", "show", "show-json", "plot", "html", "resume", "decode"])
def test_a_meta_bomb_is_refused_in_one_line_under_a_memory_limit(bomb, tmp_path, command):
    args = [str(a).replace("{t}", str(bomb)).replace("{tmp}", str(tmp_path)) for a in command]
    line = one_line_error(mannsim(*args, limit=LIMIT_BYTES), "MAX_TRACE_META")
    assert f"{bomb}:" in line and f"{MAX_TRACE_META:,} bytes" in line  # the file and the limit


def test_the_bomb_is_refused_from_the_index_before_anything_is_decompressed(bomb, monkeypatch):
    decoded = []
    real = compact.decode_block
    monkeypatch.setattr(compact, "decode_block", lambda d, b, p: decoded.append(b) or real(d, b, p))
    for strict in (False, True):
        with pytest.raises(TraceError, match="decompression bomb"):
            TraceIndex(str(bomb), strict=strict)
    assert decoded == []


def test_legitimate_traces_hold_a_small_part_of_the_budget(tmp_path):
    # U15,2's test vector (the README's biggest compact traces, compiled examples of 1.2-3.9 M
    # cycles, hold 64-68 KB of meta blocks: the same 29 prompts and cases, a larger header)
    path = bb2_trace(tmp_path / "u.jsonl.zst", "u15_2.tm")
    _, index = _blocks(path)
    meta = sum(b.raw_size for b in index if b.kind == compact.META)
    assert 0 < meta < MAX_TRACE_META // 500


def test_a_block_of_millions_of_cycles_is_refused(clean, tmp_path):
    data, index = _blocks(clean)
    cyc = next(b for b in index if b.kind == compact.CYCLES)
    lines = [b'{"t":"c","k":0}'] * (4 << 20)  # 64 MiB: 4 M cycles that would be expanded
    path = tmp_path / "many.jsonl.zst"
    path.write_bytes(data[:cyc.offset] + _block(compact.CYCLES, lines, cyc.first, cyc.head)
                     + data[cyc.end:])
    one_line_error(mannsim("trace", "stats", path, limit=LIMIT_BYTES), "invalid block index")


def test_a_record_longer_than_the_line_cap_is_refused_in_a_block_too(clean, tmp_path):
    data, index = _blocks(clean)
    long_prompt = b'{"t":"prompt","hash":"0123456789abcdef","text":"' + \
        b"a" * MAX_TRACE_LINE + b'"}'
    path = tmp_path / "long.jsonl.zst"
    path.write_bytes(data[:index[1].offset] + _block(compact.META, [long_prompt])
                     + data[index[1].offset:])
    with pytest.raises(TraceError, match=f"record longer than {MAX_TRACE_LINE} bytes"):
        TraceIndex(str(path), strict=True)


def test_running_out_of_memory_while_reading_is_one_line(clean, tmp_path, monkeypatch):
    # a trace within every cap whose one record (5 M empty lists in 16 MB) takes 400 MB as
    # Python objects: under a tight address-space limit reading it runs out of memory
    data, index = _blocks(clean)
    pairs = b",".join([b"[]"] * ((MAX_TRACE_LINE - 400) // 3))
    rec = (b'{"t":"cycle","n":1,"state":"A","head":0,"read":"0","prompt":"0123456789abcdef",'
           b'"answer":"x","check":"diverged","writes":[' + pairs + b']}')
    path = tmp_path / "heavy.jsonl.zst"
    path.write_bytes(data[:index[1].offset] + _block(compact.META, [rec]))
    line = one_line_error(mannsim("trace", "stats", path, limit=384 << 20), "out of memory")
    assert str(path) in line
    # in process: a MemoryError anywhere in the reader is the same one-line error
    import mannsim.trace.compact_source as reader
    monkeypatch.setattr(reader, "parse_line", lambda *a: (_ for _ in ()).throw(MemoryError()))
    with pytest.raises(TraceError, match="out of memory reading the trace"):
        TraceIndex(str(clean), strict=True)


def test_trace_commands_import_no_model_library(clean):
    code = ("import sys\nfrom mannsim.cli import main\ntry:\n    main(['trace', 'stats', "
            f"{str(clean)!r}])\nexcept SystemExit:\n    pass\n"
            "print(sorted(m for m in ('torch', 'transformers', 'numpy') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.stdout.strip().splitlines()[-1] == "[]", out.stdout[-500:]


def test_prompts_and_cases_are_parsed_only_when_needed(clean):
    with TraceIndex(str(clean)) as ix:
        cases = ix.source._cases
        assert cases._at and not cases._cases  # noted by place, none parsed
        assert all(not isinstance(v, str) for v in ix.prompts._at.values())
        rec = ix.cycle(1)  # expands its block: the 5 cases its 7 cycles name, no prompt
        assert len(cases._cases) == 5 and all(isinstance(c, Case) for c, _, _ in
                                              cases._cases.values())
        assert all(not isinstance(v, str) for v in ix.prompts._at.values())
        text = ix.prompts[rec.prompt]
        assert "result" in text and ix.prompts._at[rec.prompt] == text
    with TraceIndex(str(clean), strict=True) as strict, TraceIndex(str(clean)) as lenient:
        assert strict.cases() == lenient.cases() and dict(strict.prompts) == dict(lenient.prompts)


def test_a_prompt_whose_text_does_not_match_its_hash_is_never_shown(clean, tmp_path):
    path = _rewrite_meta(clean, tmp_path / "p.jsonl.zst", lambda lines: [
        line.replace(b"result", b"RESULT", 1) if line.startswith(b'{"t":"prompt"') else line
        for line in lines])
    with TraceIndex(str(path)) as ix:
        digest = ix.cycle(1).prompt
        assert ix.prompts[digest] == UNMATCHED_PROMPT and "RESULT" not in ix.prompts[digest]
        assert any("does not match its hash" in w for w in ix.warnings)
    with pytest.raises(TraceError, match="does not match its hash"):
        TraceIndex(str(path), strict=True)


# -- the replay the views use ----------------------------------------------------------------
def _reference(machine, state, head, cells, n):
    st = Stepper(machine)
    st.state, st.head, st.cells = state, head, dict(cells)
    for _ in range(n):
        if st.step() is None:
            break
    return st.state, st.head, {c: s for c, s in st.cells.items() if s != machine.blank}, st.steps


def test_the_block_replay_equals_the_stepper_from_any_configuration():
    rng = random.Random(33)
    for trial in range(400):
        m = random_machine(rng, max_states=5, max_symbols=3)
        rp = BlockRun(m)
        state = rng.choice(m.states)
        head = rng.randint(-300, 300)
        cells = {c: rng.choice(m.symbols) for c in range(head - rng.randint(0, 80),
                                                         head + rng.randint(0, 80))
                 if rng.random() < 0.6}
        n = rng.choice([0, 1, 7, 31, 32, 33, 100, 2047, 2049, 5000, 40_000])
        cfg = rp.config(state, head, cells)
        done = rp.advance(cfg, n)
        want_state, want_head, want_cells, steps = _reference(m, state, head, cells, n)
        assert (rp.state(cfg), rp.head(cfg), rp.cells(cfg), done) == \
            (want_state, want_head, want_cells, steps), (trial, m, n)


def test_the_block_replay_equals_the_stepper_on_long_runs_and_wide_machines():
    for spec in ("programs/bb5.tm", "programs/compiled/bb2.u15_2.tm", "1RB1LA_0LA0RB"):
        m = load(str(PROGRAMS.parent / spec)) if spec.startswith("programs") else load(spec)
        rp = BlockRun(m)
        cells = {i: s for i, s in enumerate(m.tape) if s != m.blank}
        cfg = rp.config(m.start, m.head, cells)
        for n in (200_003, 100_000):  # in two pieces, as a view replays
            rp.advance(cfg, n)
        assert (rp.state(cfg), rp.head(cfg), rp.cells(cfg)) == \
            _reference(m, m.start, m.head, cells, 300_003)[:3]
    # 300 symbols: the tape is a list, not a bytearray
    symbols = ["_"] + [f"s{i}" for i in range(299)]
    table = {("A", s): Transition(symbols[(i + 7) % 300], 1 if i % 3 else -1, "A" if i % 5 else "B")
             for i, s in enumerate(symbols)}
    table |= {("B", s): Transition(symbols[(i * 11) % 300], -1, "A") for i, s in enumerate(symbols)}
    m = Machine(states=["A", "B"], symbols=symbols, blank="_", start="A", transitions=table)
    rp = BlockRun(m)
    assert not rp.narrow
    cfg = rp.config("A", 0, {})
    rp.advance(cfg, 50_000)
    assert (rp.state(cfg), rp.head(cfg), rp.cells(cfg)) == _reference(m, "A", 0, {}, 50_000)[:3]


# -- views show only what the reader checked ----------------------------------------------
def _rewrite_meta(path, out, edit):
    """``path`` with ``edit(lines) -> lines`` applied to each meta block, written to ``out``."""
    data, index = _blocks(path)
    parts = []
    for b in index:
        if b.kind == compact.META:
            parts.append(_block(compact.META, edit(compact.decode_block(data, b, str(path)))))
        else:
            parts.append(data[b.offset:b.end])
    out.write_bytes(b"".join(parts))
    return out


def _reference_config(path, k):
    m = load(str(PROGRAMS / "bb2.tm"))
    st = Stepper(m)
    for _ in range(k - 1):
        st.step()
    return st.state, st.head, dict(st.cells)


def test_a_forged_snapshot_in_a_meta_block_is_never_shown(clean, tmp_path):
    """The issue's reproduction: a snap record claiming ten 1s after cycle 3 of bb2, in the
    last meta block. `trace show` marked cycles 4.. with that tape; it is warned about and never
    used, and the tape shown is the machine's."""
    snap = json.dumps({"t": "snap", "cycles": 3, "state": "B", "head": -1, "tape": ["1"] * 10,
                       "tape_start": -5}, separators=(",", ":")).encode()
    forged = _rewrite_meta(clean, tmp_path / "f.jsonl.zst",
                           lambda lines: lines + [snap] if lines[-1].startswith(b'{"t":"end"')
                           else lines)
    with TraceIndex(str(forged)) as ix:
        assert any("a snapshot after cycle 3" in w and "not used" in w for w in ix.warnings)
        for k in range(1, len(ix) + 1):
            assert ix.config_before(k) == _reference_config(forged, k)
            assert ix.checked(k).verified
    out = run_cli(["trace", "show", str(forged), "--steps", "4:4", "--json"])
    assert out.returncode == 0 and "a snapshot after cycle 3" in out.stderr
    assert json.loads(out.stdout)["tape"].count("1") == 2  # the machine's two 1s, not ten
    with pytest.raises(TraceError, match="the snapshot after cycle 3 is not the machine"):
        replay.replayed(str(forged), backend=load_backend("symbolic"))  # resume compares them all


def test_forged_case_fields_are_flagged_and_the_machines_are_shown(clean, tmp_path):
    def edit(lines):
        out = []
        for line in lines:
            if line.startswith(b'{"t":"case","k":0,'):  # A reading 0: writes 1 at the head
                rec = json.loads(line)
                rec["writes"] = [["op", "<instruction B>"], [None, "0"]]  # claims it wrote 0
                line = json.dumps(rec, separators=(",", ":")).encode()
            if line.startswith(b'{"t":"case","k":1,'):  # B reading 0: another answer
                rec = json.loads(line)
                rec["answer"] = rec["answer"].replace("i-=1", "i+=1")
                line = json.dumps(rec, separators=(",", ":")).encode()
            out.append(line)
        return out
    forged = _rewrite_meta(clean, tmp_path / "w.jsonl.zst", edit)
    with TraceIndex(str(forged)) as ix:
        c1 = ix.checked(1)
        assert not c1.verified and c1.config == "reference"
        assert c1.writes == (("op", "<instruction B>"), ("0", "1"))  # what the answer writes
        assert any("records writes" in p for p in c1.problems)
        c2 = ix.checked(2)
        assert any("recorded as ok, but its answer fails the live check" in p
                   for p in c2.problems)
        assert not c2.verified
        assert ix.checked(3).verified  # a case nobody touched
        warned = list(ix.warnings)
        assert ix.checked(1).problems == c1.problems and ix.warnings == warned  # once


def test_a_record_that_disagrees_with_the_machine_is_flagged(tmp_path):
    plain = bb2_trace(tmp_path / "t.jsonl")
    lines = plain.read_text().splitlines()
    for i, line in enumerate(lines):
        rec = json.loads(line)
        if rec.get("t") == "cycle" and rec["n"] == 4:
            rec["head"], rec["read"] = 5, "1"
            lines[i] = json.dumps(rec)
    plain.write_text("\n".join(lines) + "\n")
    with TraceIndex(str(plain)) as ix:
        c = ix.checked(4)
        assert (c.state, c.head, c.read) == ("B", -1, "0")
        assert any("records state B, head 5, read 1" in p for p in c.problems)
        assert not c.verified and any("head 5" in w for w in ix.warnings)


@pytest.mark.parametrize("suffix", [".jsonl", ".jsonl.zst"])
def test_every_cycle_of_a_clean_trace_checks(tmp_path, suffix):
    path = bb2_trace(tmp_path / f"u{suffix}", "u15_2.tm", max_steps=3000)
    with TraceIndex(str(path)) as ix:
        for k in range(1, len(ix) + 1):
            c, rec = ix.checked(k), ix.cycle(k)
            assert c.verified and not c.problems, (k, c)
            assert (c.state, c.head, c.read) == (rec.state, rec.head, rec.read)
            assert (c.writes, c.updates) == (rec.writes, rec.updates)
        assert not ix.warnings


def test_an_answer_that_reads_the_tape_is_checked_on_the_whole_configuration(tmp_path):
    # cycle 3 of bb2 (A reading 1 at cell 0) writes the head cell from cell 0 itself: right
    # only because the tape holds 1 there, which a view checks on the whole configuration
    plain = bb2_trace(tmp_path / "t.jsonl")
    lines = plain.read_text().splitlines()
    for i, line in enumerate(lines):
        rec = json.loads(line)
        if rec.get("t") == "cycle" and rec["n"] in (3, 5):
            rec["answer"] = rec["answer"].replace('%[i]="1"', '%[i]="%[0]"')
            lines[i] = json.dumps(rec)
    plain.write_text("\n".join(lines) + "\n")
    with TraceIndex(str(plain)) as ix:
        assert ix.checked(3).verified
        c = ix.checked(5)  # A reading 0 at cell -2: cell 0 holds 1, so it writes 1, as recorded
        assert c.verified and c.writes == (("op", "<instruction B>"), ("-2", "1"))


def test_a_compact_trace_without_snapshots_is_not_replayed_without_end(clean, tmp_path,
                                                                       monkeypatch):
    # 300 blocks of cycles (4,096 each, 22 KB on disk) claim 1.2 M cycles and no snapshot:
    # the last one lies further from any configuration the reader may start from than it
    # replays (MAX_VERIFY_STEPS, here lowered to 2^16, or at least 4 snapshot intervals), so
    # it is refused before any step is replayed
    import mannsim.trace.configs as configs
    monkeypatch.setattr(configs, "MAX_VERIFY_STEPS", 1 << 16)
    data, blocks = _blocks(clean)
    lines = [b'{"t":"c","k":0}', b'{"t":"c","k":1}'] * 2048  # bb2's A 0 / B 0 back and forth
    raw = b"".join(line + b"\n" for line in lines)
    frame = zstandard.ZstdCompressor(level=19).compress(raw)
    parts = [data[:blocks[1].end]]  # header, prompts and cases
    for i in range(300):
        parts.append(_index(compact.CYCLES, len(frame), len(raw), len(lines), 1 + 4096 * i, 0)
                     + frame)
    path = tmp_path / "long.jsonl.zst"
    path.write_bytes(b"".join(parts))
    assert path.stat().st_size < 30_000
    with TraceIndex(str(path)) as ix:
        assert len(ix) == 300 * 4096
        with pytest.raises(TraceError, match="steps past the nearest configuration"):
            ix.config_before(len(ix))
        assert ix.replayed_steps == 0
        assert not ix.checked(3).verified  # and the records disagree with the machine


def forged_cases_trace(clean, out):
    """bb2's compact trace whose case for B reading 0 answers i+=1 (the machine moves left) and
    is still recorded ok: cycle 2 of the run."""
    def edit(lines):
        fixed = []
        for line in lines:
            if line.startswith(b'{"t":"case","k":1,'):
                rec = json.loads(line)
                rec["answer"] = rec["answer"].replace("i-=1", "i+=1")
                line = json.dumps(rec, separators=(",", ":")).encode()
            fixed.append(line)
        return fixed
    return _rewrite_meta(clean, out, edit)


def test_trace_show_marks_a_record_that_disagrees_and_never_checks_it(clean, tmp_path):
    forged = forged_cases_trace(clean, tmp_path / "f.jsonl.zst")
    out = run_cli(["trace", "show", str(forged), "--steps", "1:3"])
    assert out.returncode == 0
    lines = out.stdout.splitlines()
    marks = [line.split()[0] for line in lines if line[:1] in "✓!?✗" and line.split()[1] in "123"]
    assert marks == ["✓", "!", "✓"]
    assert "disagrees: cycle 2 is recorded as ok, but its answer fails the live check" in out.stdout
    assert "fails the live check" in out.stderr  # and the warning
    clean_out = run_cli(["trace", "show", str(clean), "--steps", "1:3"]).stdout
    assert [line.split()[0] for line in clean_out.splitlines()
            if line[:1] in "✓!?✗" and line.split()[1] in "123"] == ["✓", "✓", "✓"]


def test_a_trace_of_a_dialect_mannsim_does_not_ship_is_shown_unchecked(tmp_path):
    """Its answers cannot be re-applied (the dialect is not a shipped one): `trace show` marks
    every cycle ? with an 'unchecked' line, never ✓."""
    trace = tmp_path / "t.jsonl"
    run_cli(["run", "bb2", "-b", "symbolic", "-d", DATA / "dialects" / "table", "--trace", trace],
            check=True)
    out = run_cli(["trace", "show", trace, "--steps", "1:3"])
    marks = [line.split()[0] for line in out.stdout.splitlines() if line[:1] in "✓!?✗"]
    assert marks == ["?", "?", "?"]
    assert out.stdout.count("unchecked: the trace's dialect is not a shipped one") == 3


def test_the_checkpoints_cell_count_is_kept_exactly(tmp_path, monkeypatch):
    """The reader keeps a running count of the cells its checkpoints hold (the cap on them);
    after random jumps, evictions and a hand-over to a fresh index it equals the real sum."""
    import random as rnd

    import mannsim.trace.configs as configs
    monkeypatch.setattr(configs, "CHECKPOINTS", 5)
    trace = bb2_trace(tmp_path / "t.jsonl", name="bb5.tm", max_steps=6000)
    rng = rnd.Random(3)
    with TraceIndex(str(trace)) as ix, TraceIndex(str(trace)) as fresh:
        for _ in range(60):
            ix.config_before(rng.randint(1, len(ix)))
            cs = ix._configurations()
            real = sum(len(t.tape) for t, _ in cs.checkpoints.values())
            assert cs.checkpoint_cells == real and len(cs.checkpoints) <= 5
        fresh.continue_from(ix)
        fresh.config_before(len(fresh))
        cs = fresh._configurations()
        assert cs.checkpoint_cells == sum(len(t.tape) for t, _ in cs.checkpoints.values())


def test_a_resume_record_that_keeps_part_of_a_block_is_kept_by_every_reading(clean, tmp_path):
    """Found by a review: a (hand-written) resume record that keeps part of a block of compact
    cycles was honoured by len() and cycle() but not by steps() and facts(), so a replay kept
    the dropped cycles, a resume wrote a trace it then refused, and a bad dropped cycle crashed
    with an IndexError. Every reading now keeps the same cycles."""
    resume = json.dumps({"t": "resume", "from": 3}, separators=(",", ":")).encode()
    cut = _rewrite_meta(clean, tmp_path / "r.jsonl.zst", lambda lines: [
        resume if line.startswith(b'{"t":"end"') else line for line in lines])
    with TraceIndex(str(cut), strict=True) as ix:
        assert len(ix) == len(list(ix.steps())) == len(list(ix.facts())) == 3
    assert replay.replayed(str(cut)).state.cycle == 3
    comp = replay.resume(str(cut), load_backend("symbolic"))
    assert comp.run().reason == "halt"
    with TraceIndex(str(cut), strict=True) as ix:  # the resumed trace reads back strictly
        assert len(ix) == comp.cycle and ix.end.reason == "halt"


@pytest.mark.parametrize("suffix", [".jsonl", ".jsonl.zst"])
def test_a_resume_refuses_a_cycle_that_records_writes_its_answer_does_not_make(tmp_path, suffix):
    """Found by a review: the answer re-checked, but the recorded bookkeeping (writes,
    updates) was kept unread by a resume. A cycle (or a compact case) whose writes are not what
    its answer makes is refused, naming the line; views flag it too."""
    path = bb2_trace(tmp_path / f"w{suffix}", "bb2.tm")
    plain = tmp_path / "plain.jsonl"
    bb2_trace(plain, "bb2.tm")
    lines = []
    for line in plain.read_text().splitlines():
        rec = json.loads(line)
        if rec.get("t") == "cycle" and rec["n"] == 3:
            rec["writes"] = [[k, "0" if k == str(rec["head"]) else v] for k, v in rec["writes"]]
        lines.append(json.dumps(rec))
    forged = tmp_path / f"forged{suffix}"
    if suffix.endswith(".zst"):
        from mannsim.trace import TraceWriter
        w = TraceWriter(str(forged), None)
        for rec in map(json.loads, lines):
            if rec["t"] == "prompt":
                w.add_prompt(rec["hash"], rec["text"])
            elif rec["t"] == "cycle" and rec["check"] == "ok":
                from mannsim.trace import Cycle
                w.cycle(Cycle.from_json(rec), lambda: None)
            else:
                w.write(rec)
        w.close()
    else:
        forged.write_text("\n".join(lines) + "\n")
    assert replay.replayed(str(path)).state.cycle > 3  # the real one resumes
    with pytest.raises(TraceError, match="cycle 3 records writes or updates its answer does not"):
        replay.replayed(str(forged))
