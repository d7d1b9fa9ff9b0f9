"""mannsim verify: exhaustive conformance and its JSON certificate."""
import json
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest

from conftest import PROGRAMS
from helpers import FaultyBackend
from mannsim.backends import load_backend
from mannsim.machine import load
from mannsim.program import compile_program, load_dialect
from mannsim.verify import certificate, check_effect, verify

SCHEMA = json.loads((Path(__file__).resolve().parent.parent / "mannsim" / "schemas" /
                     "verify-report.schema.json").read_text())
DIALECT = load_dialect("schuurmans")


def test_u15_2_symbolic_29_of_29_with_a_valid_certificate(tmp_path):
    out = tmp_path / "report.json"
    proc = subprocess.run([sys.executable, "-m", "mannsim", "verify", str(PROGRAMS / "u15_2.tm"),
                           "--backend", "symbolic", "--json", str(out)], capture_output=True,
                          text=True)
    assert proc.returncode == 0, proc.stderr
    assert "PASS: 29/29" in proc.stdout
    report = json.loads(out.read_text())
    jsonschema.validate(report, SCHEMA)
    assert report["total"] == report["passed"] == report["textual"] == 29
    assert report["verdict"] == "pass" and report["program"]["name"] == "U15,2"
    halting = [c for c in report["cases"] if c["states"] == ["J"] and c["symbols"] == ["1"]]
    assert halting and halting[0]["answer"] == '" op="halt" "'


@pytest.mark.parametrize("dialect", ["schuurmans", "compact"])
@pytest.mark.parametrize("name", sorted(p.name for p in PROGRAMS.glob("*.tm")))
def test_every_shipped_program_passes_on_symbolic(name, dialect):
    prog = compile_program(load(str(PROGRAMS / name)), load_dialect(dialect))
    results = verify(prog, load_backend("symbolic"))
    assert results and all(r.passed and r.textual for r in results)


class OneWrong(FaultyBackend):
    """Wrong on the 3rd prompt it is asked."""


def test_a_wrong_answer_fails_verification(tmp_path):
    prog = compile_program(load(str(PROGRAMS / "u15_2.tm")), DIALECT)
    backend = OneWrong("wrong-branch", at=3)
    results = verify(prog, backend)
    report = certificate(prog, backend, results)
    jsonschema.validate(report, SCHEMA)
    assert report["verdict"] == "fail" and report["passed"] == 28
    bad = [c for c in report["cases"] if not c["pass"]]
    assert len(bad) == 1 and bad[0]["problem"]


def test_effect_check_accepts_same_effect_different_text():
    prog = compile_program(load(str(PROGRAMS / "u15_2.tm")), DIALECT)
    assert check_effect(prog, "A", "0", '" op="%[B]" %[i]="0" i+=1 "') is None
    assert check_effect(prog, "A", "0", ' op="%[B]"  %[i]="0"   i+=1') is None  # spacing differs
    assert check_effect(prog, "A", "0", '" op="%[B]" %[i]="1" i+=1 "') == "wrong symbol written"
    assert check_effect(prog, "J", "1", '" op="halt" "') is None
    assert "halts" in check_effect(prog, "J", "1", '" op="%[K]" %[i]="1" i-=1 "')


def test_verify_exit_code_and_json_to_stdout():
    proc = subprocess.run([sys.executable, "-m", "mannsim", "verify", str(PROGRAMS / "bb2.tm"),
                           "--json", "-"], capture_output=True, text=True)
    assert proc.returncode == 0
    report = json.loads(proc.stdout)
    jsonschema.validate(report, SCHEMA)
    assert report["total"] == 5
