"""The openai backend's requests: the official client over the guarded transport, with retries.

Rate limits (429), server errors (5xx), timeouts and connection errors are retried with
exponential backoff; everything else, and the last failure, is one :class:`BackendFailure`
line with the API key (and the URL's password) scrubbed out. One client serves several threads
at once: each request's state is its own :class:`~.openai_transport.Attempt`.
"""
from __future__ import annotations

import threading
import time
from typing import Any
from urllib.parse import urlsplit

import openai

from .base import BackendFailure
from .openai_transport import Attempt, Guard, Refused, http_client


def _attempts(n: int) -> str:
    return f"{n} attempt" if n == 1 else f"{n} attempts"


class Client:
    """Sends one prompt to the server: (text or None, usage, cut at the token limit)."""

    def __init__(self, guard: Guard, base_url: str, key: str, request: dict[str, Any],
                 mode: str, timeout: float, retries: int, backoff: float) -> None:
        self.guard, self.base_url, self._key = guard, base_url, key
        self.request, self.mode = request, mode
        self.timeout, self.retries, self.backoff = timeout, retries, backoff
        self._count = threading.Lock()
        self.attempts = 0
        self.client = openai.OpenAI(base_url=base_url, api_key=key, timeout=timeout,
                                    max_retries=0, http_client=http_client(guard, timeout))

    def close(self) -> None:
        try:
            self.client.close()
        except Exception:  # noqa: BLE001 - closing is best effort
            pass

    def scrub(self, text: object) -> str:
        """Server text with the API key (and the URL's password) taken out, on one line."""
        text = str(text or "")
        for secret in (self._key, urlsplit(self.base_url).password):
            if secret and len(secret) >= 4:
                text = text.replace(secret, "***")
        text = text.strip()
        return text.splitlines()[0][:200] if text else "(no message)"

    def _request(self, prompt: str, attempt: Attempt) -> tuple[object, object, bool]:
        """One attempt, sent by this thread under ``attempt`` (its deadline and refusal)."""
        choice: Any
        with self.guard.sending(attempt):
            if self.mode == "chat":
                r: Any = self.client.chat.completions.create(
                    messages=[{"role": "user", "content": prompt}], **self.request)
                choice = r.choices[0] if r.choices else None
                text = choice.message.content if choice is not None and choice.message else None
            else:
                r = self.client.completions.create(prompt=prompt, **self.request)
                choice = r.choices[0] if r.choices else None
                text = choice.text if choice is not None else None
        finish = getattr(choice, "finish_reason", None)
        return text, getattr(r, "usage", None), finish == "length"

    def call(self, prompt: str) -> tuple[object, object, bool]:
        """:meth:`_request`, retried; a :class:`BackendFailure` when it cannot be answered."""
        oa = openai
        retriable = (oa.RateLimitError, oa.InternalServerError, oa.APIConnectionError,
                     oa.APITimeoutError)
        delay = self.backoff
        url = self.guard.shown_url
        tries = _attempts(self.retries + 1)
        last: Exception | None = None
        for n in range(self.retries + 1):
            with self._count:
                self.attempts += 1
            attempt = Attempt(self.timeout)
            try:
                return self._request(prompt, attempt)
            except Refused as e:
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
