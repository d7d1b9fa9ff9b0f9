"""Writing trace files (see :mod:`mannsim.trace`); reading is :mod:`mannsim.trace.index`."""
from __future__ import annotations

import json
import os
import time
from collections.abc import Callable, Iterable, Mapping
from typing import IO, Any

from . import compact
from .compact import record_line
from .header import Header
from .records import Case, Cycle, Divergence, End, Resume, Snapshot
from .schema import TraceError

#: Cases a compact trace defines at most; cycles past it are written in full.
MAX_CASES = 65536


class TraceWriter:
    """Appends records to a trace, flushing each one, so a killed run leaves a valid trace.

    The run hands it typed records (:meth:`cycle`, :meth:`divergence`, :meth:`end`,
    :meth:`resume`); the writer stores them in its layout (JSON Lines, or compact: cases,
    blocks and a snapshot of the machine every ``SNAP_EVERY`` checked cycles, which it decides
    on). :meth:`write` appends a raw JSON record (tests forge traces with it)."""

    def __init__(self, path: str, header: Header | None = None, append: bool = False,
                 keep: int | None = None):
        self.path = path
        self._blocks: compact.BlockWriter | None = None
        self._prompts: set[str] = set()
        self._cases: dict[Case, int] = {}
        #: (prompt, answer) -> the case number and case they made last
        self._last_case: dict[tuple[str, str], tuple[int, Case]] = {}
        self._pending: list[Cycle] = []  # compact: checked cycles not yet encoded
        self._since = time.monotonic()
        self._next_case = 0
        if compact.is_compact(path):
            self._open_compact(append, keep)
        else:
            self._open_plain(append, keep)
        if header is not None:
            self.write(header.as_json())

    @classmethod
    def reopen(cls, path: str, keep: int, prompts: Iterable[str],
               cases: Mapping[int, Case]) -> TraceWriter:
        """Go on writing a trace after its first ``keep`` bytes (its last valid record), which
        define ``prompts`` and (compact) ``cases``: a resume."""
        writer = cls(path, None, append=True, keep=keep)
        writer._prompts.update(prompts)
        for k, case in cases.items():
            writer._cases[case] = k
            writer._next_case = max(writer._next_case, k + 1)
        return writer

    def _open_plain(self, append: bool, keep: int | None) -> None:
        try:
            if append and keep is not None:
                with open(self.path, "rb+") as f:
                    f.truncate(keep)
            elif append:
                _drop_partial_tail(self.path)
            self._f: IO[Any] = open(self.path, "a" if append else "w", encoding="utf-8")
        except OSError as e:
            raise TraceError(f"cannot open trace for writing: {e.strerror}", self.path) from None

    def _open_compact(self, append: bool, keep: int | None) -> None:
        f: IO[bytes]
        try:
            if append:
                f = open(self.path, "rb+")
                f.truncate(keep if keep is not None else os.fstat(f.fileno()).st_size)
                f.seek(0, os.SEEK_END)
            else:
                f = open(self.path, "wb")
        except OSError as e:
            raise TraceError(f"cannot open trace for writing: {e.strerror}", self.path) from None
        self._f = f
        self._blocks = compact.BlockWriter(f, self.path)

    @property
    def compact(self) -> bool:
        return self._blocks is not None

    def knows_prompt(self, digest: str) -> bool:
        return digest in self._prompts

    def add_prompt(self, digest: str, text: str) -> None:
        self._prompts.add(digest)
        record = {"t": "prompt", "hash": digest, "text": text}
        if self._blocks is not None:
            self._blocks.define(record)
        else:
            self.write(record)

    def cycle(self, rec: Cycle, machine: Callable[[], Snapshot]) -> None:
        """Cycle ``rec``; ``machine()`` is the machine after it, asked for when a compact
        trace's snapshot is due. A compact trace's checked cycles wait in a list and are
        encoded together when a block is due (the same bytes, fewer calls a cycle)."""
        if self._blocks is None:
            self.write(rec.as_json())
            return
        if not rec.ok:
            self._drain()
            self._blocks.meta(rec.as_json())
            return
        pending = self._pending
        pending.append(rec)
        if rec.n % compact.SNAP_EVERY == 0:
            self._drain()
            self._blocks.snapshot(machine().as_json())
        elif len(pending) >= compact.BLOCK_CYCLES or \
                time.monotonic() - self._since >= compact.BLOCK_SECONDS:
            self._drain()

    def _drain(self) -> None:
        """The waiting checked cycles, encoded and handed to the block writer."""
        blocks, pending = self._blocks, self._pending
        self._since = time.monotonic()
        if blocks is None or not pending:
            return
        self._pending = []
        line = self._compact_cycle
        # one block (at most BLOCK_CYCLES are ever pending), written now, so a killed run
        # still loses at most the last second of cycles
        blocks.block([line(rec) or record_line(rec.as_json()) for rec in pending], pending[0].n,
                     pending[0].head)

    def divergence(self, d: Divergence) -> None:
        self.write(d.as_json())

    def end(self, e: End) -> None:
        self.write(e.as_json())

    def resume(self, r: Resume) -> None:
        self.write(r.as_json())

    def write(self, record: dict[str, Any]) -> None:
        """A raw record (validated by readers, not here)."""
        if self._blocks is not None:
            self._drain()
            if record.get("t") == "snap":
                self._blocks.snapshot(record)
            else:
                self._blocks.meta(record)
            return
        # ASCII JSON: any text a model returns (lone surrogates included) is written escaped
        line = json.dumps(record, ensure_ascii=True, separators=(",", ":")) + "\n"
        try:
            self._f.write(line)
            self._f.flush()
        except OSError as e:
            raise TraceError(f"cannot write trace: {e.strerror}", self.path) from None

    def _compact_cycle(self, rec: Cycle) -> bytes | None:
        """The line ``{"t":"c","k":K,…}`` of a checked cycle (None when the case table is
        full); a new case is defined first. The case a (prompt, answer) had last is tried
        first (:meth:`Case.fits`), so most cycles find theirs without building one."""
        assert self._blocks is not None
        key = (rec.prompt, rec.answer)
        last = self._last_case.get(key)
        if last is not None and last[1].fits(rec):
            k = last[0]
        else:
            case = Case.of(rec)
            found = self._cases.get(case)
            if found is None:
                if len(self._cases) >= MAX_CASES:
                    return None
                found = self._cases[case] = self._next_case
                self._next_case += 1
                self._blocks.define(case.as_json(found))
            k = found
            if len(self._last_case) < MAX_CASES:
                self._last_case[key] = (k, case)
        ms = round(rec.ms, 3)  # (a record keeps the latency exact; a trace, to the microsecond)
        if rec.cached:
            return (b'{"t":"c","k":%d,"ms":%r,"cached":true}\n' % (k, ms) if ms else
                    b'{"t":"c","k":%d,"cached":true}\n' % k)
        return b'{"t":"c","k":%d,"ms":%r}\n' % (k, ms) if ms else b'{"t":"c","k":%d}\n' % k

    def flush(self) -> None:
        self._drain()
        if self._blocks is not None:
            self._blocks.flush()

    def close(self) -> None:
        try:
            self._drain()
            if self._blocks is not None:
                self._blocks.flush()
        except TraceError:
            pass
        try:
            self._f.close()
        except OSError:
            pass


def _drop_partial_tail(path: str) -> None:
    """Cut an unfinished last line (a run killed mid-write) so appended records stay valid."""
    with open(path, "rb+") as f:
        f.seek(0, os.SEEK_END)
        size = f.tell()
        if size == 0:
            return
        f.seek(size - 1)
        if f.read(1) == b"\n":
            return
        pos = size
        while pos > 0:
            step = min(65536, pos)
            f.seek(pos - step)
            chunk = f.read(step)
            k = chunk.rfind(b"\n")
            if k >= 0:
                f.truncate(pos - step + k + 1)
                return
            pos -= step
        f.truncate(0)
