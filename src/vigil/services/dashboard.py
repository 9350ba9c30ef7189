"""The dashboard: what an actor's visible listings looked like over the last days.

Every figure is a SQL aggregate over the listings the actor may see (`visible_listings`) whose
`scanned_at` falls in the period, so a member's counts never include another member's private
listings. Days are UTC days; the period ends with `today` and has `days` days in all.
"""

from __future__ import annotations

from collections import Counter
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from pydantic import BaseModel, Field
from sqlalchemy import (
    ColumnElement,
    Date,
    and_,
    case,
    cast,
    func,
    literal,
    select,
)
from sqlalchemy.orm import QueryableAttribute, Session, aliased
from sqlalchemy.sql import Subquery

from vigil.domain.people import Actor
from vigil.errors import VigilError
from vigil.regions import province_name
from vigil.services.tenancy import visible_listings, visible_scans
from vigil.store.db import Store
from vigil.store.tables import ListingAccessRow, ListingRow, ScanRow

FLAGGED = ("counterfeit_suspected", "infringement_suspected", "needs_review")
PERIODS = (7, 30, 90)
MAX_DAYS = 366
TOP = 10
RECENT_SCANS = 5
# Bucket keys of listings without a province: free text that did not resolve, or no region.
UNRESOLVED = "unresolved"
NO_REGION = "none"
AREAS = ("urban", "rural")


class DashboardError(VigilError):
    """The dashboard was asked for something it cannot show."""


class Totals(BaseModel):
    """Listings in the period; `flagged` = `confirmed` + `dismissed` + `open`."""

    listings: int = Field(default=0, description="Listings visible to you, any verdict.")
    flagged: int = Field(
        default=0,
        description="Of these, verdict counterfeit_suspected, infringement_suspected "
        "or needs_review.",
    )
    confirmed: int = Field(default=0, description="Flagged listings confirmed in review.")
    dismissed: int = Field(default=0, description="Flagged listings dismissed in review.")
    open: int = Field(default=0, description="Flagged listings awaiting a review decision.")


class DayCount(BaseModel):
    day: date = Field(description="A UTC day.")
    flagged: int


class Count(BaseModel):
    """Flagged listings for one value of a field."""

    key: str | None = Field(description="The platform, brand or category; null when missing.")
    flagged: int


class Ranking(BaseModel):
    """The largest buckets, and what all the others add up to."""

    top: list[Count] = Field(default_factory=list, description=f"At most {TOP}, largest first.")
    other: int = Field(default=0, description="Flagged listings of all the other buckets.")
    other_buckets: int = Field(default=0, description="How many other buckets there are.")


class AreaSplit(BaseModel):
    """Flagged listings by the urban/rural approximation of their region."""

    urban: int = 0
    rural: int = 0
    unknown: int = Field(default=0, description="No region, or not resolved to a county.")

    @property
    def total(self) -> int:
        return self.urban + self.rural + self.unknown


class ProvinceCount(BaseModel):
    code: str = Field(
        description=f"A province code (e.g. 440000), or '{UNRESOLVED}' (a region that could "
        f"not be resolved) or '{NO_REGION}' (no region given)."
    )
    name: str = Field(description="The province's name; the bucket's key for the other two.")
    flagged: int
    areas: AreaSplit


class SellerCount(BaseModel):
    platform: str
    seller_id: str
    name: str | None = Field(description="As the seller's newest listing gives it.")
    flagged: int
    max_risk: float = Field(description="The highest risk among the seller's flagged listings.")


class RecentScan(BaseModel):
    id: str
    status: str
    started_at: datetime
    finished_at: datetime | None
    member_id: str | None = Field(description="Who started it; null for the command line.")
    total: int | None = Field(description="Listings to assess, when known.")
    done: int = Field(description="Listings assessed so far.")
    scanned: int | None = Field(description="Listings assessed, from the finished scan.")
    flagged: int | None = Field(description="Listings the scan flagged, once finished.")


class Dashboard(BaseModel):
    """What your visible listings looked like over a period of UTC days."""

    days: int = Field(description="The period's length in days.")
    start: date = Field(description="Its first UTC day.")
    end: date = Field(description="Its last UTC day (today, unless asked otherwise).")
    totals: Totals
    per_day: list[DayCount] = Field(description="Flagged listings per day; every day present.")
    by_platform: list[Count] = Field(description="Flagged listings per platform.")
    by_brand: Ranking = Field(description="Flagged listings per attributed brand.")
    by_category: Ranking = Field(description="Flagged listings per category.")
    by_province: list[ProvinceCount] = Field(
        description="Flagged listings per province, largest first, then 'unresolved' and 'none'."
    )
    areas: AreaSplit = Field(description="The urban/rural split over all flagged listings.")
    top_sellers: list[SellerCount] = Field(
        description=f"The {TOP} sellers with the most flagged listings."
    )
    recent_scans: list[RecentScan] = Field(
        description=f"Your member's {RECENT_SCANS} latest scans (everyone's, for the operator)."
    )


def dashboard(
    store: Store, actor: Actor, *, days: int = 30, today: date | None = None
) -> Dashboard:
    """The dashboard of `actor` over the `days` UTC days that end with `today`."""
    if not 1 <= days <= MAX_DAYS:
        raise DashboardError(
            f"the period must be between 1 and {MAX_DAYS} days (got {days}); "
            f"try one of {', '.join(map(str, PERIODS))}"
        )
    end = today or datetime.now(UTC).date()
    start = end - timedelta(days=days - 1)
    since = datetime.combine(start, time.min, UTC)
    until = datetime.combine(end + timedelta(days=1), time.min, UTC)
    in_period = and_(
        visible_listings(actor), ListingRow.scanned_at >= since, ListingRow.scanned_at < until
    )
    flagged = and_(in_period, ListingRow.verdict.in_(FLAGGED))
    with store.session() as session:
        totals, per_day = _timeline(session, actor, in_period, start, days)
        provinces, areas = _by_province(session, flagged)
        return Dashboard(
            days=days,
            start=start,
            end=end,
            totals=totals,
            per_day=per_day,
            by_platform=[
                Count(key=k, flagged=n) for k, n in _grouped(session, ListingRow.platform, flagged)
            ],
            by_brand=_ranking(_grouped(session, ListingRow.brand, flagged)),
            by_category=_ranking(_grouped(session, ListingRow.category, flagged)),
            by_province=provinces,
            areas=areas,
            top_sellers=_top_sellers(session, flagged),
            recent_scans=_recent_scans(session, actor),
        )


def _timeline(
    session: Session, actor: Actor, in_period: ColumnElement[bool], start: date, days: int
) -> tuple[Totals, list[DayCount]]:
    """The totals and the flagged listings of each day, from one pass over the period: listings
    counted by day and by review state (no state: not flagged)."""
    day = _utc_day(session).label("day")
    query = select().select_from(ListingRow)
    if actor.is_operator:
        decisions = _alliance_decisions()
        query = query.outerjoin(decisions, decisions.c.listing_pk == ListingRow.id)
        decision: ColumnElement[Any] = case(
            (decisions.c.rank == 2, literal("confirmed")),
            (decisions.c.rank == 1, literal("dismissed")),
            else_=literal("open"),
        )
    else:
        # The member's own access row holds its decision.
        own = aliased(ListingAccessRow)
        query = query.outerjoin(
            own, and_(own.listing_pk == ListingRow.id, own.member_id == actor.member_id)
        )
        decision = own.review.expression
    state = case((ListingRow.verdict.in_(FLAGGED), decision), else_=literal(None)).label("state")
    rows = session.execute(
        query.add_columns(day, state, func.count()).where(in_period).group_by(day, state)
    ).all()
    totals = Totals()
    per_day: Counter[str] = Counter()
    for day_value, review, count in rows:
        totals.listings += count
        if review is None:
            continue
        totals.flagged += count
        per_day[str(day_value)[:10]] += count
        # A state the queue does not know (a newer one) counts as still open.
        slot = review if review in ("confirmed", "dismissed") else "open"
        setattr(totals, slot, getattr(totals, slot) + count)
    every_day = (start + timedelta(days=i) for i in range(days))
    return totals, [DayCount(day=d, flagged=per_day[d.isoformat()]) for d in every_day]


def _alliance_decisions() -> Subquery:
    """Each listing's decision as the operator sees every member's queue: confirmed (rank 2)
    when any member confirmed it, else dismissed (1) when any member dismissed it, else open.

    A join on this aggregate rather than EXISTS subqueries per listing: PostgreSQL's planner
    costs the latter so high that it compiles the query with JIT, which takes seconds."""
    review = ListingAccessRow.review
    rank = case((review == "confirmed", 2), (review == "dismissed", 1), else_=0)
    return (
        select(ListingAccessRow.listing_pk, func.max(rank).label("rank"))
        .group_by(ListingAccessRow.listing_pk)
        .subquery("decisions")
    )


def _utc_day(session: Session) -> ColumnElement[Any]:
    """`scanned_at`'s UTC day (a date on PostgreSQL, 'YYYY-MM-DD...' text on SQLite)."""
    if session.get_bind().dialect.name == "postgresql":
        return cast(func.timezone("UTC", ListingRow.scanned_at), Date)
    # SQLite keeps the UTC time as text, 'YYYY-MM-DD HH:MM:SS.ffffff'.
    return func.substr(ListingRow.scanned_at, 1, 10)


def _grouped(
    session: Session, column: QueryableAttribute[Any], flagged: ColumnElement[bool]
) -> list[tuple[str | None, int]]:
    """Flagged listings per value of `column`, largest first (ties by value, missing last)."""
    count = func.count().label("n")
    rows = session.execute(select(column, count).where(flagged).group_by(column))
    return sorted(rows, key=lambda row: (-row[1], row[0] is None, row[0] or ""))


def _ranking(rows: list[tuple[str | None, int]]) -> Ranking:
    rest = rows[TOP:]
    return Ranking(
        top=[Count(key=k, flagged=n) for k, n in rows[:TOP]],
        other=sum(n for _, n in rest),
        other_buckets=len(rest),
    )


def _by_province(
    session: Session, flagged: ColumnElement[bool]
) -> tuple[list[ProvinceCount], AreaSplit]:
    has_region = case(
        (func.coalesce(func.trim(ListingRow.region), "") == "", literal(0)), else_=literal(1)
    ).label("has_region")
    columns = (ListingRow.province_code, has_region, ListingRow.area)
    rows = session.execute(select(*columns, func.count()).where(flagged).group_by(*columns))
    provinces: dict[str, ProvinceCount] = {}
    overall = AreaSplit()
    for code, region_given, area, count in rows:
        key = code or (UNRESOLVED if region_given else NO_REGION)
        bucket = provinces.get(key)
        if bucket is None:
            name = (province_name(code) or code) if code else key
            bucket = provinces[key] = ProvinceCount(
                code=key, name=name, flagged=0, areas=AreaSplit()
            )
        bucket.flagged += count
        slot = area if area in AREAS else "unknown"
        setattr(bucket.areas, slot, getattr(bucket.areas, slot) + count)
        setattr(overall, slot, getattr(overall, slot) + count)
    special = (UNRESOLVED, NO_REGION)
    ordered = sorted(provinces.values(), key=lambda p: (p.code in special, -p.flagged, p.code))
    return ordered, overall


def _top_sellers(session: Session, flagged: ColumnElement[bool]) -> list[SellerCount]:
    count = func.count().label("n")
    max_risk = func.max(ListingRow.risk).label("max_risk")
    latest = func.max(ListingRow.id).label("latest")
    rows = session.execute(
        select(ListingRow.platform, ListingRow.seller_id, count, max_risk, latest)
        .where(flagged, ListingRow.seller_id.is_not(None))
        .group_by(ListingRow.platform, ListingRow.seller_id)
        .order_by(count.desc(), max_risk.desc(), ListingRow.platform, ListingRow.seller_id)
        .limit(TOP)
    ).all()
    # The seller's name as its newest listing (the last one added) gives it.
    sellers: dict[int, dict[str, Any] | None] = dict(
        session.execute(
            select(ListingRow.id, ListingRow.seller).where(
                ListingRow.id.in_([row.latest for row in rows])
            )
        ).all()
    )
    return [
        SellerCount(
            platform=row.platform,
            seller_id=row.seller_id,
            name=_seller_name(sellers.get(row.latest)),
            flagged=row.n,
            max_risk=row.max_risk,
        )
        for row in rows
    ]


def _seller_name(seller: dict[str, Any] | None) -> str | None:
    name = (seller or {}).get("name")
    return name if isinstance(name, str) and name else None


def _recent_scans(session: Session, actor: Actor) -> list[RecentScan]:
    scans = session.scalars(
        select(ScanRow)
        .where(visible_scans(actor))
        .order_by(ScanRow.started_at.desc(), ScanRow.id)
        .limit(RECENT_SCANS)
    )
    return [_recent(scan) for scan in scans]


def _recent(scan: ScanRow) -> RecentScan:
    summary = scan.summary or {}
    scanned = summary.get("scanned")
    verdicts = summary.get("by_verdict")
    flagged = (
        sum(int(n) for v, n in verdicts.items() if v in FLAGGED)
        if isinstance(verdicts, dict)
        else None
    )
    return RecentScan(
        id=scan.id,
        status=scan.status,
        started_at=_as_utc(scan.started_at),
        finished_at=_as_utc(scan.finished_at) if scan.finished_at else None,
        member_id=scan.member_id,
        total=scan.total,
        done=scan.done,
        scanned=scanned if isinstance(scanned, int) else None,
        flagged=flagged,
    )


def _as_utc(moment: datetime) -> datetime:
    # SQLite hands back naive times; the store writes UTC.
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
