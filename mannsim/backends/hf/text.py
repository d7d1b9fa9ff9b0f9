"""Where a greedy answer ends: the first stop string or EOS, in text and in tokens."""
from __future__ import annotations

from collections.abc import Sequence


class Stops:
    """The stop strings and EOS tokens of one tokenizer, with a cache of token texts."""

    def __init__(self, tokenizer, stop: Sequence[str]):
        self.tokenizer = tokenizer
        self.stop = tuple(stop) or ("\n",)
        eos = tokenizer.eos_token_id
        self.eos = {eos} if isinstance(eos, int) else set(eos or [])
        self._text: dict[int, str] = {}

    @property
    def pad(self) -> int:
        pad = self.tokenizer.pad_token_id
        return pad if pad is not None else next(iter(self.eos), 0)

    def token_text(self, token: int) -> str:
        text = self._text.get(token)
        if text is None:
            text = self._text[token] = self.tokenizer.decode([token])
        return text

    def finish(self, generated: list[int]) -> tuple[str, int, bool]:
        """Decode up to the first stop string or EOS: (text, tokens used, stopped)."""
        eos_at = next((n for n, t in enumerate(generated) if t in self.eos), None)
        body = generated if eos_at is None else generated[:eos_at]
        full = self.tokenizer.decode(body)
        hits = [full.find(s) for s in self.stop if s in full]
        if not hits:
            return full, len(body) + (eos_at is not None), eos_at is not None
        text = full[:min(hits)]
        for n in range(1, len(body) + 1):  # the fewest tokens whose text reaches the stop
            if any(s in self.tokenizer.decode(body[:n]) for s in self.stop):
                return text, n, True
        return text, len(body), True
