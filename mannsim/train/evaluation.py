"""Evaluation, teacher-forced and batched: a case passes when the model's argmax at every answer
position is the answer's next token, which implies that greedy decoding returns exactly the
answer. The cases are every distinct prompt of every program under ``programs/`` and the
prompts of random machines drawn from a validation seed."""
from __future__ import annotations

import contextlib
import random
from collections.abc import Iterable, Sequence
from typing import Any

import torch

from ..machine import load
from ..program import compile_program
from ..program.dialect import Dialect
from .batches import to_tensors
from .data import PROGRAMS, random_machine

#: A case: (name, prompt, answer).
Case = tuple[str, str, str]
#: A case tokenized: (name, prompt ids, answer ids, the answer's newline included).
Encoded = tuple[str, list[int], list[int]]


def program_cases(dialect: Dialect) -> list[Case]:
    cases = []
    for path in sorted(PROGRAMS.glob("*.tm")):
        prog = compile_program(load(str(path)), dialect)
        cases += [(path.stem, c.prompt, c.answer) for c in prog.cases()]
    return cases


def validation_cases(dialect: Dialect, seed: int, n_machines: int, long_names: float,
                     name_max: int, symbols_max: int) -> list[Case]:
    rng = random.Random(seed)
    cases = []
    for k in range(n_machines):
        prog = compile_program(random_machine(rng, long_names, name_max, symbols_max), dialect)
        cases += [(f"val{k}", c.prompt, c.answer) for c in prog.cases()]
    return cases


def encode_cases(tok: Any, cases: Iterable[Case]) -> list[Encoded]:
    """(name, prompt ids, answer ids) for each (name, prompt, answer) case, tokenized once."""
    return [(name, tok(prompt, add_special_tokens=False)["input_ids"],
             tok(answer + "\n", add_special_tokens=False)["input_ids"])
            for name, prompt, answer in cases]


@torch.no_grad()
def exact(model: Any, pad_id: int, encoded: Sequence[Encoded], device: str,
          batch: int = 32) -> list[bool]:
    """Teacher-forced exactness of each encoded case (see the module doc)."""
    was_training = model.training
    model.eval()
    results = []
    for start in range(0, len(encoded), batch):
        chunk = encoded[start:start + batch]
        ids, _, mask = to_tensors([(p + a, p + a) for _, p, a in chunk], pad_id)
        with autocast(device):
            logits = model(input_ids=ids.to(device), attention_mask=mask.to(device)).logits
        pred = logits.argmax(-1).cpu()
        for k, (_, p, a) in enumerate(chunk):
            results.append(pred[k, len(p) - 1:len(p) - 1 + len(a)].tolist() == a)
    model.train(was_training)
    return results


def autocast(device: str) -> contextlib.AbstractContextManager[Any]:
    """bf16 autocast on a GPU; nothing on the CPU."""
    if device == "cuda":
        return torch.autocast("cuda", dtype=torch.bfloat16)
    return contextlib.nullcontext()


def per_program(cases: Sequence[Encoded], results: Sequence[bool]) -> dict[str, tuple[int, int]]:
    """(passed, cases) for each case name."""
    per: dict[str, tuple[int, int]] = {}
    for (name, _, _), ok in zip(cases, results):
        good, n = per.get(name, (0, 0))
        per[name] = (good + ok, n + 1)
    return per
