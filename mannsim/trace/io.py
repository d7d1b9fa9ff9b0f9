"""Writing trace files (see :mod:`mannsim.trace`); reading is :mod:`mannsim.trace.reader`."""
from __future__ import annotations

import json
import os

from .schema import FORMAT, VERSION, TraceError


class TraceWriter:
    """Appends records to a trace, flushing each one, so a killed run leaves a valid trace."""

    def __init__(self, path: str, header: dict | None = None, append: bool = False,
                 keep: int | None = None):
        self.path = path
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

    def knows_prompt(self, digest: str) -> bool:
        return digest in self._prompts

    def add_prompt(self, digest: str, text: str) -> None:
        self._prompts.add(digest)
        self.write({"t": "prompt", "hash": digest, "text": text})

    def write(self, record: dict) -> None:
        # ASCII JSON: any text a model returns (lone surrogates included) is written escaped
        line = json.dumps(record, ensure_ascii=True, separators=(",", ":")) + "\n"
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
