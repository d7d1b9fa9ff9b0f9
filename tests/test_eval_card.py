"""mannsim eval's report card as something to cite: intervals, provenance, machine ids that
--rerun draws again, progress off a terminal, compare, the plot's layout, concurrency safety."""
import json
import re

import pytest

from mannsim import __version__
from mannsim.backends import BUILTIN
from mannsim.backends.base import Completion
from mannsim.backends.symbolic import SymbolicBackend
from mannsim.errors import MannsimError
from mannsim.evaluate import (
    Cell,
    draw,
    evaluate,
    machine_from_id,
    make_card,
    newcombe,
    plot_figure,
    rate_text,
    suites,
    wilson,
)
from mannsim.program import compile_program, load_dialect

from helpers import run_cli

DIALECT = load_dialect("schuurmans")


# -- real backends (the symbolic CPU, with one thing changed), registered by name ---------------
class OneWrong(SymbolicBackend):
    """The symbolic CPU, except that the one prompt ``target`` gets a wrong written symbol."""
    name = "one-wrong"
    thread_safe = True
    target: str | None = None

    def complete(self, prompts):
        out = super().complete(prompts)
        for p, c in zip(prompts, out):
            if p == self.target:
                c.text = c.text.replace('%[i]="', '%[i]="Q', 1)
        return out


class Unsafe(SymbolicBackend):
    """The symbolic CPU declared not thread-safe."""
    name = "unsafe-test"
    thread_safe = False


class Counting(SymbolicBackend):
    """The symbolic CPU reporting tokens: one per prompt character, one per answer character."""
    name = "counting"
    thread_safe = True

    def complete(self, prompts):
        return [Completion(c.text, tokens_in=len(p), tokens_out=len(c.text))
                for p, c in zip(prompts, super().complete(prompts))]


@pytest.fixture
def registered(monkeypatch):
    for cls in (OneWrong, Unsafe, Counting):
        monkeypatch.setitem(BUILTIN, cls.name, f"{__name__}:{cls.__name__}")


# -- intervals -----------------------------------------------------------------------------
@pytest.mark.parametrize("k, n, lo, hi", [
    (5, 5, 0.5655, 1.0), (0, 10, 0.0, 0.2775), (0, 20, 0.0, 0.1611),
    # Newcombe (1998), "Two-sided confidence intervals for the single proportion", Table I
    (81, 263, 0.2553, 0.3662), (15, 148, 0.0624, 0.1605), (1, 29, 0.0061, 0.1718),
])
def test_wilson_interval_known_values(k, n, lo, hi):
    got = wilson(k, n)
    assert got == pytest.approx((lo, hi), abs=6e-4)
    assert wilson(n, n)[1] == 1.0 and wilson(0, n)[0] == 0.0


@pytest.mark.parametrize("a, b, d, lo, hi", [
    # Newcombe (1998), "Interval estimation for the difference between independent
    # proportions", Table II, method 10: b - a
    ((48, 80), (56, 70), 0.2, 0.0524, 0.3339), ((3, 10), (9, 10), 0.6, 0.1705, 0.8090),
    ((0, 20), (0, 10), 0.0, -0.1611, 0.2775),
])
def test_newcombe_difference_known_values(a, b, d, lo, hi):
    assert newcombe(*a, *b) == pytest.approx((d, lo, hi), abs=6e-4)


def test_rates_never_show_a_bare_or_rounded_percentage():
    assert rate_text(5, 5) == "5/5 (100.0%, 95% CI 56.6–100.0%)"
    assert "100.0%" not in rate_text(2499, 2500) and "99.96%" in rate_text(2499, 2500)
    assert "(0.0%" not in rate_text(1, 2500) and "(0.04%" in rate_text(1, 2500)
    for k, n in ((0, 3), (3, 3), (7, 9), (999, 1000)):
        assert "95% CI" in rate_text(k, n) and "100.00%" not in rate_text(k, n)


# -- the card ------------------------------------------------------------------------------
def test_card_records_provenance_time_tokens_and_intervals(tmp_path):
    out = run_cli(["eval", "-n", "2", "--distribution", "human", "--json", "-", "--markdown",
                   tmp_path / "card.md"])
    assert out.returncode == 0, out.stderr
    card = json.loads(out.stdout)
    assert card["kind"] == "mannsim-eval" and card["version"] == 1
    assert card["mannsim"] == __version__
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", card["started"])
    assert card["seed"] == 1000003 and card["keys"] == "registers" and card["machines"] == 2
    assert [d["name"] for d in card["dialects"]] == ["schuurmans", "compact"]
    assert all(re.fullmatch(r"[0-9a-f]{64}", d["sha256"]) for d in card["dialects"])
    assert card["backend"]["name"] == "symbolic"
    assert card["wall_s"] >= 0 and card["ms_per_case"] >= 0
    assert card["tokens"] == {"prompt": None, "completion": None}  # symbolic counts none
    assert "symbolic backend (no model)" in card["title"] and "on symbolic" not in card["title"]
    for c in card["cells"] + [card["total"]]:
        lo, hi = wilson(c["cases_passed"], c["cases"])
        assert c["cases_ci95"] == pytest.approx([lo, hi], abs=1e-6)
        assert c["machines_ci95"][1] == 1.0 and c["machines_ci95"][0] < 1
    md = (tmp_path / "card.md").read_text()
    for needle in ("| mannsim | " + __version__, "| date (UTC) | " + card["started"],
                   "| seed | 1000003", "| key policy | registers", "| tokens | n/a",
                   "| model | none", "ms per case", "schuurmans (sha256 "):
        assert needle in md, needle
    assert "100.00%" not in md and "95% CI" in md


def test_card_counts_tokens_a_backend_reports(registered):
    out = run_cli(["eval", "-b", "counting", "-n", "1", "--no-programs", "--distribution",
                   "training", "-d", "schuurmans", "--json", "-"])
    assert out.returncode == 0, out.stderr
    card = json.loads(out.stdout)
    (machine,) = draw("training", 1000003, 1)
    cases = compile_program(machine, DIALECT).cases()
    assert card["tokens"] == {"prompt": sum(len(c.prompt) for c in cases),
                              "completion": sum(len(c.answer) for c in cases)}
    assert card["cells"][0]["tokens"] == card["tokens"]


# -- machine ids and --rerun ---------------------------------------------------------------
def test_machine_ids_draw_the_same_machines_again():
    for _name, machines in suites(["training", "human", "large"], 4, seed=77):
        for mid, machine in machines:
            assert machine_from_id(mid)[1] == machine
    assert machine_from_id("programs:bb2")[1].states  # a shipped program by name
    for bad in ("human:1:x", "nope:1:2", "human:1", "programs:no_such", "human:1:99999999"):
        with pytest.raises(MannsimError):
            machine_from_id(bad)


def test_a_failure_example_names_a_machine_that_rerun_reproduces(registered):
    machine = draw("human", 7, 3)[1]
    case = next(c for c in compile_program(machine, DIALECT).cases() if '%[i]="' in c.answer)
    OneWrong.target = case.prompt
    out = run_cli(["eval", "-b", "one-wrong", "-n", "3", "--seed", "7", "--no-programs",
                   "--distribution", "human", "-d", "schuurmans", "--json", "-"])
    assert out.returncode == 1, out.stderr
    (cell,) = json.loads(out.stdout)["cells"]
    assert cell["cases"] - cell["cases_passed"] == 1
    (example,) = cell["examples"].values()
    assert cell["failures"] == {"wrong symbol": 1}
    assert example["machine"] == "human:7:1"
    assert example["states"] == list(case.states) and example["symbols"] == list(case.symbols)
    where = f"state {'/'.join(case.states)} reading {'/'.join(case.symbols)}"
    text = run_cli(["eval", "-b", "one-wrong", "-n", "3", "--seed", "7", "--no-programs",
                    "--distribution", "human", "-d", "schuurmans"])
    rerun = "mannsim eval -b one-wrong -d schuurmans --keys registers --rerun human:7:1"
    assert "human:7:1" in text.stdout and rerun in text.stdout and where in text.stdout

    again = run_cli(["eval", "-b", "one-wrong", "-d", "schuurmans", "--rerun", example["machine"]])
    assert again.returncode == 1, again.stderr
    assert f"{where}: FAIL, wrong symbol" in again.stdout
    assert again.stdout.count("FAIL") == 1
    assert f"expected {case.answer}" in again.stdout
    ok = run_cli(["eval", "-d", "schuurmans", "--rerun", example["machine"]])  # symbolic: passes
    assert ok.returncode == 0 and f"{where}: pass" in ok.stdout


def test_rerun_refuses_suite_options_and_bad_ids():
    out = run_cli(["eval", "--rerun", "human:7:1", "-n", "5"])
    assert out.returncode == 2 and "leave out --machines" in out.stderr
    assert len(out.stderr.strip().splitlines()) == 1
    out = run_cli(["eval", "--rerun", "human:seven"])
    assert out.returncode == 2 and "not a machine id" in out.stderr


# -- progress off a terminal -----------------------------------------------------------------
def test_progress_lines_off_a_terminal_every_interval():
    from mannsim.cli.eval_cmd import LineProgress
    now = [100.0]
    lines = []
    p = LineProgress("mannsim eval x", every=10, clock=lambda: now[0], write=lines.append)
    p(0, 5)
    for done, t in ((1, 103), (2, 109.9), (3, 110), (4, 115), (5, 116)):
        now[0] = t
        p(done, 5, 10 * done, done // 2)
    assert len(lines) == 3  # the start, the first line after 10 s, and the last machine
    assert lines[0] == "mannsim eval x: 5 machines to verify; a line every 10 s"
    assert lines[1].startswith("mannsim eval x: 3/5 machines (60.0%), 30 cases, 1 failed, "
                               "elapsed 10.0 s")
    assert lines[2].startswith("mannsim eval x: 5/5 machines (100.0%), 50 cases, 2 failed")
    assert all(ch.isprintable() for line in lines for ch in line)


def test_eval_off_a_terminal_prints_plain_progress_lines_to_stderr():
    out = run_cli(["eval", "-n", "2", "--no-programs", "--distribution", "human",
                   "--progress-every", "0", "--json", "-"])
    assert out.returncode == 0, out.stderr
    lines = out.stderr.splitlines()
    assert len(lines) == 1 + 4  # the start, then one per machine (2 machines x 2 dialects)
    assert [re.search(r"(\d)/4 machines", line).group(1) for line in lines[1:]] == list("1234")
    assert "\x1b" not in out.stderr and "\r" not in out.stderr
    json.loads(out.stdout)  # the card alone on standard output


# -- compare -------------------------------------------------------------------------------
def test_compare_sets_two_cards_side_by_side(tmp_path, registered):
    machine = draw("human", 7, 3)[1]
    OneWrong.target = next(c.prompt for c in compile_program(machine, DIALECT).cases()
                           if '%[i]="' in c.answer)
    common = ["-n", "3", "--seed", "7", "--no-programs", "--distribution", "human", "-d",
              "schuurmans"]
    assert run_cli(["eval", *common, "--json", tmp_path / "a.json"]).returncode == 0
    assert run_cli(["eval", "-b", "one-wrong", *common, "--json", tmp_path / "b.json"]).returncode == 1
    out = run_cli(["eval", "compare", tmp_path / "a.json", tmp_path / "b.json", "--markdown",
                   tmp_path / "cmp.md"])
    assert out.returncode == 0, out.stderr
    a, b = (json.loads((tmp_path / f).read_text()) for f in ("a.json", "b.json"))
    n, k = b["cells"][0]["cases"], b["cells"][0]["cases_passed"]
    d, lo, hi = newcombe(n, n, k, n)
    assert "human/schuurmans" in out.stdout
    assert f"B {rate_text(k, n)}" in out.stdout and f"A {rate_text(n, n)}" in out.stdout
    assert f"{100 * d:+.1f} pp (95% CI {100 * lo:+.1f} to {100 * hi:+.1f})" in out.stdout
    assert "not the same suite" not in out.stdout
    assert "| human | schuurmans |" in (tmp_path / "cmp.md").read_text()


def test_compare_refuses_files_that_are_not_eval_cards(tmp_path):
    good = tmp_path / "good.json"
    assert run_cli(["eval", "-n", "1", "--no-programs", "--distribution", "human", "-d",
                    "schuurmans", "--json", good]).returncode == 0
    bad_cell = json.loads(good.read_text())
    bad_cell["cells"][0]["cases_passed"] = bad_cell["cells"][0]["cases"] + 1
    files = {"text.md": "# a card\n", "other.json": json.dumps({"kind": "mannsim-verify"}),
             "list.json": "[1, 2]", "bad.json": json.dumps(bad_cell), "bytes.json": b"\xff\xfe"}
    for name, content in files.items():
        path = tmp_path / name
        path.write_bytes(content if isinstance(content, bytes) else content.encode())
        out = run_cli(["eval", "compare", good, path])
        assert out.returncode == 2, (name, out.stdout)
        assert len(out.stderr.strip().splitlines()) == 1 and "not an eval card" in out.stderr
    out = run_cli(["eval", "compare", good, tmp_path / "missing.json"])
    assert out.returncode == 2 and "cannot read" in out.stderr
    out = run_cli(["eval", "-n", "3", "compare", good, good])
    assert out.returncode == 2 and "not of mannsim eval compare" in out.stderr


def test_eval_help_names_compare_and_rerun_and_mannsim_help_lists_eval():
    text = run_cli(["eval", "--help"]).stdout
    assert "mannsim eval compare A.json B.json" in text and "--rerun ID" in text
    assert "--progress-every" in text and "Wilson" in text
    assert re.search(r"^\s+eval\s+Verify a backend", run_cli(["--help"]).stdout, re.M)
    assert "Newcombe" in run_cli(["eval", "compare", "--help"]).stdout


# -- the plot ------------------------------------------------------------------------------
@pytest.mark.parametrize("suites_n", [1, 3])
def test_plot_fits_its_title_and_legend_and_the_legend_covers_no_bar(suites_n):
    title = ("mannsim eval: hf backend, model mannsim/models/mannsim-tiny (weights sha256 "
             "0123456789ab…); seed 1000003, 100 machines per distribution, registers keys")
    cells = [Cell(f"suite{i}", "schuurmans", 10, 10 - i, 100, 100 - 7 * i)
             for i in range(suites_n)]
    fig = plot_figure(cells, title)
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    inside = fig.bbox
    (ax,) = fig.axes
    (legend,) = fig.legends
    texts = [ax.title, *ax.get_xticklabels(), ax.yaxis.label]
    for artist in (legend, *texts):
        box = artist.get_window_extent(renderer)
        assert (box.x0 >= inside.x0 and box.y0 >= inside.y0 and box.x1 <= inside.x1
                and box.y1 <= inside.y1), (artist, box, inside)
    box = legend.get_window_extent(renderer)
    bars = [p for p in ax.patches]
    assert len(bars) == 2 * suites_n
    assert not any(box.overlaps(bar.get_window_extent(renderer)) for bar in bars)
    assert not box.overlaps(ax.get_window_extent(renderer))  # outside the axes altogether


# -- concurrency ---------------------------------------------------------------------------
def test_concurrency_refused_for_a_backend_not_thread_safe(registered):
    out = run_cli(["eval", "-b", "unsafe-test", "--concurrency", "2", "-n", "1"])
    assert out.returncode == 2 and out.stdout == ""
    (line,) = out.stderr.strip().splitlines()
    assert "'unsafe-test' is not thread-safe" in line
    assert run_cli(["eval", "-b", "unsafe-test", "-n", "1", "--no-programs"]).returncode == 0


def test_concurrency_refused_for_hf_before_its_model_loads():
    out = run_cli(["eval", "-b", "hf", "--concurrency", "2", "-n", "1",
                   "--model", "/nonexistent/model"])  # refused before the model is looked for
    assert out.returncode == 2 and "'hf' is not thread-safe" in out.stderr


def test_concurrency_of_a_thread_safe_backend_gives_the_sequential_card(registered):
    def cells(extra):
        out = run_cli(["eval", "-b", "counting", "-n", "2", "--no-programs", "--json", "-",
                       *extra])
        assert out.returncode == 0, out.stderr
        return [{k: v for k, v in c.items() if k not in ("wall_s", "ms_per_case",
                                                         "latency_ms_mean")}
                for c in json.loads(out.stdout)["cells"]]
    assert cells([]) == cells(["--concurrency", "3"])


def test_concurrency_allowed_for_the_symbolic_backend():
    out = run_cli(["eval", "--concurrency", "4", "-n", "1", "--no-programs", "--json", "-"])
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)["concurrency"] == 4


def test_evaluate_reports_progress_with_cases_and_failures():
    calls = []
    evaluate(SymbolicBackend(dialect=[DIALECT]), [DIALECT], ["human"], 3, seed=2,
             programs=False, progress=lambda *a: calls.append(a))
    assert [c[:2] for c in calls] == [(0, 3), (1, 3), (2, 3), (3, 3)]
    assert calls[0][2:] == (0, 0) and calls[-1][2] > 0 and calls[-1][3] == 0
    card = make_card(evaluate(SymbolicBackend(dialect=DIALECT), [DIALECT], ["human"], 1,
                              programs=False),
                     {"name": "hf", "model": "m", "weights": "ab" * 32}, seed=1, n=1,
                     keys="registers", dialects=[DIALECT], distributions=["human"])
    assert "hf backend, model m (weights sha256 abababababab…)" in card["title"]


def test_a_stop_from_progress_ends_the_evaluation_with_a_partial_card():
    """Ctrl-C (the progress callback answers True) stops after the machine in hand; the card
    made from what was verified says it is partial."""
    cells = evaluate(SymbolicBackend(dialect=[DIALECT]), [DIALECT], ["training", "human"], 3,
                     seed=2, programs=False, progress=lambda done, *_: done >= 4)
    assert [(c.distribution, c.machines) for c in cells] == [("training", 3), ("human", 1)]
    card = make_card(cells, SymbolicBackend(dialect=DIALECT).identity(), seed=2, n=3, keys="registers",
                     dialects=[DIALECT], distributions=["training", "human"], interrupted=True)
    assert card["complete"] is False and "interrupted" in card["title"]
    assert make_card(cells, {}, seed=2, n=3, keys="registers", dialects=[DIALECT],
                     distributions=[])["complete"] is True
