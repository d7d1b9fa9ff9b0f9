"""Prompt-lookup decoding with a cross-call prefix cache: exact greedy, mostly one forward pass
per call.

- **prefix cache**: the KV cache of the previous prompt is kept, cropped to the longest common
  token prefix with the next prompt (the dialect's boot, and usually more), and only the rest
  of the prompt is computed;
- **candidate lookup** (prompt-lookup speculative decoding): the answer copies a line that
  stands in the prompt, so after each token the continuations of its most recent occurrences
  in the context (matched by tokens, or by text when a fragment token ends with it) are
  verified together in one batched forward pass; the longest run the model itself predicts is
  kept, plus the model's next token. The first pass of a call already carries these drafts
  after the uncached end of the prompt, behind a guess of the answer's first token (what
  followed the prompt's last two tokens earlier in the context, as in the boot's examples), so
  a copied answer usually costs one forward pass. Output is greedy argmax, token for token.
"""
from __future__ import annotations

from typing import Any

import torch

from . import compat
from .lm import LM
from .text import Stops, StopScan

#: How far back (tokens) drafts are looked for after each generated token.
DRAFT_WINDOW = 1024
#: How far back the first token's guess is looked for (a prompt's last two tokens).
GUESS_WINDOW = 2048
#: The first pass carries drafts only when at most this many prompt tokens are not cached
#: (else the prompt is new: a plain pass first, drafts from the second token on).
GUESS_MAX_REST = 96


class PromptLookupDecoder:
    """Greedy decoding of one prompt at a time; owns the KV cache kept between calls."""

    def __init__(self, lm: LM, stops: Stops, max_new_tokens: int, candidates: int = 4,
                 draft_len: int = 24) -> None:
        self.lm, self.stops = lm, stops
        self.max_new_tokens = max_new_tokens
        self.n_candidates = max(1, candidates)
        self.draft_len = draft_len
        self._cache: Any = None
        self._cached_ids: list[int] = []

    def reset(self) -> None:
        self._cache, self._cached_ids = None, []

    def generate(self, ids: list[int]) -> tuple[list[int], bool]:
        """(answer tokens up to the stop, truncated at max_new_tokens)."""
        common = 0
        if self._cache is not None:
            limit = min(len(ids) - 1, len(self._cached_ids))
            while common < limit and ids[common] == self._cached_ids[common]:
                common += 1
        cache = self._cache if common else None
        self._cache = None  # until this call ends, the stored cache may not match _cached_ids
        if cache is not None:
            compat.crop(cache, common)
        rest = ids[common:]
        guess = self._first_guess(ids) if cache is not None and len(rest) <= GUESS_MAX_REST \
            else None
        if guess is not None:  # the prompt's end and the answer's likely lines, in one pass
            drafts = [[guess] + d for d in self._drafts(ids, [guess])] or [[guess]]
            cache, generated = self._verify_tree(cache, rest, drafts)
        else:
            logits, cache = self.lm.forward(rest, cache, last_only=True)
            generated = [int(logits[0, -1].argmax())]
        scan = StopScan(self.stops)
        while True:
            scan.feed(generated[len(scan.tokens):self.max_new_tokens])
            if scan.stopped or len(generated) >= self.max_new_tokens:
                used, stopped = scan.settle()
                if len(generated) > self.max_new_tokens:  # drafts may overshoot the limit
                    self._cache = None
                else:
                    self._cache, self._cached_ids = cache, ids + generated[:-1]
                return generated[:used], not stopped
            cache, more = self._verify_tree(cache, [generated[-1]], self._drafts(ids, generated))
            generated += more

    def _first_guess(self, ids: list[int]) -> int | None:
        """The token that followed the last earlier occurrence of the prompt's final two tokens
        (for a dialect's prompt: the answer's first token, as in the boot's examples)."""
        if len(ids) < 3:
            return None
        a, b = ids[-2], ids[-1]
        for p in range(len(ids) - 3, max(0, len(ids) - 1 - GUESS_WINDOW), -1):
            if ids[p] == b and ids[p - 1] == a:
                return ids[p + 1]
        return None

    def _drafts(self, context: list[int], generated: list[int]) -> list[list[int]]:
        """Continuations of the places in the context that end like the output so far.

        A place scores by how many trailing output tokens it matches (up to 3); a place whose
        token merely ends with the last output token's text (a fragment such as
        ``result = "`` for ``"``) scores 1 as well. Best score first, then most recent.
        """
        seq = context + generated
        text = self.stops.token_text
        last_text = text(generated[-1])
        tail = generated[-3:]
        scored = []
        for p in range(len(context) - 1, max(-1, len(context) - 1 - DRAFT_WINDOW), -1):
            t = context[p]
            if t == generated[-1]:
                score = 1
                while (score < len(tail) and p - score >= 0
                       and context[p - score] == tail[-1 - score]):
                    score += 1
            elif text(t).endswith(last_text):
                score = 1
            else:
                continue
            scored.append((-score, -p))
        scored.sort()
        found: list[list[int]] = []
        seen: set[tuple[int, ...]] = set()
        for _, neg_p in scored:
            p = -neg_p
            cont: list[int] = []
            for u in seq[p + 1: p + 1 + self.draft_len]:
                cont.append(u)
                if "\n" in text(u):
                    break
            key = tuple(cont)
            if len(cont) >= 2 and key not in seen:  # a bare line end drafts nothing useful
                seen.add(key)
                found.append(cont)
                if len(found) >= self.n_candidates:
                    break
        return found

    def _verify_tree(self, cache: Any, prefix: list[int],
                     drafts: list[list[int]]) -> tuple[Any, list[int]]:
        """Feed ``prefix`` and every draft after ``cache`` in one sequence, each draft attending
        to the cache, the prefix and its own earlier tokens (a 4D attention mask and explicit
        positions), so the cache is not copied per draft.

        Returns (cache holding ``prefix`` plus the accepted draft tokens, accepted tokens
        followed by the model's own next token). Exact: a draft token is accepted only where
        it equals the model's argmax; with no drafts this is one plain greedy step.
        """
        lm = self.lm
        dev = lm.device
        base = compat.seq_length(cache)
        n = len(prefix)
        tokens, positions = list(prefix), list(range(base, base + n))
        offsets: list[int] = []
        for d in drafts:
            offsets.append(len(tokens))
            tokens += d
            positions += range(base + n, base + n + len(d))
        q = len(tokens)
        allow = torch.zeros((q, base + q), dtype=torch.bool, device=dev)
        allow[:, :base + n] = True
        allow[:n, base:base + n] = torch.tril(torch.ones((n, n), dtype=torch.bool, device=dev))
        for b, d in enumerate(drafts):
            o = offsets[b]
            allow[o:o + len(d), base + o:base + o + len(d)] = torch.tril(
                torch.ones((len(d), len(d)), dtype=torch.bool, device=dev))
        dtype = lm.model.dtype
        mask = torch.zeros((1, 1, q, base + q), dtype=dtype, device=dev)
        mask.masked_fill_(~allow[None, None], torch.finfo(dtype).min)
        out = lm(input_ids=lm.tensor([tokens]), position_ids=lm.tensor([positions]),
                 attention_mask=mask, cache=cache)
        preds = out.logits[0].argmax(-1).tolist()
        best, best_acc, best_next = 0, 0, preds[n - 1]
        for b, d in enumerate(drafts):
            o = offsets[b]
            chain = [preds[n - 1]] + [preds[o + j] for j in range(len(d))]
            acc = 0
            while acc < len(d) and chain[acc] == d[acc]:
                acc += 1
            if acc > best_acc:
                best, best_acc, best_next = b, acc, chain[acc]
        accepted = drafts[best][:best_acc] if drafts else []
        o = offsets[best] if drafts else q
        keep = list(range(base + n)) + list(range(base + o, base + o + best_acc))
        compat.keep_positions(cache, torch.tensor(keep, dtype=torch.long, device=dev))
        return cache, accepted + [best_next]
