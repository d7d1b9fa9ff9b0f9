"""Test helpers: real backends with faults injected, built on the symbolic CPU."""
import time

from mannsim.backends.base import Completion
from mannsim.backends.symbolic import SymbolicBackend, answer


class FaultyBackend(SymbolicBackend):
    """Answers like the symbolic CPU, except at cycle ``at`` where it answers ``fault``:
    'garbage', 'wrong-branch', 'oversized', 'empty', 'write-elsewhere', 'halt-early', or any text."""

    name = "faulty"

    def __init__(self, fault="garbage", at=5, delay=0.0):
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
            text = answer(p)
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
        if f == "wrong-branch":
            block = prompt[prompt.rfind("\nresult = ") + 1:].split("\n")
            choices = [line[line.index('"'):] for line in block if 'result = "' in line]
            others = [c for c in choices if c != text]
            return others[0] if others else '" op="halt" "'
        if f == "write-elsewhere":
            return text[:-1] + ' boot="x" "'
        if f == "halt-early":
            return '" op="halt" "'
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
