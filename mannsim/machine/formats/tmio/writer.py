"""A machine written as a turingmachine.io program."""
from __future__ import annotations

from ....errors import FormatError
from ...model import Machine
from .jstext import utf16_len


def _q(text: str) -> str:
    """Quote a scalar for YAML (always, so '0', 'yes' and ' ' stay strings)."""
    return "'" + text.replace("'", "''") + "'"


def dump(machine: Machine) -> str:
    """The machine as a turingmachine.io program (paste it into the site's editor); parsing it
    gives the same machine."""
    m = machine
    if m.word_symbols or any(utf16_len(s) != 1 for s in m.symbols):
        raise FormatError("turingmachine.io symbols are one character; this machine has longer ones",
                          m.path)
    if any(t.move == 0 for t in m.transitions.values()):
        raise FormatError("turingmachine.io has no stay move", m.path)
    if m.head != 0:
        raise FormatError("turingmachine.io starts the head at cell 0; this machine starts at "
                          f"{m.head}", m.path)
    out = []
    if m.name:
        out.append(f"name: {_q(m.name)}")
    out.append(f"blank: {_q(m.blank)}")
    out.append(f"start state: {_q(m.start)}")
    if m.tape:
        out.append(f"input: {_q(''.join(m.tape))}")
    out.append("table:")
    rows: dict[str, list[str]] = {q: [] for q in m.states}  # a state without rows halts
    for q, s, t in m.rules():
        d = "L" if t.move < 0 else "R"
        rows[q].append(f"    {_q(s)}: {{write: {_q(t.write)}, {d}: {_q(t.next)}}}")
    for q in m.states:
        out.append(f"  {_q(q)}:")
        out += rows[q]
    return "\n".join(out) + "\n"
