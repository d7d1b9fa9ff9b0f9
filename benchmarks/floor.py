"""What one verifying pass of the embedded model costs at the least, measured in this process.

Two references for the hf step, both for ``new`` new tokens over a ``cache``-token KV cache:

- the **floor**: the same matrix products as one forward pass of the embedded model's
  architecture (read from its config: per layer the q, k, v and o projections, the attention
  scores and the weighted values per head, the gated MLP's three products; then the tied LM
  head), on random float32 tensors of those shapes, back to back, nothing else (no norms, no
  RoPE, no softmax, no Python between them);
- one **eager transformers forward** of the same size: the embedded model, ``new`` tokens fed
  after a ``cache``-token prefix held in its KV cache (cropped back after every pass).

Each is the best of ``repeat`` runs of ``passes`` passes, on the threads the step used.
"""
from __future__ import annotations

import json
import time
from typing import Any

from mannsim.backends.hf.compat import cache_kwarg, crop
from mannsim.backends.hf.loading import DEFAULT_MODEL


def _config() -> dict[str, Any]:
    with open(DEFAULT_MODEL / "config.json", encoding="utf-8") as f:
        config: dict[str, Any] = json.load(f)
    return config


def _best(fn: Any, passes: int, repeat: int) -> float:
    best = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        for _ in range(passes):
            fn()
        best = min(best, (time.perf_counter() - t0) / passes)
    return best


def gemm_floor_ms(new: int = 32, cache: int = 300, passes: int = 200, repeat: int = 5) -> dict[str, Any]:
    """The matrix products of one forward pass, back to back: ms, count and MFLOP."""
    import torch  # lazy: the benchmark's own process

    c = _config()
    d, inter, heads, layers = (c["hidden_size"], c["intermediate_size"],
                               c["num_attention_heads"], c["num_hidden_layers"])
    hd, kv = c.get("head_dim", d // heads), c["num_key_value_heads"]
    ctx = cache + new
    shapes = []
    for _ in range(layers):
        shapes += [(new, d, heads * hd), (new, d, kv * hd), (new, d, kv * hd),
                   (new, heads * hd, d)]
        shapes += [(new, hd, ctx)] * heads + [(new, ctx, hd)] * heads
        shapes += [(new, d, inter), (new, d, inter), (new, inter, d)]
    shapes.append((new, d, c["vocab_size"]))
    pairs = [(torch.randn(m, k), torch.randn(k, n)) for m, k, n in shapes]
    outs = [torch.empty(m, n) for m, _, n in shapes]

    def run() -> None:
        for (a, b), out in zip(pairs, outs):
            torch.matmul(a, b, out=out)

    run()
    seconds = _best(run, passes, repeat)
    flop = sum(2 * m * k * n for m, k, n in shapes)
    return {"ms": seconds * 1000, "gemms": len(shapes), "mflop": flop / 1e6}


def eager_forward_ms(new: int = 32, cache: int = 300, passes: int = 50, repeat: int = 5) -> float:
    """One eager transformers forward of ``new`` tokens over a ``cache``-token KV cache (ms)."""
    import torch  # lazy: the benchmark's own process
    from transformers import AutoModelForCausalLM

    model = AutoModelForCausalLM.from_pretrained(str(DEFAULT_MODEL), dtype=torch.float32)
    model.eval()
    vocab = _config()["vocab_size"]
    g = torch.Generator().manual_seed(0)
    prefix = torch.randint(3, vocab, (1, cache), generator=g)
    ids = torch.randint(3, vocab, (1, new), generator=g)
    with torch.inference_mode():
        past = model(prefix, use_cache=True).past_key_values
        positions = torch.arange(cache, cache + new).unsqueeze(0)
        kwarg = {cache_kwarg(model): past}

        def run() -> None:
            model(ids, position_ids=positions, use_cache=True, **kwarg)
            crop(past, cache)

        run()
        return _best(run, passes, repeat) * 1000
