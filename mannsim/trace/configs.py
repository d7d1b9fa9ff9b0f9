"""The reference machine's configuration before any cycle of a trace, replayed from the header's
machine: what a view shows is what this replay says, never the record alone.

A compact trace's snapshots only shorten the replay once each is checked against it (from the
initial configuration, snapshot by snapshot, at most ``MAX_VERIFY_STEPS`` steps in all, the
result kept); past that budget a configuration replayed from an unchecked snapshot says so.
Configurations of the cycles shown last are kept (at most :data:`CHECKPOINTS`, together at most
:data:`CHECKPOINT_CELLS` cells), so a viewer stepping around replays little.
"""
from __future__ import annotations

import bisect
from collections import OrderedDict

from ..limits import MAX_TAPE_SPAN, MAX_VERIFY_STEPS
from ..machine.blockrun import BlockRun, BlockTape
from ..machine.model import Machine
from ..safe_text import one_line
from . import compact
from .schema import TraceError
from .source import Source

CHECKPOINTS = 64
CHECKPOINT_CELLS = 1 << 24
#: A replay longer than this keeps the configuration at the last multiple of it on its way.
CHECKPOINT_EVERY = 1024
#: A snapshot's status before any replay has reached it.
UNCHECKED = "unchecked"


def _past_span(cell: int) -> TraceError:
    return TraceError(f"replayed, the machine's head reaches cell {cell:,}, past the tape span "
                      f"cap of {MAX_TAPE_SPAN:,} cells from cell 0, where a run stops: no "
                      "mannsim run recorded these cycles")


def usable_snapshots(source: Source) -> list[int]:
    """The snapshots a view may start from once checked: those after a positive multiple of
    ``SNAP_EVERY`` cycles (all mannsim writes), within the trace; any other is warned about
    (once, when the trace is opened) and never used."""
    usable = []
    for c in source.snapshot_cycles():
        if c > 0 and c % compact.SNAP_EVERY == 0 and c <= len(source):
            usable.append(c)
        else:
            source.warn_once(f"{source.path}:{source.snapshot_line(c)}: a snapshot after cycle "
                             f"{c:,}, where mannsim writes none (one every "
                             f"{compact.SNAP_EVERY:,} cycles, within the trace): not used")
    return usable


class Configurations:
    """The reference machine's configurations along a trace (``source``), by replay."""

    def __init__(self, source: Source, machine: Machine):
        self.source, self.path, self.machine = source, source.path, machine
        self.replay = BlockRun(machine, past_span=_past_span)
        cells = {i: s for i, s in enumerate(machine.tape) if s != machine.blank}
        initial = self.replay.config(machine.start, machine.head, cells)
        if initial is None:  # (a machine file cannot say this: its head and tape are capped)
            raise TraceError("the header's machine starts past the tape span cap", self.path, 1)
        self.initial = initial
        #: the furthest configuration checked so far: (cycles, configuration)
        self.front: tuple[int, BlockTape] = (0, initial.copy())
        self.verify_left = MAX_VERIFY_STEPS
        #: snapshot cycles -> None (checked: the machine's) or what is wrong with it
        self.snap_status: dict[int, str | None] = {}
        #: snapshot cycles the replay passed -> a digest of the machine's configuration there
        self.ref_digest: dict[int, bytes] = {}
        self.usable = usable_snapshots(source)
        self.checkpoints: OrderedDict[int, tuple[BlockTape, int | None]] = OrderedDict()
        self.checkpoint_cells = 0  # the tape cells the checkpoints hold together
        self._last: tuple[int, BlockTape, int | None] | None = None
        #: reference-machine steps replayed so far (snapshot checks included)
        self.replayed_steps = 0

    def _advance(self, cfg: BlockTape, steps: int) -> None:
        try:
            self.replayed_steps += self.replay.advance(cfg, steps)
        except TraceError as e:
            raise e.located(self.path) from None

    def _verify_through(self, target: int) -> None:
        """Check the snapshots after at most ``target`` cycles against the machine, in order
        from the furthest checked configuration, while the budget lasts."""
        snaps = self.usable
        i = bisect.bisect_right(snaps, self.front[0])
        while i < len(snaps) and snaps[i] <= target:
            c, cfg = self.front
            r = snaps[i]
            if r - c > self.verify_left:
                return
            self.verify_left -= r - c
            self._advance(cfg, r - c)
            self.front = (r, cfg)
            self.ref_digest[r] = self.replay.digest(cfg)
            self.status(r)
            i += 1

    def status(self, r: int) -> str | None:
        """The snapshot after ``r`` cycles: None when it is the machine's configuration, what
        is wrong with it, or :data:`UNCHECKED` when no replay has reached it yet."""
        if r in self.snap_status:
            return self.snap_status[r]
        digest = self.ref_digest.get(r)
        if digest is None:
            return UNCHECKED
        snap, problem = self._snapshot_config(r)
        if snap is None:
            problem = f"the snapshot after cycle {r:,} cannot be used: {problem}"
        elif self.replay.digest(snap) != digest:
            rp = self.replay
            problem = (f"the snapshot after cycle {r:,} is not the reference machine's "
                       f"configuration (it says state {one_line(rp.state(snap), 40)}, head "
                       f"{rp.head(snap)}); not used")
        if problem is not None:
            self.source.warn_once(f"{self.path}:{self.source.snapshot_line(r)}: {problem}")
        self.snap_status[r] = problem
        return problem

    def take_over(self, old: Configurations) -> None:
        """Take over what ``old`` replayed (a viewer following a run re-opens the trace every
        half second): the reference machine's configurations are the machine's whatever the
        file says, so they carry over when both headers hold the same machine; each snapshot
        is still compared, with the configuration ``old`` replayed there."""
        if old.machine != self.machine:
            return
        self.front = (old.front[0], old.front[1].copy())
        self.verify_left = old.verify_left
        self.ref_digest = dict(old.ref_digest)
        self.replay = old.replay
        for c, (cfg, source) in old.checkpoints.items():
            if source is None:
                self.checkpoints[c] = (cfg, None)
                self.checkpoint_cells += len(cfg.tape)

    def _snapshot_config(self, r: int) -> tuple[BlockTape | None, str | None]:
        """The snapshot after ``r`` cycles as a configuration, or None and what is wrong."""
        try:
            snap = self.source.snapshot(r)
        except TraceError as e:
            return None, e.message
        cfg = None if snap is None else self.replay.config(
            snap.state, snap.head, {snap.tape_start + i: s for i, s in enumerate(snap.tape)})
        if cfg is None:
            return None, ("it names a state or symbol the machine does not have, or cells past "
                          "the tape span cap")
        return cfg, None

    def before(self, k: int) -> tuple[BlockTape, int | None]:
        """The configuration before cycle ``k`` and the unchecked snapshot it was replayed
        from (None: from the initial configuration or a checked snapshot)."""
        if self._last is not None and self._last[0] == k:
            return self._last[1], self._last[2]
        target = max(0, k - 1)
        self._verify_through(target)
        base_c, base, source = 0, self.initial, None  # the initial configuration
        front_c, front = self.front
        if base_c < front_c <= target:
            base_c, base = front_c, front
        for c, (cfg, src) in self.checkpoints.items():
            if c <= target and (c > base_c or (c == base_c and src is None)):
                base_c, base, source = c, cfg, src
        snaps = self.usable
        j = bisect.bisect_right(snaps, target) - 1
        while j >= 0 and snaps[j] > base_c:
            r = snaps[j]
            status = self.status(r)
            if status is None or (status is UNCHECKED and r > front_c):
                found, problem = self._snapshot_config(r)
                if found is not None:
                    base_c, base, source = r, found, (None if status is None else r)
                    break
                problem = f"the snapshot after cycle {r:,} cannot be used: {problem}"
                self.snap_status[r] = problem
                self.source.warn_once(f"{self.path}:{self.source.snapshot_line(r)}: {problem}")
            j -= 1
        most = max(MAX_VERIFY_STEPS, 4 * compact.SNAP_EVERY)
        if self.source.compact and target - base_c > most:  # (a plain trace: as long as its file)
            raise TraceError(f"cycle {k:,} lies {target - base_c:,} steps past the nearest "
                             "configuration the reader can start from (mannsim writes a "
                             f"snapshot every {compact.SNAP_EVERY:,} cycles; these are missing "
                             f"or wrong), more than it replays ({most:,})",
                             self.path, self.source.line_of(k))
        cfg = base.copy()
        mid = target - target % CHECKPOINT_EVERY
        if mid - base_c > CHECKPOINT_EVERY:  # a long way: keep a configuration near the end,
            self._advance(cfg, mid - base_c)  # so the cycles just before this one are near too
            self._keep(mid, cfg, source)
            base_c = mid
        self._advance(cfg, target - base_c)
        self._keep(target, cfg, source)
        self._last = (k, cfg, source)
        return cfg, source

    def _keep(self, c: int, cfg: BlockTape, source: int | None) -> None:
        cp = self.checkpoints
        if c in cp:
            self.checkpoint_cells -= len(cp[c][0].tape)
        cp[c] = (cfg.copy(), source)
        cp.move_to_end(c)
        self.checkpoint_cells += len(cfg.tape)
        while len(cp) > CHECKPOINTS or (self.checkpoint_cells > CHECKPOINT_CELLS and len(cp) > 1):
            _, (old, _) = cp.popitem(last=False)
            self.checkpoint_cells -= len(old.tape)

    def bad_snapshot_before(self, k: int) -> str | None:
        """What is wrong with the last usable snapshot before cycle ``k``, if anything."""
        j = bisect.bisect_right(self.usable, k - 1) - 1
        if j < 0:
            return None
        status = self.status(self.usable[j])
        return None if status is UNCHECKED else status
