"""The local engine: pass one in this process or in N worker processes, in input order."""

from __future__ import annotations

import multiprocessing
from collections import deque
from collections.abc import Iterable, Iterator
from itertools import islice
from multiprocessing.pool import AsyncResult

from vigil.pipeline.assess import Assessor, FirstPass
from vigil.pipeline.readers import RawRecord, Rejection

CHUNK = 512
# Chunks in flight per worker: enough to keep workers busy, few enough to bound memory
# (Pool.imap would read the whole input ahead of the workers).
WINDOW_PER_WORKER = 4

_worker_assessor: Assessor | None = None


def _init_worker(assessor: Assessor) -> None:
    global _worker_assessor
    _worker_assessor = assessor


def _first_pass_chunk(chunk: list[RawRecord | Rejection]) -> list[FirstPass | Rejection]:
    assert _worker_assessor is not None, "worker used before its initializer ran"
    return [_worker_assessor.first_pass(record) for record in chunk]


def _chunks(records: Iterable[RawRecord | Rejection]) -> Iterator[list[RawRecord | Rejection]]:
    iterator = iter(records)
    while chunk := list(islice(iterator, CHUNK)):
        yield chunk


class LocalEngine:
    def __init__(self, assessor: Assessor, *, workers: int = 1) -> None:
        if workers < 1:
            raise ValueError(f"workers must be at least 1, got {workers}")
        self.assessor = assessor
        self.workers = workers

    def first_pass(
        self, records: Iterable[RawRecord | Rejection]
    ) -> Iterator[FirstPass | Rejection]:
        if self.workers == 1:
            for record in records:
                yield self.assessor.first_pass(record)
            return
        # forkserver: the progress bar runs a thread, and forking a threaded process can hang.
        context = multiprocessing.get_context("forkserver")
        with context.Pool(
            self.workers, initializer=_init_worker, initargs=(self.assessor,)
        ) as pool:
            pending: deque[AsyncResult[list[FirstPass | Rejection]]] = deque()
            for chunk in _chunks(records):
                pending.append(pool.apply_async(_first_pass_chunk, (chunk,)))
                if len(pending) >= self.workers * WINDOW_PER_WORKER:
                    yield from pending.popleft().get()
            while pending:
                yield from pending.popleft().get()
