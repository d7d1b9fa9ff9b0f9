"""Training data: random Turing machines compiled with a dialect into (prompt block, answer) pairs.

Every instruction row (a ``result = …`` or ``if … then result = …`` line) that occurs in a
program under ``programs/`` is held out: a random state whose instruction contains such a row is
redrawn, so nothing the tests or ``make run`` use is ever a training example. Deterministic for a
given seed.
"""
from __future__ import annotations

import random
import string
from pathlib import Path

from ..machine import Machine, Transition, load
from ..program import compile_program
from ..program.dialect import Dialect

NAME_CHARS = string.ascii_letters + string.digits
SYMBOL_POOL = list("0123456789abcdefghjkmnpqrstuvwxyzABXY_+*#.!?~<>^&|/,:;'`-") + [
    "s0", "s1", "s2", "s3", "s4", "s5"]


def _rows(text: str) -> list[str]:
    """The instruction rows of an instruction text (its boot marker and $result stripped)."""
    return [line for line in text.split("\n") if "result = " in line and not line.startswith("$")]


def held_out_rows(dialect: Dialect, programs_dir: str | Path) -> set[str]:
    rows: set[str] = set()
    for path in sorted(Path(programs_dir).glob("*.tm")):
        prog = compile_program(load(str(path)), dialect)
        for text in prog.texts.values():
            rows.update(line.replace("@[boot]", "") for line in _rows(text))
    return rows


def random_name(rng: random.Random, long_names: float = 0.4, name_max: int = 7) -> str:
    """A state name: a single capital (as in U15,2), two characters, or (with probability
    ``long_names``) a word of 2..``name_max`` letters, digits, '_' and '-' (as in classroom
    machines: have0, halt-accept, toEnd)."""
    kind = rng.random()
    if kind < 0.75 * (1 - long_names):
        return rng.choice(string.ascii_uppercase)
    if kind < 1 - long_names:
        return rng.choice(string.ascii_letters) + rng.choice(NAME_CHARS)
    length = rng.randint(2, name_max)
    head = rng.choice(string.ascii_letters)
    tail = "".join(rng.choice(NAME_CHARS + "_-") for _ in range(length - 1))
    return head + tail.rstrip("-")


SYMBOL_WEIGHTS = [5, 3, 2, 2, 2, 1, 1]  # for 2, 3, 4, ... symbols


def random_machine(rng: random.Random, long_names: float = 0.4, name_max: int = 7,
                   symbols_max: int = 4) -> Machine:
    n_states = rng.randint(2, 7)
    counts = list(range(2, symbols_max + 1))
    n_symbols = rng.choices(counts, weights=SYMBOL_WEIGHTS[:len(counts)])[0]
    names: list[str] = []
    while len(names) < n_states:
        name = random_name(rng, long_names, name_max)
        if name not in names and name not in ("op", "i", "boot", "halted", "result", "halt"):
            names.append(name)
    if rng.random() < 0.5:
        symbols = [str(d) for d in range(n_symbols)]
    else:
        symbols = rng.sample(SYMBOL_POOL, n_symbols)
    halting = [q for q in names[1:] if rng.random() < 0.15]
    p_undef, p_stay = rng.choice([0.0, 0.05, 0.15]), rng.choice([0.0, 0.0, 0.1])
    transitions = {}
    for q in names:
        if q in halting:
            continue
        for s in symbols:
            if rng.random() < p_undef:
                continue
            move = 0 if rng.random() < p_stay else rng.choice([-1, 1])
            transitions[(q, s)] = Transition(rng.choice(symbols), move, rng.choice(names))
    return Machine(states=names, symbols=symbols, blank=symbols[0], start=names[0],
                   transitions=transitions, halt_states=halting)


def blocks(dialect: Dialect, rng: random.Random, held_out: set[str], long_names: float = 0.4,
           name_max: int = 7, symbols_max: int = 4):
    """Yield (prompt block, answer) pairs forever: one random (state, symbol) at a time.

    The block is the rendered instruction without the boot (the symbol under the head put in
    place of ``@[@[i]]``); the answer is what the dialect expects, without its newline.
    """
    while True:
        machine = random_machine(rng, long_names, name_max, symbols_max)
        prog = compile_program(machine, dialect)
        states = list(machine.states)
        rng.shuffle(states)
        for q in states[:3]:
            text = prog.texts[q].replace("@[boot]", "")
            if any(row in held_out for row in _rows(text)):
                continue
            s = rng.choice(machine.symbols)
            code = prog.codes[s]
            yield text.replace("@[@[i]]", code), prog.answer(q, s)
