"""The one trace reader behind every command that reads a trace: a source (JSON Lines or
compact, :mod:`mannsim.trace.source`) of typed records, and the reference machine beside it.

Lenient mode (show, stats, plot, view) reads up to the first bad record with a warning; strict
mode (resume, decode) parses everything and refuses a bad, reordered or foreign record with one
error naming its line. Either way an unfinished last line (a killed run) is dropped with a
warning.

What a view shows is what the reader checked. The configuration at any cycle
(:meth:`TraceIndex.config_before`) is the reference machine's, replayed from the header's
machine (:mod:`mannsim.trace.configs`). :meth:`TraceIndex.checked` tells, for a cycle, where its
configuration came from and whether its record agrees: state, head and symbol with the
machine's, its prompt with the one the program renders, its answer with the lockstep check, its
writes with what the answer parses to. A record that disagrees is flagged there and warned
about in ``warnings``, never used silently. Running out of memory while reading is a
:class:`TraceError` (one line), not a traceback.
"""
from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from types import TracebackType

from ..machine.model import Machine
from ..program.compiler import Program
from ..program.recorded import recorded_program
from ..safe_text import one_line
from . import compact
from .checks import CycleChecks
from .compact_source import CompactSource
from .configs import Configurations, usable_snapshots
from .header import Header, header_machine, out_of_memory
from .jsonl import JsonlSource
from .records import Case, Checked, Cycle, Divergence, End, Facts, Snapshot, Step
from .schema import TraceError
from .source import Prompts, Source, bounded


def open_source(path: str, strict: bool = False) -> Source:
    """The source for the trace at ``path``: compact or JSON Lines, told by its first bytes."""
    try:
        with open(path, "rb") as f:
            magic = f.read(4)
    except OSError as e:
        raise TraceError(f"cannot read trace: {e.strerror}", path) from None
    return (CompactSource if magic == compact.MAGIC else JsonlSource)(path, strict)


class TraceIndex:
    """A trace opened for reading: its records (from its source) and what they are checked
    against (the header's machine, and its program when the dialect is a shipped one)."""

    def __init__(self, path: str, strict: bool = False):
        try:
            self.source = open_source(path, strict)
        except MemoryError:
            raise out_of_memory(path) from None
        self.path, self.strict = path, strict
        src = self.source
        assert src.header is not None
        self.header: Header = src.header
        self.prompts: Prompts = src.prompts
        self.warnings: list[str] = src.warnings
        self.compact = src.compact
        usable_snapshots(src)  # a snapshot where mannsim writes none is warned about now
        self._machine: Machine | None = None
        self._configs: Configurations | None = None
        self._programs: tuple[Program, bool] | None = None
        self._checks: CycleChecks | None = None

    # -- the records (the source's) -----------------------------------------------------------
    @property
    def divergence(self) -> Divergence | None:
        return self.source.divergence

    @property
    def end(self) -> End | None:
        return self.source.end

    @property
    def valid_end(self) -> int:
        """The byte offset just past the last record read (where appended records go)."""
        return self.source.valid_end

    def __len__(self) -> int:
        return len(self.source)

    @bounded
    def line_of(self, k: int) -> int:
        """The line of cycle ``k`` (1-based): in the file, or in a compact trace's JSON Lines
        (as ``zstd -dc`` prints them)."""
        return self.source.line_of(k)

    def cycle(self, k: int) -> Cycle:
        """The validated record of cycle ``k`` (1-based)."""
        return self.source.cycle(k)

    def steps(self) -> Iterator[Step]:
        """What a replay checks of every cycle (:func:`mannsim.replay.recheck`), in order, read
        without building whole records where the layout allows (tested equal to ``cycle``)."""
        return self.source.steps()

    def facts(self) -> Iterator[Facts]:
        """What ``trace stats`` counts of every cycle, in order."""
        return self.source.facts()

    @bounded
    def first_divergence(self) -> int | None:
        return self.source.first_divergence()

    def snapshot_cycles(self) -> list[int]:
        return self.source.snapshot_cycles()

    def snapshot_line(self, cycles: int) -> int | None:
        return self.source.snapshot_line(cycles)

    def snapshot(self, cycles: int) -> Snapshot | None:
        """The snapshot after ``cycles`` cycles as the trace says it, unchecked: a view uses
        one only once it is checked against the machine; a resume compares each one."""
        return self.source.snapshot(cycles)

    def cases(self) -> dict[int, Case]:
        return self.source.cases()

    # -- the machine and program, from the header ---------------------------------------------
    @bounded
    def machine(self) -> Machine:
        """The machine the header records (checked against its hash)."""
        if self._machine is None:
            self._machine = header_machine(self.header, self.path)
        return self._machine

    def programs(self) -> tuple[Program, bool]:
        """(program, known): the header's machine compiled with its key policy and the shipped
        dialect it names; ``known`` when that dialect has the recorded digest (otherwise the
        default dialect's program, good only for naming MEMORY keys)."""
        if self._programs is None:
            d = self.header.dialect
            self._programs = recorded_program(self.machine(), self.header.keys, d.get("name"),
                                              d.get("sha256"))
        return self._programs

    @property
    def program(self) -> Program | None:
        """The program that ran (None when the dialect is not a shipped one with its digest)."""
        program, known = self.programs()
        return program if known else None

    def _configurations(self) -> Configurations:
        if self._configs is None:
            self._configs = Configurations(self.source, self.machine())
        return self._configs

    @property
    def replayed_steps(self) -> int:
        """Reference-machine steps replayed so far (snapshot checks included)."""
        return 0 if self._configs is None else self._configs.replayed_steps

    @bounded
    def config_before(self, k: int) -> tuple[str, int, dict[int, str]]:
        """(state, head, cells) of the reference machine before cycle ``k``: replayed from the
        initial configuration or from a snapshot checked against it (or, past the
        verification budget, from an unchecked snapshot: :meth:`checked` says which)."""
        c = self._configurations()
        cfg, _ = c.before(k)
        r = c.replay
        return r.state(cfg), r.head(cfg), r.cells(cfg)

    def continue_from(self, old: TraceIndex) -> None:
        """Take over the configurations ``old`` replayed (a viewer following a run re-opens
        the trace every half second), when both headers hold the same machine."""
        if old._configs is not None and self._configs is None and old.machine() == self.machine():
            self._configurations().take_over(old._configs)

    # -- checks -------------------------------------------------------------------------------
    @bounded
    def checked(self, k: int) -> Checked:
        """What a view may vouch for at cycle ``k`` (1-based), from the reference machine and
        the program the header names, never from the record alone (see :class:`Checked`)."""
        rec = self.cycle(k)
        configs = self._configurations()
        cfg, source = configs.before(k)
        rp = configs.replay
        state, head, read = rp.state(cfg), rp.head(cfg), rp.symbols[cfg.tape[cfg.pos]]
        problems = []
        if (rec.state, rec.head, rec.read) != (state, head, read):
            problems.append(f"cycle {k} records state {one_line(rec.state, 40)}, head {rec.head}, "
                            f"read {one_line(rec.read, 40)}; the reference machine is in "
                            f"{one_line(state, 40)} at {head} reading {one_line(read, 40)}")
        bad = configs.bad_snapshot_before(k)
        if bad is not None:
            problems.append(bad)
        writes = updates = None
        program = self.program
        if program is not None:
            if self._checks is None:
                self._checks = CycleChecks(program)
            writes, updates, more = self._checks.derive(k, rec, state, head, read,
                                                        lambda: rp.cells(cfg))
            problems += more
        for p in problems:
            self.source.warn_once(f"{self.path}:{self.line_of(k)}: {p}")
        return Checked("reference" if source is None else "snapshot", source, state, head, read,
                       writes, updates, tuple(problems),
                       source is None and not problems and program is not None)

    def close(self) -> None:
        self.source.close()

    def __enter__(self) -> TraceIndex:
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()


@dataclass
class Trace:
    """A trace read whole: header, cycles (after applying resume records), prompts, end."""

    path: str
    header: Header
    cycles: list[Cycle] = field(default_factory=list)
    prompts: dict[str, str] = field(default_factory=dict)
    divergence: Divergence | None = None
    end: End | None = None
    warnings: list[str] = field(default_factory=list)


def read_trace(path: str, strict: bool = False) -> Trace:
    """Read a whole trace through :class:`TraceIndex` (small traces, tests, tools)."""
    try:
        return _read_trace(path, strict)
    except MemoryError:
        raise out_of_memory(path) from None


def _read_trace(path: str, strict: bool) -> Trace:
    with TraceIndex(path, strict=strict) as ix:
        cycles = []
        for k in range(1, len(ix) + 1):
            try:
                cycles.append(ix.cycle(k))
            except TraceError as e:
                if strict:
                    raise
                ix.warnings.append(f"{path}:{ix.line_of(k)}: {e.message}; read up to cycle {k - 1}")
                break
        return Trace(path, ix.header, cycles, dict(ix.prompts), ix.divergence, ix.end,
                     list(ix.warnings))
