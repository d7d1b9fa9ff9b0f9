"""Options shared by the commands that talk to a backend."""
from __future__ import annotations

import functools

import click

from ..backends import USER_OPTIONS as BACKEND_OPTIONS


class Threads(click.ParamType):
    """A positive number of threads, or ``auto``."""
    name = "N|auto"

    def convert(self, value, param, ctx):
        if isinstance(value, int) or value == "auto":
            return value
        try:
            n = int(value)
        except ValueError:
            n = 0
        if n < 1:
            self.fail(f"{value!r} is not a positive number or 'auto'", param, ctx)
        return n


def backend_options(f):
    """--model, --device, --dtype, --threads, --allow-pickle, --online, --base-url, --api-key, --api-mode,
    --timeout, --retries (each reaches the backend only when given)."""
    decorators = [
        click.option("--model", "-m", help="hf: a model folder, a .gguf file, a hub id, or a "
                     "pretrained model installed from PyPI (gemma3-270m, smollm2-135m; default: "
                     "the embedded model); openai: the model name."),
        click.option("--device", help="hf: torch device (default cpu)."),
        click.option("--dtype", type=click.Choice(["float32", "bfloat16", "float16"]),
                     help="hf: weights dtype (default float32)."),
        click.option("--threads", type=Threads(), help="hf: torch CPU threads, or 'auto' to time "
                     "one thread against torch's default at load and keep the faster (default: "
                     "1 for the embedded model, torch's default for others)."),
        click.option("--allow-pickle", is_flag=True, default=None,
                     help="hf: allow pickled (*.bin) weights, which can run code when loaded."),
        click.option("--online", is_flag=True, default=None,
                     help="hf: allow downloading a hub id's files (default: offline, local "
                     "folders and the local Hugging Face cache only)."),
        click.option("--base-url", help="openai: server URL (default $OPENAI_BASE_URL; one of "
                     "the two is required)."),
        click.option("--api-key", help="openai: API key (default $OPENAI_API_KEY; a dummy key "
                     "for local servers). Never written to traces or logs.", show_default=False),
        click.option("--api-mode", type=click.Choice(["completions", "chat"]),
                     help="openai: /v1/completions (default) or /v1/chat/completions."),
        click.option("--timeout", type=click.FloatRange(min=0.1), help="openai: seconds per request."),
        click.option("--retries", type=click.IntRange(min=0), help="openai: retries on 429/5xx/"
                     "connection errors, with backoff."),
    ]

    @functools.wraps(f)
    def wrapper(*args, **kwargs):
        options = {k: kwargs.pop(k) for k in BACKEND_OPTIONS}
        kwargs["backend_options"] = {k: v for k, v in options.items() if v is not None}
        return f(*args, **kwargs)

    for d in reversed(decorators):
        wrapper = d(wrapper)
    return wrapper


def input_options(f):
    """--tape, --head, --state: the machine's input from the command line (they reach the
    command as ``inputs``, a dict of the ones given)."""
    decorators = [
        click.option("--tape", help="Initial tape from cell 0, replacing the program's: "
                     "characters (e.g. 1101), or symbols separated by spaces when a symbol is "
                     "longer than one character."),
        click.option("--head", help="Start cell of the head (default: the program's)."),
        click.option("--state", help="Start state (default: the program's)."),
    ]

    @functools.wraps(f)
    def wrapper(*args, **kwargs):
        given = {k: kwargs.pop(k) for k in ("tape", "head", "state")}
        kwargs["inputs"] = {k: v for k, v in given.items() if v is not None}
        return f(*args, **kwargs)

    for d in reversed(decorators):
        wrapper = d(wrapper)
    return wrapper


def load_machine(spec: str, fmt: str | None = None, inputs: dict | None = None):
    """A machine from a file, a shipped program's name or a standard-format string, with the
    command line's input applied."""
    from ..machine import formats
    from ..machine.model import with_input
    machine = formats.load(spec, fmt)
    return with_input(machine, **inputs) if inputs else machine
