"""Prompt programs: compiling machines with a dialect, decoding MEMORY, the symbolic CPU."""

import pytest

from mannsim.machine import load, parse
from mannsim.memory import Renderer
from mannsim.program import compile_program, load_dialect

from conftest import PROGRAMS
from helpers import run_cli

SCHUURMANS = load_dialect("schuurmans")
answer = SCHUURMANS.shape.evaluate  # the symbolic CPU's answer


def u15():
    return compile_program(load(str(PROGRAMS / "u15_2.tm")), SCHUURMANS)


def test_u15_2_has_29_distinct_cases():
    cases = u15().cases()
    assert len(cases) == 29
    f = [c for c in cases if c.states == ("F",)]
    assert len(f) == 1 and f[0].symbols == ("0", "1")  # F behaves the same on 0 and 1


def test_instruction_shape_is_the_papers():
    p = u15()
    assert p.texts["A"] == ('@[boot]result = " op="%[B]" %[i]="0" i+=1 "\n'
                            'if @[@[i]]==1 then result = " op="%[A]" %[i]="1" i+=1 "\n$result\n')
    assert p.texts["F"] == '@[boot]result = " op="%[D]" %[i]="1" i-=1 "\n$result\n'
    assert 'if @[@[i]]==1 then result = " op="halt" "' in p.texts["J"]
    assert p.answer("J", "1") == '" op="halt" "'
    assert all(t.endswith("\n") for t in p.texts.values())


def test_initial_memory_and_decode_round_trip():
    p = u15()
    mem = p.initial_memory()
    assert mem["op"] == p.texts["A"] and mem["i"] == "295"
    state, head, cells = p.decode(mem)
    m = p.machine
    assert state == "A" and head == 295
    assert cells == {i: s for i, s in enumerate(m.tape) if s != m.blank}


@pytest.mark.parametrize("name", sorted(p.name for p in PROGRAMS.glob("*.tm")))
def test_symbolic_cpu_answers_every_case(name):
    p = compile_program(load(str(PROGRAMS / name)), SCHUURMANS)
    for case in p.cases():
        assert answer(case.prompt) == case.answer


def test_more_symbols_get_one_override_per_symbol():
    p = compile_program(load(str(PROGRAMS / "bb2x4.tm")), SCHUURMANS)
    assert p.texts["A"].count("if @[@[i]]==") == 3
    assert len(p.cases()) == 9  # 4 per state, and Z (halting) renders alike on every symbol


def test_symbolic_reads_only_the_prompt():
    # a prompt written by hand, with no program behind it
    prompt = ('result = " op="%[X]" "\nif a==b then result = " op="%[Y]" "\n'
              'if b==b then result = " op="%[Z]" "\n$result\n')
    assert answer(prompt) == '" op="%[Z]" "'
    assert answer("not an instruction") == ""
    assert answer('result = " x "\nif broken\n$result\n') == ""


def test_unsafe_names_are_encoded():
    # Morphett machine: start state '0' (a tape-cell key), symbols '"' and '=' (prompt syntax)
    text = '; $INITIAL_TAPE: "="\n0 " = r 0\n0 = " r 0\n0 _ _ * halt\n'
    m = parse(text, "morphett")
    p = compile_program(m, SCHUURMANS)
    assert p.keys["0"] != "0" and p.codes['"'] != '"' and p.codes["="] != "="
    from mannsim.backends import load_backend
    from mannsim.computer import Computer
    report = Computer(p, load_backend("symbolic")).run()
    assert report.reason == "halt" and report.divergence is None
    assert report.cells == {0: "=", 1: '"', 2: "="}
    assert report.state == "halt"


def test_boot_is_inert_and_in_the_papers_shape():
    boot = SCHUURMANS.boot
    assert "@" not in boot
    blocks = boot.count("$result\n")
    assert blocks >= 10
    # every worked example is answered correctly by the ideal CPU
    lines = boot.split("\n")
    starts = [k for k, line in enumerate(lines) if line.startswith("result = ")]
    for k in starts:
        end = lines.index("$result", k)
        prompt = "\n".join(lines[k:end + 1]) + "\n"
        assert answer(prompt) == lines[end + 1]


def test_prompts_command_prints_the_program():
    out = run_cli(["prompts", str(PROGRAMS / "bb2.tm")], check=True).stdout
    assert "MEMORY[boot]" in out and "if @[@[i]]==1 then" in out and "MEMORY[Z]" in out
    out = run_cli(["prompts", str(PROGRAMS / "u15_2.tm"),
                   "--cases"], check=True).stdout
    assert out.count("; case ") == 29


def test_renderer_matches_cases():
    p = u15()
    mem = p.initial_memory()
    r = Renderer(mem)
    prompt = r(mem["op"])
    assert prompt.startswith(SCHUURMANS.boot) and "if 0==1 then" in prompt


def test_dialects_are_listed_and_compact_is_shorter():
    from mannsim.program import available
    assert {"schuurmans", "compact"} <= set(available())
    compact = load_dialect("compact")
    assert len(compact.boot) * 3 < len(SCHUURMANS.boot) + 100 and "@" not in compact.boot
    assert compact.templates == SCHUURMANS.templates
