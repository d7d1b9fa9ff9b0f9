"""The loaded model as the decoders use it: forward passes (counted), the cache keyword."""
from __future__ import annotations

from typing import Any

import torch

from . import compat


class LM:
    def __init__(self, model: Any, device: str) -> None:
        self.model = model
        self.device = device
        self.cache_kw = compat.cache_kwarg(model)
        self.forward_passes = 0

    def __call__(self, **kwargs: Any) -> Any:
        """One forward pass (``kwargs`` as ``model.forward`` takes them; ``cache`` is renamed to
        the model's cache keyword)."""
        self.forward_passes += 1
        if "cache" in kwargs:
            kwargs[self.cache_kw] = kwargs.pop("cache")
        return self.model(use_cache=True, **kwargs)

    def tensor(self, rows: list[list[int]]) -> Any:
        """A long tensor of ``rows``, on the model's device."""
        return torch.tensor(rows, dtype=torch.long, device=self.device)

    def forward(self, ids: list[int], cache: Any = None, last_only: bool = False) -> tuple[Any, Any]:
        """``ids`` after ``cache`` (a new one when None, extended in place): (logits, cache)."""
        if cache is None:
            cache = compat.new_cache(self.model)
        kwargs = {"logits_to_keep": 1} if last_only else {}
        out = self(input_ids=self.tensor([ids]), cache=cache, **kwargs)
        return out.logits, cache
