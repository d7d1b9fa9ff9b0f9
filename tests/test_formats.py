"""File formats: parsing, writing, round trips, and errors that name file and line."""

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mannsim.errors import MachineError, MannsimError
from mannsim.machine import Transition, dump, load, parse, run
from mannsim.machine.formats import FORMAT_NAMES

from conftest import PROGRAMS, reference_machines
from helpers import run_cli

ALL_PROGRAMS = sorted(p.name for p in PROGRAMS.glob("*.tm"))


@pytest.mark.parametrize("name", ALL_PROGRAMS)
def test_native_round_trip(name):
    m = load(str(PROGRAMS / name))
    again = parse(dump(m, "tm"), "tm")
    assert again == m
    assert dump(again, "tm") == dump(m, "tm")


@pytest.mark.parametrize("std", [b[0] for b in reference_machines()])
def test_standard_round_trip(std):
    m = parse(std, "std")
    assert dump(m, "std") == std
    assert parse(dump(m, "tm"), "tm") == m


def test_standard_keeps_undefined_and_halt_letters():
    u15 = ("0RB1RA_1RC1RA_0LG0LE_0LF1LE_1RA1LD_1LD1LD_0LH1LG_1LI1LG_0RA1LJ_1LK---_0RL1RN_0RM1RL_0LB1RL"
           "_0LC0RO_0RN1RN")
    m = parse(u15, "std")
    assert m.transition("J", "1") is None and len(m.transitions) == 29
    assert dump(m, "std") == u15
    assert dump(parse("1RB1RH_1LA0RA", "std"), "std") == "1RB1RH_1LA0RA"
    prog = load(str(PROGRAMS / "u15_2.tm"))
    assert prog.transitions == m.transitions


#: The machines a format cannot carry, and why: each is refused with this reason, no other is.
INEXPRESSIBLE = {
    ("binary_addition.tm", "std"): "needs symbols 0..k-1",
    ("binary_increment.tm", "std"): "needs symbols 0..k-1",
    ("copy.tm", "std"): "needs symbols 0..k-1",
    ("copy.tm", "yaml"): "has no stay move",
    ("palindrome.tm", "std"): "needs symbols 0..k-1",
    ("palindrome.tm", "yaml"): "has no stay move",
    ("u15_2.tm", "std"): "cannot carry an initial tape or head",
    ("u15_2.tm", "yaml"): "starts the head at cell 0; this machine starts at 295",
    ("unary_multiplication.tm", "morphett"): "symbol '*' cannot be written in a Morphett file",
    ("unary_multiplication.tm", "std"): "needs symbols 0..k-1",
}


@pytest.mark.parametrize("name", ALL_PROGRAMS)
@pytest.mark.parametrize("fmt", ["morphett", "yaml", "std"])
def test_cross_format_behaviour(name, fmt):
    m = load(str(PROGRAMS / name))
    why = INEXPRESSIBLE.get((name, fmt))
    if why is not None:
        with pytest.raises(MannsimError) as e:
            dump(m, fmt)
        assert why in str(e.value) and "\n" not in str(e.value)
        return
    text = dump(m, fmt)
    back = first = parse(text, fmt)
    if m.blank != back.blank:
        back = back.rename_symbols({back.blank: m.blank})
    ra, rb = run(m, 10**5), run(back, 10**5)
    assert (ra.steps, ra.halted, ra.state, ra.head, ra.tape) == (
        rb.steps, rb.halted, rb.state, rb.head, rb.tape)
    assert parse(dump(first, fmt), fmt) == first  # the format's own round trip is exact


MORPHETT = """\
; binary increment, Morphett style
; $INITIAL_TAPE: 1*011
0 * * r 0          ; wildcard symbol: move right over anything
0 _ _ l 1
1 1 0 l 1
1 0 1 * halt
1 _ 1 * halt !
"""


def test_morphett_wildcards_head_marker_and_halt():
    m = parse(MORPHETT, "morphett")
    assert m.start == "0" and m.blank == "_" and m.head == 1
    assert m.tape == ("1", "0", "1", "1")
    assert m.transition("0", "1") == Transition("1", 1, "0")
    assert "halt" in m.halt_states
    r = run(m)
    assert (r.state, r.tape) == ("halt", "1100")
    assert parse(dump(m, "morphett"), "morphett") == m


def test_morphett_wildcard_precedence():
    text = "0 * x r 0\n* a y r 0\n0 b z r 0\n* * w * halt\n"
    m = parse(text, "morphett")
    assert m.transition("0", "b").write == "z"  # exact first
    assert m.transition("0", "a").write == "x"  # then (state, *)
    assert m.transition("0", "_").write == "x"


YAML = """\
input: '1011'
blank: ' '
start state: right
table:
  right:
    [1,0]: R
    ' '  : {L: carry}
  carry:
    1      : {write: 0, L}
    [0,' ']: {write: 1, L: done}
  done:
"""


def test_turingmachine_io_synonyms_on_the_command_line():
    """turingmachine.io's examples use synonyms; mannsim reads them (more: test_tmio_compat)."""
    import json

    from conftest import DATA
    out = json.loads(run_cli(["run", str(DATA / "tmio" / "palindrome.yaml"), "--json"],
                             check=True).stdout)
    assert (out["final_state"], out["steps"]) == ("accepted", 27)  # the site's count
    out = json.loads(run_cli(["run", str(DATA / "tmio" / "powers_of_two.yaml"), "--tape", "aaa",
                              "--json"], check=True).stdout)
    assert (out["final_state"], out["steps"]) == ("no", 4)


@settings(max_examples=100, deadline=None)
@given(seed=st.integers(0, 2**32))
def test_yaml_round_trip_of_random_machines(seed):
    import random

    from helpers import random_machine
    m = random_machine(random.Random(seed), stay=False).replace(head=0)
    used = {m.blank, *m.tape} | {s for _, s in m.transitions} | {
        t.write for t in m.transitions.values()}  # what a YAML program can say: used symbols,
    m = m.replace(halt_states=[q for q in m.states if not any(k[0] == q for k in m.transitions)],
                  symbols=[s for s in m.symbols if s in used])  # rule-less states halting
    again = parse(dump(m, "yaml"), "yaml")
    assert again == m
    assert parse(dump(again, "yaml"), "yaml") == again


def test_turingmachine_io_list_keys():
    m = parse(YAML, "yaml")
    assert m.blank == "_"  # a space cannot be a mannsim symbol
    assert m.transition("right", "1") == Transition("1", 1, "right")
    assert m.transition("carry", "1") == Transition("0", -1, "carry")
    assert m.transition("carry", "_") == Transition("1", -1, "done")
    assert "done" in m.halt_states
    r = run(m)
    assert (r.state, r.tape) == ("done", "1100")
    assert parse(dump(m, "yaml"), "yaml") == m


BAD = [
    ("tm", "*\t0\t*\tn\t*", 1, "no states"),  # found by atheris (make fuzz)
    ("yaml", "blank: 0\nstart state: a\ntable:\n  a:\n    0: !!set {0}\n", 5, "invalid YAML"),
    ("tm", "A 0 1 X B\n", 1, "invalid move"),
    ("tm", "; c\nA 0 1 R\n", 2, "expected a rule"),
    ("tm", "A 0 1 R B\nA 0 0 L B\n", 2, "second rule"),
    ("tm", "head: x\nA 0 1 R B\n", 1, "integer"),
    ("tm", "halt: B\nA 0 1 R B\nB 0 1 R A\n", 3, "halting state"),
    ("tm", "start: A\nstart: B\nA 0 1 R B\n", 2, "given twice"),
    ("std", "1RB1LB_1LA", 1, "same number"),
    ("std", "1XB", 1, "not a standard-format"),
    ("std", "2RB1LB_1LA1RZ", 1, "writes symbol 2"),
    ("morphett", "0 ab 1 r 0\n", 1, "one character"),
    ("morphett", "\n\n0 1 1 q 0\n", 3, "invalid move"),
    ("yaml", "blank: 0\nstart state: a\ntable:\n  a:\n    0: {write: 1, L: b}\n", 5, "not in the table"),
    ("yaml", "blank: 0\nstart state: a\ntable:\n  a: [\n", None, "invalid YAML"),
    ("yaml", "blank: ab\nstart state: a\ntable:\n  a:\n", 1, "one character"),
    ("yaml", "blank: 0\nstart state: a\ntable:\n  a:\n    0: {write: 1, L: a, R: a}\n", 5, "exactly one"),
    ("yaml", "blank: 0\nstart state: a\ntable:\n  a:\n    0: accept\n", 5, "invalid instruction 'accept'"),
    ("yaml", "blank: 0\nstart state: a\nsynonyms:\n  go: {R: b}\ntable:\n  a:\n", 4, "synonym 'go'"),
    ("yaml", "blank: 0\nstart state: a\ntable:\n  a:\n    [0, 1]: R\n    1: L\n", 6, "two instructions"),
    ("yaml", "blank: 0\nstart state: a\ntable:\n  a:\n    0: R\n    0: L\n", 6, "duplicated mapping key"),
    ("yaml", "name: d\nsource code: |\n  blank: 0\n  start state: b\n  table: {a: }\n", 4,
     "start state 'b' is not in the table"),
]


@pytest.mark.parametrize("fmt,text,line,words", BAD)
def test_malformed_inputs_name_file_and_line(tmp_path, fmt, text, line, words):
    ext = {"tm": ".tm", "std": ".std", "morphett": ".morphett", "yaml": ".yaml"}[fmt]
    path = tmp_path / f"bad{ext}"
    path.write_text(text)
    with pytest.raises(MachineError) as info:
        load(str(path))
    message = str(info.value)
    assert words in message
    assert message.startswith(str(path) + (f":{line}:" if line else ":"))
    assert "\n" not in message


@pytest.mark.slow
def test_cli_errors_are_one_line_exit_2(tmp_path):
    bad = tmp_path / "bad.tm"
    bad.write_text("A 0 1 R B\nA 0 1 Q B\n")
    cases = [
        ["run", str(bad)],
        ["run", str(tmp_path / "missing.tm")],
        ["show", str(bad)],
        ["convert", str(PROGRAMS / "palindrome.tm"), "--to", "yaml"],
        ["convert", str(PROGRAMS / "u15_2.tm"), "--to", "std"],
    ]
    bin_ = tmp_path / "binary.tm"
    bin_.write_bytes(b"A 0 1 R B\n\xff\xfe\n")
    cases.append(["run", str(bin_)])
    for args in cases:
        proc = run_cli([*args])
        assert proc.returncode == 2, (args, proc.stderr)
        lines = proc.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("mannsim: error: "), (args, proc.stderr)
        assert "Traceback" not in proc.stderr


def test_invalid_machines_refused_at_construction():
    from mannsim.machine import Machine
    good = dict(states=["A", "H"], symbols=["0", "1"], blank="0", start="A",
                transitions={("A", "0"): Transition("1", 1, "H")}, halt_states=["H"])
    Machine(**good)
    for change, words in [
        (dict(start="X"), "start state"),
        (dict(blank="2"), "blank"),
        (dict(transitions={("A", "0"): Transition("2", 1, "H")}), "unknown symbol"),
        (dict(transitions={("A", "0"): Transition("1", 1, "Q")}), "unknown state"),
        (dict(transitions={("A", "0"): Transition("1", 5, "H")}), "invalid move"),
        (dict(tape=["0", "7"]), "unknown symbol"),
        (dict(states=["A", "A"]), "twice"),
        (dict(symbols=["0", "1 2"]), "invalid name"),
    ]:
        with pytest.raises(MachineError, match=words):
            Machine(**{**good, **change})
    m = Machine(**good)
    with pytest.raises(AttributeError):
        m.start = "H"


def test_standard_format_on_the_command_line():
    proc = run_cli(["run", "1RB1LB_1LA1RZ", "--json"], check=True)
    import json
    out = json.loads(proc.stdout)
    assert out["steps"] == 6 and out["tape"] == "1111" and out["halted"] and out["final_state"] == "Z"
    assert out["backend"] == "reference"


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=st.text(max_size=300), fmt=st.sampled_from(FORMAT_NAMES))
def test_parsers_never_raise_anything_but_a_clear_error(text, fmt):
    try:
        parse(text, fmt, "fuzz")
    except MannsimError as e:
        assert "\n" not in str(e)


TOKENS = st.sampled_from(["A", "B", "0", "1", "_", "*", "R", "L", "l", "r", "S", "halt", ":",
                          "start:", "tape:", "head:", "blank:", "halt:", ";", "!", "\n", " ", "[",
                          "]", "{", "}", "write:", "table:", "start state:", "-", "'", "1RB", "---",
                          "synonyms:", "source code: |", "<<:", "&a", "*a", "yes", "N", ",", "~",
                          "1.0", "\t", "input:"])


@settings(max_examples=300, deadline=None)
@given(tokens=st.lists(TOKENS, max_size=60), fmt=st.sampled_from(FORMAT_NAMES))
def test_parsers_on_near_valid_text(tokens, fmt):
    text = " ".join(tokens)
    try:
        m = parse(text, fmt, "fuzz")
    except MannsimError as e:
        assert "\n" not in str(e)
    else:
        run(m, 100)  # whatever parses also runs
