"""The web page of a run, in a real browser: headless Chromium (Debian's package) driven by
Playwright. Without a browser these tests say so and skip, except in CI (CI=true), where a
missing browser fails them; `.ci/run` installs one."""
import base64
import hashlib
import os
import re
import shutil
import time

import pytest

from mannsim.computer import Computer
from mannsim.machine import Stepper, load
from mannsim.program import compile_program, load_dialect

from conftest import PROGRAMS
from helpers import FaultyBackend, run_cli

CHROMIUM = os.environ.get("MANNSIM_CHROMIUM") or shutil.which("chromium") or \
    shutil.which("chromium-browser")
try:
    from playwright import sync_api
except ImportError:
    sync_api = None
#: In CI the browser tests must run: a missing browser fails them instead of skipping them.
IN_CI = os.environ.get("CI", "").strip().lower() in ("true", "1", "yes")
MISSING = ("playwright is not installed" if sync_api is None else
           None if CHROMIUM else "no Chromium on this machine (apt-get install chromium)")
if MISSING and not IN_CI:
    pytest.skip(MISSING, allow_module_level=True)
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--no-first-run", "--disable-sync"]
DIALECT = load_dialect("schuurmans")


@pytest.fixture(scope="module")
def browser():
    if MISSING:
        pytest.fail(f"CI=true, but {MISSING}: in CI the browser tests must run, not skip")
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield b
        b.close()


def open_page(browser, path):
    page = browser.new_page(viewport={"width": 1300, "height": 900})
    errors = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    t0 = time.perf_counter()
    page.goto(path.as_uri())
    page.wait_for_function("window.mannsim && window.mannsim.ready")
    return page, errors, time.perf_counter() - t0


def shown(page):
    """(cycle, state, head) as the page shows them, and the symbol in its head cell."""
    status = page.text_content("#status").split()
    head_cell = page.text_content("#tape .head")
    return int(status[1].replace(",", "")), status[5], int(status[7]), head_cell


def reference_before(machine, k):
    st = Stepper(machine)
    for _ in range(k - 1):
        if st.step() is None:
            break
    return st.state, st.head, st.read()


@pytest.fixture(scope="module")
def diverged_page(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("html")
    trace = tmp / "t.jsonl"
    prog = compile_program(load(str(PROGRAMS / "bb3.tm")), DIALECT)
    Computer(prog, FaultyBackend("wrong-branch", at=9), trace=str(trace)).run()
    out = tmp / "run.html"
    proc = run_cli(["trace", "html", str(trace), "-o",
                    str(out)])
    assert proc.returncode == 0, proc.stderr
    return out, prog.machine


def test_the_page_is_one_self_contained_file(diverged_page):
    out, _ = diverged_page
    text = out.read_text()
    assert "http://" not in text.replace("http://www.w3.org/2000/svg", "")
    assert "https://" not in text and "<link" not in text and "src=" not in text


def page_csp(text):
    """The content security policy a page's <meta> states, as {directive: [sources]}."""
    policy = re.search(r'<meta http-equiv="Content-Security-Policy" content="([^"]*)">', text)
    assert policy, "the page states no content security policy"
    return {d.split()[0]: d.split()[1:] for d in policy.group(1).split(";") if d.strip()}


def sha256_source(text):
    return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode()).digest()).decode() + "'"


def check_csp(page, text):
    """The policy admits scripts and styles only by hash, never 'unsafe-inline', and its hashes
    are those of the page's own inline script and style as the browser parsed them."""
    csp = page_csp(text)
    assert csp["default-src"] == ["'none'"]
    assert "'unsafe-inline'" not in csp["script-src"] and "'unsafe-eval'" not in csp["script-src"]
    assert "'unsafe-inline'" not in csp["style-src"]
    scripts = page.evaluate("[...document.scripts].filter(s => !s.type).map(s => s.text)")
    styles = page.evaluate("[...document.querySelectorAll('style')].map(s => s.textContent)")
    assert len(scripts) == 1 and len(styles) == 1
    assert csp["script-src"] == [sha256_source(scripts[0])]
    assert csp["style-src"] == [sha256_source(styles[0])]
    assert page.evaluate("document.querySelectorAll('[style]').length") == 0


def test_the_page_admits_only_its_own_script_and_style_by_hash(browser, diverged_page):
    out, _ = diverged_page
    text = out.read_text()
    page, errors, _ = open_page(browser, out)
    check_csp(page, text)
    # the policy is enforced: an inline script or style added later is refused (and says so)
    page.evaluate("""() => { const s = document.createElement('script'); s.text = 'window.injected = 1';
        document.body.appendChild(s); const st = document.createElement('style');
        st.textContent = 'body { display: none }'; document.head.appendChild(st); }""")
    page.wait_for_function("document.body !== null")
    assert page.evaluate("window.injected") is None
    assert page.evaluate("getComputedStyle(document.body).display") != "none"
    assert any("Content Security Policy" in e for e in errors)


def test_steps_and_shows_the_reference_configuration(browser, diverged_page):
    out, machine = diverged_page
    page, errors, _ = open_page(browser, out)
    assert shown(page)[0] == 1
    for _ in range(4):
        page.click("#next")
    k, state, head, sym = shown(page)
    assert k == 5 and (state, head, sym) == reference_before(machine, 5)
    page.fill("#goto", "7")
    page.click("#go")
    assert shown(page)[1:] == reference_before(machine, 7)
    assert "✓" in page.text_content("#check")
    page.click("#prev")
    assert shown(page)[0] == 6
    assert errors == []


def test_jumps_to_the_divergence_and_to_a_state_symbol_pair(browser, diverged_page):
    out, machine = diverged_page
    page, errors, _ = open_page(browser, out)
    page.click("#div")
    assert shown(page)[0] == 9 and "✗ diverged" in page.text_content("#check")
    page.click("#first")
    page.select_option("#qsel", label="C")
    page.select_option("#ssel", label="1")
    page.click("#find")
    k, state, _, sym = shown(page)
    assert (state, sym) == ("C", "1") and k > 1
    assert errors == []


def test_plays_and_pauses(browser, tmp_path):
    trace = tmp_path / "t.jsonl"
    prog = compile_program(load(str(PROGRAMS / "bb4.tm")), DIALECT)
    from mannsim.backends import load_backend
    Computer(prog, load_backend("symbolic"), trace=str(trace)).run()
    out = tmp_path / "bb4.html"
    run_cli(["trace", "html", str(trace), "-o", str(out)], check=True, text=False)
    page, errors, _ = open_page(browser, out)
    page.fill("#speed", "6")  # 100 cycles per second
    page.dispatch_event("#speed", "input")
    page.click("#play")
    deadline = time.time() + 300  # only ends a hung page (the CSP forbids eval: poll from here)
    while page.evaluate("window.mannsim.cycle") <= 20 and time.time() < deadline:
        time.sleep(0.05)
    assert page.evaluate("window.mannsim.cycle") > 20
    page.click("#play")
    paused = page.evaluate("window.mannsim.cycle")
    time.sleep(0.3)
    assert page.evaluate("window.mannsim.cycle") == paused and not page.evaluate("window.mannsim.playing")
    k, state, head, sym = shown(page)
    assert (state, head, sym) == reference_before(prog.machine, k)
    assert errors == []


def test_u15_2s_trace_page_is_small_and_opens_any_cycle(browser, tmp_path):
    trace = tmp_path / "u15.jsonl"
    run_cli(["run", str(PROGRAMS / "u15_2.tm"), "-b",
             "symbolic", "--trace", str(trace)], check=True, text=False)
    out = tmp_path / "u15.html"
    run_cli(["trace", "html", str(trace), "-o", str(out)], check=True, text=False)
    assert out.stat().st_size < 400_000
    page, errors, _ = open_page(browser, out)
    machine = load(str(PROGRAMS / "u15_2.tm"))
    for k in (1, 1000, 39066):
        page.evaluate(f"window.mannsim.show({k})")
        assert shown(page)[1:] == reference_before(machine, k)
    assert "rows sampled" in page.text_content("#stnote")
    assert errors == []


def test_a_program_page_from_the_reference_machine(browser, tmp_path):
    out = tmp_path / "bb2.html"
    proc = run_cli(["html", "bb2", "-o", str(out)])
    assert proc.returncode == 0, proc.stderr
    page, errors, _ = open_page(browser, out)
    assert "7 cycles (6 machine steps and the halting cycle)" in page.text_content("#subtitle")
    page.click("#last")
    k, state, head, sym = shown(page)
    assert k == 7 and state == "Z" and 'op="halt"' in page.text_content("#answer")
    assert page.locator("#diagram svg circle").count() >= 3
    assert errors == []


def test_a_window_of_a_long_compact_trace_shows_the_traces_own_cycles(browser, tmp_path):
    """`trace html --steps A:B` of a compact trace: the page starts from the machine as it
    stood before cycle A (a snapshot and the reference machine) and numbers cycles as the
    trace does; a whole trace over the page cap is refused with the window to ask for."""
    from mannsim.backends import load_backend
    from mannsim.trace.compact import SNAP_EVERY
    trace = tmp_path / "t.jsonl.zst"
    prog = compile_program(load(str(PROGRAMS / "compiled" / "unary_successor.u15_2.tm")),
                           DIALECT)
    Computer(prog, load_backend("symbolic"), trace=str(trace), memo=True,
             max_steps=SNAP_EVERY + 3000).run()
    first, last = SNAP_EVERY + 1000, SNAP_EVERY + 2000
    out = tmp_path / "w.html"
    proc = run_cli(["trace", "html", str(trace), "-o",
                    str(out), "--steps", f"{first}:{last}"])
    assert proc.returncode == 0, proc.stderr
    page, errors, _ = open_page(browser, out)
    k, state, head, sym = shown(page)
    assert k == first and (state, head, sym) == reference_before(prog.machine, first)
    page.fill("#goto", str(first + 500))
    page.click("#go")
    k, state, head, sym = shown(page)
    assert k == first + 500 and (state, head, sym) == reference_before(prog.machine, first + 500)
    assert f"of {SNAP_EVERY + 3000:,}" in page.text_content("#subtitle")
    assert errors == []


def test_the_page_marks_a_record_that_disagrees_with_the_machine(browser, tmp_path):
    """A compact trace whose case for B reading 0 was edited (recorded ok, wrong answer): the
    page shows cycle 2 as disagreeing, never as a match, and cycles 1 and 3 as matches."""
    from test_trace_bounds import bb2_trace, forged_cases_trace
    forged = forged_cases_trace(bb2_trace(tmp_path / "t.jsonl.zst"), tmp_path / "f.jsonl.zst")
    out = tmp_path / "f.html"
    run_cli(["trace", "html", str(forged), "-o", str(out)], check=True, text=False)
    page, errors, _ = open_page(browser, out)
    verdicts = {}
    for k in (1, 2, 3):
        page.evaluate(f"window.mannsim.show({k})")
        verdicts[k] = page.text_content("#check")
    assert verdicts[1].startswith("✓") and verdicts[3].startswith("✓")
    assert verdicts[2].startswith("! the trace's record disagrees with the reference machine")
    assert "fails the live check" in verdicts[2]
    assert errors == []
