"""Options shared by the commands that talk to a backend."""
from __future__ import annotations

import functools
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import click

from ..machine import formats
from ..machine.model import Machine, with_input

if TYPE_CHECKING:  # click's ParamType is generic in recent releases only (pyproject: >=8.1)
    ThreadsType = click.ParamType[int | str, Any]
else:
    ThreadsType = click.ParamType


class Threads(ThreadsType):
    """A positive number of threads, or ``auto``."""
    name = "N|auto"

    def convert(self, value: Any, param: click.Parameter | None,
                ctx: click.Context | None) -> int | str:
        if isinstance(value, int):
            return value
        if value == "auto":
            return "auto"
        try:
            n = int(value)
        except ValueError:
            n = 0
        if n < 1:
            self.fail(f"{value!r} is not a positive number or 'auto'", param, ctx)
        return n


#: The backend flags of the command line: (declarations, click.option's keyword arguments).
#: Each reaches the backend, under its option name, only when given; the backend checks that
#: it takes it (``mannsim.backends.load_backend``).
BACKEND_FLAGS: tuple[tuple[tuple[str, ...], dict[str, Any]], ...] = (
    (("--model", "-m"), dict(help="hf: a model folder, a .gguf file, a hub id, or a pretrained "
                             "model installed from PyPI (gemma3-270m, smollm2-135m; default: the "
                             "embedded model); openai: the model name.")),
    (("--device",), dict(help="hf: torch device (default cpu).")),
    (("--dtype",), dict(type=click.Choice(["float32", "bfloat16", "float16"]),
                        help="hf: weights dtype (default float32).")),
    (("--threads",), dict(type=Threads(), help="hf: torch CPU threads, or 'auto' to time one "
                          "thread against torch's default at load and keep the faster (default: "
                          "1 for the embedded model, torch's default for others).")),
    (("--allow-pickle",), dict(is_flag=True, default=None, help="hf: allow pickled (*.bin) "
                               "weights, which can run code when loaded.")),
    (("--online",), dict(is_flag=True, default=None, help="hf: allow downloading a hub id's "
                         "files (default: offline, local folders and the local Hugging Face "
                         "cache only).")),
    (("--base-url",), dict(help="openai: server URL (default $OPENAI_BASE_URL; one of the two "
                           "is required).")),
    (("--api-key",), dict(help="openai: API key (default $OPENAI_API_KEY; a dummy key for "
                          "local servers). Never written to traces or logs.",
                          show_default=False)),
    (("--api-mode",), dict(type=click.Choice(["completions", "chat"]),
                           help="openai: /v1/completions (default) or /v1/chat/completions.")),
    (("--timeout",), dict(type=click.FloatRange(min=0.1), help="openai: seconds per request.")),
    (("--retries",), dict(type=click.IntRange(min=0), help="openai: retries on 429/5xx/"
                          "connection errors, with backoff.")),
)
#: The option names of those flags, as click names them (``--base-url``: ``base_url``).
BACKEND_OPTIONS = tuple(str(click.Option(list(decls)).name) for decls, _ in BACKEND_FLAGS)

Command = Callable[..., Any]


def backend_options(f: Command) -> Command:
    """The backend flags (:data:`BACKEND_FLAGS`), which reach the command as
    ``backend_options``, a dict of the ones given."""

    @functools.wraps(f)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        options = {k: kwargs.pop(k) for k in BACKEND_OPTIONS}
        kwargs["backend_options"] = {k: v for k, v in options.items() if v is not None}
        return f(*args, **kwargs)

    command: Command = wrapper
    for decls, settings in reversed(BACKEND_FLAGS):
        command = click.option(*decls, **settings)(command)
    return command


def input_options(f: Command) -> Command:
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
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        given = {k: kwargs.pop(k) for k in ("tape", "head", "state")}
        kwargs["inputs"] = {k: v for k, v in given.items() if v is not None}
        return f(*args, **kwargs)

    command: Command = wrapper
    for d in reversed(decorators):
        command = d(command)
    return command


def load_machine(spec: str, fmt: str | None = None,
                 inputs: dict[str, str] | None = None) -> Machine:
    """A machine from a file, a shipped program's name or a standard-format string, with the
    command line's input applied."""
    machine = formats.load(spec, fmt)
    return with_input(machine, **inputs) if inputs else machine
