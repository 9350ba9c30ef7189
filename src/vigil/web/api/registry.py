"""The registry over the API: a member's brands (with authorized sellers) and products, their
images, and registry files uploaded whole. Another member's entries answer 404, as missing ones
do."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Annotated, Any, ClassVar, Self

from fastapi import APIRouter, Query, Request, Response
from pydantic import BaseModel, ConfigDict, Field, model_validator
from starlette.concurrency import run_in_threadpool

from vigil.domain.people import Actor, Role
from vigil.domain.registry import AuthorizedSeller, Mark, Money, NonEmpty
from vigil.services import registry_edit as edit
from vigil.services.registry_upload import UploadFormat, UploadReport, load_uploaded_registry
from vigil.web.deps import StoreDep
from vigil.web.errors import (
    ConflictError,
    ForbiddenError,
    NotFoundError,
    UnsupportedMediaTypeError,
)
from vigil.web.security import require

router = APIRouter()

Reader = Annotated[Actor, require(Role.VIEWER)]
Writer = Annotated[Actor, require(Role.ANALYST, write=True)]
Limit = Annotated[int, Query(ge=1, le=edit.MAX_PAGE, description="Entries per page.")]
Cursor = Annotated[
    str | None,
    Query(max_length=1000, description="The `next_cursor` of the previous page."),
]
Name = Annotated[str, Field(min_length=1, max_length=edit.MAX_NAME)]
IMAGE_LIST = (
    "http(s) addresses, and the files already listed; an image file is added by uploading it "
    "(`POST /brands/{id}/logos`, `/brands/{id}/counterfeit-images`, `/products/{id}/images`) "
    "and removed by sending the list without it."
)
UPLOAD_TYPES: dict[str, UploadFormat] = {
    "application/json": "json",
    "application/yaml": "yaml",
    "application/x-yaml": "yaml",
    "text/yaml": "yaml",
    "text/x-yaml": "yaml",
}


@contextmanager
def service_errors() -> Iterator[None]:
    """The registry service's refusals as the web's answers (other problems stay 400)."""
    try:
        yield
    except edit.EntryNotFound as error:
        raise NotFoundError(str(error)) from None
    except edit.EntryConflict as error:
        raise ConflictError(str(error)) from None
    except edit.NotAllowed as error:
        raise ForbiddenError(str(error)) from None


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class _Patch(_Body):
    # Fields that may be set to null on purpose; for the others null is a mistake.
    nullable: ClassVar[frozenset[str]] = frozenset()

    @model_validator(mode="after")
    def _no_null(self) -> Self:
        nulls = sorted(
            name
            for name in self.model_fields_set
            if getattr(self, name) is None and name not in self.nullable
        )
        if nulls:
            raise ValueError(
                f"{', '.join(nulls)} cannot be null; leave a field out to keep its value"
            )
        return self

    def changes(self) -> dict[str, Any]:
        return self.model_dump(mode="json", exclude_unset=True)


class BrandIn(_Body):
    name: Name
    owner: str | None = Field(
        default=None,
        description="The owning member. Members register brands for themselves: leave it out. "
        "The operator may name any member, or none for an alliance-wide entry.",
    )
    aliases: list[NonEmpty] = Field(default_factory=list)
    marks: list[Mark] = Field(default_factory=list)
    logos: list[NonEmpty] = Field(default_factory=list, description=IMAGE_LIST)
    authorized_sellers: list[AuthorizedSeller] = Field(default_factory=list)
    categories: list[NonEmpty] = Field(default_factory=list)
    common_word: bool = Field(
        default=False, description="The name is also an everyday word (needs context to count)."
    )
    counterfeit_images: list[NonEmpty] = Field(
        default_factory=list,
        description="Photos seen in confirmed counterfeit cases of the brand. " + IMAGE_LIST,
    )


class BrandPatch(_Patch):
    """The fields to change; those left out keep their value."""

    nullable = frozenset({"owner"})
    name: Name | None = None
    owner: str | None = None
    aliases: list[NonEmpty] | None = None
    marks: list[Mark] | None = None
    logos: list[NonEmpty] | None = None
    authorized_sellers: list[AuthorizedSeller] | None = None
    categories: list[NonEmpty] | None = None
    common_word: bool | None = None
    counterfeit_images: list[NonEmpty] | None = None


class BrandOut(BaseModel):
    id: int
    name: str
    owner: str | None
    aliases: list[str]
    marks: list[Mark]
    logos: list[str]
    authorized_sellers: list[AuthorizedSeller]
    categories: list[str]
    common_word: bool
    counterfeit_images: list[str]
    product_count: int
    updated_at: datetime


class BrandPage(BaseModel):
    items: list[BrandOut]
    next_cursor: str | None = Field(
        description="Pass as `cursor` for the next page; null at the end."
    )


class ProductIn(_Body):
    brand_id: int
    model: Name
    aliases: list[NonEmpty] = Field(default_factory=list)
    category: str | None = Field(default=None, max_length=200)
    msrp: Money | None = None
    images: list[NonEmpty] = Field(default_factory=list, description=IMAGE_LIST)


class ProductPatch(_Patch):
    """The fields to change; those left out keep their value. `brand_id` moves the product to
    another of your brands."""

    nullable = frozenset({"category", "msrp"})
    brand_id: int | None = None
    model: Name | None = None
    aliases: list[NonEmpty] | None = None
    category: str | None = Field(default=None, max_length=200)
    msrp: Money | None = None
    images: list[NonEmpty] | None = None


class ProductOut(BaseModel):
    id: int
    brand_id: int
    brand: str
    model: str
    aliases: list[str]
    category: str | None
    msrp: Money | None
    images: list[str]
    updated_at: datetime


class ProductPage(BaseModel):
    items: list[ProductOut]
    next_cursor: str | None


class UploadProblem(BaseModel):
    section: str
    index: int = Field(description="Position of the entry in its section of the file (from 0).")
    entry: str = Field(description="The entry's name, model or title, when it has one.")
    message: str
    text: str = Field(description="The whole problem as one line.")


class UploadOut(BaseModel):
    file: str
    written: bool = Field(description="False when `strict` refused the file for its problems.")
    changes: dict[str, dict[str, int]] = Field(
        description="Per section, how many entries were added, updated and left unchanged."
    )
    problems: list[UploadProblem]
    warnings: list[str]
    skipped: list[str]


def brand_out(record: edit.BrandRecord) -> BrandOut:
    brand = record.brand
    return BrandOut(
        id=record.id,
        product_count=record.product_count,
        updated_at=record.updated_at,
        **brand.model_dump(),
    )


def product_out(record: edit.ProductRecord) -> ProductOut:
    return ProductOut(
        id=record.id,
        brand_id=record.brand_id,
        updated_at=record.updated_at,
        **record.product.model_dump(),
    )


def upload_out(report: UploadReport) -> UploadOut:
    kinds = ("added", "updated", "unchanged")
    return UploadOut(
        file=report.path.name,
        written=report.written,
        changes={
            section: {kind: counts.get(kind, 0) for kind in kinds}
            for section, counts in report.changes.items()
        },
        problems=[
            UploadProblem(
                section=p.section,
                index=p.index,
                entry=p.label.strip()[1:-1],
                message=p.message,
                text=str(p),
            )
            for p in report.problems
        ],
        warnings=report.warnings,
        skipped=report.skipped,
    )


# Brands --------------------------------------------------------------------------------------


@router.get("/brands", response_model=BrandPage)
def list_brands(
    actor: Reader,
    store: StoreDep,
    limit: Limit = 50,
    cursor: Cursor = None,
    q: Annotated[
        str | None, Query(max_length=200, description="Part of the name or of an alias.")
    ] = None,
) -> BrandPage:
    """Your brands (all of them for the operator), by name."""
    page = edit.list_brands(store, actor, search=q, limit=limit, cursor=cursor)
    return BrandPage(items=[brand_out(b) for b in page.items], next_cursor=page.next_cursor)


@router.post("/brands", response_model=BrandOut, status_code=201)
def create_brand(body: BrandIn, actor: Writer, store: StoreDep) -> BrandOut:
    """Register a brand. 409 when the name is taken in the alliance."""
    with service_errors():
        record = edit.create_brand(store, actor=actor, entry=body.model_dump(exclude_unset=True))
    return brand_out(record)


@router.get("/brands/{brand_id}", response_model=BrandOut)
def get_brand(brand_id: int, actor: Reader, store: StoreDep) -> BrandOut:
    with service_errors():
        return brand_out(edit.get_brand(store, actor, brand_id))


@router.patch("/brands/{brand_id}", response_model=BrandOut)
def update_brand(brand_id: int, body: BrandPatch, actor: Writer, store: StoreDep) -> BrandOut:
    """Change some fields of a brand; `authorized_sellers` replaces the whole list."""
    with service_errors():
        record = edit.update_brand(store, brand_id, actor=actor, changes=body.changes())
    return brand_out(record)


@router.delete("/brands/{brand_id}", status_code=204)
def delete_brand(brand_id: int, actor: Writer, store: StoreDep) -> Response:
    """Remove a brand with its products and authorized sellers."""
    with service_errors():
        edit.delete_brand(store, brand_id, actor=actor)
    return Response(status_code=204)


@router.get("/brands/{brand_id}/products", response_model=ProductPage)
def list_products(
    brand_id: int, actor: Reader, store: StoreDep, limit: Limit = 50, cursor: Cursor = None
) -> ProductPage:
    """A brand's products, by model."""
    with service_errors():
        page = edit.list_products(store, actor, brand_id, limit=limit, cursor=cursor)
    return ProductPage(items=[product_out(p) for p in page.items], next_cursor=page.next_cursor)


# Products ------------------------------------------------------------------------------------


@router.post("/products", response_model=ProductOut, status_code=201)
def create_product(body: ProductIn, actor: Writer, store: StoreDep) -> ProductOut:
    """Add a product to one of your brands. 409 when the brand has that model already."""
    entry = body.model_dump(mode="json", exclude={"brand_id"}, exclude_none=True)
    with service_errors():
        return product_out(edit.create_product(store, body.brand_id, actor=actor, entry=entry))


@router.get("/products/{product_id}", response_model=ProductOut)
def get_product(product_id: int, actor: Reader, store: StoreDep) -> ProductOut:
    with service_errors():
        return product_out(edit.get_product(store, actor, product_id))


@router.patch("/products/{product_id}", response_model=ProductOut)
def update_product(
    product_id: int, body: ProductPatch, actor: Writer, store: StoreDep
) -> ProductOut:
    with service_errors():
        record = edit.update_product(store, product_id, actor=actor, changes=body.changes())
    return product_out(record)


@router.delete("/products/{product_id}", status_code=204)
def delete_product(product_id: int, actor: Writer, store: StoreDep) -> Response:
    with service_errors():
        edit.delete_product(store, product_id, actor=actor)
    return Response(status_code=204)


# Registry files ------------------------------------------------------------------------------


def upload_format(content_type: str | None) -> UploadFormat:
    """YAML or JSON from the request's media type; anything else is refused with 415."""
    media = (content_type or "").split(";")[0].strip().lower()
    found = UPLOAD_TYPES.get(media)
    if found is None:
        raise UnsupportedMediaTypeError(
            f"a registry file is sent as application/json or application/yaml, not "
            f"{media or 'a body without Content-Type'}; set the Content-Type header"
        )
    return found


@router.post(
    "/registry/upload",
    response_model=UploadOut,
    openapi_extra={
        "requestBody": {
            "required": True,
            "description": "A registry file (see docs/formats.md).",
            "content": {
                "application/yaml": {"schema": {"type": "string"}},
                "application/json": {"schema": {"type": "object"}},
            },
        }
    },
)
async def upload_registry(
    request: Request,
    actor: Writer,
    store: StoreDep,
    strict: Annotated[
        bool, Query(description="Write nothing when any entry has a problem.")
    ] = False,
    name: Annotated[
        str, Query(max_length=200, description="The file's name, for messages and the audit.")
    ] = "registry",
) -> UploadOut:
    """Load a registry file as `vigil registry load` does. Each entry is written whole or not at
    all; entries you may not change (another member's, members, the lexicon unless you are the
    operator) come back as problems."""
    fmt = upload_format(request.headers.get("content-type"))
    content = await request.body()
    with service_errors():
        report = await run_in_threadpool(
            load_uploaded_registry, store, actor, content, fmt=fmt, filename=name, strict=strict
        )
    return upload_out(report)
