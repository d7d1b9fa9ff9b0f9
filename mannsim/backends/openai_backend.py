"""The ``openai`` backend: any OpenAI-compatible server through the official ``openai`` client.

OpenAI, vLLM, llama.cpp's server, Ollama and ``transformers serve`` all speak this protocol.
``api_mode`` picks ``/v1/completions`` (the prompt as is; the default) or
``/v1/chat/completions`` (the prompt as one user message). Every call sends temperature 0,
top_p 1, a fixed seed, the dialect's stop sequences and a token limit; the answer is also cut
at the first stop string here, since some servers ignore ``stop``. Rate limits (429), server
errors (5xx), timeouts and connection errors are retried with exponential backoff; when the
retries run out the run ends with a one-line error (a :class:`BackendFailure`, exit code 3).
There is no default server: the base URL is ``base_url`` or ``$OPENAI_BASE_URL``. The API key
is sent to the server and nowhere else: it is not part of the identity written to traces and
reports, and server text that echoes it (or the URL's password) is scrubbed before it is
shown or stored.

Hostile servers: ``timeout`` is the deadline of each request as a whole (every wait is
bounded by the time left, and the deadline is checked as each chunk of the body arrives, so a
server that trickles bytes is cut off); bodies are capped at ``MAX_RESPONSE_BYTES``; a redirect
to another origin (scheme, host, port) is refused with one line; a user name or password in
the base URL is never recorded; an answer cut at the token limit is marked ``truncated``.

Concurrency: one instance may serve ``complete`` calls from several threads at once
(``thread_safe``). Everything that belongs to one request (its deadline, why the transport
refused it) lives in an ``Attempt`` made for that request, which the transport finds through a
thread-local slot set by the thread that sends it; the instance itself holds only settings and
the client (with a locked counter).

The parts: this module (the options, the settings, the answers), :mod:`.openai_client` (the
requests and their retries) and :mod:`.openai_transport` (the guarded HTTP transport).
"""
from __future__ import annotations

import hashlib
import os
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from .base import BackendError, Completion
from .contract import tuning

DUMMY_KEY = "sk-no-key-needed"
NO_SERVER = ("the openai backend needs a server: give --base-url URL (for example "
             "http://127.0.0.1:8000/v1) or set OPENAI_BASE_URL (https://api.openai.com/v1 for "
             "OpenAI itself)")
#: Largest token count accepted from a server's ``usage`` (anything else counts as 0).
MAX_USAGE = 10**9
API_MODES = ("completions", "chat")


@dataclass(frozen=True)
class OpenAIOptions:
    """``base_url`` (default ``$OPENAI_BASE_URL``), ``api_key`` (default ``$OPENAI_API_KEY``;
    never shown), ``api_mode`` (completions or chat), ``timeout`` (seconds per request),
    ``retries``. Tuning: ``max_tokens``, ``seed``, ``backoff`` (the first retry's wait)."""

    model: str | None = None
    base_url: str | None = None
    api_key: str | None = field(default=None, repr=False)
    api_mode: str = "completions"
    timeout: float = 30.0
    retries: int = 4
    max_tokens: int = tuning(64)
    seed: int = tuning(0)
    backoff: float = tuning(0.5)


class OpenAIBackend:
    """Any OpenAI-compatible server (OpenAI, vLLM, llama.cpp, Ollama, transformers serve)."""

    name = "openai"
    Options = OpenAIOptions
    takes_dialect = False  # it sends the prompt's text as it is
    thread_safe = True  # per-request state lives in each request's Attempt

    def __init__(self, options: OpenAIOptions | None = None, *,
                 stop: Sequence[str] = ("\n",)) -> None:
        o = options or OpenAIOptions()
        try:  # openai takes 0.5 s to import: only once a backend is built, not to describe it
            from .openai_client import Client
            from .openai_transport import Guard, origin, redact_url
        except ImportError as e:
            raise BackendError(f"the openai backend needs the openai package ({e})") from None
        self.base_url = o.base_url or os.environ.get("OPENAI_BASE_URL") or ""
        if not self.base_url:
            raise BackendError(NO_SERVER)
        self.shown_url = redact_url(self.base_url)
        try:
            url_origin = origin(self.base_url)
        except ValueError:
            raise BackendError(f"invalid --base-url {self.shown_url[:80]!r}") from None
        if url_origin[0] not in ("http", "https") or not url_origin[1]:
            raise BackendError(f"--base-url must be an http(s) URL, got {self.shown_url[:80]!r}")
        key = o.api_key or os.environ.get("OPENAI_API_KEY") or DUMMY_KEY
        if o.api_mode not in API_MODES:
            raise BackendError(f"unknown api mode {o.api_mode!r} (completions or chat)")
        self.mode = o.api_mode
        self.model = o.model or os.environ.get("MANNSIM_OPENAI_MODEL") or "default"
        self.stop = list(stop) or ["\n"]
        self.max_tokens, self.timeout, self.retries, self.seed = (o.max_tokens, o.timeout,
                                                                  o.retries, o.seed)
        request = dict(model=self.model, temperature=0, top_p=1, seed=self.seed, stop=self.stop,
                       max_tokens=self.max_tokens)
        self.client = Client(Guard(url_origin, self.shown_url), self.base_url, key, request,
                             self.mode, o.timeout, o.retries, o.backoff)

    @property
    def attempts(self) -> int:
        """HTTP attempts made so far (retries included)."""
        return self.client.attempts

    def identity(self) -> dict[str, Any]:
        return {
            "name": self.name, "model": self.model,
            "weights": None,
            "endpoint": hashlib.sha256(self.shown_url.encode()).hexdigest()[:16],
            "base_url": self.shown_url,
            "decoding": {"mode": self.mode, "temperature": 0, "top_p": 1, "seed": self.seed,
                         "stop": self.stop, "max_tokens": self.max_tokens,
                         "timeout": self.timeout, "retries": self.retries},
        }

    def close(self) -> None:
        self.client.close()

    def complete(self, prompts: Sequence[str]) -> list[Completion]:
        out = []
        for prompt in prompts:
            t0 = time.perf_counter()
            text, usage, truncated = self.client.call(prompt)
            if not isinstance(text, str):
                text = ""
            cut = min((text.find(s) for s in self.stop if s in text), default=-1)
            if cut >= 0:
                text = text[:cut]
            out.append(Completion(
                text, tokens_in=_count(getattr(usage, "prompt_tokens", 0)),
                tokens_out=_count(getattr(usage, "completion_tokens", 0)),
                latency=time.perf_counter() - t0, truncated=truncated and cut < 0))
        return out


def _count(value: object) -> int:
    """A token count from a server: a non-negative integer, else 0 (usage is informational)."""
    if isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= MAX_USAGE:
        return value
    return 0
