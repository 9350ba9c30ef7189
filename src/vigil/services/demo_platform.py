"""The demo's web platform: the sample alliance's members with people to sign in as.

The operator is added to the sample's brand owners, one marketplace member per platform in the
feed uploads its platform's listings through the same service the API uses, and a scan run per
marketplace assesses them, so that every page has real data behind it.
"""

from __future__ import annotations

import secrets
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

import orjson
from sqlalchemy import func, select

from vigil.domain.people import Actor, Role
from vigil.domain.registry import MemberKind
from vigil.services import accounts
from vigil.services.scan_runs import ScanRunner
from vigil.services.uploads import ingest_batch
from vigil.settings import Settings
from vigil.store.db import Store, cli_actor
from vigil.store.tables import ListingAccessRow, ListingRow, MemberRow, UserRow

OPERATOR = ("alliance", "Anti-Counterfeiting Alliance")
# How the sample's platforms write their own names.
PLATFORM_NAMES = {
    "jd": "JD.com", "taobao": "Taobao", "tmall": "Tmall", "pinduoduo": "Pinduoduo",
    "xianyu": "Xianyu", "ebay": "eBay", "amazon": "Amazon",
}  # fmt: skip
# A platform's marketplace member is named after it: "jd-market".
MARKET_SUFFIX = "-market"
UPLOAD_BATCH = 5_000  # lines per upload, below the API's 10,000 per request


@dataclass(frozen=True, slots=True)
class DemoUser:
    email: str
    password: str
    member_id: str
    member_name: str
    kind: str
    role: str


def _ensure_member(store: Store, member_id: str, name: str, kind: MemberKind) -> None:
    with store.session() as session:
        if session.get(MemberRow, member_id) is not None:
            return
    accounts.create_member(
        store, member_id=member_id, name=name, kind=kind.value, actor=cli_actor()
    )


def _ensure_user(store: Store, member_id: str, email: str, name: str, role: Role) -> str:
    """The user, created or with a fresh password; returns the password."""
    password = secrets.token_urlsafe(9)
    with store.session() as session:
        user_id = session.scalar(select(UserRow.id).where(UserRow.email == email))
    if user_id is None:
        accounts.create_user(
            store,
            member_id=member_id,
            email=email,
            name=name,
            role=role.value,
            password=password,
            actor=cli_actor(),
        )
    else:
        accounts.reset_password(store, user_id, new=password, actor=cli_actor())
    return password


def _feed_by_platform(listings: Path) -> dict[str, list[bytes]]:
    """The sample's lines by platform, image paths made absolute: an upload has no file for
    relative paths to be read against."""
    lines: dict[str, list[bytes]] = defaultdict(list)
    folder = listings.resolve().parent
    with listings.open("rb") as handle:
        for line in handle:
            if line.strip():
                record = orjson.loads(line)
                if record.get("images"):
                    record["images"] = [_absolute(ref, folder) for ref in record["images"]]
                    line = orjson.dumps(record, option=orjson.OPT_APPEND_NEWLINE)
                lines[str(record["platform"])].append(line)
    return lines


def _absolute(ref: str, folder: Path) -> str:
    if "://" in ref or Path(ref).is_absolute():
        return ref
    return str(folder / ref)


def _pending(store: Store, member_id: str) -> int:
    with store.session() as session:
        count = session.scalar(
            select(func.count())
            .select_from(ListingAccessRow)
            .join(ListingRow, ListingRow.id == ListingAccessRow.listing_pk)
            .where(ListingAccessRow.member_id == member_id, ListingRow.verdict == "pending")
        )
    return count or 0


def seed_platform(store: Store, settings: Settings, listings: Path) -> list[DemoUser]:
    """Members, uploads, scans and demo users for the sample in `listings`."""
    _ensure_member(store, *OPERATOR, MemberKind.OPERATOR)
    # The sample's photos are files the operator just wrote: its scan runs may read them.
    runner = ScanRunner(store, settings, local_images=True)
    markets: dict[str, tuple[int, str]] = {}
    try:
        for platform, lines in sorted(_feed_by_platform(listings).items()):
            member_id = f"{platform}{MARKET_SUFFIX}"
            market_name = f"{PLATFORM_NAMES.get(platform, platform.title())} trust & safety"
            _ensure_member(store, member_id, market_name, MemberKind.MARKETPLACE)
            uploader = Actor(
                name=f"demo:{member_id}",
                member_id=member_id,
                member_kind=MemberKind.MARKETPLACE,
                role=Role.ADMIN,
                source="cli",
            )
            for start in range(0, len(lines), UPLOAD_BATCH):
                ingest_batch(store, uploader, b"".join(lines[start : start + UPLOAD_BATCH]))
            if _pending(store, member_id):  # none when the demo runs again on the same home
                run = runner.start(uploader, scope="pending")
                runner.wait(run.id)
            markets[member_id] = (len(lines), market_name)
    finally:
        runner.shutdown()
    with store.session() as session:
        brand_owner = session.execute(
            select(ListingAccessRow.member_id, MemberRow.name)
            .join(MemberRow, MemberRow.id == ListingAccessRow.member_id)
            .where(ListingAccessRow.reason == "brand")
            .group_by(ListingAccessRow.member_id, MemberRow.name)
            .order_by(func.count().desc(), ListingAccessRow.member_id)
            .limit(1)
        ).first()
    chosen = [
        (OPERATOR[0], OPERATOR[1], MemberKind.OPERATOR, Role.ADMIN, "operator@alliance.demo"),
    ]
    if brand_owner is not None:
        owner_id, owner_name = brand_owner
        chosen.append(
            (owner_id, owner_name, MemberKind.BRAND_OWNER, Role.ANALYST, f"analyst@{owner_id}.demo")
        )
    if markets:
        market = max(markets, key=lambda m: (markets[m][0], m))
        chosen.append(
            (market, markets[market][1], MemberKind.MARKETPLACE, Role.ANALYST,
             f"analyst@{market}.demo")
        )  # fmt: skip
    users = []
    for member_id, member_name, kind, role, email in chosen:
        password = _ensure_user(store, member_id, email, f"Demo {role.value}", role)
        users.append(DemoUser(email, password, member_id, member_name, kind.value, role.value))
    return users
