"""A registry entry's images over the API: uploaded as their own bytes, decoded under the
pixel cap, re-encoded (PNG for logos, JPEG for photos), kept under the home's assets and added
to the entry (audited). To remove one, send the entry's list without it (PATCH)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from vigil.domain.people import Actor, Role
from vigil.services import media, registry_images
from vigil.services import registry_edit as edit
from vigil.services.media import MediaPlaces
from vigil.store.db import Store
from vigil.web.api.registry import (
    BrandOut,
    ProductOut,
    brand_out,
    product_out,
    service_errors,
)
from vigil.web.deps import MediaDep, StoreDep
from vigil.web.errors import BadRequestError, UnsupportedMediaTypeError
from vigil.web.security import require

router = APIRouter()

Writer = Annotated[Actor, require(Role.ANALYST, write=True)]
# Bodies these routes take: the image's own bytes.
IMAGE_TYPES = ("image/", "application/octet-stream")


class StoredImageOut(BaseModel):
    file: str = Field(description="Where the server keeps it; the entry lists this path.")
    sha256: str = Field(description="Of the kept bytes (re-encoded as PNG or JPEG).")
    format: str
    width: int
    height: int
    notes: list[str] = Field(description="What decoding noticed, e.g. a first frame used.")


class BrandImageOut(BaseModel):
    image: StoredImageOut
    added: bool = Field(description="False when the brand listed this image already.")
    brand: BrandOut


class ProductImageOut(BaseModel):
    image: StoredImageOut
    added: bool = Field(description="False when the product listed this image already.")
    product: ProductOut


def _stored_out(stored: media.StoredImage) -> StoredImageOut:
    return StoredImageOut(
        file=str(stored.path),
        sha256=stored.sha256,
        format=stored.format,
        width=stored.width,
        height=stored.height,
        notes=list(stored.notes),
    )


IMAGE_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "description": "The image's bytes (JPEG, PNG, GIF, WebP or BMP), sent as they are.",
        "content": {"image/*": {"schema": {"type": "string", "format": "binary"}}},
    }
}
IMAGE_ANSWERS: dict[int | str, dict[str, Any]] = {
    400: {"description": "Not an image, damaged, or too many pixels (the detail says which)."},
    413: {"description": "Larger than the upload limit."},
    415: {"description": "Not sent as an image (Content-Type image/... or octet-stream)."},
}


async def _stored_image(
    request: Request, kind: media.UploadKind, places: media.MediaPlaces
) -> media.StoredImage:
    """The request's body, decoded, re-encoded and kept; refusals as 415 and 400."""
    content_type = (request.headers.get("content-type") or "").split(";")[0].strip().lower()
    if not content_type.startswith(IMAGE_TYPES):
        raise UnsupportedMediaTypeError(
            f"an image is sent as its own bytes with Content-Type image/jpeg, image/png (or "
            f"another image type), not {content_type or 'a body without Content-Type'}"
        )
    data = await request.body()
    try:
        return await run_in_threadpool(media.store_registry_image, data, kind=kind, places=places)
    except media.UnusableImage as error:
        raise BadRequestError(f"the image was not stored: {error.reason}") from None


async def _add_brand_image(
    request: Request, store: Store, actor: Actor, brand_id: int, field: str, places: MediaPlaces
) -> BrandImageOut:
    with service_errors():
        before = await run_in_threadpool(edit.get_brand, store, actor, brand_id)
        edit.check_writer(actor)
    stored = await _stored_image(request, "logo" if field == "logos" else "photo", places)
    with service_errors():
        record = await run_in_threadpool(
            lambda: registry_images.add_brand_image(
                store, brand_id, actor=actor, field=field, file=str(stored.path),
                sha256=stored.sha256,
            )
        )  # fmt: skip
    return BrandImageOut(
        image=_stored_out(stored), added=record.brand != before.brand, brand=brand_out(record)
    )


@router.post(
    "/brands/{brand_id}/logos",
    response_model=BrandImageOut,
    status_code=201,
    openapi_extra=IMAGE_BODY,
    responses=IMAGE_ANSWERS,
)
async def add_brand_logo(
    request: Request, brand_id: int, actor: Writer, store: StoreDep, places: MediaDep
) -> BrandImageOut:
    """Upload a logo of the brand. It is decoded, kept as PNG and added to `logos`; scans look
    for it inside listing photos."""
    return await _add_brand_image(request, store, actor, brand_id, "logos", places)


@router.post(
    "/brands/{brand_id}/counterfeit-images",
    response_model=BrandImageOut,
    status_code=201,
    openapi_extra=IMAGE_BODY,
    responses=IMAGE_ANSWERS,
)
async def add_brand_counterfeit_image(
    request: Request, brand_id: int, actor: Writer, store: StoreDep, places: MediaDep
) -> BrandImageOut:
    """Upload a photo from a confirmed counterfeit case of the brand. It is decoded, kept as
    JPEG and added to `counterfeit_images`; listings reusing it are flagged."""
    return await _add_brand_image(request, store, actor, brand_id, "counterfeit_images", places)


@router.post(
    "/products/{product_id}/images",
    response_model=ProductImageOut,
    status_code=201,
    openapi_extra=IMAGE_BODY,
    responses=IMAGE_ANSWERS,
)
async def add_product_image(
    request: Request, product_id: int, actor: Writer, store: StoreDep, places: MediaDep
) -> ProductImageOut:
    """Upload an official photo of the product. It is decoded, kept as JPEG and added to
    `images`; unauthorized sellers reusing it are flagged."""
    with service_errors():
        before = await run_in_threadpool(edit.get_product, store, actor, product_id)
        edit.check_writer(actor)
    stored = await _stored_image(request, "photo", places)
    with service_errors():
        record = await run_in_threadpool(
            lambda: registry_images.add_product_image(
                store, product_id, actor=actor, file=str(stored.path), sha256=stored.sha256
            )
        )
    return ProductImageOut(
        image=_stored_out(stored),
        added=record.product != before.product,
        product=product_out(record),
    )
