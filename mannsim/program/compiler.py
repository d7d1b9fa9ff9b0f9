"""Compile a :class:`Machine` with a :class:`Dialect` into a prompt program (a MEMORY image),
and read machine configurations back out of any MEMORY."""
from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from enum import Enum

from ..machine.model import Machine
from ..memory import CELL_KEY, Memory, Renderer
from .dialect import Dialect

RESERVED = {"op", "i", "boot", "halted", "result", "halt"}
_SAFE_KEY = re.compile(r"[A-Za-z_][\w-]*", re.ASCII)
#: A state name short enough to be its own register (U15,2's A..O, bb's Z, q0, go).
_REGISTER = re.compile(r"[A-Za-z][A-Za-z0-9]?", re.ASCII)
#: How states get their MEMORY keys: ``registers`` (the default): a name of one or two letters
#: and digits is its own key, any other name gets a short register key (its initial, with a
#: digit if taken: ``carry`` -> ``C``, ``copy_copy`` -> ``C1``), the way an assembler turns
#: labels into addresses, so a model copies 1-2 characters, never a long name; a symbol that
#: cannot stand in a prompt gets a one-character code. ``names``: the name itself when it is a
#: safe key, ``s0``, ``s1``, … for unsafe symbols (what traces and certificates before
#: register keys used).
class KeyPolicy(str, Enum):
    """A key policy: a typed value that is its own name in JSON (traces, certificates)."""

    REGISTERS = "registers"
    NAMES = "names"

    def __str__(self) -> str:
        return self.value

    @classmethod
    def recorded(cls, value: object) -> KeyPolicy:
        """The policy a trace or certificate records: ``names`` where it records none (they
        were written before register keys); ValueError for anything else."""
        return cls.NAMES if value is None else cls(value)


KEY_POLICIES = tuple(p.value for p in KeyPolicy)
#: A written value longer than this is recorded by the instruction it is, or cut to it
#: (:meth:`Program.writes_record`); views read the records back with it.
RECORD_CUT = 80
#: The key policy run, verify and eval compile with unless told otherwise.
DEFAULT_KEYS = KeyPolicy.REGISTERS
#: Codes for symbols that cannot stand in a prompt (``$``, ``=``, a space, …) under
#: ``registers``: one character each, the best-trained first (``names``: ``s0``, ``s1``, …).
_SHORT_CODES = "0123456789abcdefghjkmnpqrstuvwxyzABXY#+*.!?~<>^&|/,:;-"
_SAFE_SYMBOL = re.compile(r"[^\s\"@%\[\]=$\\{}]+")
HALT = "halt"


@dataclass(frozen=True)
class Case:
    """One distinct (state, symbol) prompt of a program: what ``verify`` puts to a model."""

    states: tuple[str, ...]   # states whose instruction renders to this prompt
    symbols: tuple[str, ...]  # symbols under the head that render to it
    prompt: str
    answer: str               # the expected answer text


class Program:
    """A machine compiled into a prompt program.

    ``keys`` maps states to the memory keys of their instruction texts, ``codes`` maps symbols to
    the strings stored in tape cells (the symbol itself when it is prompt-safe), ``texts`` maps
    states to instruction texts. ``initial_memory()`` is the boot image.
    """

    def __init__(self, machine: Machine, dialect: Dialect, keys: KeyPolicy | str = DEFAULT_KEYS):
        self.machine = machine
        self.dialect = dialect
        self.key_policy = KeyPolicy(keys)  # ValueError for an unknown policy
        self.keys = (self._register_keys() if self.key_policy is KeyPolicy.REGISTERS
                     else self._state_keys())
        self.codes = self._symbol_codes()
        self.symbol_of = {c: s for s, c in self.codes.items()}
        self.blank_code = self.codes[machine.blank]
        outcomes = [q for q in machine.states
                    if any(machine.transition(q, s) is None for s in machine.symbols)]
        self.halt_outcomes = tuple(outcomes)
        self.named_halts = len(outcomes) > 1
        self.results = {(q, s): self._result(q, s) for q in machine.states for s in machine.symbols}
        self.texts = {q: self._instruction(q) for q in machine.states}
        #: MEMORY holds a state as its instruction text; states whose texts are identical
        #: behave identically (the text is every row: symbol written, move, next key), so a
        #: MEMORY names the first of them (``state_of_text``) and ``states_of_text`` all.
        #: Runs and traces name states from the reference machine, never from this.
        self.state_of_text: dict[str, str] = {}
        self.states_of_text: dict[str, list[str]] = {}
        for q in machine.states:  # states with identical texts behave identically; first wins
            self.state_of_text.setdefault(self.texts[q], q)
            self.states_of_text.setdefault(self.texts[q], []).append(q)
        self.state_of_key = {k: q for q, k in self.keys.items()}

    # -- naming -------------------------------------------------------------------------
    def _state_keys(self) -> dict[str, str]:
        keys, used = {}, set()
        for idx, q in enumerate(self.machine.states):
            key = q if _SAFE_KEY.fullmatch(q) and q not in RESERVED else f"S{idx}"
            while key in used or key in RESERVED:
                key = "S" + key
            keys[q] = key
            used.add(key)
        return keys

    def _register_keys(self) -> dict[str, str]:
        states = self.machine.states
        keys = {q: q for q in states if _REGISTER.fullmatch(q) and q not in RESERVED}
        used = set(keys.values()) | RESERVED
        for idx, q in enumerate(states):
            if q in keys:
                continue
            initial = q[0].upper() if q[:1].isascii() and q[:1].isalpha() else "S"
            key = next((c for c in [initial] + [f"{initial}{d}" for d in (*range(1, 10), 0)]
                        if c not in used), None)
            if key is None:
                key = next(c for c in (f"S{n}" for n in range(idx, 10**6)) if c not in used)
            keys[q] = key
            used.add(key)
        return keys

    def _symbol_codes(self) -> dict[str, str]:
        codes, used = {}, set()
        free: Iterator[str] = iter(())
        if self.key_policy is KeyPolicy.REGISTERS:  # one character, not a symbol of the machine
            taken = set(self.machine.symbols)
            free = (c for c in _SHORT_CODES if c not in taken)
        for idx, s in enumerate(self.machine.symbols):
            code = s if _SAFE_SYMBOL.fullmatch(s) else next(free, f"s{idx}")
            while code in used:
                code = "s" + code
            codes[s] = code
            used.add(code)
        return codes

    # -- the instruction texts -------------------------------------------------------------
    def _result(self, q: str, s: str) -> str:
        d, t = self.dialect, self.machine.transition(q, s)
        if t is None:
            if self.named_halts:
                return d.fmt("halt_named", state=self.keys[q])
            return d.fmt("halt")
        move = {-1: "move_left", 0: "move_stay", 1: "move_right"}[t.move]
        return d.fmt("step", next=self.keys[t.next], write=self.codes[t.write],
                     move=d.templates[move])

    def _instruction(self, q: str) -> str:
        d = self.dialect
        symbols = self.machine.symbols
        default = self.results[(q, symbols[0])]
        lines = [d.fmt("default_line", result=default)]
        for s in symbols[1:]:
            r = self.results[(q, s)]
            if r != default:
                lines.append(d.fmt("override_line", symbol=self.codes[s], result=r))
        return d.fmt("instruction", lines="".join(lines))

    def answer(self, q: str, s: str) -> str:
        """The answer a perfect model gives in state ``q`` reading ``s``."""
        return self.dialect.fmt("answer", result=self.results[(q, s)])

    # -- memory images ---------------------------------------------------------------------
    def initial_memory(self) -> Memory:
        m = self.machine
        mem = Memory(default=self.blank_code)
        mem["boot"] = self.dialect.boot
        for q in m.states:
            mem[self.keys[q]] = self.texts[q]
        mem["op"] = self.texts[m.start]
        mem["i"] = str(m.head)
        for cell, s in enumerate(m.tape):
            if s != m.blank:
                mem[str(cell)] = self.codes[s]
        return mem

    def set_configuration(self, memory: Memory, state: str, head: int, cells: dict[int, str],
                          halted: bool = False) -> None:
        """Make ``memory`` (this program's, invariant held) the compiled configuration: the
        instruction of ``state`` (or the halt), the head, exactly the tape ``cells``."""
        for key in [k for k in memory if CELL_KEY.fullmatch(k)]:
            del memory[key]
        for cell, s in cells.items():
            if s != self.machine.blank:
                memory[str(cell)] = self.codes[s]
        memory["i"] = str(head)
        if halted:
            memory["op"] = HALT
            if self.named_halts:
                memory["halted"] = self.keys[state]
        else:
            memory["op"] = self.texts[state]

    def writes_record(self, assigns: list[tuple[str, str]],
                      next_state: str | None = None) -> tuple[tuple[str, str], ...]:
        """A cycle's assignments as a trace records them: a value longer than 80 characters is
        the instruction it is (``<instruction KEY>``; ``next_state``, the reference machine's,
        names it when its text is the value, since states with identical instructions share
        one text), or its first 80 characters."""
        return tuple([(label, value) if len(value) <= RECORD_CUT
                      else (label, self._cut(value, next_state)) for label, value in assigns])

    def _cut(self, value: str, next_state: str | None) -> str:
        q = (next_state if next_state is not None and value == self.texts[next_state]
             else self.state_of_text.get(value))
        return f"<instruction {self.keys[q]}>" if q else value[:RECORD_CUT] + "…"

    def state_of(self, memory: Memory) -> str | None:
        """The state a MEMORY is in (``None`` if ``op`` is no instruction of this program)."""
        op = memory.get("op", "")
        if op == HALT:
            if self.named_halts:
                return self.state_of_key.get(memory.get("halted", ""))
            return self.halt_outcomes[0] if self.halt_outcomes else None
        return self.state_of_text.get(op)

    def decode(self, memory: Memory) -> tuple[str | None, int | None, dict[int, str]]:
        """(state, head, non-blank tape cells) read back from any MEMORY."""
        try:
            head = int(memory.get("i", ""))
        except ValueError:
            head = None
        cells = {}
        for key, value in memory.items():
            if CELL_KEY.fullmatch(key) and value != self.blank_code:
                cells[int(key)] = self.symbol_of.get(value, value)
        return self.state_of(memory), head, cells

    def cases(self) -> list[Case]:
        """Every distinct rendered (state, symbol) prompt, in state then symbol order."""
        seen: dict[str, int] = {}
        out: list[tuple[list[str], list[str], str, str]] = []
        for q in self.machine.states:
            for s in self.machine.symbols:
                mem = Memory({"boot": self.dialect.boot, "i": "0", "0": self.codes[s]},
                             default=self.blank_code)
                prompt = Renderer(mem)(self.texts[q])
                if prompt in seen:
                    case = out[seen[prompt]]
                    if q not in case[0]:
                        case[0].append(q)
                    if s not in case[1]:
                        case[1].append(s)
                    continue
                seen[prompt] = len(out)
                out.append(([q], [s], prompt, self.answer(q, s)))
        return [Case(tuple(a), tuple(b), p, ans) for a, b, p, ans in out]


def compile_program(machine: Machine, dialect: Dialect,
                    keys: KeyPolicy | str = DEFAULT_KEYS) -> Program:
    return Program(machine, dialect, keys)


def render_listing(program: Program) -> str:
    """The compiled program as a person reads it: boot, then each instruction text by key."""
    parts = [f"; program {program.machine.name or ''} in dialect {program.dialect.name}",
             "; MEMORY[boot] =", program.dialect.boot.rstrip("\n"), ""]
    for q in program.machine.states:
        parts.append(f"; MEMORY[{program.keys[q]}] = (state {q})")
        parts.append(program.texts[q].rstrip("\n"))
        parts.append("")
    m = program.machine
    parts.append(f"; MEMORY[op] = MEMORY[{program.keys[m.start]}];  MEMORY[i] = {m.head}")
    return "\n".join(parts) + "\n"
