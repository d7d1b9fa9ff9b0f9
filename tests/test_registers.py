"""Register keys: a state's MEMORY key is its name only when the name is one or two letters
and digits; any other name gets a short register, so a model never copies a long name.

The embedded model copies long names with a repeated piece wrongly (``one_scan_scan`` answered
``one_scan_scan_scan_scan``); with registers it never sees them. Traces and certificates record
the policy, and those written before it (no ``keys`` field) are read with names, as written.
"""
import json
import random

import pytest

from mannsim import replay
from mannsim.backends import load_backend
from mannsim.computer import Computer
from mannsim.machine import load, run
from mannsim.memory import CELL_KEY
from mannsim.program import compile_program, load_dialect
from mannsim.program.compiler import RESERVED
from mannsim.train import data
from mannsim.verify import certificate, verify

from conftest import PROGRAMS
from helpers import run_cli

DIALECT = load_dialect("schuurmans")


def mannsim(*args):
    return run_cli([*args])


def machine(names, symbols=("0", "1")):
    rng = random.Random(7)
    return data.machine_from(rng, list(names), list(symbols))


def test_short_names_are_their_own_registers_and_long_ones_get_initials():
    p = compile_program(load(str(PROGRAMS / "palindrome.tm")), DIALECT)
    assert p.keys["q0"] == "q0"
    assert p.keys["have0"] == "H" and p.keys["have1"] == "H1" and p.keys["halt-accept"] == "H2"
    u = compile_program(load(str(PROGRAMS / "u15_2.tm")), DIALECT)
    assert all(u.keys[q] == q for q in u.machine.states)  # the paper's prompts, unchanged


def test_names_policy_keeps_the_names():
    p = compile_program(load(str(PROGRAMS / "palindrome.tm")), DIALECT, "names")
    assert p.keys["halt-accept"] == "halt-accept"
    with pytest.raises(ValueError):
        compile_program(p.machine, DIALECT, "labels")


@pytest.mark.parametrize("seed", range(40))
def test_registers_are_short_unique_and_never_reserved_or_cells(seed):
    rng = random.Random(seed)
    m = rng.choice((data.human_machine, data.large_machine, data.confusable_machine))(rng)
    # adversarial names: a capital that is also some other state's initial, reserved words'
    # capitals, digits first
    names = list(m.states) + ["C", "S", "I", "9lives", "_x", "Op"]
    m = machine(dict.fromkeys(names))
    p = compile_program(m, DIALECT)
    keys = list(p.keys.values())
    assert len(set(keys)) == len(keys)
    for q, k in p.keys.items():
        assert len(k) <= 3 and k not in RESERVED and not CELL_KEY.fullmatch(k), (q, k)
        for text in p.texts.values():  # no long name reaches a prompt
            if len(q) > 2:
                assert f"%[{q}]" not in text


def test_a_machine_of_names_with_repeated_pieces_runs_the_same_either_way():
    names = ["one_scan_scan", "one_scan_scan_scan", "move_copy_copy", "end_one_one_one", "A"]
    m = machine(names, ("0", "1", "#"))
    ref = run(m, max_steps=500)
    for keys in ("registers", "names"):
        p = compile_program(m, DIALECT, keys)
        report = Computer(p, load_backend("symbolic"), max_steps=500).run()
        assert (report.state, report.cells) == (ref.state, ref.cells)


def test_traces_record_the_policy_and_old_traces_resume_with_names(tmp_path):
    m = load(str(PROGRAMS / "palindrome.tm"))
    for keys, drop in (("registers", False), ("names", False), ("names", True)):
        trace = tmp_path / f"{keys}{drop}.jsonl"
        p = compile_program(m, DIALECT, keys)
        Computer(p, load_backend("symbolic"), max_steps=5, trace=str(trace)).run()
        lines = trace.read_text().splitlines()
        header = json.loads(lines[0])
        assert header["program"]["keys"] == keys
        if drop:  # a trace written before register keys
            del header["program"]["keys"]
            trace.write_text("\n".join([json.dumps(header)] + lines[1:]) + "\n")
        comp = replay.resume(str(trace), load_backend("symbolic"), max_steps=10**4)
        assert comp.program.key_policy == keys and comp.resumed_from == 5
        report = comp.run()
        assert report.reason == "halt" and report.state == run(m).state


def test_a_trace_with_an_unknown_policy_is_refused_in_one_line(tmp_path):
    trace = tmp_path / "t.jsonl"
    p = compile_program(load(str(PROGRAMS / "bb2.tm")), DIALECT)
    Computer(p, load_backend("symbolic"), trace=str(trace)).run()
    lines = trace.read_text().splitlines()
    header = json.loads(lines[0])
    header["program"]["keys"] = {"evil": 1}
    trace.write_text("\n".join([json.dumps(header)] + lines[1:]) + "\n")
    out = mannsim("run", "--resume", str(trace))
    assert out.returncode != 0 and "Traceback" not in out.stderr
    assert "program.keys is not a key policy" in out.stderr


@pytest.mark.slow
def test_certificates_record_the_policy_and_check_compiles_with_it(tmp_path):
    m = load(str(PROGRAMS / "palindrome.tm"))
    sym = load_backend("symbolic")
    for keys in ("registers", "names"):
        p = compile_program(m, DIALECT, keys)
        cert = certificate(p, sym, verify(p, sym))
        assert cert["program"]["keys"] == keys
        path = tmp_path / f"{keys}.json"
        path.write_text(json.dumps(cert))
        # --check proves the compilation run makes with the same options: --keys KEYS
        out = mannsim("verify", str(PROGRAMS / "palindrome.tm"), "--check", str(path),
                      "--keys", keys)
        assert out.returncode == 0, out.stderr
        assert f"compiled with {keys} keys" in out.stdout
        other = "names" if keys == "registers" else "registers"
        out = mannsim("verify", str(PROGRAMS / "palindrome.tm"), "--check", str(path),
                      "--keys", other)
        assert out.returncode == 2 and len(out.stderr.strip().splitlines()) == 1
        assert "field program.keys" in out.stderr and f"--keys {keys}" in out.stderr
    # a certificate from before register keys has no field: read with names
    cert = json.loads((tmp_path / "names.json").read_text())
    del cert["program"]["keys"]
    (tmp_path / "old.json").write_text(json.dumps(cert))
    assert mannsim("verify", str(PROGRAMS / "palindrome.tm"), "--check",
                   str(tmp_path / "old.json"), "--keys", "names").returncode == 0
    # relabelling a names certificate as registers does not audit: its prompts differ
    cert["program"]["keys"] = "registers"
    (tmp_path / "relabelled.json").write_text(json.dumps(cert))
    out = mannsim("verify", str(PROGRAMS / "palindrome.tm"), "--check",
                  str(tmp_path / "relabelled.json"))
    assert out.returncode != 0 and "Traceback" not in out.stderr
    cert["program"]["keys"] = 5
    (tmp_path / "bad.json").write_text(json.dumps(cert))
    out = mannsim("verify", str(PROGRAMS / "palindrome.tm"), "--check", str(tmp_path / "bad.json"))
    assert out.returncode != 0 and "program keys must be one of" in out.stderr


def test_unsafe_symbols_get_one_character_codes_that_are_no_other_symbol():
    m = machine(["A", "B", "C"], ["0", "$", "=", "1", "{x}", "a b"[0] + "\\"])
    p = compile_program(m, DIALECT)
    codes = list(p.codes.values())
    assert len(set(codes)) == len(codes)
    for s, c in p.codes.items():
        assert len(c) == 1 and (c == s or c not in m.symbols)
    assert compile_program(m, DIALECT, "names").codes["$"] == "s1"
    ref = run(m, max_steps=300)
    report = Computer(p, load_backend("symbolic"), max_steps=300).run()
    assert (report.state, report.cells) == (ref.state, ref.cells)
