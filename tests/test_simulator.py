"""The reference simulator against published results and against itself."""
import random

import pytest

from mannsim.machine import Stepper, configurations, load, parse, run, run_naive

from conftest import PROGRAMS, reference_machines
from helpers import random_machine

BB = reference_machines()


def test_reference_table_is_read():
    assert len(BB) == 6


@pytest.mark.parametrize("std,steps,ones", BB, ids=[b[0] for b in BB])
def test_busy_beaver_triples(std, steps, ones):
    result = run(parse(std, "std"))
    assert result.halted
    assert result.steps == steps
    assert result.nonblank == ones
    assert result.state == "Z"


def test_u15_2_test_vector(u15):
    machine = load(str(PROGRAMS / "u15_2.tm"))
    assert "".join(machine.tape) == u15["program"] + u15["data"]
    assert machine.head == u15["head"] and machine.start == "A"
    result = run(machine)
    assert result.halted and result.steps == u15["steps"]
    assert result.state == "J" and result.head == 0
    assert result.cells.get(0) == "1"  # halts reading 1 in J
    last = max(result.cells)
    assert "".join(result.cells.get(c, "0") for c in range(294, last + 1)) == u15["final_from_294"]


TEACHING = {
    "binary_increment.tm": ("done", "1100"),
    "binary_addition.tm": ("done", "1000"),
    "palindrome.tm": ("halt-accept", ""),
    "unary_multiplication.tm": ("done", "11*111=111111"),
    "copy.tm": ("done", "111_111"),
}


@pytest.mark.parametrize("name", sorted(TEACHING))
def test_teaching_machines(name):
    state, tape = TEACHING[name]
    result = run(load(str(PROGRAMS / name)))
    assert result.halted
    assert (result.state, result.tape) == (state, tape)


def test_palindrome_rejects():
    m = load(str(PROGRAMS / "palindrome.tm")).replace(tape=list("10"))
    assert run(m).state == "halt-reject"
    m = load(str(PROGRAMS / "palindrome.tm")).replace(tape=list("10101"))
    assert run(m).state == "halt-accept"


def test_fast_run_equals_stepper_and_naive_loop():
    rng = random.Random(1234)
    for _ in range(400):
        m = random_machine(rng, always_halt=True)
        limit = rng.choice([0, 1, 7, 50, 300])
        fast, naive = run(m, limit), run_naive(m, limit)
        stepper = Stepper(m)
        while stepper.steps < limit and stepper.step() is not None:
            pass
        slow = stepper.result()
        for other in (naive, slow):
            assert (fast.steps, fast.halted, fast.state, fast.head, fast.cells) == (
                other.steps, other.halted, other.state, other.head, other.cells)


def test_sweeps_across_long_runs_in_both_directions():
    # a machine that sweeps a growing block back and forth: exercises tape growth on both sides
    m = parse("1RB1LA_0LA1RB", "std")  # never halts
    for limit in (10, 1000, 20000):
        fast, naive = run(m, limit), run_naive(m, limit)
        assert (fast.steps, fast.state, fast.head, fast.cells) == (
            naive.steps, naive.state, naive.head, naive.cells)


def test_configurations_generator():
    m = parse("1RB1LB_1LA1RZ", "std")
    configs = list(configurations(m))
    assert [c.step for c in configs] == list(range(7))
    assert configs[0].state == "A" and configs[-1].state == "Z"
    assert configs[-1].tape == run(m).cells
    assert len(list(configurations(m, max_steps=3))) == 4
