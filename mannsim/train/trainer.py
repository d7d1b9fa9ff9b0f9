"""Train the embedded model: ``python -m mannsim.train --out DIR [--steps N] [--seed S]``.

A small Llama (transformers' ``LlamaForCausalLM``) learns, from random machines compiled with
the dialect, to answer an instruction block with its chosen result line. Each training sequence
is a run of (block, answer) pairs, like the boot: with probability ``--boot-prob`` the dialect's
real boot comes first. The loss is on answer tokens only (the answer line and its newline).
Evaluation puts every distinct prompt of every program under ``programs/`` (held out from
training) to the model with the boot, greedy, and counts exact answers. Reproducible from the
seed; runs on CPU (slowly) or on a GPU when there is one.
"""
from __future__ import annotations

import argparse
import json
import math
import random
import time
from pathlib import Path

import torch

from ..machine import load
from ..program import compile_program, load_dialect
from .data import blocks, held_out_rows
from .tokenizer import train_tokenizer

ROOT = Path(__file__).resolve().parent.parent.parent


def build_sequence(rng, stream, tok, boot_ids, boot_labels, max_len, boot_prob):
    ids, labels = [], []
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


def boot_with_labels(tok, boot: str):
    """The boot's tokens, labelled on its answer lines (lines that follow a $result line)."""
    ids, labels = [], []
    lines = boot.split("\n")[:-1] if boot.endswith("\n") else boot.split("\n")
    prev = ""
    for line in lines:
        t = tok(line + "\n", add_special_tokens=False)["input_ids"]
        ids += t
        labels += t if prev == "$result" else [-100] * len(t)
        prev = line
    return ids, labels


def eval_cases(dialect):
    cases = []
    for path in sorted((ROOT / "programs").glob("*.tm")):
        prog = compile_program(load(str(path)), dialect)
        for case in prog.cases():
            cases.append((path.stem, case.prompt, case.answer))
    return cases


@torch.no_grad()
def greedy(model, tok, prompts, max_new=48, device="cpu"):
    outs = []
    for prompt in prompts:
        ids = torch.tensor([tok(prompt, add_special_tokens=False)["input_ids"]], device=device)
        out = model.generate(ids, max_new_tokens=max_new, do_sample=False,
                             stop_strings=["\n"], tokenizer=tok, pad_token_id=tok.pad_token_id)
        outs.append(tok.decode(out[0, ids.shape[1]:]).split("\n")[0])
    return outs


def evaluate(model, tok, cases, device):
    model.eval()
    answers = greedy(model, tok, [c[1] for c in cases], device=device)
    model.train()
    per = {}
    for (name, _, expected), got in zip(cases, answers):
        ok, n = per.get(name, (0, 0))
        per[name] = (ok + (got == expected), n + 1)
    return per


def main(argv=None):
    ap = argparse.ArgumentParser(prog="python -m mannsim.train", description=__doc__)
    ap.add_argument("--out", default=str(ROOT / "build" / "train"))
    ap.add_argument("--dialect", default="schuurmans")
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
    ap.add_argument("--max-minutes", type=float, default=0)
    ap.add_argument("--threads", type=int, default=0)
    ap.add_argument("--init", help="continue from this checkpoint folder (model and tokenizer)")
    ap.add_argument("--long-names", type=float, default=0.4,
                    help="share of state names that are words of 2..--name-max characters")
    ap.add_argument("--name-max", type=int, default=7)
    args = ap.parse_args(argv)

    from transformers import LlamaConfig, LlamaForCausalLM
    rng = random.Random(args.seed)
    torch.manual_seed(args.seed)
    if args.threads:
        torch.set_num_threads(args.threads)
    device = "cuda" if torch.cuda.is_available() else "cpu"
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    dialect = load_dialect(args.dialect)
    held = held_out_rows(dialect, ROOT / "programs")
    stream = blocks(dialect, rng, held, args.long_names, args.name_max)
    if args.init:
        from transformers import AutoTokenizer
        tok = AutoTokenizer.from_pretrained(args.init)
    else:
        corpus = [b + a + "\n" for b, a in (next(stream) for _ in range(5000))] + [dialect.boot]
        tok = train_tokenizer(corpus)
    boot_ids, boot_labels = boot_with_labels(tok, dialect.boot)
    config = LlamaConfig(
        vocab_size=len(tok), hidden_size=args.hidden, num_hidden_layers=args.layers,
        num_attention_heads=args.heads, num_key_value_heads=args.heads,
        intermediate_size=args.hidden * 2, max_position_embeddings=2048, rope_theta=10000.0,
        tie_word_embeddings=True, bos_token_id=tok.bos_token_id, eos_token_id=tok.eos_token_id,
        pad_token_id=tok.pad_token_id)
    model = (LlamaForCausalLM.from_pretrained(args.init) if args.init
             else LlamaForCausalLM(config)).to(device)
    n_params = sum(p.numel() for p in model.parameters())
    opt = torch.optim.AdamW(model.parameters(), lr=args.lr, weight_decay=0.01, betas=(0.9, 0.98))
    warmup = max(1, args.steps // 20)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: min(1.0, (s + 1) / warmup) * (
        0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * min(1.0, s / args.steps)))))
    cases = eval_cases(dialect)
    log = open(out / "train_log.jsonl", "a")
    print(f"device {device}, {n_params:,} parameters, vocab {len(tok)}, {len(held)} held-out rows, "
          f"{len(cases)} eval cases", flush=True)
    t0 = time.time()
    best = -1
    model.train()
    for step in range(1, args.steps + 1):
        seqs = [build_sequence(rng, stream, tok, boot_ids, boot_labels, args.max_len, args.boot_prob)
                for _ in range(args.batch)]
        width = max(len(s[0]) for s in seqs)
        ids = torch.full((len(seqs), width), tok.pad_token_id)
        labels = torch.full((len(seqs), width), -100)
        mask = torch.zeros((len(seqs), width), dtype=torch.long)
        for k, (i, l) in enumerate(seqs):
            ids[k, :len(i)] = torch.tensor(i)
            labels[k, :len(l)] = torch.tensor(l)
            mask[k, :len(i)] = 1
        ids, labels, mask = ids.to(device), labels.to(device), mask.to(device)
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
        done = args.max_minutes and elapsed > args.max_minutes * 60
        if step % args.eval_every == 0 or step == args.steps or done:
            per = evaluate(model, tok, cases, device)
            total = sum(ok for ok, _ in per.values())
            rec = {"step": step, "loss": loss.item(), "minutes": elapsed / 60, "exact": total,
                   "cases": len(cases), "per_program": per}
            log.write(json.dumps(rec) + "\n")
            log.flush()
            print(json.dumps(rec), flush=True)
            model.save_pretrained(out / "last", safe_serialization=True)
            tok.save_pretrained(out / "last")
            if total >= best:
                best = total
                model.save_pretrained(out / "best", safe_serialization=True)
                tok.save_pretrained(out / "best")
                (out / "best" / "training.json").write_text(json.dumps(
                    {**vars(args), "step": step, "minutes": elapsed / 60, "exact": total,
                     "cases": len(cases), "parameters": n_params, "device": device}, indent=1))
        if done:
            break
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
