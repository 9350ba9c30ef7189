"""Editing the registry on behalf of a member: brands (with their authorized sellers and
images) and products, one entry at a time. (Registry files uploaded through the web:
`registry_upload`; the images' bytes: `media`.)

A member manages the brands it owns and their products; the operator manages all of them and
decides who owns what. Brand names are unique across the alliance, compared without regard to
case. Every write is audited in its own transaction, with the actor and the owning member.

An edit may keep the files an entry lists and add http(s) addresses, never a new path on the
server: scans and pages read the files entries name, so a path typed into a form would let its
author read any image file on the server. Files come in as images uploaded through the web
(`add_brand_image`, `add_product_image`) or with `vigil registry load`.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Generic, TypeVar

from pydantic import ValidationError
from sqlalchemy import ColumnElement, delete, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from vigil.domain.people import Actor, Role
from vigil.domain.registry import AuthorizedSeller, Brand, Product
from vigil.domain.validation import describe_validation_error
from vigil.errors import VigilError
from vigil.services.registry_file import PATH_FIELDS
from vigil.services.tenancy import visible_brands
from vigil.store import registry_repo as repo
from vigil.store.db import Store, audit
from vigil.store.tables import AuthorizedSellerRow, BrandRow, MemberRow, ProductRow

# Column sizes of the registry tables: longer values are refused before the database sees them.
MAX_NAME = 300
MAX_PLATFORM = 100
MAX_PAGE = 200
WEB_SCHEMES = ("http://", "https://")
# The lists of file paths or addresses each kind of entry has.
BRAND_IMAGES = ("logos", "counterfeit_images")
T = TypeVar("T")
M = TypeVar("M", Brand, Product, AuthorizedSeller)


class RegistryEditError(VigilError):
    """A registry change that cannot be made as asked (the message says why)."""


class EntryNotFound(RegistryEditError):
    """No such brand or product, or not one the actor may see: the two look alike."""


class EntryConflict(RegistryEditError):
    """The name is taken (a brand in the alliance, a model within its brand)."""


class NotAllowed(RegistryEditError):
    """The actor's role or key does not allow changing the registry."""


@dataclass(frozen=True)
class BrandRecord:
    """A stored brand as its registry entry, with its id and how many products it has."""

    id: int
    brand: Brand
    product_count: int
    updated_at: datetime


@dataclass(frozen=True)
class ProductRecord:
    id: int
    brand_id: int
    product: Product
    owner: str | None
    updated_at: datetime


@dataclass(frozen=True)
class Page(Generic[T]):
    """One page of a list; `next_cursor` asks for the following one (None on the last)."""

    items: list[T]
    next_cursor: str | None


# Cursors and small checks --------------------------------------------------------------------


def encode_cursor(last: str) -> str:
    return base64.urlsafe_b64encode(last.encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> str:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        return base64.b64decode(padded, altchars=b"-_", validate=True).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise RegistryEditError(
            "cursor is not valid: pass the next_cursor of the previous page unchanged"
        ) from None


def _check_limit(limit: int) -> None:
    if not 1 <= limit <= MAX_PAGE:
        raise RegistryEditError(f"limit must be between 1 and {MAX_PAGE} (got {limit})")


def check_writer(actor: Actor) -> None:
    if not actor.role.includes(Role.ANALYST):
        raise NotAllowed("changing the registry needs the analyst role or higher")
    if not actor.can_write:
        raise NotAllowed("this API key is read-only; use a key with write scope")


def _validated(model: type[M], data: Mapping[str, Any]) -> M:
    try:
        return model.model_validate(dict(data))
    except ValidationError as error:
        raise RegistryEditError(describe_validation_error(error)) from None


def check_brand_sizes(brand: Brand) -> None:
    if len(brand.name) > MAX_NAME:
        raise RegistryEditError(f"name: at most {MAX_NAME} characters (got {len(brand.name)})")
    for seller in brand.authorized_sellers:
        if len(seller.platform) > MAX_PLATFORM or len(seller.seller_id) > MAX_NAME:
            raise RegistryEditError(
                f"authorized_sellers: platform takes at most {MAX_PLATFORM} characters and "
                f"seller_id at most {MAX_NAME}"
            )


def _check_files(
    section: str, entry: Brand | Product, before: Brand | Product | None, added: frozenset[str]
) -> None:
    """New values of the entry's file lists must be http(s) addresses (or the files in
    `added`, which the caller stored itself)."""
    for name in PATH_FIELDS[section]:
        kept = set(getattr(before, name)) if before is not None else set()
        for value in getattr(entry, name):
            if value in kept or value in added or value.lower().startswith(WEB_SCHEMES):
                continue
            raise RegistryEditError(
                f"{name}: {value!r} is not an http(s) address; a file on the server cannot be "
                "added by editing the entry: upload the image instead (on the registry page, "
                "or with the API's image routes), or give an http(s) address"
            )


def check_model_size(product: Product) -> None:
    if len(product.model) > MAX_NAME:
        raise RegistryEditError(f"model: at most {MAX_NAME} characters (got {len(product.model)})")


# Loading what the actor may see --------------------------------------------------------------


def _brand_entry(row: BrandRow) -> Brand:
    return Brand.model_validate({**row.entry, "name": row.name, "owner": row.owner_id})


def _brand_row(session: Session, actor: Actor, brand_id: int) -> BrandRow:
    row = session.scalar(select(BrandRow).where(BrandRow.id == brand_id, visible_brands(actor)))
    if row is None:
        raise EntryNotFound(f"no brand {brand_id}")
    return row


def _product_rows(session: Session, actor: Actor, product_id: int) -> tuple[ProductRow, BrandRow]:
    found = session.execute(
        select(ProductRow, BrandRow)
        .join(BrandRow, BrandRow.id == ProductRow.brand_id)
        .where(ProductRow.id == product_id, visible_brands(actor))
    ).first()
    if found is None:
        raise EntryNotFound(f"no product {product_id}")
    return found[0], found[1]


def _product_counts(session: Session, brand_ids: list[int]) -> dict[int, int]:
    if not brand_ids:
        return {}
    rows = session.execute(
        select(ProductRow.brand_id, func.count())
        .where(ProductRow.brand_id.in_(brand_ids))
        .group_by(ProductRow.brand_id)
    )
    return {brand_id: count for brand_id, count in rows}


def _brand_record(session: Session, row: BrandRow) -> BrandRecord:
    count = _product_counts(session, [row.id]).get(row.id, 0)
    return BrandRecord(row.id, _brand_entry(row), count, row.updated_at)


def _product_record(row: ProductRow, brand: BrandRow) -> ProductRecord:
    product = Product.model_validate({**row.entry, "brand": brand.name, "model": row.model})
    return ProductRecord(row.id, brand.id, product, brand.owner_id, row.updated_at)


def _matches(row: BrandRow, needle: str) -> bool:
    names = [row.name, *row.entry.get("aliases", [])]
    return any(needle in str(name).casefold() for name in names)


def _search_filter(actor: Actor, after: str | None) -> list[ColumnElement[bool]]:
    where = [visible_brands(actor)]
    if after is not None:
        where.append(BrandRow.name > after)
    return where


def _searched(session: Session, actor: Actor, search: str, after: str | None) -> Iterator[BrandRow]:
    # Aliases live in the JSON entry, where SQL cannot search CJK text portably: filter here.
    needle = search.strip().casefold()
    rows = session.scalars(
        select(BrandRow).where(*_search_filter(actor, after)).order_by(BrandRow.name)
    )
    return (row for row in rows if _matches(row, needle))


# Brands --------------------------------------------------------------------------------------


def list_brands(
    store: Store,
    actor: Actor,
    *,
    search: str | None = None,
    limit: int = 50,
    cursor: str | None = None,
) -> Page[BrandRecord]:
    """The actor's brands by name, optionally those whose name or an alias contains `search`."""
    _check_limit(limit)
    after = decode_cursor(cursor) if cursor else None
    with store.session() as session:
        if search and search.strip():
            rows: list[BrandRow] = []
            for row in _searched(session, actor, search, after):
                rows.append(row)
                if len(rows) > limit:
                    break
        else:
            query = select(BrandRow).where(*_search_filter(actor, after)).order_by(BrandRow.name)
            rows = list(session.scalars(query.limit(limit + 1)))
        more = len(rows) > limit
        rows = rows[:limit]
        counts = _product_counts(session, [r.id for r in rows])
        items = [
            BrandRecord(r.id, _brand_entry(r), counts.get(r.id, 0), r.updated_at) for r in rows
        ]
    next_cursor = encode_cursor(rows[-1].name) if more else None
    return Page(items, next_cursor)


def count_brands(store: Store, actor: Actor, *, search: str | None = None) -> int:
    with store.session() as session:
        if search and search.strip():
            return sum(1 for _ in _searched(session, actor, search, None))
        return (
            session.scalar(select(func.count()).select_from(BrandRow).where(visible_brands(actor)))
            or 0
        )


def get_brand(store: Store, actor: Actor, brand_id: int) -> BrandRecord:
    with store.session() as session:
        return _brand_record(session, _brand_row(session, actor, brand_id))


def owner_choices(store: Store, actor: Actor) -> list[tuple[str, str]]:
    """Members the actor may make a brand's owner: any member for the operator, else itself."""
    with store.session() as session:
        query = select(MemberRow.id, MemberRow.name).order_by(MemberRow.name)
        if not actor.is_operator:
            query = query.where(MemberRow.id == actor.member_id)
        return [(member_id, name) for member_id, name in session.execute(query)]


def _owner_for(session: Session, actor: Actor, requested: str | None, *, given: bool) -> str | None:
    """Who will own the brand: members always own what they create; the operator chooses."""
    if not actor.is_operator:
        if given and requested not in (None, actor.member_id):
            raise RegistryEditError(
                "owner: a member registers brands for itself only; leave owner out or give "
                f"{actor.member_id!r}"
            )
        return actor.member_id
    if requested is not None and session.get(MemberRow, requested) is None:
        raise RegistryEditError(
            f"owner: {requested!r} is not a registered member; admit the member first"
        )
    return requested


def _check_name_free(session: Session, name: str, *, except_id: int | None = None) -> None:
    taken = select(BrandRow.id).where(func.lower(BrandRow.name) == name.lower())
    if except_id is not None:
        taken = taken.where(BrandRow.id != except_id)
    if session.scalar(taken) is not None:
        # Never say who holds it: another member's registry is not the actor's to read.
        raise EntryConflict(
            f"a brand named {name!r} is already registered in the alliance; choose another "
            "name, or ask the alliance operator if it is yours"
        )


def _flush(session: Session, taken: str) -> None:
    """Write what is pending; a name another request took a moment ago is a conflict too."""
    try:
        session.flush()
    except IntegrityError:
        raise EntryConflict(f"{taken}; reload and try again") from None


def _store_brand(session: Session, brand: Brand) -> BrandRow:
    repo.upsert_brand(session, brand)
    _flush(session, f"a brand named {brand.name!r} was just registered in the alliance")
    row = session.scalar(select(BrandRow).where(BrandRow.name == brand.name))
    assert row is not None
    return row


def create_brand(store: Store, *, actor: Actor, entry: Mapping[str, Any]) -> BrandRecord:
    """Register a brand (fields of `Brand`); a member's brand is its own."""
    check_writer(actor)
    brand = _validated(Brand, entry)
    check_brand_sizes(brand)
    _check_files("brands", brand, None, frozenset())
    with store.session() as session:
        owner = _owner_for(session, actor, brand.owner, given="owner" in entry)
        brand = brand.model_copy(update={"owner": owner})
        _check_name_free(session, brand.name)
        row = _store_brand(session, brand)
        audit(
            session,
            action="brand.create",
            subject=f"brand:{row.id}",
            details=brand.model_dump(mode="json"),
            actor=actor,
            member_id=owner,
        )
        return _brand_record(session, row)


def update_brand(
    store: Store, brand_id: int, *, actor: Actor, changes: Mapping[str, Any]
) -> BrandRecord:
    """Change some fields of a brand; the fields not named stay as they are."""
    check_writer(actor)
    with store.session() as session:
        row = _brand_row(session, actor, brand_id)
        return _brand_record(session, _change_brand(session, actor, row, changes))


def _change_brand(
    session: Session,
    actor: Actor,
    row: BrandRow,
    changes: Mapping[str, Any],
    *,
    action: str = "brand.update",
    added: frozenset[str] = frozenset(),
    note: Mapping[str, Any] | None = None,
) -> BrandRow:
    before = _brand_entry(row)
    old = before.model_dump(mode="json")
    brand = _validated(Brand, {**old, **changes})
    check_brand_sizes(brand)
    _check_files("brands", brand, before, added)
    owner = before.owner
    if "owner" in changes:
        owner = _owner_for(session, actor, brand.owner, given=True)
    brand = brand.model_copy(update={"owner": owner})
    if brand.name != row.name:
        _check_name_free(session, brand.name, except_id=row.id)
        row.name = brand.name
        _flush(session, f"a brand named {brand.name!r} was just registered in the alliance")
    row = _store_brand(session, brand)
    new = brand.model_dump(mode="json")
    audit(
        session,
        action=action,
        subject=f"brand:{row.id}",
        details={
            "name": brand.name,
            "changed": {k: v for k, v in new.items() if v != old[k]},
            **(note or {}),
        },
        actor=actor,
        member_id=owner,
    )
    # The previous owner keeps a trace of a brand the operator moved away from it.
    if before.owner not in (None, owner):
        audit(
            session,
            action="brand.transfer",
            subject=f"brand:{row.id}",
            details={"name": brand.name, "from": before.owner, "to": owner},
            actor=actor,
            member_id=before.owner,
        )
    return row


def delete_brand(store: Store, brand_id: int, *, actor: Actor) -> None:
    """Remove a brand with its products and authorized sellers."""
    check_writer(actor)
    with store.session() as session:
        row = _brand_row(session, actor, brand_id)
        products = session.scalar(
            select(func.count()).select_from(ProductRow).where(ProductRow.brand_id == row.id)
        )
        session.execute(delete(ProductRow).where(ProductRow.brand_id == row.id))
        session.execute(delete(AuthorizedSellerRow).where(AuthorizedSellerRow.brand_id == row.id))
        session.delete(row)
        audit(
            session,
            action="brand.delete",
            subject=f"brand:{brand_id}",
            details={"name": row.name, "products": products or 0},
            actor=actor,
            member_id=row.owner_id,
        )


def add_authorized_seller(
    store: Store, brand_id: int, *, actor: Actor, seller: Mapping[str, Any]
) -> BrandRecord:
    """Trust one more seller for the brand (adding one it already has changes nothing)."""
    check_writer(actor)
    added = _validated(AuthorizedSeller, seller)
    with store.session() as session:
        row = _brand_row(session, actor, brand_id)
        sellers = _brand_entry(row).authorized_sellers
        if added not in sellers:
            listed = [s.model_dump() for s in [*sellers, added]]
            changes = {"authorized_sellers": listed}
            row = _change_brand(session, actor, row, changes, action="brand.seller.add")
        return _brand_record(session, row)


def remove_authorized_seller(
    store: Store, brand_id: int, *, actor: Actor, seller: Mapping[str, Any]
) -> BrandRecord:
    """Stop trusting a seller for the brand."""
    check_writer(actor)
    removed = _validated(AuthorizedSeller, seller)
    with store.session() as session:
        row = _brand_row(session, actor, brand_id)
        sellers = _brand_entry(row).authorized_sellers
        if removed not in sellers:
            raise RegistryEditError(
                f"{removed.platform}/{removed.seller_id} is not an authorized seller of this brand"
            )
        listed = [s.model_dump() for s in sellers if s != removed]
        changes = {"authorized_sellers": listed}
        row = _change_brand(session, actor, row, changes, action="brand.seller.remove")
        return _brand_record(session, row)


# Products ------------------------------------------------------------------------------------


def list_products(
    store: Store, actor: Actor, brand_id: int, *, limit: int = 50, cursor: str | None = None
) -> Page[ProductRecord]:
    """A brand's products by model name."""
    _check_limit(limit)
    after = decode_cursor(cursor) if cursor else None
    with store.session() as session:
        brand = _brand_row(session, actor, brand_id)
        query = select(ProductRow).where(ProductRow.brand_id == brand.id)
        if after is not None:
            query = query.where(ProductRow.model > after)
        rows = list(session.scalars(query.order_by(ProductRow.model).limit(limit + 1)))
        items = [_product_record(row, brand) for row in rows[:limit]]
    more = len(rows) > limit
    return Page(items, encode_cursor(rows[limit - 1].model) if more else None)


def get_product(store: Store, actor: Actor, product_id: int) -> ProductRecord:
    with store.session() as session:
        return _product_record(*_product_rows(session, actor, product_id))


def _check_model_free(
    session: Session, brand: BrandRow, model: str, *, except_id: int | None = None
) -> None:
    taken = select(ProductRow.id).where(
        ProductRow.brand_id == brand.id, func.lower(ProductRow.model) == model.lower()
    )
    if except_id is not None:
        taken = taken.where(ProductRow.id != except_id)
    if session.scalar(taken) is not None:
        raise EntryConflict(f"{brand.name} already has a product {model!r}; edit that one instead")


def _product_entry(product: Product) -> dict[str, Any]:
    return product.model_dump(mode="json", exclude={"brand", "model"})


def create_product(
    store: Store, brand_id: int, *, actor: Actor, entry: Mapping[str, Any]
) -> ProductRecord:
    """Add a product (fields of `Product` but its brand, given by id) to one of the actor's
    brands."""
    check_writer(actor)
    with store.session() as session:
        brand = _brand_row(session, actor, brand_id)
        product = _validated(Product, {**entry, "brand": brand.name})
        check_model_size(product)
        _check_files("products", product, None, frozenset())
        _check_model_free(session, brand, product.model)
        row = ProductRow(brand_id=brand.id, model=product.model, entry=_product_entry(product))
        session.add(row)
        _flush(session, f"{brand.name} just got a product {product.model!r}")
        audit(
            session,
            action="product.create",
            subject=f"product:{row.id}",
            details=product.model_dump(mode="json"),
            actor=actor,
            member_id=brand.owner_id,
        )
        return _product_record(row, brand)


def update_product(
    store: Store, product_id: int, *, actor: Actor, changes: Mapping[str, Any]
) -> ProductRecord:
    """Change some fields of a product; `brand_id` moves it to another of the actor's brands."""
    check_writer(actor)
    with store.session() as session:
        row, brand = _product_rows(session, actor, product_id)
        return _change_product(session, actor, row, brand, changes)


def _change_product(
    session: Session,
    actor: Actor,
    row: ProductRow,
    brand: BrandRow,
    changes: Mapping[str, Any],
    *,
    action: str = "product.update",
    added: frozenset[str] = frozenset(),
    note: Mapping[str, Any] | None = None,
) -> ProductRecord:
    before = _product_record(row, brand).product
    fields = dict(changes)
    if "brand_id" in fields:
        brand = _brand_row(session, actor, int(fields.pop("brand_id")))
    product = _validated(Product, {**before.model_dump(mode="json"), **fields, "brand": brand.name})
    check_model_size(product)
    _check_files("products", product, before, added)
    if (brand.id, product.model) != (row.brand_id, row.model):
        _check_model_free(session, brand, product.model, except_id=row.id)
    row.brand_id, row.model, row.entry = brand.id, product.model, _product_entry(product)
    _flush(session, f"{brand.name} just got a product {product.model!r}")
    old = before.model_dump(mode="json")
    audit(
        session,
        action=action,
        subject=f"product:{row.id}",
        details={
            "brand": brand.name,
            "model": product.model,
            "changed": sorted(k for k, v in product.model_dump(mode="json").items() if v != old[k]),
            **(note or {}),
        },
        actor=actor,
        member_id=brand.owner_id,
    )
    return _product_record(row, brand)


def delete_product(store: Store, product_id: int, *, actor: Actor) -> None:
    check_writer(actor)
    with store.session() as session:
        row, brand = _product_rows(session, actor, product_id)
        session.delete(row)
        audit(
            session,
            action="product.delete",
            subject=f"product:{product_id}",
            details={"brand": brand.name, "model": row.model},
            actor=actor,
            member_id=brand.owner_id,
        )
