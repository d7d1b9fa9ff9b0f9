"""A dialect of another shape is a folder of data: tests/data/dialects/table (a lookup table with
'when cell X is Y:' rows and another ending) runs, verifies, traces, evaluates and makes
training data with no code that knows it."""
import json
import random
import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from mannsim.backends import load_backend
from mannsim.cli import cli
from mannsim.computer import Computer
from mannsim.errors import MannsimError
from mannsim.evaluate import classify
from mannsim.machine import load, run
from mannsim.program import compile_program, load_dialect
from mannsim.trace import read_trace
from mannsim.train.data import blocks, held_out_rows
from mannsim.train.tokenizer import fragments, pattern
from mannsim.verify import verify

from conftest import PROGRAMS

TABLE = Path(__file__).parent / "data" / "dialects" / "table"
schuurmans_answer = load_dialect("schuurmans").shape.evaluate


@pytest.fixture(scope="module")
def table():
    return load_dialect(str(TABLE))


def test_the_table_dialect_runs_and_verifies_on_the_symbolic_cpu(table, tmp_path):
    machine = load(str(PROGRAMS / "bb3.tm"))
    prog = compile_program(machine, table)
    text = next(iter(prog.texts.values()))
    assert "otherwise: " in text and "when cell @[@[i]] is " in text and "result" not in text
    cpu = load_backend("symbolic", stop=table.stop, dialect=table)
    trace = tmp_path / "t.jsonl"
    report = Computer(prog, cpu, trace=str(trace)).run()
    ref = run(machine)
    assert report.reason == "halt" and report.steps == ref.steps == 21
    assert report.cells == {k: v for k, v in ref.cells.items() if v != machine.blank}
    assert {c.check for c in read_trace(str(trace)).cycles} == {"ok"}
    results = verify(prog, cpu)
    assert results and all(r.passed for r in results)
    # the schuurmans grammar does not read this shape: the answers came from the dialect's own
    assert all(schuurmans_answer(r.prompt) == "" for r in results)


def test_the_cli_runs_a_dialect_folder(table):
    out = CliRunner().invoke(cli, ["run", str(PROGRAMS / "bb2.tm"), "-b", "symbolic", "-d",
                                   str(TABLE), "--json", "--no-live"])
    assert out.exit_code == 0, out.output
    report = json.loads(out.output)
    assert report["halted"] and report["dialect"] == "table" and report["steps"] == 6


def test_the_shape_reads_blocks_branches_and_rows(table):
    prog = compile_program(load(str(PROGRAMS / "bb2.tm")), table)
    case = prog.cases()[0]
    shape = table.shape
    block = shape.block(case.prompt)
    assert block.startswith("otherwise: ") and block.endswith("so the answer is\n")
    assert case.answer in shape.branches(case.prompt) and len(shape.branches(case.prompt)) == 2
    wrong = next(b for b in shape.branches(case.prompt) if b != case.answer)
    failed = verify(prog, _Fixed(wrong, case.prompt))[0]
    assert not failed.passed and classify(failed, shape) == "wrong branch"
    rows = shape.rows(prog.texts[case.states[0]])
    assert len(rows) == 2 and rows[0].startswith("otherwise: ") and rows[1].startswith("when cell")


def test_training_data_and_tokenizer_fragments_come_from_the_dialect(table):
    held = held_out_rows(table, PROGRAMS)
    assert held and all(r.startswith(("otherwise: ", "when cell ")) for r in held)
    stream = blocks(table, random.Random(3), held, 0.4, 7, 4)
    for _ in range(200):
        block, answer = next(stream)
        assert block.endswith("so the answer is\n") and "@[" not in block
        assert answer == table.shape.evaluate(block)  # the shape's CPU agrees with the compiler
        assert not any(r in held for r in table.shape.rows(block))
    frags = fragments([table])
    assert {'otherwise: "', "when cell ", ' is ', "so the answer is"} <= set(frags)
    assert not any("result" in f and "=" in f for f in frags if f not in ('halted="',))
    # the schuurmans dialect's fragments are the ones the shipped tokenizer was trained with
    from mannsim.backends.hf import DEFAULT_MODEL
    shipped = json.loads((DEFAULT_MODEL / "tokenizer.json").read_text())
    regex = shipped["pre_tokenizer"]["pretokenizers"][0]["pattern"]["Regex"]
    assert set(regex.split("|")) == set(pattern(fragments([load_dialect("schuurmans")])).split("|"))


@pytest.mark.parametrize("field,text,why", [
    ("default_line", "otherwise {result} or {result}\\n", "more than once"),
    ("override_line", "when cell is {symbol}: \\\"{result}\\\"\\n", "@[@[i]]"),
    ("default_line", "{result}\\n", "fixed text"),
    ("instruction", "@[boot]so the answer is\\n", "{lines}"),
])
def test_a_dialect_without_its_placeholders_is_a_one_line_error(tmp_path, field, text, why):
    folder = tmp_path / "broken"
    folder.mkdir()
    spec = (TABLE / "dialect.toml").read_text()
    lines = [f'{field} = "{text}"' if line.startswith(f"{field} =") else line
             for line in spec.splitlines()]
    (folder / "dialect.toml").write_text("\n".join(lines) + "\n")
    (folder / "boot.txt").write_text("")
    with pytest.raises(MannsimError, match=re.escape(why)) as err:
        load_dialect(str(folder))
    assert "\n" not in str(err.value) and "dialect.toml" in str(err.value)


class _Fixed:
    """A backend that gives one answer to one prompt (and the right one elsewhere)."""
    name = "fixed"

    def __init__(self, text, prompt):
        self.text, self.prompt = text, prompt
        self.cpu = load_backend("symbolic", dialect=load_dialect(str(TABLE)))

    def identity(self):
        return {"name": self.name, "model": None, "weights": None, "decoding": {}}

    def complete(self, prompts):
        from mannsim.backends import Completion
        return [Completion(self.text) if p == self.prompt else self.cpu.complete([p])[0]
                for p in prompts]

    def close(self):
        pass
