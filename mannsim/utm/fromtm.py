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

**The clockwise machine that simulates a Turing machine M** is :mod:`.sweeper`'s.

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
  its members did, so it is the same run with fewer E symbols;
- symbols are numbered by how often the run uses them, then pairs are swapped while
  :func:`~mannsim.utm.encode.cost_model` falls;
- the machine is also compiled mirrored (left and right swapped, the tape reversed): the sweeper
  only goes one way, so a machine that mostly moves left is cheaper mirrored; the cheaper one by
  the cost model is kept and the decoder reverses the tape back.

bb2 went from 42,927,933 U15,2 steps (7 A, 8 E symbols) to 2,431,913 (4 A, 3 E); the exact-step
property tests in ``tests/test_chain.py`` guard every change.
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from ..limits import MAX_RENUMBER_EVALUATIONS
from ..machine import Machine
from .bitag import Bitag, BitagError, interpret
from .bitag import run as run_bitag
from .encode import cost_model, profile_run
from .sweeper import HASH, Sweeper


@dataclass(frozen=True)
class Compiled:
    """A bi-tag system that simulates a Turing machine, and how to read its words back."""

    system: Bitag
    machine: Machine
    ring_symbols: dict   # A symbol name -> ring symbol (item, mark)
    m_steps: dict        # (E, A) -> steps of the Turing machine that production performs
    implicit_halt: str | None = None   # the state of a halt written without an F mark
    mirrored: bool = False             # compiled with left and right swapped

    def run(self, max_steps: int = 10**7) -> ChainRun:
        """Run the bi-tag system directly, counting the Turing machine's steps it performs."""
        count = [0]

        def observe(front, a):
            if a is not None:
                count[0] += self.m_steps.get((front, a), 0)

        r = run_bitag(self.system, max_steps, observe)
        return ChainRun(r.word, r.steps, count[0], r.halted)

    def decode(self, word) -> Decoded:
        return decode_word(self, word)


@dataclass(frozen=True)
class ChainRun:
    word: tuple[str, ...]
    steps: int       # bi-tag steps
    m_steps: int     # Turing machine steps simulated
    halted: bool


@dataclass(frozen=True)
class Decoded:
    cells: tuple[str, ...]   # the tape, leftmost ring cell first
    head: int | None         # index of the head cell in ``cells`` (None: not found)
    state: str | None        # the state M halted in

    @classmethod
    def of_result(cls, machine: Machine, result) -> Decoded:
        """The same view of a reference run's result (a :class:`~mannsim.machine.Result`)."""
        span = list(result.cells) + [result.head]
        lo, hi = min(span), max(span)
        cells = tuple(result.cells.get(k, machine.blank) for k in range(lo, hi + 1))
        return cls(cells, result.head - lo, result.state)

    def trimmed(self, blank: str) -> tuple[str, int | None]:
        """The tape between the first and last non-blank cell (or the head), and the head's
        offset from that span's first cell: comparable with a reference run."""
        keep = [k for k, s in enumerate(self.cells) if s != blank]
        if self.head is not None:
            keep.append(self.head)
        if not keep:
            return "", None
        lo, hi = min(keep), max(keep)
        return "\x00".join(self.cells[lo:hi + 1]), (None if self.head is None else self.head - lo)


def compile_tm(machine: Machine, max_symbols: int = 4000, profile_steps: int = 200_000) -> Compiled:
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
    table = {k: t.__class__(t.write, -t.move, t.next) for k, t in machine.transitions.items()}
    return machine.replace(transitions=table, tape=list(reversed(machine.tape)),
                           head=len(machine.tape) - 1 - machine.head)


def _compile(machine: Machine, mirrored: bool, max_symbols: int, profile_steps: int):
    """(Compiled, its cost model or None when the direct run does not halt in the profile)."""
    sw = Sweeper(machine)
    tape = [sw.sym[s] for s in machine.tape]
    if all(c == sw.blank for c in tape):
        # a blank tape is the ring '#' alone, nothing pending and the head on a new blank cell
        # before '#': no blank cell (or blank symbol) stands in the word unless the run writes it
        start, word = ("S", None, sw.st[machine.start]), [(HASH, None)]
    else:
        lo = min(0, machine.head)
        hi = max(len(machine.tape), machine.head + 1)
        cells = [tape[k] if 0 <= k < len(tape) else sw.blank for k in range(lo, hi)]
        h = machine.head - lo
        ring = [(HASH, None)] + [(c, None) for c in cells]
        # the sweeper starts with the item before the head cell pending, the head "on the next
        # item"
        start = ("S", ring[h], sw.st[machine.start])
        word = ring[h + 1:] + ring[:h]
    # closure over reachable states and ring symbols
    states, symbols = [start], list(dict.fromkeys(word))
    state_set, symbol_set = set(states), set(symbols)
    rules, steps = {}, {}
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
                    rules[(st, a)] = (None, None)
                    continue
                out, nxt = sw.read(st, a)
                rules[(st, a)] = (out, nxt)
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
    states = [s for s in states if s != "HALT"]
    a_names = {a: _a_name(a) for a in symbols}
    e_names = {e: _e_name(e) for e in states + ["HALT"]}
    productions = {}
    for (st, a), (out, nxt) in rules.items():
        if out is not None:
            productions[(e_names[st], a_names[a])] = (tuple(a_names[s] for s in out)
                                                      + (e_names[nxt],))
    a_list = [a_names[a] for a in symbols]
    e_list = [e_names[e] for e in states]
    start_word = (e_names[start],) + tuple(a_names[a] for a in word)
    # U15,2's encoding is unary in the symbol indices: give the most used symbols the smallest
    # ones (counted on a bounded direct run), and make every impossible production the shortest
    m_steps = {(e_names[st], a_names[a]): n for (st, a), n in steps.items() if n}
    ua, ue, used = _usage(productions, start_word, e_names["HALT"], profile_steps)
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
        rep = _merge_states(productions, m_steps, e_list)
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
    system = _numbered(a_list, e_list, productions, start_word)
    cost = None
    if used is not None:
        system, cost = _renumber(system, productions)
    implicit = None if sw.implicit is None else machine.states[sw.implicit]
    ring_symbols = {v: k for k, v in a_names.items()}
    return Compiled(system.validate(), machine, ring_symbols, m_steps, implicit, mirrored), cost


def _merge_states(productions, m_steps, e_list) -> dict[str, str]:
    """Group E symbols (never the halting one) whose used rows agree wherever both read the same
    A symbol (same output, same successor group, same machine steps): the run reads each group
    only where one member did, so it is the same run with fewer E symbols. Greedy, most used
    first, to a fixpoint. Returns each E symbol's group name (its members joined by '+')."""
    group = {e: i for i, e in enumerate(e_list)}
    rows: dict[int, dict] = {i: {} for i in range(len(e_list))}
    for (e, a), v in productions.items():
        if e in group:
            rows[group[e]][a] = (v[:-1], v[-1], m_steps.get((e, a), 0))

    def agree(x: dict, y: dict) -> bool:
        for a in x.keys() & y.keys():
            (out1, next1, n1), (out2, next2, n2) = x[a], y[a]
            if out1 != out2 or n1 != n2 or group.get(next1, next1) != group.get(next2, next2):
                return False
        return True

    changed = True
    while changed:
        changed = False
        ids = sorted(rows)
        for i, x in enumerate(ids):
            for y in ids[i + 1:]:
                if x in rows and y in rows and agree(rows[x], rows[y]):
                    rows[x].update(rows.pop(y))
                    for e, g in group.items():
                        if g == y:
                            group[e] = x
                    changed = True
    members: dict[int, list[str]] = {}
    for e in e_list:
        members.setdefault(group[e], []).append(e)
    return {e: "+".join(members[group[e]]) for e in e_list}


def _numbered(a_list, e_list, productions, word) -> Bitag:
    """The system with this numbering; every pair without a production gets the shortest one."""
    full = dict(productions)
    for st in e_list[:-1]:
        for a in a_list:
            full.setdefault((st, a), (a_list[0], e_list[0]))
    return Bitag(tuple(a_list), tuple(e_list), full, word)


def _renumber(system: Bitag, productions, rounds: int = 8,
              budget: int = MAX_RENUMBER_EVALUATIONS):
    """Swap pairs of A symbols and of non-halting E symbols while the cost model falls (U15,2's
    encoding is unary in the indices, so the order matters); starts from the frequency order
    and stops after ``budget`` evaluations."""
    profile = profile_run(system, 10**6)
    best = cost_model(system, profile)
    a, e = list(system.a), list(system.e)
    for _ in range(rounds):
        improved = False
        for seq in (a, e):
            for i in range(len(seq) - (seq is e)):
                for j in range(i + 1, len(seq) - (seq is e)):
                    if budget <= 0:
                        return system, best
                    budget -= 1
                    seq[i], seq[j] = seq[j], seq[i]
                    candidate = _numbered(a, e, productions, system.word)
                    cost = cost_model(candidate, profile)
                    if cost < best:
                        system, best, improved = candidate, cost, True
                    else:
                        seq[i], seq[j] = seq[j], seq[i]
        if not improved:
            break
    return system, best


def _a_name(a) -> str:
    item, mark = a
    base = "#" if item == HASH else f"c{item}"
    if mark is None:
        return base
    kind, q = mark
    return f"{base}.{kind}{q}"


def _usage(productions, word, halting, max_steps):
    """How often each A and E symbol is at the front in the first ``max_steps`` steps, and the
    set of productions used if the run halted within them (else None)."""
    e_symbols = {e for e, _ in productions}
    ua, ue = Counter(), Counter()
    used = set()

    def observe(front, a):
        if a is None:      # a passive step: an A symbol rotates
            ua[front] += 1
        else:
            ue[front] += 1
            ua[a] += 1
            used.add((front, a))

    run = interpret(productions, e_symbols, word, halting, max_steps, observe)
    return ua, ue, (used if run.halted else None)


def _e_name(e) -> str:
    if e in ("HALT", "LOOP"):
        return e.lower()
    if e[0] == "Z":
        return f"z.{_a_name(e[1])}"
    _, pending, head = e
    base = "s.-" if pending is None else f"s.{_a_name(pending)}"
    return base + ("" if head is None else f".n{head}")


def decode_word(compiled: Compiled, word) -> Decoded:
    """Read the Turing machine's tape, head and state from a bi-tag word (any rotation)."""
    m = compiled.machine
    word = list(word)
    eh = compiled.system.halting
    halted = eh in word
    if halted:  # read the ring from eh on: its last item is the last one the sweeper wrote
        k = word.index(eh)
        word = word[k + 1:] + word[:k]
    ring = [compiled.ring_symbols[s] for s in word if s in compiled.ring_symbols]
    if not ring or sum(item == HASH for item, _ in ring) != 1:
        raise BitagError("the word does not hold exactly one '#' boundary: not a compiled tape")
    k = next(i for i, (item, _) in enumerate(ring) if item == HASH)
    last = len(ring) - 1 - (k + 1)   # the last item's index once the ring starts after '#'
    ring = ring[k + 1:] + ring[:k]
    cells, head, state = [], None, None
    for item, mark in ring:
        if mark is not None and mark[0] == "F":
            head, state = len(cells), m.states[mark[1]]
        cells.append(m.symbols[item])
    if head is None and halted and compiled.implicit_halt is not None and last >= 0:
        # halted in the machine's one halting state, the head on the last item written
        head, state = last, compiled.implicit_halt
    if compiled.mirrored:
        cells.reverse()
        head = None if head is None else len(cells) - 1 - head
    return Decoded(tuple(cells), head, state)
