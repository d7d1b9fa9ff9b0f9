"""What every trace reader shares: the protocol of a trace *source* and its common state.

A source reads one trace file of one layout (:class:`~mannsim.trace.jsonl.JsonlSource`,
:class:`~mannsim.trace.compact_source.CompactSource`) and gives the same typed records
(:mod:`mannsim.trace.records`): the header, the prompts, the cycles (:meth:`Source.cycle`,
:meth:`Source.steps`, :meth:`Source.facts`), snapshots, the divergence and the end. Strict
sources (resume, decode) refuse a bad, reordered or foreign record with one error naming its
line; lenient ones (views) read up to it with a warning.
"""
from __future__ import annotations

import functools
import mmap
import os
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator, Mapping
from typing import ParamSpec, TypeVar

from .header import Header, out_of_memory
from .records import JSON, Case, Cycle, Divergence, End, Facts, Snapshot, Step
from .schema import TraceError, prompt_hash

P = ParamSpec("P")
R = TypeVar("R")


def bounded(method: Callable[P, R]) -> Callable[P, R]:
    """``method`` (of a reader with a ``path``) with a MemoryError turned into a one-line
    :class:`TraceError`."""
    @functools.wraps(method)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return method(*args, **kwargs)
        except MemoryError:
            raise out_of_memory(getattr(args[0], "path", None)) from None
    return wrapper


def bounded_iter(method: Callable[P, Iterator[R]]) -> Callable[P, Iterator[R]]:
    """The generator ``method`` with a MemoryError turned into a :class:`TraceError`."""
    @functools.wraps(method)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> Iterator[R]:
        try:
            yield from method(*args, **kwargs)
        except MemoryError:
            raise out_of_memory(getattr(args[0], "path", None)) from None
    return wrapper


#: What a lenient reader gives for a prompt whose record is unreadable or whose text does not
#: match its hash.
UNMATCHED_PROMPT = ("(the trace's record of this prompt is unreadable or its text does not match "
                    "its hash; not shown)")


class Prompts(Mapping[str, str]):
    """A trace's prompts, hash -> text: a text is read from the trace when it is asked for, and
    a lenient reader's text that does not match its hash (or an unreadable record) is never
    returned (a placeholder, :data:`UNMATCHED_PROMPT`, with a warning)."""

    def __init__(self, source: Source):
        self._source = source
        self._at: dict[str, object] = {}  # hash -> text (checked) or where its record is

    def put(self, digest: str, text_or_place: object) -> None:
        self._at[digest] = text_or_place

    @property
    def path(self) -> str:
        return self._source.path

    @bounded
    def __getitem__(self, digest: str) -> str:
        found = self._at[digest]
        if isinstance(found, str):
            return found
        text = self._source.load_prompt(digest, found)
        self._at[digest] = text
        return text

    def __contains__(self, digest: object) -> bool:
        return digest in self._at

    def __iter__(self) -> Iterator[str]:
        return iter(self._at)

    def __len__(self) -> int:
        return len(self._at)


class Source(ABC):
    """One trace file, read as typed records. Subclasses scan their layout in ``_scan``."""

    compact = False

    def __init__(self, path: str, strict: bool):
        self.path = path
        self.strict = strict
        self.warnings: list[str] = []
        self._warned: set[str] = set()
        self.prompts = Prompts(self)
        self.divergence: Divergence | None = None
        self.end: End | None = None
        self.header: Header | None = None
        #: byte offset just past the last record read (where appended records go)
        self.valid_end = 0
        try:
            self._f = open(path, "rb")
            size = os.fstat(self._f.fileno()).st_size
        except OSError as e:
            raise TraceError(f"cannot read trace: {e.strerror}", path) from None
        if size == 0:
            self._f.close()
            raise TraceError("empty trace", path)
        self._data = mmap.mmap(self._f.fileno(), 0, access=mmap.ACCESS_READ)
        try:
            self._scan()
        except BaseException:
            self.close()
            raise
        if self.header is None:  # (a scan that returns has read one)
            self.close()
            raise TraceError("not a mannsim trace (no header)", path, 1)

    # -- what each layout provides ---------------------------------------------------------
    @abstractmethod
    def _scan(self) -> None: ...

    @abstractmethod
    def __len__(self) -> int: ...

    @abstractmethod
    def line_of(self, k: int) -> int:
        """The line of cycle ``k`` (1-based), as ``zstd -dc`` prints a compact trace."""

    @abstractmethod
    def cycle(self, k: int) -> Cycle:
        """The validated record of cycle ``k`` (1-based)."""

    @abstractmethod
    def steps(self) -> Iterator[Step]:
        """What a replay checks of every cycle, in order."""

    @abstractmethod
    def facts(self) -> Iterator[Facts]:
        """What ``trace stats`` counts of every cycle, in order."""

    @abstractmethod
    def load_prompt(self, digest: str, place: object) -> str:
        """The text of a prompt noted by place, checked against its hash."""

    def first_divergence(self) -> int | None:
        if self.divergence is not None:
            return self.divergence.cycle
        return next((k for k in range(1, len(self) + 1) if not self.cycle(k).ok), None)

    def snapshot_cycles(self) -> list[int]:
        """The cycle counts after which the trace records the machine (compact traces)."""
        return []

    def snapshot_line(self, cycles: int) -> int | None:
        return None

    def snapshot(self, cycles: int) -> Snapshot | None:
        return None

    def cases(self) -> dict[int, Case]:
        """A compact trace's cases by number."""
        return {}

    # -- shared ------------------------------------------------------------------------------
    def warn_once(self, message: str) -> None:
        if message not in self._warned:
            self._warned.add(message)
            self.warnings.append(message)

    def _bad(self, error: TraceError, lineno: int) -> bool:
        """Strict: raise. Lenient: warn and stop reading (returns True)."""
        if self.strict:
            raise error
        self.warnings.append(f"{self.path}:{lineno}: {error.message}; read up to line {lineno - 1}")
        return True

    def _check_next_cycle(self, rec: JSON, count: int, lineno: int) -> None:
        """A whole cycle record must follow the ``count`` before it and (strict) name a prompt
        an earlier record defines."""
        if rec["n"] != count + 1:
            raise TraceError(f"cycle {rec['n']} is out of order (expected cycle {count + 1})",
                             self.path, lineno)
        if self.strict and rec["prompt"] not in self.prompts:
            raise TraceError(f"cycle {rec['n']} names prompt {rec['prompt']}, which no "
                             "earlier record defines", self.path, lineno)

    def _resume_keeps(self, rec: JSON, count: int, lineno: int) -> int:
        """How many cycles a resume record keeps (at most the ``count`` before it); what
        followed them (a divergence, an end) no longer counts."""
        keep: int = rec["from"]
        if keep > count:
            raise TraceError(f"resume record keeps {keep} cycles, but only {count} precede it",
                             self.path, lineno)
        self.divergence = self.end = None
        return keep

    def _take_meta(self, rec: JSON, lineno: int) -> bool:
        """A record every layout reads the same way (True), or not one (False)."""
        kind = rec["t"]
        if kind == "prompt":
            text = rec["text"]
            if self.strict and prompt_hash(text) != rec["hash"]:
                raise TraceError("prompt record's text does not match its hash", self.path,
                                 lineno)
            # lenient: checked against its hash when it is read
            self.prompts.put(rec["hash"], text if self.strict else (text, lineno))
        elif kind == "divergence":
            self.divergence = Divergence.from_json(rec)
        elif kind == "end":
            self.end = End.from_json(rec)
        elif kind == "header":
            raise TraceError("a second header", self.path, lineno)
        else:
            return False
        return True

    def _checked_text(self, digest: str, text: str, lineno: int) -> str:
        if prompt_hash(text) != digest:
            self.warn_once(f"{self.path}:{lineno}: prompt {digest}'s text does not match its "
                           "hash; not shown")
            return UNMATCHED_PROMPT
        return text

    def close(self) -> None:
        try:
            self._data.close()
            self._f.close()
        except (OSError, ValueError, AttributeError):
            pass


def steps_of(cycle: Cycle) -> Step:
    return Step(cycle.state, cycle.head, cycle.read, cycle.prompt, cycle.answer,
                cycle.ok and not cycle.cut, cycle.writes, cycle.updates)


def facts_of(cycle: Cycle) -> Facts:
    return Facts(cycle.state, cycle.read, cycle.ms, cycle.tin, cycle.tout, cycle.cached,
                 cycle.ok)


__all__ = ["Prompts", "Source", "UNMATCHED_PROMPT", "bounded", "bounded_iter",
           "facts_of", "steps_of"]
