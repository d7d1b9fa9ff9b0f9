"""turingmachine.io YAML, read the way the site reads it.

The site (github.com/aepsilon/turing-machine-viz) loads a program with js-yaml 3.6 and its own
``parseSpec``; this module follows both:

* YAML: js-yaml's schema, not PyYAML's YAML 1.1 one. ``yes``/``no``/``on``/``off`` and ``=`` are
  strings; ``true``/``false``, ``~``/``null``, ints (``0x1F``, octal ``017``, ``1_000``,
  ``1:30``) and floats (``1.0``) as js-yaml reads them; ``<<`` merge keys; a key repeated in one
  mapping is an error. Every key is then a JavaScript string and every value that must be text
  is turned into one the way JavaScript does (``1.0`` -> ``"1"``, ``[0, 1]`` -> ``"0,1"``).
* Top level: ``blank`` (one character), ``start state``, ``table``, optional ``input`` and
  ``synonyms``; other keys are ignored, as on the site. A site *document* (the files the site
  downloads and its bundled examples) holds the program as a string under ``source code`` (with
  ``name``, ``positions``); such a file is read from that string, errors naming lines of the file.
* ``table`` maps a state to null or an empty mapping (a halting state) or to a mapping
  symbols -> instruction. A symbol key is split on commas as the site's diagram does
  (``[0, 1]`` and ``'0,1'`` are both the symbols 0 and 1; ``','`` and ``[',', a]`` hold a comma).
* An instruction is ``L`` or ``R`` (move, same symbol, same state), a synonym name, or a mapping
  with optional ``write`` (one character) and exactly one of ``L``/``R`` whose value is the next
  state (null: the same state). ``synonyms`` maps names to instructions of those forms (not to
  other synonyms); every synonym is checked, used or not.
* ``input`` is turned into text as JavaScript does, and is empty when JavaScript finds it false
  (``input: 0`` is an empty tape on the site). The head starts on its first cell.
* The machine halts when no instruction is defined.

mannsim refuses, with the line, what the site accepts only by accident: a row for a symbol that
can never be read (longer than one character, or empty), two rows for one (state, symbol) (the
site keeps whichever JavaScript visits last), a list where a mapping or text belongs. A space
symbol becomes ``_`` and a space in a state name becomes ``_`` (mannsim names have no spaces).
Loading is safe (no Python objects are built) and bounded (``expanded_size``).
"""
from __future__ import annotations

from ....errors import FormatError, MannsimError
from ...model import Machine
from .loader import expanded_size, load
from .schema import JsMap
from .spec import Spec
from .writer import dump

__all__ = ["parse", "dump", "expanded_size"]


def parse(text: str, path: str | None = None) -> Machine:
    """A turingmachine.io program or site document, read as the site reads it."""
    doc = load(text, path)
    if isinstance(doc, JsMap) and "source code" in doc:
        return _document(doc, path)
    return Spec(path).machine(doc)


def _document(doc: JsMap, path: str | None) -> Machine:
    """A site document: the program is the text under ``source code``."""
    line = doc.lines["source code"]
    source = doc["source code"]
    if not isinstance(source, str):
        raise FormatError("'source code' must be text (a turingmachine.io document holds its "
                          "program there)", path, line)
    name = None
    if doc.get("name") is not None:
        name = Spec(path).name(doc["name"], doc.lines["name"])
    value_line, style = doc.scalars.get("source code", (line - 1, None))
    try:
        machine = Spec(path).machine(load(source, path), name)
    except MannsimError as e:
        if style == "|" and e.line:  # a literal block: its lines are the file's lines
            e.line += value_line + 1
        else:
            if e.line:
                e.message = f"{e.message} (line {e.line} of 'source code')"
            e.line = line
        raise e.located(path) from None
    return machine

