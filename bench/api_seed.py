"""Seeding the web API benchmark's store with flagged listings, straight into the tables.

Storing 100k *flagged* listings through the real path means scanning about 400k sample
listings (a quarter of them come out flagged), minutes on this machine. The query benchmark
only needs the rows a scan leaves behind, so this writes them with SQLAlchemy Core bulk
inserts: listing text, sellers and regions from sample listings (regions resolved as an upload
does), brand and model from the sample's truth labels, and synthetic but plausible
assessments — verdicts 55% counterfeit_suspected / 10% infringement_suspected / 35%
needs_review, risk within each verdict's configured band, scans spread over 90 days, one to
five signals per listing in the scan's own format, and review decisions on some of them.
"""

from __future__ import annotations

import math
import random
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, cast

import orjson
from sqlalchemy import Table, func, insert, select, text

from vigil.store.db import Store, cli_actor
from vigil.store.listings_repo import listing_columns
from vigil.store.tables import ListingAccessRow, ListingRow, ScanRow, SignalRow

LISTINGS = cast(Table, ListingRow.__table__)
SIGNALS = cast(Table, SignalRow.__table__)
ACCESS = cast(Table, ListingAccessRow.__table__)
SCANS = cast(Table, ScanRow.__table__)
VERDICT_WEIGHTS = {"counterfeit_suspected": 55, "infringement_suspected": 10, "needs_review": 35}
# Risk bands per verdict (config.yaml: both suspicions from 0.80, needs_review from 0.40).
RISK_BANDS = {
    "counterfeit_suspected": (0.80, 0.999),
    "infringement_suspected": (0.80, 0.98),
    "needs_review": (0.40, 0.7999),
}
WORDING = ("高仿", "精仿", "原单", "1:1", "一比一", "AAA", "replica", "super copy", "A货", "复刻")
BRANDS_MEMBER = "bench-brands"
CHUNK = 5_000


def _signal(
    detector: str, kind: str, asset: str | None, weight: float, evidence: str, explanation: str,
    **details: Any,
) -> dict[str, Any]:  # fmt: skip
    return {
        "detector": detector,
        "kind": kind,
        "asset": asset,
        "weight": weight,
        "evidence": evidence,
        "explanation": explanation,
        "details": details,
    }


def _signals(
    rng: random.Random, verdict: str, row: dict[str, Any], log_odds: float
) -> list[dict[str, Any]]:
    """One to five signals whose weights add up to the listing's log-odds over the prior."""
    brand, product, title = row["brand"], row["product"], row["title"]
    found: list[dict[str, Any]] = []
    if brand:
        start = max(0, title.find(brand))
        if verdict == "counterfeit_suspected" and rng.random() < 0.5:
            found.append(_signal(
                "brand", "brand_variant", f"brand:{brand}", 0.0, brand,
                f"The title writes a look-alike spelling of the registered brand {brand}.",
                variant=rng.choice(("homoglyph", "separator", "homophone", "pinyin")),
                alias=brand, field="title", start=start, end=start + len(brand),
            ))  # fmt: skip
        else:
            found.append(_signal(
                "brand", "brand_mention", f"brand:{brand}", 0.0, brand,
                f"The title names the registered brand {brand}.",
                variant=None, alias=brand, field="title", start=start, end=start + len(brand),
            ))  # fmt: skip
    if brand and product:
        found.append(_signal(
            "brand", "product_model", f"product:{brand}/{product}", 0.0, product,
            f"The title names {product}, a registered model of {brand}.",
            variant=None, alias=product, field="title", start=0, end=len(product),
            product=product,
        ))  # fmt: skip
    if verdict == "counterfeit_suspected" and rng.random() < 0.7:
        term = rng.choice(WORDING)
        found.append(_signal(
            "wording", "counterfeit_wording", f"brand:{brand}" if brand else None, 0.0, term,
            f'The title says "{term}", wording often used for imitations.',
            term=term.lower(), lang="zh" if not term.isascii() else "en", source="shipped",
            field="title", position=0, lexicon_weight=3.6, role_factor=1.0, capped=False,
        ))  # fmt: skip
    if verdict != "needs_review" and row["price"] and rng.random() < 0.5:
        ratio = rng.uniform(0.05, 0.4)
        msrp = round(row["price"] / ratio, 2)
        found.append(_signal(
            "price", "price_below_msrp", f"product:{brand}/{product}" if product else None, 0.0,
            f"{row['price']:,.0f} vs MSRP {msrp:,.0f} ({ratio:.0%})",
            f"Offered at {ratio:.0%} of its MSRP; genuine units rarely sell below 70%.",
            price=row["price"], currency=row["currency"], price_base=row["price"],
            msrp_base=msrp, base_currency="CNY", ratio=ratio, band_below=0.4,
            condition=row["condition"],
        ))  # fmt: skip
    if verdict == "infringement_suspected":
        found.append(_signal(
            "text", "copyrighted_text", f"work:{brand or 'unknown'}", 0.0, title[:40],
            "The description copies a registered copyrighted text.",
            similarity=round(rng.uniform(0.8, 1.0), 3),
        ))  # fmt: skip
    if rng.random() < 0.05:
        found.append(_signal(
            "seller", "unverified_official_claim", f"brand:{brand}" if brand else None, 0.4,
            "官方旗舰店", "The shop claims official status, which the registry does not back.",
            claim="官方旗舰店", names_brand=bool(brand), brand_registers_sellers_here=False,
            platform=row["platform"],
        ))  # fmt: skip
    if not found:
        found.append(_signal(
            "wording", "counterfeit_wording", None, 0.0, "原单",
            'The title says "原单", wording often used for imitations.',
            term="原单", lang="zh", source="shipped", field="title", position=0,
        ))  # fmt: skip
    # Spread the evidence (log-odds over the prior of -3) over the signals.
    share = (log_odds + 3.0) / len(found)
    for signal in found:
        signal["weight"] = round(signal["weight"] + share, 2)
    return found


def _listing(record: dict[str, Any]) -> dict[str, Any]:
    """The listing's columns in the normal form a scan stores."""
    return listing_columns(record)


def _chunks(items: Sequence[Any], size: int) -> Iterator[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def seed_flagged(
    store: Store,
    lines: Sequence[bytes],
    truth: dict[tuple[str, str], dict[str, Any]],
    *,
    member_id: str,
    reviewer: str,
    seed: int = 11,
    days: int = 90,
) -> dict[str, Any]:
    """Store one flagged listing per line (visible to `member_id`, as its uploads), with
    signals, the scans that "found" them, and a second member's brand grants on 40%."""
    from vigil.services.accounts import create_member

    rng = random.Random(seed)
    create_member(
        store, member_id=BRANDS_MEMBER, name="Bench Brand Owner", kind="brand_owner",
        actor=cli_actor(),
    )  # fmt: skip
    today = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    scan_days = [today - timedelta(days=d) for d in range(days)]
    scan_ids = [f"bench-{day:%Y%m%d}" for day in scan_days]
    verdicts = list(VERDICT_WEIGHTS)
    weights = list(VERDICT_WEIGHTS.values())
    rows: list[dict[str, Any]] = []
    signals: list[dict[str, Any]] = []
    access: list[dict[str, Any]] = []
    per_scan = dict.fromkeys(scan_ids, 0)
    brands = [b["brand"] for b in truth.values() if b.get("brand")] or ["Acme"]
    with store.session() as session:
        first = (session.scalar(select(func.max(ListingRow.id))) or 0) + 1
    for offset, line in enumerate(lines):
        record = orjson.loads(line)
        row = _listing(record)
        label = truth.get((row["platform"], row["listing_id"]), {})
        verdict = rng.choices(verdicts, weights)[0]
        low, high = RISK_BANDS[verdict]
        risk = round(low + (high - low) * rng.random() ** 0.7, 4)
        log_odds = round(math.log(risk / (1 - risk)), 4)
        day = rng.randrange(days)
        scanned_at = scan_days[day] + timedelta(seconds=rng.randrange(2 * 3600, 6 * 3600))
        pk = first + offset
        row.update(
            id=pk, verdict=verdict, risk=risk, log_odds=log_odds,
            brand=label.get("brand") or rng.choice(brands), product=label.get("product"),
            scan_id=scan_ids[day], scanned_at=scanned_at,
        )  # fmt: skip
        per_scan[scan_ids[day]] += 1
        rows.append(row)
        signals.extend({"listing_pk": pk, **s} for s in _signals(rng, verdict, row, log_odds))
        grant: dict[str, Any] = {
            "listing_pk": pk, "member_id": member_id, "reason": "uploaded", "review": "open",
            "reviewed_by": None, "reviewed_at": None,
        }  # fmt: skip
        decided = rng.random()
        if day >= 3 and decided < 0.12:  # older listings: some confirmed, some dismissed
            grant.update(
                review="confirmed" if decided < 0.08 else "dismissed",
                reviewed_by=reviewer,
                reviewed_at=scanned_at + timedelta(hours=rng.randrange(2, 48)),
            )
        access.append(grant)
        if rng.random() < 0.4:
            access.append({
                "listing_pk": pk, "member_id": BRANDS_MEMBER, "reason": "brand",
                "review": "open", "reviewed_by": None, "reviewed_at": None,
            })  # fmt: skip
    scans = [
        {
            "id": scan_id,
            "started_at": day,
            "finished_at": day + timedelta(hours=6),
            "status": "finished",
            "inputs": [f"feeds/{day:%Y-%m-%d}.jsonl"],
            "summary": {"flagged": per_scan[scan_id]},
            "member_id": member_id,
            "total": per_scan[scan_id],
            "done": per_scan[scan_id],
        }
        for scan_id, day in zip(scan_ids, scan_days, strict=True)
    ]
    with store.session() as session:
        connection = session.connection()
        connection.execute(insert(SCANS), scans)
        for chunk in _chunks(rows, CHUNK):
            connection.execute(insert(LISTINGS), list(chunk))
        for chunk in _chunks(signals, CHUNK * 3):
            connection.execute(insert(SIGNALS), list(chunk))
        for chunk in _chunks(access, CHUNK * 2):
            connection.execute(insert(ACCESS), list(chunk))
        if connection.dialect.name == "postgresql":
            # Ids were given explicitly: move the sequence past them for later inserts.
            connection.execute(
                text(
                    "SELECT setval(pg_get_serial_sequence('listings', 'id'), "
                    "(SELECT max(id) FROM listings))"
                )
            )
    store.analyze()  # as a scan ends
    if store.engine.dialect.name == "postgresql":
        # Autovacuum would vacuum and analyze these tables within a minute or so (it is off on
        # the benchmark machine's server): do it now, so that every run measures a settled
        # database, with statistics and the visibility map that index-only scans read.
        with store.engine.connect() as connection:
            autocommit = connection.execution_options(isolation_level="AUTOCOMMIT")
            autocommit.execute(text("VACUUM (ANALYZE)"))
    by_verdict: dict[str, int] = {}
    for row in rows:
        by_verdict[row["verdict"]] = by_verdict.get(row["verdict"], 0) + 1
    return {
        "listings": len(rows),
        "signals": len(signals),
        "access_rows": len(access),
        "scans": len(scans),
        "by_verdict": by_verdict,
        "first_pk": first,
    }
