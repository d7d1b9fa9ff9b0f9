"""Traces: JSON Lines, one record per cycle, appended and flushed as it happens.

Records (each a JSON object on its own line, told apart by ``"t"``):

- ``header`` (first line): format name and version, mannsim version, program (name, path,
  ``machine``: the canonical JSON form, ``sha256`` of it, ``keys``: the key policy), dialect
  (name, sha256), backend identity and decoding settings,
  limits, creation time.
- ``prompt``: ``hash`` and full ``text`` of a prompt, written once, before the first cycle that
  uses it.
- ``cycle``: ``n`` (cycle number from 1), ``state``, ``head``, ``read`` (the machine before the
  cycle), ``prompt`` (hash), ``answer`` (raw model text), ``writes`` and ``updates`` (what it
  parsed to; long values abbreviated), ``check`` (``ok``, ``diverged``), ``ms`` (latency),
  ``tin``/``tout`` (tokens), ``cached``.
- ``divergence``: the report of the first difference from the reference machine.
- ``resume``: a run continued from here (``from``: the last cycle kept).
- ``end``: why the run stopped (``halt``, ``max_steps``, ``divergence``, ``interrupted``,
  ``error``), cycles, final state, head and tape.

A trace cut off mid-record (a killed run) is read up to its last complete record. Every
record is validated by one schema (:mod:`mannsim.trace.schema`), becomes one typed record
(:mod:`mannsim.trace.records`) and is read by one reader (:class:`TraceIndex`, over a JSON Lines
or a compact source); the header (version 2) holds the machine in canonical JSON with its hash,
so a resumed run rebuilds exactly the machine that ran.
"""
from .header import Header, header_machine, read_header
from .index import Trace, TraceIndex, read_trace
from .io import TraceWriter
from .records import Case, Checked, Cycle, Divergence, End, Facts, Resume, Snapshot, Step
from .schema import FORMAT, VERSION, TraceError, prompt_hash

__all__ = ["FORMAT", "VERSION", "Case", "Checked", "Cycle", "Divergence", "End", "Facts",
           "Header", "Resume", "Snapshot", "Step", "Trace", "TraceError", "TraceIndex",
           "TraceWriter", "header_machine", "prompt_hash", "read_header", "read_trace"]
