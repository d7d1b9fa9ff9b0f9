"""Differential test against an independent implementation: automata-lib's DTM."""
import random

from automata.base.exceptions import RejectionException
from automata.tm.dtm import DTM

from mannsim.machine import run

from helpers import random_machine

MOVES = {-1: "L", 0: "N", 1: "R"}


def to_dtm(m):
    transitions = {}
    for (q, s), t in m.transitions.items():
        transitions.setdefault(q, {})[s] = (t.next, t.write, MOVES[t.move])
    return DTM(states=set(m.states), input_symbols=set(m.symbols) - {m.blank},
               tape_symbols=set(m.symbols), transitions=transitions, initial_state=m.start,
               blank_symbol=m.blank, final_states=set(m.halt_states))


def dtm_run(m, limit):
    """Run automata-lib stepwise; return (steps, halted, state, stripped tape, head offset)."""
    configs = to_dtm(m).read_input_stepwise("")
    last, steps, halted = None, -1, False
    try:
        for config in configs:
            last, steps = config, steps + 1
            if config.state in m.halt_states:
                halted = True
                break
            if steps == limit:
                break
    except RejectionException:
        halted = True
    tape = last.tape
    return steps, halted, last.state, normalise(list(tape.tape), tape.current_position, m.blank)


def normalise(cells, head, blank):
    nonblank = [i for i, c in enumerate(cells) if c != blank]
    if not nonblank:
        return "", 0
    lo, hi = nonblank[0], nonblank[-1]
    return "".join(cells[lo:hi + 1]), head - lo


def test_random_machines_agree_with_automata_lib():
    rng = random.Random(20261126)
    halted_count = compared = 0
    while compared < 300:
        m = random_machine(rng, tape=False, always_halt=True)
        if not any(q == m.start for q, _ in m.transitions):
            continue  # automata-lib refuses a start state without transitions
        compared += 1
        limit = 200
        ours = run(m, limit)
        steps, halted, state, (tape, rel_head) = dtm_run(m, limit)
        lo = min(ours.cells) if ours.cells else 0
        assert ours.steps == steps
        assert ours.halted == halted
        assert ours.state == state
        assert ours.tape.strip(m.blank) == tape
        if ours.cells:
            assert ours.head - lo == rel_head
        halted_count += halted
    assert 30 < halted_count < 290  # both halting and non-halting machines were compared
