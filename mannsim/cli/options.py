"""Options shared by the commands that talk to a backend."""
from __future__ import annotations

import functools

import click

from ..backends import USER_OPTIONS as BACKEND_OPTIONS


def backend_options(f):
    """--model, --device, --dtype, --threads, --allow-pickle, --base-url, --api-key, --api-mode,
    --timeout, --retries (each reaches the backend only when given)."""
    decorators = [
        click.option("--model", "-m", help="hf: a model folder, a .gguf file, a hub id, or a "
                     "pretrained model installed from PyPI (gemma3-270m, smollm2-135m; default: "
                     "the embedded model); openai: the model name."),
        click.option("--device", help="hf: torch device (default cpu)."),
        click.option("--dtype", type=click.Choice(["float32", "bfloat16", "float16"]),
                     help="hf: weights dtype (default float32)."),
        click.option("--threads", type=click.IntRange(min=1), help="hf: torch CPU threads."),
        click.option("--allow-pickle", is_flag=True, default=None,
                     help="hf: allow pickled (*.bin) weights, which can run code when loaded."),
        click.option("--base-url", help="openai: server URL (default $OPENAI_BASE_URL, else OpenAI)."),
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
