"""Training batches: sequences of (block, answer) pairs, like the boot, as token ids and labels.

Batch ``k`` is a pure function of (seed, k): it is built from ``random.Random(f"{seed}:{k}")``,
so the processes that build batches ahead of the model change speed, never data.
"""
from __future__ import annotations

import multiprocessing as mp
import random
from collections import deque
from collections.abc import Generator, Iterator, Sequence
from multiprocessing.pool import AsyncResult
from typing import Any

import torch
from transformers import AutoTokenizer

from ..program import load_dialect
from ..program.dialect import Dialect
from .data import PROGRAMS, blocks, held_out_rows

#: A sequence's token ids and its labels (-100 where there is no loss).
Labelled = tuple[list[int], list[int]]
#: What each batch-building process is started with: tokenizer folder, dialect names, options.
InitArgs = tuple[str, list[str], dict[str, Any]]


def build_sequence(rng: random.Random, stream: Iterator[tuple[str, str]], tok: Any,
                   boot_ids: list[int], boot_labels: list[int], max_len: int,
                   boot_prob: float) -> Labelled:
    ids: list[int] = []
    labels: list[int] = []
    if rng.random() < boot_prob:
        ids, labels = list(boot_ids), list(boot_labels)
    while True:
        block, answer = next(stream)
        b = tok(block, add_special_tokens=False)["input_ids"]
        a = tok(answer + "\n", add_special_tokens=False)["input_ids"]
        if len(ids) + len(b) + len(a) > max_len:
            if ids:
                return ids, labels
            continue
        ids += b + a
        labels += [-100] * len(b) + a


def boot_with_labels(tok: Any, boot: str, dialect: Dialect) -> Labelled:
    """The boot's tokens, labelled on its answer lines (the lines that follow an instruction's
    last line, ``$result`` in the schuurmans shape)."""
    ids: list[int] = []
    labels: list[int] = []
    lines = boot.split("\n")[:-1] if boot.endswith("\n") else boot.split("\n")
    last = dialect.shape.tail.rstrip("\n").rsplit("\n", 1)[-1]
    prev = ""
    for line in lines:
        t = tok(line + "\n", add_special_tokens=False)["input_ids"]
        ids += t
        labels += t if prev == last else [-100] * len(t)
        prev = line
    return ids, labels


# -- built in worker processes when --workers > 0 ------------------------------------------------

_W: dict[str, Any] = {}


def _worker_init(tok_dir: str, dialects: list[str], opts: dict[str, Any]) -> None:
    tok = AutoTokenizer.from_pretrained(tok_dir)
    ds = [load_dialect(d) for d in dialects]
    _W.update(tok=tok, dialect=ds[0], opts=opts,
              held=held_out_rows(ds[0], PROGRAMS),
              boots=[boot_with_labels(tok, d.boot, d) for d in ds])


def make_batch(k: int) -> list[Labelled]:
    """Batch ``k``: ``opts['batch']`` sequences of token ids and labels."""
    o, tok = _W["opts"], _W["tok"]
    rng = random.Random(f"{o['seed']}:{k}")
    stream = blocks(_W["dialect"], rng, _W["held"], o["long_names"], o["name_max"],
                    o["symbols_max"], o.get("human", 0.0))
    seqs = []
    for _ in range(o["batch"]):
        boot_ids, boot_labels = rng.choice(_W["boots"])
        seqs.append(build_sequence(rng, stream, tok, boot_ids, boot_labels, o["max_len"],
                                   o["boot_prob"]))
    return seqs


def batches(first: int, last: int, workers: int,
            init_args: InitArgs) -> Generator[list[Labelled], None, None]:
    """Yield batches first..last in order, built ``workers`` processes ahead (0: in process)."""
    if workers <= 0:
        _worker_init(*init_args)
        for k in range(first, last + 1):
            yield make_batch(k)
        return
    ctx = mp.get_context("spawn")
    with ctx.Pool(workers, initializer=_worker_init, initargs=init_args) as pool:
        pending: deque[AsyncResult[list[Labelled]]] = deque()
        nxt = first
        while nxt <= last or pending:
            while nxt <= last and len(pending) < 4 * workers:
                pending.append(pool.apply_async(make_batch, (nxt,)))
                nxt += 1
            yield pending.popleft().get()


def to_tensors(seqs: Sequence[Labelled],
               pad_id: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Token ids (padded with ``pad_id``), labels (padded with -100) and the attention mask."""
    width = max(len(s[0]) for s in seqs)
    ids = torch.full((len(seqs), width), pad_id)
    labels = torch.full((len(seqs), width), -100)
    mask = torch.zeros((len(seqs), width), dtype=torch.long)
    for k, (i, lab) in enumerate(seqs):
        ids[k, :len(i)] = torch.tensor(i)
        labels[k, :len(lab)] = torch.tensor(lab)
        mask[k, :len(i)] = 1
    return ids, labels, mask
