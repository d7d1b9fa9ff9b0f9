"""What the trace commands show, as plain data (the CLI renders it)."""
from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from typing import Any

from ..program.shape import Shape
from .index import TraceIndex
from .writes import (
    MemoryNames,
    cycle_writes,
    divergence_lines,
    divergence_writes,
    memory_names,
    symbol_text,
    writes_text,
)

__all__ = ["MemoryNames", "cycle_view", "cycle_writes", "divergence_lines", "divergence_writes",
           "memory_names", "parse_steps", "plural", "stats", "symbol_text", "writes_text"]


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


def trace_shape(ix: TraceIndex) -> Shape | None:
    """The instruction grammar of the trace's dialect (a shipped dialect with the recorded
    digest), or None."""
    program = ix.program
    return None if program is None else program.dialect.shape


def boot_folded(prompt: str, shape: Shape | None = None) -> str:
    """The instruction part of a prompt (its last instruction block, read with the dialect's
    ``shape``); the whole prompt when the shape is unknown."""
    return prompt if shape is None else shape.block(prompt)


def cycle_view(ix: TraceIndex, k: int, radius: int = 12) -> dict[str, Any]:
    """Cycle ``k`` as views show it: the record (its JSON form), the tape from the reference
    machine, and ``checked`` (``TraceIndex.checked``: whether the configuration is the
    reference machine's and the record agrees with it; ``problems`` where it does not). The
    writes shown are what the answer makes in that configuration, when the trace's dialect is
    known."""
    rec = ix.cycle(k)
    c = ix.checked(k)
    state, head, cells = ix.config_before(k)
    blank = ix.machine().blank
    window = [(i, cells.get(i, blank)) for i in range(head - radius, head + radius + 1)]
    view = rec.as_json()
    view["checked"] = c.summary()
    if c.writes is not None and c.updates is not None:
        view["writes"] = [list(w) for w in c.writes]
        view["updates"] = [list(u) for u in c.updates]
    view["tape"] = window
    view["prompt_text"] = ix.prompts.get(rec.prompt, "")
    view["prompt_block"] = boot_folded(view["prompt_text"], trace_shape(ix))
    if ix.divergence is not None and ix.divergence.cycle == k:
        view["divergence"] = ix.divergence.as_dict()
    return view


def percentile(values: Iterable[float], q: float) -> float:
    """The q-th percentile (nearest rank) of a list of values or of a Counter value -> count."""
    counts: Counter[float] = values if isinstance(values, Counter) else Counter(values)
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


def stats(ix: TraceIndex) -> dict[str, Any]:
    """Counts over every cycle; memory does not grow with the number of cycles (latencies are
    counted by value), so a 10^8-cycle trace is read in constant space."""
    pairs: Counter[tuple[str, str]] = Counter()
    latencies: Counter[float] = Counter()
    tin = tout = cached = 0
    total_ms = 0.0
    first_div, ms_to_div = None, 0.0
    for k, (state, read, ms, t_in, t_out, hit, ok) in enumerate(ix.facts(), 1):  # Facts
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
        "end": None if ix.end is None else ix.end.reason,
        "backend": ix.header.backend_name,
        "program": ix.header.program_name,
    }
