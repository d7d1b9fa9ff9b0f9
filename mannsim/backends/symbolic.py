"""The symbolic CPU: what a perfect language model would answer, with no model.

It reads the rendered prompt text alone, with the grammar of the run's dialect
(:class:`mannsim.program.shape.Shape`): the last instruction block (a default line, then
override lines, then the instruction's tail), each override's comparison evaluated as the
instruction says (later true lines override earlier ones), and answers the chosen result in
the dialect's answer form. It never sees the machine or the memory.
"""
from __future__ import annotations

import time
from collections.abc import Sequence
from functools import lru_cache

from ..program.dialect import DEFAULT_DIALECT
from .base import Completion


@lru_cache(maxsize=1)
def _default_shape():
    from ..program import load_dialect
    return load_dialect(DEFAULT_DIALECT, allow_path=False).shape


def answer(prompt: str, shape=None) -> str:
    """The answer to one prompt (``shape``: a dialect's; default the schuurmans dialect's);
    ``""`` when the prompt does not end in an instruction block of that shape."""
    return (shape or _default_shape()).evaluate(prompt)


class SymbolicBackend:
    """The ideal CPU with no model: evaluates the prompt's own if-lines (tests, baselines)."""

    name = "symbolic"
    thread_safe = True  # answers are a pure function of the prompt
    OPTIONS = ()  # no user options; ``dialect`` (the run's) is passed by ``load_backend``

    def __init__(self, stop=("\n",), dialect=None):
        # one dialect (a run's), or several (eval's): a prompt is read with the first shape
        # it parses in
        many = dialect if isinstance(dialect, (list, tuple)) else [dialect] if dialect else []
        self.shapes = [d.shape for d in many] or [_default_shape()]

    def _answer(self, prompt: str) -> str:
        for shape in self.shapes:
            text = shape.evaluate(prompt)
            if text:
                return text
        return ""

    def identity(self) -> dict:
        return {"name": self.name, "model": None, "weights": None,
                "decoding": {"method": "evaluate if-lines of the prompt"}}

    def complete(self, prompts: Sequence[str]) -> list[Completion]:
        out = []
        for p in prompts:
            t0 = time.perf_counter()
            text = self._answer(p)
            out.append(Completion(text, tokens_in=0, tokens_out=0, latency=time.perf_counter() - t0))
        return out

    def close(self) -> None:
        pass
