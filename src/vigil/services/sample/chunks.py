"""Listings made in chunks of fixed size, in this process or in worker processes.

Each chunk is seeded from the sample's seed and its own number, so the bytes of a sample are
the same whether one process makes every chunk or several make them side by side. Chunks come
back in order and only a few are in flight at a time, so memory does not grow with the sample.
"""

from __future__ import annotations

import multiprocessing
import os
import sys
import threading
from collections import Counter, deque
from collections.abc import Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass

import orjson

from vigil.services.sample.album import Album
from vigil.services.sample.catalog import Catalog
from vigil.services.sample.gallery import Gallery, Key
from vigil.services.sample.library import Library, Shelf
from vigil.services.sample.listings import ListingMaker
from vigil.services.sample.texts import TextBank

CHUNK = 5_000
# Below this many listings, starting worker processes costs more than it saves.
PARALLEL_FROM = 100_000


@dataclass(frozen=True)
class Recipe:
    """What a process needs to make listings exactly as every other process would.

    Forked workers inherit the catalogue instead of building it again.
    """

    catalog: Catalog
    seed: int
    pool_size: int
    rates: dict[str, float]
    gallery: Gallery | None = None  # None: listings without images
    shelf: Shelf | None = None  # None: a sample without works

    def maker(self) -> ListingMaker:
        album = None if self.gallery is None else Album(self.gallery, self.seed)
        library = None if self.shelf is None else Library(self.shelf, self.seed)
        return ListingMaker(
            self.catalog,
            TextBank(),
            self.rates,
            seed=self.seed,
            pool_size=self.pool_size,
            album=album,
            library=library,
        )


@dataclass(frozen=True)
class Chunk:
    listings: bytes
    truth: bytes
    labels: Counter[str]
    images: bytes = b""  # image_truth.jsonl rows
    pooled: frozenset[Key] = frozenset()  # the pooled image files the listings show
    texts: bytes = b""  # text_truth.jsonl rows


def make_chunk(maker: ListingMaker, number: int, size: int) -> Chunk:
    """Chunk `number`: `size` listings as JSON lines, their truth rows, the count by label."""
    maker.restart(number, number * CHUNK)
    dumps, newline, make = orjson.dumps, orjson.OPT_APPEND_NEWLINE, maker.make
    made = [make() for _ in range(size)]
    texts = b"" if maker.library is None else maker.library.rework(made)
    listings, truths = [], []
    labels: Counter[str] = Counter()
    for record, truth in made:
        listings.append(dumps(record, option=newline))
        truths.append(dumps(truth, option=newline))
        labels[truth["label"]] += 1
    if maker.album is None:
        return Chunk(b"".join(listings), b"".join(truths), labels, texts=texts)
    images, pooled = maker.album.drain()
    return Chunk(b"".join(listings), b"".join(truths), labels, images, pooled, texts)


def default_workers(listings: int) -> int:
    """Worker processes worth starting for a sample this size; 1 means this process alone.

    Workers are forked, which is only safe on Linux in a process without other threads (and
    unlike "spawn" does not re-run a script that lacks an `if __name__ == "__main__"` guard).
    """
    if listings < PARALLEL_FROM or not sys.platform.startswith("linux"):
        return 1
    if threading.active_count() > 1 or multiprocessing.current_process().daemon:
        return 1  # forking would be unsafe, or a daemon process may not have children
    return max(1, min(os.cpu_count() or 1, 8))


def make_chunks(recipe: Recipe, listings: int, *, workers: int) -> Iterator[Chunk]:
    """The sample's chunks in order, made by `workers` processes (this one when 1)."""
    spans = [(n, min(CHUNK, listings - n * CHUNK)) for n in range(-(-listings // CHUNK))]
    if workers <= 1 or len(spans) < 2:
        maker = recipe.maker()
        for number, size in spans:
            yield make_chunk(maker, number, size)
        return
    context = multiprocessing.get_context("fork")
    pool = ProcessPoolExecutor(workers, context, initializer=_start_worker, initargs=(recipe,))
    try:
        pending: deque[Future[Chunk]] = deque()
        for number, size in spans:
            pending.append(pool.submit(_worker_chunk, number, size))
            if len(pending) >= 2 * workers:
                yield pending.popleft().result()
        while pending:
            yield pending.popleft().result()
    finally:
        pool.shutdown(cancel_futures=True)


_maker: ListingMaker | None = None  # a worker process's own


def _start_worker(recipe: Recipe) -> None:
    global _maker
    _maker = recipe.maker()


def _worker_chunk(number: int, size: int) -> Chunk:
    assert _maker is not None, "the worker was started without its recipe"
    return make_chunk(_maker, number, size)
