"""The symbolic CPU: what a perfect language model would answer, with no model.

It reads the rendered prompt text alone, with the grammar of the run's dialect
(:class:`mannsim.program.shape.Shape`): the last instruction block (a default line, then
override lines, then the instruction's tail), each override's comparison evaluated as the
instruction says (later true lines override earlier ones), and answers the chosen result in
the dialect's answer form. It never sees the machine or the memory, and it loads no dialect:
it declares ``takes_dialect``, so :func:`mannsim.backends.load_backend` hands it the run's
(built directly, it must be given one).
"""
from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any, Protocol

from ..program.shape import Shape
from .base import BackendError, Completion
from .contract import NoOptions


class HasShape(Protocol):
    """A dialect, as far as the symbolic CPU reads it."""

    @property
    def shape(self) -> Shape: ...


#: What the symbolic CPU reads prompts with: a dialect or its shape, or a list of them (eval's).
Grammar = HasShape | Shape | list[HasShape | Shape] | tuple[HasShape | Shape, ...]


def shapes_of(dialect: Grammar | None) -> list[Shape]:
    """The shapes of ``dialect`` (one, or several in order)."""
    if isinstance(dialect, (list, tuple)):
        return [d if isinstance(d, Shape) else d.shape for d in dialect]
    if dialect is None:
        return []
    return [dialect if isinstance(dialect, Shape) else dialect.shape]


class SymbolicBackend:
    """The ideal CPU with no model: evaluates the prompt's own if-lines (tests, baselines)."""

    name = "symbolic"
    Options = NoOptions
    takes_dialect = True  # it reads prompts with the run's dialect
    thread_safe = True  # answers are a pure function of the prompt

    def __init__(self, options: NoOptions | None = None, *, stop: Sequence[str] = ("\n",),
                 dialect: Grammar | None = None) -> None:
        # one dialect (a run's), or several (eval's): a prompt is read with the first shape
        # it parses in
        self.shapes = shapes_of(dialect)
        if not self.shapes:
            raise BackendError("the symbolic backend reads prompts with a dialect: give it "
                               "dialect= (a dialect or its shape, or several)")

    def _answer(self, prompt: str) -> str:
        for shape in self.shapes:
            text = shape.evaluate(prompt)
            if text:
                return text
        return ""

    def identity(self) -> dict[str, Any]:
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
