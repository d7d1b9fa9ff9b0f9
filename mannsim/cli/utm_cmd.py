"""``mannsim compile`` / ``mannsim decode``: real computations on U15,2's own tape."""
from __future__ import annotations

import json
import os
import sys
from typing import TYPE_CHECKING, Any

import click
from rich.markup import escape

from ..errors import MannsimError
from ..limits import DEFAULT_U15_STEPS
from ..machine import Machine, formats
from ..machine import run as run_machine
from ..machine.formats import native
from ..replay import replayed
from ..resources import resolve
from .consoles import console
from .options import input_options, load_machine
from .output import check_output, write_text
from .progress import Ticker
from .render import head_marked, plain_head

# The U15,2 chain (mannsim.utm) is imported by the commands that use it: it adds about 10 ms,
# some 6%, to the start-up of every command that does not need it (--help, run, show...).
if TYPE_CHECKING:
    from ..utm import Bitag


def _is_bitag(path: str) -> bool:
    return path.endswith(".bitag")


@click.command("compile")
@click.argument("source")
@click.option("-o", "--output", type=click.Path(dir_okay=False),
              help="The file to write: a U15,2 program (.tm) or a bi-tag system (.bitag). "
                   "Default: SOURCE's name with .u15_2.tm or .bitag, in the current folder.")
@click.option("--target", type=click.Choice(["u15_2", "bitag"]), default="u15_2",
              show_default=True, help="Compile down to U15,2's tape, or stop at the bi-tag system.")
@input_options
def compile_cmd(source: str, output: str | None, target: str, inputs: dict[str, str]) -> None:
    """Compile SOURCE for U15,2.

    SOURCE is a bi-tag system (.bitag) or a Turing machine (any format mannsim reads, or a
    standard-format string such as 1RB1LB_1LA1RZ). A Turing machine goes through a
    clockwise machine to a bi-tag system (see README, Universality), then, with --target
    u15_2, onto U15,2's tape with Neary & Woods' encoding."""
    source = resolve(source)
    if output is None:
        stem = os.path.splitext(os.path.basename(source))[0] if os.path.exists(source) else "machine"
        output = stem + (".bitag" if target == "bitag" else ".u15_2.tm")
        if os.path.abspath(output) == os.path.abspath(source):
            raise click.UsageError("give -o: the default output name is SOURCE itself")
    check_output(output)
    with Ticker(console, "compile") as tick:
        text, summary = _compile(source, output, target, inputs, tick)
    write_text(output, text)
    console.print(summary, highlight=False)


def _compile(source: str, output: str, target: str, inputs: dict[str, str],
             tick: Ticker) -> tuple[str, str]:
    """(the text to write, the summary to print)."""
    from ..utm import compile_bitag, dump, load, run  # lazy: see the note at the top
    from ..utm.fromtm import compile_tm
    header = []
    if _is_bitag(source):
        system = load(source)
        if target == "bitag":
            raise click.UsageError(f"{source} is already a bi-tag system")
        if inputs:
            raise click.UsageError("--tape, --head and --state give a Turing machine's input; "
                                   f"{source} is a bi-tag system")
        what = f"the bi-tag system {source}"
        expected = run(system)
        header.append("; direct interpretation: " + (
            f"halts after {expected.steps} bi-tag steps with {' '.join(expected.word)}"
            if expected.halted else f"does not halt within {expected.steps} bi-tag steps"))
    else:
        machine = load_machine(source, None, inputs)
        tick.say("Turing machine -> clockwise machine -> bi-tag system")
        compiled = compile_tm(machine)
        system = compiled.system
        tick.say(f"running the bi-tag system ({len(system.a)} A, {len(system.e)} E symbols)")
        chain = compiled.run()
        what = f"the Turing machine {source}"
        header += [
            f"; {len(system.a)} A symbols, {len(system.e)} E symbols (clockwise-machine "
            "construction, mannsim/utm/fromtm.py)",
            "; direct interpretation: " + (
                f"halts after {chain.steps} bi-tag steps ({chain.m_steps} machine steps)"
                if chain.halted else f"does not halt within {chain.steps} bi-tag steps")]
    header.insert(0, f"; compiled by mannsim from {what}")
    if target == "bitag":
        header.append(f"; put it on U15,2 with: mannsim compile {output} -o PROGRAM.tm")
        text = "\n".join(header) + "\n" + dump(system)
        return text, (f"wrote {output}: {len(system.a)} A symbols, {len(system.e)} E symbols, "
                      f"initial word of {len(system.word)}")
    tick.say("encoding onto U15,2's tape")
    machine = compile_bitag(system).replace(name=f"U15,2 running {source}")
    header.append(f"; decode the result with: mannsim decode {source} --program {output}")
    text = "\n".join(header) + "\n" + native.dump(machine)
    return text, f"wrote {output}: tape of {len(machine.tape):,} cells, head {machine.head:,}"


@click.command()
@click.argument("source")
@click.option("--program", type=click.Path(dir_okay=False),
              help="The compiled U15,2 program (default: compile SOURCE now).")
@click.option("--trace", "trace_path", type=click.Path(dir_okay=False),
              help="Take the final tape from a run's trace (a run with any backend) instead "
                   "of running the reference machine; every recorded cycle is re-checked "
                   "against the reference machine first.")
@click.option("--max-steps", type=click.IntRange(min=1), default=DEFAULT_U15_STEPS,
              show_default=True,
              help="Step limit for the reference run of U15,2.")
@click.option("--json", "as_json", is_flag=True)
@input_options
def decode(source: str, program: str | None, trace_path: str | None, max_steps: int,
           as_json: bool, inputs: dict[str, str]) -> None:
    """Read a computation back from U15,2's final tape and check it.

    SOURCE is what was compiled (a .bitag or a Turing machine). U15,2 runs on the reference
    machine (or the final tape comes from --trace); the bi-tag word is read from the tape,
    and for a Turing machine the tape, head and state are read from that word. The result
    is compared with a direct run of SOURCE; exit code 0 only when they agree."""
    # lazy: see the note at the top
    from ..utm import decode as decode_tape
    from ..utm import load, run
    from ..utm.fromtm import Decoded, compile_tm
    compiled = None
    source = resolve(source)
    if _is_bitag(source):
        if inputs:
            raise click.UsageError("--tape, --head and --state give a Turing machine's input; "
                                   f"{source} is a bi-tag system")
        system = load(source)
    else:
        source_machine = load_machine(source, None, inputs)
        compiled = compile_tm(source_machine)
        system = compiled.system
    if trace_path:
        halted, u15_steps, cells = _traced_tape(system, source, program, trace_path)
    else:
        halted, u15_steps, cells = _reference_tape(system, source, program, max_steps)
    word = decode_tape(system, cells) if halted else None
    out: dict[str, Any] = {"u15_steps": u15_steps, "halted": halted,
                           "decoded": list(word) if word else None}
    if compiled is None:
        expected = run(system)
        out |= {"expected": list(expected.word), "bitag_steps": expected.steps}
        match = halted == expected.halted and (word == expected.word if word else True)
    else:
        chain = compiled.run()
        ref = run_machine(source_machine, max(chain.m_steps, 1) + 1)
        blank, sep = source_machine.blank, " " if source_machine.word_symbols else ""
        want = Decoded.of_result(source_machine, ref).trimmed(blank)
        decoded = compiled.decode(word) if word else None
        got = decoded.trimmed(blank) if decoded else None
        state = decoded.state if decoded else None
        out |= {"bitag_steps": chain.steps, "machine_steps": chain.m_steps,
                "tape": got[0].replace("\x00", sep) if got else None,
                "head_offset": got[1] if got else None, "state": state,
                "expected_tape": want[0].replace("\x00", sep),
                "expected_head_offset": want[1], "expected_state": ref.state,
                "expected_halted": ref.halted}
        match = halted == ref.halted and (got == want and state == ref.state
                                           if word else True)
    out["match"] = match
    if as_json:
        click.echo(json.dumps(out))
    else:
        console.print(f"U15,2: {'halted' if halted else 'did not halt'} after "
                      f"{u15_steps:,} steps" if u15_steps is not None else "U15,2: halted")
        console.print(f"decoded word : {' '.join(word) if word else '-'}")
        if compiled is None:
            console.print(f"direct run   : {' '.join(out['expected'])} "
                          f"({out['bitag_steps']} bi-tag steps)")
        else:
            plain = plain_head(console)  # off a terminal the head cell is bracketed: 11[1]1
            shown = head_marked(got[0].split("\x00"), got[1], blank, plain) if got else "-"
            console.print("decoded tape : ", shown, f" (head at offset {out['head_offset']}, "
                          f"state {escape(str(out['state']))})", sep="")
            console.print("direct run   : ", head_marked(want[0].split("\x00"), want[1], blank,
                                                         plain),
                          f" (head at offset {out['expected_head_offset']}, state "
                          f"{escape(str(out['expected_state']))}; {out['machine_steps']} machine "
                          f"steps, {out['bitag_steps']} bi-tag steps)", sep="")
        console.print("[green]match[/]" if match else "[red]MISMATCH[/]")
    sys.exit(0 if match else 1)


def _traced_tape(system: Bitag, source: str, program: str | None,
                 trace_path: str) -> tuple[bool, int, dict[int, str]]:
    """(halted, U15,2 steps, final non-blank cells) of the run a trace records, every recorded
    cycle re-checked; the trace must have run ``program`` (else ``system`` compiled)."""
    from ..utm import compile_bitag  # lazy: see the note at the top
    ran = replayed(trace_path)
    if ran.state.memory.get("op") != "halt":
        raise MannsimError("the trace's run does not end halted (after re-checking "
                           f"its {ran.state.cycle:,} cycles): nothing to decode", trace_path)
    _, _, cells = ran.program.decode(ran.state.memory)
    expected = formats.load(program) if program else compile_bitag(system)
    if ran.program.machine != expected:
        raise MannsimError("the trace ran another machine than "
                           + (program if program else f"{source} compiled onto U15,2"),
                           trace_path)
    return True, ran.state.stepper.steps, {c: s for c, s in cells.items() if s != "0"}


def _reference_tape(system: Bitag, source: str, program: str | None,
                    max_steps: int) -> tuple[bool, int, dict[int, str]]:
    """(halted, steps, final cells) of U15,2 running ``system`` (or ``program``, which must be
    ``system`` compiled) on the reference machine."""
    from ..utm import compile_bitag  # lazy: see the note at the top
    machine: Machine = compile_bitag(system)
    if program:
        given = formats.load(program)
        if given != machine:
            raise MannsimError(f"{program} is not {source} compiled onto U15,2 (make it "
                               f"with: mannsim compile {source} -o {program})", program)
        machine = given
    with Ticker(console, "decode: U15,2 on the reference machine", max_steps, "steps",
                limit=True) as tick:
        result = run_machine(machine, max_steps, progress=tick)
    if result.interrupted:
        raise KeyboardInterrupt
    return result.halted, result.steps, result.cells
