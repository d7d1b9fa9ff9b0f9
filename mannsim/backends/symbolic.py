"""The symbolic CPU: what a perfect language model would answer, with no model.

It reads the rendered prompt text alone: the last instruction block (a ``result = "…"`` line,
then ``if X==Y then result = "…"`` lines, then ``$result``), evaluates each ``if`` line's
comparison as the instruction says (later true lines override earlier ones), and answers the
chosen result, quoted. It never sees the machine or the memory.
"""
from __future__ import annotations

import re
import time
from typing import Sequence

from .base import Completion

_IF = re.compile(r'if (\S+)==(\S+) then result = (".*")')
_DEFAULT = re.compile(r'result = (".*")')


def answer(prompt: str) -> str:
    """The answer to one prompt; ``""`` when the prompt does not end in an instruction block."""
    body = prompt[:-1] if prompt.endswith("\n") else prompt
    if not body.endswith("$result"):
        return ""
    start = body.rfind("\nresult = ")
    block = body[start + 1:] if start >= 0 else body
    lines = block.split("\n")
    m = _DEFAULT.fullmatch(lines[0])
    if m is None:
        return ""
    result = m.group(1)
    for line in lines[1:-1]:
        m = _IF.fullmatch(line)
        if m is None:
            return ""
        if m.group(1) == m.group(2):
            result = m.group(3)
    return result


class SymbolicBackend:
    """The ideal CPU with no model: evaluates the prompt's own if-lines (tests, baselines)."""

    name = "symbolic"
    OPTIONS = ()

    def __init__(self, stop=("\n",)):
        pass

    def identity(self) -> dict:
        return {"name": self.name, "model": None, "weights": None,
                "decoding": {"method": "evaluate if-lines of the prompt"}}

    def complete(self, prompts: Sequence[str]) -> list[Completion]:
        out = []
        for p in prompts:
            t0 = time.perf_counter()
            text = answer(p)
            out.append(Completion(text, tokens_in=0, tokens_out=0, latency=time.perf_counter() - t0))
        return out

    def close(self) -> None:
        pass
