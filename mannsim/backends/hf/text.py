"""Where a greedy answer ends: the first stop string or EOS, in text and in tokens.

The rule (:meth:`Stops.finish`): an answer stops at its first EOS token, or at the fewest
tokens whose decoded text holds a stop string; its text is the decoded answer cut where the
first stop string begins.

Finding that point as tokens arrive (:class:`StopScan`) does not decode the whole answer at
every token. A stop string can newly appear only with a token that may end one: its text holds
the last character of a stop string, or it is empty or part of a character (``\\ufffd``, one
byte of a multi-byte character). Those token ids are found once, from the tokenizer
(:attr:`Stops.enders`). Only at such a token are the last few tokens decoded (enough for the
longest stop string, and a margin where decoding a window and decoding in context differ: a
leading space, a cut character); a hit there is confirmed on the whole answer, once. When the
answer ends (a stop, EOS or the token limit), :meth:`Stops.finish` settles it on its whole
text, so a stop the scan could miss (a tokenizer whose tokens' texts alone hide how they join)
costs decoding time, never a different answer.
"""
from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

#: Tokens decoded before a tail window's first needed one (see the module's docstring).
TAIL_MARGIN = 2


class Stops:
    """The stop strings and EOS tokens of one tokenizer, with a cache of token texts."""

    def __init__(self, tokenizer: Any, stop: Sequence[str]) -> None:
        self.tokenizer = tokenizer
        self.stop = tuple(stop) or ("\n",)
        eos = tokenizer.eos_token_id
        self.eos: frozenset[int] = frozenset({eos} if isinstance(eos, int) else eos or ())
        self._text: dict[int, str] = {}
        self._longest = max(len(s) for s in self.stop)
        texts: list[str] = tokenizer.batch_decode([[t] for t in range(len(tokenizer))])
        self.vocab = len(texts)
        lasts = {s[-1] for s in self.stop if s}
        #: The token ids whose text may end a stop string (ids past the tokenizer's: all).
        self.enders = frozenset(t for t, text in enumerate(texts)
                                if not text or "\ufffd" in text or any(c in text for c in lasts))

    @property
    def pad(self) -> int:
        pad = self.tokenizer.pad_token_id
        return pad if pad is not None else next(iter(self.eos), 0)

    def token_text(self, token: int) -> str:
        text = self._text.get(token)
        if text is None:
            text = self._text[token] = self.tokenizer.decode([token])
        return text

    def decode(self, tokens: Sequence[int]) -> str:
        text: str = self.tokenizer.decode(list(tokens))
        return text

    def first_stop(self, text: str) -> int | None:
        """Where the first stop string in ``text`` begins (None: there is none)."""
        return min((i for i in (text.find(s) for s in self.stop) if i >= 0), default=None)

    def _body(self, generated: Sequence[int]) -> tuple[list[int], bool]:
        """The tokens before the first EOS, and whether there is one."""
        eos_at = next((n for n, t in enumerate(generated) if t in self.eos), None)
        return list(generated if eos_at is None else generated[:eos_at]), eos_at is not None

    def text(self, generated: Sequence[int]) -> str:
        """The answer's text: decoded up to the first EOS, cut at the first stop string."""
        body, _ = self._body(generated)
        full = self.decode(body)
        cut = self.first_stop(full)
        return full if cut is None else full[:cut]

    def finish(self, generated: Sequence[int], hint: int | None = None) -> tuple[str, int, bool]:
        """Decode up to the first stop string or EOS: (text, tokens used, stopped). ``hint``: where
        a :class:`StopScan` saw a stop string, checked here (else the fewest tokens are looked
        for from the start)."""
        body, eos = self._body(generated)
        full = self.decode(body)
        cut = self.first_stop(full)
        if cut is None:
            return full, len(body) + eos, eos
        return full[:cut], self._fewest(body, full, hint), True

    def _fewest(self, body: list[int], full: str, hint: int | None) -> int:
        """The fewest tokens of ``body`` whose text holds a stop string (``full``, the text of
        all of them, does)."""
        if hint is not None and 0 < hint <= len(body):
            at = full if hint == len(body) else self.decode(body[:hint])
            if self.first_stop(at) is not None and self.first_stop(self.decode(body[:hint - 1])) is None:
                return hint
        for n in range(1, len(body) + 1):
            if self.first_stop(self.decode(body[:n])) is not None:
                return n
        return len(body)

    def ends_at(self, tokens: Sequence[int]) -> bool:
        """Whether an answer that stopped at none of its earlier tokens stops at its last: an
        EOS, or a stop string that its text now holds."""
        last = tokens[-1]
        if last in self.eos:
            return True
        if last < self.vocab and last not in self.enders:
            return False
        start, chars = len(tokens) - 1, 0
        while start > 0 and chars < self._longest - 1:
            start -= 1
            chars += len(self.token_text(tokens[start]))
        tail = self.decode(tokens[max(0, start - TAIL_MARGIN):])
        return self.first_stop(tail) is not None and self.first_stop(self.decode(tokens)) is not None

    def settle(self, generated: Sequence[int]) -> tuple[int, bool]:
        """(tokens used, stopped) of a whole generated sequence, as :meth:`finish` says."""
        scan = StopScan(self)
        scan.feed(generated)
        return scan.settle()


class StopScan:
    """One answer's tokens, fed as they are generated, until it stops."""

    def __init__(self, stops: Stops) -> None:
        self.stops = stops
        self.tokens: list[int] = []
        self.stopped = False  # at its last token: a stop string or EOS

    def feed(self, tokens: Iterable[int]) -> bool:
        """Add ``tokens`` up to the one the answer stops at; whether it has stopped."""
        for t in tokens:
            if self.stopped:
                break
            self.tokens.append(t)
            self.stopped = self.stops.ends_at(self.tokens)
        return self.stopped

    def settle(self) -> tuple[int, bool]:
        """(tokens used, stopped), exactly as :meth:`Stops.finish` says of the tokens fed."""
        hint = len(self.tokens) if self.stopped else None
        _, used, stopped = self.stops.finish(self.tokens, hint)
        return used, stopped
