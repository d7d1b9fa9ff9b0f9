"""The tokenizer of the prompt language, saved in Hugging Face format.

Pre-tokenization isolates the fixed fragments of the prompt language, read from the dialects'
templates (for schuurmans: ``result = "``, `` op="%[``, ``]" %[i]="``, ``" i+=1 "``, ``if ``,
``==``, `` then result = "``, ``$result``, a newline, ...) and splits everything else (state
names, symbols, any other text) into single characters; byte-level BPE then learns each
fragment as one token. So names and symbols are spelled the same way wherever they stand (in
the instruction and in the answer), any text can be encoded, and
``tokenize(prompt + answer) == tokenize(prompt) + tokenize(answer)``.
"""
from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from typing import Any

from tokenizers import Regex, Tokenizer, decoders, models, pre_tokenizers, trainers
from transformers import PreTrainedTokenizerFast

from ..program.dialect import Dialect

SPECIAL = ["<|pad|>", "<|bos|>", "<|eos|>"]
#: transformers' fast tokenizer class, untyped there (so held as Any here)
_FAST: Any = PreTrainedTokenizerFast


def fragments(dialects: Iterable[Dialect]) -> tuple[str, ...]:
    """The fixed fragments of the dialects' prompt language (each dialect's
    :attr:`~mannsim.program.shape.Shape.fragments`), longest first."""
    found = dict.fromkeys(f for d in dialects for f in d.shape.fragments)
    return tuple(sorted(found, key=lambda f: (-len(f), f)))


def pattern(frags: Iterable[str]) -> str:
    """The pre-tokenizer's split pattern: each fragment whole, anything else one character
    (no fragment is a prefix of another, so their order does not change the split)."""
    return "|".join(re.escape(f) for f in frags) + "|."


def train_tokenizer(texts: Iterable[str], dialects: Sequence[Dialect], vocab_size: int = 320) -> Any:
    """A byte-level BPE tokenizer of ``texts`` that keeps the dialects' fragments whole, as a
    transformers fast tokenizer."""
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.Sequence([
        pre_tokenizers.Split(Regex(pattern(fragments(dialects))), behavior="isolated"),
        pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False),
    ])
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=vocab_size, special_tokens=SPECIAL,
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
                                  show_progress=False)
    tok.train_from_iterator(texts, trainer=trainer)
    return _FAST(tokenizer_object=tok, pad_token="<|pad|>", bos_token="<|bos|>",
                 eos_token="<|eos|>", clean_up_tokenization_spaces=False)
