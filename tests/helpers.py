"""Test helpers: real backends with faults injected (built on the symbolic CPU), the one random
machine generator, and the command line run in process."""
import random
import time

from mannsim.backends.base import Completion
from mannsim.backends.symbolic import SymbolicBackend
from mannsim.program import DEFAULT_DIALECT, load_dialect


class FaultyBackend(SymbolicBackend):
    """Answers like the symbolic CPU, except at cycle ``at`` where it answers ``fault``:
    'garbage', 'wrong-branch', 'oversized', 'empty', 'write-elsewhere', 'halt-early', or any text."""

    name = "faulty"

    def __init__(self, fault="garbage", at=5, delay=0.0, dialect=None):
        # the run's dialect (else the default one): prompts are read with its shape
        super().__init__(dialect=dialect or load_dialect(DEFAULT_DIALECT))
        self.fault, self.at, self.delay, self.calls = fault, at, delay, 0

    def identity(self):
        return {"name": self.name, "model": f"fault={self.fault}", "weights": None,
                "decoding": {}}

    def complete(self, prompts):
        out = []
        for p in prompts:
            self.calls += 1
            if self.delay:
                time.sleep(self.delay)
            text = self._answer(p)
            if self.calls == self.at:
                text = self.corrupt(p, text)
            out.append(Completion(text))
        return out

    def corrupt(self, prompt, text):
        f = self.fault
        if f == "garbage":
            return "I think the answer is 42."
        if f == "empty":
            return ""
        if f == "oversized":
            return '" op="' + "A" * 10000 + '" "'
        shape = self.shapes[0]
        if f == "wrong-branch":  # another row of the instruction, read with the dialect's shape
            others = sorted(shape.branches(prompt) - {text})
            return others[0] if others else shape.answer(" op=\"halt\" ")
        if f == "write-elsewhere":
            return text[:-1] + ' boot="x" "'
        if f == "halt-early":
            return shape.answer(' op="halt" ')
        return f


class CliResult:
    def __init__(self, returncode, stdout, stderr):
        self.returncode, self.stdout, self.stderr = returncode, stdout, stderr


def run_cli(args, check: bool = False, text: bool = True, input=None) -> CliResult:
    """``mannsim ARGS`` in this process (click's CliRunner isolation around the real entry point,
    so its one-line errors and exit codes are the ones a shell sees). Subprocesses stay only
    where signals, rlimits or a terminal matter."""
    from click.testing import CliRunner

    from mannsim.cli import main
    runner = CliRunner()
    with runner.isolation(input=input) as streams:
        out, err = streams[0], streams[1]
        try:
            main([str(a) for a in args])
            code = 0
        except SystemExit as e:
            code = e.code if isinstance(e.code, int) else (0 if e.code is None else 1)
        stdout, stderr = out.getvalue(), err.getvalue()
    if text:
        stdout, stderr = stdout.decode("utf-8", "replace"), stderr.decode("utf-8", "replace")
    if check and code != 0:
        raise AssertionError(f"mannsim {' '.join(map(str, args))} exited {code}: {stderr!r}")
    return CliResult(code, stdout, stderr)


def mannsim(*args, **kw):
    """``mannsim ARGS``: in process (:func:`run_cli`); a real process only when ``kw`` asks for
    one (an rlimit, an environment, a timeout)."""
    if not kw:
        return run_cli(args)
    import subprocess
    import sys
    return subprocess.run([sys.executable, "-m", "mannsim", *map(str, args)],
                          capture_output=True, text=True, **kw)


def one_line_error(proc, contains: str = "", code: int = 2) -> str:
    """Exit ``code`` (2: bad input), nothing but one error line on stderr (no traceback),
    starting ``mannsim: error:`` and containing ``contains``; returns the line."""
    assert proc.returncode == code, (proc.returncode, proc.stdout[-500:], proc.stderr[-2000:])
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("mannsim: error: "), proc.stderr[-2000:]
    assert contains in lines[0], lines[0]
    return lines[0]


def random_machine(rng: random.Random, max_states: int = 4, max_symbols: int = 3, stay: bool = True,
                   tape: bool = True, always_halt: bool = False):
    """A small random machine: 1..max_states states, 2..max_symbols symbols ('_' blank), about
    one transition in ten undefined (a halt), a halting state H (always, or 70% of the time),
    stay moves unless ``stay=False``, and a tape of 0-6 cells with the head anywhere from two
    cells left of it to one past it (``tape=False``: blank tape, head on 0)."""
    from mannsim.machine import Machine
    from mannsim.machine.model import Transition
    states = [f"q{k}" for k in range(rng.randint(1, max_states))]
    symbols = ["_", "1", "x"][:rng.randint(2, max_symbols)]
    halt = ["H"] if always_halt or rng.random() < 0.7 else []
    moves = [-1, 1, 0] if stay else [-1, 1]
    table = {(q, s): Transition(rng.choice(symbols), rng.choice(moves), rng.choice(states + halt))
             for q in states for s in symbols if rng.random() < 0.9}
    cells = [rng.choice(symbols) for _ in range(rng.randint(0, 6))] if tape else []
    head = rng.randint(-2, len(cells) + 1) if tape else 0
    return Machine(states=states + halt, symbols=symbols, blank="_", start="q0",
                   transitions=table, halt_states=halt, tape=cells, head=head)
