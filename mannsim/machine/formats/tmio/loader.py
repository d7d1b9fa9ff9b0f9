"""Loading one YAML document as the site does: js-yaml's schema and its tab rules, bounded
(an alias bomb is refused before it is built), every failure a FormatError with its line."""
from __future__ import annotations

from collections.abc import Callable
from typing import Any, cast

import yaml
from yaml.composer import Composer
from yaml.parser import Parser
from yaml.reader import Reader
from yaml.scanner import Scanner

from ....errors import FormatError
from ....limits import MAX_YAML_NODES
from .schema import Constructor, Resolver


class Loader(Reader, Scanner, Parser, Composer, Constructor, Resolver):
    def __init__(self, stream: str) -> None:
        Reader.__init__(self, stream)
        Scanner.__init__(self)
        Parser.__init__(self)
        Composer.__init__(self)
        Constructor.__init__(self)
        Resolver.__init__(self)

    def scan_to_next_token(self) -> None:
        """PyYAML's, but a tab that separates tokens (``a:<TAB>R``, ``R<TAB># note``, inside
        ``{...}``) or stands on a blank line is skipped like a space, as YAML 1.2 and js-yaml do;
        a tab in a line's indentation is still an error."""
        # PyYAML's stubs leave scan_line_break untyped: it returns the break read, or ""
        scan_line_break = cast("Callable[[], str]", self.scan_line_break)
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
            if not scan_line_break():
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


def load(text: str, path: str | None) -> Any:
    """Compose, refuse an alias bomb, then construct (yaml.load's steps, with a size check);
    every failure is a FormatError naming the line where YAML gives one."""
    loader = None
    try:
        loader = Loader(text)
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
