"""The hf backend's options, as it declares them (see :mod:`mannsim.backends.contract`)."""
from __future__ import annotations

from dataclasses import dataclass

from ..contract import tuning


@dataclass(frozen=True)
class HFOptions:
    """``model``: a model folder, a ``.gguf`` file, a hub id or a pretrained model's short name
    (None: the embedded model); ``threads``: a number, ``"auto"`` or None (the default for the
    model). The tuning options: ``max_new_tokens`` (the answer's token limit), ``fast=False``
    (plain ``generate``, the baseline), ``candidates`` and ``draft_len`` (prompt lookup)."""

    model: str | None = None
    device: str = "cpu"
    dtype: str = "float32"
    threads: int | str | None = None
    allow_pickle: bool = False
    online: bool = False
    max_new_tokens: int = tuning(64)
    fast: bool = tuning(True)
    candidates: int = tuning(4)
    draft_len: int = tuning(24)
