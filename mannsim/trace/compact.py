"""Compact traces: the same JSON Lines records, compressed in zstandard frames, with an index.

A compact trace (a path ending in ``.zst``) is a sequence of *blocks*. Each block is a zstd
skippable frame (8 bytes of frame header and 24 bytes of :data:`BLOCK`: the block's kind, the
compressed size of the data frame that follows, its decompressed size, its number of records,
the number of the first cycle it holds, and the head before that cycle) followed by one zstd
data frame whose content is JSON Lines. ``zstd -dc trace.jsonl.zst`` therefore prints a JSON
Lines trace: zstd skips the index frames.

Two kinds of block:

- ``meta``: any records but compact cycles: the header, ``prompt`` and ``case`` definitions,
  a diverged cycle in full, ``divergence``, ``resume``, ``end``. A reader decodes every meta
  block when it opens the trace (all of them together at most
  :data:`~mannsim.limits.MAX_TRACE_META` bytes, checked from the index first); a lenient reader
  keeps each prompt and case as its line and parses it when a view needs it.
- ``snap``: one ``snap`` record (the machine after ``first`` cycles), decoded only when a view
  or a resume needs it, so opening a trace reads none of the tapes.
- ``cycles``: at most :data:`BLOCK_CYCLES` compact cycle records, ``{"t":"c","k":K}`` (cycle
  ``n`` is the previous one plus one; its state, symbol read, prompt, answer and parsed writes
  are those of the case ``K`` defined earlier; the head moves by the case's ``i`` update), with
  ``ms``, ``tin``, ``tout`` and ``cached`` only where they are not the case's. A reader decodes
  such a block only when a cycle in it is asked for, so opening cycle N of a 10^8-cycle trace
  decodes one block.

Only checked (``ok``) cycles are compacted; anything else is written in full. Blocks are
written when 4,096 cycles are pending, a second after the last block, and before any meta
record, so a killed run loses at most the last second of cycles, and a resume goes on after the
last whole block. Every block's sizes are checked before it is decompressed (a block may not
expand past :data:`MAX_BLOCK` bytes, a record in it past ``MAX_TRACE_LINE``, the meta blocks of
a trace together past ``MAX_TRACE_META``), so a small hostile file cannot exhaust memory.

Why zstandard (the ``zstandard`` package): the format is an IETF standard (RFC 8878) with
skippable frames for our index and a command-line tool everywhere; the binding is the one httpx
(already a dependency, through openai) uses for zstd, has wheels for every platform, and has
been maintained since 2016. Level 3 compresses a U15,2 trace's JSON Lines at hundreds of MB/s.
"""
from __future__ import annotations

import json
import mmap
import struct
from typing import IO, Any

from ..errors import MannsimError
from ..limits import MAX_TRACE_LINE, MAX_TRACE_META
from .records import JSON
from .schema import TraceError

SUFFIX = ".zst"
#: The zstd skippable-frame magic number mannsim's index frames use (0x184D2A50-5F are free).
SKIP_MAGIC = 0x184D2A5E
_SKIP = struct.Struct("<II")
#: The first four bytes of a compact trace (its first block's index frame).
MAGIC = struct.pack("<I", SKIP_MAGIC)
#: kind, data frame's compressed size, its decompressed size, records, first cycle n, head
BLOCK = struct.Struct("<BxxxIIIqq")
_HEAD = HEAD_SIZE = _SKIP.size + BLOCK.size
META, CYCLES, SNAP = 1, 2, 3
#: The most a block may decompress to (a header with a large machine fits; a bomb does not).
MAX_BLOCK = 64 << 20
#: Compact cycles per block, and seconds between two blocks.
BLOCK_CYCLES = 4096
BLOCK_SECONDS = 1.0
LEVEL = 3
#: A snapshot of the machine (state, head, tape) every this many cycles, so a viewer replays
#: at most this many reference steps to show any cycle's tape.
SNAP_EVERY = 1 << 18


def is_compact(path: str) -> bool:
    return str(path).endswith(SUFFIX)


def _zstd() -> Any:
    try:  # lazy: only compact traces need it; a one-line error if it is missing
        import zstandard
    except ImportError:  # pragma: no cover - a declared dependency
        raise MannsimError("compact traces need the zstandard package "
                           "(pip install zstandard)") from None
    return zstandard


# -- writing ----------------------------------------------------------------------------------
class BlockWriter:
    """Appends blocks to a compact trace: meta records, definitions, snapshots and cycles."""

    def __init__(self, f: IO[bytes], path: str) -> None:
        self._f, self.path = f, path
        # each frame carries its content's checksum (4 bytes): a damaged block fails to
        # decompress instead of decoding into other records
        self._z = _zstd().ZstdCompressor(level=LEVEL, write_checksum=True)
        self._meta: list[bytes] = []  # definitions waiting for the block that uses them

    def meta(self, record: JSON) -> None:
        """A record that is not a compact cycle: written (after any definitions) now."""
        self._meta.append(record_line(record))
        self.flush()

    def snapshot(self, record: JSON) -> None:
        """A ``snap`` record in a block of its own (its index names the cycle count)."""
        self.flush()
        self._block(SNAP, [record_line(record)], record["cycles"], record["head"])

    def define(self, record: JSON) -> None:
        """A definition (prompt, case) needed by the cycles that follow: it goes out in a meta
        block just before the cycle block that first uses it."""
        self._meta.append(record_line(record))

    def block(self, lines: list[bytes], first: int, head: int) -> None:
        """Consecutive cycles from cycle ``first`` (the head before it at ``head``), their lines
        made, as one block (at most :data:`BLOCK_CYCLES`), after the definitions they use."""
        self.flush()
        self._block(CYCLES, lines, first, head)

    def flush(self) -> None:
        """The waiting definitions, in a meta block."""
        if self._meta:
            self._block(META, self._meta, 0, 0)
            self._meta = []

    def _block(self, kind: int, lines: list[bytes], first: int, head: int) -> None:
        raw = b"".join(lines)
        data = self._z.compress(raw)
        head_bytes = _SKIP.pack(SKIP_MAGIC, BLOCK.size) + BLOCK.pack(
            kind, len(data), len(raw), len(lines), first, head)
        try:
            self._f.write(head_bytes + data)
            self._f.flush()
        except OSError as e:
            raise TraceError(f"cannot write trace: {e.strerror}", self.path) from None


def record_line(record: JSON) -> bytes:
    return (json.dumps(record, ensure_ascii=True, separators=(",", ":")) + "\n").encode("ascii")


# -- reading ----------------------------------------------------------------------------------
class Block:
    """One block's index entry (from its skippable frame; checked when it is decoded)."""

    __slots__ = ("offset", "kind", "size", "raw_size", "records", "first", "head", "line")

    def __init__(self, offset: int, kind: int, size: int, raw_size: int, records: int,
                 first: int, head: int, line: int) -> None:
        self.offset, self.kind, self.size, self.raw_size = offset, kind, size, raw_size
        self.records, self.first, self.head, self.line = records, first, head, line

    @property
    def end(self) -> int:
        return self.offset + _HEAD + self.size


def scan_blocks(data: bytes | mmap.mmap, path: str, warnings: list[str],
                partial: bool = False) -> list[Block]:
    """The blocks of a compact trace (only their index frames are read). A cut-off last block
    (a killed run) is dropped with a warning; anything else that is not a block is an error.
    With ``partial``, ``data`` is the file's start: its one block index is read, whole or not."""
    blocks: list[Block] = []
    pos, line, total = 0, 1, len(data)
    while pos < total:
        if total - pos < _HEAD:
            warnings.append(f"{path}: incomplete last block at byte {pos}; read up to it")
            break
        magic, size = _SKIP.unpack_from(data, pos)
        if magic != SKIP_MAGIC or size != BLOCK.size:
            raise TraceError(f"not a compact mannsim trace block at byte {pos}", path)
        kind, csize, raw, records, first, head = BLOCK.unpack_from(data, pos + _SKIP.size)
        if kind not in (META, CYCLES, SNAP) or raw > MAX_BLOCK or records > raw or \
                (kind == CYCLES and (first < 1 or records > BLOCK_CYCLES)) or \
                (kind == SNAP and (records != 1 or first < 0)):
            raise TraceError(f"invalid block index at byte {pos}", path)
        if partial:
            return [Block(pos, kind, csize, raw, records, first, head, line)]
        if pos + _HEAD + csize > total:
            warnings.append(f"{path}: incomplete last block at byte {pos}; read up to it")
            break
        blocks.append(Block(pos, kind, csize, raw, records, first, head, line))
        line += records
        pos += _HEAD + csize
    return blocks


def check_meta_budget(blocks: list[Block], path: str) -> None:
    """Refuse, before anything is decompressed, a trace whose meta blocks (all decoded when it is
    opened) would decompress to more than :data:`~mannsim.limits.MAX_TRACE_META` bytes in all.
    The sizes are the index's; :func:`decode_block` holds each frame to its index."""
    total = 0
    for b in blocks:
        if b.kind == META:
            total += b.raw_size
            if total > MAX_TRACE_META:
                raise TraceError(f"its meta blocks decompress to more than {MAX_TRACE_META:,} "
                                 f"bytes (MAX_TRACE_META, the most one trace may hold): refused "
                                 f"as a decompression bomb", path, b.line)


def decode_block(data: bytes | mmap.mmap, block: Block, path: str) -> list[bytes]:
    """The JSON lines of a block, its index checked against what the frame holds."""
    z = _zstd()
    start = block.offset + _HEAD
    frame = data[start:start + block.size]
    where = f"block at byte {block.offset}"
    try:
        size = z.frame_content_size(frame)
    except z.ZstdError:
        raise TraceError(f"{where} is not a zstd frame", path, block.line) from None
    if size != block.raw_size:
        raise TraceError(f"{where}: its frame does not hold the size its index says", path,
                         block.line)
    try:
        raw = z.ZstdDecompressor().decompress(frame, max_output_size=MAX_BLOCK)
    except z.ZstdError:
        raise TraceError(f"{where} does not decompress", path, block.line) from None
    if len(raw) != block.raw_size or (raw and not raw.endswith(b"\n")):
        raise TraceError(f"{where} is damaged", path, block.line)
    lines: list[bytes] = raw.split(b"\n")[:-1]
    if lines and max(map(len, lines)) > MAX_TRACE_LINE:
        raise TraceError(f"{where} holds a record longer than {MAX_TRACE_LINE} bytes", path,
                         block.line)
    if len(lines) != block.records:
        raise TraceError(f"{where} holds {len(lines)} records, its index says {block.records}",
                         path, block.line)
    return lines
