"""Train the embedded model: ``python -m mannsim.train --out DIR [--steps N] [--seed S]``.

A small Llama (transformers' ``LlamaForCausalLM``) learns, from random machines compiled with
the dialect, to answer an instruction block with its chosen result line. Each training sequence
is a run of (block, answer) pairs, like the boot: with probability ``--boot-prob`` the boot of one
of the ``--dialect`` dialects comes first. The loss is on answer tokens only (the answer line and
its newline).

Batches are a pure function of (seed, step): batch ``k`` is built from ``random.Random(f"{seed}:{k}")``,
so ``--workers`` (processes that build batches ahead of the model) changes speed, never data.

Evaluation is teacher-forced and batched: a case passes when the model's argmax at every answer
position is the answer's next token, which implies that greedy decoding returns exactly the
answer. Two sets, both with the boot: a validation set of random machines drawn with
``--val-seed`` (the checkpoint selected as ``best`` is the best on this set), and every distinct
prompt of every program under ``programs/`` (held out from training, reported, not selected on).
The authority is still ``mannsim verify`` on the packaged model.

Runs on CPU (slowly) or on a GPU when there is one (bf16 autocast there). With
``--max-minutes`` the learning-rate schedule follows wall time, so a time-boxed run ends its
cosine decay on time.
"""
from __future__ import annotations

import argparse
import json
import math
import os
import random
import shutil
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any, TextIO

import torch
from transformers import AutoTokenizer, LlamaConfig, LlamaForCausalLM

from ..program import load_dialect
from .batches import batches, to_tensors
from .data import PROGRAMS, blocks, held_out_rows
from .evaluation import Encoded, autocast, encode_cases, exact, per_program, program_cases, validation_cases
from .tokenizer import train_tokenizer

__all__ = ["PROGRAMS", "ROOT", "batches", "encode_cases", "exact", "main", "parse_args",
           "program_cases", "validation_cases"]

ROOT = Path(__file__).resolve().parent.parent.parent


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(prog="python -m mannsim.train", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", default=str(ROOT / "build" / "train"))
    ap.add_argument("--dialect", default="schuurmans",
                    help="comma-separated dialects whose boots prefix training sequences; "
                         "blocks and evaluation use the first")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--steps", type=int, default=2500)
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--max-len", type=int, default=400)
    ap.add_argument("--lr", type=float, default=1.5e-3)
    ap.add_argument("--hidden", type=int, default=256)
    ap.add_argument("--layers", type=int, default=4)
    ap.add_argument("--heads", type=int, default=8)
    ap.add_argument("--boot-prob", type=float, default=0.4)
    ap.add_argument("--eval-every", type=int, default=250)
    ap.add_argument("--max-minutes", type=float, default=0,
                    help="stop after this many minutes; the schedule then follows wall time")
    ap.add_argument("--threads", type=int, default=0)
    ap.add_argument("--workers", type=int, default=0, help="processes building batches ahead")
    ap.add_argument("--init", help="continue from this checkpoint folder (model and tokenizer)")
    ap.add_argument("--long-names", type=float, default=0.4,
                    help="share of state names that are words of 2..--name-max characters")
    ap.add_argument("--name-max", type=int, default=7)
    ap.add_argument("--symbols-max", type=int, default=4, help="machines have 2..N symbols")
    ap.add_argument("--human", type=float, default=0.0,
                    help="fraction of machines drawn as people write them (mannsim eval's human "
                         "and large distributions, plus names sharing prefixes or repeating "
                         "a piece, and every printable symbol)")
    ap.add_argument("--val-seed", type=int, default=424_242)
    ap.add_argument("--val-machines", type=int, default=60)
    return ap.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    torch.manual_seed(args.seed)
    if args.threads:
        torch.set_num_threads(args.threads)
    device = "cuda" if torch.cuda.is_available() else "cpu"
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    names: list[str] = args.dialect.split(",")
    dialect = load_dialect(names[0])
    held = held_out_rows(dialect, PROGRAMS)
    tok: Any
    if args.init:
        tok_dir = args.init
        tok = AutoTokenizer.from_pretrained(tok_dir)
    else:
        stream = blocks(dialect, random.Random(args.seed), held, args.long_names, args.name_max,
                        args.symbols_max, args.human)
        corpus = [b + a + "\n" for b, a in (next(stream) for _ in range(5000))]
        used = [load_dialect(n) for n in names]
        tok = train_tokenizer(corpus + [d.boot for d in used], used)
        tok_dir = str(out / "tokenizer")
        tok.save_pretrained(tok_dir)
    config = LlamaConfig(
        vocab_size=len(tok), hidden_size=args.hidden, num_hidden_layers=args.layers,
        num_attention_heads=args.heads, num_key_value_heads=args.heads,
        intermediate_size=args.hidden * 2, max_position_embeddings=2048,
        rope_parameters={"rope_type": "default", "rope_theta": 10000.0},
        tie_word_embeddings=True, bos_token_id=tok.bos_token_id, eos_token_id=tok.eos_token_id,
        pad_token_id=tok.pad_token_id)
    model: Any = (LlamaForCausalLM.from_pretrained(args.init) if args.init
                  else LlamaForCausalLM(config))
    model = model.to(device)
    n_params = sum(p.numel() for p in model.parameters())
    opt = torch.optim.AdamW(model.parameters(), lr=args.lr, weight_decay=0.01, betas=(0.9, 0.98))
    steps: int = args.steps
    max_minutes: float = args.max_minutes
    warmup = max(1, steps // 20)
    t0 = time.time()

    def lr_factor(step: int) -> float:
        progress = step / steps
        if max_minutes:
            progress = max(progress, (time.time() - t0) / (max_minutes * 60))
        return min(1.0, (step + 1) / warmup) * (
            0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * min(1.0, progress))))

    sched = torch.optim.lr_scheduler.LambdaLR(opt, lr_factor)
    cases = encode_cases(tok, program_cases(dialect))
    val = encode_cases(tok, validation_cases(dialect, args.val_seed, args.val_machines,
                                             args.long_names, args.name_max, args.symbols_max))
    eval_batch = 64 if device == "cuda" else 16
    with open(out / "train_log.jsonl", "a") as log:
        return _train(args, model, tok, opt, sched, device, out, t0, log, cases, val, held,
                      n_params, tok_dir, names, eval_batch)


def _train(args: argparse.Namespace, model: Any, tok: Any, opt: torch.optim.Optimizer,
           sched: torch.optim.lr_scheduler.LambdaLR, device: str, out: Path, t0: float,
           log: TextIO, cases: list[Encoded], val: list[Encoded], held: set[str], n_params: int,
           tok_dir: str, names: list[str], eval_batch: int) -> int:
    print(f"device {device}, {n_params:,} parameters, vocab {len(tok)}, {len(held)} held-out rows, "
          f"{len(val)} validation cases, {len(cases)} program cases", flush=True)
    best = -1
    opts = {k: getattr(args, k) for k in
            ("seed", "batch", "max_len", "boot_prob", "long_names", "name_max", "symbols_max",
             "human")}
    model.train()
    stream = batches(1, args.steps, args.workers, (tok_dir, names, opts))
    for step, seqs in enumerate(stream, start=1):
        ids, labels, mask = (t.to(device) for t in to_tensors(seqs, tok.pad_token_id))
        with autocast(device):
            loss = model(input_ids=ids, attention_mask=mask, labels=labels).loss
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        sched.step()
        opt.zero_grad(set_to_none=True)
        elapsed = time.time() - t0
        if step % 25 == 0:
            print(f"step {step} loss {loss.item():.5f} lr {sched.get_last_lr()[0]:.2e} "
                  f"{elapsed / 60:.1f} min", flush=True)
        done = bool(args.max_minutes) and elapsed > args.max_minutes * 60
        if step % args.eval_every == 0 or step == args.steps or done:
            v = sum(exact(model, tok.pad_token_id, val, device, eval_batch))
            res = exact(model, tok.pad_token_id, cases, device, eval_batch)
            total = sum(res)
            rec = {"step": step, "loss": loss.item(), "minutes": elapsed / 60,
                   "validation": v, "validation_cases": len(val), "exact": total,
                   "cases": len(cases), "per_program": per_program(cases, res)}
            log.write(json.dumps(rec) + "\n")
            log.flush()
            print(json.dumps(rec), flush=True)
            model.save_pretrained(out / "last", safe_serialization=True)
            tok.save_pretrained(out / "last")
            if v >= best:  # the checkpoint just written, copied (not serialized again)
                best = v
                shutil.copytree(out / "last", out / "best", dirs_exist_ok=True)
                (out / "best" / "training.json").write_text(json.dumps(
                    {**vars(args), "step": step, "minutes": elapsed / 60, "validation": v,
                     "validation_cases": len(val), "exact": total, "cases": len(cases),
                     "parameters": n_params, "device": device,
                     "device_name": (torch.cuda.get_device_name() if device == "cuda"
                                     else "cpu")}, indent=1))
        if done:
            break
    stream.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
