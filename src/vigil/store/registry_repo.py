"""Registry entries in the store: upsert by natural key, and the snapshot detectors compile from."""

from __future__ import annotations

from collections import Counter
from typing import Any, Literal

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from vigil.domain.registry import Brand, LexiconTerm, Member, MemberKind, Product, Registry, Work
from vigil.store.tables import (
    AuthorizedSellerRow,
    BrandRow,
    LexiconTermRow,
    MemberRow,
    ProductRow,
    WorkRow,
)

Change = Literal["added", "updated", "unchanged"]


def _entry(model: Any, *drop: str) -> dict[str, Any]:
    return dict(model.model_dump(mode="json", exclude=set(drop)))


def upsert_member(session: Session, member: Member) -> Change:
    row = session.get(MemberRow, member.id)
    if row is None:
        session.add(MemberRow(id=member.id, name=member.name, kind=member.kind.value))
        return "added"
    if (row.name, row.kind) == (member.name, member.kind.value):
        return "unchanged"
    row.name, row.kind = member.name, member.kind.value
    return "updated"


def brand_ids(session: Session) -> dict[str, int]:
    return {name: row_id for name, row_id in session.execute(select(BrandRow.name, BrandRow.id))}


def member_ids(session: Session) -> set[str]:
    return set(session.scalars(select(MemberRow.id)).all())


def upsert_brand(session: Session, brand: Brand) -> Change:
    entry = _entry(brand, "name", "owner")
    row = session.scalar(select(BrandRow).where(BrandRow.name == brand.name))
    if row is not None and row.owner_id == brand.owner and row.entry == entry:
        return "unchanged"
    change: Change = "updated"
    if row is None:
        row = BrandRow(name=brand.name, owner_id=brand.owner, entry=entry)
        session.add(row)
        session.flush()
        change = "added"
    else:
        row.owner_id, row.entry = brand.owner, entry
    # The file's list of authorized sellers is the whole truth for the brand.
    session.execute(delete(AuthorizedSellerRow).where(AuthorizedSellerRow.brand_id == row.id))
    unique = {(s.platform, s.seller_id) for s in brand.authorized_sellers}
    session.add_all(
        AuthorizedSellerRow(brand_id=row.id, platform=platform, seller_id=seller_id)
        for platform, seller_id in sorted(unique)
    )
    return change


def upsert_products(
    session: Session, products: list[Product], brand_ids: dict[str, int]
) -> Counter[Change]:
    """Upsert products by (brand, model), reading the stored ones once rather than per entry."""
    stored = {(r.brand_id, r.model): r for r in session.scalars(select(ProductRow))}
    changes: Counter[Change] = Counter()
    for product in products:
        entry = _entry(product, "brand", "model")
        key = (brand_ids[product.brand], product.model)
        row = stored.get(key)
        if row is None:
            stored[key] = ProductRow(brand_id=key[0], model=product.model, entry=entry)
            session.add(stored[key])
            changes["added"] += 1
        elif row.entry == entry:
            changes["unchanged"] += 1
        else:
            row.entry = entry
            changes["updated"] += 1
    return changes


def upsert_work(session: Session, work: Work) -> Change:
    entry = _entry(work, "owner", "title")
    row = session.scalar(
        select(WorkRow).where(WorkRow.owner_id == work.owner, WorkRow.title == work.title)
    )
    if row is None:
        session.add(WorkRow(owner_id=work.owner, title=work.title, entry=entry))
        return "added"
    if row.entry == entry:
        return "unchanged"
    row.entry = entry
    return "updated"


def upsert_lexicon_term(session: Session, term: LexiconTerm) -> Change:
    row = session.get(LexiconTermRow, term.term)
    if row is None:
        session.add(LexiconTermRow(term=term.term, weight=term.weight, lang=term.lang))
        return "added"
    if (row.weight, row.lang) == (term.weight, term.lang):
        return "unchanged"
    row.weight, row.lang = term.weight, term.lang
    return "updated"


def load_snapshot(session: Session) -> Registry:
    """Everything registered, as one `Registry` (what the matchers compile from)."""
    members = [
        Member(id=r.id, name=r.name, kind=MemberKind(r.kind))
        for r in session.scalars(select(MemberRow).order_by(MemberRow.id))
    ]
    names = {row_id: name for name, row_id in brand_ids(session).items()}
    brands = [
        Brand.model_validate({**r.entry, "name": r.name, "owner": r.owner_id})
        for r in session.scalars(select(BrandRow).order_by(BrandRow.name))
    ]
    products = [
        Product.model_validate({**r.entry, "brand": names[r.brand_id], "model": r.model})
        for r in session.scalars(select(ProductRow).order_by(ProductRow.brand_id, ProductRow.model))
    ]
    works = [
        Work.model_validate({**r.entry, "owner": r.owner_id, "title": r.title})
        for r in session.scalars(select(WorkRow).order_by(WorkRow.owner_id, WorkRow.title))
    ]
    lexicon = [
        LexiconTerm(term=r.term, weight=r.weight, lang=r.lang)
        for r in session.scalars(select(LexiconTermRow).order_by(LexiconTermRow.term))
    ]
    return Registry(members=members, brands=brands, products=products, works=works, lexicon=lexicon)
