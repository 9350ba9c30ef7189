"""The whole filtered set of assessments as CSV or JSON Lines, produced as it is read."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator
from dataclasses import asdict
from datetime import date, datetime
from typing import Any

import orjson

from vigil.domain.people import Actor
from vigil.services.assessments.errors import AssessmentQueryError
from vigil.services.assessments.params import Filters, Sort, utc
from vigil.services.assessments.query import AssessedListing, iter_assessments
from vigil.store.db import Store, audit

EXPORT_FORMATS = ("csv", "jsonl")
CSV_COLUMNS = (
    "id", "platform", "listing_id", "verdict", "risk", "brand", "product", "scanned_at",
    "review", "reviewed_by", "reviewed_at", "title", "price", "currency", "condition",
    "seller_id", "seller_name", "region", "province_code", "city_code", "county_code", "area",
    "category", "url", "signals",
)  # fmt: skip
# A cell starting with one of these is a formula to spreadsheet programs: listing text must
# never run as one on an analyst's machine.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _rfc3339(moment: datetime | None) -> str | None:
    return utc(moment).isoformat().replace("+00:00", "Z") if moment is not None else None


def assessment_record(item: AssessedListing) -> dict[str, Any]:
    """One JSON Lines record: the Assessment contract's fields, then the listing's."""
    return {
        "platform": item.platform,
        "listing_id": item.listing_id,
        "verdict": item.verdict,
        "risk": item.risk,
        "brand": item.brand,
        "product": item.product,
        "signals": [
            {
                "detector": s.detector,
                "kind": s.kind,
                "asset": s.asset,
                "weight": s.weight,
                "evidence": s.evidence,
                "explanation": s.explanation,
                "details": s.details,
            }
            for s in item.signals
        ],
        "scanned_at": _rfc3339(item.scanned_at),
        "log_odds": item.log_odds,
        "id": item.id,
        "title": item.title,
        "description": item.description,
        "url": item.url,
        "price": item.price,
        "currency": item.currency,
        "condition": item.condition,
        "seller": item.seller,
        "region": item.region,
        "province_code": item.province_code,
        "city_code": item.city_code,
        "county_code": item.county_code,
        "area": item.area,
        "category": item.category,
        "images": item.images,
        "observed_at": item.observed_at,
        "review": item.review,
        "reviewed_by": item.reviewed_by,
        "reviewed_at": _rfc3339(item.reviewed_at),
    }


def _cell(value: Any) -> Any:
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


def csv_row(item: AssessedListing) -> list[Any]:
    signals = "|".join(f"{s.kind}({s.weight:g})" for s in item.signals)
    values = {
        **item.model_dump(include=set(CSV_COLUMNS)),
        "scanned_at": _rfc3339(item.scanned_at),
        "reviewed_at": _rfc3339(item.reviewed_at),
        "seller_name": item.seller_name,
        "signals": signals,
    }
    return [_cell(values.get(column)) for column in CSV_COLUMNS]


def _jsonl(items: Iterable[AssessedListing]) -> Iterator[bytes]:
    buffer = bytearray()
    for item in items:
        buffer += orjson.dumps(assessment_record(item), option=orjson.OPT_APPEND_NEWLINE)
        if len(buffer) >= 1 << 16:
            yield bytes(buffer)
            buffer.clear()
    if buffer:
        yield bytes(buffer)


def _csv(items: Iterable[AssessedListing]) -> Iterator[bytes]:
    text = io.StringIO()
    writer = csv.writer(text, lineterminator="\r\n")
    # The byte-order mark tells spreadsheet programs the file is UTF-8 (Chinese text).
    text.write("\ufeff")
    writer.writerow(CSV_COLUMNS)
    for item in items:
        writer.writerow(csv_row(item))
        if text.tell() >= 1 << 16:
            yield text.getvalue().encode()
            text.seek(0)
            text.truncate()
    yield text.getvalue().encode()


def export(store: Store, actor: Actor, filters: Filters, sort: Sort, fmt: str) -> Iterator[bytes]:
    """The whole filtered set as CSV or JSON Lines, produced as it is read. The export is
    recorded in the audit log before the first byte."""
    if fmt not in EXPORT_FORMATS:
        raise AssessmentQueryError(f"format: expected csv or jsonl, got {fmt[:20]!r}")
    with store.session() as session:
        audit(
            session,
            action="assessments.export",
            subject=f"{fmt} export",
            actor=actor,
            details={"format": fmt, "sort": str(sort), "filters": _plain(filters)},
        )
    items = iter_assessments(store, actor, filters, sort)
    return _csv(items) if fmt == "csv" else _jsonl(items)


def _plain(filters: Filters) -> dict[str, Any]:
    return {
        k: (v.isoformat() if isinstance(v, date) else list(v) if isinstance(v, tuple) else v)
        for k, v in asdict(filters).items()
        if v not in (None, ())
    }
