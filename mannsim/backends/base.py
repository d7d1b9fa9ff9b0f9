"""The backend protocol: prompts in, completions out. Backends know nothing about machines."""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol, cast, runtime_checkable

from ..errors import EXIT_BACKEND, MannsimError
from ..safe_text import one_line


class BackendError(MannsimError):
    """A backend cannot be set up: an unknown backend or option, a model that does not load, a
    server that is not named (exit code 2, bad input)."""


class BackendFailure(BackendError):
    """A backend failed while answering: a server that is unreachable, times out, keeps
    failing, or sends a malformed or refused response (exit code 3)."""

    exit_code = EXIT_BACKEND


@dataclass
class Completion:
    text: str
    tokens_in: int = 0
    tokens_out: int = 0
    latency: float = 0.0       # seconds
    cached: bool = False
    truncated: bool = False    # the answer hit MAX_ANSWER or the token limit
    extra: dict[str, Any] = field(default_factory=dict)


@runtime_checkable
class Backend(Protocol):
    name: str
    #: True when one instance may answer ``complete`` calls from several threads at once
    #: (``eval --concurrency``): no per-call state on the instance. A backend that does not
    #: say so is not (see :func:`thread_safe`).
    thread_safe: bool = False

    def identity(self) -> dict[str, Any]:
        """Name, model, a hash of the weights or endpoint, and decoding settings."""

    def complete(self, prompts: Sequence[str]) -> list[Completion]:
        """Greedy completions of ``prompts``, each cut at the end of its answer line."""

    def close(self) -> None:
        """Release resources."""


class BatchBackend(Backend, Protocol):
    """A backend that also decodes many prompts side by side (hf, for ``verify``)."""

    def complete_batch(self, prompts: Sequence[str], batch_size: int = 32) -> list[Completion]:
        """Greedy completions of ``prompts``, ``batch_size`` at a time, in order."""


def complete_all(backend: Backend, prompts: Sequence[str],
                 batch: int | None = None) -> list[Completion]:
    """``backend.complete(prompts)`` (or ``complete_batch`` with ``batch``), held to the
    protocol: one :class:`Completion` with a text per prompt, in order. A backend (a third
    party's, say) that answers with more, fewer or other things is a failure of the backend
    (one line, exit 3), never an answer matched to the wrong prompt."""
    out: object = (backend.complete(prompts) if batch is None
                   else cast(BatchBackend, backend).complete_batch(prompts, batch))
    if not isinstance(out, (list, tuple)) or len(out) != len(prompts):
        got = len(out) if isinstance(out, (list, tuple)) else type(out).__name__
        raise BackendFailure(f"backend {one_line(getattr(backend, 'name', '?'), 40)!r} returned "
                             f"{got} completions for {len(prompts)} prompts")
    for c in out:
        if not isinstance(c, Completion) or not isinstance(c.text, str):
            raise BackendFailure(f"backend {one_line(getattr(backend, 'name', '?'), 40)!r} "
                                 "returned something that is not a completion")
    return list(out)


def thread_safe(backend: object) -> bool:
    """Whether ``backend`` (an instance or a class) declares that concurrent ``complete``
    calls are safe: its ``thread_safe`` is ``True`` itself (missing or anything else: no)."""
    return getattr(backend, "thread_safe", False) is True


def same_backend(now: Mapping[str, Any], recorded: object,
                 what: str = "the trace") -> str | None:
    """Why the backend ``now`` is not the one ``what`` (a trace, a certificate) ``recorded``
    (None: it is): the same backend name, and the same weights (sha256) where either side has
    weights, else the same model name."""
    if not isinstance(recorded, dict):
        return f"{what} does not name its backend"
    if now.get("name") != recorded.get("name"):
        return (f"{what} was recorded with backend {one_line(recorded.get('name'), 40)!r}, "
                f"not {one_line(now.get('name'), 40)!r}")
    if now.get("weights") is not None or recorded.get("weights") is not None:
        if now.get("weights") != recorded.get("weights"):
            return f"the model's weights differ from the ones {what} was recorded with (sha256)"
    elif now.get("model") != recorded.get("model"):
        return (f"{what} was recorded with model {one_line(recorded.get('model'), 80)!r}, "
                f"not {one_line(now.get('model'), 80)!r}")
    return None
