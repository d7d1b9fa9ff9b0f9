"""Bi-tag systems on U15,2: the test vector bit for bit, and random systems end to end."""
import json
import random

import pytest

from mannsim.machine import run as run_machine
from mannsim.utm import Bitag, BitagError, compile_bitag, decode, encode, load, run

from conftest import PROGRAMS
from helpers import run_cli


def test_test_vector_bit_for_bit(u15):
    system = load(str(PROGRAMS / "bitag" / "test_vector.bitag"))
    tape, head = encode(system)
    assert tape == u15["program"] + u15["data"] and head == 295
    assert run(system).word == ("e2", "a1", "a1") and run(system).steps == 3
    result = run_machine(compile_bitag(system))
    assert result.halted and result.steps == 39065
    assert decode(system, result.cells) == ("e2", "a1", "a1")


def random_system(rng):
    q, h = rng.randint(1, 3), rng.randint(2, 3)
    a = tuple(f"a{i}" for i in range(1, q + 1))
    e = tuple(f"e{j}" for j in range(1, h + 1))
    prods = {}
    for ej in e[:-1]:
        for ai in a:
            prods[(ej, ai)] = tuple(rng.choice(a) for _ in range(rng.randint(1, 2))) + (rng.choice(e),)
    word = [rng.choice(a) for _ in range(rng.randint(1, 3))]
    word.insert(rng.randint(0, len(word)), rng.choice(e[:-1]))
    return Bitag(a, e, prods, tuple(word)).validate()


@pytest.mark.slow
def test_random_bitag_systems_through_u15_2():
    rng = random.Random(7)
    halting = checked = 0
    while halting < 25:
        system = random_system(rng)
        direct = run(system, max_steps=12)
        if not direct.halted:
            continue
        checked += 1
        result = run_machine(compile_bitag(system), 3 * 10**7)
        assert result.halted, system
        assert decode(system, result.cells) == direct.word
        halting += 1
    # and systems that do not halt keep U15,2 running
    nonhalting = 0
    while nonhalting < 3:
        system = random_system(rng)
        if run(system, max_steps=2000).halted:
            continue
        nonhalting += 1
        assert not run_machine(compile_bitag(system), 2 * 10**6).halted


BAD = [
    ("A: a1\nE: e1 e2\nword: e1 e1 a1\ne1 a1 -> a1 e2\n", "exactly one E"),
    ("A: a1\nE: e1 e2\nword: e1 a1\n", "no production for e1 a1"),
    ("A: a1\nE: e1 e2\nword: e1 a1\ne1 a1 -> e2 a1\n", "must be"),
    ("A: a1\nE: e1 e2\nword: e1 a1\ne1 a1 -> a1 e2\ne1 a1 -> a1 e2\n", "second production"),
    ("A: a1\nword: e1 a1\n", "missing 'E:'"),
    ("A: a1\nE: e1 e2\nword: e1 a1\nbanana\n", "expected"),
]


@pytest.mark.parametrize("text,words", BAD)
def test_bad_bitag_files(tmp_path, text, words):
    path = tmp_path / "bad.bitag"
    path.write_text(text)
    with pytest.raises(BitagError, match=words) as info:
        load(str(path))
    assert str(info.value).startswith(str(path) + ":")


def test_compile_and_decode_commands(tmp_path):
    out = tmp_path / "tv.tm"
    src = str(PROGRAMS / "bitag" / "test_vector.bitag")
    run_cli(["compile", src, "-o", str(out)], check=True, text=False)
    proc = run_cli(["decode", src, "--program", str(out),
                    "--json"], check=True)
    assert '"match": true' in proc.stdout and '"u15_steps": 39065' in proc.stdout


EXAMPLES = {
    "test_vector": (("e2", "a1", "a1"), 3, 39065),
    "parity": (("e3", "a2", "a2", "a2"), 16, 558815),
    "double": (("e2", "a2", "a2", "a2", "a2"), 14, 338079),
}


@pytest.mark.parametrize("name", sorted(EXAMPLES))
def test_compiled_examples(name):
    word, bitag_steps, u15_steps = EXAMPLES[name]
    system = load(str(PROGRAMS / "bitag" / f"{name}.bitag"))
    direct = run(system)
    assert (direct.word, direct.steps) == (word, bitag_steps)
    from mannsim.machine import load as load_machine
    shipped = load_machine(str(PROGRAMS / "bitag" / f"{name}.tm"))
    assert shipped == compile_bitag(system).replace(name=shipped.name)
    result = run_machine(shipped)
    assert result.halted and result.steps == u15_steps
    assert decode(system, result.cells) == word


@pytest.mark.slow
def test_decode_from_the_trace_of_a_run(tmp_path):
    trace = tmp_path / "t.jsonl"
    src = str(PROGRAMS / "bitag" / "test_vector.bitag")
    run_cli(["run", str(PROGRAMS / "bitag" / "test_vector.tm"),
             "-b", "symbolic", "--trace", str(trace), "--json"], check=True, text=False)
    proc = run_cli(["decode", src, "--trace", str(trace),
                    "--json"])
    out = json.loads(proc.stdout)
    assert proc.returncode == 0 and out["match"] and out["decoded"] == ["e2", "a1", "a1"]
    assert out["u15_steps"] == 39065
    cut = tmp_path / "cut.jsonl"  # a run that did not halt has nothing to decode
    cut.write_text("".join(trace.read_text().splitlines(True)[:50]))
    proc = run_cli(["decode", src, "--trace", str(cut)])
    assert proc.returncode == 2 and "does not end halted" in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1
