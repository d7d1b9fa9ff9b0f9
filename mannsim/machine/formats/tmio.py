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

import math
import re
from decimal import Decimal
from typing import Any

import yaml
from yaml.composer import Composer
from yaml.constructor import BaseConstructor, ConstructorError
from yaml.parser import Parser
from yaml.reader import Reader
from yaml.resolver import BaseResolver
from yaml.scanner import Scanner

from ...errors import FormatError, MannsimError
from ...limits import MAX_JOINED_TEXT, MAX_KEY_TEXT, MAX_NAME, MAX_TAPE_CELLS, MAX_YAML_NODES
from ..model import L, Machine, R, Transition, check_size, check_tape_length, has_control

# -- YAML as js-yaml 3.6 (the version turingmachine.io loads) reads it -------------------------

_TAG = "tag:yaml.org,2002:"
_INT = re.compile(r"""^(?:[-+]?0
    |[-+]?0b[01_]*[01][01_]*
    |[-+]?0x[0-9a-fA-F_]*[0-9a-fA-F][0-9a-fA-F_]*
    |[-+]?0[0-7_]*[0-7][0-7_]*
    |[-+]?(?=[0-9_]*[0-9])[1-9_][0-9_]*(?::[0-5]?[0-9])*)$""", re.X)
_FLOAT = re.compile(r"""^(?:[-+]?[0-9][0-9_]*\.[0-9_]*(?:[eE][-+][0-9]+)?
    |\.[0-9_]+(?:[eE][-+][0-9]+)?
    |[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+\.[0-9_]*
    |[-+]?\.(?:inf|Inf|INF)
    |\.(?:nan|NaN|NAN))$""", re.X)
_BOOL = re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$")
_NULL = re.compile(r"^(?:~|null|Null|NULL|)$")


class _Resolver(BaseResolver):
    """Plain scalars resolved with js-yaml's default safe schema (timestamps aside: they stay
    text, where the site would print a date in the browser's time zone)."""


for _tag, _regex, _first in [
    ("null", _NULL, ["~", "n", "N", ""]),
    ("bool", _BOOL, list("tTfF")),
    ("int", _INT, list("-+0123456789_")),
    ("float", _FLOAT, list("-+0123456789.")),
    ("merge", re.compile(r"^(?:<<)$"), ["<"]),
]:
    _Resolver.add_implicit_resolver(_TAG + _tag, _regex, _first)


class _TooLong(Exception):
    pass


class _Comma:
    """The comma between two items of a list turned into text."""


_COMMA = _Comma()


def _js_number(x: int | float) -> str:
    """``String(x)`` for a JavaScript number (ECMAScript Number::toString)."""
    if isinstance(x, int):
        if -(1 << 53) < x < (1 << 53):
            return str(x)
        try:
            x = float(x)
        except OverflowError:
            return "Infinity" if x > 0 else "-Infinity"
    if math.isnan(x):
        return "NaN"
    if math.isinf(x):
        return "Infinity" if x > 0 else "-Infinity"
    if x == 0:
        return "0"
    sign = "-" if x < 0 else ""
    t = Decimal(repr(abs(x))).as_tuple()
    s = "".join(map(str, t.digits)).rstrip("0")
    k = len(s)
    n = int(t.exponent) + len(t.digits)  # x = 0.s * 10**n
    if k <= n <= 21:
        return sign + s + "0" * (n - k)
    if 0 < n <= 21:
        return sign + s[:n] + "." + s[n:]
    if -6 < n <= 0:
        return sign + "0." + "0" * -n + s
    e = n - 1
    mantissa = s if k == 1 else s[0] + "." + s[1:]
    return f"{sign}{mantissa}e{'+' if e >= 0 else '-'}{abs(e)}"


def _js(value: Any, limit: int) -> str:
    """``String(value)`` as JavaScript writes it (null -> "null", a list joined by commas with
    null as "", a mapping -> "[object Object]"); raises _TooLong past ``limit`` characters."""
    parts: list[str] = []
    size = 0
    stack: list[Any] = [value]
    while stack:
        v = stack.pop()
        if isinstance(v, _Comma):
            text = ","
        elif isinstance(v, list):
            items: list[Any] = []
            for i, item in enumerate(v):
                if i:
                    items.append(_COMMA)
                if item is not None:
                    items.append(item)
            stack.extend(reversed(items))
            continue
        elif isinstance(v, str):
            text = v
        elif v is None:
            text = "null"
        elif isinstance(v, bool):
            text = "true" if v else "false"
        elif isinstance(v, (int, float)):
            text = _js_number(v)
        else:  # a mapping
            text = "[object Object]"
        size += len(text)
        if size > limit:
            raise _TooLong
        parts.append(text)
    return parts[0] if len(parts) == 1 else "".join(parts)


class _Map(dict[str, Any]):
    """A JavaScript object as js-yaml builds it: text keys, with the line of each key and the
    (0-based line, style) of each scalar value."""

    def __init__(self) -> None:
        super().__init__()
        self.lines: dict[str, int] = {}
        self.scalars: dict[str, tuple[int, str | None]] = {}


class _Constructor(BaseConstructor):
    """Builds only null, bool, numbers, text, lists and _Maps: nothing else is ever made."""

    def __init__(self) -> None:
        super().__init__()
        self.joined = 0

    def text(self, value: Any, mark: Any, what: str) -> str:
        if isinstance(value, str):
            return value
        try:
            text = _js(value, MAX_KEY_TEXT)
        except _TooLong:
            raise ConstructorError(None, None, f"{what} is longer than {MAX_KEY_TEXT:,} characters",
                                   mark) from None
        if isinstance(value, list):
            self.joined += len(text)
            if self.joined > MAX_JOINED_TEXT:
                raise ConstructorError(None, None, "its list keys expand to more than "
                                       f"{MAX_JOINED_TEXT:,} characters", mark)
        return text

    def construct_js_null(self, node: yaml.ScalarNode) -> None:
        self._check(node, _NULL)

    def construct_js_bool(self, node: yaml.ScalarNode) -> bool:
        return self._check(node, _BOOL) in ("true", "True", "TRUE")

    def construct_js_int(self, node: yaml.ScalarNode) -> int | float:
        value = self._check(node, _INT).replace("_", "")
        sign = -1 if value[0] == "-" else 1
        value = value.lstrip("+-")
        if value[:2] in ("0b", "0x") or (value[:1] == "0" and len(value) > 1):
            base = {"0b": 2, "0x": 16}.get(value[:2], 8)
            n: int | float = int(value[2:] if base != 8 else value, base)
        elif ":" in value:
            n = 0
            for part in value.split(":"):
                n = n * 60 + (int(part) if len(part) < 300 else float(part))
        else:
            n = int(value) if len(value) < 300 else float(value)
        return _js_value(sign * n)

    def construct_js_float(self, node: yaml.ScalarNode) -> float:
        value = self._check(node, _FLOAT).replace("_", "").lower()
        sign = -1.0 if value[0] == "-" else 1.0
        value = value.lstrip("+-")
        if value == ".inf":
            return sign * math.inf
        if value == ".nan":
            return math.nan
        parts = value.split(":")
        total = 0.0
        for part in parts:
            try:
                total = total * 60 + float(part)
            except ValueError:  # parseFloat('.') is NaN
                return math.nan
        return sign * total

    def _check(self, node: yaml.ScalarNode, regex: re.Pattern[str]) -> str:
        value = self.construct_scalar(node)
        if not isinstance(value, str) or not regex.match(value):
            raise ConstructorError(None, None, f"cannot read {value!r} as {node.tag}",
                                   node.start_mark)
        return value

    def construct_js_str(self, node: yaml.ScalarNode) -> str:
        return self.construct_scalar(node)

    def construct_js_seq(self, node: yaml.Node) -> list[Any]:
        if not isinstance(node, yaml.SequenceNode):
            raise ConstructorError(None, None, "expected a sequence", node.start_mark)
        return [self.construct_object(child, deep=True) for child in node.value]

    def construct_js_map(self, node: yaml.Node) -> _Map:
        if not isinstance(node, yaml.MappingNode):
            raise ConstructorError(None, None, "expected a mapping", node.start_mark)
        out = _Map()
        overridable: set[str] = set()
        for key_node, value_node in node.value:
            line = key_node.start_mark.line + 1
            if key_node.tag == _TAG + "merge":
                merged = self.construct_object(value_node, deep=True)
                for source in merged if isinstance(merged, list) else [merged]:
                    if not isinstance(source, _Map):
                        raise ConstructorError(None, None, "cannot merge mappings; the provided "
                                               "source object is unacceptable", key_node.start_mark)
                    for k, v in source.items():
                        if k not in out:
                            out[k], out.lines[k] = v, line
                            if k in source.scalars:
                                out.scalars[k] = source.scalars[k]
                            overridable.add(k)
                continue
            key = self.text(self.construct_object(key_node, deep=True), key_node.start_mark,
                            "a mapping key")
            if key in out and key not in overridable:
                raise ConstructorError(None, None, f"duplicated mapping key {key[:40]!r}",
                                       key_node.start_mark)
            overridable.discard(key)
            out[key] = self.construct_object(value_node, deep=True)
            out.lines[key] = line
            out.scalars.pop(key, None)
            if isinstance(value_node, yaml.ScalarNode):
                out.scalars[key] = (value_node.start_mark.line, value_node.style)
        return out

    def construct_unsupported(self, node: yaml.Node) -> None:
        raise ConstructorError(None, None, f"unsupported YAML tag {node.tag!r}", node.start_mark)


def _js_value(n: int | float) -> int | float:
    """A parsed integer as the JavaScript number it becomes (exact below 2**53)."""
    if isinstance(n, float) or -(1 << 53) < n < (1 << 53):
        return n
    try:
        return float(n)
    except OverflowError:
        return math.inf if n > 0 else -math.inf


for _tag, _fn in [("null", _Constructor.construct_js_null), ("bool", _Constructor.construct_js_bool),
                  ("int", _Constructor.construct_js_int), ("float", _Constructor.construct_js_float),
                  ("str", _Constructor.construct_js_str), ("seq", _Constructor.construct_js_seq),
                  ("map", _Constructor.construct_js_map)]:
    _Constructor.add_constructor(_TAG + _tag, _fn)  # type: ignore[type-var]  # (stubs: Loaders)
_Constructor.add_constructor(None, _Constructor.construct_unsupported)  # type: ignore[type-var]


class _Loader(Reader, Scanner, Parser, Composer, _Constructor, _Resolver):
    def __init__(self, stream: str) -> None:
        Reader.__init__(self, stream)
        Scanner.__init__(self)
        Parser.__init__(self)
        Composer.__init__(self)
        _Constructor.__init__(self)
        _Resolver.__init__(self)

    def scan_to_next_token(self) -> None:
        """PyYAML's, but a tab that separates tokens (``a:<TAB>R``, ``R<TAB># note``, inside
        ``{...}``) or stands on a blank line is skipped like a space, as YAML 1.2 and js-yaml do;
        a tab in a line's indentation is still an error."""
        if self.index == 0 and self.peek() == "\uFEFF":
            self.forward()
        while True:
            while self.peek() == " " or (self.peek() == "\t" and (
                    self.flow_level or self.buffer[self.pointer - self.column:self.pointer].strip()
                    or self._blank_rest())):
                self.forward()
            if self.peek() == "#":
                while self.peek() not in "\0\r\n\x85\u2028\u2029":
                    self.forward()
            if not self.scan_line_break():  # type: ignore[no-untyped-call]
                return
            if not self.flow_level:
                self.allow_simple_key = True

    def _blank_rest(self) -> bool:
        """Whether the rest of this line is only spaces and tabs, maybe then a comment."""
        k = 0
        while self.peek(k) in " \t":
            k += 1
        return self.peek(k) in "#\0\r\n\x85\u2028\u2029"


def expanded_size(root: yaml.Node) -> int:
    """How many nodes the document ``root`` has with every alias expanded (linear time: each
    distinct node is sized once), capped just above MAX_YAML_NODES."""
    sizes: dict[int, int] = {}
    stack = [(root, False)]
    while stack:
        node, done = stack.pop()
        if id(node) in sizes:
            continue
        if isinstance(node, yaml.SequenceNode):
            children = node.value
        elif isinstance(node, yaml.MappingNode):
            children = [n for pair in node.value for n in pair]
        else:
            sizes[id(node)] = 1
            continue
        if done:
            sizes[id(node)] = min(MAX_YAML_NODES + 1, 1 + sum(sizes.get(id(c), 1) for c in children))
            continue
        stack.append((node, True))
        if len(stack) > MAX_YAML_NODES:
            return MAX_YAML_NODES + 1
        stack.extend((c, False) for c in children if id(c) not in sizes)
    return sizes[id(root)]


def _load(text: str, path: str | None) -> Any:
    """Compose, refuse an alias bomb, then construct (yaml.load's steps, with a size check);
    every failure is a FormatError naming the line where YAML gives one."""
    loader = None
    try:
        loader = _Loader(text)
        node = loader.get_single_node()
        if node is None:
            return None
        if expanded_size(node) > MAX_YAML_NODES:
            raise FormatError(f"YAML too large: more than {MAX_YAML_NODES:,} nodes once its "
                              "aliases are expanded", path)
        return loader.construct_document(node)
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None) or getattr(e, "context_mark", None)
        problem = getattr(e, "problem", None) or str(e).splitlines()[0]
        line = mark.line + 1 if mark else None
        if isinstance(e, yaml.reader.ReaderError):  # a character YAML does not allow
            line = text[: e.position].count("\n") + 1
        raise FormatError(f"invalid YAML: {problem}", path, line) from None
    except RecursionError:
        raise FormatError("invalid YAML: nested too deeply", path) from None
    except (TypeError, ValueError) as e:
        raise FormatError(f"invalid YAML: {str(e).splitlines()[0] if str(e) else type(e).__name__}",
                          path) from None
    finally:
        if loader is not None:
            loader.dispose()


# -- the program ---------------------------------------------------------------------------

def parse(text: str, path: str | None = None) -> Machine:
    doc = _load(text, path)
    if isinstance(doc, _Map) and "source code" in doc:
        return _document(doc, path)
    return _Spec(path).machine(doc)


def _document(doc: _Map, path: str | None) -> Machine:
    """A site document: the program is the text under ``source code``."""
    line = doc.lines["source code"]
    source = doc["source code"]
    if not isinstance(source, str):
        raise FormatError("'source code' must be text (a turingmachine.io document holds its "
                          "program there)", path, line)
    name = None
    if doc.get("name") is not None:
        name = _Spec(path).name(doc["name"], doc.lines["name"])
    value_line, style = doc.scalars.get("source code", (line - 1, None))
    try:
        machine = _Spec(path).machine(_load(source, path), name)
    except MannsimError as e:
        if style == "|" and e.line:  # a literal block: its lines are the file's lines
            e.line += value_line + 1
        else:
            if e.line:
                e.message = f"{e.message} (line {e.line} of 'source code')"
            e.line = line
        raise e.located(path) from None
    return machine


def _utf16_len(text: str) -> int:
    return len(text) + sum(1 for c in text if ord(c) > 0xFFFF)


def _split_symbols(key: str) -> list[str]:
    """A row's key as the site's state diagram splits it: on commas, two empty pieces in a row
    standing for one ',' (``'0,1'`` -> 0 and 1, ``',,a'`` -> ',' and a)."""
    out: list[str] = []
    for piece in key.split(","):
        if piece == "" and out and out[-1] == "":
            out[-1] = ","
        else:
            out.append(piece)
    return out


_Template = tuple[str | None, int, str | None]  # write (None: keep), move, next (None: stay)


class _Spec:
    """One program (the site's parseSpec), with the line of everything it refuses."""

    def __init__(self, path: str | None):
        self.path = path
        self.symbols: dict[str, int | None] = {}  # symbol -> line where first seen
        self.states: dict[str, str] = {}  # the site's state name -> mannsim's

    def fail(self, message: str, line: int | None) -> FormatError:
        return FormatError(message, self.path, line)

    def text(self, value: Any, line: int | None, what: str, limit: int) -> str:
        try:
            return _js(value, limit)
        except _TooLong:
            raise self.fail(f"{what} is longer than {limit:,} characters", line) from None

    def name(self, value: Any, line: int | None) -> str:
        text = self.text(value, line, "the machine name", MAX_NAME)
        if has_control(text):
            raise self.fail("invalid machine name: no control characters", line)
        return text

    def symbol(self, value: Any, line: int | None, what: str, register: bool = True) -> str:
        """One symbol (``what`` says where it stands); ``register`` adds it to the alphabet."""
        try:
            text = _js(value, 40)
        except _TooLong:
            text = ""
            got = "a longer text"
        else:
            got = repr(text)
        if len(text) == 1 and _utf16_len(text) == 2:
            raise self.fail(f"turingmachine.io symbols are one character, and {got} ({what}) is "
                            "two to the site (two UTF-16 units): it can neither read nor write it",
                            line)
        if _utf16_len(text) != 1:
            never = " (the site would never read it)" if what == "read" else ""
            raise self.fail(f"turingmachine.io symbols are one character, got {got} ({what}){never}",
                            line)
        if text != " " and (text.isspace() or has_control(text)):
            raise self.fail(f"symbol {text!r} ({what}) cannot be a mannsim symbol: no control or "
                            "space characters other than ' ' (which becomes '_')", line)
        if register and text not in self.symbols:
            self.symbols[text] = line
            check_size(len(self.states), len(self.symbols), self.path, line)
        return text

    def state(self, value: Any, line: int | None, what: str) -> str:
        """The mannsim name of the state the site calls ``String(value)``."""
        text = self.text(value, line, what, MAX_NAME)
        if text not in self.states:
            raise self.fail(f"{what} {text!r} is not in the table", line)
        return self.states[text]

    def machine(self, doc: Any, name: str | None = None) -> Machine:
        if not isinstance(doc, _Map):
            raise self.fail("expected a YAML mapping with 'blank', 'start state' and 'table'", 1)
        lines = doc.lines
        for key in ("blank", "start state", "table"):
            if key not in doc:
                raise self.fail(f"missing key '{key}'", 1)
            if doc[key] is None:
                raise self.fail(f"'{key}' is empty", lines[key])
        blank = self.symbol(doc["blank"], lines["blank"], "the blank")
        table = doc["table"]
        if not isinstance(table, _Map):
            raise self.fail("'table' must map states to instructions", lines["table"])
        self._declare_states(table)
        start = self.state(doc["start state"], lines["start state"], "start state")
        synonyms = self._synonyms(doc.get("synonyms"), lines.get("synonyms"))
        transitions, locations, halt_states = self._rows(table, synonyms)
        tape = self._input(doc.get("input"), lines.get("input"))
        if name is None and doc.get("name") is not None:
            name = self.name(doc["name"], lines["name"])
        return self._build(blank, start, transitions, locations, halt_states, tape, name)

    def _declare_states(self, table: _Map) -> None:
        mannsim_names: dict[str, str] = {}
        for q in table:
            line = table.lines[q]
            if not q or len(q) > MAX_NAME:
                raise self.fail(f"a state name is 1 to {MAX_NAME} characters, got {q[:40]!r}", line)
            if has_control(q) or any(c.isspace() and c != " " for c in q):
                raise self.fail(f"state {q[:40]!r}: mannsim state names have no control or "
                                "space characters other than ' ' (which becomes '_')", line)
            name = q.replace(" ", "_")
            if name in mannsim_names:
                raise self.fail(f"states {mannsim_names[name]!r} and {q!r} are both {name!r} once "
                                "spaces become '_'", line)
            mannsim_names[name] = q
            self.states[q] = name
            check_size(len(self.states), 1, self.path, line)

    def _synonyms(self, value: Any, line: int | None) -> dict[str, _Template]:
        if value is None:
            return {}
        if not isinstance(value, _Map):
            raise self.fail("'synonyms' must map names to instructions (e.g. accept: {R: accept})",
                            line)
        out = {}
        for key, instr in value.items():
            try:
                out[key] = self._instruction(instr, None, value.lines[key])
            except FormatError as e:
                e.message = f"synonym {key[:40]!r}: {e.message}"
                raise
        return out

    def _instruction(self, val: Any, synonyms: dict[str, _Template] | None,
                     line: int) -> _Template:
        """One instruction as a template (the site's parseInstruction)."""
        if isinstance(val, str):
            if val in ("L", "R"):
                return None, L if val == "L" else R, None
            if synonyms is not None and val in synonyms:
                return synonyms[val]
            if synonyms is None:
                hint = "a synonym cannot be defined using another synonym"
            else:
                hint = "use L, R, " + (f"a synonym ({', '.join(sorted(synonyms))[:200]})"
                                       if synonyms else "a synonym") + " or {write: x, L: state}"
            if val in ("N", "S"):
                hint = "turingmachine.io has no stay move; " + hint
            raise self.fail(f"invalid instruction {val[:40]!r}: {hint}", line)
        if val is None:
            raise self.fail("missing instruction: use L, R, a synonym or "
                            "{write: x, L: state}", line)
        if not isinstance(val, _Map):
            shown = "a list" if isinstance(val, list) else repr(self.text(val, line, "", 40))
            raise self.fail(f"invalid instruction {shown}: use L, R, a synonym or "
                            "{write: x, L: state}", line)
        extra = [k for k in val if k not in ("write", "L", "R")]
        if extra:
            raise self.fail(f"unknown key {extra[0][:40]!r} in instruction (an instruction "
                            "has L or R and may have write)", line)
        moves = [k for k in ("L", "R") if k in val]
        if len(moves) != 1:
            raise self.fail("an instruction needs exactly one of L or R", line)
        write = None
        if "write" in val:
            write = self.symbol(val["write"], line, "written", register=False)
        target = val[moves[0]]
        nxt = None if target is None else self.state(target, line, "next state")
        return write, L if moves[0] == "L" else R, nxt

    def _rows(self, table: _Map, synonyms: dict[str, _Template]) -> tuple[
            dict[tuple[str, str], Transition], dict[tuple[str, str], int], list[str]]:
        transitions: dict[tuple[str, str], Transition] = {}
        locations: dict[tuple[str, str], int] = {}
        owner: dict[tuple[str, str], int] = {}
        halt_states: list[str] = []
        for q_key, rules in table.items():
            q = self.states[q_key]
            if rules is None or (isinstance(rules, _Map) and not rules):
                halt_states.append(q)
                continue
            if not isinstance(rules, _Map):
                raise self.fail(f"state {q_key!r} must map symbols to instructions (or be empty: "
                                "a halting state)", table.lines[q_key])
            for row, (key, instr) in enumerate(rules.items()):
                line = rules.lines[key]
                write, move, nxt = self._instruction(instr, synonyms, line)
                for piece in _split_symbols(key):
                    read = self.symbol(piece, line, "read")
                    if (q, read) in owner:
                        if owner[(q, read)] == row:
                            continue  # [0, 0]: one row, said twice
                        first = locations[(q, read)]
                        raise self.fail(f"state {q_key!r} has two instructions for {read!r}"
                                        + (f" (lines {first} and {line})" if first != line else ""),
                                        line)
                    owner[(q, read)] = row
                    if write is not None:
                        self.symbol(write, line, "written")
                    transitions[(q, read)] = Transition(read if write is None else write, move,
                                                        q if nxt is None else nxt)
                    locations[(q, read)] = line
        return transitions, locations, halt_states

    def _input(self, value: Any, line: int | None) -> list[str]:
        if isinstance(value, (list, _Map)):
            kind = "a list" if isinstance(value, list) else "a mapping"
            raise self.fail(f"'input' must be text, not {kind} (turingmachine.io would put its "
                            "JavaScript text, commas or '[object Object]', on the tape)", line)
        if not value or (isinstance(value, float) and math.isnan(value)):
            return []  # JavaScript finds it false: the site starts on a blank tape
        text = self.text(value, line, "'input'", MAX_TAPE_CELLS)
        check_tape_length(len(text), self.path, line)
        for c in dict.fromkeys(text):
            self.symbol(c, line, "in the input")
        return list(text)

    def _build(self, blank: str, start: str, transitions: dict[tuple[str, str], Transition],
               locations: dict[tuple[str, str], int], halt_states: list[str], tape: list[str],
               name: str | None) -> Machine:
        symbols = list(self.symbols)
        if " " in symbols:  # a space cannot be a mannsim symbol: it becomes '_'
            if "_" in symbols:
                raise self.fail("both ' ' and '_' are symbols; mannsim writes ' ' as '_'",
                                max(self.symbols[" "] or 0, self.symbols["_"] or 0) or None)

            def sp(c: str) -> str:
                return "_" if c == " " else c

            symbols, blank, tape = [sp(c) for c in symbols], sp(blank), [sp(c) for c in tape]
            transitions = {(q, sp(r)): Transition(sp(t.write), t.move, t.next)
                           for (q, r), t in transitions.items()}
            locations = {(q, sp(r)): v for (q, r), v in locations.items()}
        return Machine(states=list(self.states.values()), symbols=symbols, blank=blank,
                       start=start, transitions=transitions, halt_states=halt_states, tape=tape,
                       head=0, name=name, path=self.path, locations=locations)


# -- writing -------------------------------------------------------------------------------

def _q(text: str) -> str:
    """Quote a scalar for YAML (always, so '0', 'yes' and ' ' stay strings)."""
    return "'" + text.replace("'", "''") + "'"


def dump(machine: Machine) -> str:
    """The machine as a turingmachine.io program (paste it into the site's editor); parsing it
    gives the same machine."""
    m = machine
    if m.word_symbols or any(_utf16_len(s) != 1 for s in m.symbols):
        raise FormatError("turingmachine.io symbols are one character; this machine has longer ones",
                          m.path)
    if any(t.move == 0 for t in m.transitions.values()):
        raise FormatError("turingmachine.io has no stay move", m.path)
    if m.head != 0:
        raise FormatError("turingmachine.io starts the head at cell 0; this machine starts at "
                          f"{m.head}", m.path)
    out = []
    if m.name:
        out.append(f"name: {_q(m.name)}")
    out.append(f"blank: {_q(m.blank)}")
    out.append(f"start state: {_q(m.start)}")
    if m.tape:
        out.append(f"input: {_q(''.join(m.tape))}")
    out.append("table:")
    for q in m.states:
        rows = [(s, m.transitions[(q, s)]) for s in m.symbols if (q, s) in m.transitions]
        out.append(f"  {_q(q)}:")
        for s, t in rows:
            d = "L" if t.move < 0 else "R"
            out.append(f"    {_q(s)}: {{write: {_q(t.write)}, {d}: {_q(t.next)}}}")
    return "\n".join(out) + "\n"
