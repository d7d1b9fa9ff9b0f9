"""The one trace reader: a lazy index over a trace file, behind every command that reads one.

The file is scanned once for line offsets. Every record goes through :func:`schema.validate`;
a cycle record written by mannsim itself (it starts with ``{"t":"cycle"``) is only located by
the lenient scan and parsed on demand by :meth:`TraceIndex.cycle`, with the same validation.
Lenient mode (show, stats, plot, view) reads up to the first bad record with a warning; strict
mode (resume, decode) parses everything and refuses a bad, reordered or foreign record with
one error naming its line. Either way an unfinished last line (a killed run) is dropped with a
warning.

What a view shows is what the reader checked. The machine's configuration at any cycle
(:meth:`TraceIndex.config_before`) is the reference machine's, replayed from the header's
machine; a compact trace's snapshots only shorten that replay once each is checked against it
(from the initial configuration, snapshot by snapshot, at most ``MAX_VERIFY_STEPS`` steps in
all, the result kept), and past that budget a view starting from an unchecked snapshot says so.
:meth:`TraceIndex.checked` tells, for a cycle, where its configuration came from and whether
its record agrees: state, head and symbol with the machine's, its prompt with the one the
program renders, its answer with the lockstep check, its writes with what the answer parses to.
A record that disagrees is flagged there and warned about in ``warnings``, never used silently.
Running out of memory while reading is a :class:`TraceError` (one line), not a traceback.
"""
from __future__ import annotations

import bisect
import hashlib
import mmap
import os
import struct
from collections import OrderedDict
from collections.abc import Iterator
from dataclasses import dataclass, field

from ..errors import MannsimError
from ..limits import MAX_TAPE_SPAN, MAX_TRACE_LINE, MAX_VERIFY_STEPS
from ..machine.blockrun import BlockRun, BlockTape
from ..program.compiler import KEY_POLICIES
from . import compact
from .compact_reader import CompactReader, Prompts, _bounded, _bounded_iter, out_of_memory
from .schema import FORMAT, VERSIONS, TraceError, cycle_defaults, parse_line, prompt_hash

_CYCLE = b'{"t":"cycle"'
_COMPACT_MAGIC = struct.pack("<I", compact.SKIP_MAGIC)
#: Configurations a reader keeps of the cycles it showed last (a viewer steps from them), and
#: the most tape cells they may hold together.
CHECKPOINTS = 64
CHECKPOINT_CELLS = 1 << 24
#: A replay longer than this keeps the configuration at the last multiple of it on its way.
CHECKPOINT_EVERY = 1024
_UNCHECKED = "unchecked"


class TraceIndex(CompactReader):
    def __init__(self, path: str, strict: bool = False):
        try:
            self._open(path, strict)
        except MemoryError:
            self.close()
            raise out_of_memory(path) from None

    def _open(self, path: str, strict: bool) -> None:
        self.path = path
        self.strict = strict
        self.warnings: list[str] = []
        self._warned: set[str] = set()
        self.prompts: Prompts = Prompts(self)
        #: compact: the lines of the meta blocks that hold records kept by place
        self._meta_kept: dict[int, list[bytes]] = {}
        self.divergence: dict | None = None
        self.end: dict | None = None
        self.header: dict = {}
        self._offsets: list[int] = []
        self._lines: list[int] = []
        #: byte offset just past the last record read (where appended records go)
        self.valid_end = 0
        try:
            self._f = open(path, "rb")
            size = os.fstat(self._f.fileno()).st_size
        except OSError as e:
            raise TraceError(f"cannot read trace: {e.strerror}", path) from None
        if size == 0:
            self._f.close()
            raise TraceError("empty trace", path)
        self._data = mmap.mmap(self._f.fileno(), 0, access=mmap.ACCESS_READ)
        #: a compact trace (zstd blocks, see trace.compact) rather than plain JSON Lines
        self.compact = self._data[:4] == _COMPACT_MAGIC
        self._seg_first: list[int] = []   # compact: the first cycle of each segment
        self._segs: list = []             # compact: (count, Block) or (1, (record, line))
        self._count = 0
        self._cases: dict[int, tuple[dict, int]] = {}
        self._decoded: tuple[int, list[dict]] | None = None
        #: the machine after N cycles, as compact traces record it: N -> its block or
        #: ((meta block, index), line), decoded on demand by snapshot(); unchecked
        self._snaps: dict[int, object] = {}
        try:
            if self.compact:
                self._scan_compact()
            else:
                self._scan()
        except BaseException:
            self.close()
            raise
        self._machine = None
        self._replay: BlockRun | None = None
        #: the furthest configuration checked so far: (cycles, configuration)
        self._front: tuple[int, BlockTape] | None = None
        self._verify_left = MAX_VERIFY_STEPS
        #: snapshot cycles -> None (checked: the machine's) or what is wrong with it
        self._snap_status: dict[int, str | None] = {}
        #: snapshot cycles the replay passed -> a digest of the machine's configuration there
        self._ref_digest: dict[int, bytes] = {}
        self._usable_snaps = self._snapshots_to_use()
        self._checkpoints: OrderedDict[int, tuple[BlockTape, int | None]] = OrderedDict()
        self._checkpoint_cells = 0  # the tape cells the checkpoints hold together
        self._last: tuple[int, BlockTape, int | None] | None = None
        #: reference-machine steps replayed so far (snapshot checks included)
        self.replayed_steps = 0
        self._checks: dict | None = None

    def _warn_once(self, message: str) -> None:
        if message not in self._warned:
            self._warned.add(message)
            self.warnings.append(message)

    def _snapshots_to_use(self) -> list[int]:
        """The snapshots a view may start from once checked: those after a positive multiple
        of ``SNAP_EVERY`` cycles (all mannsim writes), within the trace; any other is warned
        about and never used."""
        usable = []
        for c in sorted(self._snaps):
            if c > 0 and c % compact.SNAP_EVERY == 0 and c <= len(self):
                usable.append(c)
            else:
                self._warn_once(f"{self.path}:{self.snapshot_line(c)}: a snapshot after cycle "
                                f"{c:,}, where mannsim writes none (one every "
                                f"{compact.SNAP_EVERY:,} cycles, within the trace): not used")
        return usable

    def _bad(self, error: TraceError, lineno: int) -> bool:
        """Strict: raise. Lenient: warn and stop reading (returns True)."""
        if self.strict:
            raise error
        self.warnings.append(f"{self.path}:{lineno}: {error.message}; read up to line {lineno - 1}")
        return True

    def _scan(self) -> None:
        data, pos, lineno = self._data, 0, 0
        while True:
            nl = data.find(b"\n", pos)
            lineno += 1
            if nl < 0:
                if pos < len(data):
                    if lineno == 1:
                        raise TraceError("not a mannsim trace (no complete header)", self.path, 1)
                    self.warnings.append(f"{self.path}:{lineno}: incomplete last record; read up "
                                         f"to line {lineno - 1}")
                break
            if nl - pos > MAX_TRACE_LINE:
                if lineno == 1:
                    raise TraceError("not a mannsim trace (header too long)", self.path, 1)
                if self._bad(TraceError(f"record longer than {MAX_TRACE_LINE} bytes", self.path,
                                        lineno), lineno):
                    break
            if lineno == 1:
                self._read_header(pos, nl)
            elif not self.strict and data[pos:pos + len(_CYCLE)] == _CYCLE:
                self._offsets.append(pos)
                self._lines.append(lineno)
            else:
                try:
                    rec = parse_line(data[pos:nl], lineno, self.path)
                    self._take(rec, pos, lineno)
                except TraceError as e:
                    if self._bad(e, lineno):
                        break
            pos = nl + 1
            self.valid_end = pos

    def _parse_header(self, raw: bytes) -> dict:
        return parse_header(raw, self.path)

    def _read_header(self, pos: int, nl: int) -> None:
        self.header = parse_header(self._data[pos:nl], self.path)

    def _check_next_cycle(self, rec: dict, count: int, lineno: int) -> None:
        """A whole cycle record must follow the ``count`` before it and (strict) name a prompt
        an earlier record defines."""
        if rec["n"] != count + 1:
            raise TraceError(f"cycle {rec['n']} is out of order (expected cycle {count + 1})",
                             self.path, lineno)
        if self.strict and rec["prompt"] not in self.prompts:
            raise TraceError(f"cycle {rec['n']} names prompt {rec['prompt']}, which no "
                             "earlier record defines", self.path, lineno)

    def _resume_keeps(self, rec: dict, count: int, lineno: int) -> int:
        """How many cycles a resume record keeps (at most the ``count`` before it); what
        followed them (a divergence, an end) no longer counts."""
        keep = rec["from"]
        if keep > count:
            raise TraceError(f"resume record keeps {keep} cycles, but only {count} precede it",
                             self.path, lineno)
        self.divergence = self.end = None
        return keep

    def _take(self, rec: dict, pos: int, lineno: int) -> None:
        kind = rec["t"]
        if kind == "cycle":
            if self.strict:
                self._check_next_cycle(rec, len(self._offsets), lineno)
            self._offsets.append(pos)
            self._lines.append(lineno)
        elif kind == "prompt":
            text = rec["text"]
            if self.strict and prompt_hash(text) != rec["hash"]:
                raise TraceError("prompt record's text does not match its hash", self.path,
                                 lineno)
            # lenient: checked against its hash when it is read
            self.prompts[rec["hash"]] = text if self.strict else (text, lineno)
        elif kind == "divergence":
            self.divergence = rec
        elif kind == "end":
            self.end = rec
        elif kind == "resume":
            keep = self._resume_keeps(rec, len(self._offsets), lineno)
            del self._offsets[keep:]
            del self._lines[keep:]
        elif kind == "header":
            raise TraceError("a second header", self.path, lineno)

    # -- compact traces ------------------------------------------------------------------
    def __len__(self) -> int:
        return self._count if self.compact else len(self._offsets)

    @_bounded
    def line_of(self, k: int) -> int:
        """The line of cycle ``k`` (1-based): in the file, or in a compact trace's JSON Lines
        (as ``zstd -dc`` prints them)."""
        if self.compact:
            first, _, obj = self._segment(k)
            return obj[1] if isinstance(obj, tuple) else obj.line + (k - first)
        return self._lines[k - 1]

    @_bounded
    def cycle(self, k: int) -> dict:
        """The validated record of cycle ``k`` (1-based), optional fields filled in."""
        if self.compact:
            first, _, obj = self._segment(k)
            if isinstance(obj, tuple):
                return cycle_defaults(obj[0])
            return self._expand(obj)[k - first]
        start = self._offsets[k - 1]
        end = self._data.find(b"\n", start)
        rec = parse_line(self._data[start:end], self._lines[k - 1], self.path)
        if rec["t"] != "cycle":
            raise TraceError("not a cycle record", self.path, self._lines[k - 1])
        return cycle_defaults(rec)

    @_bounded_iter
    def steps(self) -> Iterator[tuple]:
        """(state, head, read, prompt, answer, ok) of every cycle in order: the fields a replay
        checks (:func:`mannsim.replay.recheck`), read without building whole records where the
        format allows (the same values as :meth:`cycle`'s, tested)."""
        if not self.compact:
            for k in range(1, len(self) + 1):
                r = self.cycle(k)
                yield (r["state"], r["head"], r["read"], r["prompt"], r["answer"],
                       r["check"] == "ok" and not r.get("cut"))
            return
        for _, obj in self._segs:
            if isinstance(obj, tuple):
                r = cycle_defaults(obj[0])
                yield (r["state"], r["head"], r["read"], r["prompt"], r["answer"],
                       r["check"] == "ok" and not r.get("cut"))
            else:
                yield from self._steps(obj)

    @_bounded_iter
    def facts(self) -> Iterator[tuple]:
        """(state, read, ms, tin, tout, cached, ok) of every cycle in order: what ``trace
        stats`` counts, read without building whole records where the format allows."""
        if not self.compact:
            for k in range(1, len(self) + 1):
                r = self.cycle(k)
                yield (r["state"], r["read"], r["ms"], r["tin"], r["tout"], r["cached"],
                       r["check"] == "ok")
            return
        for _, obj in self._segs:
            if isinstance(obj, tuple):
                r = cycle_defaults(obj[0])
                yield (r["state"], r["read"], r["ms"], r["tin"], r["tout"], r["cached"],
                       r["check"] == "ok")
            else:
                yield from self._facts(obj)

    @_bounded
    def first_divergence(self) -> int | None:
        if self.divergence is not None:
            return self.divergence["cycle"]
        if self.compact:  # only checked cycles are compacted: the others are whole records
            return next((obj[0]["n"] for _, obj in self._segs
                         if isinstance(obj, tuple) and obj[0]["check"] != "ok"), None)
        for k in range(1, len(self) + 1):
            if self.cycle(k)["check"] != "ok":
                return k
        return None

    # -- the machine, from the header ---------------------------------------------------
    @_bounded
    def machine(self):
        """The machine the header records (checked against its hash)."""
        if self._machine is None:
            self._machine = header_machine(self.header, self.path)
        return self._machine

    @_bounded
    def config_before(self, k: int):
        """(state, head, cells) of the reference machine before cycle ``k``: replayed from the
        initial configuration or from a snapshot checked against it (or, past the
        verification budget, from an unchecked snapshot: :meth:`checked` says which)."""
        cfg, _ = self._config(k)
        r = self._replay
        return r.state(cfg), r.head(cfg), r.cells(cfg)

    def _replayer(self) -> BlockRun:
        if self._replay is None:
            m = self.machine()
            self._replay = BlockRun(m, past_span=_past_span)
            cells = {i: s for i, s in enumerate(m.tape) if s != m.blank}
            initial = self._replay.config(m.start, m.head, cells)
            if initial is None:  # (a machine file cannot say this: its head and tape are capped)
                raise TraceError("the header's machine starts past the tape span cap", self.path,
                                 1)
            self._initial = initial
            self._front = (0, initial.copy())
        return self._replay

    def _advance(self, cfg: BlockTape, steps: int) -> None:
        try:
            self.replayed_steps += self._replay.advance(cfg, steps)
        except TraceError as e:
            raise e.located(self.path) from None

    def _verify_through(self, target: int) -> None:
        """Check the snapshots after at most ``target`` cycles against the machine, in order
        from the furthest checked configuration, while the budget lasts."""
        snaps = self._usable_snaps
        i = bisect.bisect_right(snaps, self._front[0])
        while i < len(snaps) and snaps[i] <= target:
            c, cfg = self._front
            r = snaps[i]
            if r - c > self._verify_left:
                return
            self._verify_left -= r - c
            self._advance(cfg, r - c)
            self._front = (r, cfg)
            self._ref_digest[r] = self._replay.digest(cfg)
            self._status(r)
            i += 1

    def _status(self, r: int) -> str | None:
        """The snapshot after ``r`` cycles: None when it is the machine's configuration, what
        is wrong with it, or ``_UNCHECKED`` when no replay has reached it yet."""
        if r in self._snap_status:
            return self._snap_status[r]
        digest = self._ref_digest.get(r)
        if digest is None:
            return _UNCHECKED
        snap, problem = self._snapshot_config(r)
        if problem is not None:
            problem = f"the snapshot after cycle {r:,} cannot be used: {problem}"
        elif self._replay.digest(snap) != digest:
            rp = self._replay
            problem = (f"the snapshot after cycle {r:,} is not the reference machine's "
                       f"configuration (it says state {_short(rp.state(snap))}, head "
                       f"{rp.head(snap)}); not used")
        if problem is not None:
            self._warn_once(f"{self.path}:{self.snapshot_line(r)}: {problem}")
        self._snap_status[r] = problem
        return problem

    def continue_from(self, old: TraceIndex) -> None:
        """Take over what ``old`` replayed (a viewer following a run re-opens the trace every
        half second): the reference machine's configurations are the machine's whatever the
        file says, so they carry over when both headers hold the same machine; each snapshot
        is still compared, with the configuration ``old`` replayed there."""
        if old._replay is None or self._replay is not None or old.machine() != self.machine():
            return
        self._replay, self._initial = old._replay, old._initial
        self._front = (old._front[0], old._front[1].copy())
        self._verify_left = old._verify_left
        self._ref_digest = dict(old._ref_digest)
        for c, (cfg, source) in old._checkpoints.items():
            if source is None:
                self._checkpoints[c] = (cfg, None)
                self._checkpoint_cells += len(cfg.tape)

    def _snapshot_config(self, r: int) -> tuple[BlockTape | None, str | None]:
        """The snapshot after ``r`` cycles as a configuration, or None and what is wrong."""
        try:
            snap = self.snapshot(r)
        except TraceError as e:
            return None, e.message
        cfg = self._replay.from_snapshot(snap)
        if cfg is None:
            return None, ("it names a state or symbol the machine does not have, or cells past "
                          "the tape span cap")
        return cfg, None

    def _config(self, k: int) -> tuple[BlockTape, int | None]:
        """The configuration before cycle ``k`` and the unchecked snapshot it was replayed
        from (None: from the initial configuration or a checked snapshot)."""
        if self._last is not None and self._last[0] == k:
            return self._last[1], self._last[2]
        target = max(0, k - 1)
        self._replayer()
        self._verify_through(target)
        base_c, base, source = 0, self._initial, None  # the initial configuration
        front_c, front = self._front
        if base_c < front_c <= target:
            base_c, base = front_c, front
        for c, (cfg, src) in self._checkpoints.items():
            if c <= target and (c > base_c or (c == base_c and src is None)):
                base_c, base, source = c, cfg, src
        snaps = self._usable_snaps
        j = bisect.bisect_right(snaps, target) - 1
        while j >= 0 and snaps[j] > base_c:
            r = snaps[j]
            status = self._status(r)
            if status is None or (status is _UNCHECKED and r > front_c):
                cfg, problem = self._snapshot_config(r)
                if cfg is not None:
                    base_c, base, source = r, cfg, (None if status is None else r)
                    break
                problem = f"the snapshot after cycle {r:,} cannot be used: {problem}"
                self._snap_status[r] = problem
                self._warn_once(f"{self.path}:{self.snapshot_line(r)}: {problem}")
            j -= 1
        most = max(MAX_VERIFY_STEPS, 4 * compact.SNAP_EVERY)
        if self.compact and target - base_c > most:  # (a plain trace is as long as its file)
            raise TraceError(f"cycle {k:,} lies {target - base_c:,} steps past the nearest "
                             "configuration the reader can start from (mannsim writes a "
                             f"snapshot every {compact.SNAP_EVERY:,} cycles; these are missing "
                             f"or wrong), more than it replays ({most:,})",
                             self.path, self.line_of(k))
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
        cp = self._checkpoints
        if c in cp:
            self._checkpoint_cells -= len(cp[c][0].tape)
        cp[c] = (cfg.copy(), source)
        cp.move_to_end(c)
        self._checkpoint_cells += len(cfg.tape)
        while len(cp) > CHECKPOINTS or (self._checkpoint_cells > CHECKPOINT_CELLS and len(cp) > 1):
            _, (old, _) = cp.popitem(last=False)
            self._checkpoint_cells -= len(old.tape)

    @_bounded
    def checked(self, k: int) -> dict:
        """What a view may vouch for at cycle ``k`` (1-based), from the reference machine and
        the dialect the header names, never from the record alone:

        - ``config``: ``"reference"`` when the configuration before the cycle was replayed
          from the initial configuration (through snapshots checked against it), or
          ``"snapshot"`` when it was replayed from the trace's unchecked snapshot after
          ``snapshot`` cycles (past ``MAX_VERIFY_STEPS``);
        - ``state``, ``head``, ``read``: that configuration's;
        - ``writes``, ``updates``: what the cycle's answer parses to there, as a run records
          them (None when the trace's dialect is not a shipped one with its digest);
        - ``problems``: each way the record disagrees (its state, head or symbol; its prompt;
          an ok answer that fails the lockstep check; writes or updates its answer does not
          make; a snapshot before it that is not the machine's), each also in ``warnings``;
        - ``verified``: the configuration is the reference machine's and the record agrees
          with it in everything above.
        """
        rec = self.cycle(k)
        cfg, source = self._config(k)
        rp = self._replay
        state, head = rp.state(cfg), rp.head(cfg)
        read = rp.symbols[cfg.tape[cfg.pos]]
        problems = []
        if (rec["state"], rec["head"], rec["read"]) != (state, head, read):
            problems.append(f"cycle {k} records state {_short(rec['state'])}, head "
                            f"{rec['head']}, read {_short(rec['read'])}; the reference machine "
                            f"is in {_short(state)} at {head} reading {_short(read)}")
        snaps = self._usable_snaps
        j = bisect.bisect_right(snaps, k - 1) - 1
        if j >= 0 and self._status(snaps[j]) not in (None, _UNCHECKED):
            problems.append(self._snap_status[snaps[j]])
        derived = self._derive(k, rec, state, head, read, cfg)
        writes = updates = None
        if derived is not None:
            writes, updates, more = derived
            problems += more
        for p in problems:
            self._warn_once(f"{self.path}:{self.line_of(k)}: {p}")
        return {"config": "reference" if source is None else "snapshot", "snapshot": source,
                "state": state, "head": head, "read": read, "writes": writes,
                "updates": updates, "problems": problems,
                "verified": source is None and not problems and derived is not None}

    def _program(self):
        """The compiled program (the header's machine, the shipped dialect the header names
        with its digest), or None when the dialect is not one."""
        if self._checks is None:
            from ..program import compile_program, load_dialect
            from ..program.check import tapeless_memory
            info = self.header.get("dialect") or {}
            prog = None
            try:
                dialect = load_dialect(str(info.get("name")), allow_path=False)
                if dialect.digest == info.get("sha256"):
                    prog = compile_program(self.machine(), dialect,
                                           self.header["program"].get("keys", "names"))
            except MannsimError:
                prog = None
            self._checks = {"program": prog, "prompts": {},
                            "tapeless": None if prog is None else tapeless_memory(prog)}
        return self._checks["program"]

    def _derive(self, k, rec, state, head, read, cfg):
        """(writes, updates, problems) of cycle ``k``'s answer applied, with the live check, to
        a MEMORY of the configuration (state, head, read); None without the program. By the
        MEMORY lemma (README) the verdict and the parse depend on MEMORY only through the
        configuration, and an answer that reads no tape cell reads only the head's, so for one
        the program's MEMORY without its tape, the head cell set, stands for the whole."""
        prog = self._program()
        if prog is None:
            return None
        from ..memory import Memory, MemoryError_, Renderer
        from ..program.check import answer_problem, apply_checked, reference_problem
        checks = self._checks
        problems = []
        digest = checks["prompts"].get((state, read))
        if digest is None:
            mem = Memory({"boot": prog.dialect.boot, "i": "0", "0": prog.codes[read]},
                         default=prog.blank_code)
            try:
                digest = prompt_hash(Renderer(mem)(prog.texts[state]))
            except MemoryError_:
                digest = ""
            checks["prompts"][(state, read)] = digest
        if rec["prompt"] != digest:
            problems.append(f"cycle {k}'s recorded prompt is not the one the program renders "
                            "here")
        answer = rec["answer"]
        t = prog.machine.transition(state, read)
        mem = checks["tapeless"].copy()
        if reference_problem(answer) is None:
            mem["op"], mem["i"] = prog.texts[state], str(head)
            if read != prog.machine.blank:
                mem[str(head)] = prog.codes[read]
        else:  # it reads tape cells: the whole configuration
            prog.set_configuration(mem, state, head, self._replay.cells(cfg))
        problem = answer_problem(answer, bool(rec.get("cut")))
        writes: list = []
        updates: list = []
        if problem is None:
            problem, applied = apply_checked(prog, mem, t, state if t is None else t.next, head,
                                             answer)
            if applied is not None:
                writes = prog.writes_record(applied[0], t and t.next)
                updates = [[label, d] for label, d in applied[1]]
        if rec["check"] == "ok" and problem is not None:
            problems.append(f"cycle {k} is recorded as ok, but its answer fails the live check: "
                            f"{problem}")
        if _pairs(rec["writes"]) != writes or _pairs(rec["updates"]) != updates:
            problems.append(f"cycle {k} records writes {_short(rec['writes'], 200)} and "
                            f"updates {_short(rec['updates'], 80)}; its answer makes "
                            f"{_short(writes, 200)} and {_short(updates, 80)}")
        return writes, updates, problems

    def close(self) -> None:
        try:
            self._data.close()
            self._f.close()
        except (OSError, ValueError, AttributeError):
            pass

    def __enter__(self) -> TraceIndex:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def parse_header(raw: bytes, path: str | None) -> dict:
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
    if rec["program"].get("keys", "names") not in KEY_POLICIES:
        raise TraceError("header field program.keys is not a key policy "
                         f"({', '.join(KEY_POLICIES)})", path, 1)
    for key in ("program", "dialect", "backend"):
        part = rec[key]
        for name in ("name", "sha256"):
            if name in part and not (part[name] is None or isinstance(part[name], str)):
                raise TraceError(f"header field {key}.{name} is not a string", path, 1)
    return rec


def read_header(path: str) -> dict:
    """Only a trace's header (its first line), validated: what a command needs to know before
    it reads the whole trace."""
    try:
        return _read_header(path)
    except MemoryError:
        raise out_of_memory(path) from None


def _read_header(path: str) -> dict:
    try:
        with open(path, "rb") as f:
            if f.read(4) == _COMPACT_MAGIC:
                return _compact_header(f, path)
            f.seek(0)
            raw = f.readline(MAX_TRACE_LINE + 1)
    except OSError as e:
        raise TraceError(f"cannot read trace: {e.strerror}", path) from None
    if not raw.endswith(b"\n"):
        raise TraceError("not a mannsim trace (no complete header)", path, 1)
    return parse_header(raw, path)


def _compact_header(f, path: str) -> dict:
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


def header_machine(header: dict, path: str | None, exact: bool = False):
    """The machine a trace header records, checked against the header's hash.

    Version 2 headers hold the canonical form (lossless). Version 1 headers hold native ``.tm``
    text, which cannot carry every machine; with ``exact`` (resume) such a header is accepted
    only when its text round-trips through the native format unchanged.
    """
    from ..machine import canonical
    from ..machine.formats import native
    prog = header.get("program") or {}
    try:
        if header.get("version", 1) >= 2:
            machine = canonical.from_data(prog.get("machine"), path)
            if canonical.digest(machine) != prog.get("sha256"):
                raise TraceError("the machine in the trace header does not match its hash",
                                 path, 1)
            return machine
        text = prog.get("text")
        if not isinstance(text, str) or \
                hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest() != prog.get("sha256"):
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


def _short(value, limit: int = 40) -> str:
    from ..safe_text import one_line
    return one_line(value, limit)


def _pairs(value) -> list:
    """A record's writes or updates as a list of [label, value] lists (anything else as is)."""
    return [list(p) if isinstance(p, (list, tuple)) else p for p in value]


def _past_span(cell: int) -> TraceError:
    return TraceError(f"replayed, the machine's head reaches cell {cell:,}, past the tape span "
                      f"cap of {MAX_TAPE_SPAN:,} cells from cell 0, where a run stops: no "
                      "mannsim run recorded these cycles")


@dataclass
class Trace:
    """A trace read whole: header, cycles (after applying resume records), prompts, end."""

    path: str
    header: dict
    cycles: list[dict] = field(default_factory=list)
    prompts: dict[str, str] = field(default_factory=dict)
    divergence: dict | None = None
    end: dict | None = None
    warnings: list[str] = field(default_factory=list)


def read_trace(path: str, strict: bool = False) -> Trace:
    """Read a whole trace through :class:`TraceIndex` (small traces, tests, tools)."""
    try:
        return _read_trace(path, strict)
    except MemoryError:
        raise out_of_memory(path) from None


def _read_trace(path: str, strict: bool) -> Trace:
    with TraceIndex(path, strict=strict) as ix:
        cycles = []
        for k in range(1, len(ix) + 1):
            try:
                cycles.append(ix.cycle(k))
            except TraceError as e:
                if strict:
                    raise
                ix.warnings.append(f"{path}:{ix.line_of(k)}: {e.message}; read up to cycle {k - 1}")
                break
        return Trace(path, ix.header, cycles, dict(ix.prompts), ix.divergence, ix.end,
                     list(ix.warnings))
