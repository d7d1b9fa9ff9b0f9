"""The evaluation run: verify a backend over eval's suites in each dialect, counting cases,
machines, failure classes, time and tokens per (suite, dialect) :class:`Cell`."""
from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from ..backends.base import Backend, Completion, complete_all, thread_safe
from ..errors import MannsimError
from ..program import compile_program
from ..program.dialect import Dialect
from ..safe_text import one_line
from ..verify import verify
from .card import Cell
from .suite import DEFAULT_SEED, suites
from .taxonomy import classify

#: ``progress(done, total, cases, failed)``: True stops the evaluation.
Progress = Callable[[int, int, int, int], object]


class ConcurrentBackend:
    """Keeps ``concurrency`` requests in flight (each prompt on its own thread); the answers
    come back in the order of the prompts, so results equal a sequential run's. Only for a
    backend whose ``thread_safe`` is true (see :func:`check_concurrency`)."""

    def __init__(self, backend: Backend, concurrency: int) -> None:
        self.backend, self.concurrency = backend, concurrency
        self.name = backend.name
        self.thread_safe = thread_safe(backend)
        self.pool = ThreadPoolExecutor(max_workers=concurrency)

    def identity(self) -> dict[str, Any]:
        return self.backend.identity()

    def complete(self, prompts: Sequence[str]) -> list[Completion]:
        return list(self.pool.map(lambda p: complete_all(self.backend, [p])[0], prompts))

    def close(self) -> None:
        self.pool.shutdown()


def check_concurrency(backend: object, concurrency: int, name: str | None = None) -> None:
    """Refuse ``concurrency`` > 1 for a backend (an instance or its class) that does not
    declare ``thread_safe = True`` (as :func:`mannsim.backends.base.thread_safe` reads it):
    its ``complete`` would be called from several threads."""
    if concurrency > 1 and not thread_safe(backend):
        who = name or getattr(backend, "name", type(backend).__name__)
        raise MannsimError(f"backend {one_line(who, 40)!r} is not thread-safe: --concurrency "
                           f"{concurrency} would call it from several threads (use --concurrency "
                           "1; --batch N batches an hf model's prompts)")


class Metered:
    """Counts the tokens a backend reports in its completions (``Completion.tokens_in`` and
    ``tokens_out``); ``reported`` counts the completions that report any."""

    thread_safe = False  # its counts are not locked: called from eval's one thread

    def __init__(self, backend: Backend) -> None:
        self.backend, self.name = backend, backend.name
        self.tokens_in = self.tokens_out = self.reported = 0

    @classmethod
    def of(cls, backend: Backend) -> Metered:
        """A meter of ``backend``, with ``complete_batch`` where the backend has it (verify
        batches only where the backend can)."""
        return BatchMetered(backend) if hasattr(backend, "complete_batch") else cls(backend)

    def identity(self) -> dict[str, Any]:
        return self.backend.identity()

    def _count(self, completions: list[Completion]) -> list[Completion]:
        for c in completions:
            if c.tokens_in > 0 or c.tokens_out > 0:
                self.reported += 1
                self.tokens_in += c.tokens_in
                self.tokens_out += c.tokens_out
        return completions

    def complete(self, prompts: Sequence[str]) -> list[Completion]:
        return self._count(complete_all(self.backend, prompts))

    def close(self) -> None:
        pass  # the caller closes the backend it made


class BatchMetered(Metered):
    """A :class:`Metered` backend that batches (hf's ``complete_batch``)."""

    def complete_batch(self, prompts: Sequence[str], batch_size: int = 32) -> list[Completion]:
        return self._count(complete_all(self.backend, prompts, batch_size))


def evaluate(backend: Backend, dialects: Sequence[Dialect], distributions: Iterable[str], n: int,
             seed: int = DEFAULT_SEED, programs: bool = True, progress: Progress | None = None,
             keys: str = "registers", batch: int = 1,
             clock: Callable[[], float] = time.perf_counter) -> list[Cell]:
    """Verify ``backend`` on the shipped programs and on ``n`` machines of each distribution,
    in each dialect, compiled with the ``keys`` policy. ``progress(done, total, cases, failed)``
    (machines done and in all, cases done and failed so far) once before the first machine and
    after each; when it returns True the evaluation stops there (the cells so far are
    returned, the last one partial). Each failure example names its machine's id
    (:func:`~mannsim.evaluate.machine_id`), state and read symbol; each cell has its wall time
    (by ``clock``), backend latency and tokens."""
    todo = suites(distributions, n, seed, programs)
    total = sum(len(ms) for _, ms in todo) * len(dialects)
    meter = Metered.of(backend)
    done = cases_done = failed = 0
    stop = progress is not None and progress(0, total, 0, 0) is True
    cells: list[Cell] = []
    for dialect in dialects:
        for name, machines in todo:
            if stop:
                break
            cell = Cell(name, dialect.name)
            t0, tin, tout, reported = clock(), meter.tokens_in, meter.tokens_out, meter.reported
            for mid, machine in machines:
                results = verify(compile_program(machine, dialect, keys), meter, batch)
                cell.machines += 1
                cell.machines_passed += all(r.passed for r in results)
                for r in results:
                    cell.cases += 1
                    cell.cases_passed += r.passed
                    cell.latency_s += r.latency
                    if not r.passed:
                        kind = classify(r, dialect.shape)
                        cell.failures[kind] += 1
                        cell.examples.setdefault(kind, {"machine": mid, "states": list(r.states),
                                                        "symbols": list(r.symbols),
                                                        "expected": r.expected,
                                                        "answer": r.answer[:300]})
                done += 1
                cases_done += len(results)
                failed += sum(not r.passed for r in results)
                if progress is not None and progress(done, total, cases_done, failed) is True:
                    stop = True
                    break
            cell.wall_s = clock() - t0
            if meter.reported > reported:
                cell.tokens_in, cell.tokens_out = meter.tokens_in - tin, meter.tokens_out - tout
            cells.append(cell)
    return cells
