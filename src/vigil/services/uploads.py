"""Listing uploads: a batch of JSON Lines, checked line by line, stored as pending listings.

Each line goes through the same parsing and validation as `vigil scan` (the listing contract,
the same messages). Valid listings are upserted by (platform, listing_id) with the verdict
`pending` until a scan assesses them, and the uploading member is granted access to them.
A batch is one transaction: it is stored whole or not at all, with one audit event.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, cast

from sqlalchemy import (
    ColumnElement,
    Connection,
    String,
    Subquery,
    Table,
    bindparam,
    delete,
    func,
    literal,
    select,
    true,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from vigil.domain.people import Actor
from vigil.errors import VigilError
from vigil.pipeline.assess import KNOWN_FIELDS, parse_record
from vigil.pipeline.readers import MAX_RECORD_BYTES, RawRecord, Rejection
from vigil.store.db import Store, audit
from vigil.store.listings_repo import LISTING_COLUMNS, listing_columns
from vigil.store.tables import ListingAccessRow, ListingRow, SignalRow

# One request carries at most this many listings; larger feeds are sent in several batches.
MAX_LINES = 10_000
SOURCE = "upload"
LISTINGS = cast(Table, ListingRow.__table__)
ACCESS = cast(Table, ListingAccessRow.__table__)
SIGNALS = cast(Table, SignalRow.__table__)
KEY_COLUMNS = ("platform", "listing_id")
# What a listing holds as given (compared to tell an unchanged re-upload from a changed one).
CONTENT_COLUMNS = ("seller_id", "seller", *LISTING_COLUMNS)
# Keys per SELECT: well under SQLite's limit on bound parameters.
LOOKUP_CHUNK = 500
UTF8_BOM = b"\xef\xbb\xbf"


class UploadTooLarge(VigilError):
    """A batch with more listings than one request may carry."""


class EmptyUpload(VigilError):
    """A batch without a single listing."""


@dataclass(slots=True, frozen=True)
class LineProblem:
    line: int
    reason: str


@dataclass
class UploadResult:
    """What became of a batch. `accepted` counts the valid lines; `added`, `updated` and
    `unchanged` count distinct listings (a key repeated in a batch: its last line wins), as
    seen by the uploading member: a listing it could not see before counts as added."""

    accepted: int = 0
    added: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: list[LineProblem] = field(default_factory=list)
    ignored_fields: dict[str, int] = field(default_factory=dict)

    @property
    def lines(self) -> int:
        return self.accepted + len(self.rejected)

    @property
    def warnings(self) -> list[str]:
        if not self.ignored_fields:
            return []
        names = ", ".join(f"{k} ({v:,})" for k, v in self.ignored_fields.items())
        return [f"ignored fields the listing contract does not know: {names}"]

    def as_json(self) -> dict[str, Any]:
        return {
            "accepted": self.accepted,
            "added": self.added,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "rejected": [{"line": p.line, "reason": p.reason} for p in self.rejected],
            "ignored_fields": self.ignored_fields,
            "warnings": self.warnings,
        }


def ingest_batch(store: Store, actor: Actor, lines: bytes | Iterable[bytes]) -> UploadResult:
    """Check every line of a JSON Lines batch and store the valid listings as `pending`.

    Raises `UploadTooLarge` above `MAX_LINES` listings and `EmptyUpload` when there is no
    line at all; bad lines are reported in the result, and the rest is stored."""
    numbered = _numbered_lines(lines)
    result = UploadResult()
    ignored: Counter[str] = Counter()
    rows: dict[tuple[str, str], dict[str, Any]] = {}
    at = datetime.now(UTC)
    for number, line in numbered:
        parsed = _parse_line(number, line)
        if isinstance(parsed, Rejection):
            result.rejected.append(LineProblem(parsed.line, parsed.reason))
            continue
        listing, payload = parsed
        ignored.update(k for k in payload if k not in KNOWN_FIELDS)
        row = _listing_row(listing, at)
        rows[(row["platform"], row["listing_id"])] = row
        result.accepted += 1
    result.ignored_fields = dict(ignored.most_common())
    if rows:
        with store.session() as session:
            _store_rows(session, actor, rows, result)
            audit(
                session,
                action="listings.upload",
                subject=f"{result.accepted} listings",
                actor=actor,
                details={
                    "accepted": result.accepted,
                    "added": result.added,
                    "updated": result.updated,
                    "unchanged": result.unchanged,
                    "rejected": len(result.rejected),
                    "ignored_fields": result.ignored_fields,
                },
            )
    return result


def _numbered_lines(lines: bytes | Iterable[bytes]) -> list[tuple[int, bytes]]:
    """The batch's non-blank lines with their line numbers, refusing a batch too large before
    any of it is parsed."""
    source = lines.split(b"\n") if isinstance(lines, bytes | bytearray) else lines
    numbered: list[tuple[int, bytes]] = []
    for number, line in enumerate(source, start=1):
        if number == 1 and line.startswith(UTF8_BOM):
            line = line[len(UTF8_BOM) :]  # a byte-order mark some editors write first
        if not line.strip():
            continue
        if len(numbered) == MAX_LINES:
            raise UploadTooLarge(
                f"a batch holds at most {MAX_LINES:,} listings (one per line) and this one has "
                "more; split the feed into batches of up to "
                f"{MAX_LINES:,} lines and send each in its own request"
            )
        numbered.append((number, bytes(line)))
    if not numbered:
        raise EmptyUpload(
            "the upload holds no listings; send one JSON object per line "
            "(see docs/formats.md for the listing fields)"
        )
    return numbered


def _parse_line(number: int, line: bytes) -> tuple[Any, dict[str, Any]] | Rejection:
    if len(line) > MAX_RECORD_BYTES:
        # The same rule and message as the command line's reader.
        return Rejection(
            SOURCE,
            number,
            f"record is {len(line):,} bytes; at most {MAX_RECORD_BYTES:,} are accepted",
        )
    return parse_record(RawRecord(SOURCE, number, line))


def _listing_row(listing: Any, at: datetime) -> dict[str, Any]:
    """The `listings` row of an uploaded listing, in the same normal form a scan stores."""
    row = listing_columns(listing.model_dump(mode="json", exclude_none=True))
    row.update(
        verdict="pending", risk=0.0, log_odds=0.0, brand=None, product=None, scan_id=None,
        scanned_at=at,
    )  # fmt: skip
    return row


def _store_rows(
    session: Session,
    actor: Actor,
    rows: dict[tuple[str, str], dict[str, Any]],
    result: UploadResult,
) -> None:
    # Core statements on the session's connection, and no RETURNING over many rows: per-row
    # ORM objects, or PostgreSQL's RETURNING over a thousand rows, cost several times more.
    connection = session.connection()
    existing = _existing(connection, list(rows))
    write: list[dict[str, Any]] = []
    changed: list[int] = []
    kinds: dict[int, str] = {}  # what each stored listing is to a member that could see it
    for key, row in rows.items():
        found = existing.get(key)
        if found is None:
            result.added += 1
            write.append(row)
            continue
        pk, content = found
        if all(row[c] == content[c] for c in CONTENT_COLUMNS):
            kinds[pk] = "unchanged"
        else:
            write.append(row)
            changed.append(pk)
            kinds[pk] = "updated"
    _upsert(connection, write)
    # A changed listing waits for its next scan: the signals of the old text no longer hold.
    for start in range(0, len(changed), LOOKUP_CHUNK):
        chunk = changed[start : start + LOOKUP_CHUNK]
        connection.execute(delete(SIGNALS).where(SIGNALS.c.listing_pk.in_(chunk)))
    granted: set[int] = set()
    if actor.member_id is not None:
        granted = _grant_uploaded(connection, actor.member_id, list(rows))
    for pk, kind in kinds.items():
        if pk in granted and not actor.is_operator:
            result.added += 1  # new to this member, whoever stored it before
        else:
            setattr(result, kind, getattr(result, kind) + 1)


def _by_platform(keys: list[tuple[str, str]]) -> Iterator[tuple[str, list[str]]]:
    """Keys as (platform, listing ids) chunks: a feed is mostly one platform."""
    grouped: dict[str, list[str]] = defaultdict(list)
    for platform, listing_id in keys:
        grouped[platform].append(listing_id)
    for platform, ids in grouped.items():
        for start in range(0, len(ids), LOOKUP_CHUNK):
            yield platform, ids[start : start + LOOKUP_CHUNK]


def _matching(
    connection: Connection, platform: str, ids: list[str], *columns: ColumnElement[Any]
) -> Subquery:
    """`columns` of the stored listings with these keys, found through the (platform,
    listing_id) index on both databases.

    On PostgreSQL each key is looked up on its own (a LATERAL subquery with LIMIT 1, under an
    array of keys sent as one parameter): with `platform = ? AND listing_id IN (...)` the
    planner of a young table, without statistics yet, reads every listing of the platform."""
    if connection.dialect.name != "postgresql":
        return (
            select(*columns)
            .where(LISTINGS.c.platform == platform, LISTINGS.c.listing_id.in_(ids))
            .subquery("matching")
        )
    keys = (
        func.unnest(bindparam("ids", ids, type_=postgresql.ARRAY(String)))
        .table_valued("listing_id")
        .render_derived(name="keys")
    )
    match = (
        select(*columns)
        .where(LISTINGS.c.platform == platform, LISTINGS.c.listing_id == keys.c.listing_id)
        .limit(1)
        .lateral("match")
    )
    return select(match).select_from(keys).join(match, true()).subquery("matching")


def _existing(
    connection: Connection, keys: list[tuple[str, str]]
) -> dict[tuple[str, str], tuple[int, dict[str, Any]]]:
    """Stored listings among `keys`: their primary key and what they hold."""
    columns = [LISTINGS.c.id, LISTINGS.c.listing_id, *(LISTINGS.c[c] for c in CONTENT_COLUMNS)]
    found: dict[tuple[str, str], tuple[int, dict[str, Any]]] = {}
    for platform, ids in _by_platform(keys):
        matching = _matching(connection, platform, ids, *columns)
        for record in connection.execute(select(matching)).mappings():
            content = {c: record[c] for c in CONTENT_COLUMNS}
            found[(platform, record["listing_id"])] = (record["id"], content)
    return found


def _insert(connection: Connection, table: Table) -> Any:
    dialect = postgresql if connection.dialect.name == "postgresql" else sqlite
    return dialect.insert(table)


def _upsert(connection: Connection, rows: list[dict[str, Any]]) -> None:
    """Insert new listings and overwrite changed ones (back to `pending`)."""
    if not rows:
        return
    insert = _insert(connection, LISTINGS)
    update = {c: getattr(insert.excluded, c) for c in rows[0] if c not in KEY_COLUMNS}
    statement = insert.on_conflict_do_update(
        index_elements=[LISTINGS.c.platform, LISTINGS.c.listing_id], set_=update
    )
    connection.execute(statement, rows)


def _grant_uploaded(
    connection: Connection, member_id: str, keys: list[tuple[str, str]]
) -> set[int]:
    """Let the uploading member see the batch's listings; a grant it already has (for any
    reason, with its review state) is kept as it is. Returns the listings newly granted."""
    granted: set[int] = set()
    for platform, ids in _by_platform(keys):
        matching = _matching(connection, platform, ids, LISTINGS.c.id)
        chosen = select(
            matching.c.id, literal(member_id, String), literal("uploaded", String)
        ).where(matching.c.id.is_not(None))  # SQLite reads ON CONFLICT after a WHERE only
        statement = (
            _insert(connection, ACCESS)
            .from_select(["listing_pk", "member_id", "reason"], chosen)
            .on_conflict_do_nothing()
            .returning(ACCESS.c.listing_pk)
        )
        granted.update(connection.execute(statement).scalars())
    return granted
