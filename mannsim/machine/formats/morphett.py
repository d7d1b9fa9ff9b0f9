"""Morphett files (morphett.info/turing, the classroom standard).

One rule a line, ``<state> <symbol> <new symbol> <l|r|*> <new state>`` with an optional ``!``
breakpoint; ``;`` starts a comment; ``_`` is the blank; ``*`` is a wildcard (as state or symbol
read: lookup order exact, (state, *), (*, symbol), (*, *); as symbol written or new state:
unchanged; as direction: stay). The machine starts in state ``0``; entering a state whose name
starts with ``halt`` halts; no matching rule halts. The input comes from a comment line
``; $INITIAL_TAPE: ...`` written from cell 0, where ``*`` marks the cell the head starts on and
spaces are blanks. mannsim also reads and writes ``; $START_STATE: name`` for machines whose
start state is not ``0`` (an extension; Morphett ignores it as a comment).
"""
from __future__ import annotations

import re

from ...errors import FormatError
from ..model import Machine, check_size, check_tape_length
from ._rules import expand_rules, ordered_names, ordered_states, parse_rule, strip_comment

BLANK = "_"
_META = re.compile(r"^\s*;\s*\$(INITIAL_TAPE|START_STATE):(.*)$")
_MOVE_OUT = {-1: "l", 0: "*", 1: "r"}


def parse(text: str, path: str | None = None) -> Machine:
    rules = []
    tape_text, start = None, "0"
    for lineno, raw in enumerate(text.splitlines(), 1):
        meta = _META.match(raw)
        if meta:
            key, value = meta.group(1), meta.group(2)
            if key == "INITIAL_TAPE":
                tape_text = value.strip("\r\n")
                tape_text = tape_text[1:] if tape_text.startswith(" ") else tape_text
            else:
                start = value.strip() or "0"
            continue
        line = strip_comment(raw).strip()
        if not line:
            continue
        rule = parse_rule(line.split(), path, lineno)
        for sym in (rule.read, rule.write):
            if len(sym) != 1:
                raise FormatError(f"Morphett symbols are one character, got {sym!r}", path, lineno)
        rules.append(rule)
    if not rules:
        raise FormatError("no rules found", path, 1)

    tape: list[str] = []
    head = 0
    if tape_text:
        check_tape_length(len(tape_text), path)
        if tape_text.count("*") > 1:
            raise FormatError("the initial tape marks the head ('*') more than once", path)
        for ch in tape_text:
            if ch == "*":
                head = len(tape)
            else:
                tape.append(BLANK if ch == " " else ch)
    if start not in ordered_states(rules):
        raise FormatError(f"start state {start!r} has no rules and is not entered by any "
                          "(Morphett starts in state 0; set '; $START_STATE: name')", path)
    states, symbols = ordered_names(rules, [start], [BLANK] + tape)
    check_size(len(states), len(symbols), path)
    halt_states = {q for q in states if q.startswith("halt")}
    rules = [r for r in rules if r.state not in halt_states]  # never used: entering halts
    transitions, lines = expand_rules(rules, states, symbols, halt_states, path)
    while tape and tape[-1] == BLANK and head < len(tape) - 1:
        tape.pop()
    return Machine(states=states, symbols=symbols, blank=BLANK, start=start,
                   transitions=transitions, halt_states=halt_states, tape=tape, head=head,
                   path=path, locations=lines)


def dump(machine: Machine) -> str:
    m = machine
    if m.word_symbols:
        raise FormatError("Morphett symbols are one character; this machine has longer ones", m.path)
    if m.blank != BLANK:
        if BLANK in m.symbols:
            raise FormatError("Morphett's blank is '_' but '_' is a non-blank symbol here", m.path)
        m = m.rename_symbols({m.blank: BLANK})
    bad = [s for s in m.symbols if s in ("*", ";") or s.isspace()]
    if bad:
        raise FormatError(f"symbol {bad[0]!r} cannot be written in a Morphett file", m.path)
    bad = [q for q in m.states if q == "*" or ";" in q]
    if bad:
        raise FormatError(f"state {bad[0]!r} cannot be written in a Morphett file", m.path)
    lines = [f"; {m.name}" if m.name else "; exported by mannsim"]
    if m.tape or m.head:
        cells = list(m.tape) + [BLANK] * max(0, m.head + 1 - len(m.tape))
        if m.head < 0:
            raise FormatError("Morphett input starts at the head or left of it; head is negative",
                              m.path)
        lines.append("; $INITIAL_TAPE: " + "".join(
            ("*" if i == m.head else "") + c for i, c in enumerate(cells)))
    if m.start != "0":
        lines.append(f"; $START_STATE: {m.start}")
    lines += [f"{q} {s} {t.write} {_MOVE_OUT[t.move]} {t.next}" for q, s, t in m.rules()]
    return "\n".join(lines) + "\n"
