"""Turing machine -> clockwise machine -> bi-tag system (the chain below U15,2).

Neary & Woods reach U15,2 from an ordinary Turing machine in two steps: a *clockwise* Turing
machine (the head only ever moves one way round a circular tape, and a step may write one cell
or two, so the tape can grow), then a bi-tag system. Their proofs are not reproduced in the
reference data; this module is our own derivation of the same chain, checked by the tests
against the reference simulator on random machines.

**Bi-tag systems are clockwise machines.** Look at a bi-tag word as a ring. Its one E symbol is a
cursor with a finite state: an active step ``ej ai -> ak [al] em`` replaces the ring symbol just
after the cursor by one or two symbols and moves the cursor past them; the passive steps that
follow only rotate the queue until the cursor is in front again. So the E symbols are the states
of a clockwise machine whose "tape" is the ring of A symbols, and a bi-tag system is exactly a
clockwise machine that writes one or two cells per step. Halting is reaching ``eh``.

**The clockwise machine that simulates a Turing machine M** is :mod:`.sweeper`'s. The compiled
system, its direct run and the decoder of its words are :mod:`.compiled`'s.

The E and A symbols are found by closure from the initial state and word: only reachable
sweeper states and ring symbols are emitted.

**Making it cheap for U15,2.** U15,2 pays for a bi-tag step about (the encoded tape's length) x
(the unary index it counts down: 8jq for ej, 8i for ai), and the encoded program alone has
(h-1)q rules whose targets are 16mq cells long, so every symbol costs everywhere. So:

- a blank tape starts as the ring ``#`` alone, nothing pending and the head on a new blank cell
  before it: no blank symbol unless the run writes one;
- a machine with one halting state that halts with its head on the last item the sweeper writes
  gets no F mark: the decoder finds the head just before eh in the final word (the word is read
  from eh on, and eh follows the last item written); other halts are F-marked as above;
- when the direct run halts (within ``profile_steps``), only the productions it used are kept
  (the system is deterministic from its one start word: no other production ever fires), the
  rest are the shortest placeholder, and a symbol no used production writes is left out;
- sweeper states whose used rows never read the same A symbol differently become one E symbol
  (named by its members joined with ``+``): the run reads each merged symbol only where one of
  its members did, so it is the same run with fewer E symbols (:mod:`.numbering`);
- symbols are numbered by how often the run uses them, then pairs are swapped while
  :func:`~mannsim.utm.encode.cost_model` falls (:mod:`.numbering`);
- the machine is also compiled mirrored (left and right swapped, the tape reversed): the sweeper
  only goes one way, so a machine that mostly moves left is cheaper mirrored; the cheaper one by
  the cost model is kept and the decoder reverses the tape back.

bb2 went from 42,927,933 U15,2 steps (7 A, 8 E symbols) to 2,431,913 (4 A, 3 E); the exact-step
property tests in ``tests/test_chain.py`` guard every change.
"""
from __future__ import annotations

from ..limits import MAX_CHAIN_SYMBOLS, MAX_PROFILE_STEPS
from ..machine import Machine, Transition
from .bitag import BitagError, Productions
from .compiled import ChainRun, Compiled, Decoded, decode_word
from .numbering import merge_states, numbered, renumber, usage
from .sweeper import HASH, RingSymbol, State, Sweeper, Written, ring_name, state_name

__all__ = ["ChainRun", "Compiled", "Decoded", "compile_tm", "decode_word"]


def compile_tm(machine: Machine, max_symbols: int = MAX_CHAIN_SYMBOLS,
               profile_steps: int = MAX_PROFILE_STEPS) -> Compiled:
    """The bi-tag system that simulates ``machine`` from its initial tape and head.

    When the direct run halts within ``profile_steps`` bi-tag steps, the machine is also compiled
    mirrored (left and right swapped, the tape reversed; the decoder reverses it back) and the
    orientation whose encoding :func:`~mannsim.utm.encode.cost_model` rates cheaper on U15,2 is
    kept."""
    compiled, cost = _compile(machine, False, max_symbols, profile_steps)
    if cost is None:
        return compiled
    try:
        other, other_cost = _compile(_mirror(machine), True, max_symbols, profile_steps)
    except BitagError:
        return compiled
    return other if other_cost is not None and other_cost < cost else compiled


def _mirror(machine: Machine) -> Machine:
    table = {k: Transition(t.write, -t.move, t.next) for k, t in machine.transitions.items()}
    return machine.replace(transitions=table, tape=list(reversed(machine.tape)),
                           head=len(machine.tape) - 1 - machine.head)


def _start(sw: Sweeper, machine: Machine) -> tuple[State, list[RingSymbol]]:
    """The sweeper's start state and the ring it reads first, from the item after its pending
    one on."""
    tape = [sw.sym[s] for s in machine.tape]
    if all(c == sw.blank for c in tape):
        # a blank tape is the ring '#' alone, nothing pending and the head on a new blank cell
        # before '#': no blank cell (or blank symbol) stands in the word unless the run writes it
        return ("S", None, sw.st[machine.start]), [(HASH, None)]
    lo = min(0, machine.head)
    hi = max(len(machine.tape), machine.head + 1)
    cells = [tape[k] if 0 <= k < len(tape) else sw.blank for k in range(lo, hi)]
    h = machine.head - lo
    ring: list[RingSymbol] = [(HASH, None)] + [(c, None) for c in cells]
    # the sweeper starts with the item before the head cell pending, the head "on the next item"
    return ("S", ring[h], sw.st[machine.start]), ring[h + 1:] + ring[:h]


def _closure(sw: Sweeper, start: State, word: list[RingSymbol], max_symbols: int) -> tuple[
        list[State], list[RingSymbol], dict[tuple[State, RingSymbol], Written],
        dict[tuple[State, RingSymbol], int]]:
    """The sweeper states (but HALT) and ring symbols reachable from ``start`` and ``word``, in
    the order found; what the sweeper does on each possible (state, ring symbol) pair; and the
    machine steps each of those reads performs."""
    states, symbols = [start], list(dict.fromkeys(word))
    state_set, symbol_set = set(states), set(symbols)
    rules: dict[tuple[State, RingSymbol], Written | None] = {}   # None: an impossible pair
    steps: dict[tuple[State, RingSymbol], int] = {}
    changed = True
    while changed:
        changed = False
        for st in list(states):
            if st == "HALT":
                continue
            for a in list(symbols):
                if (st, a) in rules:
                    continue
                if not sw.possible(st, a):
                    rules[(st, a)] = None
                    continue
                out, nxt = rules[(st, a)] = sw.read(st, a)
                steps[(st, a)] = sw.last_steps
                changed = True
                for s in out:
                    if s not in symbol_set:
                        symbol_set.add(s)
                        symbols.append(s)
                if nxt not in state_set:
                    state_set.add(nxt)
                    states.append(nxt)
                if len(symbols) + len(states) > max_symbols:
                    raise BitagError(f"the bi-tag system would exceed {max_symbols} symbols")
    possible = {k: rule for k, rule in rules.items() if rule is not None}
    return [s for s in states if s != "HALT"], symbols, possible, steps


def _compile(machine: Machine, mirrored: bool, max_symbols: int,
             profile_steps: int) -> tuple[Compiled, int | None]:
    """(Compiled, its cost model or None when the direct run does not halt in the profile)."""
    sw = Sweeper(machine)
    start, word = _start(sw, machine)
    states, symbols, rules, steps = _closure(sw, start, word, max_symbols)
    a_names = {a: ring_name(a) for a in symbols}
    e_names = {e: state_name(e) for e in [*states, "HALT"]}
    productions: Productions = {
        (e_names[st], a_names[a]): tuple(a_names[s] for s in out) + (e_names[nxt],)
        for (st, a), (out, nxt) in rules.items()}
    a_list = [a_names[a] for a in symbols]
    e_list = [e_names[e] for e in states]
    start_word = (e_names[start],) + tuple(a_names[a] for a in word)
    # U15,2's encoding is unary in the symbol indices: give the most used symbols the smallest
    # ones (counted on a bounded direct run), and make every impossible production the shortest
    m_steps = {(e_names[st], a_names[a]): n for (st, a), n in steps.items() if n}
    ua, ue, used = usage(productions, start_word, e_names["HALT"], profile_steps)
    if used is not None:
        # the direct run halted: the productions it used are the whole program (the system is
        # deterministic from its one start word); every other pair gets the shortest placeholder
        # and a symbol no used production writes is left out: fewer symbols, a shorter encoding
        keep = set(start_word) | {s for k in used for s in productions[k]}
        a_list = [a for a in a_list if a in keep]
        e_list = [e for e in e_list if e in keep]
        productions = {k: v for k, v in productions.items() if k in used}
        m_steps = {k: n for k, n in m_steps.items() if k in used}
        # sweeper states that never read the same symbol differently become one E symbol
        e_list.sort(key=lambda e: -ue[e])
        rep = merge_states(productions, m_steps, e_list)
        productions = {(rep[e], a): v[:-1] + (rep.get(v[-1], v[-1]),)
                       for (e, a), v in productions.items()}
        m_steps = {(rep[e], a): n for (e, a), n in m_steps.items()}
        start_word = (rep[start_word[0]],) + start_word[1:]
        for e, r in rep.items():
            if r != e:
                ue[r] += ue.pop(e, 0)
        e_list = list(dict.fromkeys(rep[e] for e in e_list))
    first_a = {a: k for k, a in enumerate(a_list)}
    first_e = {e: k for k, e in enumerate(e_list)}
    a_list.sort(key=lambda a: (-ua[a], first_a[a]))
    e_list.sort(key=lambda e: (-ue[e], first_e[e]))
    e_list.append(e_names["HALT"])
    system = numbered(a_list, e_list, productions, start_word)
    cost = None
    if used is not None:
        system, cost = renumber(system, productions)
    implicit = None if sw.implicit is None else machine.states[sw.implicit]
    ring_symbols = {v: k for k, v in a_names.items()}
    return Compiled(system.validate(), machine, ring_symbols, m_steps, implicit, mirrored), cost
