"""The backend protocol: prompts in, completions out. Backends know nothing about machines."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol, Sequence, runtime_checkable

from ..errors import MannsimError

#: Longest answer a backend may return (characters); longer answers are cut and flagged.
MAX_ANSWER = 4096


class BackendError(MannsimError):
    """A backend could not answer (unreachable server, model that does not load, ...)."""


@dataclass
class Completion:
    text: str
    tokens_in: int = 0
    tokens_out: int = 0
    latency: float = 0.0       # seconds
    cached: bool = False
    truncated: bool = False    # the answer hit MAX_ANSWER or the token limit
    extra: dict = field(default_factory=dict)


@runtime_checkable
class Backend(Protocol):
    name: str

    def identity(self) -> dict:
        """Name, model, a hash of the weights or endpoint, and decoding settings."""

    def complete(self, prompts: Sequence[str]) -> list[Completion]:
        """Greedy completions of ``prompts``, each cut at the end of its answer line."""

    def close(self) -> None:
        """Release resources."""
