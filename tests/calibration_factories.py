"""Decided cases for calibration tests: listings with signals, each in a case that an analyst
confirmed or dismissed, written straight to any store (SQLite or PostgreSQL)."""

from __future__ import annotations

import itertools
import math
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
from sqlalchemy import insert
from sqlalchemy.orm import Session

from vigil.store.db import Store
from vigil.store.tables import (
    CaseEventRow,
    CaseListingRow,
    CaseRow,
    ListingRow,
    MemberRow,
    SignalRow,
)

Signals = dict[str, float]  # kind -> the detector's weight
_numbers = itertools.count(1)
OWNER = "acme"


def _ensure_owner(store: Store) -> None:
    with store.session() as session:
        if session.get(MemberRow, OWNER) is None:
            session.add(MemberRow(id=OWNER, name="Acme Brands", kind="brand_owner"))


def decide(
    store: Store,
    outcomes: list[tuple[Signals, str]],
    *,
    at: datetime | None = None,
    listing_pks: list[int] | None = None,
) -> list[int]:
    """One case per outcome (signals, 'confirmed' or 'dismissed'), decided at `at`; with
    `listing_pks`, the cases are about those listings (one each) instead of new ones. The
    listings' ids."""
    _ensure_owner(store)
    at = at or datetime.now(UTC)
    numbers = [next(_numbers) for _ in outcomes]
    with store.session() as session:
        if listing_pks is None:
            listing_pks = _inserted(
                session,
                ListingRow,
                [
                    dict(
                        platform="shopmart", listing_id=f"C{n}", title=f"listing {n}",
                        currency="CNY", condition="new", images=[], verdict="needs_review",
                        risk=0.5, log_odds=0.0, scanned_at=at,
                    )
                    for n in numbers
                ],
            )  # fmt: skip
            signals = [
                dict(
                    listing_pk=pk, detector="test", kind=kind, weight=weight, evidence="-",
                    explanation=f"a {kind} signal", details={},
                )
                for pk, (found, _) in zip(listing_pks, outcomes, strict=True)
                for kind, weight in found.items()
            ]  # fmt: skip
            if signals:
                session.execute(insert(SignalRow), signals)
        case_ids = _inserted(
            session,
            CaseRow,
            [
                dict(
                    reference=f"C-TEST-{n:06d}", title=f"case {n}", state=decision,
                    decision=decision, owner_id=OWNER, origin="manual", opened_by="test",
                    opened_at=at, updated_at=at,
                )
                for n, (_, decision) in zip(numbers, outcomes, strict=True)
            ],
        )  # fmt: skip
        pairs = list(zip(case_ids, listing_pks, outcomes, strict=True))
        session.execute(
            insert(CaseListingRow),
            [dict(case_id=c, listing_pk=pk, added_at=at) for c, pk, _ in pairs],
        )
        session.execute(
            insert(CaseEventRow),
            [
                dict(
                    case_id=c, at=at, actor="test", kind="moved", from_state="open",
                    to_state=decision, details={},
                )
                for c, _, (_, decision) in pairs
            ],
        )  # fmt: skip
    return list(listing_pks)


def _inserted(session: Session, table: type[Any], rows: list[dict[str, Any]]) -> list[int]:
    """Insert `rows`; their new ids, in order."""
    if not rows:
        return []
    statement = insert(table).returning(table.id, sort_by_parameter_order=True)
    return [int(pk) for pk in session.scalars(statement, rows)]


def drawn_outcomes(
    count: int,
    detector_weights: Signals,
    true_scale: dict[str, float],
    *,
    prior: float = -3.0,
    seed: int = 7,
) -> list[tuple[Signals, str]]:
    """Listings carrying each kind with probability 0.4 at its detector weight, decided by a
    world in which kind k truly weighs `true_scale[k]` times what its detector says."""
    rng = np.random.default_rng(seed)
    outcomes = []
    for _ in range(count):
        signals = {k: w for k, w in detector_weights.items() if rng.random() < 0.4}
        log_odds = prior + sum(w * true_scale.get(k, 1.0) for k, w in signals.items())
        confirmed = rng.random() < 1 / (1 + math.exp(-log_odds))
        outcomes.append((signals, "confirmed" if confirmed else "dismissed"))
    return outcomes


def later(minutes: int) -> datetime:
    return datetime.now(UTC) + timedelta(minutes=minutes)
