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
refused it) lives in an :class:`_Attempt` made for that request, which the transport finds
through a thread-local slot set by the thread that sends it; the instance itself holds only
settings, the client and a locked counter.
"""
from __future__ import annotations

import hashlib
import os
import threading
import time
from collections.abc import Sequence
from urllib.parse import urlsplit, urlunsplit

from ..limits import MAX_RESPONSE_BYTES
from .base import BackendError, BackendFailure, Completion

DUMMY_KEY = "sk-no-key-needed"
NO_SERVER = ("the openai backend needs a server: give --base-url URL (for example "
             "http://127.0.0.1:8000/v1) or set OPENAI_BASE_URL (https://api.openai.com/v1 for "
             "OpenAI itself)")
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


class _Attempt:
    """One HTTP attempt's own state: its deadline (``time.monotonic()``) and, once the
    transport refuses it, why. Made per attempt, never shared between requests."""

    __slots__ = ("deadline", "refusal")

    def __init__(self, timeout: float):
        self.deadline = time.monotonic() + timeout
        self.refusal: str | None = None

    def refuse(self, why: str) -> _Refused:
        self.refusal = why
        return _Refused(why)


def _attempts(n: int) -> str:
    return f"{n} attempt" if n == 1 else f"{n} attempts"


def _httpx():
    """The HTTP library the installed openai client uses (httpx2 since openai 3.x, else httpx)."""
    try:
        import httpx2
        return httpx2
    except ImportError:
        import httpx
        return httpx


def _guarded_transport(backend: OpenAIBackend):
    """An HTTP transport that refuses other origins (redirects included), caps the body at
    MAX_RESPONSE_BYTES and ends each request at its own attempt's deadline: each wait is
    bounded by the time left when the request started, and the deadline is checked as each
    chunk of the body arrives (so a server that trickles bytes is cut off). The attempt is the
    one the sending thread set (:meth:`OpenAIBackend._request`); the body keeps it."""
    httpx2 = _httpx()

    class Body(httpx2.SyncByteStream):
        def __init__(self, stream, attempt: _Attempt):
            self.stream = stream
            self.attempt = attempt

        def __iter__(self):
            total = 0
            for chunk in self.stream:
                total += len(chunk)
                if total > MAX_RESPONSE_BYTES:
                    raise self.attempt.refuse(f"the response from {backend.shown_url} is larger "
                                              f"than {MAX_RESPONSE_BYTES:,} bytes")
                if time.monotonic() > self.attempt.deadline:
                    raise httpx2.ReadTimeout("deadline passed while reading the response")
                yield chunk

        def close(self):
            self.stream.close()

    class Transport(httpx2.BaseTransport):
        def __init__(self):
            self.inner = httpx2.HTTPTransport()

        def handle_request(self, request):
            attempt = getattr(backend._local, "attempt", None)
            if attempt is None:  # only _request sends, and it always sets one
                raise _Refused("a request outside a call of the backend; refused")
            if origin(request.url) != backend.origin:
                raise attempt.refuse(f"{backend.shown_url} redirected to another origin "
                                     f"({redact_url(str(request.url))[:120]}); refused")
            left = attempt.deadline - time.monotonic()
            if left <= 0:
                raise httpx2.ConnectTimeout("deadline passed before the request")
            request.extensions["timeout"] = {k: left for k in ("connect", "read", "write", "pool")}
            response = self.inner.handle_request(request)
            return httpx2.Response(status_code=response.status_code, headers=response.headers,
                                   stream=Body(response.stream, attempt),
                                   extensions=response.extensions)

        def close(self):
            self.inner.close()

    return Transport()


class OpenAIBackend:
    """Any OpenAI-compatible server (OpenAI, vLLM, llama.cpp, Ollama, transformers serve)."""

    name = "openai"
    thread_safe = True  # per-request state lives in each request's _Attempt
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
        self.base_url = base_url or os.environ.get("OPENAI_BASE_URL") or ""
        if not self.base_url:
            raise BackendError(NO_SERVER)
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
        self._local = threading.local()  # .attempt: the sending thread's current _Attempt
        self._count = threading.Lock()
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

    def _request(self, prompt: str, attempt: _Attempt):
        """One attempt, sent by this thread under ``attempt`` (its deadline and refusal)."""
        common = dict(model=self.model, temperature=0, top_p=1, seed=self.seed, stop=self.stop,
                      max_tokens=self.max_tokens)
        self._local.attempt = attempt
        try:
            if self.mode == "chat":
                r = self.client.chat.completions.create(
                    messages=[{"role": "user", "content": prompt}], **common)
                choice = r.choices[0] if r.choices else None
                text = choice.message.content if choice is not None and choice.message else None
            else:
                r = self.client.completions.create(prompt=prompt, **common)
                choice = r.choices[0] if r.choices else None
                text = choice.text if choice is not None else None
        finally:
            self._local.attempt = None
        finish = getattr(choice, "finish_reason", None)
        return text, getattr(r, "usage", None), finish == "length"

    def _call(self, prompt: str):
        oa = self.openai
        retriable = (oa.RateLimitError, oa.InternalServerError, oa.APIConnectionError,
                     oa.APITimeoutError)
        delay = self.backoff
        url = self.shown_url
        tries = _attempts(self.retries + 1)
        for n in range(self.retries + 1):
            with self._count:
                self.attempts += 1
            attempt = _Attempt(self.timeout)
            try:
                return self._request(prompt, attempt)
            except _Refused as e:
                raise BackendFailure(self.scrub(attempt.refusal or e)) from None
            except retriable as e:
                if attempt.refusal:  # the client wrapped the transport's refusal
                    raise BackendFailure(self.scrub(attempt.refusal)) from None
                last = e
                if n == self.retries:
                    break
                time.sleep(delay)
                delay = min(delay * 2, 8.0)
            except oa.APIStatusError as e:  # 4xx other than 429: retrying will not help
                raise BackendFailure(f"server at {url} refused the request (HTTP "
                                     f"{e.status_code}): {self.scrub(e.message)}") from None
            except (oa.APIResponseValidationError, ValueError, TypeError, AttributeError) as e:
                raise BackendFailure(f"malformed response from {url}: {self.scrub(e)}") from None
        if isinstance(last, (oa.APIConnectionError, oa.APITimeoutError)):
            what = "timed out" if isinstance(last, oa.APITimeoutError) else "is unreachable"
            raise BackendFailure(f"server at {url} {what} (after {tries})") from None
        raise BackendFailure(f"server at {url} kept failing (HTTP "
                             f"{getattr(last, 'status_code', '?')}) after {tries}") from None

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
