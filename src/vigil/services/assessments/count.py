"""How many listings a queue's filters keep, for its "N listings match" line.

A count must not make the page slow: it stops at `cap` ("more than 1,000"), and, given a time
budget, gives up when the budget runs out (a text search reads every one of 100k listings, and
the page has already paid for that once). The database enforces the budget: SQLite through a
progress handler that interrupts the statement, PostgreSQL through `statement_timeout`.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from sqlalchemy import func, select, text
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from vigil.domain.people import Actor
from vigil.services.assessments.params import Filters
from vigil.services.assessments.query import matching_ids
from vigil.store.db import Store

COUNT_CAP = 1_000
_STEPS = 10_000  # SQLite VM instructions between two looks at the clock
_QUERY_CANCELED = "57014"  # PostgreSQL's SQLSTATE for a statement stopped by its timeout


@dataclass(frozen=True, slots=True)
class Tally:
    """How many listings match: `count`, or more than `count` when `over` (the cap)."""

    count: int
    over: bool = False


@contextmanager
def _within(session: Session, budget: float | None) -> Iterator[None]:
    """Let the statements of this transaction run for `budget` seconds at most."""
    if budget is None:
        yield
        return
    driver = session.connection().connection.driver_connection
    if isinstance(driver, sqlite3.Connection):
        deadline = time.perf_counter() + budget
        driver.set_progress_handler(lambda: time.perf_counter() > deadline, _STEPS)
        try:
            yield
        finally:
            driver.set_progress_handler(None, 0)
        return
    # SET LOCAL: the timeout ends with this transaction.
    session.execute(text(f"SET LOCAL statement_timeout = {max(1, round(budget * 1000))}"))
    yield


def _timed_out(error: OperationalError) -> bool:
    cause = error.orig
    if isinstance(cause, sqlite3.OperationalError):
        return "interrupted" in str(cause)
    return getattr(cause, "sqlstate", None) == _QUERY_CANCELED


def count_assessments(
    store: Store,
    actor: Actor,
    filters: Filters,
    *,
    cap: int = COUNT_CAP,
    budget: float | None = None,
) -> Tally | None:
    """How many listings `actor` may see pass `filters`, counted up to `cap`; None when that
    takes longer than `budget` seconds."""
    try:
        with store.session() as session, _within(session, budget):
            some = matching_ids(session, actor, filters).limit(cap + 1).subquery()
            found = session.scalar(select(func.count()).select_from(some)) or 0
    except OperationalError as error:
        if not _timed_out(error):
            raise
        return None
    return Tally(min(found, cap), over=found > cap)
