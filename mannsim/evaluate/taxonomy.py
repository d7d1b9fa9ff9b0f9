"""The taxonomy of failures: every case a backend fails is put in one class (:data:`CLASSES`),
by comparing the parts of its answer and of the expected one as :mod:`mannsim.memory` reads
them (:func:`~mannsim.memory.answer_parts`)."""
from __future__ import annotations

from ..memory import answer_parts, parse_assignments
from ..program.check import answer_problem
from ..program.shape import Shape
from ..verify import CaseResult

CLASSES = ("over-long answer", "format error", "wrong branch", "copy error in the state name",
           "wrong symbol", "wrong move", "other")


def classify(result: CaseResult, shape: Shape) -> str:
    """The failure class of a failed case (see CLASSES); ``shape``: the grammar of the dialect
    the case was compiled in (``dialect.shape``), whose rows are the branches a prompt offers."""
    answer, expected = result.answer, result.expected
    if answer_problem(answer) or "cut at the token limit" in (result.problem or ""):
        return CLASSES[0] if answer.strip() else CLASSES[1]
    if not parse_assignments(answer):
        return CLASSES[1]
    if answer in shape.branches(result.prompt):
        return CLASSES[2]
    got, want = answer_parts(answer), answer_parts(expected)
    if got.halts != want.halts:
        return CLASSES[2]  # a step where the machine halts, or a halt where it steps
    if got.target != want.target:
        return CLASSES[3]
    if got.written != want.written:
        return CLASSES[4]
    if got.move != want.move:
        return CLASSES[5]
    return CLASSES[6]
