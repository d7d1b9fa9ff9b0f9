"""turingmachine.io YAML.

Keys: ``blank`` (one character), ``start state``, ``table``, optional ``input`` (and ``name``).
``table`` maps a state to null (halting) or to a mapping symbol -> instruction; an instruction is
``L``/``R`` (move, same state) or a mapping with optional ``write:`` and exactly one of ``L``/``R``
whose value is the next state (null: same state). Symbol keys may be YAML lists (``[0,1]: R``):
PyYAML's safe loader refuses those, so this loader turns list keys into tuples. Loading is safe
(no Python objects are built). The machine halts when no instruction is defined.
"""
from __future__ import annotations

from typing import Any

import yaml

from ...errors import FormatError
from ...limits import MAX_YAML_NODES
from ..model import L, R, Machine, Transition, check_size, check_tape_length


class _Loader(yaml.SafeLoader):
    """SafeLoader that accepts sequence keys (as tuples) and records key lines."""


def _construct_mapping(loader: yaml.SafeLoader, node: yaml.MappingNode,
                       deep: bool = False) -> "_Pairs":
    pairs = []
    for key_node, value_node in node.value:
        if isinstance(key_node, yaml.SequenceNode):
            key = tuple(loader.construct_object(k, deep=True) for k in key_node.value)
        else:
            key = loader.construct_object(key_node, deep=True)
            try:
                hash(key)
            except TypeError:
                raise yaml.constructor.ConstructorError(
                    None, None, "unhashable key", key_node.start_mark) from None
        value = loader.construct_object(value_node, deep=True)
        pairs.append((key, value, key_node.start_mark.line + 1))
    return _Pairs(pairs)


class _Pairs(dict[Any, Any]):
    """A dict that remembers the source line of each key."""

    def __init__(self, pairs: list[tuple[Any, Any, int]]) -> None:
        super().__init__((k, v) for k, v, _ in pairs)
        self.lines = {k: line for k, _, line in pairs}


_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


def _sym(value: object, path: str | None, line: int | None) -> str:
    if value is None:
        raise FormatError("a symbol cannot be empty (null)", path, line)
    if isinstance(value, bool):
        value = "true" if value else "false"
    text = str(value)
    if len(text) != 1:
        raise FormatError(f"turingmachine.io symbols are one character, got {text!r}", path, line)
    return text


def expanded_size(root: yaml.Node) -> int:
    """How many nodes the document ``root`` has with every alias expanded (linear time: each
    distinct node is sized once), capped just above MAX_YAML_NODES."""
    sizes: dict[int, int] = {}
    stack = [(root, False)]
    while stack:
        node, done = stack.pop()
        if id(node) in sizes:
            continue
        if isinstance(node, yaml.SequenceNode):
            children = node.value
        elif isinstance(node, yaml.MappingNode):
            children = [n for pair in node.value for n in pair]
        else:
            sizes[id(node)] = 1
            continue
        if done:
            sizes[id(node)] = min(MAX_YAML_NODES + 1, 1 + sum(sizes.get(id(c), 1) for c in children))
            continue
        stack.append((node, True))
        if len(stack) > MAX_YAML_NODES:
            return MAX_YAML_NODES + 1
        stack.extend((c, False) for c in children if id(c) not in sizes)
    return sizes[id(root)]


def _load(text: str) -> Any:
    """Compose, refuse an alias bomb, then construct (yaml.load's steps, with a size check)."""
    loader = _Loader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None
        if expanded_size(node) > MAX_YAML_NODES:
            raise FormatError(f"YAML too large: more than {MAX_YAML_NODES:,} nodes once its "
                              "aliases are expanded")
        return loader.construct_document(node)
    finally:
        loader.dispose()


def parse(text: str, path: str | None = None) -> Machine:
    try:
        doc = _load(text)
    except FormatError as e:
        raise e.located(path) from None
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None) or getattr(e, "context_mark", None)
        problem = getattr(e, "problem", None) or str(e).splitlines()[0]
        raise FormatError(f"invalid YAML: {problem}", path, mark.line + 1 if mark else None) from None
    except RecursionError:
        raise FormatError("invalid YAML: nested too deeply", path) from None
    except (TypeError, ValueError) as e:  # e.g. a list inside a list key, a bad timestamp
        raise FormatError(f"invalid YAML: {str(e).splitlines()[0] if str(e) else type(e).__name__}",
                          path) from None
    if not isinstance(doc, dict):
        raise FormatError("expected a YAML mapping with 'blank', 'start state' and 'table'", path, 1)
    lines = getattr(doc, "lines", {})
    for key in ("blank", "start state", "table"):
        if key not in doc:
            raise FormatError(f"missing key '{key}'", path, 1)
    blank = _sym(doc["blank"], path, lines.get("blank"))
    start = str(doc["start state"])
    table = doc["table"]
    if not isinstance(table, dict) or not table:
        raise FormatError("'table' must map states to instructions", path, lines.get("table"))
    tlines = getattr(table, "lines", {})
    states = [str(q) for q in table]
    check_size(len(states), 1, path, lines.get("table"))
    if start not in states:
        raise FormatError(f"start state {start!r} is not in the table", path, lines.get("start state"))
    symbols = [blank]
    raw_input = doc.get("input", "")
    if isinstance(raw_input, (dict, list, tuple)):
        raise FormatError("'input' must be a string", path, lines.get("input"))
    raw_input = "" if raw_input is None else str(raw_input)
    check_tape_length(len(raw_input), path, lines.get("input"))
    tape = list(raw_input)
    transitions: dict[tuple[str, str], Transition] = {}
    locations: dict[tuple[str, str], int] = {}
    halt_states: list[str] = []
    for q_key, rules in table.items():
        q = str(q_key)
        if rules is None:
            halt_states.append(q)
            continue
        if not isinstance(rules, dict):
            raise FormatError(f"state {q!r} must map symbols to instructions", path, tlines.get(q_key))
        rlines = getattr(rules, "lines", {})
        for sym_key, instr in rules.items():
            line = rlines.get(sym_key, tlines.get(q_key))
            reads = sym_key if isinstance(sym_key, tuple) else (sym_key,)
            for read in (_sym(r, path, line) for r in reads):
                if read not in symbols:
                    symbols.append(read)
                write, move, nxt = _instruction(instr, read, q, path, line)
                if write not in symbols:
                    symbols.append(write)
                if nxt not in states:
                    raise FormatError(f"next state {nxt!r} is not in the table", path, line)
                if (q, read) in transitions:
                    raise FormatError(f"state {q!r} has two instructions for {read!r}", path, line)
                transitions[(q, read)] = Transition(write, move, nxt)
                if line is not None:
                    locations[(q, read)] = line
    for c in tape:
        if c not in symbols:
            symbols.append(c)
    check_size(len(states), len(symbols), path)
    if " " in symbols:  # a space cannot be a mannsim symbol: it becomes '_'
        if "_" in symbols:
            raise FormatError("both ' ' and '_' are symbols; mannsim writes ' ' as '_'", path)

        def sp(c: str) -> str:
            return "_" if c == " " else c

        symbols, blank, tape = [sp(c) for c in symbols], sp(blank), [sp(c) for c in tape]
        transitions = {(q, sp(r)): Transition(sp(t.write), t.move, t.next)
                       for (q, r), t in transitions.items()}
        locations = {(q, sp(r)): v for (q, r), v in locations.items()}
    return Machine(states=states, symbols=symbols, blank=blank, start=start,
                   transitions=transitions, halt_states=halt_states, tape=tape, head=0,
                   name=str(doc["name"]) if doc.get("name") is not None else None, path=path,
                   locations=locations)


def _instruction(instr: object, read: str, state: str, path: str | None,
                 line: int | None) -> tuple[str, int, str]:
    if instr in ("L", "R"):
        return read, L if instr == "L" else R, state
    if not isinstance(instr, dict):
        raise FormatError(f"invalid instruction {instr!r}: use L, R or {{write: x, L: state}}",
                          path, line)
    extra = set(instr) - {"write", "L", "R"}
    if extra:
        raise FormatError(f"unknown key {sorted(map(str, extra))[0]!r} in instruction", path, line)
    moves = [k for k in ("L", "R") if k in instr]
    if len(moves) != 1:
        raise FormatError("an instruction needs exactly one of L or R", path, line)
    move = moves[0]
    write = _sym(instr["write"], path, line) if "write" in instr else read
    nxt = instr[move]
    return write, L if move == "L" else R, state if nxt is None else str(nxt)


def _q(text: str) -> str:
    """Quote a scalar for YAML (always, so '0', 'yes' and ' ' stay strings)."""
    return "'" + text.replace("'", "''") + "'"


def dump(machine: Machine) -> str:
    m = machine
    if m.word_symbols:
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
    for q in m.states:
        rows = [(s, m.transitions[(q, s)]) for s in m.symbols if (q, s) in m.transitions]
        if not rows:
            out.append(f"  {_q(q)}:")
            continue
        out.append(f"  {_q(q)}:")
        for s, t in rows:
            d = "L" if t.move < 0 else "R"
            out.append(f"    {_q(s)}: {{write: {_q(t.write)}, {d}: {_q(t.next)}}}")
    return "\n".join(out) + "\n"
