"""Output made for pipes (README): off a terminal every view brackets the tape's head cell
(``00[1]10``) and shows a cycle's MEMORY writes one way (``op=<B> [5]=1 i=6``: never an
instruction's or the boot's text); on a terminal the head is marked by style. Real runs through
the real command line (``run_cli``: stdout is no terminal), checked against the reference
machine cell by cell."""
import io
import re

import pytest
from rich.console import Console

from mannsim.machine import Stepper, load
from mannsim.machine import run as run_machine

from conftest import PROGRAMS
from helpers import FaultyBackend, run_cli

BB2 = PROGRAMS / "bb2.tm"
U15 = PROGRAMS / "u15_2.tm"
SHOW_RADIUS = 12    # cells each side of the head in `trace show`
REPORT_RADIUS = 16  # in a run's final report
#: a writes column: op first, then the cell, then the head, nothing else (these machines)
WRITES = re.compile(r"op=(<[A-Za-z0-9]+>|halt)( \[-?\d+\]=[01])?( i=-?\d+)?")
#: what must never stand in a writes column: instruction or boot text, raw pairs
RAW = ("result", "@[", "%[", "$", "instruction", "boot", "if ", "'", "updates")


@pytest.fixture(scope="module")
def traces(tmp_path_factory):
    """Traces written by real runs: bb2 as JSON Lines and compact, U15,2's test vector compact."""
    folder = tmp_path_factory.mktemp("pipes")
    paths = {}
    for name, program in (("t.jsonl", BB2), ("t.jsonl.zst", BB2), ("u.jsonl.zst", U15)):
        paths[name] = folder / name
        run_cli(["run", program, "-b", "symbolic", "--trace", paths[name]], check=True)
    return paths


def reference(program, first, last):
    """The machine and, for each cycle first..last, (k, state, head, cells, transition) before
    it on the reference machine (transition None: the halting cycle)."""
    m = load(str(program))
    st = Stepper(m)
    out = []
    for k in range(1, last + 1):
        before = (k, st.state, st.head, dict(st.cells), m.transition(st.state, st.read()))
        if k >= first:
            out.append(before)
        if st.step() is None:
            break
    return m, out


def bracketed(cells, head, blank, radius):
    left = "".join(cells.get(c, blank) for c in range(head - radius, head))
    right = "".join(cells.get(c, blank) for c in range(head + 1, head + radius + 1))
    return f"{left}[{cells.get(head, blank)}]{right}"


def expected_writes(head, t):
    return "op=halt" if t is None else f"op=<{t.next}> [{head}]={t.write} i={head + t.move}"


def show_blocks(stdout):
    """`trace show` output as {cycle: {"tape": ..., "writes": ..., ...}}."""
    blocks, k = {}, None
    for line in stdout.splitlines():
        m = re.match(r"[✓✗]\s+(\d+) ", line)
        if m:
            k = int(m.group(1))
            blocks[k] = {"head line": line}
            continue
        m = re.match(r" {8}(tape|answer|writes) {1,3}(.*)", line)
        if m and k is not None:
            blocks[k][m.group(1)] = m.group(2)
    return blocks


def first_cycle_into(program, state, limit=5000):
    """The first cycle whose transition goes to ``state`` (U15,2's F: the one instruction
    shorter than 80 characters, which traces record whole)."""
    _, cycles = reference(program, 1, limit)
    return next(k for k, _, _, _, t in cycles if t is not None and t.next == state)


# -- trace show ---------------------------------------------------------------------------

@pytest.mark.parametrize("name", ["t.jsonl", "t.jsonl.zst"])
def test_trace_show_off_a_terminal_brackets_the_head_and_names_the_writes(traces, name):
    out = run_cli(["trace", "show", traces[name], "--steps", "1:7"], check=True)
    m, cycles = reference(BB2, 1, 7)
    blocks = show_blocks(out.stdout)
    assert sorted(blocks) == [k for k, *_ in cycles] == list(range(1, 8))
    for k, state, head, cells, t in cycles:
        b = blocks[k]
        assert f"state {state}  head {head}  " in b["head line"]
        assert b["tape"] == bracketed(cells, head, m.blank, SHOW_RADIUS), k
        assert b["writes"] == expected_writes(head, t), k
    assert blocks[1]["writes"] == "op=<B> [0]=1 i=1"
    assert blocks[7]["writes"] == "op=halt"


def test_trace_show_of_u15_never_prints_instruction_or_boot_text(traces):
    f = first_cycle_into(U15, "F")
    first, last = max(1, f - 3), f + 3
    spans = [(first, last), (39_060, 39_066)]  # and the halt
    for a, b in spans:
        out = run_cli(["trace", "show", traces["u.jsonl.zst"], "--steps", f"{a}:{b}"], check=True)
        m, cycles = reference(U15, a, b)
        blocks = show_blocks(out.stdout)
        assert sorted(blocks) == list(range(a, b + 1))
        for k, _, head, cells, t in cycles:
            w = blocks[k]["writes"]
            assert WRITES.fullmatch(w) and not any(r in w for r in RAW), (k, w)
            assert w == expected_writes(head, t), k
            assert blocks[k]["tape"] == bracketed(cells, head, m.blank, SHOW_RADIUS), k
    out = run_cli(["trace", "show", traces["u.jsonl.zst"], "--steps", f"{f}:{f}"], check=True)
    assert "writes op=<F> " in out.stdout


# -- a run's report ------------------------------------------------------------------------

@pytest.mark.parametrize("program,backend", [(BB2, None), (BB2, "symbolic"), (U15, None),
                                             (U15, "symbolic")])
def test_the_run_report_brackets_the_head_off_a_terminal(program, backend):
    args = ["run", program] + (["-b", backend] if backend else [])
    out = run_cli(args, check=True)
    m = load(str(program))
    ref = run_machine(m, 10**6)
    tape = [line for line in out.stdout.splitlines() if line.startswith("  tape   ")]
    assert tape == ["  tape   " + bracketed(ref.cells, ref.head, m.blank, REPORT_RADIUS)]


def test_a_forced_live_display_off_a_terminal_brackets_the_head_and_ends_its_line():
    out = run_cli(["run", BB2, "-b", "symbolic", "--live"], check=True)
    m = load(str(BB2))
    ref = run_machine(m, 100)
    assert bracketed(ref.cells, ref.head, m.blank, 30) in out.stdout
    assert "\nbb2 on symbolic: halted" in out.stdout  # the panel's last line is ended


class _Faulty(FaultyBackend):
    """FaultyBackend as a registered backend the CLI loads by name (``FAULT`` at cycle ``AT``)."""

    name = "faulty"
    FAULT, AT = "wrong-branch", 3

    def __init__(self, options=None, *, stop=None, dialect=None):  # the declared contract
        super().__init__(self.FAULT, at=self.AT, dialect=dialect)


@pytest.fixture
def faulty(monkeypatch):
    import mannsim.backends as backends
    real = backends.registry
    monkeypatch.setattr(backends, "registry",
                        lambda: {**real(), "faulty": f"{__name__}:_Faulty"})
    return _Faulty


@pytest.mark.parametrize("program,fault,at,writes", [
    (BB2, "wrong-branch", 3, "op=<B> [0]=1 i=1"),
    # U15,2's F is the instruction short enough to be recorded whole: no raw text either
    (U15, '" op="%[F]" %[i]="1" i+=1 "', 7, "op=<F> [293]=1 i=294"),
    (U15, "write-elsewhere", 7, 'op=<E> [293]=1 boot="x" i=292'),
])
def test_a_divergence_shows_its_writes_the_one_way_in_the_report_and_in_trace_show(
        tmp_path, faulty, monkeypatch, program, fault, at, writes):
    monkeypatch.setattr(faulty, "FAULT", fault)
    monkeypatch.setattr(faulty, "AT", at)
    trace = tmp_path / "d.jsonl"
    out = run_cli(["run", program, "-b", "faulty", "--trace", trace])
    assert out.returncode == 1 and "DIVERGED" in out.stdout
    report = re.search(r"│ writes {11}(.*?) *│", out.stdout)
    assert report and report.group(1) == writes
    shown = show_blocks(run_cli(["trace", "show", trace, "--steps", f"{at}:"], check=True).stdout)
    assert shown[at]["writes"] == writes
    for text in (out.stdout, run_cli(["trace", "show", trace], check=True).stdout):
        assert "<instruction" not in text and "'op'" not in text
    # the report's tape (MEMORY's, read back) has its head cell bracketed, in the middle
    tape = [line for line in out.stdout.splitlines() if line.startswith("  tape   ")]
    assert len(tape) == 1 and re.fullmatch(r"  tape   [01]{16}\[[01]\][01]{16}", tape[0])


# -- decode --------------------------------------------------------------------------------

def test_decode_brackets_the_head_of_both_tapes(tmp_path):
    compiled = tmp_path / "bb2_u15.tm"
    run_cli(["compile", BB2, "-o", compiled], check=True)
    out = run_cli(["decode", BB2, "--program", compiled], check=True)
    assert "decoded tape : 11[1]1 " in out.stdout and "direct run   : 11[1]1 " in out.stdout


# -- on a terminal: the head is marked by style ----------------------------------------------

_SGR = re.compile(r"\x1b\[([0-9;]*)m")


def reverse_video(line):
    """(the line's text, the indexes of its characters drawn in reverse video)."""
    text, rev, codes, pos = [], set(), set(), 0
    for m in [*_SGR.finditer(line), None]:
        chunk = line[pos:m.start() if m else len(line)]
        for ch in chunk:
            if "7" in codes:
                rev.add(len(text))
            text.append(ch)
        if m is None:
            break
        params = m.group(1).split(";") if m.group(1) else ["0"]
        codes = set() if "0" in params else codes
        codes |= set(params) - {"0"}
        pos = m.end()
    return "".join(text), rev


def terminal(monkeypatch, module, color_system="standard"):
    buf = io.StringIO()
    monkeypatch.setattr(module, "console", Console(file=buf, force_terminal=True, width=200,
                                                   color_system=color_system))
    return buf


def test_on_a_terminal_trace_show_marks_the_head_by_style(traces, monkeypatch):
    import mannsim.cli.trace_cmd as trace_cmd
    buf = terminal(monkeypatch, trace_cmd)
    run_cli(["trace", "show", traces["t.jsonl"], "--steps", "1:7"], check=True)
    m, cycles = reference(BB2, 1, 7)
    tapes = [line for line in buf.getvalue().splitlines() if "tape" in line]
    assert len(tapes) == 7
    for line, (k, _, head, cells, _) in zip(tapes, cycles):
        text, rev = reverse_video(line)
        prefix = text.index("tape   ") + len("tape   ")
        assert text[prefix:] == bracketed(cells, head, m.blank, SHOW_RADIUS).replace(
            "[", "").replace("]", ""), k
        assert rev == {prefix + SHOW_RADIUS}, k
    writes = [line for line in buf.getvalue().splitlines() if "writes" in line]
    assert reverse_video(writes[0])[0].strip() == "writes op=<B> [0]=1 i=1"


@pytest.mark.parametrize("backend", [None, "symbolic"])
def test_on_a_terminal_the_run_report_marks_the_head_by_style(monkeypatch, backend):
    import mannsim.cli.run_cmd as run_cmd
    buf = terminal(monkeypatch, run_cmd)
    run_cli(["run", BB2, "--no-live"] + (["-b", backend] if backend else []), check=True)
    tape = [line for line in buf.getvalue().splitlines() if line.startswith("  tape   ")]
    assert len(tape) == 1
    text, rev = reverse_video(tape[0])
    assert text == "  tape   " + "0" * 14 + "111" + "1" + "0" * 15
    assert rev == {len("  tape   ") + REPORT_RADIUS}


def test_a_terminal_without_styles_gets_the_brackets(traces, monkeypatch):
    import mannsim.cli.trace_cmd as trace_cmd
    buf = terminal(monkeypatch, trace_cmd, color_system=None)  # TERM=dumb: styles are lost
    run_cli(["trace", "show", traces["t.jsonl"], "--steps", "1"], check=True)
    assert "tape   000000000000[0]000000000000" in buf.getvalue()
