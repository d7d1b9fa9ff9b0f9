"""Training data: random Turing machines compiled with a dialect into (prompt block, answer) pairs.

Every instruction row (a default or override line of the dialect's shape) that occurs in a
program under ``programs/`` is held out: a random state whose instruction contains such a row is
redrawn, so nothing the tests or ``make run`` use is ever a training example. Deterministic for a
given seed.
"""
from __future__ import annotations

import random
import string
from collections.abc import Callable, Iterator
from pathlib import Path

from ..machine import Machine, Transition, load
from ..program import compile_program
from ..program.dialect import Dialect
from ..resources import data_dir

#: programs/ as installed (inside the package from a wheel) or in the source tree: held out from
#: training, and evaluated on
PROGRAMS = data_dir("programs") or Path(__file__).resolve().parent.parent.parent / "programs"

NAME_CHARS = string.ascii_letters + string.digits
SYMBOL_POOL = list("0123456789abcdefghjkmnpqrstuvwxyzABXY_+*#.!?~<>^&|/,:;'`-") + [
    "s0", "s1", "s2", "s3", "s4", "s5"]


def held_out_rows(dialect: Dialect, programs_dir: str | Path) -> set[str]:
    """Every instruction row (read with the dialect's shape) of the programs in the folder."""
    rows: set[str] = set()
    for path in sorted(Path(programs_dir).glob("*.tm")):
        prog = compile_program(load(str(path)), dialect)
        for text in prog.texts.values():
            rows.update(dialect.shape.rows(text))
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
        if name not in names and name not in RESERVED:
            names.append(name)
    if rng.random() < 0.5:
        symbols = [str(d) for d in range(n_symbols)]
    else:
        symbols = rng.sample(SYMBOL_POOL, n_symbols)
    return machine_from(rng, names, symbols)


RESERVED = ("op", "i", "boot", "halted", "result", "halt")
WORDS = ("seek", "left", "right", "carry", "halt", "done", "scan", "back", "mark", "copy", "find",
         "end", "start", "move", "check", "go", "loop", "next", "read", "write", "zero", "one",
         "add", "sub", "inc", "dec", "skip", "wait", "return", "accept", "reject", "blank")
HUMAN_SYMBOLS = ("0", "1", "_", "#", "X", "Y", "a", "b", "x", "y", "*", "$", "+", "=", "|", "o")
WIDE_SYMBOLS = tuple(c for c in string.printable[:94] if c not in "\"@%[]=$\\{}'`")


def human_name(rng: random.Random) -> str:
    parts = [rng.choice(WORDS) for _ in range(rng.choice((1, 1, 2, 2, 3)))]
    name = rng.choice(("_", "_", "-")).join(parts)
    roll = rng.random()
    if roll < 0.35:
        name += str(rng.randint(0, 99))
    elif roll < 0.5:
        name += rng.choice(("_", "_2", "_23", "2"))
    return name[:16]


def long_name(rng: random.Random) -> str:
    length = rng.randint(6, 16)
    chars = string.ascii_letters + string.digits + "_-"
    return rng.choice(string.ascii_letters) + "".join(rng.choice(chars) for _ in range(length - 1))


def machine_from(rng: random.Random, names: list[str], symbols: list[str]) -> Machine:
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


def unique_names(rng: random.Random, n: int, make: Callable[[random.Random], str]) -> list[str]:
    names: list[str] = []
    while len(names) < n:
        name = make(rng)
        if name not in names and name not in RESERVED:
            names.append(name)
    return names


def human_machine(rng: random.Random) -> Machine:
    """As people write machines: 2-7 states named by words joined with ``_`` or ``-``, often
    with digits; 2-5 symbols such as ``#``, ``X``, ``a``, ``y``."""
    names = unique_names(rng, rng.randint(2, 7), human_name)
    return machine_from(rng, names, rng.sample(HUMAN_SYMBOLS, rng.randint(2, 5)))


def large_machine(rng: random.Random) -> Machine:
    """8-10 states with names of 6-16 characters, 5-8 symbols from the printable set."""
    names = unique_names(rng, rng.randint(8, 10), long_name)
    return machine_from(rng, names, rng.sample(WIDE_SYMBOLS, rng.randint(5, 8)))


def confusable_machine(rng: random.Random) -> Machine:
    """The shapes the embedded model copies wrongly (README, issue notes): names that share a
    long prefix (``end_right_write6``, ``end_right_write7``), names with a repeated piece
    (``add_one_one``), up to 16 characters; 2-8 symbols from the whole printable set (``o``,
    ``i``, ``l`` included); 2-10 states."""
    base = human_name(rng)
    names: list[str] = []
    n = rng.randint(2, 10)
    while len(names) < n:
        roll = rng.random()
        if roll < 0.4:
            name = (base + rng.choice(("", "_")) + str(rng.randint(0, 99)))[:16]
        elif roll < 0.7:
            piece = rng.choice(WORDS)
            name = (rng.choice(WORDS) + "_" + "_".join([piece] * rng.randint(2, 4)))[:16]
        else:
            name = rng.choice((human_name, long_name))(rng)
        if name not in names and name not in RESERVED:
            names.append(name)
    return machine_from(rng, names, rng.sample(WIDE_SYMBOLS, rng.randint(2, 8)))


def blocks(dialect: Dialect, rng: random.Random, held_out: set[str], long_names: float = 0.4,
           name_max: int = 7, symbols_max: int = 4,
           human: float = 0.0) -> Iterator[tuple[str, str]]:
    """Yield (prompt block, answer) pairs forever: one random (state, symbol) at a time.

    The block is the rendered instruction without the boot (the symbol under the head put in
    place of ``@[@[i]]``); the answer is what the dialect expects, without its newline.
    """
    shapes = (human_machine, large_machine, confusable_machine)
    while True:
        if human and rng.random() < human:  # machines as people write them, and harder ones
            machine = rng.choice(shapes)(rng)
        else:
            machine = random_machine(rng, long_names, name_max, symbols_max)
        prog = compile_program(machine, dialect)
        states = list(machine.states)
        rng.shuffle(states)
        for q in states[:3]:
            text = prog.texts[q].replace("@[boot]", "")
            if any(row in held_out for row in dialect.shape.rows(text)):
                continue
            s = rng.choice(machine.symbols)
            code = prog.codes[s]
            yield text.replace("@[@[i]]", code), prog.answer(q, s)
