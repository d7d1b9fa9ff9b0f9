"""One turingmachine.io program read as the site's ``parseSpec`` reads it (see the package's
doc for the rules), with the line of everything it refuses."""
from __future__ import annotations

import math
from typing import Any

from ....errors import FormatError
from ....limits import MAX_NAME, MAX_TAPE_CELLS
from ...model import L, Machine, R, Transition, check_size, check_tape_length, has_control
from .jstext import TooLong, js_text, utf16_len
from .schema import JsMap


def split_symbols(key: str) -> list[str]:
    """A row's key as the site's state diagram splits it: on commas, two empty pieces in a row
    standing for one ',' (``'0,1'`` -> 0 and 1, ``',,a'`` -> ',' and a)."""
    out: list[str] = []
    for piece in key.split(","):
        if piece == "" and out and out[-1] == "":
            out[-1] = ","
        else:
            out.append(piece)
    return out


Template = tuple[str | None, int, str | None]  # write (None: keep), move, next (None: stay)


class Spec:
    """One program (the site's parseSpec), with the line of everything it refuses."""

    def __init__(self, path: str | None):
        self.path = path
        self.symbols: dict[str, int | None] = {}  # symbol -> line where first seen
        self.states: dict[str, str] = {}  # the site's state name -> mannsim's

    def fail(self, message: str, line: int | None) -> FormatError:
        return FormatError(message, self.path, line)

    def text(self, value: Any, line: int | None, what: str, limit: int) -> str:
        try:
            return js_text(value, limit)
        except TooLong:
            raise self.fail(f"{what} is longer than {limit:,} characters", line) from None

    def name(self, value: Any, line: int | None) -> str:
        text = self.text(value, line, "the machine name", MAX_NAME)
        if has_control(text):
            raise self.fail("invalid machine name: no control characters", line)
        return text

    def symbol(self, value: Any, line: int | None, what: str, register: bool = True) -> str:
        """One symbol (``what`` says where it stands); ``register`` adds it to the alphabet."""
        try:
            text = js_text(value, 40)
        except TooLong:
            text = ""
            got = "a longer text"
        else:
            got = repr(text)
        if len(text) == 1 and utf16_len(text) == 2:
            raise self.fail(f"turingmachine.io symbols are one character, and {got} ({what}) is "
                            "two to the site (two UTF-16 units): it can neither read nor write it",
                            line)
        if utf16_len(text) != 1:
            never = " (the site would never read it)" if what == "read" else ""
            raise self.fail(f"turingmachine.io symbols are one character, got {got} ({what}){never}",
                            line)
        if text != " " and (text.isspace() or has_control(text)):
            raise self.fail(f"symbol {text!r} ({what}) cannot be a mannsim symbol: no control or "
                            "space characters other than ' ' (which becomes '_')", line)
        if register and text not in self.symbols:
            self.symbols[text] = line
            check_size(len(self.states), len(self.symbols), self.path, line)
        return text

    def state(self, value: Any, line: int | None, what: str) -> str:
        """The mannsim name of the state the site calls ``String(value)``."""
        text = self.text(value, line, what, MAX_NAME)
        if text not in self.states:
            raise self.fail(f"{what} {text!r} is not in the table", line)
        return self.states[text]

    def machine(self, doc: Any, name: str | None = None) -> Machine:
        if not isinstance(doc, JsMap):
            raise self.fail("expected a YAML mapping with 'blank', 'start state' and 'table'", 1)
        lines = doc.lines
        for key in ("blank", "start state", "table"):
            if key not in doc:
                raise self.fail(f"missing key '{key}'", 1)
            if doc[key] is None:
                raise self.fail(f"'{key}' is empty", lines[key])
        blank = self.symbol(doc["blank"], lines["blank"], "the blank")
        table = doc["table"]
        if not isinstance(table, JsMap):
            raise self.fail("'table' must map states to instructions", lines["table"])
        self._declare_states(table)
        start = self.state(doc["start state"], lines["start state"], "start state")
        synonyms = self._synonyms(doc.get("synonyms"), lines.get("synonyms"))
        transitions, locations, halt_states = self._rows(table, synonyms)
        tape = self._input(doc.get("input"), lines.get("input"))
        if name is None and doc.get("name") is not None:
            name = self.name(doc["name"], lines["name"])
        return self._build(blank, start, transitions, locations, halt_states, tape, name)

    def _declare_states(self, table: JsMap) -> None:
        mannsim_names: dict[str, str] = {}
        for q in table:
            line = table.lines[q]
            if not q or len(q) > MAX_NAME:
                raise self.fail(f"a state name is 1 to {MAX_NAME} characters, got {q[:40]!r}", line)
            if has_control(q) or any(c.isspace() and c != " " for c in q):
                raise self.fail(f"state {q[:40]!r}: mannsim state names have no control or "
                                "space characters other than ' ' (which becomes '_')", line)
            name = q.replace(" ", "_")
            if name in mannsim_names:
                raise self.fail(f"states {mannsim_names[name]!r} and {q!r} are both {name!r} once "
                                "spaces become '_'", line)
            mannsim_names[name] = q
            self.states[q] = name
            check_size(len(self.states), 1, self.path, line)

    def _synonyms(self, value: Any, line: int | None) -> dict[str, Template]:
        if value is None:
            return {}
        if not isinstance(value, JsMap):
            raise self.fail("'synonyms' must map names to instructions (e.g. accept: {R: accept})",
                            line)
        out = {}
        for key, instr in value.items():
            try:
                out[key] = self._instruction(instr, None, value.lines[key])
            except FormatError as e:
                e.message = f"synonym {key[:40]!r}: {e.message}"
                raise
        return out

    def _instruction(self, val: Any, synonyms: dict[str, Template] | None,
                     line: int) -> Template:
        """One instruction as a template (the site's parseInstruction)."""
        if isinstance(val, str):
            if val in ("L", "R"):
                return None, L if val == "L" else R, None
            if synonyms is not None and val in synonyms:
                return synonyms[val]
            if synonyms is None:
                hint = "a synonym cannot be defined using another synonym"
            else:
                hint = "use L, R, " + (f"a synonym ({', '.join(sorted(synonyms))[:200]})"
                                       if synonyms else "a synonym") + " or {write: x, L: state}"
            if val in ("N", "S"):
                hint = "turingmachine.io has no stay move; " + hint
            raise self.fail(f"invalid instruction {val[:40]!r}: {hint}", line)
        if val is None:
            raise self.fail("missing instruction: use L, R, a synonym or "
                            "{write: x, L: state}", line)
        if not isinstance(val, JsMap):
            shown = "a list" if isinstance(val, list) else repr(self.text(val, line, "", 40))
            raise self.fail(f"invalid instruction {shown}: use L, R, a synonym or "
                            "{write: x, L: state}", line)
        extra = [k for k in val if k not in ("write", "L", "R")]
        if extra:
            raise self.fail(f"unknown key {extra[0][:40]!r} in instruction (an instruction "
                            "has L or R and may have write)", line)
        moves = [k for k in ("L", "R") if k in val]
        if len(moves) != 1:
            raise self.fail("an instruction needs exactly one of L or R", line)
        write = None
        if "write" in val:
            write = self.symbol(val["write"], line, "written", register=False)
        target = val[moves[0]]
        nxt = None if target is None else self.state(target, line, "next state")
        return write, L if moves[0] == "L" else R, nxt

    def _rows(self, table: JsMap, synonyms: dict[str, Template]) -> tuple[
            dict[tuple[str, str], Transition], dict[tuple[str, str], int], list[str]]:
        transitions: dict[tuple[str, str], Transition] = {}
        locations: dict[tuple[str, str], int] = {}
        owner: dict[tuple[str, str], int] = {}
        halt_states: list[str] = []
        for q_key, rules in table.items():
            q = self.states[q_key]
            if rules is None or (isinstance(rules, JsMap) and not rules):
                halt_states.append(q)
                continue
            if not isinstance(rules, JsMap):
                raise self.fail(f"state {q_key!r} must map symbols to instructions (or be empty: "
                                "a halting state)", table.lines[q_key])
            for row, (key, instr) in enumerate(rules.items()):
                line = rules.lines[key]
                write, move, nxt = self._instruction(instr, synonyms, line)
                for piece in split_symbols(key):
                    read = self.symbol(piece, line, "read")
                    if (q, read) in owner:
                        if owner[(q, read)] == row:
                            continue  # [0, 0]: one row, said twice
                        first = locations[(q, read)]
                        raise self.fail(f"state {q_key!r} has two instructions for {read!r}"
                                        + (f" (lines {first} and {line})" if first != line else ""),
                                        line)
                    owner[(q, read)] = row
                    if write is not None:
                        self.symbol(write, line, "written")
                    transitions[(q, read)] = Transition(read if write is None else write, move,
                                                        q if nxt is None else nxt)
                    locations[(q, read)] = line
        return transitions, locations, halt_states

    def _input(self, value: Any, line: int | None) -> list[str]:
        if isinstance(value, (list, JsMap)):
            kind = "a list" if isinstance(value, list) else "a mapping"
            raise self.fail(f"'input' must be text, not {kind} (turingmachine.io would put its "
                            "JavaScript text, commas or '[object Object]', on the tape)", line)
        if not value or (isinstance(value, float) and math.isnan(value)):
            return []  # JavaScript finds it false: the site starts on a blank tape
        text = self.text(value, line, "'input'", MAX_TAPE_CELLS)
        check_tape_length(len(text), self.path, line)
        for c in dict.fromkeys(text):
            self.symbol(c, line, "in the input")
        return list(text)

    def _build(self, blank: str, start: str, transitions: dict[tuple[str, str], Transition],
               locations: dict[tuple[str, str], int], halt_states: list[str], tape: list[str],
               name: str | None) -> Machine:
        symbols = list(self.symbols)
        if " " in symbols:  # a space cannot be a mannsim symbol: it becomes '_'
            if "_" in symbols:
                raise self.fail("both ' ' and '_' are symbols; mannsim writes ' ' as '_'",
                                max(self.symbols[" "] or 0, self.symbols["_"] or 0) or None)

            def sp(c: str) -> str:
                return "_" if c == " " else c

            symbols, blank, tape = [sp(c) for c in symbols], sp(blank), [sp(c) for c in tape]
            transitions = {(q, sp(r)): Transition(sp(t.write), t.move, t.next)
                           for (q, r), t in transitions.items()}
            locations = {(q, sp(r)): v for (q, r), v in locations.items()}
        return Machine(states=list(self.states.values()), symbols=symbols, blank=blank,
                       start=start, transitions=transitions, halt_states=halt_states, tape=tape,
                       head=0, name=name, path=self.path, locations=locations)

