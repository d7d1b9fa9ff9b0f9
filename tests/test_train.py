"""The training pipeline: data held out, batches a pure function of (seed, step), evaluation exact."""
import json
import random

import pytest

from mannsim.backends.hf import DEFAULT_MODEL
from mannsim.program import load_dialect
from mannsim.train import trainer
from mannsim.train.data import blocks, held_out_rows, random_machine

from conftest import PROGRAMS

DIALECT = load_dialect("schuurmans")


def test_no_training_block_contains_a_held_out_row():
    held = held_out_rows(DIALECT, PROGRAMS)
    assert len(held) > 100
    stream = blocks(DIALECT, random.Random(5), held, 0.7, 11, 6)
    for _ in range(3000):
        block, _ = next(stream)
        assert not any(row in held for row in DIALECT.shape.rows(block))


def test_machines_have_up_to_symbols_max_symbols():
    rng = random.Random(1)
    counts = {len(random_machine(rng, symbols_max=6).symbols) for _ in range(400)}
    assert counts == {2, 3, 4, 5, 6}
    rng = random.Random(1)
    assert {len(random_machine(rng).symbols) for _ in range(400)} == {2, 3, 4}


def test_batches_depend_on_seed_and_step_only():
    opts = {"seed": 9, "batch": 3, "max_len": 400, "boot_prob": 0.5, "long_names": 0.7,
            "name_max": 11, "symbols_max": 6}
    init = (str(DEFAULT_MODEL), ["schuurmans", "compact"], opts)
    first = list(trainer.batches(4, 6, 0, init))
    again = list(trainer.batches(5, 6, 0, init))
    assert again == first[1:]
    assert first[0] != first[1]
    for ids, labels in first[0]:
        assert len(ids) == len(labels) <= 400
        assert any(label != -100 for label in labels)


@pytest.fixture(scope="module")
def tiny():
    from transformers import AutoModelForCausalLM, AutoTokenizer
    return AutoModelForCausalLM.from_pretrained(DEFAULT_MODEL), AutoTokenizer.from_pretrained(DEFAULT_MODEL)


def test_teacher_forced_exactness_agrees_with_greedy_decoding(tiny):
    model, tok = tiny
    cases = trainer.program_cases(DIALECT)[:12]
    # corrupt half of the expected answers: exactness must reject those and accept the rest
    cases = [(n, p, a if k % 2 else a.replace("op=", "op =")) for k, (n, p, a) in enumerate(cases)]
    got = trainer.exact(model, tok.pad_token_id, trainer.encode_cases(tok, cases), "cpu", 4)
    greedy = [g == a for g, (_, _, a) in zip(_greedy(model, tok, [p for _, p, _ in cases]), cases)]
    assert got == greedy
    assert got == [bool(k % 2) for k in range(12)]


def _greedy(model, tok, prompts):
    import torch
    outs = []
    for prompt in prompts:
        ids = torch.tensor([tok(prompt, add_special_tokens=False)["input_ids"]])
        out = model.generate(ids, max_new_tokens=48, do_sample=False, stop_strings=["\n"],
                             tokenizer=tok, pad_token_id=tok.pad_token_id)
        outs.append(tok.decode(out[0, ids.shape[1]:]).split("\n")[0])
    return outs


def test_a_short_training_run_writes_a_loadable_checkpoint(tmp_path):
    out = tmp_path / "train"
    rc = trainer.main(["--out", str(out), "--steps", "2", "--batch", "2", "--hidden", "32",
                       "--layers", "1", "--heads", "2", "--eval-every", "2", "--val-machines", "2",
                       "--dialect", "schuurmans,compact", "--symbols-max", "5"])
    assert rc == 0
    from transformers import AutoModelForCausalLM, AutoTokenizer
    model = AutoModelForCausalLM.from_pretrained(out / "best")
    tok = AutoTokenizer.from_pretrained(out / "best")
    assert model.config.hidden_size == 32 and len(tok) == model.config.vocab_size
    meta = json.loads((out / "best" / "training.json").read_text())
    assert meta["step"] == 2 and meta["cases"] == 190 and meta["symbols_max"] == 5
    log = [json.loads(line) for line in (out / "train_log.jsonl").read_text().splitlines()]
    assert log[-1]["step"] == 2 and 0 <= log[-1]["exact"] <= 190


def test_human_mix_draws_the_eval_shapes_and_keeps_programs_held_out():
    import random as _random

    from mannsim.program import load_dialect as _load
    from mannsim.train.data import blocks as _blocks
    from mannsim.train.data import held_out_rows as _held
    d = _load("schuurmans")
    held = _held(d, PROGRAMS)
    stream = _blocks(d, _random.Random(5), held, human=1.0)
    pairs = [next(stream) for _ in range(300)]
    text = "".join(b for b, _ in pairs)
    assert "_" in text and any(c in text for c in "oil")  # word-like names, the whole symbol set
    rows = {line for b, _ in pairs for line in b.split("\n") if "result = " in line}
    assert not rows & held
