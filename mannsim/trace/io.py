"""Writing and reading trace files (see :mod:`mannsim.trace`)."""
from __future__ import annotations

import json
import os
from dataclasses import dataclass, field

from ..errors import MannsimError

FORMAT = "mannsim-trace"
VERSION = 1
#: Longest trace line read back (bytes); longer lines are skipped with a warning.
MAX_LINE = 16 * 1024 * 1024


class TraceError(MannsimError):
    """A trace that cannot be written or read."""


class TraceWriter:
    """Appends records to a trace, flushing each one, so a killed run leaves a valid trace."""

    def __init__(self, path: str, header: dict | None = None, append: bool = False):
        self.path = path
        try:
            if append:
                _drop_partial_tail(path)
                self._f = open(path, "a", encoding="utf-8")
            else:
                self._f = open(path, "w", encoding="utf-8")
        except OSError as e:
            raise TraceError(f"cannot open trace for writing: {e.strerror}", path) from None
        self._prompts: set[str] = set()
        if header is not None:
            self.write({"t": "header", "format": FORMAT, "version": VERSION, **header})

    def knows_prompt(self, digest: str) -> bool:
        return digest in self._prompts

    def add_prompt(self, digest: str, text: str) -> None:
        self._prompts.add(digest)
        self.write({"t": "prompt", "hash": digest, "text": text})

    def write(self, record: dict) -> None:
        line = json.dumps(record, ensure_ascii=False, separators=(",", ":")) + "\n"
        try:
            self._f.write(line)
            self._f.flush()
        except OSError as e:
            raise TraceError(f"cannot write trace: {e.strerror}", self.path) from None

    def close(self) -> None:
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


@dataclass
class Trace:
    """A trace read back: header, cycles (after applying resume records), prompts, end."""

    path: str
    header: dict
    cycles: list[dict] = field(default_factory=list)
    prompts: dict[str, str] = field(default_factory=dict)
    divergence: dict | None = None
    end: dict | None = None
    warnings: list[str] = field(default_factory=list)


def read_trace(path: str) -> Trace:
    """Read a whole trace; an incomplete or unreadable line ends it with a warning."""
    try:
        f = open(path, "rb")
    except OSError as e:
        raise TraceError(f"cannot read trace: {e.strerror}", path) from None
    trace = None
    with f:
        for lineno, raw in enumerate(f, 1):
            if len(raw) > MAX_LINE or not raw.endswith(b"\n"):
                if trace is not None:
                    trace.warnings.append(
                        f"{path}:{lineno}: incomplete last record; read up to line {lineno - 1}")
                break
            try:
                rec = json.loads(raw)
            except (json.JSONDecodeError, UnicodeDecodeError, RecursionError):
                if trace is None:
                    raise TraceError("not a mannsim trace (first line is not JSON)", path, 1) from None
                trace.warnings.append(f"{path}:{lineno}: unreadable record; read up to line {lineno - 1}")
                break
            if trace is None:
                if not isinstance(rec, dict) or rec.get("t") != "header" or rec.get("format") != FORMAT:
                    raise TraceError("not a mannsim trace (no header)", path, 1)
                if rec.get("version") != VERSION:
                    raise TraceError(f"trace version {rec.get('version')!r} is not {VERSION}", path, 1)
                trace = Trace(path, rec)
                continue
            if not isinstance(rec, dict):
                trace.warnings.append(f"{path}:{lineno}: record is not an object; read up to line {lineno - 1}")
                break
            kind = rec.get("t")
            if kind == "cycle":
                trace.cycles.append(rec)
            elif kind == "prompt":
                trace.prompts[rec.get("hash", "")] = rec.get("text", "")
            elif kind == "divergence":
                trace.divergence = rec
            elif kind == "end":
                trace.end = rec
            elif kind == "resume":
                keep = int(rec.get("from", 0))
                del trace.cycles[keep:]
                trace.divergence = None
                trace.end = None
    if trace is None:
        raise TraceError("empty trace", path)
    return trace
