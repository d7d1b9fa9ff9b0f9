"""The records of a run, typed and frozen: what the loop yields, the writers store, the readers
return, and replay, the views and ``verify`` share.

A record's JSON form (:meth:`Cycle.as_json`, ...) is the trace's line for it; ``from_json``
takes a line already checked by :func:`mannsim.trace.schema.validate` (the readers do that),
so a record built here is well-typed by construction. The hot records (:class:`Cycle`,
:class:`Step`, :class:`Facts`) are named tuples: as cheap to build as the tuples they replace.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, NamedTuple

from .. import __version__

#: Builds a named tuple from its fields in order, without argument parsing (hot paths).
_new = tuple.__new__
#: A cycle's MEMORY writes and register updates, as the trace records them.
Writes = tuple[tuple[str, str], ...]
Updates = tuple[tuple[str, int], ...]
#: A case's writes: the head's own cell is keyed ``None`` (it moves with the head).
CaseWrites = tuple[tuple[str | None, str], ...]
JSON = dict[str, Any]


def pairs(value: Any) -> tuple[tuple[Any, Any], ...]:
    """Validated [key, value] lists as a tuple of pairs."""
    return tuple((p[0], p[1]) for p in value)


def move_of(updates: Updates) -> int:
    """How far a cycle's updates move the head."""
    return sum(d for label, d in updates if label == "i")


class Cycle(NamedTuple):
    """One cycle: the machine before it (``state``, ``head``, ``read``), the prompt (its hash),
    the raw answer, what it parsed to, and the check."""

    n: int
    state: str
    head: int
    read: str
    prompt: str
    answer: str
    writes: Writes
    updates: Updates
    ok: bool
    ms: float = 0.0
    tin: int = 0
    tout: int = 0
    cached: bool = False
    #: the answer was cut at the token limit, or is stored cut at MAX_ANSWER: a replay must
    #: reject it as the run did, whatever its text
    cut: bool = False

    @property
    def check(self) -> str:
        return "ok" if self.ok else "diverged"

    @property
    def move(self) -> int:
        return move_of(self.updates)

    def as_json(self) -> JSON:
        rec: JSON = {"t": "cycle", "n": self.n, "state": self.state, "head": self.head,
                     "read": self.read, "prompt": self.prompt, "answer": self.answer,
                     "writes": [list(w) for w in self.writes],
                     "updates": [list(u) for u in self.updates], "check": self.check,
                     "ms": round(self.ms, 3), "tin": self.tin, "tout": self.tout, "cached": self.cached}
        if self.cut:
            rec["cut"] = True
        return rec

    @classmethod
    def from_json(cls, rec: JSON) -> Cycle:
        return cls(rec["n"], rec["state"], rec["head"], rec["read"], rec["prompt"],
                   rec["answer"], pairs(rec.get("writes", ())), pairs(rec.get("updates", ())),
                   rec["check"] == "ok", float(rec.get("ms", 0.0)), rec.get("tin", 0),
                   rec.get("tout", 0), rec.get("cached", False), rec.get("cut", False))


class Case(NamedTuple):
    """What the checked cycles of a compact trace share: everything but the cycle number, the
    head (the case's own head cell is keyed ``None`` in ``writes``) and the latency."""

    state: str
    read: str
    prompt: str
    answer: str
    writes: CaseWrites
    updates: Updates
    tin: int
    tout: int

    @classmethod
    def of(cls, c: Cycle) -> Case:
        head = str(c.head)
        writes = tuple([(None, v) if k == head else (k, v) for k, v in c.writes])
        return _new(cls, (c.state, c.read, c.prompt, c.answer, writes, c.updates, c.tin,
                          c.tout))

    def fits(self, c: Cycle) -> bool:
        """Whether ``c`` is this case at its own head (``Case.of(c) == self``), checked without
        building a case."""
        if (self.answer != c.answer or self.prompt != c.prompt or self.updates != c.updates
                or self.state != c.state or self.read != c.read or self.tin != c.tin
                or self.tout != c.tout or len(self.writes) != len(c.writes)):
            return False
        head = str(c.head)
        for (mine, value), (label, theirs) in zip(self.writes, c.writes):
            if value != theirs:
                return False
            if mine is None:
                if label != head:
                    return False
            elif label != mine or label == head:
                return False
        return True

    def writes_at(self, head: int) -> Writes:
        """The case's writes with the head's own cell named (at ``head``)."""
        cell = str(head)
        return tuple([(cell if k is None else k, v) for k, v in self.writes])

    def at(self, n: int, head: int, ms: float = 0.0, cached: bool = False) -> Cycle:
        """The cycle ``n`` this case is, with the head at ``head``."""
        return Cycle(n, self.state, head, self.read, self.prompt, self.answer,
                     self.writes_at(head), self.updates, True, ms, self.tin, self.tout, cached)

    def as_json(self, k: int) -> JSON:
        return {"t": "case", "k": k, "state": self.state, "read": self.read,
                "prompt": self.prompt, "answer": self.answer,
                "writes": [list(w) for w in self.writes],
                "updates": [list(u) for u in self.updates], "tin": self.tin, "tout": self.tout}

    @classmethod
    def from_json(cls, rec: JSON) -> Case:
        return cls(rec["state"], rec["read"], rec["prompt"], rec["answer"],
                   pairs(rec["writes"]), pairs(rec["updates"]), rec["tin"], rec["tout"])


class Step(NamedTuple):
    """What a replay checks of a cycle: read without building whole records where it can."""

    state: str
    head: int
    read: str
    prompt: str
    answer: str
    #: checked and not cut
    ok: bool
    #: what the record says the answer wrote and updated (a replay compares them)
    writes: Writes = ()
    updates: Updates = ()


class Facts(NamedTuple):
    """What ``trace stats`` counts of a cycle."""

    state: str
    read: str
    ms: float
    tin: int
    tout: int
    cached: bool
    ok: bool


class Snapshot(NamedTuple):
    """The machine after ``cycles`` cycles (compact traces; unchecked until compared)."""

    cycles: int
    state: str
    head: int
    tape: tuple[str, ...]
    tape_start: int

    def as_json(self) -> JSON:
        return {"t": "snap", "cycles": self.cycles, "state": self.state, "head": self.head,
                "tape": list(self.tape), "tape_start": self.tape_start}

    @classmethod
    def from_json(cls, rec: JSON) -> Snapshot:
        return cls(rec["cycles"], rec["state"], rec["head"], tuple(rec["tape"]),
                   rec["tape_start"])


class End(NamedTuple):
    """Why a run stopped, and where its machine was."""

    reason: str
    cycles: int
    steps: int = 0
    state: str | None = None
    head: int | None = None
    tape: str = ""
    tape_start: int | None = None
    error: str | None = None

    def as_json(self) -> JSON:
        return {"t": "end", **self._asdict()}

    @classmethod
    def from_json(cls, rec: JSON) -> End:
        return cls(rec["reason"], rec["cycles"], rec.get("steps", 0), rec.get("state"),
                   rec.get("head"), rec.get("tape", ""), rec.get("tape_start"),
                   rec.get("error"))


class Resume(NamedTuple):
    """A run continued after its first ``kept`` cycles."""

    kept: int
    backend: JSON
    mannsim: str = __version__

    def as_json(self) -> JSON:
        return {"t": "resume", "from": self.kept, "mannsim": self.mannsim,
                "backend": self.backend}


@dataclass(frozen=True)
class Divergence:
    """The first difference from the reference machine: at which cycle, why, the expected and
    the actual configuration, and the prompt, answer and parse that led there."""

    cycle: int
    reason: str
    expected: JSON
    actual: JSON
    prompt: str
    answer: str
    parsed: JSON

    def as_dict(self) -> JSON:
        return {"cycle": self.cycle, "reason": self.reason, "expected": self.expected,
                "actual": self.actual, "prompt": self.prompt, "answer": self.answer,
                "parsed": self.parsed}

    def as_json(self) -> JSON:
        return {"t": "divergence", **self.as_dict()}

    @classmethod
    def from_json(cls, rec: JSON) -> Divergence:
        return cls(rec["cycle"], rec["reason"], rec.get("expected") or {},
                   rec.get("actual") or {}, rec.get("prompt", ""), rec.get("answer", ""),
                   rec.get("parsed") or {})


@dataclass(frozen=True)
class Checked:
    """What a view may vouch for at a cycle (:meth:`mannsim.trace.TraceIndex.checked`).

    ``config`` is ``"reference"`` when the configuration before the cycle was replayed from the
    initial configuration (through snapshots checked against it), ``"snapshot"`` when it was
    replayed from the trace's unchecked snapshot after ``snapshot`` cycles; ``state``, ``head``
    and ``read`` are that configuration's; ``writes`` and ``updates`` what the answer parses to
    there (None without the trace's program); ``problems`` each way the record disagrees;
    ``verified``: the configuration is the reference machine's and the record agrees with it.
    """

    config: str
    snapshot: int | None
    state: str
    head: int
    read: str
    writes: Writes | None
    updates: Updates | None
    problems: tuple[str, ...]
    verified: bool

    def summary(self) -> JSON:
        return {"config": self.config, "snapshot": self.snapshot, "verified": self.verified,
                "problems": list(self.problems)}
