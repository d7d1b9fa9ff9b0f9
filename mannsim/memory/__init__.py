"""The string memory of Schuurmans (2023): MEMORY, read/write substitution, assignments, updates.

Everything here is finite-state text processing with regular expressions compiled once; model
output is data that is parsed, never evaluated.

Names. The paper's names are ``\\w+``; mannsim also allows ``-`` inside a name (``[\\w-]+``), so
negative tape cells (``@[-1]``, ``%[i]`` = ``-1``) and hyphenated state names (``halt-accept``)
work. Names are ASCII (``re.ASCII``): a digit is one of 0-9, so a key that looks like a cell
number is one, and a tape cell's key is a canonical decimal (:data:`CELL_KEY`). A label in an
update must end in a word character, so ``i-=1`` is label ``i``.

Semantics (in the order the computer applies them):

1. **read substitution** (``render``): replace every ``@[name]`` by ``MEMORY[name]`` (missing keys
   read as the memory's default, the blank), in passes over the whole text, until a pass finds
   none; at most ``MAX_DEPTH`` passes (``@[@[i]]`` takes 2). Text that is not a marker passes
   through unchanged.
2. **write substitution** (``substitute``): replace every ``%[name]`` by its value in one pass
   (inserted text is not scanned again; ``%[i]`` is the head before the move).
3. **assignments** (``parse_assignments``): ``label="value"`` left to right, where the value is
   either one or more whole lines, each ending in a newline, with the closing quote right after
   the last newline (how an instruction text is copied into ``op``), or a single line without
   quotes. This is why instruction texts must end with a newline: without it the multi-line form
   cannot close and the value is cut at its first quote (the paper's pitfall; a regression test
   shows it).
4. **updates** (``parse_updates``): ``label+=N`` / ``label-=N`` in the text *outside* the
   assignments, so an ``i+=1`` that is part of a copied instruction text is not applied.

Read without a MEMORY (``answers``): :func:`answer_parts`, the state an answer names, the
symbol it writes and the head's move (eval's failure taxonomy compares them), and
:data:`ANSWER_FRAGMENTS`, the fixed pieces of the answer language.
"""
from ..limits import MAX_KEYS
from .answers import FRAGMENTS as ANSWER_FRAGMENTS
from .answers import AnswerParts, answer_parts
from .core import (
    CELL_KEY,
    MAX_DEPTH,
    MAX_VALUE,
    WRITE,
    Memory,
    MemoryError_,
    Renderer,
    apply_answer,
    parse_assignments,
    parse_updates,
    render,
    substitute,
)

__all__ = ["ANSWER_FRAGMENTS", "CELL_KEY", "MAX_DEPTH", "MAX_KEYS", "MAX_VALUE", "AnswerParts", "Memory",
           "MemoryError_", "Renderer", "WRITE", "answer_parts", "apply_answer", "parse_assignments",
           "parse_updates", "render", "substitute"]
