"""The command line's consoles and shared options (one place, so commands are module-level)."""
from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import click
from rich.console import Console

from ..machine import formats

console = Console()
err_console = Console(stderr=True)
# Output made for pipes: on a non-terminal nothing is wrapped (a figure is never cut in two)
console.soft_wrap = not console.is_terminal
err_console.soft_wrap = not err_console.is_terminal


F = TypeVar("F", bound=Callable[..., Any])


def format_option() -> Callable[[F], F]:
    """--format: the input format of PROGRAM."""
    return click.option("--format", "fmt", type=click.Choice(formats.FORMAT_NAMES),
                        help="Input format (default: from the extension or the content).")
