"""Many prompts decoded side by side (``verify``): their common token prefix computed once,
the different ends left-padded and masked, positions explicit, one token per row per pass."""
from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

import torch

from ..base import Completion
from . import compat
from .lm import LM
from .text import Stops, StopScan


def common_prefix(encoded: list[list[int]]) -> int:
    """Tokens all prompts share, leaving each at least one of its own."""
    common = min(len(e) for e in encoded) - 1
    first = encoded[0]
    for e in encoded[1:]:
        n = 0
        while n < common and e[n] == first[n]:
            n += 1
        common = n
    return common


def complete_batch(lm: LM, stops: Stops, encoded: Sequence[list[int]], batch_size: int,
                   max_new_tokens: int) -> list[Completion]:
    """Greedy answers, in order; latency is each batch's wall time shared among its prompts."""
    encoded = list(encoded)
    common = common_prefix(encoded)
    out: list[Completion] = []
    with torch.inference_mode():
        prefix = lm.forward(encoded[0][:common], None, last_only=True)[1] if common else None
        for start in range(0, len(encoded), batch_size):
            chunk = encoded[start:start + batch_size]
            t0 = time.perf_counter()
            results = _greedy(lm, stops, chunk, prefix, common, max_new_tokens)
            share = (time.perf_counter() - t0) / len(chunk)
            for ids, (generated, truncated) in zip(chunk, results):
                out.append(Completion(stops.text(generated), tokens_in=len(ids),
                                      tokens_out=len(generated), latency=share,
                                      truncated=truncated))
    return out


def _greedy(lm: LM, stops: Stops, chunk: list[list[int]], prefix: Any, common: int,
            max_new_tokens: int) -> list[tuple[list[int], bool]]:
    """(answer tokens, truncated) per prompt of ``chunk``, one token per row per pass."""
    b, dev = len(chunk), lm.device
    cache = compat.new_cache(lm.model)
    if prefix is not None:
        compat.repeat_cache(cache, prefix, b)
    rests = [ids[common:] for ids in chunk]
    width = max(len(r) for r in rests)
    pads = [width - len(r) for r in rests]
    ids = lm.tensor([[stops.pad] * p + r for p, r in zip(pads, rests)])
    positions = lm.tensor([[common] * p + list(range(common, common + len(r)))
                           for p, r in zip(pads, rests)])
    # every pass's attention mask is the first columns of this one: the prefix, each row's
    # left-padded end, then a column per pass
    full_mask = torch.ones((b, common + width + max_new_tokens), dtype=torch.long, device=dev)
    columns = torch.arange(width, device=dev)[None, :]
    full_mask[:, common:common + width] = columns >= torch.tensor(pads, device=dev)[:, None]
    seen = common + width
    nxt = positions[:, -1] + 1
    scans = [StopScan(stops) for _ in range(b)]
    results: list[tuple[list[int], bool] | None] = [None] * b
    while True:
        logits = lm(input_ids=ids, attention_mask=full_mask[:, :seen], position_ids=positions,
                    logits_to_keep=1, cache=cache).logits
        chosen = logits[:, -1].argmax(-1)
        for r, token in enumerate(chosen.tolist()):
            scan = scans[r]
            if results[r] is None and (scan.feed([token]) or len(scan.tokens) >= max_new_tokens):
                used, stopped = scan.settle()
                results[r] = (scan.tokens[:used], not stopped)
        if all(res is not None for res in results):
            return [res for res in results if res is not None]
        ids = chosen[:, None]
        positions = nxt[:, None]
        nxt = nxt + 1
        seen += 1
