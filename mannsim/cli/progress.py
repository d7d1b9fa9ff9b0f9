"""Progress for long work, on a terminal only: refreshed by time (about 10 times a second), with
the total, percentage and ETA where known; Ctrl-C asks the work to stop at a consistent point
so the command can print an exact summary. Off a terminal nothing is shown but the report."""
from __future__ import annotations

import signal
import time
from collections.abc import Callable
from types import FrameType, TracebackType
from typing import Any

from rich.console import Console
from rich.live import Live
from rich.text import Text

REFRESH_SECONDS = 0.1


def eta_text(done: float, total: float | None, elapsed: float) -> str:
    if not total or done <= 0 or done >= total:
        return ""
    left = elapsed * (total - done) / done
    if left < 60:
        return f"ETA {left:.0f} s"
    if left < 3600:
        return f"ETA {left / 60:.0f} min"
    return f"ETA {left / 3600:.1f} h"


def describe(label: str, done: int, total: int | None, unit: str, elapsed: float,
             limit: bool = False) -> str:
    """``label: 1,234 / 10,000 steps (12.3%), 5,000 steps/s, ETA 2 s``."""
    rate = done / elapsed if elapsed > 0 else 0.0
    text = f"{label}: {done:,}"
    if total:
        text += f" {'of at most' if limit else '/'} {total:,} {unit} ({100 * done / total:.1f}%)"
    else:
        text += f" {unit}"
    text += f", {rate:,.0f} {unit}/s"
    eta = eta_text(done, total, elapsed)
    return text + (f", {eta}" if eta and not limit else "")


class Ticker:
    """A one-line progress display; ``update(done)`` returns True once Ctrl-C was pressed
    (a second Ctrl-C interrupts at once)."""

    def __init__(self, console: Console, label: str, total: int | None = None,
                 unit: str = "steps", limit: bool = False):
        self.console, self.label, self.total, self.unit, self.limit = console, label, total, unit, limit
        self.on = console.is_terminal
        self.stop_requested = False
        self.started = time.perf_counter()
        self._next = 0.0
        self._live: Live | None = None
        self._previous: Callable[[int, FrameType | None], Any] | int | None = None

    def __enter__(self) -> Ticker:
        self.started = time.perf_counter()
        if self.on:
            self._live = Live(console=self.console, auto_refresh=False, transient=True)
            self._live.__enter__()
        try:
            self._previous = signal.signal(signal.SIGINT, self._interrupt)
        except ValueError:  # not the main thread
            self._previous = None
        return self

    def _interrupt(self, signum: int, frame: FrameType | None) -> None:
        if self.stop_requested:
            raise KeyboardInterrupt
        self.stop_requested = True

    def update(self, done: int, total: int | None = None) -> bool:
        if total is not None:
            self.total = total
        if self._live is not None:
            now = time.perf_counter()
            if now >= self._next:
                self._next = now + REFRESH_SECONDS
                self._live.update(Text(describe(self.label, done, self.total, self.unit,
                                                now - self.started, self.limit)), refresh=True)
        return self.stop_requested

    __call__ = update

    def say(self, text: str) -> None:
        """Show a stage of work that has no count (``compile: encoding…``)."""
        if self._live is not None:
            self._live.update(Text(f"{self.label}: {text}"), refresh=True)

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        if self._live is not None:
            self._live.__exit__(exc_type, exc, tb)
        if self._previous is not None:
            signal.signal(signal.SIGINT, self._previous)
