"""The ``openai`` backend: any OpenAI-compatible server through the official ``openai`` client.

OpenAI, vLLM, llama.cpp's server, Ollama and ``transformers serve`` all speak this protocol.
``api_mode`` picks ``/v1/completions`` (the prompt as is; the default) or
``/v1/chat/completions`` (the prompt as one user message). Every call sends temperature 0,
top_p 1, a fixed seed, the dialect's stop sequences and a token limit; the answer is also cut
at the first stop string here, since some servers ignore ``stop``. Rate limits (429), server
errors (5xx), timeouts and connection errors are retried with exponential backoff; when the
retries run out the run ends with a one-line error. The API key is sent to the server and
nowhere else: it is not part of the identity written to traces and reports.
"""
from __future__ import annotations

import hashlib
import os
import time
from typing import Sequence

from .base import BackendError, Completion

DUMMY_KEY = "sk-no-key-needed"


class OpenAIBackend:
    name = "openai"

    def __init__(self, model: str | None = None, base_url: str | None = None,
                 api_key: str | None = None, api_mode: str = "completions",
                 stop: Sequence[str] = ("\n",), max_tokens: int = 64, timeout: float = 30.0,
                 retries: int = 4, seed: int = 0, backoff: float = 0.5, **_ignored):
        try:
            import openai
        except ImportError as e:
            raise BackendError(f"the openai backend needs the openai package ({e})") from None
        self.openai = openai
        self.base_url = base_url or os.environ.get("OPENAI_BASE_URL") or "https://api.openai.com/v1"
        key = api_key or os.environ.get("OPENAI_API_KEY") or DUMMY_KEY
        if api_mode not in ("completions", "chat"):
            raise BackendError(f"unknown api mode {api_mode!r} (completions or chat)")
        self.mode = api_mode
        self.model = model or os.environ.get("MANNSIM_OPENAI_MODEL") or "default"
        self.stop = list(stop)[:4] or ["\n"]
        self.max_tokens = max_tokens
        self.timeout = timeout
        self.retries = retries
        self.seed = seed
        self.backoff = backoff
        self.client = openai.OpenAI(base_url=self.base_url, api_key=key, timeout=timeout,
                                    max_retries=0)
        self.attempts = 0

    def identity(self) -> dict:
        return {
            "name": self.name, "model": self.model,
            "weights": None,
            "endpoint": hashlib.sha256(self.base_url.encode()).hexdigest()[:16],
            "base_url": self.base_url,
            "decoding": {"mode": self.mode, "temperature": 0, "top_p": 1, "seed": self.seed,
                         "stop": self.stop, "max_tokens": self.max_tokens,
                         "timeout": self.timeout, "retries": self.retries},
        }

    def close(self) -> None:
        try:
            self.client.close()
        except Exception:  # noqa: BLE001 - closing is best effort
            pass

    def _request(self, prompt: str):
        common = dict(model=self.model, temperature=0, top_p=1, seed=self.seed, stop=self.stop,
                      max_tokens=self.max_tokens)
        if self.mode == "chat":
            r = self.client.chat.completions.create(
                messages=[{"role": "user", "content": prompt}], **common)
            text = r.choices[0].message.content if r.choices else None
        else:
            r = self.client.completions.create(prompt=prompt, **common)
            text = r.choices[0].text if r.choices else None
        usage = getattr(r, "usage", None)
        return text, usage

    def _call(self, prompt: str):
        oa = self.openai
        retriable = (oa.RateLimitError, oa.InternalServerError, oa.APIConnectionError,
                     oa.APITimeoutError)
        delay = self.backoff
        for attempt in range(self.retries + 1):
            self.attempts += 1
            try:
                return self._request(prompt)
            except retriable as e:
                last = e
                if attempt == self.retries:
                    break
                time.sleep(delay)
                delay = min(delay * 2, 8.0)
            except oa.APIStatusError as e:  # 4xx other than 429: retrying will not help
                raise BackendError(f"server at {self.base_url} refused the request "
                                   f"(HTTP {e.status_code}): {_first_line(e.message)}") from None
            except (oa.APIResponseValidationError, ValueError, TypeError) as e:
                raise BackendError(f"malformed response from {self.base_url}: "
                                   f"{_first_line(str(e))}") from None
        if isinstance(last, (oa.APIConnectionError, oa.APITimeoutError)):
            what = "timed out" if isinstance(last, oa.APITimeoutError) else "is unreachable"
            raise BackendError(f"server at {self.base_url} {what} "
                               f"(after {self.retries + 1} attempts)") from None
        raise BackendError(f"server at {self.base_url} kept failing (HTTP "
                           f"{getattr(last, 'status_code', '?')}) after {self.retries + 1} "
                           "attempts") from None

    def complete(self, prompts: Sequence[str]) -> list[Completion]:
        out = []
        for prompt in prompts:
            t0 = time.perf_counter()
            text, usage = self._call(prompt)
            if not isinstance(text, str):
                text = ""
            cut = min((text.find(s) for s in self.stop if s in text), default=-1)
            if cut >= 0:
                text = text[:cut]
            out.append(Completion(
                text, tokens_in=int(getattr(usage, "prompt_tokens", 0) or 0),
                tokens_out=int(getattr(usage, "completion_tokens", 0) or 0),
                latency=time.perf_counter() - t0))
        return out


def _first_line(text) -> str:
    text = str(text or "").strip()
    return text.splitlines()[0][:200] if text else "(no message)"
