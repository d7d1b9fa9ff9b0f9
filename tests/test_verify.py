"""mannsim verify: exhaustive conformance and its JSON certificate."""
import json
from pathlib import Path

import jsonschema
import pytest

from mannsim.backends import load_backend
from mannsim.machine import load
from mannsim.program import compile_program, load_dialect
from mannsim.program.check import case_problem
from mannsim.verify import certificate, verify

from conftest import PROGRAMS
from helpers import FaultyBackend, run_cli

SCHEMA = json.loads((Path(__file__).resolve().parent.parent / "mannsim" / "schemas" /
                     "verify-report.schema.json").read_text())
DIALECT = load_dialect("schuurmans")


def test_u15_2_symbolic_29_of_29_with_a_valid_certificate(tmp_path):
    out = tmp_path / "report.json"
    proc = run_cli(["verify", str(PROGRAMS / "u15_2.tm"),
                    "--backend", "symbolic", "--json", str(out)])
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

    def check(q, s, answer):
        return case_problem(prog, (q,), (s,), answer)
    assert check("A", "0", '" op="%[B]" %[i]="0" i+=1 "') is None
    assert check("A", "0", ' op="%[B]"  %[i]="0"   i+=1') is None  # spacing differs
    assert check("A", "0", '" op="%[B]" %[i]="1" i+=1 "') == "wrong symbol written"
    assert check("J", "1", '" op="halt" "') is None
    assert "halts" in check("J", "1", '" op="%[K]" %[i]="1" i-=1 "')


def test_verify_exit_code_and_json_to_stdout():
    proc = run_cli(["verify", str(PROGRAMS / "bb2.tm"),
                    "--json", "-"])
    assert proc.returncode == 0
    report = json.loads(proc.stdout)
    jsonschema.validate(report, SCHEMA)
    assert report["total"] == 5


# Certificates audited without a model: `mannsim verify PROGRAM --check CERT`
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from mannsim.verify import CertificateError, audit, parse_certificate  # noqa: E402

BB2 = compile_program(load(str(PROGRAMS / "bb2.tm")), load_dialect("schuurmans"))
BB2_CERT = certificate(BB2, load_backend("symbolic"), verify(BB2, load_backend("symbolic")))


def test_a_certificate_audits_and_tampering_is_found():
    assert audit(BB2, json.loads(json.dumps(BB2_CERT)))["verdict"] == "pass"
    tampered = json.loads(json.dumps(BB2_CERT))
    tampered["cases"][0]["answer"] = tampered["cases"][0]["answer"].replace("i+=1", "i-=1")
    with pytest.raises(CertificateError, match="re-checks as fail"):
        audit(BB2, tampered)
    dropped = json.loads(json.dumps(BB2_CERT))
    dropped["cases"].pop()
    with pytest.raises(CertificateError, match="missing"):
        audit(BB2, dropped)
    other = compile_program(load(str(PROGRAMS / "bb3.tm")), load_dialect("schuurmans"))
    with pytest.raises(CertificateError, match="another program"):
        audit(other, BB2_CERT)
    with pytest.raises(CertificateError, match="field dialect.sha256"):
        audit(compile_program(BB2.machine, load_dialect("compact")), BB2_CERT)


def test_check_command(tmp_path):
    cert = tmp_path / "cert.json"
    cert.write_text(json.dumps(BB2_CERT))
    ok = run_cli(["verify", str(PROGRAMS / "bb2.tm"),
                  "--check", str(cert)])
    assert ok.returncode == 0 and "5/5 cases pass" in ok.stdout
    cert.write_bytes(b"\xff{")
    bad = run_cli(["verify", str(PROGRAMS / "bb2.tm"),
                   "--check", str(cert)])
    assert bad.returncode == 2 and bad.stderr.strip() == f"mannsim: error: {cert}: not UTF-8 text"


def _mutations():
    base = json.dumps(BB2_CERT)
    return st.one_of(
        st.binary(max_size=300),
        st.tuples(st.integers(0, len(base)), st.integers(0, 40), st.text(max_size=20)).map(
            lambda t: (base[:t[0]] + t[2] + base[t[0] + t[1]:]).encode("utf-8", "surrogatepass")),
        st.recursive(st.none() | st.booleans() | st.integers() | st.text(max_size=8),
                     lambda c: st.lists(c, max_size=4) | st.dictionaries(st.text(max_size=8), c, max_size=4),
                     max_leaves=20).map(lambda v: json.dumps(v).encode()),
    )


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_mutations())
def test_any_report_bytes_audit_or_fail_in_one_line(data):
    try:
        audit(BB2, parse_certificate(data, "r.json"), "r.json")
    except CertificateError as e:
        assert "\n" not in str(e) and str(e).startswith("r.json")
