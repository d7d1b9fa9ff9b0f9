"""Writing trace files (see :mod:`mannsim.trace`); reading is :mod:`mannsim.trace.reader`."""
from __future__ import annotations

import json
import os

from . import compact
from .schema import FORMAT, VERSION, TraceError

#: Cases a compact trace defines at most; cycles past it are written in full.
MAX_CASES = 65536


class TraceWriter:
    """Appends records to a trace, flushing each one, so a killed run leaves a valid trace."""

    def __init__(self, path: str, header: dict | None = None, append: bool = False,
                 keep: int | None = None):
        self.path = path
        self._blocks: compact.BlockWriter | None = None
        if compact.is_compact(path):
            self._open_compact(header, append, keep)
            return
        try:
            if append and keep is not None:
                with open(path, "rb+") as f:
                    f.truncate(keep)
                self._f = open(path, "a", encoding="utf-8")
            elif append:
                _drop_partial_tail(path)
                self._f = open(path, "a", encoding="utf-8")
            else:
                self._f = open(path, "w", encoding="utf-8")
        except OSError as e:
            raise TraceError(f"cannot open trace for writing: {e.strerror}", path) from None
        self._prompts: set[str] = set()
        if header is not None:
            self.write({"t": "header", "format": FORMAT, "version": VERSION, **header})

    def _open_compact(self, header, append, keep) -> None:
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
        self._prompts = set()
        self._cases: dict[tuple, int] = {}
        self._next_case = 0
        if header is not None:
            self.write({"t": "header", "format": FORMAT, "version": VERSION, **header})

    @property
    def compact(self) -> bool:
        return self._blocks is not None

    def knows_case(self, k: int, case: dict) -> None:
        """A case an earlier part of the trace defined (resume)."""
        self._cases[_case_key(case)] = k
        self._next_case = max(self._next_case, k + 1)

    def knows_prompt(self, digest: str) -> bool:
        return digest in self._prompts

    def add_prompt(self, digest: str, text: str) -> None:
        self._prompts.add(digest)
        record = {"t": "prompt", "hash": digest, "text": text}
        if self._blocks is not None:
            self._blocks.define(record)
        else:
            self.write(record)

    def write(self, record: dict) -> None:
        if self._blocks is not None:
            self._write_compact(record)
            return
        # ASCII JSON: any text a model returns (lone surrogates included) is written escaped
        line = json.dumps(record, ensure_ascii=True, separators=(",", ":")) + "\n"
        try:
            self._f.write(line)
            self._f.flush()
        except OSError as e:
            raise TraceError(f"cannot write trace: {e.strerror}", self.path) from None

    def _write_compact(self, record: dict) -> None:
        kind = record.get("t")
        if kind == "snap":
            self._blocks.snapshot(record)
        elif kind == "cycle" and record.get("check") == "ok":
            self._blocks.cycle(self._compact_cycle(record) or record, record["n"],
                               record["head"])
        else:
            self._blocks.meta(record)

    def _compact_cycle(self, rec: dict) -> bytes | None:
        """The line ``{"t":"c","k":K,…}`` of a checked cycle (None when the case table is
        full); a new case is defined first."""
        head_key = str(rec["head"])
        writes = tuple((None if k == head_key else k, v) for k, v in rec.get("writes", ()))
        updates = tuple((k, v) for k, v in rec.get("updates", ()))
        key = (rec["state"], rec["read"], rec["prompt"], rec["answer"], writes, updates,
               rec.get("tin", 0), rec.get("tout", 0))
        k = self._cases.get(key)
        if k is None:
            if len(self._cases) >= MAX_CASES:
                return None
            k = self._cases[key] = self._next_case
            self._next_case += 1
            self._blocks.define({"t": "case", "k": k, "state": key[0], "read": key[1],
                                 "prompt": key[2], "answer": key[3],
                                 "writes": [list(w) for w in writes],
                                 "updates": [list(u) for u in updates], "tin": key[6],
                                 "tout": key[7]})
        ms = rec.get("ms")
        extra = f',"ms":{float(ms)!r}' if ms else ""
        if rec.get("cached"):
            extra += ',"cached":true'
        return f'{{"t":"c","k":{k}{extra}}}\n'.encode("ascii")

    def flush(self) -> None:
        if self._blocks is not None:
            self._blocks.flush()

    def close(self) -> None:
        try:
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


def _case_key(case: dict) -> tuple:
    return (case["state"], case["read"], case["prompt"], case["answer"],
            tuple(tuple(w) for w in case["writes"]), tuple(tuple(u) for u in case["updates"]),
            case["tin"], case["tout"])
