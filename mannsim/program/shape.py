"""The instruction grammar a dialect's templates define, read back from text.

A dialect writes a state's instruction as ``instruction`` with ``{lines}`` = one
``default_line`` then one ``override_line`` per other symbol (the last true override wins),
and a perfect model answers ``answer`` around the chosen result. Everything that reads
instructions or prompts back (the symbolic CPU, trace views, eval's failure classes, training
data, the tokenizer's fragments) asks the dialect's :class:`Shape`, so a dialect of another
shape is a folder of data: nothing in the code assumes ``if X==Y then result = "…"``.

Placeholders: ``{result}`` (a result, any text), ``{symbol}`` (the symbol an override tests),
``@[@[i]]`` (the head cell's value, substituted when the prompt is rendered), ``@[boot]`` and
``{lines}`` (in ``instruction``).
"""
from __future__ import annotations

import re

from ..memory import ANSWER_FRAGMENTS

_PLACEHOLDER = re.compile(r"\{result\}|\{symbol\}|@\[@\[i\]\]|@\[boot\]|\{lines\}")
_GROUPS = {"{result}": "(?P<result>.*)", "{symbol}": "(?P<symbol>\\S+)",
           "@[@[i]]": "(?P<read>\\S+)"}


def _line_regex(template: str) -> re.Pattern[str]:
    out, at = [], 0
    body = template[:-1] if template.endswith("\n") else template
    for m in _PLACEHOLDER.finditer(body):
        out.append(re.escape(body[at:m.start()]))
        out.append(_GROUPS.get(m.group(), re.escape(m.group())))
        at = m.end()
    out.append(re.escape(body[at:]))
    return re.compile("".join(out), re.DOTALL)


def _literals(template: str) -> list[str]:
    """The fixed runs of a template, newlines split off, lone characters dropped."""
    runs = []
    for piece in _PLACEHOLDER.split(template):
        for k, part in enumerate(piece.split("\n")):
            if k:
                runs.append("\n")
            if len(part.strip('"')) > 1:
                runs.append(part)
    return runs


class Shape:
    def __init__(self, templates: dict[str, str]):
        head, _, tail = templates["instruction"].partition("{lines}")
        self.head, self.tail = head, tail
        self.default = _line_regex(templates["default_line"])
        self.override = _line_regex(templates["override_line"])
        first = _PLACEHOLDER.search(templates["default_line"])
        self.default_start = templates["default_line"][:first.start() if first else None]
        self.answer_template = templates["answer"]
        self._before, _, self._after = self.answer_template.partition("{result}")
        g = self.override.groupindex
        self._read, self._symbol, self._result = g["read"], g["symbol"], g["result"]
        tail = self.tail[:-1] if self.tail.endswith("\n") else self.tail
        self._tail, self._start = tail, "\n" + self.default_start
        pieces = [p for k in ("default_line", "override_line", "instruction")
                  for p in _literals(templates[k])]
        found = dict.fromkeys(ANSWER_FRAGMENTS + tuple(pieces))
        #: Fixed pieces of the prompt language, longest first (the tokenizer keeps each whole).
        self.fragments = tuple(sorted(found, key=lambda f: (-len(f), f)))

    def answer(self, result: str) -> str:
        return self._before + result + self._after

    def rows(self, text: str) -> list[str]:
        """The instruction rows (default and override lines) of a compiled instruction text."""
        if text.startswith(self.head):
            text = text[len(self.head):]
        if self.tail and text.endswith(self.tail):
            text = text[:-len(self.tail)]
        return [line for line in text.split("\n") if line]

    def block(self, prompt: str) -> str:
        """The last instruction of a rendered prompt: from its last default line on (the
        whole prompt when there is none)."""
        k = prompt.rfind("\n" + self.default_start)
        return prompt if k < 0 else prompt[k + 1:]

    def _lines(self, prompt: str) -> list[str] | None:
        """The rendered rows of the prompt's last instruction block, or None when the prompt
        does not end in one."""
        end = len(prompt) - 1 if prompt.endswith("\n") else len(prompt)
        tail = self._tail
        if not prompt.endswith(tail, 0, end):
            return None
        end -= len(tail)
        if end > 0 and prompt[end - 1] == "\n":
            end -= 1
        start = prompt.rfind(self._start, 0, end)
        return prompt[start + 1 if start >= 0 else 0:end].split("\n")

    def evaluate(self, prompt: str) -> str:
        """What a perfect CPU answers: the default line's result, overridden by every later
        override whose head value equals its symbol; ``""`` for text that is not an
        instruction block of this shape."""
        lines = self._lines(prompt)
        if not lines:
            return ""
        m = self.default.fullmatch(lines[0])
        if m is None:
            return ""
        result = m.group("result")
        override, read, symbol, value = self.override.fullmatch, self._read, self._symbol, \
            self._result
        for line in lines[1:]:
            m = override(line)
            if m is None:
                return ""
            if m.group(read) == m.group(symbol):
                result = m.group(value)
        return self._before + result + self._after

    def branches(self, prompt: str) -> set[str]:
        """Every answer the prompt's last instruction block offers (its rows' results)."""
        out = set()
        for line in self._lines(prompt) or ():
            m = self.default.fullmatch(line) or self.override.fullmatch(line)
            if m is not None:
                out.add(self.answer(m.group("result")))
        return out
