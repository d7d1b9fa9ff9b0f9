"""turingmachine.io compatibility: programs written for the site read as the site reads them.

The site's semantics (its parser.js, its state diagram's comma split, js-yaml 3.6) were checked
against the site's own code; the step counts below are the ones the site's simulator gives.
"""
import json
import textwrap

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mannsim.errors import MachineError
from mannsim.machine import L, R, Transition, dump, parse, run

from conftest import DATA
from helpers import random_machine, run_cli

TMIO = DATA / "tmio"


def yaml(text):
    return parse(textwrap.dedent(text), "yaml", "m.yaml")


def refused(text, line, *words):
    """``text`` is refused with one line naming ``m.yaml:LINE`` and containing ``words``."""
    with pytest.raises(MachineError) as info:
        yaml(text)
    message = str(info.value)
    assert message.startswith(f"m.yaml:{line}: "), message
    assert "\n" not in message
    for w in words:
        assert w in message, message
    return message


def cli_run(tmp_path, source, tape=None):
    """``mannsim run FILE --json`` in process, the file's ``input:`` replaced by ``tape``."""
    text = source.read_text()
    if tape is not None:
        text = "\n".join(f"input: '{tape}'" if line.startswith("input:") else line
                         for line in text.splitlines()) + "\n"
    path = tmp_path / source.name
    path.write_text(text)
    proc = run_cli(["run", str(path), "--json"], check=True)
    return json.loads(proc.stdout)


# -- the two synonym examples, through the command line -----------------------------------

#: (input, final state, steps): the steps are the site's own simulator's.
PALINDROMES = [("", "accepted", 2), ("0", "accepted", 5), ("11", "accepted", 9),
               ("10", "rejected", 7), ("101", "accepted", 14), ("1001", "accepted", 20),
               ("10101", "accepted", 27), ("10011", "rejected", 22), ("110011", "accepted", 35)]
POWERS = [("", "no", 1), ("a", "yes", 2), ("aa", "yes", 9), ("aaa", "no", 4),
          ("aaaa", "yes", 25), ("aaaaa", "no", 6), ("aaaaaa", "no", 21), ("a" * 8, "yes", 63),
          ("a" * 12, "no", 65), ("a" * 16, "yes", 153)]


@pytest.mark.parametrize("tape,state,steps", PALINDROMES)
def test_palindrome_with_synonyms_runs_as_on_the_site(tmp_path, tape, state, steps):
    out = cli_run(tmp_path, TMIO / "palindrome.yaml", tape)
    assert (out["final_state"], out["steps"], out["halted"]) == (state, steps, True)
    assert out["final_state"] == ("accepted" if tape == tape[::-1] else "rejected")


@pytest.mark.parametrize("tape,state,steps", POWERS)
def test_powers_of_two_with_synonyms_runs_as_on_the_site(tmp_path, tape, state, steps):
    out = cli_run(tmp_path, TMIO / "powers_of_two.yaml", tape)
    assert (out["final_state"], out["steps"], out["halted"]) == (state, steps, True)
    n = len(tape)
    assert (state == "yes") == (n > 0 and n & (n - 1) == 0)


def test_the_examples_as_written(tmp_path):
    out = cli_run(tmp_path, TMIO / "palindrome.yaml")  # input: '10101'
    assert (out["final_state"], out["steps"], out["tape"]) == ("accepted", 27, "")
    out = cli_run(tmp_path, TMIO / "powers_of_two.yaml")  # input: aaaa (unquoted)
    assert (out["final_state"], out["steps"], out["tape"]) == ("yes", 25, "axxx")


def test_a_site_document_is_read_from_its_source_code():
    m = parse((TMIO / "palindrome_document.yaml").read_text(), "yaml", "d.yaml")
    assert m.name == "palindromes (document)"
    assert m.tape == tuple("0110") and m.start == "toEnd"
    assert m == parse((TMIO / "palindrome.yaml").read_text(), "yaml").replace(tape=list("0110"))
    r = run(m)
    assert (r.state, r.steps) == ("accepted", 20)  # the site's count
    proc = run_cli(["run", str(TMIO / "palindrome_document.yaml"), "--json"], check=True)
    assert json.loads(proc.stdout)["final_state"] == "accepted"


# -- each construct ------------------------------------------------------------------------

HEAD = """\
blank: ' '
start state: a
input: 'xy'
table:
"""


def rows(table, **extra):
    """A program whose table is ``table`` (indented under ``table:``)."""
    text = HEAD + textwrap.indent(textwrap.dedent(table), "  ")
    for k, v in extra.items():
        text = f"{k.replace('_', ' ')}: {v}\n" + text
    return parse(text, "yaml", "m.yaml")


def test_synonyms_stand_for_instructions_wherever_one_goes():
    m = rows("""\
        a: {x: right, y: mark, ' ': stop}
        b:
    """, synonyms="{right: R, mark: {write: z, L: b}, stop: {R: b}}")
    assert m.transition("a", "x") == Transition("x", R, "a")  # a bare direction, per use
    assert m.transition("a", "y") == Transition("z", L, "b")
    assert m.transition("a", "_") == Transition("_", R, "b")


def test_a_synonym_keeps_the_symbol_and_state_of_where_it_is_used():
    m = rows("""\
        a: {[x, y]: keep}
        b: {[x, y]: keep}
    """, synonyms="{keep: {L}}")
    assert m.transition("a", "y") == Transition("y", L, "a")
    assert m.transition("b", "x") == Transition("x", L, "b")


def test_a_synonym_named_L_or_R_never_overrides_the_direction():
    m = rows("a: {x: L}\nb:\n", synonyms="{L: {R: b}}")
    assert m.transition("a", "x") == Transition("x", L, "a")


def test_unused_synonyms_add_no_symbols():
    m = rows("a: {x: R}\n", synonyms="{never: {write: q, R}}")
    assert "q" not in m.symbols
    assert parse(dump(m, "yaml"), "yaml") == m


def test_instruction_forms():
    m = rows("""\
        a:
          x: R                       # move, same symbol, same state
          y: {write: z, L: b}        # all three
          z: {R: b}                  # keep the symbol
          ' ': {write: y, R}         # keep the state
          q: {L: }                   # an empty state: keep it
        b: {x: L}
    """)
    assert m.transition("a", "x") == Transition("x", R, "a")
    assert m.transition("a", "y") == Transition("z", L, "b")
    assert m.transition("a", "z") == Transition("z", R, "b")
    assert m.transition("a", "_") == Transition("y", R, "a")
    assert m.transition("a", "q") == Transition("q", L, "a")
    assert m.transition("b", "x") == Transition("x", L, "b")


def test_keys_that_list_symbols():
    m = rows("""\
        a:
          [x, y]: R                  # a YAML list
          '0,1': L                   # text with commas, as the site splits it
          [',', z]: {R: b}           # a comma symbol
          [[2, 3], 4]: {L: b}        # a nested list reads as 2,3,4
          [5, 5]: R                  # one row saying a symbol twice
        b:
    """)
    for s in "xy":
        assert m.transition("a", s) == Transition(s, R, "a")
    for s in "01":
        assert m.transition("a", s) == Transition(s, L, "a")
    assert m.transition("a", ",").next == "b" and m.transition("a", "z").next == "b"
    assert {s for s in "234" if m.transition("a", s).move == L} == set("234")
    assert m.transition("a", "5") == Transition("5", R, "a")


def test_scalars_read_as_the_site_reads_them():
    m = yaml("""\
        blank: 0
        start state: yes
        input: 0110
        table:
          yes: {1.0: {write: =, R: no}, 7: {write: 0x1, R: on}, 2: {write: t, R}}
          no:
          on: {}
    """)
    # js-yaml reads yes/no/on as text and 0110 as octal 72; 1.0 is the number 1, printed "1"
    assert m.states == ("yes", "no", "on") and m.start == "yes"
    assert m.tape == ("7", "2") and m.blank == "0"
    assert m.transition("yes", "1") == Transition("=", R, "no")
    assert m.transition("yes", "7") == Transition("1", R, "on")
    assert set(m.halt_states) == {"no", "on"}


@pytest.mark.parametrize("value,tape", [
    ("'1011'", "1011"), ("1011", "1011"), ("0x1F", "31"), ("1_000", "1000"), ("1.50", "1.5"),
    ("12345678901234567890", "12345678901234567000"), ("1:30", "90"), ("true", "true"),
    ("yes", "yes"), ("0", ""), ("0.0", ""), ("false", ""), ("''", ""), ("~", ""), ("", ""),
])
def test_input_is_javascript_text_and_false_is_an_empty_tape(value, tape):
    text = f"input: {value}\nblank: ' '\nstart state: a\ntable:\n  a:\n"
    assert "".join(parse(text, "yaml").tape) == tape


@pytest.mark.parametrize("value,blank", [("' '", "_"), ("0", "0"), ("'0'", "0"), ("1.0", "1"),
                                         ("x", "x"), ("'#'", "#")])
def test_blank_is_one_character(value, blank):
    assert parse(f"blank: {value}\nstart state: a\ntable:\n  a:\n", "yaml").blank == blank


def test_halting_states_are_null_or_empty_and_halt_after_the_step_into_them():
    m = rows("a: {x: {R: b}, y: {R: c}}\nb:\nc: {}\n")
    assert m.halt_states == {"b", "c"}
    r = run(m)
    assert (r.state, r.steps, r.halted) == ("b", 1, True)


def test_unknown_top_level_keys_are_ignored_as_on_the_site():
    m = rows("a:\n", name="'named'", positions="{a: {x: 1, y: 2}}", foo="[1, 2]")
    assert m.name == "named" and m.states == ("a",)


def test_merge_keys_and_aliases():
    m = rows("""\
        a: &scan {x: R, y: R, ' ': {L: b}}
        b:
          <<: *scan
          y: {write: x, L}          # a key after the merge overrides it
        c: {x: &go {R: a}, y: *go}
    """)
    assert m.transition("b", "x") == Transition("x", R, "b")
    assert m.transition("b", "y") == Transition("x", L, "b")
    assert m.transition("b", "_") == Transition("_", L, "b")
    assert m.transition("c", "y") == Transition("y", R, "a")


def test_tabs_between_tokens_are_whitespace():
    m = parse("blank: ' '\nstart state: a\ntable:\n  a:\n    x:\tR\t# note\n\t\n"
              "    y: {R:\tb}\n  b:\n", "yaml")
    assert m.transition("a", "x") == Transition("x", R, "a")
    assert m.transition("a", "y") == Transition("y", R, "b")


def test_spaces_in_state_names_become_underscores():
    m = yaml("""\
        blank: ' '
        start state: scan right
        table:
          scan right: {x: {R: all done}}
          all done:
    """)
    assert m.states == ("scan_right", "all_done") and m.start == "scan_right"
    assert m.transition("scan_right", "x").next == "all_done"


# -- what the site refuses, and what mannsim refuses beyond it: each names its line ----------

BAD = [
    # the site refuses these too
    ("blank: ' '\nstart state: a\ntable:\n  a: {x: accept}\n", 4, ["invalid instruction 'accept'"]),
    ("blank: ' '\nstart state: a\nsynonyms:\n  go: {R: b}\n  go2: go\ntable:\n  a:\n  b:\n", 5,
     ["synonym 'go2'", "cannot be defined using another synonym"]),
    ("blank: ' '\nstart state: a\nsynonyms:\n  go: {R: nowhere}\ntable:\n  a:\n", 4,
     ["synonym 'go'", "'nowhere' is not in the table"]),
    ("blank: ' '\nstart state: a\nsynonyms:\n  go:\ntable:\n  a:\n", 4, ["missing instruction"]),
    ("blank: ' '\nstart state: a\nsynonyms: go\ntable:\n  a:\n", 3, ["'synonyms' must map"]),
    ("blank: ' '\nstart state: a\ntable:\n  a: {x: N}\n", 4, ["no stay move"]),
    ("blank: ' '\nstart state: a\ntable:\n  a: {x: 1}\n", 4, ["invalid instruction '1'"]),
    ("blank: ' '\nstart state: a\ntable:\n  a:\n    x:\n", 5, ["missing instruction"]),
    ("blank: ' '\nstart state: a\ntable:\n  a:\n    x: {R: a, move: L}\n", 5, ["unknown key 'move'"]),
    ("blank: ' '\nstart state: a\ntable:\n  a:\n    x: {write: y}\n", 5, ["exactly one of L or R"]),
    ("blank: ' '\nstart state: a\ntable:\n  a:\n    x: {write: yy, R}\n", 5, ["one character"]),
    ("blank: ' '\nstart state: a\ntable:\n  a:\n    x: {write: , R}\n", 5, ["one character"]),
    ("blank: ' '\nstart state: a\ntable:\n  a:\n    x: {write: true, R}\n", 5, ["'true'"]),
    ("blank: ' '\nstart state: a\ntable:\n  a:\n    x: {write: \"\\U0001F600\", R}\n", 5,
     ["one character"]),  # two UTF-16 units: the site's length is 2
    ("blank: ' '\nstart state: a\ntable:\n  a: go\n", 4, ["must map symbols to instructions"]),
    ("blank: ' '\nstart state: a\ntable: [a]\n", 3, ["'table' must map states"]),
    ("blank: ab\nstart state: a\ntable:\n  a:\n", 1, ["one character"]),
    ("blank: ''\nstart state: a\ntable:\n  a:\n", 1, ["one character"]),
    ("blank: true\nstart state: a\ntable:\n  a:\n", 1, ["one character", "'true'"]),
    ("blank:\nstart state: a\ntable:\n  a:\n", 1, ["'blank' is empty"]),
    ("blank: ' '\nstart state:\ntable:\n  a:\n", 2, ["'start state' is empty"]),
    ("blank: ' '\ntable:\n  a:\n", 1, ["missing key 'start state'"]),
    ("\n\nblank: ' '\nstart state: q\ntable:\n  a:\n", 4, ["start state 'q' is not in the table"]),
    ("blank: ' '\nstart state: a\ntable:\n  a:\n    x: R\n    x: L\n", 6, ["duplicated mapping key"]),
    ("blank: ' '\nstart state: a\ntable:\n  a:\n    1: R\n    1.0: L\n", 6, ["duplicated mapping key"]),
    ("blank: ' '\nstart state: a\ntable:\n  a:\n  a:\n", 5, ["duplicated mapping key 'a'"]),
    ("blank: ' '\nblank: '0'\nstart state: a\ntable:\n  a:\n", 2, ["duplicated mapping key"]),
    ("blank: ' '\nstart state: a\ntable:\n  a:\n    x: !!binary aGk=\n", 5, ["unsupported YAML tag"]),
    ("blank: ' '\nstart state: a\ntable:\n  a:\n    x: {L: b}} R\n", 5, ["invalid YAML"]),
    # the site accepts these only by accident; mannsim refuses them
    ("blank: ' '\nstart state: a\ntable:\n  a:\n    [x, y]: R\n    y: L\n", 6,
     ["two instructions for 'y' (lines 5 and 6)"]),
    ("blank: ' '\nstart state: a\ntable:\n  a:\n    xy: R\n", 5, ["one character", "never read"]),
    ("blank: ' '\nstart state: a\ntable:\n  a:\n    'x,': R\n", 5, ["one character", "''"]),
    ("blank: ' '\nstart state: a\ntable:\n  a:\n    ~: R\n", 5, ["'null'", "never read"]),
    ("blank: ' '\nstart state: a\ninput: [1, 0]\ntable:\n  a:\n", 3, ["'input' must be text"]),
    ("blank: ' '\nstart state: a\ntable:\n  a: [R, L]\n", 4, ["must map symbols"]),
    ("blank: ' '\nstart state: a\ntable:\n  a:\n    \"\\t\": R\n", 5, ["cannot be a mannsim symbol"]),
    ("blank: '_'\nstart state: a\ninput: 'x'\ntable:\n  a:\n    ' ': R\n", 6, ["both ' ' and '_'"]),
    ("blank: ' '\nstart state: a b\ntable:\n  a b:\n  a_b:\n", 5, ["both 'a_b'"]),
    ("blank: ' '\nstart state: a\ntable:\n  a:\n  '':\n", 5, ["a state name is 1 to"]),
]


@pytest.mark.parametrize("text,line,words", BAD)
def test_refused_with_file_and_line(text, line, words):
    refused(text, line, *words)


def test_errors_inside_a_document_name_the_files_lines(tmp_path):
    text = (TMIO / "palindrome_document.yaml").read_text()
    bad = text.replace("1: no\n", "1: nope\n", 1)
    line = bad.splitlines().index("      1: nope") + 1
    with pytest.raises(MachineError) as info:
        parse(bad, "yaml", "d.yaml")
    assert str(info.value).startswith(f"d.yaml:{line}: invalid instruction 'nope'")
    bad = text.replace("  blank: ' '\n", "  blank: ' '\n  blank: ' '\n")
    line = bad.splitlines().index("  blank: ' '") + 2
    with pytest.raises(MachineError, match=f"^d.yaml:{line}: invalid YAML: duplicated"):
        parse(bad, "yaml", "d.yaml")
    # a quoted 'source code' has no line-for-line layout: the error names the key's line
    with pytest.raises(MachineError) as info:
        parse("name: x\nsource code: \"blank: ' '\\nstart state: q\\ntable: {a: }\"\n", "yaml", "d")
    assert str(info.value) == "d:2: start state 'q' is not in the table (line 2 of 'source code')"
    with pytest.raises(MachineError, match="^d:3: 'source code' must be text"):
        parse("name: x\n\nsource code: [1]\n", "yaml", "d")
    path = tmp_path / "doc.yaml"
    path.write_text(text.replace("start state: toEnd", "start state: nowhere"))
    proc = run_cli(["run", str(path), "--json"])
    assert proc.returncode == 2
    assert proc.stderr.strip() == (f"mannsim: error: {path}:7: start state 'nowhere' is not in "
                                   "the table")


# -- bombs stay refused through the new paths --------------------------------------------

LAUGHS = ["a: &a [x,x,x,x,x,x,x,x,x]"] + [
    f"{chr(98 + k)}: &{chr(98 + k)} [" + ",".join([f"*{chr(97 + k)}"] * 9) + "]" for k in range(8)]


def test_an_alias_bomb_in_synonyms_is_refused():
    text = ("blank: '0'\nstart state: A\nsynonyms:\n" + "\n".join("  " + x for x in LAUGHS)
            + "\ntable: {A: {'0': R}}\n")
    with pytest.raises(MachineError, match="aliases are expanded"):
        parse(text, "yaml", "b.yaml")


def test_an_alias_bomb_inside_a_documents_source_code_is_refused():
    inner = "blank: '0'\nstart state: A\n" + "\n".join(LAUGHS) + "\ntable: {A: {'0': R}}\n"
    text = "name: bomb\nsource code: |\n" + textwrap.indent(inner, "  ")
    with pytest.raises(MachineError, match="^b.yaml:2: YAML too large.*aliases are expanded"):
        parse(text, "yaml", "b.yaml")


def test_list_keys_cannot_multiply_a_long_string():
    big = "x" * 60000
    text = ("blank: '0'\nstart state: A\ns: &s '" + big + "'\ntable:\n  A:\n"
            + "".join(f"    [*s, {i}]: R\n" for i in range(40)))
    with pytest.raises(MachineError, match="list keys expand to more than"):
        parse(text, "yaml", "b.yaml")
    for field in ("input: [*s, *s, *s]", "x: {write: [*s, *s], R}", "x: {R: [*s, *s]}"):
        text = "blank: '0'\nstart state: A\ns: &s '" + big + "'\n"
        text += (field + "\ntable:\n  A:\n") if field.startswith("input") else (
            "table:\n  A:\n    " + field + "\n")
        with pytest.raises(MachineError) as info:
            parse(text, "yaml", "b.yaml")
        assert len(str(info.value)) < 300


# -- round trips ---------------------------------------------------------------------------

def halting_marked(m):
    """``m`` as the format can say it: rule-less states halting (either way they halt), and
    only the symbols it uses (a YAML program has no list of symbols)."""
    ruled = {q for q, _ in m.transitions}
    used = {m.blank, *m.tape} | {s for _, s in m.transitions} | {
        t.write for t in m.transitions.values()}
    return m.replace(halt_states=[q for q in m.states if q not in ruled],
                     symbols=[s for s in m.symbols if s in used])


#: Names that YAML or the site would read as something else unless written with care.
TRICKY = ["yes", "no", "on", "null", "~", "true", "1.0", "0x1", "010", "=", ",", "<<", "L", "R",
          "N", "write", "'", '"', "#", "&", "*", "!", "|", ">", "%", "@", "`", "-", "?", ":",
          "[", "{", "1:30", "state,with,commas", "tab\u00e9", "\u00e9"]


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 2**32), names=st.lists(st.sampled_from(TRICKY), unique=True,
                                                    min_size=3, max_size=8))
def test_dump_then_parse_is_the_same_machine_even_with_tricky_names(seed, names):
    import random
    rng = random.Random(seed)
    m = random_machine(rng, stay=False).replace(head=0)
    one_char = [n for n in names if len(n) == 1]
    m = m.rename_states({q: names[i % len(names)] + str(i) * (i >= len(names))
                         for i, q in enumerate(m.states)})
    sym_names = [s for s in one_char if s not in m.symbols][:len(m.symbols)]
    m = m.rename_symbols(dict(zip(m.symbols, sym_names)))
    m = halting_marked(m)
    text = dump(m, "yaml")
    again = parse(text, "yaml")
    assert again == m
    text = dump(again, "yaml")  # the symbol order is the file's from here on: a fixed point
    assert dump(parse(text, "yaml"), "yaml") == text


@settings(max_examples=100, deadline=None)
@given(seed=st.integers(0, 2**32))
def test_synonyms_and_list_keys_fold_a_table_without_changing_it(seed):
    """Any machine, written with one synonym per distinct instruction and one list key per
    (state, instruction), is the machine the plain dump describes."""
    import random
    rng = random.Random(seed)
    m = halting_marked(random_machine(rng, stay=False).replace(head=0))
    plain = parse(dump(m, "yaml"), "yaml")
    assert plain == m
    names: dict[tuple, str] = {}
    lines = [f"blank: '{m.blank}'", f"start state: '{m.start}'"]
    if m.tape:
        lines.append(f"input: '{''.join(m.tape)}'")
    table = ["table:"]
    for q in m.states:
        groups: dict[tuple, list[str]] = {}
        for s in m.symbols:
            t = m.transition(q, s)
            if t is not None:
                key = (t.write if t.write != s else None, t.move, t.next if t.next != q else None)
                groups.setdefault(key, []).append(s)
        table.append(f"  '{q}':" + ("" if groups else " {}" * rng.randint(0, 1)))
        for key, syms in groups.items():
            name = names.setdefault(key, f"do{len(names)}")
            table.append(f"    [{', '.join(repr(s) for s in syms)}]: {name}")
    syn = ["synonyms:"]
    for (write, move, nxt), name in names.items():
        d = "L" if move < 0 else "R"
        if write is None and nxt is None and rng.random() < 0.5:
            syn.append(f"  {name}: {d}")
        else:
            parts = ([f"write: '{write}'"] if write is not None else []) + [
                f"{d}: '{nxt}'" if nxt is not None else d]
            syn.append(f"  {name}: {{{', '.join(parts)}}}")
    folded = parse("\n".join(lines + (syn if names else []) + table) + "\n", "yaml")
    assert folded == plain
    ra, rb = run(folded, 2000), run(m, 2000)
    assert (ra.steps, ra.state, ra.tape) == (rb.steps, rb.state, rb.tape)
