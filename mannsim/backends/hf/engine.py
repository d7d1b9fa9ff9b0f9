"""The loaded model at work: its CPU threads, its stops and decoders, answering prompts."""
from __future__ import annotations

import time
from collections.abc import Callable, Sequence

import torch

from ..base import Completion
from . import batch, compat
from .lm import LM
from .loading import Loaded, has_sliding_window
from .lookup import PromptLookupDecoder
from .options import HFOptions
from .text import Stops
from .threads import set_threads


class Engine:
    """What :class:`mannsim.backends.hf.HFBackend` answers with, for one loaded model."""

    def __init__(self, loaded: Loaded, options: HFOptions, stop: Sequence[str]) -> None:
        self.threads = set_threads(loaded, options.threads, options.device)
        self.tokenizer, self.model = loaded.tokenizer, loaded.model
        self.device = options.device
        self.max_new_tokens = options.max_new_tokens
        self.stops = Stops(self.tokenizer, stop)
        self.lm = LM(self.model, options.device)
        self.fast = options.fast and not has_sliding_window(self.model)
        if self.fast:
            compat.check(self.model, options.device)
        self.decoder = PromptLookupDecoder(self.lm, self.stops, options.max_new_tokens,
                                           options.candidates, options.draft_len)

    def encode(self, prompt: str) -> list[int]:
        ids: list[int] = self.tokenizer(prompt)["input_ids"]
        return ids

    def generate_plain(self, ids: list[int]) -> tuple[list[int], bool]:
        """``model.generate`` on the whole prompt (the baseline): (answer tokens, truncated)."""
        self.lm.forward_passes += 1  # counted per call; generate's own steps are not visible
        inp = self.lm.tensor([ids])
        out = self.model.generate(inp, attention_mask=torch.ones_like(inp),
                                  max_new_tokens=self.max_new_tokens, do_sample=False,
                                  stop_strings=list(self.stops.stop), tokenizer=self.tokenizer,
                                  pad_token_id=self.stops.pad)
        generated: list[int] = out[0, len(ids):].tolist()
        used, stopped = self.stops.settle(generated)
        return generated[:used], not stopped

    def complete(self, prompts: Sequence[str]) -> list[Completion]:
        out = []
        generate: Callable[[list[int]], tuple[list[int], bool]] = (
            self.decoder.generate if self.fast else self.generate_plain)
        with torch.inference_mode():
            for prompt in prompts:
                t0 = time.perf_counter()
                ids = self.encode(prompt)
                generated, truncated = generate(ids)
                out.append(Completion(self.stops.text(generated), tokens_in=len(ids),
                                      tokens_out=len(generated), latency=time.perf_counter() - t0,
                                      truncated=truncated))
        return out

    def complete_batch(self, prompts: Sequence[str], batch_size: int = 32) -> list[Completion]:
        """Greedy answers to many prompts at once (``verify``): see :mod:`.batch`."""
        if not self.fast or len(prompts) < 2:
            return self.complete(prompts)
        return batch.complete_batch(self.lm, self.stops, [self.encode(p) for p in prompts],
                                    batch_size, self.max_new_tokens)
