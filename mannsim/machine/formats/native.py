"""The native ``.tm`` format: Morphett-style rules plus directives that carry everything else.

    ; a comment (also '#' at the start of a line)
    name:    binary increment
    start:   right              ; default: the state of the first rule
    blank:   _                  ; default: _
    halt:    done               ; halting states (states named halt* are halting too)
    symbols: _ 0 1              ; optional: fixes the symbol order
    states:  right carry done   ; optional: fixes the state order
    tape:    1011               ; initial tape from cell 0 (words separated by spaces
                                ;   when some symbol is longer than one character)
    head:    3                  ; start cell, default 0
    right 0 0 R right           ; state read write move next
    right _ _ L carry           ; move: L, R, S (Morphett's l, r, * too); '*' wildcards
"""
from __future__ import annotations

from ...errors import FormatError
from ..model import MOVE_NAMES, Machine, check_size, check_tape_length, parse_head
from ._rules import WILDCARD, expand_rules, ordered_names, ordered_states, parse_rule, strip_comment

DIRECTIVES = ("name", "start", "blank", "halt", "symbols", "states", "tape", "head")


def parse(text: str, path: str | None = None) -> Machine:
    directives: dict[str, tuple[str, int]] = {}
    rules = []
    for lineno, raw in enumerate(text.splitlines(), 1):
        if raw.lstrip().startswith("#"):
            continue
        line = strip_comment(raw).strip()
        if not line:
            continue
        lead, sep, rest = line.partition(":")
        key = lead.strip().lower()
        if sep and key in DIRECTIVES and " " not in lead.strip():
            if key in directives:
                raise FormatError(f"'{key}:' given twice (first on line {directives[key][1]})",
                                  path, lineno)
            directives[key] = (rest.strip(), lineno)
            continue
        rules.append(parse_rule(line.split(), path, lineno))

    def get(key: str, default: str = "") -> str:
        return directives[key][0] if key in directives else default

    blank = get("blank", "_")
    if not blank or " " in blank:
        raise FormatError("'blank:' needs exactly one symbol", path, directives["blank"][1])
    declared_symbols = get("symbols", "").split()
    declared_states = get("states", "").split()
    halt_declared = get("halt", "").split()
    states, symbols = ordered_names(rules, declared_states, declared_symbols or [blank])
    states += [q for q in halt_declared if q not in states]
    if blank not in symbols:
        symbols.insert(0, blank)
    if not states:
        raise FormatError("no states: a machine needs at least one rule "
                          "'state read write move next' with a state that is not '*'",
                          path, rules[0].line if rules else 1)
    start = get("start") or (declared_states[0] if declared_states else None) or (
        rules[0].state if rules and rules[0].state != WILDCARD else states[0])
    if start not in states:
        states.insert(0, start)
    ruled = {r.state for r in rules}
    halt_states = set(halt_declared) | {
        q for q in states if q.lower().startswith("halt") and q not in ruled}

    word = any(len(s) > 1 for s in symbols)
    tape_text = get("tape", "")
    tape_line = directives["tape"][1] if "tape" in directives else None
    check_tape_length(len(tape_text) // 2 if word else len(tape_text) - tape_text.count(" "),
                      path, tape_line)
    tape = tape_text.split() if word else [c for c in tape_text if not c.isspace()]
    check_tape_length(len(tape), path, tape_line)
    known = set(symbols)
    for s in tape:
        if s not in known:
            symbols.append(s)
            known.add(s)
    head = parse_head(get("head", "0"), path, directives["head"][1] if "head" in directives else None)
    check_size(len(states), len(symbols), path)
    if "start" in directives and start not in set(ordered_states(rules)) | set(halt_declared) \
            | set(declared_states):
        raise FormatError(f"start state {start!r} is not a state of any rule", path,
                          directives["start"][1])
    transitions, lines = expand_rules(rules, states, symbols, halt_states, path)
    for rule in rules:  # a rule the expansion could not place names its own line
        if rule.state != WILDCARD and rule.state in halt_states:
            raise FormatError(f"halting state {rule.state!r} has a rule", path, rule.line)
    return Machine(states=states, symbols=symbols, blank=blank, start=start,
                   transitions=transitions, halt_states=halt_states, tape=tape, head=head,
                   name=get("name"), path=path, locations=lines)


def dump(machine: Machine) -> str:
    m = machine
    fields = [("name", m.name or None), ("start", m.start), ("blank", m.blank),
              ("halt", " ".join(q for q in m.states if q in m.halt_states) or None),
              ("symbols", " ".join(m.symbols)), ("states", " ".join(m.states)),
              ("tape", m.tape_text(m.tape) if m.tape else None),
              ("head", str(m.head) if m.head else None)]
    lines = [f"{key + ':':<9}{value}" for key, value in fields if value is not None]
    lines.append("")
    lines += [f"{q} {s} {t.write} {MOVE_NAMES[t.move]} {t.next}" for q, s, t in m.rules()]
    return "\n".join(lines) + "\n"
