"""The ``openai`` backend: any OpenAI-compatible server through the official ``openai`` client.

OpenAI, vLLM, llama.cpp's server, Ollama and ``transformers serve`` all speak this protocol.
``api_mode`` picks ``/v1/completions`` (the prompt as is; the default) or
``/v1/chat/completions`` (the prompt as one user message). Every call sends temperature 0,
top_p 1, a fixed seed, the dialect's stop sequences and a token limit; the answer is also cut
at the first stop string here, since some servers ignore ``stop``. Rate limits (429), server
errors (5xx), timeouts and connection errors are retried with exponential backoff; when the
retries run out the run ends with a one-line error. The API key is sent to the server and
nowhere else: it is not part of the identity written to traces and reports, and server text
that echoes it (or the URL's password) is scrubbed before it is shown or stored.

Hostile servers: ``timeout`` is the deadline of each request as a whole (every wait is
bounded by the time left, and the deadline is checked as each chunk of the body arrives, so a
server that trickles bytes is cut off); bodies are capped at ``MAX_RESPONSE_BYTES``; a redirect
to another origin (scheme, host, port) is refused with one line; a user name or password in
the base URL is never recorded; an answer cut at the token limit is marked ``truncated``.
"""
from __future__ import annotations

import hashlib
import os
import time
from typing import Sequence
from urllib.parse import urlsplit, urlunsplit

from ..limits import MAX_RESPONSE_BYTES
from .base import BackendError, Completion

DUMMY_KEY = "sk-no-key-needed"
#: Largest token count accepted from a server's ``usage`` (anything else counts as 0).
MAX_USAGE = 10**9


def redact_url(url: str) -> str:
    """``url`` without a user name or password."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return "(an invalid URL)"
    if parts.username is None and parts.password is None:
        return url
    host = parts.hostname or ""
    if parts.port:
        host += f":{parts.port}"
    return urlunsplit((parts.scheme, host, parts.path, parts.query, parts.fragment))


def origin(url) -> tuple[str, str, int | None]:
    parts = urlsplit(str(url))
    port = parts.port or {"http": 80, "https": 443}.get(parts.scheme)
    return parts.scheme, (parts.hostname or "").lower(), port


class _Refused(Exception):
    """Raised inside the HTTP layer; the backend turns it into one error line."""


def _httpx():
    """The HTTP library the installed openai client uses (httpx2 since openai 3.x, else httpx)."""
    try:
        import httpx2
        return httpx2
    except ImportError:
        import httpx
        return httpx


def _guarded_transport(backend: "OpenAIBackend"):
    """An HTTP transport that refuses other origins (redirects included), caps the body at
    MAX_RESPONSE_BYTES and ends the request at the backend's deadline: each wait is bounded by
    the time left when the request started, and the deadline is checked as each chunk of the
    body arrives (so a server that trickles bytes is cut off)."""
    httpx2 = _httpx()

    class Body(httpx2.SyncByteStream):
        def __init__(self, stream):
            self.stream = stream

        def __iter__(self):
            total = 0
            for chunk in self.stream:
                total += len(chunk)
                if total > MAX_RESPONSE_BYTES:
                    backend._refusal = (f"the response from {backend.shown_url} is larger than "
                                        f"{MAX_RESPONSE_BYTES:,} bytes")
                    raise _Refused(backend._refusal)
                if time.monotonic() > backend._deadline:
                    raise httpx2.ReadTimeout("deadline passed while reading the response")
                yield chunk

        def close(self):
            self.stream.close()

    class Transport(httpx2.BaseTransport):
        def __init__(self):
            self.inner = httpx2.HTTPTransport()

        def handle_request(self, request):
            if origin(request.url) != backend.origin:
                backend._refusal = (f"{backend.shown_url} redirected to another origin "
                                    f"({redact_url(str(request.url))[:120]}); refused")
                raise _Refused(backend._refusal)
            left = backend._deadline - time.monotonic()
            if left <= 0:
                raise httpx2.ConnectTimeout("deadline passed before the request")
            request.extensions["timeout"] = {k: left for k in ("connect", "read", "write", "pool")}
            response = self.inner.handle_request(request)
            return httpx2.Response(status_code=response.status_code, headers=response.headers,
                                   stream=Body(response.stream), extensions=response.extensions)

        def close(self):
            self.inner.close()

    return Transport()


class OpenAIBackend:
    """Any OpenAI-compatible server (OpenAI, vLLM, llama.cpp, Ollama, transformers serve)."""

    name = "openai"
    OPTIONS = ("model", "base_url", "api_key", "api_mode", "timeout", "retries")

    def __init__(self, model: str | None = None, base_url: str | None = None,
                 api_key: str | None = None, api_mode: str = "completions",
                 stop: Sequence[str] = ("\n",), max_tokens: int = 64, timeout: float = 30.0,
                 retries: int = 4, seed: int = 0, backoff: float = 0.5):
        try:
            import openai
            httpx2 = _httpx()
        except ImportError as e:
            raise BackendError(f"the openai backend needs the openai package ({e})") from None
        self.openai = openai
        self.base_url = base_url or os.environ.get("OPENAI_BASE_URL") or "https://api.openai.com/v1"
        self.shown_url = redact_url(self.base_url)
        try:
            self.origin = origin(self.base_url)
        except ValueError:
            raise BackendError(f"invalid --base-url {self.shown_url[:80]!r}") from None
        if self.origin[0] not in ("http", "https") or not self.origin[1]:
            raise BackendError(f"--base-url must be an http(s) URL, got {self.shown_url[:80]!r}")
        self._key = api_key or os.environ.get("OPENAI_API_KEY") or DUMMY_KEY
        if api_mode not in ("completions", "chat"):
            raise BackendError(f"unknown api mode {api_mode!r} (completions or chat)")
        self.mode = api_mode
        self.model = model or os.environ.get("MANNSIM_OPENAI_MODEL") or "default"
        self.stop = list(stop) or ["\n"]
        self.max_tokens = max_tokens
        self.timeout = timeout
        self.retries = retries
        self.seed = seed
        self.backoff = backoff
        self._deadline = float("inf")
        self._refusal: str | None = None
        http = httpx2.Client(transport=_guarded_transport(self), follow_redirects=True,
                             timeout=httpx2.Timeout(timeout))
        self.client = openai.OpenAI(base_url=self.base_url, api_key=self._key, timeout=timeout,
                                    max_retries=0, http_client=http)
        self.attempts = 0

    def identity(self) -> dict:
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
        try:
            self.client.close()
        except Exception:  # noqa: BLE001 - closing is best effort
            pass

    def scrub(self, text) -> str:
        """Server text with the API key (and the URL's password) taken out, on one line."""
        text = str(text or "")
        for secret in (self._key, urlsplit(self.base_url).password):
            if secret and len(secret) >= 4:
                text = text.replace(secret, "***")
        text = text.strip()
        return text.splitlines()[0][:200] if text else "(no message)"

    def _request(self, prompt: str):
        common = dict(model=self.model, temperature=0, top_p=1, seed=self.seed, stop=self.stop,
                      max_tokens=self.max_tokens)
        self._deadline = time.monotonic() + self.timeout
        self._refusal = None
        if self.mode == "chat":
            r = self.client.chat.completions.create(
                messages=[{"role": "user", "content": prompt}], **common)
            choice = r.choices[0] if r.choices else None
            text = choice.message.content if choice is not None and choice.message else None
        else:
            r = self.client.completions.create(prompt=prompt, **common)
            choice = r.choices[0] if r.choices else None
            text = choice.text if choice is not None else None
        finish = getattr(choice, "finish_reason", None)
        return text, getattr(r, "usage", None), finish == "length"

    def _call(self, prompt: str):
        oa = self.openai
        retriable = (oa.RateLimitError, oa.InternalServerError, oa.APIConnectionError,
                     oa.APITimeoutError)
        delay = self.backoff
        url = self.shown_url
        for attempt in range(self.retries + 1):
            self.attempts += 1
            try:
                return self._request(prompt)
            except _Refused:
                raise BackendError(self.scrub(self._refusal)) from None
            except retriable as e:
                if self._refusal:
                    raise BackendError(self.scrub(self._refusal)) from None
                last = e
                if attempt == self.retries:
                    break
                time.sleep(delay)
                delay = min(delay * 2, 8.0)
            except oa.APIStatusError as e:  # 4xx other than 429: retrying will not help
                raise BackendError(f"server at {url} refused the request (HTTP "
                                   f"{e.status_code}): {self.scrub(e.message)}") from None
            except (oa.APIResponseValidationError, ValueError, TypeError, AttributeError) as e:
                raise BackendError(f"malformed response from {url}: {self.scrub(e)}") from None
        if isinstance(last, (oa.APIConnectionError, oa.APITimeoutError)):
            what = "timed out" if isinstance(last, oa.APITimeoutError) else "is unreachable"
            raise BackendError(f"server at {url} {what} (after {self.retries + 1} attempts)") from None
        raise BackendError(f"server at {url} kept failing (HTTP "
                           f"{getattr(last, 'status_code', '?')}) after {self.retries + 1} "
                           "attempts") from None

    def complete(self, prompts: Sequence[str]) -> list[Completion]:
        out = []
        for prompt in prompts:
            t0 = time.perf_counter()
            text, usage, truncated = self._call(prompt)
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


def _count(value) -> int:
    """A token count from a server: a non-negative integer, else 0 (usage is informational)."""
    return value if isinstance(value, int) and not isinstance(value, bool) and \
        0 <= value <= MAX_USAGE else 0
