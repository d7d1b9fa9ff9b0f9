"""Shared pieces of the rule-per-line formats (native ``.tm`` and Morphett)."""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from ...errors import FormatError
from ..model import L, R, S, Transition

WILDCARD = "*"
MOVES = {"L": L, "R": R, "S": S, "N": S, "l": L, "r": R, "s": S, "n": S, "*": S}


@dataclass(frozen=True)
class Rule:
    state: str
    read: str
    write: str
    move: int
    next: str
    line: int


def parse_rule(tokens: list[str], path: str | None, lineno: int) -> Rule:
    """Parse ``state read write move next`` (an optional trailing ``!`` breakpoint is ignored)."""
    if len(tokens) == 6 and tokens[5] == "!":
        tokens = tokens[:5]
    if len(tokens) != 5:
        raise FormatError(
            f"expected a rule 'state read write move next', got {len(tokens)} field(s)", path, lineno)
    state, read, write, move, nxt = tokens
    if move not in MOVES:
        raise FormatError(f"invalid move {move!r} (use L, R or S; Morphett's l, r, *)", path, lineno)
    return Rule(state, read, write, MOVES[move], nxt, lineno)


def expand_rules(rules: list[Rule], states: list[str], symbols: list[str], halt_states: set[str],
                 path: str | None) -> tuple[dict[tuple[str, str], Transition],
                                            dict[tuple[str, str], int]]:
    """Turn rules (with Morphett wildcards) into an explicit table and a line map.

    Lookup order for a (state, symbol) is Morphett's: exact, (state, *), (*, symbol), (*, *).
    ``*`` as written symbol or next state means "unchanged". Duplicate rules are errors.
    """
    by_key: dict[tuple[str, str], Rule] = {}
    for rule in rules:
        key = (rule.state, rule.read)
        if key in by_key:
            raise FormatError(
                f"second rule for state {rule.state!r} reading {rule.read!r} "
                f"(first on line {by_key[key].line})", path, rule.line)
        by_key[key] = rule
    transitions: dict[tuple[str, str], Transition] = {}
    lines: dict[tuple[str, str], int] = {}
    for q in states:
        if q in halt_states:
            continue
        for s in symbols:
            found = (by_key.get((q, s)) or by_key.get((q, WILDCARD)) or by_key.get((WILDCARD, s))
                     or by_key.get((WILDCARD, WILDCARD)))
            if found is None:
                continue
            rule = found
            write = s if rule.write == WILDCARD else rule.write
            nxt = q if rule.next == WILDCARD else rule.next
            transitions[(q, s)] = Transition(write, rule.move, nxt)
            lines[(q, s)] = rule.line
    return transitions, lines


def ordered_names(rules: list[Rule], extra_states: Iterable[str] = (),
                  extra_symbols: Iterable[str] = ()) -> tuple[list[str], list[str]]:
    """States and symbols in order of first appearance (wildcards excluded)."""
    states: dict[str, None] = {}
    symbols: dict[str, None] = {}
    for s in extra_symbols:
        symbols.setdefault(s)
    for q in extra_states:
        states.setdefault(q)
    for r in rules:
        for q in (r.state, r.next):
            if q != WILDCARD:
                states.setdefault(q)
        for s in (r.read, r.write):
            if s != WILDCARD:
                symbols.setdefault(s)
    return list(states), list(symbols)


def ordered_states(rules: list[Rule]) -> list[str]:
    """The states the rules mention (as state or next state), wildcards excluded."""
    return ordered_names(rules)[0]


def strip_comment(line: str) -> str:
    """Drop a ``;`` comment (Morphett) from a line."""
    i = line.find(";")
    return line if i < 0 else line[:i]
