"""Making a compiled bi-tag system cheap for U15,2 (see :mod:`.fromtm`): which productions and
symbols a run uses, merging E symbols, and numbering the symbols.

U15,2's encoding is unary in the symbol indices, so the most used symbols get the smallest ones,
and every E symbol fewer shortens every rule's target.
"""
from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import TypeAlias

from ..limits import MAX_RENUMBER_EVALUATIONS, MAX_RENUMBER_PROFILE_STEPS
from .bitag import Bitag, BitagError, Productions, interpret
from .encode import cost_model, profile_run

#: (ej, ai) of a production -> its row: (A symbols written, next E symbol, machine steps).
Row: TypeAlias = tuple[tuple[str, ...], str, int]


def usage(productions: Productions, word: Sequence[str], halting: str, max_steps: int
          ) -> tuple[Counter[str], Counter[str], set[tuple[str, str]] | None]:
    """How often each A and E symbol is at the front in the first ``max_steps`` steps, and the
    set of productions used if the run halted within them (else None)."""
    e_symbols = {e for e, _ in productions}
    ua: Counter[str] = Counter()
    ue: Counter[str] = Counter()
    used: set[tuple[str, str]] = set()

    def observe(front: str, a: str | None) -> None:
        if a is None:      # a passive step: an A symbol rotates
            ua[front] += 1
        else:
            ue[front] += 1
            ua[a] += 1
            used.add((front, a))

    run = interpret(productions, e_symbols, word, halting, max_steps, observe)
    return ua, ue, (used if run.halted else None)


def merge_states(productions: Productions, m_steps: dict[tuple[str, str], int],
                 e_list: Sequence[str]) -> dict[str, str]:
    """Group E symbols (never the halting one) whose used rows agree wherever both read the same
    A symbol (same output, same successor group, same machine steps): the run reads each group
    only where one member did, so it is the same run with fewer E symbols. Greedy, most used
    first, to a fixpoint. Returns each E symbol's group name (its members joined by '+')."""
    group = {e: i for i, e in enumerate(e_list)}
    rows: dict[int, dict[str, Row]] = {i: {} for i in range(len(e_list))}
    for (e, a), v in productions.items():
        if e in group:
            rows[group[e]][a] = (v[:-1], v[-1], m_steps.get((e, a), 0))

    def agree(x: dict[str, Row], y: dict[str, Row]) -> bool:
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


def numbered(a_list: Sequence[str], e_list: Sequence[str], productions: Productions,
             word: tuple[str, ...]) -> Bitag:
    """The system with this numbering; every pair without a production gets the shortest one."""
    full = dict(productions)
    for st in e_list[:-1]:
        for a in a_list:
            full.setdefault((st, a), (a_list[0], e_list[0]))
    return Bitag(tuple(a_list), tuple(e_list), full, word)


def renumber(system: Bitag, productions: Productions, rounds: int = 8,
             budget: int = MAX_RENUMBER_EVALUATIONS) -> tuple[Bitag, int]:
    """Swap pairs of A symbols and of non-halting E symbols while the cost model falls (U15,2's
    encoding is unary in the indices, so the order matters); starts from the frequency order
    and stops after ``budget`` evaluations. ``system`` must halt within
    ``MAX_RENUMBER_PROFILE_STEPS`` steps (its profile prices every numbering)."""
    profile = profile_run(system, MAX_RENUMBER_PROFILE_STEPS)
    if profile is None:
        raise BitagError(f"the system does not halt within {MAX_RENUMBER_PROFILE_STEPS:,} "
                         "steps: no profile to renumber it by", system.path)
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
                    candidate = numbered(a, e, productions, system.word)
                    cost = cost_model(candidate, profile)
                    if cost < best:
                        system, best, improved = candidate, cost, True
                    else:
                        seq[i], seq[j] = seq[j], seq[i]
        if not improved:
            break
    return system, best
