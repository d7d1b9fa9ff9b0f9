"""Many prompts decoded side by side (``verify``): their common token prefix computed once,
the different ends left-padded and masked, positions explicit, one token per row per pass."""
from __future__ import annotations

import time
from collections.abc import Sequence

from ..base import Completion
from . import compat
from .lm import LM
from .text import Stops


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
    with lm.torch.inference_mode():
        prefix = lm.forward(encoded[0][:common], None, last_only=True)[1] if common else None
        for start in range(0, len(encoded), batch_size):
            chunk = encoded[start:start + batch_size]
            t0 = time.perf_counter()
            results = _greedy(lm, stops, chunk, prefix, common, max_new_tokens)
            share = (time.perf_counter() - t0) / len(chunk)
            for ids, (generated, truncated) in zip(chunk, results):
                text, _, _ = stops.finish(generated)
                out.append(Completion(text, tokens_in=len(ids), tokens_out=len(generated),
                                      latency=share, truncated=truncated))
    return out


def _greedy(lm: LM, stops: Stops, chunk: list[list[int]], prefix, common: int,
            max_new_tokens: int):
    torch = lm.torch
    b = len(chunk)
    cache = compat.new_cache(lm.model)
    if prefix is not None:
        compat.repeat_cache(cache, prefix, b)
    rests = [ids[common:] for ids in chunk]
    width = max(len(r) for r in rests)
    tokens = torch.full((b, width), stops.pad, dtype=torch.long)
    mask = torch.zeros((b, common + width), dtype=torch.long)
    mask[:, :common] = 1
    positions = torch.full((b, width), common, dtype=torch.long)
    for r, rest in enumerate(rests):
        n = len(rest)
        tokens[r, width - n:] = torch.tensor(rest)
        mask[r, common + width - n:] = 1
        positions[r, width - n:] = torch.arange(common, common + n)
    nxt = positions[:, -1] + 1
    generated: list[list[int]] = [[] for _ in range(b)]
    done = [False] * b
    truncated = [False] * b
    ids = tokens
    while True:
        logits = lm(input_ids=ids.to(lm.device), attention_mask=mask.to(lm.device),
                    position_ids=positions.to(lm.device), logits_to_keep=1, cache=cache).logits
        step = logits[:, -1].argmax(-1).tolist()
        for r in range(b):
            if done[r]:
                continue
            generated[r].append(step[r])
            _, used, stopped = stops.finish(generated[r])
            if stopped:
                generated[r], done[r] = generated[r][:used], True
            elif len(generated[r]) >= max_new_tokens:
                done[r] = truncated[r] = True
        if all(done):
            return list(zip(generated, truncated))
        ids = torch.tensor([[t] for t in step], dtype=torch.long)
        mask = torch.cat([mask, torch.ones((b, 1), dtype=torch.long)], dim=1)
        positions = nxt[:, None].clone()
        nxt = nxt + 1
