"""Hostile text in the web page, in a real browser: a few hundred payloads that walk the HTML
tokenizer through its states (comments, script data escaped and double escaped, CDATA, end tags,
character references, U+2028/U+2029, quotes, backslashes, NUL, surrogates), made
combinatorially and at random, each placed in the three fields a trace puts in the page: the
program's name (the page's title), a model's answer and a prompt.

Every trace here is a real one: a real run on a real backend (one that answers with the payload,
so the run records a divergence), then written again with the payload as the program's name
and as the cycle's prompt (how a hostile or edited trace looks on disk), and turned into a page
by ``mannsim trace html``. Each payload gets a page of its own, so no payload can undo another's
effect on the tokenizer; one more page carries every payload at once, one per cycle. In
Chromium, each page must have run its script (``window.mannsim.ready``), logged no error (a
content security policy violation is one), run nothing injected, and show each payload
literally: the exact text, with only the control characters and lone surrogates every mannsim
view writes as ``\\xNN``/``\\uNNNN`` (:func:`mannsim.safe_text.printable`).
Without a browser these tests skip, except in CI (CI=true), where they fail."""
import json
import math
import random

import pytest
from test_html import browser, check_csp, open_page, page_csp  # noqa: F401 (browser: a fixture)

from mannsim.backends import load_backend
from mannsim.backends.base import Completion
from mannsim.backends.symbolic import SymbolicBackend
from mannsim.computer import Computer
from mannsim.machine import Machine, load
from mannsim.machine.model import Transition
from mannsim.program import DEFAULT_DIALECT, compile_program, load_dialect
from mannsim.safe_text import printable
from mannsim.trace.schema import prompt_hash

from conftest import PROGRAMS
from helpers import run_cli

pytestmark = pytest.mark.slow
DIALECT = load_dialect("schuurmans")

#: Pieces that move the HTML tokenizer (or a JavaScript or JSON reader) from one state to another.
PIECES = [
    "<!--", "-->", "--!>", "<!-->", "<!---->", "<script", "<script>", "</script", "</script>",
    "</SCRIPT >", "<sCrIpT/", "</script\t", "<\\/script>", "<\\/", "</", "<!--<script",
    "<!--<script>", "<![CDATA[", "]]>", "<?xml", "<!DOCTYPE html>", "<style>", "</style>",
    "</title>", "<textarea>", "<plaintext>", "<noscript>", "<template>", "<svg><script>",
    "<math><mtext>", "</pre>", "<", ">", "&", "&lt;", "&amp;", "&#60;", "&#x3c;", "&lt",
    '"', "'", "`", "${1}", "\\", "\\u003c", "\\\\u2028", "\\n", "*/", "/*", "/*DATA*/null",
    "/*CSP*/", "\u2028", "\u2029", "\x00", "\r", "\r\n", "\n", "\t", "\x1b[31m", "\x7f", "\x85",
    "\ufeff", "\u202e", "\ud800", "\udfff", "\U0001f600", "null}", "]}", "-", "!",
]
#: The pieces whose every ordered pair is tried.
CORE = ["<!--", "-->", "</script", "<\\/", "<!--<script", "<![CDATA[", "]]>", "\u2028", "&lt;",
        '"', "\\", "\x00"]
#: Whole attacks: each must neither run nor blank the page.
ATTACKS = [
    "</script><script>window.pwned=1</script>",
    "<!--<script>window.pwned=1</script>-->",
    "<!--<script></script><script>window.pwned=1</script>",
    "\"}</script><script>window.pwned=1//",
    "<img src=x onerror=\"window.pwned=1\">",
    "<svg onload=window.pwned=1>",
    "<![CDATA[</script><script>window.pwned=1</script>]]>",
    "<\\/script><script>window.pwned=1<\\/script>",
    "\u2028window.pwned=1\u2029",
    "<style>body{display:none}</style>",
    "<base href=\"http://example.invalid/\">",
    "<meta http-equiv=\"Content-Security-Policy\" content=\"script-src 'unsafe-inline'\">",
]
SEED = 20240601
#: Payloads stay short enough that "NAME on echo" is never cut in the title (200 characters).
MAX_LEN = 120


def payloads():
    """The pieces, every ordered pair of the core ones, the attacks, then random strings of
    pieces and characters (seeded: the same 300 payloads every run)."""
    out = dict.fromkeys(PIECES + [a + b for a in CORE for b in CORE] + ATTACKS)
    rng = random.Random(SEED)
    alphabet = PIECES + [chr(c) for c in range(0x20, 0x7f)] + \
        ["\x01", "\x1f", "\x9f", "é", "ß", "\u200b", "\uffff", "\u0300"]
    while len(out) < 300:
        text = "".join(rng.choice(alphabet) for _ in range(rng.randint(2, 12)))
        out["x" + text[:MAX_LEN - 1]] = None  # (never empty, never all whitespace)
    return list(out)


PAYLOADS = payloads()


class Echo(SymbolicBackend):
    """A real backend that answers every prompt with one given text."""

    name = "echo"

    def __init__(self, text):
        super().__init__(dialect=load_dialect(DEFAULT_DIALECT))
        self.text = text

    def identity(self):
        return {"name": self.name, "model": "echo", "weights": None, "decoding": {}}

    def complete(self, prompts):
        return [Completion(self.text) for _ in prompts]


def records(path):
    return [json.loads(line) for line in path.read_text().splitlines()]


def write(path, recs):
    path.write_text("".join(json.dumps(r, ensure_ascii=True, separators=(",", ":")) + "\n"
                            for r in recs))


def hostile_trace(path, payload, prog):
    """A real run whose model answers ``payload`` (a divergence at cycle 1), written again with
    ``payload`` as the program's name and as the prompt of cycle 1."""
    Computer(prog, Echo(payload), trace=str(path)).run()
    recs = records(path)
    assert [r["t"] for r in recs] == ["header", "prompt", "cycle", "divergence", "end"]
    header, prompt, cycle, divergence, _ = recs
    assert cycle["answer"] == payload and cycle["check"] == "diverged"
    header["program"]["name"] = payload
    prompt["text"] = divergence["prompt"] = payload
    prompt["hash"] = cycle["prompt"] = prompt_hash(payload)
    write(path, recs)


#: What a page shows, read in one call: whether its script ran, the fields, and whether anything
#: injected ran (window.pwned) or applied (a style hiding the page).
SHOWN = """() => { const text = (id) => document.getElementById(id).textContent;
  return { ran: !!(window.mannsim && window.mannsim.ready), cycle: window.mannsim && window.mannsim.cycle,
    title: text("title"), answer: text("answer"), prompt: text("prompt"), check: text("check"),
    pwned: window.pwned === undefined ? null : String(window.pwned),
    hidden: getComputedStyle(document.body).display === "none" }; }"""


def test_every_payload_in_every_field_is_shown_literally(browser, tmp_path):  # noqa: F811
    prog = compile_program(load(str(PROGRAMS / "bb2.tm")), DIALECT)
    pages = []
    for i, payload in enumerate(PAYLOADS):
        trace, out = tmp_path / f"p{i}.jsonl", tmp_path / f"p{i}.html"
        hostile_trace(trace, payload, prog)
        run_cli(["trace", "html", trace, "-o", out], check=True)
        pages.append(out)
    assert len(PAYLOADS) >= 200
    policy = page_csp(pages[0].read_text())
    page, errors, _ = open_page(browser, pages[0])
    page.set_default_timeout(120_000)  # (a slow machine is slow, not wrong)
    check_csp(page, pages[0].read_text())
    failures = []
    for payload, out in zip(PAYLOADS, pages):
        text = out.read_text()
        assert page_csp(text) == policy  # the one checked policy, hashes and all
        del errors[:]
        page.goto(out.as_uri())  # (returns after the load event: the page's script has run)
        got = page.evaluate(SHOWN)
        want = {"ran": True, "cycle": 1, "title": printable(f"{payload} on echo", 200),
                "answer": printable(payload), "prompt": printable(payload), "pwned": None,
                "hidden": False}
        if {k: got[k] for k in want} != want or "✗ diverged" not in got["check"] or errors:
            failures.append((payload, got, list(errors)))
    assert not failures, f"{len(failures)} of {len(PAYLOADS)} pages failed; first: {failures[0]!r}"
    # most payloads hold no control character: those were checked shown byte for byte
    literal = [p for p in PAYLOADS if printable(p) == p]
    assert len(literal) >= 200


def test_one_page_with_every_payload_a_cycle(browser, tmp_path):  # noqa: F811
    """Every payload at once, one per cycle (answer and prompt): a real run of a machine that
    never halts, written again with the payloads; its file name, shown in the page's subtitle,
    is hostile too, and its divergence record holds NaN and infinities (which Python's JSON
    writes and a browser's JSON.parse refuses)."""
    n = len(PAYLOADS)
    loop = Machine(states=["A"], symbols=["0", "1"], blank="0", start="A",
                   transitions={("A", "0"): Transition("1", 1, "A"),
                                ("A", "1"): Transition("0", 1, "A")}, name="loop")
    prog = compile_program(loop, DIALECT)
    trace = tmp_path / "<!--<script>&lt;\u2028'\"\\]]>.jsonl"
    Computer(prog, load_backend("symbolic"), trace=str(trace), max_steps=n).run()
    out = []
    for r in records(trace):
        if r["t"] == "cycle":
            payload = PAYLOADS[r["n"] - 1]
            r["answer"], r["prompt"] = payload, prompt_hash(payload)
            out += [{"t": "prompt", "hash": r["prompt"], "text": payload}, r]
        elif r["t"] != "prompt":
            out.append(r)
        if r["t"] == "header":
            r["program"]["name"] = "</script><!--<script>"
    end = out.pop()
    assert end["t"] == "end" and end["cycles"] == n
    out.append({"t": "divergence", "cycle": n, "reason": "</script><!--<script>\u2028",
                "expected": {"x": math.nan, "y": [math.inf, -math.inf]}, "actual": {}})
    out.append(end)
    write(trace, out)
    assert "NaN" in trace.read_text()
    page_file = tmp_path / "all.html"
    run_cli(["trace", "html", trace, "-o", page_file], check=True)
    page, errors, _ = open_page(browser, page_file)
    check_csp(page, page_file.read_text())
    assert page.evaluate("window.mannsim.N") == n
    assert page.text_content("#title") == "</script><!--<script> on symbolic"
    assert printable(f"trace {trace}") in page.text_content("#subtitle")
    shown = page.evaluate("""(n) => { const out = [], text = (id) => document.getElementById(id).textContent;
        for (let k = 1; k <= n; k++) { window.mannsim.show(k); out.push([text("answer"), text("prompt")]); }
        return out; }""", n)
    assert shown == [[printable(p), printable(p)] for p in PAYLOADS]
    page.click("#div")
    assert "✗ diverged" in page.text_content("#check") and "null" in page.text_content("#check")
    assert page.evaluate("window.pwned === undefined") and errors == []


def test_the_data_block_holds_no_markup_and_reads_back_exactly():
    """What the page embeds: ASCII JSON with no ``<``, ``>``, ``&``, U+2028 or U+2029 (so the
    HTML tokenizer sees no tag, comment or CDATA in it), that reads back to the very text; a NaN
    or infinity becomes null (JSON.parse refuses them)."""
    from mannsim.trace.html import script_json
    for payload in PAYLOADS:
        text = script_json({"s": payload, "d": {"k": [payload]}})
        assert text.isascii() and not set(text) & set("<>&\u2028\u2029"), payload
        assert json.loads(text) == {"s": payload, "d": {"k": [payload]}}
    assert json.loads(script_json({"x": [math.nan, math.inf, -math.inf], "NaN": "NaN"})) == \
        {"x": [None, None, None], "NaN": "NaN"}
