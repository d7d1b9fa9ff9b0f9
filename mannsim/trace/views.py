"""What the trace commands show, as plain data (the CLI renders it)."""
from __future__ import annotations

import json
import re
from collections import Counter
from functools import lru_cache

from ..memory import CELL_KEY
from ..program.compiler import RECORD_CUT
from ..program.dialect import DEFAULT_DIALECT
from ..safe_text import one_line
from .index import TraceIndex


def parse_steps(spec: str | None, n: int) -> range:
    """``A:B`` (1-based, inclusive; either side may be empty), ``A``, or everything."""
    if not spec:
        return range(1, n + 1)
    if ":" in spec:
        a, b = spec.split(":", 1)
        lo = int(a) if a.strip() else 1
        hi = int(b) if b.strip() else n
    else:
        lo = hi = int(spec)
    if lo > hi:
        raise ValueError(f"{spec} is an empty range (A must not exceed B)")
    if lo > n:
        raise ValueError(f"the trace has {plural(n, 'cycle')}; {spec} starts after its last")
    return range(max(1, lo), min(n, hi) + 1)


def plural(n: int, word: str) -> str:
    """``1 cycle``, ``2 cycles``, ``39,066 cycles``."""
    return f"{n:,} {word}" + ("" if n == 1 else "s")


def trace_shape(ix: TraceIndex):
    """The instruction grammar of the trace's dialect (a shipped dialect with the recorded
    digest), or None."""
    info = ix.header.get("dialect") or {}
    name, digest = info.get("name"), info.get("sha256")
    if not isinstance(name, str) or not isinstance(digest, str):
        return None
    return _shipped_shape(name, digest)


def _shipped_shape(name: str, digest: str):
    dialect = _shipped_dialect(name, digest)
    return None if dialect is None else dialect.shape


@lru_cache(maxsize=8)
def _shipped_dialect(name: str, digest: str):
    """The shipped dialect called ``name`` when its digest is ``digest``, else None."""
    from ..errors import MannsimError
    from ..program import load_dialect
    try:
        dialect = load_dialect(name, allow_path=False)
    except MannsimError:
        return None
    return dialect if dialect.digest == digest else None


def boot_folded(prompt: str, shape=None) -> str:
    """The instruction part of a prompt (its last instruction block, read with the dialect's
    ``shape``); the whole prompt when the shape is unknown."""
    return prompt if shape is None else shape.block(prompt)


def cycle_view(ix: TraceIndex, k: int, radius: int = 12) -> dict:
    """Cycle ``k`` as views show it: the record, the tape from the reference machine, and
    ``checked`` (``TraceIndex.checked``: whether the configuration is the reference machine's
    and the record agrees with it; ``problems`` where it does not). The writes shown are what
    the answer makes in that configuration, when the trace's dialect is known."""
    rec = ix.cycle(k)
    c = ix.checked(k)
    state, head, cells = ix.config_before(k)
    blank = ix.machine().blank
    window = [(c, cells.get(c, blank)) for c in range(head - radius, head + radius + 1)]
    view = dict(rec)
    view["checked"] = {x: c[x] for x in ("config", "snapshot", "verified", "problems")}
    if c["writes"] is not None:
        view["writes"], view["updates"] = c["writes"], c["updates"]
    view["tape"] = window
    view["prompt_text"] = ix.prompts.get(rec["prompt"], "")
    view["prompt_block"] = boot_folded(view["prompt_text"], trace_shape(ix))
    if ix.divergence is not None and ix.divergence["cycle"] == k:
        view["divergence"] = ix.divergence
    return view


# -- MEMORY writes: one representation for every view ----------------------------------------
#: A value or symbol shown as it is: no space, quote, ``=``, ``<``, ``>``, bracket or backslash.
_BARE = re.compile(r"[^\s\"'=<>\[\]\\]+")
#: How a run records an instruction text longer than 80 characters (``computer``).
_SUMMARY = re.compile(r"<instruction (.+)>", re.DOTALL)
_INTEGER = re.compile(r"-?[0-9]{1,18}", re.ASCII)
#: Values at most this long are shown (quoted when needed); longer ones by their length.
_SHORT = 24
#: What a record keeps of a long value that is no instruction: its first characters and an
#: ellipsis (``Program.writes_record``).
_CUT = RECORD_CUT


class MemoryNames:
    """How a run's MEMORY values read back in a view: an instruction text (or the
    ``<instruction KEY>`` a trace records for a long one) as its state, a cell's code as its
    symbol, the dialect's boot as ``<boot>``. ``known`` False (a dialect this mannsim does not
    ship, or one changed since): register keys and symbol codes still read back, and the op of a
    checked cycle is the reference machine's next state."""

    def __init__(self, program, known: bool = True):
        self.state_of_key: dict[str, str] = dict(program.state_of_key)
        self.symbol_of: dict[str, str] = dict(program.symbol_of)
        self.state_of_text: dict[str, str] = dict(program.state_of_text) if known else {}
        self.boot: str | None = program.dialect.boot if known else None
        self.known = known

    def state(self, value: str) -> str | None:
        """The state whose instruction ``value`` is (the text or its recorded summary)."""
        q = self.state_of_text.get(value)
        if q is None:
            m = _SUMMARY.fullmatch(value)
            q = self.state_of_key.get(m.group(1)) if m else None
        return q

    def is_boot(self, value: str) -> bool:
        b = self.boot
        return b is not None and (value == b or (len(value) == _CUT + 1 and value.endswith("…")
                                                 and b.startswith(value[:-1])))

    def value(self, label: str, value: str, next_state: str | None = None) -> str:
        """``value`` written at ``label``, as every view shows it (``next_state``: the reference
        machine's next state on a checked cycle, what its op holds)."""
        if label == "op" and next_state is not None:
            return f"<{one_line(next_state, 60)}>"
        q = self.state(value)
        if q is not None:
            return f"<{one_line(q, 60)}>"
        if label == "op" and value == "halt":
            return "halt"
        if self.is_boot(value):
            return "<boot>"
        if label == "halted" and value in self.state_of_key:
            return f"<{one_line(self.state_of_key[value], 60)}>"
        if CELL_KEY.fullmatch(label):
            sym = self.symbol_of.get(value)
            return symbol_text(sym) if sym is not None else _not("a symbol", value)
        if label == "op" and self.known:
            return _not("an instruction", value)
        return _text(value)


def _not(what: str, value: str) -> str:
    shown = _text(value)
    return f"<not {what}: {shown[1:-1] if shown.startswith('<') else shown}>"


def symbol_text(sym) -> str:
    """A tape symbol as views show it: bare, or quoted when it holds a space, quote, ``=``…"""
    if sym is None:
        return "-"
    sym = str(sym)
    if _BARE.fullmatch(sym) and sym.isprintable():
        return one_line(sym, 40)
    return one_line(json.dumps(sym, ensure_ascii=False), 40)


def _text(value: str) -> str:
    """A written value that is no instruction, boot or symbol: short ones quoted when needed,
    long ones by their length (never the text itself)."""
    if len(value) == _CUT + 1 and value.endswith("…"):  # what a trace keeps of a long one
        return f"<text of over {_CUT} characters>"
    if len(value) > _SHORT or "\n" in value:
        return f"<text of {len(value):,} characters>"
    return one_line(json.dumps(value, ensure_ascii=False), 40)


def _label(label: str) -> str:
    return f"[{label}]" if CELL_KEY.fullmatch(label) else symbol_text(label)


def writes_text(writes, updates, head: int, names: MemoryNames,
                next_state: str | None = None) -> str:
    """A cycle's MEMORY writes as every view shows them: ``op=<B>`` (op now holds state B's
    instruction; ``op=halt``), ``[5]=1`` (tape cell 5 now holds symbol 1), any other key
    written, and last ``i=6``, the head after the cycle's writes and updates (absent when the
    cycle left it alone); ``(none)`` when nothing was written. ``head`` is the head before the
    cycle, ``next_state`` the reference machine's next state on a checked cycle."""
    items: list[str] = []
    i_value: str | None = None
    for pair in writes if isinstance(writes, (list, tuple)) else ():
        if not (isinstance(pair, (list, tuple)) and len(pair) == 2
                and isinstance(pair[0], str) and isinstance(pair[1], str)):
            items.append("<malformed write>")
            continue
        label, value = pair
        if label == "i":
            i_value = value  # later writes win, then the updates apply (memory's order)
            continue
        items.append(f"{_label(label)}={names.value(label, value, next_state)}")
    moved, delta = False, 0
    for pair in updates if isinstance(updates, (list, tuple)) else ():
        if not (isinstance(pair, (list, tuple)) and len(pair) == 2 and isinstance(pair[0], str)
                and isinstance(pair[1], int) and not isinstance(pair[1], bool)):
            items.append("<malformed update>")
            continue
        label, d = pair
        if label == "i":
            moved, delta = True, delta + d
        else:
            items.append(f"{_label(label)}{'+' if d >= 0 else '-'}={abs(d)}")
    if moved:
        base = str(head) if i_value is None else i_value
        items.append(f"i={int(base) + delta}" if _INTEGER.fullmatch(base) else
                     f"i=<not an integer: {_text(base)}>")
    elif i_value is not None:
        items.append("i=" + (i_value if CELL_KEY.fullmatch(i_value) else
                             one_line(json.dumps(i_value, ensure_ascii=False), 40)))
    return " ".join(items) or "(none)"


_NAMES: dict[tuple, MemoryNames] = {}


def memory_names(header: dict, machine) -> MemoryNames:
    """The :class:`MemoryNames` of a trace (its header and the machine it records): register
    keys by the header's key policy, instruction texts by the shipped dialect it names."""
    from ..program import compile_program, load_dialect
    prog = header.get("program") or {}
    info = header.get("dialect") or {}
    policy = prog.get("keys", "names")  # traces before register keys used the names
    name, digest = info.get("name"), info.get("sha256")
    key = (prog.get("sha256"), header.get("version"), policy, name, digest)
    hit = _NAMES.get(key)
    if hit is None:
        dialect = (_shipped_dialect(name, digest)
                   if isinstance(name, str) and isinstance(digest, str) else None)
        program = compile_program(machine, dialect or load_dialect(DEFAULT_DIALECT), policy)
        if len(_NAMES) >= 8:
            _NAMES.clear()
        hit = _NAMES[key] = MemoryNames(program, known=dialect is not None)
    return hit


def cycle_writes(ix: TraceIndex, rec: dict) -> str:
    """:func:`writes_text` of a cycle record of ``ix``."""
    machine = ix.machine()
    t = machine.transition(rec["state"], rec["read"]) if rec["check"] == "ok" else None
    return writes_text(rec.get("writes"), rec.get("updates"), rec["head"],
                       memory_names(ix.header, machine), None if t is None else t.next)


def divergence_writes(d: dict, names: MemoryNames) -> str:
    """:func:`writes_text` of a divergence record's parsed answer (``(none)`` when the answer
    was not applied); the head it moved from is the actual head less the updates of ``i``."""
    parsed = d.get("parsed")
    parsed = parsed if isinstance(parsed, dict) else {}
    updates = parsed.get("updates")
    moves = [u[1] for u in updates if isinstance(u, (list, tuple)) and len(u) == 2
             and u[0] == "i" and isinstance(u[1], int)] if isinstance(updates, list) else []
    after = (d.get("actual") if isinstance(d.get("actual"), dict) else {}).get("head")
    head = after - sum(moves) if isinstance(after, int) and not isinstance(after, bool) else 0
    return writes_text(parsed.get("writes"), updates, head, names)


def divergence_lines(d: dict) -> list[str]:
    """The expected and the actual configuration of a divergence record, one line each (the
    actual state is the one op's text is the instruction of; ``-`` when it is none)."""
    lines = []
    for who in ("expected", "actual"):
        side = d.get(who)
        side = side if isinstance(side, dict) else {}
        state, head = side.get("state"), side.get("head")
        lines.append(f"{who:<9} state {'-' if state is None else one_line(state, 60)}  "
                     f"head {'-' if head is None else one_line(head, 30)}  "
                     f"written {symbol_text(side.get('written'))}")
    return lines


def percentile(values, q: float) -> float:
    """The q-th percentile (nearest rank) of a list of values or of a Counter value -> count."""
    counts = values if isinstance(values, Counter) else Counter(values)
    n = sum(counts.values())
    if not n:
        return 0.0
    k = min(n - 1, max(0, round(q / 100 * (n - 1))))
    seen = 0
    for value in sorted(counts):
        seen += counts[value]
        if seen > k:
            return value
    return max(counts)


def stats(ix: TraceIndex) -> dict:
    """Counts over every cycle; memory does not grow with the number of cycles (latencies are
    counted by value), so a 10^8-cycle trace is read in constant space."""
    pairs: Counter = Counter()
    latencies: Counter = Counter()
    tin = tout = cached = 0
    total_ms = 0.0
    first_div, ms_to_div = None, 0.0
    for k, (state, read, ms, t_in, t_out, hit, ok) in enumerate(ix.facts(), 1):
        pairs[(state, read)] += 1
        ms = float(ms)
        latencies[ms] += 1
        total_ms += ms
        tin += t_in
        tout += t_out
        cached += hit
        if first_div is None:
            ms_to_div += ms
            if not ok:
                first_div = k
    n = len(ix)
    return {
        "cycles": n,
        "distinct_prompts": len(ix.prompts),
        "pairs": {f"{q},{s}": c for (q, s), c in sorted(pairs.items())},
        "latency_ms": {"p50": percentile(latencies, 50), "p90": percentile(latencies, 90),
                       "p99": percentile(latencies, 99), "max": max(latencies, default=0.0),
                       "mean": total_ms / n if n else 0.0},
        "tokens_in": tin, "tokens_out": tout,
        "cache_hit_rate": cached / n if n else 0.0,
        "first_divergence": first_div,
        "model_ms_to_first_divergence": round(ms_to_div, 3) if first_div else None,
        "end": (ix.end or {}).get("reason"),
        "backend": ix.header["backend"].get("name"),
        "program": ix.header["program"].get("name"),
    }
