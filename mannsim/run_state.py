"""What a run is and leaves: the state it stands in (:class:`RunState`, what a replay rebuilds
and a :class:`~mannsim.computer.Computer` goes on from), its report (:class:`RunReport`), and
the header its trace starts with (:func:`header_of`)."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .machine import Stepper, canonical
from .machine.model import Machine
from .memory import Memory
from .program import Program
from .trace.header import Header, provenance
from .trace.records import Divergence, Snapshot
from .trace.schema import VERSION


@dataclass
class RunState:
    """Where a run stands: its MEMORY, the reference machine beside it, the cycles done and
    checked. A new run starts from :meth:`initial`; a resume from the state a replay rebuilt
    (:func:`mannsim.replay.replayed`)."""

    memory: Memory
    stepper: Stepper
    cycle: int = 0               # cycles done (checked or diverged)
    checks: int = 0              # cycles checked against the reference and found equal
    resumed_from: int = 0
    #: what a resume found worth saying (a verdict the current rules changed)
    notes: list[str] = field(default_factory=list)

    @classmethod
    def initial(cls, program: Program) -> RunState:
        return cls(program.initial_memory(), Stepper(program.machine))


@dataclass
class RunReport:
    reason: str                      # halt | max_steps | divergence | interrupted | error
    cycles: int
    steps: int                       # reference steps taken
    state: str | None
    head: int | None
    cells: dict[int, str]
    elapsed: float
    checks: int                      # cycles checked against the reference and found equal
    divergence: Divergence | None = None
    error: str | None = None
    model_seconds: float = 0.0
    tokens_in: int = 0
    tokens_out: int = 0
    cached: int = 0
    resumed_from: int = 0
    notes: tuple[str, ...] = ()

    @property
    def halted(self) -> bool:
        return self.reason == "halt"

    @property
    def diverged(self) -> bool:
        return self.divergence is not None

    def as_dict(self, machine: Machine) -> dict[str, Any]:
        """The report as ``run --json`` prints it (``machine`` spells the tape)."""
        tape, start = machine.span_text(self.cells)
        d = self.divergence
        return {
            "steps": self.steps, "cycles": self.cycles, "halted": self.halted,
            "reason": self.reason, "final_state": self.state, "head": self.head,
            "tape": tape, "tape_start": start, "nonblank": len(self.cells),
            "checks": self.checks, "diverged": d is not None,
            "divergence_step": d.cycle if d else None, "divergence": d.as_dict() if d else None,
            "cached": self.cached, "seconds": round(self.elapsed, 6), "error": self.error,
            "resumed_from": self.resumed_from,
        }


def header_of(program: Program, backend: dict[str, Any], settings: dict[str, Any]) -> Header:
    """A trace header: what ran (the machine in canonical form, its key policy), with which
    dialect and backend, and the run's settings."""
    machine = program.machine
    prov = provenance({"name": machine.name, "path": machine.path,
                       "sha256": canonical.digest(machine),
                       "machine": canonical.to_data(machine), "keys": program.key_policy},
                      {"name": program.dialect.name, "sha256": program.dialect.digest}, backend)
    return Header(VERSION, prov["program"], prov["dialect"], prov["backend"], settings,
                  prov["mannsim"], prov["created"])


def snapshot_of(machine: Machine, stepper: Stepper, cycles: int) -> Snapshot:
    """The reference machine after ``cycles`` cycles, as a compact trace's snapshot records it
    (views open any cycle from the nearest snapshot; a resume checks each one)."""
    cells = stepper.cells
    lo, hi = (min(cells), max(cells)) if cells else (stepper.head, stepper.head)
    blank = machine.blank
    return Snapshot(cycles, stepper.state, stepper.head,
                    tuple(cells.get(c, blank) for c in range(lo, hi + 1)), lo)
