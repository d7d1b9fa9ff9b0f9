"""The answer language read without a MEMORY: what an answer names, writes and moves.

A machine's answers assign the runtime's registers: ``op`` (the next instruction, copied from
a state's register with ``%[S]``, or ``halt``), the head cell (``%[i]="1"``: after write
substitution the label is the head's key), ``halted`` (the halting state's name, where a
machine has several) and ``i`` (the head, moved by ``i+=1`` / ``i-=1`` outside the
assignments, :func:`~mannsim.memory.parse_updates`). :func:`answer_parts` reads those parts
from an answer's text, before substitution, as eval's failure taxonomy compares them;
:data:`FRAGMENTS` are the fixed pieces of the language (a tokenizer keeps each whole).
"""
from __future__ import annotations

import re
from typing import NamedTuple

from .core import WRITE, parse_updates

#: The registers an answer assigns: the instruction, the head, the halting state's name.
OP, HEAD, HALTED = "op", "i", "halted"
#: The value of ``op`` in an answer that halts the machine.
HALT = "halt"
#: The fixed pieces of the answer language, in a dialect's answer quotes (the runtime's
#: assignments, not a dialect's choice).
FRAGMENTS = (f' {OP}="{HALT}" ', f' {OP}="%[', f']" %[{HEAD}]="', f'" {HEAD}+=1 "',
             f'" {HEAD}-=1 "', '"  "', f'{HALTED}="', "\n")

_HEAD_WRITE = f"%[{HEAD}]="
_HALTS = f'{OP}="{HALT}"'


def _one_line(label: str) -> re.Pattern[str]:
    """``label="value"`` with a one-line value (an assignment's one-line form)."""
    return re.compile(re.escape(label) + r'="([^"\n]*)"', re.ASCII)


_WRITTEN = _one_line(f"%[{HEAD}]")
_HALTED = _one_line(HALTED)


class AnswerParts(NamedTuple):
    """What an answer does, read from its text."""

    #: The state it names: the first register it reads (``%[S]``) before it writes the head
    #: cell, else the value of ``halted``; None when it names none.
    target: str | None
    #: The value it writes to the head cell (``%[i]="V"``), or None.
    written: str | None
    #: The head's move: the sum of its updates of ``i``.
    move: int
    #: Whether it assigns ``op="halt"``.
    halts: bool


def answer_parts(answer: str) -> AnswerParts:
    """The parts of ``answer`` (see :class:`AnswerParts`)."""
    target = next((m.group(1) for m in WRITE.finditer(answer.split(_HEAD_WRITE)[0])), None)
    if target is None:  # a halting answer names its halting state in halted="…"
        target = next((m.group(1) for m in _HALTED.finditer(answer)), None)
    written = next((m.group(1) for m in _WRITTEN.finditer(answer)), None)
    move = sum(d for label, d in parse_updates(answer) if label == HEAD)
    return AnswerParts(target, written, move, _HALTS in answer)
