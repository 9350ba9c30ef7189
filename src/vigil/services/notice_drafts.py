"""Drafting a takedown notice from a case: its type, rights, listings, evidence and words.

A notice cites the rights (the brand's registered marks, or the copied works), the case's
listings on the marketplace with what was found in them, and the case's evidence items by
digest and log index with the signed tree head that covers them. `vigil.services.notices`
sends what is drafted here.
"""

from __future__ import annotations

import base64
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from vigil.domain.cases import CaseState, NoticeType, PartyRole
from vigil.domain.people import Actor
from vigil.errors import VigilError
from vigil.notices.config import NoticeConfig, load_notice_config, load_texts
from vigil.notices.document import (
    LANGUAGES,
    EvidenceCitation,
    Finding,
    Language,
    MarkRight,
    NoticeDocument,
    NoticeListing,
    Recipient,
    RequestedAction,
    Rights,
    Sender,
    TreeHeadCitation,
    WorkRight,
)
from vigil.notices.render import format_moment
from vigil.services.cases import (
    CaseConfig,
    CaseNotFound,
    case_for,
    load_case_config,
)
from vigil.store.db import Store
from vigil.store.tables import (
    BrandRow,
    CaseListingRow,
    CasePartyRow,
    CaseRow,
    EvidenceItemRow,
    EvidenceTreeHeadRow,
    ListingRow,
    MemberRow,
    NoticeRow,
    SignalRow,
    UserRow,
    WorkRow,
    as_utc,
)

MAX_NOTE = 4_000
# A case's notice may go out in its first state after the decision, or as a follow-up after
# the marketplace's answer (a refusal or a partial takedown).
SENDABLE = (CaseState.CONFIRMED, CaseState.ACTIONED)


class NoticeError(VigilError):
    """A notice cannot be drafted, sent or answered as asked; the message says why."""


class NoticeNotFound(CaseNotFound):
    """No such notice, or one of a case the actor is not party to: the two look the same."""


class NoticeConflict(NoticeError):
    """The notice or its case is not in a state that allows this (answered already, say)."""


# --- drafting ------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Listing:
    row: ListingRow
    signals: list[SignalRow]


def _case_listings(session: Session, case: CaseRow) -> list[_Listing]:
    rows = list(
        session.scalars(
            select(ListingRow)
            .join(CaseListingRow, CaseListingRow.listing_pk == ListingRow.id)
            .where(CaseListingRow.case_id == case.id)
            .order_by(ListingRow.id)
        )
    )
    signals: dict[int, list[SignalRow]] = {row.id: [] for row in rows}
    if rows:
        found = session.scalars(
            select(SignalRow)
            .where(SignalRow.listing_pk.in_(list(signals)))
            .order_by(SignalRow.listing_pk, SignalRow.weight.desc(), SignalRow.id)
        )
        for signal in found:
            signals[signal.listing_pk].append(signal)
    return [_Listing(row, signals[row.id]) for row in rows]


def _platform(case: CaseRow, listings: Sequence[_Listing]) -> str:
    """The marketplace the notice goes to: the case's, else the one most of its listings are on
    (a notice speaks to one marketplace; listings elsewhere need their own case)."""
    if case.platform:
        return case.platform
    counts = Counter(item.row.platform for item in listings)
    return min(counts, key=lambda p: (-counts[p], p))


def infer_type(listings: Sequence[_Listing], config: NoticeConfig) -> NoticeType:
    """Copyright when the listings copy works and show nothing of a fake product; counterfeit
    when a listing is judged a suspected counterfeit; trademark otherwise."""
    kinds = {s.kind for item in listings for s in item.signals if s.weight > 0}
    if kinds & set(config.copyright_kinds) and not kinds & set(config.counterfeit_kinds):
        return NoticeType.COPYRIGHT
    if any(item.row.verdict == "counterfeit_suspected" for item in listings):
        return NoticeType.COUNTERFEIT
    return NoticeType.TRADEMARK


def _findings(item: _Listing, limit: int) -> list[Finding]:
    raising = [s for s in item.signals if s.weight > 0]
    return [
        Finding(kind=s.kind, explanation=s.explanation, evidence=s.evidence or None)
        for s in raising[:limit]
    ]


def _notice_listing(item: _Listing, limit: int) -> NoticeListing:
    row = item.row
    seller = row.seller or {}
    return NoticeListing(
        platform=row.platform,
        listing_id=row.listing_id,
        url=row.url,
        title=row.title,
        seller_id=row.seller_id,
        seller_name=row.seller_name or (seller.get("name") if isinstance(seller, dict) else None),
        price=row.price,
        currency=row.currency,
        findings=_findings(item, limit),
    )


def _marks(session: Session, case: CaseRow, listings: Sequence[_Listing]) -> Rights:
    names = [case.brand] if case.brand else sorted({i.row.brand for i in listings if i.row.brand})
    marks: list[MarkRight] = []
    for name in names:
        brand = session.scalar(select(BrandRow).where(BrandRow.name == name))
        if brand is None:
            continue
        for mark in brand.entry.get("marks") or []:
            if isinstance(mark, dict) and mark.get("number"):
                marks.append(
                    MarkRight(
                        brand=brand.name,
                        number=str(mark["number"]),
                        jurisdiction=str(mark.get("jurisdiction") or "—"),
                        classes=[int(c) for c in mark.get("classes") or []],
                    )
                )
    return Rights(brand=", ".join(names) or None, marks=marks)


def _works(session: Session, listings: Sequence[_Listing], config: NoticeConfig) -> Rights:
    """The works the listings copy, named by their signals (`work:<owner>/<title>`)."""
    seen: dict[tuple[str, str], WorkRight] = {}
    for item in listings:
        for signal in item.signals:
            if signal.kind not in config.copyright_kinds or not signal.asset:
                continue
            owner, _, title = signal.asset.removeprefix("work:").partition("/")
            if not title or (owner, title) in seen:
                continue
            work = session.scalar(
                select(WorkRow).where(WorkRow.owner_id == owner, WorkRow.title == title)
            )
            member = session.get(MemberRow, owner)
            seen[(owner, title)] = WorkRight(
                title=title,
                owner=owner,
                owner_name=member.name if member else owner,
                kind=str(work.entry.get("kind")) if work and work.entry.get("kind") else None,
            )
    brands = sorted({i.row.brand for i in listings if i.row.brand})
    return Rights(brand=", ".join(brands) or None, works=list(seen.values()))


def _evidence(
    session: Session, case: CaseRow
) -> tuple[list[EvidenceCitation], TreeHeadCitation | None]:
    rows = session.execute(
        select(EvidenceItemRow, ListingRow.listing_id)
        .outerjoin(ListingRow, ListingRow.id == EvidenceItemRow.listing_pk)
        .where(EvidenceItemRow.case_id == case.id)
        .order_by(
            EvidenceItemRow.log_index.is_(None), EvidenceItemRow.log_index, EvidenceItemRow.id
        )
    ).all()
    items = [
        EvidenceCitation(
            kind=row.kind,
            sha256=row.sha256,
            log_index=row.log_index,
            listing_id=listing_id,
            captured_at=as_utc(row.captured_at) or datetime.now(UTC),
        )
        for row, listing_id in rows
    ]
    indexes = [item.log_index for item in items if item.log_index is not None]
    if not indexes:
        return items, None
    head = session.scalars(
        select(EvidenceTreeHeadRow)
        .where(EvidenceTreeHeadRow.size > max(indexes))
        .order_by(EvidenceTreeHeadRow.size.desc(), EvidenceTreeHeadRow.id.desc())
        .limit(1)
    ).first()
    if head is None:
        return items, None
    return items, TreeHeadCitation(
        size=head.size,
        root_hash=head.root.hex(),
        timestamp=as_utc(head.timestamp) or datetime.now(UTC),
        key_id=head.key_id,
        signature=base64.b64encode(head.signature).decode("ascii"),
    )


def _sender(session: Session, actor: Actor, case: CaseRow) -> Sender:
    member = session.get(MemberRow, case.owner_id)
    user = session.get(UserRow, actor.user_id) if actor.user_id is not None else None
    name = member.name if member else case.owner_id
    # The person who sends it answers for it; from the command line, the member itself.
    return Sender(
        member_id=case.owner_id,
        name=name,
        contact_name=user.name if user else name,
        contact_email=user.email if user else None,
    )


def _recipient(
    session: Session, case: CaseRow, platform: str, language: str, notices: NoticeConfig,
    cases: CaseConfig,
) -> Recipient:  # fmt: skip
    marketplace_id = session.scalar(
        select(CasePartyRow.member_id)
        .where(CasePartyRow.case_id == case.id, CasePartyRow.role == PartyRole.MARKETPLACE.value)
        .order_by(CasePartyRow.member_id)
        .limit(1)
    ) or cases.marketplace(platform)
    member = session.get(MemberRow, marketplace_id) if marketplace_id else None
    return Recipient(
        platform=platform,
        name=member.name if member else notices.platform_name(platform, language),
        marketplace_id=member.id if member else None,
    )


def next_reference(session: Session, case: CaseRow) -> str:
    """N-<year>-<number>-<n>: the case's number and the notice's place among its notices."""
    count = session.scalar(select(func.count()).where(NoticeRow.case_id == case.id)) or 0
    return f"N-{case.reference.removeprefix('C-')}-{count + 1}"


@dataclass(frozen=True)
class NoticeSetup:
    """What drafting reads besides the store: the notice and case configuration, the words."""

    notices: NoticeConfig
    cases: CaseConfig
    texts: dict[str, dict[str, Any]]
    home: Path | None


def notice_setup(home: Path | None) -> NoticeSetup:
    """The installation's notice setup (shipped files with the home's overrides)."""
    return NoticeSetup(load_notice_config(home), load_case_config(home), load_texts(home), home)


def _language(value: str | None, default: Language) -> Language:
    if value is None or not value.strip():
        return default
    for known in LANGUAGES:
        if value.strip().lower() == known:
            return known
    raise NoticeError(f"language: notices are written in {' or '.join(LANGUAGES)}, not {value!r}")


def _type(value: NoticeType | str | None) -> NoticeType | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    try:
        return NoticeType(str(value).strip().lower())
    except ValueError:
        kinds = ", ".join(t.value for t in NoticeType)
        raise NoticeError(f"type: a notice is one of {kinds}, not {value!r}") from None


def draft_in(
    session: Session,
    actor: Actor,
    case: CaseRow,
    setup: NoticeSetup,
    *,
    type: NoticeType | str | None,
    language: str | None,
    at: datetime,
) -> NoticeDocument:
    """The notice `case` would send at `at`, drafted inside the caller's transaction."""
    if CaseState(case.state) not in SENDABLE:
        raise NoticeConflict(
            f"case {case.reference} is {case.state}: a notice goes out once the case is "
            "confirmed, or as a follow-up after the marketplace answered the last one; "
            "confirm the case first"
        )
    listings = _case_listings(session, case)
    if not listings:
        raise NoticeError(f"case {case.reference} has no listings to name; add them first")
    platform = _platform(case, listings)
    listings = [item for item in listings if item.row.platform == platform]
    kind = _type(type) or infer_type(listings, setup.notices)
    tongue = _language(language, setup.notices.platform(platform).language)
    words = setup.texts[tongue]
    rights = (
        _works(session, listings, setup.notices)
        if kind is NoticeType.COPYRIGHT
        else _marks(session, case, listings)
    )
    if kind is not NoticeType.COPYRIGHT and not rights.marks:
        raise NoticeError(
            f"a {kind.value} notice cites registered marks, and the registry has none for "
            f"{rights.brand or 'the brand of this case'}; add the marks (number, jurisdiction, "
            "classes) to the brand in the registry, or send a copyright notice"
        )
    if kind is NoticeType.COPYRIGHT and not rights.works:
        raise NoticeError(
            "a copyright notice cites the copied works, and no listing of this case copies a "
            "registered work; send a counterfeit or trademark notice instead"
        )
    jurisdictions = {m.jurisdiction.upper() for m in rights.marks}
    basis = (
        "cn"
        if setup.notices.platform(platform).jurisdiction == "CN" or "CN" in jurisdictions
        else "general"
    )
    due = at + timedelta(hours=setup.cases.answer_hours(platform))
    reference = next_reference(session, case)
    zone = setup.notices.zone(platform)
    request = str(words["request"][basis]) % {
        "due": format_moment(due, tongue, zone),
        "reference": reference,
    }
    evidence, head = _evidence(session, case)
    return NoticeDocument(
        reference=reference,
        type=kind,
        language=tongue,
        date=at,
        case_reference=case.reference,
        sender=_sender(session, actor, case),
        recipient=_recipient(session, case, platform, tongue, setup.notices, setup.cases),
        rights=rights,
        listings=[_notice_listing(i, setup.notices.findings_per_listing) for i in listings],
        evidence=evidence,
        tree_head=head,
        legal_basis=[str(line) for line in words["legal_basis"][basis][kind.value]],
        statements=[str(line) for line in words["statements"]],
        requested_action=RequestedAction(text=request),
        answer_due=due,
    )


def draft_notice(
    store: Store,
    actor: Actor,
    case_id: int,
    *,
    type: NoticeType | str | None = None,
    language: str | None = None,
    home: Path | None = None,
    at: datetime | None = None,
) -> NoticeDocument:
    """The notice the case would send now (nothing is stored); refuses, saying why, unless the
    case is confirmed or actioned."""
    setup = notice_setup(home)
    with store.session() as session:
        case = case_for(session, actor, case_id)
        return draft_in(
            session, actor, case, setup, type=type, language=language, at=at or datetime.now(UTC)
        )
