"""A registry entry's images on the pages: shown by the digest of their content, uploaded
(decoded, re-encoded and kept under the home's assets) and removed. An upload's refusal comes
back on the entry's page in the visitor's language, with the decoder's reason beside it."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, File, Form, Request, UploadFile
from fastapi.responses import RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from vigil.domain.people import Actor, Role
from vigil.services import media as service
from vigil.services import registry_edit as edit
from vigil.services import registry_images
from vigil.web.api.registry import service_errors
from vigil.web.deps import MediaDep, StoreDep
from vigil.web.i18n import choose_language, gettext_for
from vigil.web.images import image_response
from vigil.web.pages.registry import brand_page, product_form, product_text, refusal
from vigil.web.security import require

router = APIRouter(include_in_schema=False)

Reader = Annotated[Actor, require(Role.VIEWER)]
Writer = Annotated[Actor, require(Role.ANALYST, write=True)]
Upload = Annotated[UploadFile | None, File()]
FileField = Annotated[str, Form(max_length=4_000)]


def _(message: str) -> str:
    """Marks a text for extraction; `_refused` translates it."""
    return message


# What a refused upload says, by the kind of problem (`media.UnusableImage.problem`).
PROBLEMS = {
    "missing": _("Choose an image file to upload."),
    "empty": _("The file is empty: choose an image file."),
    "not_image": _(
        "This file is not an image the registry takes: upload a JPEG, PNG, GIF, WebP or BMP image."
    ),
    "too_many_pixels": _(
        "This image has too many pixels to be read safely: upload a smaller image."
    ),
    "corrupt": _("This image is damaged or cut short: export it again, then upload it."),
}


def _refused(request: Request, field: str, problem: str, reason: str = "") -> dict[str, str]:
    gettext = gettext_for(choose_language(request))
    return {"field": field, "message": gettext(PROBLEMS[problem]), "reason": reason}


@router.get("/registry/brands/{brand_id}/images/{sha256}", name="registry_brand_image")
def brand_image(
    request: Request, brand_id: int, sha256: str, actor: Reader, store: StoreDep
) -> Response:
    """A logo or counterfeit-case photo the brand lists, by the digest of its content."""
    return image_response(request, lambda: service.brand_image(store, actor, brand_id, sha256))


@router.get("/registry/products/{product_id}/images/{sha256}", name="registry_product_image")
def product_image(
    request: Request, product_id: int, sha256: str, actor: Reader, store: StoreDep
) -> Response:
    """An official photo the product lists, by the digest of its content."""
    return image_response(request, lambda: service.product_image(store, actor, product_id, sha256))


async def _upload(
    file: UploadFile | None, kind: service.UploadKind, places: service.MediaPlaces
) -> service.StoredImage:
    if file is None or not file.filename:
        raise service.UnusableImage("missing", "")
    data = await file.read()
    return await run_in_threadpool(service.store_registry_image, data, kind=kind, places=places)


async def _add_brand_image(
    request: Request,
    store: StoreDep,
    actor: Actor,
    brand_id: int,
    field: str,
    media: service.MediaPlaces,
    file: UploadFile | None,
) -> Response:
    with service_errors():
        before = await run_in_threadpool(edit.get_brand, store, actor, brand_id)
    try:
        stored = await _upload(file, "logo" if field == "logos" else "photo", media)
        record = await run_in_threadpool(
            lambda: registry_images.add_brand_image(
                store, brand_id, actor=actor, field=field, file=str(stored.path),
                sha256=stored.sha256,
            )
        )  # fmt: skip
    except service.UnusableImage as error:
        refused = _refused(request, field, error.problem, error.reason)
        return await run_in_threadpool(
            brand_page, request, store, actor, brand_id, image_error=refused, status=400
        )
    except edit.RegistryEditError as problem:
        message, status = refusal(problem)
        refused = {"field": field, "message": message, "reason": ""}
        return await run_in_threadpool(
            brand_page, request, store, actor, brand_id, image_error=refused, status=status
        )
    done = "image_added" if record.brand != before.brand else "image_unchanged"
    return RedirectResponse(f"/registry/brands/{brand_id}?done={done}", status_code=303)


@router.post("/registry/brands/{brand_id}/logos", name="registry_brand_logo_add")
async def add_brand_logo(
    request: Request,
    brand_id: int,
    actor: Writer,
    store: StoreDep,
    media: MediaDep,
    file: Upload = None,
) -> Response:
    """Upload a logo of the brand (kept as PNG)."""
    return await _add_brand_image(request, store, actor, brand_id, "logos", media, file)


@router.post(
    "/registry/brands/{brand_id}/counterfeit-images", name="registry_brand_counterfeit_add"
)
async def add_brand_counterfeit_image(
    request: Request,
    brand_id: int,
    actor: Writer,
    store: StoreDep,
    media: MediaDep,
    file: Upload = None,
) -> Response:
    """Upload a photo from a confirmed counterfeit case of the brand (kept as JPEG)."""
    return await _add_brand_image(
        request, store, actor, brand_id, "counterfeit_images", media, file
    )


@router.post("/registry/brands/{brand_id}/images/remove", name="registry_brand_image_remove")
def remove_brand_image(
    request: Request,
    brand_id: int,
    actor: Writer,
    store: StoreDep,
    field: Annotated[str, Form(max_length=40)] = "",
    file: FileField = "",
) -> Response:
    """Stop listing an image among the brand's logos or counterfeit-case photos."""
    try:
        registry_images.remove_brand_image(store, brand_id, actor=actor, field=field, file=file)
    except edit.RegistryEditError as error:
        message, status = refusal(error)
        refused = {"field": field, "message": message, "reason": ""}
        return brand_page(request, store, actor, brand_id, image_error=refused, status=status)
    return RedirectResponse(f"/registry/brands/{brand_id}?done=image_removed", status_code=303)


def _product_page(
    request: Request,
    store: StoreDep,
    actor: Actor,
    product_id: int,
    refused: dict[str, str],
    status: int,
) -> Response:
    with service_errors():
        product = edit.get_product(store, actor, product_id)
        brand = edit.get_brand(store, actor, product.brand_id)
    return product_form(
        request, brand, product, product_text(product), image_error=refused, status=status
    )


@router.post("/registry/products/{product_id}/images", name="registry_product_image_add")
async def add_product_image(
    request: Request,
    product_id: int,
    actor: Writer,
    store: StoreDep,
    media: MediaDep,
    file: Upload = None,
) -> Response:
    """Upload an official photo of the product (kept as JPEG)."""
    with service_errors():
        before = await run_in_threadpool(edit.get_product, store, actor, product_id)
    try:
        stored = await _upload(file, "photo", media)
        record = await run_in_threadpool(
            lambda: registry_images.add_product_image(
                store, product_id, actor=actor, file=str(stored.path), sha256=stored.sha256
            )
        )
    except service.UnusableImage as error:
        refused = _refused(request, "images", error.problem, error.reason)
        return await run_in_threadpool(
            _product_page, request, store, actor, product_id, refused, 400
        )
    except edit.RegistryEditError as problem:
        message, status = refusal(problem)
        refused = {"field": "images", "message": message, "reason": ""}
        return await run_in_threadpool(
            _product_page, request, store, actor, product_id, refused, status
        )
    done = "image_added" if record.product != before.product else "image_unchanged"
    return RedirectResponse(f"/registry/products/{product_id}/edit?done={done}", status_code=303)


@router.post("/registry/products/{product_id}/images/remove", name="registry_product_image_remove")
def remove_product_image(
    request: Request, product_id: int, actor: Writer, store: StoreDep, file: FileField = ""
) -> Response:
    """Stop listing an image among the product's official photos."""
    try:
        registry_images.remove_product_image(store, product_id, actor=actor, file=file)
    except edit.RegistryEditError as error:
        message, status = refusal(error)
        refused = {"field": "images", "message": message, "reason": ""}
        return _product_page(request, store, actor, product_id, refused, status)
    return RedirectResponse(
        f"/registry/products/{product_id}/edit?done=image_removed", status_code=303
    )
