"""A trace's header (:class:`Header`, the provenance of a run): parsed and validated
(:func:`parse_header`), read alone (:func:`read_header`), and the machine it records
(:func:`header_machine`)."""
from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass, field
from typing import BinaryIO

from .. import __version__
from ..errors import MannsimError
from ..limits import MAX_TRACE_LINE
from ..machine import canonical
from ..machine.formats import native
from ..machine.model import Machine
from ..program.compiler import KEY_POLICIES, KeyPolicy
from . import compact
from .records import JSON
from .schema import FORMAT, VERSIONS, TraceError, parse_line


@dataclass(frozen=True)
class Header:
    """A trace's first record: the provenance of a run (what ran, on what, how).

    ``program`` holds the machine's name, path, canonical form (``machine``; version 1 headers
    hold native ``text`` instead) and ``sha256``; ``dialect`` its name and ``sha256``;
    ``backend`` the backend's identity; ``settings`` the run's step limit and memo flag. The
    dicts are the validated JSON (:func:`mannsim.trace.header.parse_header`)."""

    version: int
    program: JSON
    dialect: JSON
    backend: JSON
    settings: JSON = field(default_factory=dict)
    mannsim: str = __version__
    created: str = ""

    @property
    def keys(self) -> KeyPolicy:
        """The key policy the run compiled with (traces before register keys used names)."""
        return KeyPolicy.recorded(self.program.get("keys"))

    @property
    def program_name(self) -> str | None:
        return _name(self.program)

    @property
    def backend_name(self) -> str | None:
        return _name(self.backend)

    @property
    def dialect_name(self) -> str | None:
        return _name(self.dialect)

    @property
    def max_steps(self) -> int | None:
        limit = self.settings.get("max_steps")
        ok = isinstance(limit, int) and not isinstance(limit, bool) and limit >= 0
        return limit if ok else None

    def as_json(self) -> JSON:
        return {"t": "header", "format": FORMAT, "version": self.version,
                "mannsim": self.mannsim, "program": self.program, "dialect": self.dialect,
                "backend": self.backend, "settings": self.settings, "created": self.created}

    @classmethod
    def from_json(cls, rec: JSON) -> Header:
        return cls(rec["version"], rec["program"], rec["dialect"], rec["backend"],
                   rec.get("settings") or {}, rec.get("mannsim", ""), rec.get("created", ""))


def _name(part: JSON) -> str | None:
    name = part.get("name")
    return name if isinstance(name, str) else None


def provenance(machine: JSON, dialect: JSON, backend: JSON) -> JSON:
    """The provenance block a trace header and a certificate share: the program (``machine``:
    name, path, sha256, canonical form, key policy), dialect and backend identity, mannsim's
    version and the time."""
    return {"mannsim": __version__, "program": machine, "dialect": dialect, "backend": backend,
            "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}


def out_of_memory(path: str | None) -> TraceError:
    """Running out of memory while reading a trace, as the one-line error it is to a user."""
    return TraceError("out of memory reading the trace (it asks for more than this process may "
                      "use)", path)


def parse_header(raw: bytes, path: str | None) -> Header:
    """The first line of a trace, parsed and validated as a header."""
    try:
        rec = parse_line(raw, 1, path)
    except TraceError:
        raise TraceError("not a mannsim trace (no header)", path, 1) from None
    if rec.get("t") != "header" or rec.get("format") != FORMAT:
        raise TraceError("not a mannsim trace (no header)", path, 1)
    if rec.get("version") not in VERSIONS:
        raise TraceError(f"trace version {str(rec.get('version'))[:20]} is not one of "
                         f"{', '.join(map(str, VERSIONS))}", path, 1)
    try:
        KeyPolicy.recorded(rec["program"].get("keys"))
    except ValueError:
        raise TraceError("header field program.keys is not a key policy "
                         f"({', '.join(KEY_POLICIES)})", path, 1) from None
    for key in ("program", "dialect", "backend"):
        part = rec[key]
        for name in ("name", "sha256"):
            if name in part and not (part[name] is None or isinstance(part[name], str)):
                raise TraceError(f"header field {key}.{name} is not a string", path, 1)
    return Header.from_json(rec)


def read_header(path: str) -> Header:
    """Only a trace's header (its first line), validated: what a command needs to know before
    it reads the whole trace."""
    try:
        return _read_header(path)
    except MemoryError:
        raise out_of_memory(path) from None


def _read_header(path: str) -> Header:
    try:
        with open(path, "rb") as f:
            if f.read(4) == compact.MAGIC:
                return _compact_header(f, path)
            f.seek(0)
            raw = f.readline(MAX_TRACE_LINE + 1)
    except OSError as e:
        raise TraceError(f"cannot read trace: {e.strerror}", path) from None
    if not raw.endswith(b"\n"):
        raise TraceError("not a mannsim trace (no complete header)", path, 1)
    return parse_header(raw, path)


def _compact_header(f: BinaryIO, path: str) -> Header:
    """The header of a compact trace: the first record of its first block."""
    f.seek(0)
    start = f.read(compact.HEAD_SIZE)
    blocks = compact.scan_blocks(start, path, [], partial=True)
    if not blocks or blocks[0].kind != compact.META:
        raise TraceError("not a mannsim trace (no header)", path, 1)
    f.seek(0)
    data = f.read(blocks[0].end)
    try:
        lines = compact.decode_block(data, blocks[0], path)
    except TraceError:
        lines = []
    if not lines:
        raise TraceError("not a mannsim trace (no header)", path, 1)
    return parse_header(lines[0], path)


def header_machine(header: Header, path: str | None, exact: bool = False) -> Machine:
    """The machine a trace header records, checked against the header's hash.

    Version 2 headers hold the canonical form (lossless). Version 1 headers hold native ``.tm``
    text, which cannot carry every machine; with ``exact`` (resume) such a header is accepted
    only when its text round-trips through the native format unchanged.
    """
    prog = header.program
    try:
        if header.version >= 2:
            machine = canonical.from_data(prog.get("machine"), path)
            if canonical.digest(machine) != prog.get("sha256"):
                raise TraceError("the machine in the trace header does not match its hash",
                                 path, 1)
            return machine
        text = prog.get("text")
        if not isinstance(text, str) or hashlib.sha256(
                text.encode("utf-8", "surrogatepass")).hexdigest() != prog.get("sha256"):
            raise TraceError("the program in the trace header does not match its hash", path, 1)
        machine = native.parse(text, path)
        if exact and native.dump(machine) != text:
            raise TraceError("this version-1 trace's program does not round-trip through the "
                             ".tm format, so it cannot be rebuilt exactly", path, 1)
        return machine
    except TraceError:
        raise
    except MannsimError as e:
        raise TraceError(f"the program in the trace header is invalid: {e.message}", path,
                         1) from None
