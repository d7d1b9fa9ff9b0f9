"""The openai backend's HTTP transport: one origin, a capped body, a deadline per request.

Everything that belongs to one request (its deadline, why the transport refused it) lives in
an :class:`Attempt` made for that request; the transport finds it through a thread-local slot
of the :class:`Guard`, set by the thread that sends the request (so one client serves several
threads at once).
"""
from __future__ import annotations

import importlib
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import cast
from urllib.parse import urlsplit, urlunsplit

from ..limits import MAX_RESPONSE_BYTES

try:  # the HTTP library the installed openai client uses: httpx2 since openai 3.x
    import httpx2
except ImportError:  # older openai releases use httpx, the same API under its first name
    httpx2 = importlib.import_module("httpx")


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


def origin(url: object) -> tuple[str, str, int | None]:
    parts = urlsplit(str(url))
    port = parts.port or {"http": 80, "https": 443}.get(parts.scheme)
    return parts.scheme, (parts.hostname or "").lower(), port


class Refused(Exception):
    """Raised inside the HTTP layer; the backend turns it into one error line."""


class Attempt:
    """One HTTP attempt's own state: its deadline (``time.monotonic()``) and, once the
    transport refuses it, why. Made per attempt, never shared between requests."""

    __slots__ = ("deadline", "refusal")

    def __init__(self, timeout: float) -> None:
        self.deadline = time.monotonic() + timeout
        self.refusal: str | None = None

    def refuse(self, why: str) -> Refused:
        self.refusal = why
        return Refused(why)


class Guard:
    """The one origin a client may talk to (``shown_url``: its URL without a password), and
    each sending thread's current :class:`Attempt`."""

    def __init__(self, url_origin: tuple[str, str, int | None], shown_url: str) -> None:
        self.origin, self.shown_url = url_origin, shown_url
        self._local = threading.local()

    @property
    def attempt(self) -> Attempt | None:
        found: Attempt | None = getattr(self._local, "attempt", None)
        return found

    @contextmanager
    def sending(self, attempt: Attempt) -> Iterator[None]:
        """This thread's requests, while in the block, belong to ``attempt``."""
        self._local.attempt = attempt
        try:
            yield
        finally:
            self._local.attempt = None


def http_client(guard: Guard, timeout: float) -> httpx2.Client:
    """An HTTP client for the openai client: through :class:`Transport`, redirects followed
    (and refused there when they leave the origin)."""
    return httpx2.Client(transport=Transport(guard), follow_redirects=True,
                         timeout=httpx2.Timeout(timeout))


class Body(httpx2.SyncByteStream):
    """A response body cut off at MAX_RESPONSE_BYTES or at its attempt's deadline."""

    def __init__(self, stream: httpx2.SyncByteStream, attempt: Attempt, shown_url: str) -> None:
        self.stream, self.attempt, self.shown_url = stream, attempt, shown_url

    def __iter__(self) -> Iterator[bytes]:
        total = 0
        for chunk in self.stream:
            total += len(chunk)
            if total > MAX_RESPONSE_BYTES:
                raise self.attempt.refuse(f"the response from {self.shown_url} is larger "
                                          f"than {MAX_RESPONSE_BYTES:,} bytes")
            if time.monotonic() > self.attempt.deadline:
                raise httpx2.ReadTimeout("deadline passed while reading the response")
            yield chunk

    def close(self) -> None:
        self.stream.close()


class Transport(httpx2.BaseTransport):
    """An HTTP transport that refuses other origins (redirects included), caps the body at
    MAX_RESPONSE_BYTES and ends each request at its own attempt's deadline: each wait is
    bounded by the time left when the request started, and the deadline is checked as each
    chunk of the body arrives (so a server that trickles bytes is cut off). The attempt is the
    one the sending thread set (:meth:`Guard.sending`); the body keeps it."""

    def __init__(self, guard: Guard) -> None:
        self.guard = guard
        self.inner = httpx2.HTTPTransport()

    def handle_request(self, request: httpx2.Request) -> httpx2.Response:
        attempt = self.guard.attempt
        if attempt is None:  # only the client sends, and it always sets one
            raise Refused("a request outside a call of the backend; refused")
        if origin(request.url) != self.guard.origin:
            raise attempt.refuse(f"{self.guard.shown_url} redirected to another origin "
                                 f"({redact_url(str(request.url))[:120]}); refused")
        left = attempt.deadline - time.monotonic()
        if left <= 0:
            raise httpx2.ConnectTimeout("deadline passed before the request")
        request.extensions["timeout"] = {k: left for k in ("connect", "read", "write", "pool")}
        response = self.inner.handle_request(request)
        stream = cast(httpx2.SyncByteStream, response.stream)  # a sync transport's body
        return httpx2.Response(status_code=response.status_code, headers=response.headers,
                               stream=Body(stream, attempt, self.guard.shown_url),
                               extensions=response.extensions)

    def close(self) -> None:
        self.inner.close()
