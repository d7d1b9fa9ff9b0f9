"""A machine as canonical JSON data: lossless (any names, any format it came from) and hashable.

Traces and certificates record a machine this way, so what a trace's header names is exactly
the machine that ran: ``from_data(to_data(m)) == m`` for every machine, which the native
``.tm`` text cannot promise (a ``*`` symbol is a wildcard there; a name cannot hold a newline).
"""
from __future__ import annotations

import hashlib
import json

from ..errors import MachineError
from .model import MOVE_NAMES, Machine, Transition, check_size

_MOVES = {v: k for k, v in MOVE_NAMES.items()}


def to_data(m: Machine) -> dict[str, object]:
    """The machine as JSON-ready data, in the machine's own state and symbol order."""
    return {
        "name": m.name,
        "states": list(m.states),
        "symbols": list(m.symbols),
        "blank": m.blank,
        "start": m.start,
        "halt": [q for q in m.states if q in m.halt_states],
        "tape": list(m.tape),
        "head": m.head,
        "rules": [[q, s, t.write, MOVE_NAMES[t.move], t.next] for q, s, t in m.rules()],
    }


def digest(m: Machine) -> str:
    """sha256 of the canonical JSON of :func:`to_data` (sorted keys, no spaces, ASCII)."""
    text = json.dumps(to_data(m), sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    return hashlib.sha256(text.encode("ascii")).hexdigest()


def _strings(value: object, what: str, path: str | None) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(x, str) for x in value):
        raise MachineError(f"machine field {what!r} must be a list of strings", path)
    return value


def from_data(data: object, path: str | None = None) -> Machine:
    """Rebuild a machine from :func:`to_data`'s form, validating every field (hostile input)."""
    if not isinstance(data, dict):
        raise MachineError("the machine must be a JSON object", path)
    states = _strings(data.get("states"), "states", path)
    symbols = _strings(data.get("symbols"), "symbols", path)
    check_size(len(states), len(symbols), path)
    halt = _strings(data.get("halt", []), "halt", path)
    tape = _strings(data.get("tape", []), "tape", path)
    for key in ("blank", "start"):
        if not isinstance(data.get(key), str):
            raise MachineError(f"machine field {key!r} must be a string", path)
    name, head = data.get("name"), data.get("head", 0)
    if name is not None and not isinstance(name, str):
        raise MachineError("machine field 'name' must be a string or null", path)
    if not isinstance(head, int) or isinstance(head, bool):
        raise MachineError("machine field 'head' must be an integer", path)
    rules = data.get("rules")
    if not isinstance(rules, list) or len(rules) > len(states) * len(symbols):
        raise MachineError("machine field 'rules' must be a list of at most one rule per "
                           "(state, symbol)", path)
    transitions = {}
    for k, rule in enumerate(rules, 1):
        if not (isinstance(rule, list) and len(rule) == 5 and all(isinstance(x, str) for x in rule)
                and rule[3] in _MOVES):
            raise MachineError(f"rule {k} must be [state, read, write, L|S|R, next]", path)
        q, s, w, mv, nxt = rule
        if (q, s) in transitions:
            raise MachineError(f"rule {k} repeats ({q[:40]!r}, {s[:40]!r})", path)
        transitions[(q, s)] = Transition(w, _MOVES[mv], nxt)
    return Machine(states=states, symbols=symbols, blank=data["blank"], start=data["start"],
                   transitions=transitions, halt_states=halt, tape=tape, head=head, name=name,
                   path=path)
