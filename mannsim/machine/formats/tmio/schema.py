"""YAML as js-yaml 3.6 (the version turingmachine.io loads) reads it: its default safe schema
(plain scalars resolved as js-yaml resolves them) and a constructor that builds only null, bool,
numbers, text, lists and :class:`JsMap` objects, with JavaScript's text for every key."""
from __future__ import annotations

import math
import re
from typing import Any, ClassVar

import yaml
from yaml.constructor import BaseConstructor, ConstructorError
from yaml.resolver import BaseResolver

from ....limits import MAX_JOINED_TEXT, MAX_KEY_TEXT
from .jstext import TooLong, js_text, js_value

TAG = "tag:yaml.org,2002:"
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


class Resolver(BaseResolver):
    """Plain scalars resolved with js-yaml's default safe schema (timestamps aside: they stay
    text, where the site would print a date in the browser's time zone)."""


for _tag, _regex, _first in [
    ("null", _NULL, ["~", "n", "N", ""]),
    ("bool", _BOOL, list("tTfF")),
    ("int", _INT, list("-+0123456789_")),
    ("float", _FLOAT, list("-+0123456789.")),
    ("merge", re.compile(r"^(?:<<)$"), ["<"]),
]:
    Resolver.add_implicit_resolver(TAG + _tag, _regex, _first)


class JsMap(dict[str, Any]):
    """A JavaScript object as js-yaml builds it: text keys, with the line of each key and the
    (0-based line, style) of each scalar value."""

    def __init__(self) -> None:
        super().__init__()
        self.lines: dict[str, int] = {}
        self.scalars: dict[str, tuple[int, str | None]] = {}


class Constructor(BaseConstructor):
    """Builds only null, bool, numbers, text, lists and JsMaps: nothing else is ever made."""

    def __init__(self) -> None:
        super().__init__()
        self.joined = 0

    def text(self, value: Any, mark: Any, what: str) -> str:
        if isinstance(value, str):
            return value
        try:
            text = js_text(value, MAX_KEY_TEXT)
        except TooLong:
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
        return js_value(sign * n)

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

    def construct_js_map(self, node: yaml.Node) -> JsMap:
        if not isinstance(node, yaml.MappingNode):
            raise ConstructorError(None, None, "expected a mapping", node.start_mark)
        out = JsMap()
        overridable: set[str] = set()
        for key_node, value_node in node.value:
            line = key_node.start_mark.line + 1
            if key_node.tag == TAG + "merge":
                merged = self.construct_object(value_node, deep=True)
                for source in merged if isinstance(merged, list) else [merged]:
                    if not isinstance(source, JsMap):
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

    #: tag -> method, the table PyYAML's ``add_constructor`` fills one tag at a time (written
    #: whole here: that method's stubs accept only PyYAML's own loaders); None: any other tag
    yaml_constructors: ClassVar[dict[str | None, Any]] = {
        TAG + "null": construct_js_null, TAG + "bool": construct_js_bool,
        TAG + "int": construct_js_int, TAG + "float": construct_js_float,
        TAG + "str": construct_js_str, TAG + "seq": construct_js_seq,
        TAG + "map": construct_js_map, None: construct_unsupported,
    }
