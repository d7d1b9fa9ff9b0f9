"""``mannsim compile`` / ``mannsim decode``: real computations on U15,2's own tape."""
from __future__ import annotations

import json

import click


def register(cli, console):
    @cli.command("compile")
    @click.argument("bitag", type=click.Path(dir_okay=False))
    @click.option("-o", "--output", required=True, type=click.Path(dir_okay=False),
                  help="The U15,2 program to write (.tm).")
    def compile_cmd(bitag, output):
        """Compile a bi-tag system (.bitag) into a U15,2 program with the encoded tape."""
        from ..machine.formats import native
        from ..utm import compile_bitag, load, run
        system = load(bitag)
        machine = compile_bitag(system)
        expected = run(system)
        header = [
            f"; U15,2 running the bi-tag system {bitag} (Neary & Woods' encoding), compiled by mannsim",
            f"; initial word: {' '.join(system.word)}",
            f"; direct interpretation: {'halts after ' + str(expected.steps) + ' bi-tag steps with ' if expected.halted else 'does not halt within ' + str(expected.steps) + ' steps; last word '}"
            f"{' '.join(expected.word)}",
            f"; decode the result with: mannsim decode {bitag} --program {output}",
        ]
        with open(output, "w", encoding="utf-8") as f:
            f.write("\n".join(header) + "\n" + native.dump(machine))
        console.print(f"wrote {output}: tape of {len(machine.tape)} cells, head {machine.head}")

    @cli.command()
    @click.argument("bitag", type=click.Path(dir_okay=False))
    @click.option("--program", type=click.Path(dir_okay=False),
                  help="The compiled U15,2 program (default: compile BITAG now).")
    @click.option("--max-steps", type=click.IntRange(min=1), default=10**9, show_default=True)
    @click.option("--json", "as_json", is_flag=True)
    def decode(bitag, program, max_steps, as_json):
        """Run a compiled U15,2 program on the reference machine, read the bi-tag word back
        from its final tape, and check it against the direct interpreter."""
        import sys

        from ..machine import formats, run as run_machine
        from ..utm import compile_bitag, decode as decode_tape, load, run
        system = load(bitag)
        machine = formats.load(program) if program else compile_bitag(system)
        result = run_machine(machine, max_steps)
        expected = run(system)
        word = decode_tape(system, result.cells) if result.halted else None
        match = result.halted == expected.halted and (word == expected.word if word else True)
        out = {"u15_steps": result.steps, "halted": result.halted,
               "decoded": list(word) if word else None, "expected": list(expected.word),
               "bitag_steps": expected.steps, "match": match}
        if as_json:
            click.echo(json.dumps(out))
        else:
            console.print(f"U15,2: {'halted' if result.halted else 'did not halt'} after "
                          f"{result.steps:,} steps")
            console.print(f"decoded word : {' '.join(word) if word else '-'}")
            console.print(f"direct run   : {' '.join(expected.word)} ({expected.steps} bi-tag steps)")
            console.print("[green]match[/]" if match else "[red]MISMATCH[/]")
        sys.exit(0 if match else 1)
