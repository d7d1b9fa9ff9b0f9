"""mannsim eval: the suite, the report card, the failure taxonomy."""
import json
import random

import pytest

from mannsim.backends.base import Completion
from mannsim.evaluate import CLASSES, classify, evaluate, random_machine
from mannsim.program import compile_program, load_dialect
from mannsim.verify import verify

from helpers import run_cli

DIALECT = load_dialect("schuurmans")
perfect = DIALECT.shape.evaluate  # the symbolic CPU's answer


def test_distributions_are_seeded_and_shaped():
    for dist in ("training", "human", "large"):
        a = [random_machine(dist, random.Random(7)) for _ in range(20)]
        b = [random_machine(dist, random.Random(7)) for _ in range(20)]
        assert a == b
    human = [random_machine("human", random.Random(k)) for k in range(200)]
    assert all(2 <= len(m.states) <= 7 and 2 <= len(m.symbols) <= 5 for m in human)
    assert any("_" in q for m in human for q in m.states)
    assert any(any(c.isdigit() for c in q) for m in human for q in m.states)
    large = [random_machine("large", random.Random(k)) for k in range(50)]
    assert all(8 <= len(m.states) <= 10 and 5 <= len(m.symbols) <= 8 for m in large)
    assert max(len(q) for m in large for q in m.states) == 16


class Faulty:
    """Perfect, except that it answers ``kind``'s kind of mistake for every prompt."""
    name = "faulty-eval"

    def __init__(self, kind):
        self.kind = kind

    def identity(self):
        return {"name": self.name, "model": self.kind, "weights": None, "decoding": {}}

    def answer(self, prompt):
        text = perfect(prompt)
        block = prompt[prompt.rfind("\nresult = ") + 1:]
        options = [line[line.index("result = ") + 9:] for line in block.split("\n")
                   if "result = " in line]
        if self.kind == "wrong branch":
            return next((o for o in options if o != text), text)
        if self.kind == "copy error in the state name":
            return text.replace("%[", "%[x") if "%[" in text else text
        if self.kind == "wrong symbol":
            return text.replace('%[i]="', '%[i]="Q')
        if self.kind == "wrong move":
            return text.replace("i+=1", "i-=2").replace("i-=1", "i+=2")
        if self.kind == "format error":
            return "the next state is B"
        if self.kind == "over-long answer":
            return text + " " * 5000
        return text

    def complete(self, prompts):
        return [Completion(self.answer(p)) for p in prompts]

    def close(self):
        pass


@pytest.mark.parametrize("kind", [c for c in CLASSES if c != "other"])
def test_every_failure_class_is_recognised(kind):
    prog = compile_program(random_machine("human", random.Random(3)), DIALECT)
    results = [r for r in verify(prog, Faulty(kind)) if not r.passed]
    assert results
    classes = {classify(r, DIALECT.shape) for r in results}
    assert kind in classes, classes


def test_eval_card_on_symbolic(tmp_path):
    out = run_cli(["eval", "-n", "5", "--json",
                   str(tmp_path / "card.json"), "--markdown", str(tmp_path / "card.md"),
                   "--plot", str(tmp_path / "card.png")])
    assert out.returncode == 0, out.stderr
    card = json.loads((tmp_path / "card.json").read_text())
    suites = {(c["distribution"], c["dialect"]) for c in card["cells"]}
    assert ("programs", "schuurmans") in suites and ("large", "compact") in suites
    assert all(c["cases_passed"] == c["cases"] for c in card["cells"])
    assert "| programs | schuurmans | 12/12" in (tmp_path / "card.md").read_text()
    assert (tmp_path / "card.png").stat().st_size > 1000


def test_eval_counts_machines_and_cases_and_fails_with_exit_1():
    cells = evaluate(Faulty("wrong move"), [DIALECT], ["human"], 4, seed=11, programs=False)
    (cell,) = cells
    assert cell.machines == 4 and cell.machines_passed < 4
    assert cell.failures["wrong move"] == cell.cases - cell.cases_passed > 0
    out = run_cli(["eval", "-n", "2", "-b", "hf",
                   "--threads", "1", "--distribution", "large", "--no-programs", "-d",
                   "schuurmans", "--json", "-"])
    assert out.returncode in (0, 1), out.stderr
    card = json.loads(out.stdout)
    assert card["cells"][0]["distribution"] == "large"
    # a real model: its identity (weights sha256) on the card, and the tokens it counted
    sha = card["backend"]["weights"]
    assert len(sha) == 64 and f"weights sha256 {sha[:12]}" in card["title"]
    assert card["tokens"]["prompt"] > card["tokens"]["completion"] > 0
    assert card["cells"][0]["tokens"] == card["tokens"]


def test_eval_compiles_with_the_key_policy_it_names():
    """--keys names puts the state names into the prompts (measuring a model's copying);
    the default, registers, puts short keys; the card says which."""
    seen = {}

    class Recording:
        name = "symbolic"

        def identity(self):
            return {"name": "symbolic", "model": None, "weights": None, "decoding": {}}

        def complete(self, prompts):
            seen.setdefault(policy, []).extend(prompts)
            return [Completion(perfect(p)) for p in prompts]

    for policy in ("registers", "names"):
        (cell,) = evaluate(Recording(), [DIALECT], ["human"], 3, seed=5, programs=False,
                           keys=policy)
        assert cell.cases_passed == cell.cases > 0
    machines = [random_machine("human", random.Random("5:human")) for _ in range(1)]
    long_names = [q for q in machines[0].states if len(q) > 2]
    assert long_names
    assert any(f"%[{q}]" in p for p in seen["names"] for q in long_names)
    assert not any(f"%[{q}]" in p for p in seen["registers"] for q in long_names)


def test_eval_card_records_the_key_policy(tmp_path):
    out = run_cli(["eval", "-n", "2", "--no-programs",
                   "--distribution", "human", "--keys", "names", "--json", "-"])
    assert out.returncode == 0, out.stderr
    card = json.loads(out.stdout)
    assert card["keys"] == "names" and "names keys" in card["title"]


def test_a_step_for_a_halt_is_a_wrong_branch_not_a_copy_error():
    prog = compile_program(random_machine("human", random.Random(3)), DIALECT)
    case = next(c for c in prog.cases() if c.answer.strip() != '" op="halt" "'
                and "halt" not in c.answer)
    from mannsim.verify import CaseResult
    step_for_halt = CaseResult(case.states, case.symbols, case.prompt, '" op="halt" "',
                               '" op="%[S]" %[i]="1" i+=1 "', False, False, "x", 0.0)
    halt_for_step = CaseResult(case.states, case.symbols, case.prompt, case.answer,
                               '" op="halt" "', False, False, "x", 0.0)
    assert (classify(step_for_halt, DIALECT.shape) == classify(halt_for_step, DIALECT.shape)
            == "wrong branch")
