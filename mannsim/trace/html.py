"""A run as one self-contained web page: no server, no network, opens from disk.

The page carries the machine (its transition table, initial tape and head), the distinct prompts
(boot folded, the boot once), the distinct answers, and per cycle only what cannot be derived:
the index of its prompt and of its answer (and its latency), as base64 typed arrays. The
machine's configuration at every cycle (state, head, symbol read, tape) is replayed in the page
from the table, the way the terminal viewer does, which the trace's checks tie to MEMORY.
For a trace of U15,2's test vector (39,066 cycles) the page is about 240 KB; per cycle it costs
under 6 bytes (two 16-bit indices and a 32-bit latency, in base64).

Everything a trace says is hostile text to the page. It travels only as JSON inside
``<script type="application/json">`` (never executed, read by the page's one fixed script with
``JSON.parse`` and shown through ``textContent``), with ``<``, ``>``, ``&``, U+2028 and U+2029
written as ``\\u003c``-style escapes, so no text can reach the HTML tokenizer as markup (``</script``,
``<!--<script``, ``<![CDATA[``) and the data block always ends where the template ends it. The
page's content security policy admits scripts and styles only by the SHA-256 of the template's
own inline script and style (computed here from the template as written), no
``'unsafe-inline'``: an injected script or style would not run even if one got in.
"""
from __future__ import annotations

import base64
import hashlib
import json
import re
from array import array
from collections.abc import Callable
from functools import lru_cache
from pathlib import Path

from ..machine import Stepper
from ..machine.model import MOVE_NAMES, Machine
from ..memory import Memory, Renderer
from ..program.compiler import Program
from ..safe_text import printable
from .index import TraceIndex
from .records import JSON
from .writes import memory_names

TEMPLATE = Path(__file__).with_name("page.html")
#: Where the template takes the page's data (inside ``<script type="application/json">``) and
#: its content security policy (the ``content`` of its CSP ``<meta>``).
DATA_MARK = "/*DATA*/null"
CSP_MARK = "/*CSP*/"
#: Prompts longer than this are cut in the page (the trace keeps them whole).
MAX_PROMPT_CHARS = 20_000
#: A cycle's writes as the page shows them: [label, value] pairs.
Writes = list[list[str]]


def _b64(values: list[int] | list[float], code: str) -> str:
    arr = array(code, values)
    if arr.itemsize > 1 and array("H", [1]).tobytes()[0] != 1:  # the page reads little-endian
        arr.byteswap()
    return base64.b64encode(arr.tobytes()).decode("ascii")


def _index_code(n: int) -> str:
    return "B" if n <= 256 else ("H" if n <= 65536 else "I")


def _latency(ms: list[float]) -> JSON | None:
    """Latencies as 16-bit integers in the coarsest unit that keeps them (0.01 ms, 1 ms), or
    32-bit floats for very slow calls; None when every latency is 0."""
    if not any(ms):
        return None
    top = max(ms)
    for unit in (0.01, 1.0):
        if top / unit < 65535:
            return {"b64": _b64([round(v / unit) for v in ms], "H"), "unit": unit, "bytes": 2}
    return {"b64": _b64(ms, "f"), "unit": 1.0, "bytes": 4}


#: What JSON inside a ``<script>`` element must never hold literally: ``<`` and ``>`` (so no
#: ``</script``, ``<!--``, ``<script`` or ``-->`` reaches the HTML tokenizer), ``&``, and
#: U+2028/U+2029 (line terminators to older JavaScript parsers). JSON allows these escapes
#: anywhere a character may stand, and none of them occurs outside a string in JSON.
_SCRIPT_ESCAPES = str.maketrans({"<": "\\u003c", ">": "\\u003e", "&": "\\u0026",
                                 "\u2028": "\\u2028", "\u2029": "\\u2029"})
#: A JSON string, or a bare NaN/Infinity token (which Python's json writes and JSON.parse refuses).
_NON_FINITE = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"|(-?Infinity|NaN)')


def script_json(data: object) -> str:
    """``data`` as JSON text that can stand inside a ``<script>`` element of an HTML page: ASCII,
    no ``<``, ``>`` or ``&`` (written ``\\u003c`` etc.), no U+2028/U+2029, and a NaN or infinity
    (a hostile trace's divergence may hold one) written as ``null`` so ``JSON.parse`` accepts it."""
    try:
        text = json.dumps(data, ensure_ascii=True, separators=(",", ":"), allow_nan=False)
    except ValueError:
        text = json.dumps(data, ensure_ascii=True, separators=(",", ":"))
        text = _NON_FINITE.sub(lambda m: "null" if m.group(1) else m.group(0), text)
    return text.translate(_SCRIPT_ESCAPES)


def csp_hash(text: str) -> str:
    """The CSP source expression that admits an inline script or style whose text is ``text``."""
    digest = hashlib.sha256(text.encode("utf-8")).digest()
    return f"'sha256-{base64.b64encode(digest).decode('ascii')}'"


@lru_cache(maxsize=1)
def _template() -> tuple[str, str]:
    """The page's text before and after its data, its content security policy filled in: scripts
    and styles only by the hashes of the template's own inline ``<script>`` and ``<style>``."""
    text = TEMPLATE.read_text(encoding="utf-8")  # (newlines as LF, as HTML parses them)
    scripts = re.findall(r"<script>(.*?)</script>", text, re.S)
    styles = re.findall(r"<style>(.*?)</style>", text, re.S)
    if not scripts or text.count(DATA_MARK) != 1 or text.count(CSP_MARK) != 1 or \
            any(DATA_MARK in s for s in scripts) or \
            '<script type="application/json" id="data">' + DATA_MARK + "</script>" not in text:
        raise RuntimeError(f"{TEMPLATE}: not the page template this module fills in")
    policy = "; ".join([
        "default-src 'none'",
        "script-src " + " ".join(dict.fromkeys(map(csp_hash, scripts))),
        "style-src " + (" ".join(dict.fromkeys(map(csp_hash, styles))) or "'none'"),
        "base-uri 'none'", "form-action 'none'",
    ])
    before, after = text.replace(CSP_MARK, policy).split(DATA_MARK)
    return before, after


def content_security_policy() -> str:
    """The page's content security policy (as its ``<meta>`` states it)."""
    before, _ = _template()
    found = re.search(r'http-equiv="Content-Security-Policy" content="([^"]*)"', before)
    assert found is not None
    return found.group(1)


def machine_data(m: Machine) -> JSON:
    return {
        "name": m.name, "states": list(m.states), "symbols": list(m.symbols), "blank": m.blank,
        "start": m.start, "head": m.head, "tape": list(m.tape),
        "halt": [q for q in m.states if q in m.halt_states],
        "rules": [[q, s, t.write, t.move, t.next] for (q, s), t in m.transitions.items()],
        "moves": {str(k): v for k, v in MOVE_NAMES.items()},
    }


def fold(prompt: str, boot: str) -> str:
    """The prompt with the dialect's constant boot taken out (shown once, on demand)."""
    if boot and prompt.startswith(boot):
        prompt = "[boot]\n" + prompt[len(boot):]
    if len(prompt) > MAX_PROMPT_CHARS:
        prompt = prompt[:MAX_PROMPT_CHARS] + "…"
    return printable(prompt)


def page(title: str, machine: Machine, boot: str, prompts: list[str], answers: list[str],
         writes: list[Writes], prompt_of: list[int], answer_of: list[int], ms: list[float],
         divergence: JSON | None, end: JSON | None, source: str,
         window: JSON | None = None, checks: JSON | None = None) -> str:
    """The HTML text of a run (see the module docstring). ``checks``: what the page may vouch
    for (``problems``: local cycle -> how its record disagrees with the reference machine;
    ``unchecked``: local cycles it could not check, or "all"); None: every cycle is the
    reference machine's own (a program's page)."""
    data = {
        "title": printable(title, 200), "source": printable(source, 500),
        "machine": machine_data(machine),
        "boot": printable(boot), "prompts": [fold(p, boot) for p in prompts],
        "answers": [printable(a) for a in answers], "writes": writes,
        "n": len(prompt_of),
        "prompt_of": _b64(prompt_of, _index_code(len(prompts))),
        "answer_of": _b64(answer_of, _index_code(len(answers))),
        "index_bytes": [array(_index_code(len(prompts))).itemsize,
                        array(_index_code(len(answers))).itemsize],
        "ms": _latency(ms),
        "divergence": divergence, "end": end, "window": window,
        "checks": checks or {"problems": {}, "unchecked": []},
    }
    before, after = _template()
    return before + script_json(data) + after


#: The most cycles one page holds (about 5.4 MB a million); longer traces are shown in windows.
MAX_PAGE_CYCLES = 2_000_000


def from_trace(ix: TraceIndex, progress: Callable[[int, int], None] | None = None,
               first: int = 1, last: int | None = None) -> str:
    """The page of a trace (read through the lenient reader, like the terminal viewer), or of
    its cycles ``first``..``last``: the page then starts from the machine as it stood before
    ``first`` (from the trace's snapshots and the reference machine) and shows the trace's own
    cycle numbers."""
    machine = ix.machine()
    prompt_ids: dict[str, int] = {}
    answer_ids: dict[str, int] = {}
    prompts: list[str] = []
    answers: list[str] = []
    writes: list[Writes] = []
    prompt_of: list[int] = []
    answer_of: list[int] = []
    ms: list[float] = []
    total = len(ix)
    last = total if last is None else min(last, total)
    n = max(0, last - first + 1)
    names = memory_names(ix.header, machine)
    problems: dict[str, list[str]] = {}
    unchecked: list[int] = []
    for k in range(first, last + 1):
        rec = ix.cycle(k)
        c = ix.checked(k)  # a row is shown checked only when the record agrees with the machine
        if c.problems:
            problems[str(k - first + 1)] = [printable(p, 300) for p in c.problems[:3]]
        elif not c.verified and rec.ok:
            unchecked.append(k - first + 1)
        if c.writes is not None:
            rec = rec._replace(writes=c.writes)
        p = prompt_ids.get(rec.prompt)
        if p is None:
            p = prompt_ids[rec.prompt] = len(prompts)
            prompts.append(ix.prompts.get(rec.prompt, "(prompt not in the trace)"))
        a = answer_ids.get(rec.answer)
        if a is None:
            a = answer_ids[rec.answer] = len(answers)
            answers.append(rec.answer)
            # as every view shows writes (``op=<B>``, ``[h]=1``; the page adds ``i=`` from the
            # next cycle's head): the head cell's label is "@head", shown as [h] at each cycle
            cell = str(rec.head)
            writes.append([["@head" if label == cell else printable(label, 40),
                            printable(names.value(label, value), 120)]
                           for label, value in rec.writes if label != "i"])
        prompt_of.append(p)
        answer_of.append(a)
        ms.append(float(rec.ms))
        if progress is not None:
            progress(k - first + 1, n)
    program = ix.program
    boot = "" if program is None else program.dialect.boot
    title = f"{ix.header.program_name or ix.path} on {ix.header.backend_name}"
    window: JSON | None = None
    if first > 1:
        state, head_cell, cells = ix.config_before(first)
        window = {"first": first, "total": total, "state": state, "head": head_cell,
                  "cells": [[c, sym] for c, sym in sorted(cells.items())]}
    checks: JSON = {"problems": problems,
              "unchecked": "all" if n and len(unchecked) == n else unchecked}
    return page(title, machine, boot, prompts, answers, writes, prompt_of, answer_of, ms,
                None if ix.divergence is None else ix.divergence.as_dict(),
                None if ix.end is None else ix.end.as_json(), f"trace {ix.path}", window, checks)


def from_program(program: Program, max_steps: int) -> str:
    """The page of a program run on the reference machine: each cycle shows the prompt the
    model would see and the answer a perfect model gives."""
    m = program.machine
    st = Stepper(m)
    prompt_ids: dict[tuple[str, str], int] = {}
    prompts: list[str] = []
    answers: list[str] = []
    writes: list[Writes] = []
    prompt_of: list[int] = []
    answer_of: list[int] = []
    render_mem = Memory({"boot": program.dialect.boot, "i": "0"}, default=program.blank_code)
    render = Renderer(render_mem)
    while len(prompt_of) < max_steps:
        key = (st.state, st.read())
        p = prompt_ids.get(key)
        if p is None:
            p = prompt_ids[key] = len(prompts)
            render_mem["0"] = program.codes[key[1]]
            prompts.append(render(program.texts[key[0]]))
            answers.append(program.answer(*key))
            t = m.transition(*key)
            writes.append([["op", "halt"]] if t is None else [["op", f"<{printable(t.next, 60)}>"],
                                                               ["@head", printable(t.write, 60)]])
        prompt_of.append(p)
        answer_of.append(p)
        if st.step() is None:
            break
    end = {"reason": "halt" if st.halted else "max_steps", "cycles": len(prompt_of),
           "steps": st.steps}
    title = f"{m.name or 'machine'} on the reference machine"
    return page(title, m, program.dialect.boot, prompts, answers, writes, prompt_of, answer_of,
                [0.0] * len(prompt_of), None, end, "reference machine")

