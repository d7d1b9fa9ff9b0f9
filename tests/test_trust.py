"""Issue 12, soundness: a passing verify proves the run; a certificate says what it proves.

The adversaries here are models that are right only where a checker looks: at head 0, at
non-negative heads, on short heads, or by reading the tape. Whenever verify passes such a
model, a run of it on random inputs must equal the reference machine.
"""
import json
import random

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mannsim.backends import load_backend
from mannsim.backends.base import Completion
from mannsim.computer import Computer
from mannsim.limits import MAX_TAPE_SPAN
from mannsim.machine import load, run
from mannsim.program import compile_program, load_dialect
from mannsim.program.check import PROBE_HEADS, case_problem
from mannsim.verify import CertificateError, audit, certificate, parse_certificate, verify

from conftest import PROGRAMS
from helpers import mannsim

DIALECT = load_dialect("schuurmans")
perfect = DIALECT.shape.evaluate  # the symbolic CPU's answer


def prog(name, **changes):
    machine = load(str(PROGRAMS / name))
    return compile_program(machine.replace(**changes) if changes else machine, DIALECT)


# -- the cases the issue lists ---------------------------------------------------------------
U15 = prog("u15_2.tm")


def check(q, s, ans, p=U15):
    return case_problem(p, (q,), (s,), ans)


@pytest.mark.parametrize("ans, why", [
    ('" op="%[B]" 0="0" i="1" "', "writes '0'"),            # a literal cell, an absolute head
    ('" op="%[B]" %[i]="0" i="1" "', "head moved"),          # absolute head only
    ('" op="%[B]" %[i]="0" i+=1 ' + " " * 5000 + '"', "longer than 4096"),   # run's cap
    ('" op="%[B]" %[i]="%[1]" i+=1 "', "reads tape cell 1"),  # reads the tape
    ('" op="%[B]" %[i]="0" i="0%[i]" i+=1 "', "not an integer"),  # fine at h >= 0 only
    ('" op="%[B]" %[i]="0" i+=1 halted="A" "', "may not write"),  # halted outside a halt
    ('" op="%[B]" %[i]="0" i="0%[i]" "', "canonical"),         # i = "05": reads another key
])
def test_answers_right_only_where_the_checker_looked_fail(ans, why):
    problem = check("A", "0", ans)
    assert problem is not None and why in problem, problem


def test_answers_with_the_same_effect_everywhere_pass():
    assert check("A", "0", '" op="%[B]" %[i]="0" i+=1 "') is None
    assert check("A", "0", '" op="%[B]" %[i]="0" i+=01 "') is None
    assert check("A", "0", 'op="%[A]" op="%[B]" i+=2 i-=1 %[i]="0"') is None
    assert check("J", "1", '" op="halt" i="%[i]" "') is None


def test_probe_heads_cover_every_sign_and_length_within_the_span():
    lengths = {(h < 0, len(str(abs(h)))) for h in PROBE_HEADS}
    assert lengths == {(neg, d) for neg in (False, True) for d in range(1, len(str(MAX_TAPE_SPAN)) + 1)}
    assert max(abs(h) for h in PROBE_HEADS) == MAX_TAPE_SPAN
    for neg, d in lengths:  # two heads in every class
        assert sum((h < 0, len(str(abs(h)))) == (neg, d) for h in PROBE_HEADS) == 2


def test_the_issues_literal_model_fails_verify_and_its_certificate_fails_check(tmp_path):
    """`" op="%[B]" 0="1" i="1" "`-style answers (right at head 0) used to pass verify."""
    class Literal:
        name = "literal"

        def identity(self):
            return {"name": self.name, "model": "literal", "weights": None, "decoding": {}}

        def complete(self, prompts):
            return [Completion(perfect(p).replace('%[i]="', '0="').replace("i+=1", 'i="1"')
                               .replace("i-=1", 'i="-1"')) for p in prompts]

        def close(self):
            pass

    results = verify(U15, Literal())
    assert sum(r.passed for r in results) < len(results)
    cert = certificate(U15, Literal(), results)
    forged = json.loads(json.dumps(cert))
    for c in forged["cases"]:
        c["pass"] = c["effect"] = True
    forged["passed"], forged["verdict"] = forged["total"], "pass"
    with pytest.raises(CertificateError, match="re-checks as fail"):
        audit(U15, forged)


# -- the property: whenever verify passes, the run equals the reference machine ---------------
PERTURBATIONS = ["literal_cell", "absolute_head", "extra_write", "read_cell", "zero_prefix",
                 "pad", "halt", "plus01", "swap_order", "halt_blank", "halt_write", "truncated"]


class Adversary:
    """A deterministic function from prompt to answer: the perfect answer, perturbed for some
    prompts (chosen by ``seed``) in ways that are right at some heads only, or everywhere."""

    name = "adversary"

    def __init__(self, seed: int, rate: float):
        self.seed, self.rate = seed, rate

    def identity(self):
        return {"name": self.name, "model": str(self.seed), "weights": None, "decoding": {}}

    def answer(self, prompt: str) -> str:
        rng = random.Random(f"{self.seed}:{prompt}")
        text = perfect(prompt)
        if rng.random() > self.rate or not text:
            return text
        kind, k = rng.choice(PERTURBATIONS), rng.randint(-3, 12)
        if kind == "literal_cell":
            return text.replace('%[i]="', f'{k}="')
        if kind == "absolute_head":
            return text.replace("i+=1", f'i="{k}"').replace("i-=1", f'i="{k}"')
        if kind == "extra_write":
            return text[:-1] + f'{k}="{rng.choice("01")}" "'
        if kind == "read_cell":
            return text.replace('%[i]="', f'%[i]="%[{k}]').replace('%[{k}]0', f'%[{k}]') \
                if k % 2 else text.replace('op="%[', f'op="%[{k}]%[')
        if kind == "zero_prefix":
            return text[:-1] + ' i="0%[i]" i+=0 "' if "i+=" not in text and "i-=" not in text \
                else text.replace("i+=1", 'i="0%[i]" i+=1')
        if kind == "pad":
            return text[:-1] + " " * 4200 + '"'
        if kind == "halt":
            return '" op="halt" "'
        if kind == "plus01":
            return text.replace("i+=1", "i+=01")
        if kind in ("halt_blank", "halt_write"):  # a halting answer that also writes the cell
            code = rng.choice("01_") if kind == "halt_write" else "_0"[k % 2]
            return text[:-1] + f'%[i]="{code}" "' if 'op="halt"' in text else text
        if kind == "truncated":  # the right text, cut at the token limit
            return text + TRUNCATED
        return " ".join(reversed(text.strip('" ').split(" ")))  # swap_order: same effect

    def complete(self, prompts):
        out = []
        for p in prompts:
            text = self.answer(p)
            out.append(Completion(text.removesuffix(TRUNCATED), truncated=text.endswith(TRUNCATED)))
        return out

    def close(self):
        pass


TRUNCATED = "\0truncated"
MACHINES = ["bb2.tm", "bb3.tm", "binary_increment.tm", "copy.tm", "palindrome.tm",
            "binary_addition.tm", "unary_multiplication.tm"]
STATS = {"passed": 0, "failed": 0}


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(MACHINES), st.integers(0, 10**9), st.sampled_from([0.0, 0.1, 0.3, 1.0]),
       st.integers(0, 10**9))
def test_whenever_verify_passes_an_adversary_runs_exactly(name, seed, rate, input_seed):
    p = prog(name)
    model = Adversary(seed, rate)
    if not all(r.passed for r in verify(p, model)):
        STATS["failed"] += 1
        return
    STATS["passed"] += 1
    rng = random.Random(input_seed)
    m = p.machine
    for _ in range(3):  # random inputs: tape, head anywhere (negative and far cells included)
        tape = [rng.choice(m.symbols) for _ in range(rng.randint(0, 12))]
        head = rng.choice([rng.randint(-15, 20), rng.randint(-MAX_TAPE_SPAN + 400, -MAX_TAPE_SPAN + 600),
                           rng.randint(MAX_TAPE_SPAN - 600, MAX_TAPE_SPAN - 400)])
        machine = m.replace(tape=tape, head=head)
        report = Computer(compile_program(machine, DIALECT), model, max_steps=300).run()
        ref = run(machine, report.steps)
        assert report.divergence is None, report.divergence
        assert (report.state, report.head, report.cells) == (ref.state, ref.head, ref.cells)


def test_the_property_test_is_not_vacuous():
    """Both outcomes occur: adversaries that verify rejects, and ones it passes (identity or
    perturbations with the same effect everywhere), over the seeds the property test draws."""
    passed = failed = equivalent = 0
    for seed in range(100):
        results = verify(prog("bb3.tm"), Adversary(seed, 0.3))
        ok = all(r.passed for r in results)
        passed += ok
        failed += not ok
        equivalent += ok and any(not r.textual for r in results)
    assert passed >= 10 and failed >= 50 and equivalent >= 1


# -- certificates: what --check proves, what --replay adds -----------------------------------
BB2 = prog("bb2.tm")


def _cert(tmp_path, edit=None, name="cert.json"):
    cert = certificate(BB2, load_backend("symbolic"), verify(BB2, load_backend("symbolic")))
    if edit:
        edit(cert)
    path = tmp_path / name
    path.write_text(json.dumps(cert))
    return path


def test_check_says_what_it_proves_and_what_is_only_recorded(tmp_path):
    path = _cert(tmp_path)
    out = mannsim("verify", str(PROGRAMS / "bb2.tm"), "--check", str(path))
    assert out.returncode == 0
    assert "proved   these answers make model + memory run the machine exactly" in out.stdout
    assert "recorded backend symbolic (not proved: --replay" in out.stdout


def test_a_relabelled_certificate_is_consistent_but_fails_replay(tmp_path):
    def relabel(c):
        c["backend"]["name"] = "hf"
    path = _cert(tmp_path, relabel)
    assert mannsim("verify", str(PROGRAMS / "bb2.tm"), "--check", str(path)).returncode == 0
    out = mannsim("verify", str(PROGRAMS / "bb2.tm"), "--check", str(path), "--replay",
                  "--threads", "1")
    last = out.stderr.strip().splitlines()[-1]  # (transformers may print a progress bar first)
    assert out.returncode == 2 and "Traceback" not in out.stderr
    assert last.startswith("mannsim: error: ") and "cannot replay" in last and "weights differ" in last


def test_a_certificate_naming_a_model_that_never_ran_fails_replay(tmp_path):
    def rename(c):
        c["backend"]["model"] = "gpt-9-ultra"
    path = _cert(tmp_path, rename)
    out = mannsim("verify", str(PROGRAMS / "bb2.tm"), "--check", str(path), "--replay")
    assert out.returncode == 2 and "gpt-9-ultra" in out.stderr and "cannot replay" in out.stderr


def test_replay_catches_a_certificate_whose_answers_the_model_does_not_give(tmp_path):
    def other_answer(c):  # same effect, other text: consistent, but not what the model says
        c["cases"][0]["answer"] = c["cases"][0]["answer"].replace("i+=1", "i+=01")
    path = _cert(tmp_path, other_answer)
    assert mannsim("verify", str(PROGRAMS / "bb2.tm"), "--check", str(path)).returncode == 0
    out = mannsim("verify", str(PROGRAMS / "bb2.tm"), "--check", str(path), "--replay")
    assert out.returncode == 1 and "replayed 4/5 answers identical" in out.stdout


def test_replay_of_a_real_hf_certificate_checks_the_weights(tmp_path):
    cert = tmp_path / "hf.json"
    made = mannsim("verify", str(PROGRAMS / "bb2.tm"), "-b", "hf", "--threads", "1", "--json",
                   str(cert))
    assert made.returncode == 0, made.stderr
    ok = mannsim("verify", str(PROGRAMS / "bb2.tm"), "--check", str(cert), "--replay",
                 "--threads", "1")
    assert ok.returncode == 0 and "replayed 5/5 answers identical" in ok.stdout
    data = json.loads(cert.read_text())
    data["backend"]["weights"] = "0" * 64
    cert.write_text(json.dumps(data))
    bad = mannsim("verify", str(PROGRAMS / "bb2.tm"), "--check", str(cert), "--replay",
                  "--threads", "1")
    assert bad.returncode == 2 and "weights differ" in bad.stderr


@pytest.mark.parametrize("field, value", [
    ("name", "hf\x1b[31mEVIL"), ("name", "hf\nsecond line"), ("name", ""),
    ("model", "m\x1b]0;title\x07"), ("model", "x" * 400), ("weights", "not-a-hash"),
])
def test_certificate_text_fields_are_validated_before_printing(tmp_path, field, value):
    def edit(c):
        c["backend"][field] = value
    path = _cert(tmp_path, edit)
    out = mannsim("verify", str(PROGRAMS / "bb2.tm"), "--check", str(path))
    assert out.returncode == 2 and out.stderr.count("\n") == 1
    assert "\x1b" not in out.stderr + out.stdout and "backend" in out.stderr


def test_old_certificates_are_refused_with_a_reason(tmp_path):
    def old(c):
        c["version"] = 1
    out = mannsim("verify", str(PROGRAMS / "bb2.tm"), "--check", str(_cert(tmp_path, old)))
    assert out.returncode == 2 and "verify the program again" in out.stderr


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(st.integers(0, 4), st.sampled_from(["answer", "pass", "states"]),
                          st.text(max_size=30)), max_size=3))
def test_forged_certificates_never_audit_as_passing_with_wrong_answers(edits):
    cert = certificate(BB2, load_backend("symbolic"), verify(BB2, load_backend("symbolic")))
    for k, field, text in edits:
        case = cert["cases"][k]
        case[field] = text if field == "answer" else (text == "" if field == "pass" else [text])
    try:
        summary = audit(BB2, parse_certificate(json.dumps(cert).encode("utf-8", "surrogatepass")))
    except CertificateError as e:
        assert "\n" not in str(e)
        return
    if summary["verdict"] == "pass":  # then every recorded answer really is right everywhere
        for case in cert["cases"]:
            assert case_problem(BB2, case["states"], case["symbols"], case["answer"]) is None
