"""A lazy index over a trace file: opens a 40,000-cycle trace without parsing every record.

The file is scanned once for line offsets; a line's kind is read from its first bytes
(``{"t":"cycle"``); only headers, prompts, divergences, resume and end records are parsed up
front. ``cycle(k)`` parses one record on demand. The machine's tape at any cycle comes from the
reference machine in the header (replayed with snapshots every 1,000 steps), which the trace's
checks say equals MEMORY at every cycle marked ok.
"""
from __future__ import annotations

import json
import mmap
import os

from ..errors import MannsimError
from .io import FORMAT, VERSION, TraceError

_CYCLE = b'{"t":"cycle"'
SNAPSHOT_EVERY = 1000


class TraceIndex:
    def __init__(self, path: str):
        self.path = path
        self.warnings: list[str] = []
        self.prompts: dict[str, str] = {}
        self.divergence: dict | None = None
        self.end: dict | None = None
        self._offsets: list[int] = []
        try:
            self._f = open(path, "rb")
            size = os.fstat(self._f.fileno()).st_size
        except OSError as e:
            raise TraceError(f"cannot read trace: {e.strerror}", path) from None
        if size == 0:
            raise TraceError("empty trace", path)
        self._data = mmap.mmap(self._f.fileno(), 0, access=mmap.ACCESS_READ)
        self._scan()
        self._stepper = None
        self._snapshots: dict[int, tuple] = {}

    def _parse_line(self, start: int, end: int):
        try:
            return json.loads(self._data[start:end])
        except (json.JSONDecodeError, UnicodeDecodeError, RecursionError):
            return None

    def _scan(self) -> None:
        data, pos, lineno = self._data, 0, 0
        first = True
        while True:
            nl = data.find(b"\n", pos)
            lineno += 1
            if nl < 0:
                if pos < len(data):
                    self.warnings.append(f"{self.path}:{lineno}: incomplete last record; read up "
                                         f"to line {lineno - 1}")
                break
            if first:
                rec = self._parse_line(pos, nl)
                if not isinstance(rec, dict) or rec.get("t") != "header" or rec.get("format") != FORMAT:
                    raise TraceError("not a mannsim trace (no header)", self.path, 1)
                if rec.get("version") != VERSION:
                    raise TraceError(f"trace version {rec.get('version')!r} is not {VERSION}",
                                     self.path, 1)
                self.header = rec
                first = False
            elif data[pos:pos + len(_CYCLE)] == _CYCLE:
                self._offsets.append(pos)
            else:
                rec = self._parse_line(pos, nl)
                if not isinstance(rec, dict):
                    self.warnings.append(f"{self.path}:{lineno}: unreadable record; read up to "
                                         f"line {lineno - 1}")
                    break
                kind = rec.get("t")
                if kind == "prompt":
                    self.prompts[str(rec.get("hash"))] = str(rec.get("text", ""))
                elif kind == "divergence":
                    self.divergence = rec
                elif kind == "end":
                    self.end = rec
                elif kind == "resume":
                    del self._offsets[int(rec.get("from", 0)):]
                    self.divergence = self.end = None
            pos = nl + 1
        if first:
            raise TraceError("not a mannsim trace (no header)", self.path, 1)

    def __len__(self) -> int:
        return len(self._offsets)

    def cycle(self, k: int) -> dict:
        """The record of cycle ``k`` (1-based)."""
        start = self._offsets[k - 1]
        end = self._data.find(b"\n", start)
        rec = self._parse_line(start, end)
        if not isinstance(rec, dict):
            raise TraceError(f"cycle {k} is unreadable", self.path)
        return rec

    def first_divergence(self) -> int | None:
        if self.divergence is not None:
            return int(self.divergence.get("cycle", len(self)))
        for k in range(1, len(self) + 1):
            if self.cycle(k).get("check") != "ok":
                return k
        return None

    # -- the machine's tape, from the reference machine in the header -------------------
    def machine(self):
        from ..machine.formats import native
        text = (self.header.get("program") or {}).get("text", "")
        try:
            return native.parse(text, self.path)
        except MannsimError as e:
            raise TraceError(f"the program in the trace header does not parse: {e.message}",
                             self.path, 1) from None

    def config_before(self, k: int):
        """(state, head, cells) of the reference machine before cycle ``k``."""
        from ..machine import Stepper
        if self._stepper is None:
            self._stepper = Stepper(self.machine())
            self._snapshots[0] = (self._stepper.state, self._stepper.head, dict(self._stepper.cells))
        target = k - 1
        base = max(s for s in self._snapshots if s <= target)
        st = self._stepper
        st.state, st.head, snap = self._snapshots[base]
        st.cells, st.steps, st.halted = dict(snap), base, False
        while st.steps < target:
            if st.step() is None:
                break
            if st.steps % SNAPSHOT_EVERY == 0 and st.steps not in self._snapshots:
                self._snapshots[st.steps] = (st.state, st.head, dict(st.cells))
        return st.state, st.head, dict(st.cells)

    def close(self) -> None:
        try:
            self._data.close()
            self._f.close()
        except (OSError, ValueError):
            pass
