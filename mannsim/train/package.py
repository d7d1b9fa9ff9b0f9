"""Copy a trained checkpoint into the package as the embedded default model.

``python -m mannsim.train.package build/train/best`` writes ``mannsim/models/mannsim-tiny``:
weights (safetensors), config, tokenizer with a pass-through chat template (so chat endpoints
such as ``transformers serve``'s send the prompt unchanged), and ``training.json``.
"""
from __future__ import annotations

import shutil
import sys
from pathlib import Path

from transformers import AutoModelForCausalLM, AutoTokenizer

from ..resources import model_dir

CHAT_TEMPLATE = "{% for message in messages %}{{ message['content'] }}{% endfor %}"
DEST = model_dir("mannsim-tiny")


def package(src: str, dest: Path = DEST) -> Path:
    tok = AutoTokenizer.from_pretrained(src)
    tok.chat_template = CHAT_TEMPLATE
    model = AutoModelForCausalLM.from_pretrained(src)
    if dest.exists():
        shutil.rmtree(dest)
    dest.mkdir(parents=True)
    model.save_pretrained(dest, safe_serialization=True)
    tok.save_pretrained(dest)
    if (Path(src) / "training.json").is_file():
        shutil.copy(Path(src) / "training.json", dest / "training.json")
    return dest


if __name__ == "__main__":
    print(package(sys.argv[1]))
