"""Trust, round 3: the proof holds in the run's own MEMORY, replay is the live check, a
certificate binds the compilation it proves, and reports name states by the reference machine.

The adversaries: answers whose verdict could depend on whether a blank cell is stored or absent
(the halting answer that writes the blank, a neighbour rewritten, stale keys), traces whose
rejected cycles are relabelled as checked, certificates whose truncation or key policy is edited.
"""
import itertools
import json
import random

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mannsim import replay as run_replay
from mannsim.backends import load_backend
from mannsim.backends.base import Completion
from mannsim.computer import Computer
from mannsim.machine import Machine, Transition, load, run
from mannsim.memory import Memory
from mannsim.program import compile_program, load_dialect
from mannsim.program.check import apply_checked, case_problem
from mannsim.trace import TraceError, read_trace
from mannsim.verify import CertificateError, audit, certificate, replay, verify

from conftest import PROGRAMS

DIALECTS = [load_dialect("schuurmans"), load_dialect("compact")]
perfect = DIALECTS[0].shape.evaluate  # the symbolic CPU's answer
TEACHING = ["binary_addition.tm", "binary_increment.tm", "copy.tm", "palindrome.tm",
            "unary_multiplication.tm", "bb2.tm", "bb3.tm", "bb2x4.tm"]
PROGS = {(name, d.name): compile_program(load(str(PROGRAMS / name)), d)
         for name in TEACHING for d in DIALECTS}


def with_blank_write(prog, answer: str) -> str:
    """A halting answer that also writes the blank to the head cell."""
    return answer.rstrip()[:-1] + f'%[i]="{prog.blank_code}" "'


class Rewriter:
    """The symbolic CPU, but a few prompts get another answer (``changes``: prompt -> answer)."""

    name = "rewriter"

    def __init__(self, changes=None, truncate=()):
        self.changes, self.truncate = dict(changes or {}), set(truncate)

    def identity(self):
        return {"name": self.name, "model": json.dumps(sorted(self.changes.values())),
                "weights": None, "decoding": {}}

    def complete(self, prompts):
        return [Completion(self.changes.get(p, perfect(p)), truncated=p in self.truncate)
                for p in prompts]

    def close(self):
        pass


# -- the blank-writing halt: verify and run agree ---------------------------------------------
def blank_halt_cases(prog):
    m = prog.machine
    return [(q, m.blank) for q in m.states if q not in m.halt_states
            and m.transition(q, m.blank) is None]


def test_the_issues_blank_writing_halt_passes_verify_and_runs_exactly():
    """binary_addition (left, _) answering op="halt" halted="L" %[i]="_": a never-written cell
    holds the blank, so writing the blank changes no configuration; verify passes it and the
    run with --tape 1 halts exactly like the reference machine (it diverged at cycle 4)."""
    prog = PROGS[("binary_addition.tm", "schuurmans")]
    case = next(c for c in prog.cases() if ("left", "_") in itertools.product(c.states, c.symbols))
    answer = with_blank_write(prog, case.answer)
    assert answer == '" op="halt" halted="L" %[i]="_" "'
    assert case_problem(prog, case.states, case.symbols, answer) is None
    model = Rewriter({case.prompt: answer})
    assert all(r.passed for r in verify(prog, model))
    machine = prog.machine.replace(tape=["1"], head=0)
    report = Computer(compile_program(machine, prog.dialect), model).run()
    ref = run(machine, 10_000)
    assert report.divergence is None and report.reason == "halt"
    assert (report.state, report.head, report.cells) == (ref.state, ref.head, ref.cells)


def test_every_blank_writing_halt_of_the_shipped_machines_agrees_in_verify_and_run():
    """Every halting case that reads the blank, in every teaching machine and both dialects:
    verify's verdict on the blank-writing answer equals the run's on an input that reaches it."""
    reached = 0
    for (name, _), prog in PROGS.items():
        m = prog.machine
        for q, s in blank_halt_cases(prog):
            case = next(c for c in prog.cases() if q in c.states and s in c.symbols)
            answer = with_blank_write(prog, case.answer)
            passes = case_problem(prog, case.states, case.symbols, answer) is None
            model = Rewriter({case.prompt: answer})
            inputs = [list(t) for n in range(0, 5) for t in itertools.product(m.symbols, repeat=n)]
            for tape in inputs[:400]:
                machine = m.replace(tape=tape, head=0)
                ref = run(machine, 500)
                if not ref.halted or (ref.state, ref.cells.get(ref.head, m.blank)) != (q, s):
                    continue
                report = Computer(compile_program(machine, prog.dialect), model,
                                  max_steps=600).run()
                assert (report.divergence is None) == passes, (name, q, report.divergence)
                assert passes  # and it is harmless
                assert (report.state, report.head, report.cells) == (ref.state, ref.head,
                                                                     ref.cells)
                reached += 1
                break
    assert reached >= 6


# -- the MEMORY lemma, as a property ----------------------------------------------------------
def representations(prog, cells: dict[int, str], head: int, rng: random.Random) -> list[Memory]:
    """MEMORYs that decode to the same configuration (tape ``cells``, absent = blank): blank
    cells absent or stored (the head cell, its neighbours, stale keys a run wrote earlier)."""
    mems = []
    for mode in ("absent", "stored", "random"):
        mem = Memory(default=prog.blank_code)
        for cell, sym in cells.items():
            mem[str(cell)] = prog.codes[sym]
        extra = {"absent": [], "stored": [head - 1, head, head + 1],
                 "random": [head + rng.randint(-5, 5) for _ in range(4)]}[mode]
        for cell in extra:
            mem.setdefault(str(cell), prog.blank_code)
        mems.append(mem)
    return mems


PERTURB = ["same", "blank_halt", "read_halt", "other_halt", "blank_neighbour", "blank_head",
           "read_rewrite", "soup"]


def answer_for(prog, q, read, rng: random.Random) -> str:
    case_answer = prog.answer(q, read)
    kind = rng.choice(PERTURB)
    codes = [prog.codes[s] for s in prog.machine.symbols]
    end = case_answer.rstrip()[:-1]
    if kind == "blank_halt":
        return '" op="halt" ' + (f'halted="{rng.choice(list(prog.keys.values()))}" '
                                 if prog.named_halts else "") + f'%[i]="{prog.blank_code}" "'
    if kind == "read_halt":
        return end + f'%[i]="{prog.codes[read]}" "' if "halt" in case_answer else case_answer
    if kind == "other_halt":
        return end + f'%[i]="{rng.choice(codes)}" "'
    if kind == "blank_neighbour":
        return end + f'{rng.choice(["%[i]", "1", "-1", "0"])}9="{prog.blank_code}" "'
    if kind == "blank_head":
        return case_answer.replace('%[i]="', f'%[i]="{prog.blank_code}" x="', 1)
    if kind == "read_rewrite":
        return end + f'%[i]="{prog.codes[read]}" "'
    if kind == "soup":
        parts = ['op="halt"', f'%[i]="{rng.choice(codes)}"', "i+=1", "i-=1", 'i="%[i]"',
                 f'halted="{rng.choice(list(prog.keys.values()))}"', case_answer.strip('" ')]
        return '" ' + " ".join(rng.choice(parts) for _ in range(rng.randint(1, 4))) + ' "'
    return case_answer


LEMMA = {"configurations": 0, "answers": 0, "passing": 0}


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(sorted(PROGS)), st.integers(0, 10**9))
def test_the_verdict_depends_on_memory_only_through_its_configuration(key, seed):
    """Lemma: for any answer, the cycle check's verdict is the same in every MEMORY that
    decodes to the same configuration (state, head, tape with absent cells blank)."""
    prog = PROGS[key]
    rng = random.Random(seed)
    m = prog.machine
    q = rng.choice([s for s in m.states if s not in m.halt_states])
    head = rng.choice([rng.randint(-6, 6), rng.randint(-10**6, 10**6)])
    cells = {head + d: rng.choice(m.symbols) for d in range(-3, 4) if rng.random() < 0.6}
    cells = {c: s for c, s in cells.items() if s != m.blank}
    read = cells.get(head, m.blank)
    t = m.transition(q, read)
    LEMMA["configurations"] += 1
    for _ in range(6):
        answer = answer_for(prog, q, read, rng)
        verdicts = []
        for mem in representations(prog, cells, head, rng):
            mem["boot"] = prog.dialect.boot
            for s in m.states:
                mem[prog.keys[s]] = prog.texts[s]
            mem["op"], mem["i"] = prog.texts[q], str(head)
            verdicts.append(apply_checked(prog, mem, t, q if t is None else t.next, head,
                                          answer)[0] is None)
        LEMMA["answers"] += 1
        LEMMA["passing"] += verdicts[0]
        assert len(set(verdicts)) == 1, (key, q, read, head, answer, verdicts)


# -- replay is the live check -----------------------------------------------------------------
class Adversary(Rewriter):
    """Deterministic per prompt: the perfect answer, or (rate) one perturbed as above."""

    def __init__(self, prog, seed, rate=0.3):
        super().__init__()
        self.prog, self.seed, self.rate = prog, seed, rate
        self.by_prompt = {c.prompt: c for c in prog.cases()}

    def identity(self):
        return {"name": "adversary", "model": str(self.seed), "weights": None, "decoding": {}}

    def complete(self, prompts):
        out = []
        for p in prompts:
            rng = random.Random(f"{self.seed}:{p}")
            text = perfect(p)
            case = self.by_prompt.get(p)
            if case is not None and rng.random() < self.rate:
                text = answer_for(self.prog, case.states[0], case.symbols[0], rng)
            out.append(Completion(text))
        return out


def forge(trace) -> tuple[int, int]:
    """Relabel a diverged trace's last cycle as ok and drop the divergence and end records;
    (the cycle's number, its line)."""
    lines = trace.read_text().splitlines()
    kept, n, line = [], None, None
    for raw in lines:
        rec = json.loads(raw)
        if rec.get("t") in ("divergence", "end"):
            continue
        if rec.get("t") == "cycle" and rec["check"] == "diverged":
            rec["check"] = "ok"
            n, line = rec["n"], len(kept) + 1
            raw = json.dumps(rec)
        kept.append(raw)
    trace.write_text("\n".join(kept) + "\n")
    return n, line


REPLAY = {"runs": 0, "diverged": 0, "refused": 0}


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(sorted(PROGS)), st.integers(0, 10**9))
def test_a_cycle_the_live_run_rejected_is_never_accepted_by_replay(tmp_path_factory, key, seed):
    prog = PROGS[key]
    rng = random.Random(seed)
    m = prog.machine
    machine = m.replace(tape=[rng.choice(m.symbols) for _ in range(rng.randint(0, 6))], head=0)
    program = compile_program(machine, prog.dialect)
    trace = tmp_path_factory.mktemp("replay") / "t.jsonl"
    report = Computer(program, Adversary(program, seed), max_steps=200, trace=str(trace)).run()
    REPLAY["runs"] += 1
    if report.divergence is None:
        return
    REPLAY["diverged"] += 1
    n, line = forge(trace)
    with pytest.raises(TraceError) as e:
        run_replay.resume(str(trace), Adversary(program, seed))
    assert f"cycle {n} is recorded as ok, but its answer fails the live check" in str(e.value)
    assert f":{line}:" in str(e.value) or f"line {line}" in str(e.value)
    REPLAY["refused"] += 1


def test_the_forged_traces_above_were_made():
    """The property is not vacuous: over fixed seeds, runs diverge and every forgery is
    refused."""
    refused = 0
    for seed in range(40):
        prog = PROGS[("binary_addition.tm", "schuurmans")]
        machine = prog.machine.replace(tape=list("1+1"), head=0)
        program = compile_program(machine, prog.dialect)
        import tempfile
        from pathlib import Path
        with tempfile.TemporaryDirectory() as d:
            trace = Path(d) / "t.jsonl"
            report = Computer(program, Adversary(program, seed), max_steps=200,
                              trace=str(trace)).run()
            if report.divergence is None:
                continue
            forge(trace)
            with pytest.raises(TraceError, match="fails the live check"):
                run_replay.resume(str(trace), Adversary(program, seed))
            refused += 1
    assert refused >= 10


# -- certificates bind truncation and the compilation ----------------------------------------
BB2 = compile_program(load(str(PROGRAMS / "bb2.tm")), DIALECTS[0])
FIRST = BB2.cases()[0]


def test_a_truncated_answer_fails_verify_and_a_certificate_flipped_to_pass_is_refused():
    model = Rewriter(truncate={FIRST.prompt})  # right text, but cut at the token limit
    results = verify(BB2, model)
    assert not results[0].passed and results[0].truncated
    cert = certificate(BB2, model, results)
    assert cert["cases"][0]["truncated"] is True
    report = Computer(BB2, model).run()
    assert report.divergence is not None and report.divergence.cycle == 1
    forged = json.loads(json.dumps(cert))
    forged["cases"][0].update({"pass": True, "effect": True, "problem": None})
    forged["passed"], forged["verdict"] = forged["total"], "pass"
    with pytest.raises(CertificateError, match="re-checks as fail"):
        audit(BB2, forged)
    # the truncation erased too: the answers are right, so the audit passes, but the replay
    # asks the backend again and sees the answer cut
    forged["cases"][0]["truncated"] = False
    assert audit(BB2, forged)["verdict"] == "pass"
    again = replay(BB2, forged, model)
    assert again["same"] == again["cases"] - 1 and "cut at the token limit" in again["differ"][0][1]


def test_check_refuses_a_certificate_of_another_compilation_naming_the_field(tmp_path):
    from helpers import run_cli
    sym = load_backend("symbolic")
    names = compile_program(BB2.machine.replace(states=BB2.machine.states), DIALECTS[0], "names")
    cert = certificate(names, sym, verify(names, sym))
    path = tmp_path / "names.json"
    path.write_text(json.dumps(cert))
    out = run_cli(["verify", "bb2", "--check", str(path)])
    assert out.returncode == 2 and len(out.stderr.strip().splitlines()) == 1
    assert "field program.keys" in out.stderr
    ok = run_cli(["verify", "bb2", "--check", str(path), "--keys", "names"])
    assert ok.returncode == 0 and "compiled with names keys" in ok.stdout
    for field, value, words in (("memory_sha256", "0" * 64, "compilation.memory_sha256"),
                                ("boot_sha256", "1" * 64, "compilation.boot_sha256"),
                                ("max_answer", 10, "compilation.max_answer"),
                                ("tape_span", 5, "compilation.tape_span")):
        edited = json.loads(json.dumps(cert))
        edited["compilation"][field] = value
        path.write_text(json.dumps(edited))
        out = run_cli(["verify", "bb2", "--check", str(path), "--keys", "names"])
        assert out.returncode == 2 and words in out.stderr, (field, out.stderr)
    compact = run_cli(["verify", "bb2", "--check", str(tmp_path / "names.json"), "-d", "compact",
                       "--keys", "names"])
    assert compact.returncode == 2


def test_a_version_2_certificate_is_rechecked_under_the_current_rules(tmp_path):
    from helpers import run_cli
    prog = PROGS[("binary_addition.tm", "schuurmans")]
    case = next(c for c in prog.cases() if ("left", "_") in itertools.product(c.states, c.symbols))
    model = Rewriter({case.prompt: with_blank_write(prog, case.answer)})
    cert = certificate(prog, model, verify(prog, model))
    old = json.loads(json.dumps(cert))
    old["version"] = 2
    del old["compilation"]
    for c in old["cases"]:
        del c["truncated"]
    k = next(i for i, c in enumerate(old["cases"]) if c["answer"] != c["expected"])
    old["cases"][k].update({"pass": False, "effect": False})  # the old rules failed it
    old["passed"] -= 1
    old["verdict"] = "fail"
    path = tmp_path / "v2.json"
    path.write_text(json.dumps(old))
    out = run_cli(["verify", "binary_addition", "--check", str(path)])
    assert out.returncode == 0, out.stdout + out.stderr
    assert "version-2 certificate" in out.stdout and "recorded fail, re-checks as pass" in out.stdout


# -- states with identical instructions ------------------------------------------------------
def twins() -> Machine:
    """B and C have identical rows (so identical instruction texts); A goes to B, B to C."""
    t = Transition
    return Machine(states=["A", "B", "C", "H"], symbols=["0", "1"], blank="0", start="A",
                   halt_states={"H"},
                   transitions={("A", "0"): t("1", 1, "B"), ("B", "0"): t("1", 1, "C"),
                                ("C", "0"): t("1", 1, "C"), ("B", "1"): t("0", 1, "H"),
                                ("C", "1"): t("0", 1, "H")})


def test_reports_name_the_reference_machines_state_not_the_first_identical_one():
    machine = twins()
    prog = compile_program(machine, DIALECTS[0])
    assert prog.texts["B"] == prog.texts["C"]  # B and C behave identically
    report = Computer(prog, load_backend("symbolic"), max_steps=3).run()
    assert report.state == "C" and run(machine, 3).state == "C"
    assert prog.states_of_text[prog.texts["B"]] == ["B", "C"]


def test_the_key_cap_cannot_decide_a_passing_answers_verdict():
    """The lemma's key-cap step: a run's MEMORY holds at most the cells of the span, a key per
    state, boot, op, i and halted; an answer is charged a new key per assignment to an absent
    label, repeats included: at most MAX_ANSWER // 4 (`x=""` is the shortest assignment). All
    of it fits under MAX_KEYS, so the cap can never fire in a run."""
    from mannsim.limits import MAX_ANSWER, MAX_KEYS, MAX_STATES, MAX_TAPE_SPAN
    from mannsim.memory import parse_assignments
    assert len(parse_assignments('x=""' * (MAX_ANSWER // 4))) == MAX_ANSWER // 4
    assert len(parse_assignments('x=""' * (MAX_ANSWER // 4) + "y")) == MAX_ANSWER // 4
    assert (2 * MAX_TAPE_SPAN + 1) + (MAX_STATES + 4) + MAX_ANSWER // 4 <= MAX_KEYS


def test_an_older_trace_whose_divergence_the_current_rules_pass_is_resumed_and_said(tmp_path):
    """A version-2 trace of the blank-writing halt recorded the cycle as diverged (the old halt
    check); resumed now, it is re-checked under the lemma, the changed verdict is reported, and
    the run goes on to the reference machine's end."""
    prog = PROGS[("binary_addition.tm", "schuurmans")]
    case = next(c for c in prog.cases() if ("left", "_") in itertools.product(c.states, c.symbols))
    model = Rewriter({case.prompt: with_blank_write(prog, case.answer)})
    program = compile_program(prog.machine.replace(tape=["1"], head=0), prog.dialect)
    trace = tmp_path / "old.jsonl"
    assert Computer(program, model, trace=str(trace)).run().reason == "halt"
    lines = [json.loads(x) for x in trace.read_text().splitlines()]
    last = max(r["n"] for r in lines if r["t"] == "cycle")
    old = []
    for r in lines:
        if r["t"] == "header":
            r["version"] = 2
        if r["t"] == "cycle" and r["n"] == last:
            r["check"] = "diverged"
        if r["t"] == "end":
            continue
        old.append(r)
    trace.write_text("".join(json.dumps(r) + "\n" for r in old))
    comp = run_replay.resume(str(trace), model)
    assert comp.resumed_from == last - 1
    assert any(f"cycle {last} was recorded as diverged by an older mannsim" in n for n in comp.notes)
    report = comp.run()
    assert report.reason == "halt" and report.divergence is None


# -- the red team's finds ---------------------------------------------------------------------
@pytest.mark.parametrize("how", ["cut at the token limit", "longer than the cap"])
def test_a_relabelled_cut_answer_is_never_accepted_by_replay(tmp_path, how):
    """The live run rejects an answer cut at the token limit (or over MAX_ANSWER, stored cut to
    it) whatever its text; the trace records that (`cut`), so a record relabelled ok is not
    accepted: the resume asks again from that cycle (and diverges again)."""
    first = BB2.cases()[0]
    if how == "cut at the token limit":
        model = Rewriter(truncate={first.prompt})
    else:
        model = Rewriter({first.prompt: first.answer + " " * 5000})
    trace = tmp_path / "t.jsonl"
    report = Computer(BB2, model, trace=str(trace)).run()
    assert report.divergence is not None and report.divergence.cycle == 1
    records = [json.loads(x) for x in trace.read_text().splitlines()]
    assert [r.get("cut") for r in records if r["t"] == "cycle"] == [True]
    forge(trace)
    comp = run_replay.resume(str(trace), model)
    assert comp.resumed_from == 0  # the relabelled cycle was not accepted
    assert comp.run().divergence is not None


def test_a_certificate_or_card_with_a_huge_integer_is_one_line(tmp_path):
    from helpers import run_cli
    cert = certificate(BB2, load_backend("symbolic"), verify(BB2, load_backend("symbolic")))
    text = json.dumps(cert).replace('"total": 5', '"total": ' + "9" * 5000)
    (tmp_path / "big.json").write_text(text)
    out = run_cli(["verify", "bb2", "--check", str(tmp_path / "big.json")])
    assert out.returncode == 2 and len(out.stderr.strip().splitlines()) == 1
    assert "Traceback" not in out.stderr
    (tmp_path / "card.json").write_text('{"kind": "mannsim-eval", "x": ' + "9" * 5000 + "}")
    out = run_cli(["eval", "compare", str(tmp_path / "card.json"), str(tmp_path / "card.json")])
    assert out.returncode == 2 and "Traceback" not in out.stderr
    cert["version"] = 3.0
    (tmp_path / "float.json").write_text(json.dumps(cert))
    out = run_cli(["verify", "bb2", "--check", str(tmp_path / "float.json")])
    assert out.returncode == 2 and "version" in out.stderr


def test_a_dialect_whose_prompts_read_other_memory_is_refused(tmp_path):
    """A template reading @[1] or @[i] makes prompts that depend on more than (state, symbol):
    verify would never ask the prompts a run shows. Refused when the dialect loads."""
    import shutil

    from mannsim.errors import MannsimError
    for extra in ("; cell 1 holds @[1]", " head @[i]", " @[op]"):
        folder = tmp_path / f"evil{len(extra)}"
        shutil.copytree(DIALECTS[0].path, folder)
        spec = (folder / "dialect.toml").read_text()
        (folder / "dialect.toml").write_text(spec.replace(
            'instruction = "@[boot]{lines}', f'instruction = "@[boot]{extra}\\n{{lines}}'))
        with pytest.raises(MannsimError, match="reads MEMORY other than @\\[boot\\]"):
            load_dialect(str(folder))


class Short(Rewriter):
    """A backend that loses the last answer of every batch."""

    def complete(self, prompts):
        return super().complete(prompts)[:-1]


def test_a_backend_that_answers_fewer_prompts_fails_in_one_line(tmp_path):
    from mannsim.backends.base import BackendFailure
    with pytest.raises(BackendFailure, match="returned 4 completions for 5 prompts"):
        verify(BB2, Short())
    report = Computer(BB2, Short()).run()
    assert report.reason == "error" and "returned 0 completions for 1 prompts" in report.error


def test_a_raw_trace_names_the_next_state_by_the_reference_machine(tmp_path):
    machine = twins()
    prog = compile_program(machine, DIALECTS[0])
    trace = tmp_path / "t.jsonl"
    Computer(prog, load_backend("symbolic"), max_steps=3, trace=str(trace)).run()
    ops = [dict(r.writes)["op"] for r in read_trace(str(trace)).cycles]
    assert ops == [f"<instruction {prog.keys[q]}>" for q in ("B", "C", "C")]
    # and a view, which derives the writes again from the answer, agrees with the record
    from mannsim.trace import TraceIndex
    with TraceIndex(str(trace)) as ix:
        assert all(ix.checked(k).verified for k in range(1, len(ix) + 1)) and not ix.warnings
