"""The transformers internals the hf backend relies on, in one place.

The fast path keeps one KV cache across calls, crops it to a common prefix, keeps chosen
positions after a speculative pass, and repeats a prefix cache for a batch. transformers has no
public API for the last two, so they touch ``DynamicCache.layers[k].keys / .values``; everything
here is checked by :func:`check` on the loaded model (the backend refuses the fast path with a
one-line error naming the installed version when it fails) and by ``tests/test_backends.py``
against the installed release. Tested: transformers 5.0.0 and 5.24.0 (the hf and model tests
pass on both). 4.56.2 cannot load the embedded model's tokenizer (saved by 5.x), hence the
lower bound.
"""
from __future__ import annotations

import inspect
from typing import Any

import torch
import transformers
from transformers import DynamicCache

from ..base import BackendError

#: The transformers releases this module is written for (pyproject.toml pins the same range).
SUPPORTED = ">=5.0,<6"


def cache_kwarg(model: Any) -> str:
    """The name ``model.forward`` takes the KV cache under (renamed in recent releases)."""
    params = inspect.signature(model.forward).parameters
    return "cache" if "cache" in params else "past_key_values"


def new_cache(model: Any) -> Any:
    try:
        return DynamicCache(config=model.config)
    except TypeError:
        return DynamicCache()


def seq_length(cache: Any) -> int:
    length: int = cache.get_seq_length()
    return length


def crop(cache: Any, length: int) -> None:
    """Keep the first ``length`` positions."""
    if cache.get_seq_length() > length:
        cache.crop(-(cache.get_seq_length() - length))


def keep_positions(cache: Any, index: Any) -> None:
    """Keep only the positions in ``index`` (a 1-D long tensor), in that order."""
    for layer in cache.layers:
        layer.keys = layer.keys.index_select(-2, index)
        layer.values = layer.values.index_select(-2, index)


def repeat_cache(cache: Any, prefix: Any, batch: int) -> None:
    """Fill the empty ``cache`` with ``prefix`` (a batch-1 cache) repeated ``batch`` times."""
    del cache.layers[:]
    for src in prefix.layers:
        layer_type: Any = type(src)
        dst = layer_type.__new__(layer_type)
        for attr, value in vars(src).items():
            is_kv = attr in ("keys", "values") and value is not None
            setattr(dst, attr, value.repeat(batch, 1, 1, 1) if is_kv else value)
        cache.layers.append(dst)


def check(model: Any, device: str = "cpu") -> None:
    """Exercise every operation above on ``model``; a :class:`BackendError` if one does not
    behave as the fast path needs."""
    problem: str | None = None
    try:
        cache = new_cache(model)
        with torch.inference_mode():
            model(input_ids=torch.tensor([[1, 2, 3]], device=device), use_cache=True,
                  **{cache_kwarg(model): cache})
        layers = getattr(cache, "layers", None)
        if not layers or not all(hasattr(layer, "keys") and hasattr(layer, "values")
                                 for layer in layers):
            problem = "DynamicCache has no per-layer keys/values"
        elif seq_length(cache) != 3 or layers[0].keys.shape[-2] != 3:
            problem = "the cache's sequence axis is not the second to last"
        else:
            keep_positions(cache, torch.tensor([0, 2], device=device))
            crop(cache, 1)
            other = new_cache(model)
            repeat_cache(other, cache, 2)
            if seq_length(cache) != 1 or other.layers[0].keys.shape[0] != 2:
                problem = "cropping, selecting or repeating the cache does not work"
    except (AttributeError, TypeError, RuntimeError, IndexError) as e:
        problem = f"{type(e).__name__}: {str(e).splitlines()[0] if str(e) else ''}"
    if problem:
        raise BackendError(f"transformers {transformers.__version__} is not supported by the hf "
                           f"fast path ({problem}); install transformers{SUPPORTED} or pass "
                           "fast=False")
