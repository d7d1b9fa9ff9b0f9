"""How many CPU threads torch uses for the loaded model."""
from __future__ import annotations

import time
from typing import Any

import torch

from ..base import BackendError
from .loading import EMBEDDED_NAME, Loaded

_TORCH_DEFAULT: list[int] = []


def torch_default_threads() -> int:
    """torch's own default number of threads: what it had when this process first asked (a
    backend loaded earlier in the process may have changed the current setting since)."""
    if not _TORCH_DEFAULT:
        _TORCH_DEFAULT.append(torch.get_num_threads())
    return _TORCH_DEFAULT[0]


def set_threads(loaded: Loaded, threads: int | str | None, device: str) -> int:
    """Set torch's CPU threads and say how many. The default is one thread for the embedded
    model: its matrices are small, and a second thread that has to wait for a busy core costs
    far more than it saves (on a 2-core machine beside other work, 200 cycles of U15,2 ran 4.5x
    slower on torch's default of all cores). Other models keep torch's default. ``"auto"`` times
    a few forward passes at one thread and at torch's default and keeps the faster."""
    default = torch_default_threads()
    if threads is None:
        threads = 1 if loaded.name == EMBEDDED_NAME else default
    elif threads == "auto":
        threads = _fastest_threads(loaded.model, device, (1, default))
    elif not isinstance(threads, int) or threads < 1:
        raise BackendError(f"--threads must be a positive number or 'auto', not {threads!r}")
    torch.set_num_threads(int(threads))
    return int(threads)


def _fastest_threads(model: Any, device: str, choices: tuple[int, ...]) -> int:
    ids = torch.arange(64, device=device).unsqueeze(0) % max(2, model.config.vocab_size)
    best, best_t = choices[0], float("inf")
    with torch.inference_mode():
        for n in dict.fromkeys(choices):
            torch.set_num_threads(n)
            model(ids)  # warm up
            times = []
            for _ in range(5):
                t0 = time.perf_counter()
                model(ids)
                times.append(time.perf_counter() - t0)
            t = sorted(times)[len(times) // 2]
            if t < best_t:
                best, best_t = n, t
    return best
