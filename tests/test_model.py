"""The embedded default model: offline, from the installed package, correct on held-out programs."""
import json
import os
import subprocess
import sys

import pytest

from mannsim.backends import load_backend
from mannsim.backends.hf import DEFAULT_MODEL
from mannsim.machine import load
from mannsim.program import compile_program, load_dialect
from mannsim.verify import verify

from conftest import PROGRAMS

DIALECT = load_dialect("schuurmans")


@pytest.fixture(scope="module")
def model():
    backend = load_backend("hf", stop=DIALECT.stop, threads=1)
    yield backend
    backend.close()


def test_weights_ship_inside_the_package_as_safetensors():
    files = {p.name for p in DEFAULT_MODEL.iterdir()}
    assert {"config.json", "model.safetensors", "tokenizer.json"} <= files
    assert not any(name.endswith((".bin", ".pt", ".pkl")) for name in files)
    size = (DEFAULT_MODEL / "model.safetensors").stat().st_size
    assert 1e6 < size < 50e6
    from transformers import AutoModelForCausalLM, AutoTokenizer
    AutoTokenizer.from_pretrained(DEFAULT_MODEL)
    assert AutoModelForCausalLM.from_pretrained(DEFAULT_MODEL).config.model_type == "llama"


def test_verify_u15_2_with_the_embedded_model(tmp_path):
    report = tmp_path / "cert.json"
    env = dict(os.environ, HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1")
    proc = subprocess.run([sys.executable, "-m", "mannsim", "verify", str(PROGRAMS / "u15_2.tm"),
                           "--backend", "hf", "--threads", "1", "--json", str(report)],
                          capture_output=True, text=True, env=env)
    data = json.loads(report.read_text())
    assert proc.returncode == 0, [c for c in data["cases"] if not c["pass"]]
    assert data["passed"] == data["total"] == 29 and data["textual"] == 29
    assert data["backend"]["name"] == "hf" and len(data["backend"]["weights"]) == 64


VERIFIED = sorted(p.name for p in PROGRAMS.glob("*.tm"))
# every program once per dialect; U15,2 in schuurmans is the command-line test above
CASES = [(n, d) for d in ("schuurmans", "compact") for n in VERIFIED
         if (n, d) != ("u15_2.tm", "schuurmans")]


@pytest.mark.parametrize("name,dialect", CASES)
def test_every_program_verifies_with_the_embedded_model(model, name, dialect):
    prog = compile_program(load(str(PROGRAMS / name)), load_dialect(dialect))
    results = verify(prog, model)
    failed = [(r.states, r.symbols, r.expected, r.answer) for r in results if not r.passed]
    assert results and not failed
    assert all(r.textual for r in results)  # the very answer text, not only its effect


def test_a_short_run_with_the_model_has_no_divergence(model):
    from mannsim.computer import Computer
    report = Computer(compile_program(load(str(PROGRAMS / "bb4.tm")), DIALECT), model).run()
    assert report.reason == "halt" and report.steps == 107 and report.divergence is None

