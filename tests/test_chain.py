"""Turing machine -> clockwise machine -> bi-tag system -> U15,2 -> back: the whole chain."""
import json
import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mannsim.machine import Machine, load, run
from mannsim.machine.model import Transition
from mannsim.utm import compile_bitag, decode
from mannsim.utm import run as run_bitag
from mannsim.utm.fromtm import Decoded, compile_tm

from conftest import PROGRAMS
from helpers import random_machine, run_cli


def expected(machine: Machine, result):
    """The reference result in the decoder's terms: trimmed tape, head offset, state."""
    span = sorted(result.cells) + [result.head]
    lo, hi = min(span), max(span)
    tape = "\x00".join(result.cells.get(k, machine.blank) for k in range(lo, hi + 1))
    return tape, result.head - lo


def check_against_reference(machine: Machine, max_machine_steps: int = 100):
    compiled = compile_tm(machine)
    ref = run(machine, max_machine_steps)
    chain = compiled.run(10**6 if ref.halted else 20_000)
    if ref.halted:
        assert chain.halted, "the bi-tag system did not halt"
        assert chain.m_steps == ref.steps
        decoded = compiled.decode(chain.word)
        assert decoded.trimmed(machine.blank) == expected(machine, ref)
        assert decoded.state == ref.state
    elif chain.halted:
        # halting after more machine steps than the reference was given: check that count
        longer = run(machine, chain.m_steps + 1)
        assert longer.halted and longer.steps == chain.m_steps
    return compiled, chain, ref


def test_random_machines_agree_with_the_reference_machine():
    rng = random.Random(20261126)
    halted = 0
    for _ in range(500):
        _, _, ref = check_against_reference(random_machine(rng))
        halted += ref.halted
    assert halted > 200  # the sample is not all loops


@settings(max_examples=100, deadline=None)
@given(st.integers(min_value=0, max_value=2**32))
def test_property_any_seed(seed):
    check_against_reference(random_machine(random.Random(seed)))


def test_a_machine_that_loops_in_place_never_halts():
    # q0 on '_' stays on the same cell for ever: the window loop is detected at compile time
    m = Machine(states=["q0", "H"], symbols=["_", "1"], blank="_", start="q0",
                transitions={("q0", "_"): Transition("_", 0, "q0"),
                             ("q0", "1"): Transition("1", 1, "H")}, halt_states=["H"])
    compiled = compile_tm(m)
    assert not compiled.run(10**5).halted
    assert "loop" in compiled.system.e


def test_tape_grows_at_both_ends():
    # write 1s leftwards over 4 cells, run back right over them, write xxx, halt
    rows = {("a", "_"): ("1", -1, "b"), ("b", "_"): ("1", -1, "c"), ("c", "_"): ("1", -1, "d"),
            ("d", "_"): ("1", 1, "e"), ("e", "1"): ("1", 1, "e"), ("e", "_"): ("x", 1, "f"),
            ("f", "_"): ("x", 1, "g"), ("g", "_"): ("x", 0, "H")}
    m = Machine(states=["a", "b", "c", "d", "e", "f", "g", "H"], symbols=["_", "1", "x"],
                blank="_", start="a", halt_states=["H"],
                transitions={k: Transition(*v) for k, v in rows.items()})
    compiled, chain, ref = check_against_reference(m)
    assert ref.halted and chain.halted
    assert compiled.decode(chain.word).trimmed("_")[0] == "\x00".join("1111xxx")


def test_busy_beavers_through_the_bitag_system():
    for name, steps in (("bb2", 6), ("bb3", 21), ("bb4", 107)):
        compiled, chain, ref = check_against_reference(load(str(PROGRAMS / f"{name}.tm")), 1000)
        assert ref.steps == steps and chain.m_steps == steps


@pytest.mark.parametrize("seed", range(6))
def test_small_random_machines_through_u15_2(seed):
    rng = random.Random(1000 + seed)
    while True:  # a small halting machine: a few steps, so U15,2 needs at most ~10^7 steps
        m = random_machine(rng, max_states=2, max_symbols=2, stay=False)
        ref = run(m, 20)
        if ref.halted and ref.steps <= 3 and len(compile_tm(m).system.a) <= 5:
            break
    compiled = compile_tm(m)
    u15 = run(compile_bitag(compiled.system), 5 * 10**7)
    assert u15.halted
    word = decode(compiled.system, u15.cells)
    assert word == run_bitag(compiled.system).word
    got = compiled.decode(word)
    assert got.trimmed(m.blank) == expected(m, ref) and got.state == ref.state


def test_compile_a_machine_to_u15_2_and_decode(tmp_path):
    out = tmp_path / "bb2_u15.tm"
    proc = run_cli(["compile", str(PROGRAMS / "bb2.tm"),
                    "--target", "u15_2", "-o", str(out)])
    assert proc.returncode == 0, proc.stderr
    assert "decode the result with" in out.read_text()
    proc = run_cli(["decode", str(PROGRAMS / "bb2.tm"),
                    "--program", str(out), "--json"])
    report = json.loads(proc.stdout)
    assert proc.returncode == 0 and report["match"]
    assert report["tape"] == "1111" and report["state"] == "Z" and report["machine_steps"] == 6
    assert report["u15_steps"] == COMPILED["bb2"][3]


def test_compile_to_bitag_and_errors(tmp_path):
    out = tmp_path / "succ.bitag"
    src = str(PROGRAMS / "compiled" / "unary_successor.tm")
    run_cli(["compile", src, "--target", "bitag",
             "-o", str(out)], check=True, text=False)
    from mannsim.utm import load as load_bitag
    system = load_bitag(str(out))
    want = compile_tm(load(src)).system
    assert (system.a, system.e, system.word, system.productions) == (
        want.a, want.e, want.word, want.productions)
    assert run_bitag(system).halted
    bad = tmp_path / "bad.tm"
    bad.write_text("start: A\nA 0 1 R\n")
    proc = run_cli(["compile", str(bad), "-o",
                    str(tmp_path / "x.tm")])
    assert proc.returncode == 2 and proc.stderr.count("\n") == 1 and str(bad) in proc.stderr
    assert "Traceback" not in proc.stderr


COMPILED = {  # example: (decoded tape with the head cell, head offset, state, U15,2 steps)
    # before the cheaper compilation: 2,314,367 / 42,795,475 / 59,537,481 / 42,927,933
    "unary_successor": ("1110", 3, "H", 2_142_983),
    "binary_increment": ("1100", 2, "H", 1_209_007),
    "parity": ("_", 0, "O", 3_889_239),
    "bb2": ("1111", 2, "Z", 2_431_913),
}


def source_of(name):
    return PROGRAMS / (f"{name}.tm" if name == "bb2" else f"compiled/{name}.tm")


@pytest.mark.parametrize("name", sorted(COMPILED))
def test_shipped_compiled_examples_are_up_to_date(name):
    source = load(str(source_of(name)))
    shipped = load(str(PROGRAMS / "compiled" / f"{name}.u15_2.tm"))
    assert shipped.replace(name=None) == compile_bitag(compile_tm(source).system).replace(name=None)


@pytest.mark.parametrize("name", sorted(COMPILED))
def test_compiled_examples_run_inside_u15_2(name):
    tape, head, state, steps = COMPILED[name]
    source = load(str(source_of(name)))
    compiled = compile_tm(source)
    u15 = run(load(str(PROGRAMS / "compiled" / f"{name}.u15_2.tm")), 10**8)
    assert u15.halted and u15.steps == steps
    got = compiled.decode(decode(compiled.system, u15.cells))
    assert got.trimmed(source.blank) == ("\x00".join(tape), head) and got.state == state
    assert got.trimmed(source.blank) == Decoded.of_result(source, run(source)).trimmed(source.blank)


def machine_of(rows, halts=("H",), tape=(), head=0, blank="_"):
    states = sorted({q for q, _ in rows} | {t[2] for t in rows.values()} | set(halts))
    symbols = sorted({s for _, s in rows} | {t[0] for t in rows.values()} | {blank} | set(tape))
    return Machine(states=states, symbols=symbols, blank=blank, start=sorted(rows)[0][0],
                   transitions={k: Transition(*v) for k, v in rows.items()},
                   halt_states=list(halts), tape=list(tape), head=head)


def test_a_left_going_machine_is_compiled_mirrored_and_decoded_back():
    # writes 1 2 3 going left, then halts: the sweeper only goes right, so the mirror is cheaper
    m = machine_of({("a", "_"): ("1", -1, "b"), ("b", "_"): ("2", -1, "c"),
                    ("c", "_"): ("3", -1, "H")})
    compiled, chain, ref = check_against_reference(m)
    assert compiled.mirrored
    got = compiled.decode(chain.word)
    assert got.trimmed("_") == ("\x00".join("_321"), 0) and got.state == "H"
    # the same machine going right is compiled as it is
    right = machine_of({("a", "_"): ("1", 1, "b"), ("b", "_"): ("2", 1, "c"),
                        ("c", "_"): ("3", 1, "H")})
    assert not check_against_reference(right)[0].mirrored


def test_the_random_sample_takes_both_orientations_and_both_halt_encodings():
    rng = random.Random(20261129)
    seen = set()
    for _ in range(300):
        compiled, chain, ref = check_against_reference(random_machine(rng))
        if ref.halted:
            marked = any(".F" in a for a in compiled.system.a)
            seen.add((compiled.mirrored, marked))
    assert seen == {(False, False), (False, True), (True, False), (True, True)}


def test_one_halting_state_needs_no_f_mark_but_several_do():
    # bb2 halts in its one halting state on the last cell written: no F-marked symbol
    compiled, chain, _ = check_against_reference(load(str(PROGRAMS / "bb2.tm")), 100)
    assert not any(".F" in a for a in compiled.system.a)
    assert compiled.decode(chain.word).state == "Z"
    # the head in the middle of a window of three (a cell inserted before '#'): F-marked
    one = machine_of({("a", "_"): ("1", 1, "b"), ("b", "_"): ("1", 0, "H")})
    compiled, chain, _ = check_against_reference(one)
    assert any(".F" in a for a in compiled.system.a) and compiled.decode(chain.word).state == "H"
    # two halting states: the state must be written down, so the halt carries an F mark
    two = machine_of({("a", "_"): ("1", 1, "b"), ("b", "_"): ("1", 0, "Y")}, halts=("Y", "N"))
    compiled, chain, _ = check_against_reference(two)
    assert any(".F" in a for a in compiled.system.a) and compiled.decode(chain.word).state == "Y"
    # halting in a state that is not the halting state (no rule for the symbol read)
    stuck = machine_of({("a", "_"): ("1", 1, "b"), ("b", "1"): ("1", 0, "H")})
    compiled, chain, ref = check_against_reference(stuck)
    assert ref.state == "b" and compiled.decode(chain.word).state == "b"


def test_the_decoder_reads_any_rotation_of_the_final_word():
    m = load(str(PROGRAMS / "bb2.tm"))
    compiled = compile_tm(m)
    word = compiled.run().word
    want = compiled.decode(word)
    for k in range(1, len(word)):
        assert compiled.decode(word[k:] + word[:k]) == want
    # without eh the head cannot be placed (no F mark to read): the tape is still read
    no_eh = tuple(s for s in word if s != compiled.system.halting)
    assert compiled.decode(no_eh).head is None and compiled.decode(no_eh).cells == want.cells


def test_unused_branches_are_left_out_and_non_halting_runs_keep_the_closure():
    # state b's row for '1' is never taken from this tape: its symbols are not in the system
    m = machine_of({("a", "_"): ("1", 1, "b"), ("b", "_"): ("x", 0, "H"),
                    ("b", "1"): ("y", 1, "c"), ("c", "_"): ("z", -1, "b")})
    compiled, chain, _ = check_against_reference(m)
    assert not any(a.startswith(("c3", "c4")) for a in compiled.system.a)  # y and z
    loops = machine_of({("a", "_"): ("1", 1, "a")}, halts=())
    compiled = compile_tm(loops)
    assert not compiled.run(10**4).halted  # no profile: the whole reachable closure is kept


def test_the_cost_model_ranks_like_u15_2():
    from mannsim.utm.encode import cost_model, profile_run
    ratios = []
    for name in ("unary_successor", "binary_increment", "bb2"):
        system = compile_tm(load(str(source_of(name)))).system
        estimate = cost_model(system, profile_run(system, 10**5))
        ratios.append(COMPILED[name][3] / estimate)
    assert all(2.0 < r < 3.5 for r in ratios), ratios


def test_the_program_length_is_computed_exactly_and_large_systems_renumber_within_a_budget(
        monkeypatch):
    from mannsim.utm.bitag import Bitag
    from mannsim.utm.encode import program_cells, program_part
    from mannsim.utm.numbering import renumber
    rng = random.Random(11)
    for _ in range(300):
        q, h = rng.randint(1, 7), rng.randint(2, 7)
        a, e = [f"a{k}" for k in range(q)], [f"e{k}" for k in range(h)]
        prods = {(x, y): tuple(rng.choice(a) for _ in range(rng.randint(1, 2))) + (rng.choice(e),)
                 for x in e[:-1] for y in a}
        system = Bitag(tuple(a), tuple(e), prods, (e[0], a[0]))
        assert program_cells(system) == len(program_part(system))
    # a system of 60 A and 60 E symbols: the swap search stops after its budget of evaluations
    a, e = [f"a{k}" for k in range(60)], [f"e{k}" for k in range(60)]
    prods = {(x, y): (a[(i + j) % 60], e[(i + 1) % 59] if i < 58 else e[-1])
             for i, x in enumerate(e[:-1]) for j, y in enumerate(a)}
    big = Bitag(tuple(a), tuple(e), prods, (e[0], a[0]))
    import mannsim.utm.numbering as numbering
    calls = []
    real = numbering.cost_model
    monkeypatch.setattr(numbering, "cost_model", lambda s, p: calls.append(1) or real(s, p))
    renumber(big, prods, budget=500)
    assert len(calls) == 501  # the starting numbering, then the budget


def test_e_symbols_that_never_read_a_symbol_differently_are_merged():
    from mannsim.utm.numbering import merge_states
    # x and y read different symbols: one E symbol; z reads 'a' differently from x: kept apart
    prods = {("x", "a"): ("a", "y"), ("y", "b"): ("b", "x"), ("z", "a"): ("b", "h")}
    steps = {("x", "a"): 1, ("y", "b"): 1, ("z", "a"): 1}
    rep = merge_states(prods, steps, ["x", "y", "z"])
    assert rep == {"x": "x+y", "y": "x+y", "z": "z"}
    # the same production but a different number of machine steps: not the same row
    prods = {("x", "a"): ("a", "h"), ("y", "a"): ("a", "h")}
    assert merge_states(prods, {("x", "a"): 1, ("y", "a"): 2}, ["x", "y"]) == {"x": "x", "y": "y"}
    assert merge_states(prods, {("x", "a"): 1, ("y", "a"): 1}, ["x", "y"]) == {"x": "x+y",
                                                                              "y": "x+y"}
    # 300 states, each reading its own symbol: one group (the greedy pass stays quadratic)
    many = [f"s{k}" for k in range(300)]
    prods = {(e, f"a{k}"): (f"a{k}", many[(k + 1) % 300]) for k, e in enumerate(many)}
    assert len(set(merge_states(prods, {}, many).values())) == 1
    # bb2: four sweeper states read disjoint symbols pairwise, so two E symbols and eh remain
    system = compile_tm(load(str(PROGRAMS / "bb2.tm"))).system
    assert len(system.e) == 3 and all("+" in e for e in system.e[:-1])
