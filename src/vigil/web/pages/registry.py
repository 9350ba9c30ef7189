"""Registry pages: a member's brands with their products, authorized sellers and images, the
forms that change them, and uploading a registry file (the images' own routes are in
`registry_images`). A change posts, then redirects to a page that says what was done
(`?done=...`), so that reloading never repeats it; a refused form comes back with what the
visitor typed and the reason."""

from __future__ import annotations

from pathlib import PurePath
from typing import Annotated, Any

from fastapi import APIRouter, Depends, File, Form, Query, Request, UploadFile
from fastapi.responses import RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from vigil.domain.people import Actor, Role
from vigil.services import registry_edit as edit
from vigil.services.media import EntryImage, entry_images, is_address
from vigil.services.registry_file import RegistryFileError
from vigil.services.registry_upload import UploadFormat, load_uploaded_registry
from vigil.web.api.registry import UPLOAD_TYPES, service_errors, upload_out
from vigil.web.deps import StoreDep
from vigil.web.errors import ForbiddenError, NotFoundError
from vigil.web.security import require
from vigil.web.templating import render

router = APIRouter(include_in_schema=False)

Reader = Annotated[Actor, require(Role.VIEWER)]
# Forms are shown to those who may send them; sending one checks the write scope and the token.
FormReader = Annotated[Actor, require(Role.ANALYST)]
Writer = Annotated[Actor, require(Role.ANALYST, write=True)]
PAGE_SIZE = 50
# What a redirect may announce; the templates word each one in the visitor's language.
DONE = frozenset(
    {
        "brand_created",
        "brand_updated",
        "brand_deleted",
        "seller_added",
        "seller_removed",
        "product_created",
        "product_updated",
        "product_deleted",
        "image_added",
        "image_unchanged",
        "image_removed",
    }
)
Text = Annotated[str, Form(max_length=20_000)]
Line = Annotated[str, Form(max_length=1_000)]
Done = Annotated[str | None, Query(max_length=40)]
PageCursor = Annotated[str | None, Query(max_length=1000)]
FILE_FORMATS: dict[str, UploadFormat] = {".json": "json", ".yaml": "yaml", ".yml": "yaml"}


def _can_write(actor: Actor) -> bool:
    return actor.role.includes(Role.ANALYST) and actor.can_write


def _see(url: str, done: str) -> RedirectResponse:
    return RedirectResponse(f"{url}?done={done}", status_code=303)


def refusal(error: edit.RegistryEditError) -> tuple[str, int]:
    """The message and status a form shows for a refused change. A missing (or invisible)
    entry and a forbidden change are pages of their own, not form messages."""
    if isinstance(error, edit.EntryNotFound):
        raise NotFoundError(str(error)) from None
    if isinstance(error, edit.NotAllowed):
        raise ForbiddenError(str(error)) from None
    return str(error), 409 if isinstance(error, edit.EntryConflict) else 400


# Form fields as registry entries -------------------------------------------------------------


def _lines(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if line.strip()]


def _items(text: str) -> list[str]:
    """Values separated by commas (ASCII or full-width) or line breaks."""
    flat = text.replace("，", ",").replace("\n", ",")
    return [part.strip() for part in flat.split(",") if part.strip()]


def _marks(text: str) -> list[dict[str, Any]]:
    """Marks one per line, as 'number, jurisdiction, classes' with classes apart by spaces."""
    marks = []
    for number, line in enumerate(_lines(text), start=1):
        parts = [p.strip() for p in line.replace("，", ",").split(",")]
        if len(parts) < 2 or not parts[0] or not parts[1]:
            raise edit.RegistryEditError(
                f"marks, line {number}: write 'number, jurisdiction, classes' "
                "(for example: 8228888, CN, 9 35)"
            )
        classes = " ".join(parts[2:]).split()
        if not all(c.isdigit() and len(c) <= 2 for c in classes):
            raise edit.RegistryEditError(
                f"marks, line {number}: classes are whole numbers from 1 to 45, apart by spaces"
            )
        marks.append(
            {"number": parts[0], "jurisdiction": parts[1], "classes": [int(c) for c in classes]}
        )
    return marks


def _addresses(files: list[str]) -> str:
    """The http(s) addresses of a list of images, one a line: the form edits those; the files
    uploaded to the server are listed, added and removed on the entry's page."""
    return "\n".join(f for f in files if is_address(f))


def _with_files(kept: list[str], text: str) -> list[str]:
    """The files the entry lists (kept as they are) and the addresses the form gives."""
    return [*(f for f in kept if not is_address(f)), *_lines(text)]


def _brand_text(brand: edit.BrandRecord | None) -> dict[str, Any]:
    """The brand form's fields as text: the stored entry's, or empty ones."""
    if brand is None:
        return {
            "name": "",
            "owner": "",
            "aliases": "",
            "categories": "",
            "marks": "",
            "logos": "",
            "counterfeit_images": "",
        }
    entry = brand.brand
    return {
        "name": entry.name,
        "owner": entry.owner or "",
        "aliases": "\n".join(entry.aliases),
        "categories": ", ".join(entry.categories),
        "marks": "\n".join(
            ", ".join([m.number, m.jurisdiction, " ".join(map(str, m.classes))]).rstrip(", ")
            for m in entry.marks
        ),
        "logos": _addresses(entry.logos),
        "counterfeit_images": _addresses(entry.counterfeit_images),
        "common_word": entry.common_word,
    }


def product_text(product: edit.ProductRecord | None) -> dict[str, Any]:
    if product is None:
        return {"model": "", "aliases": "", "category": "", "amount": "", "currency": "CNY"}
    entry = product.product
    return {
        "model": entry.model,
        "aliases": "\n".join(entry.aliases),
        "category": entry.category or "",
        "amount": f"{entry.msrp.amount:g}" if entry.msrp else "",
        "currency": entry.msrp.currency if entry.msrp else "CNY",
        "images": _addresses(entry.images),
    }


class BrandForm:
    """The brand form as posted."""

    def __init__(
        self,
        name: Line = "",
        owner: Annotated[str, Form(max_length=100)] = "",
        aliases: Text = "",
        categories: Text = "",
        marks: Text = "",
        logos: Text = "",
        counterfeit_images: Text = "",
        common_word: Annotated[bool, Form()] = False,
    ) -> None:
        self.text: dict[str, Any] = {
            "name": name,
            "owner": owner,
            "aliases": aliases,
            "categories": categories,
            "marks": marks,
            "logos": logos,
            "counterfeit_images": counterfeit_images,
            "common_word": common_word,
        }

    def entry(self, actor: Actor, stored: edit.BrandRecord | None = None) -> dict[str, Any]:
        text = self.text
        brand = stored.brand if stored is not None else None
        entry = {
            "name": text["name"],
            "aliases": _lines(text["aliases"]),
            "categories": _items(text["categories"]),
            "marks": _marks(text["marks"]),
            "logos": _with_files(brand.logos if brand else [], text["logos"]),
            "counterfeit_images": _with_files(
                brand.counterfeit_images if brand else [], text["counterfeit_images"]
            ),
            "common_word": text["common_word"],
        }
        if actor.is_operator:
            entry["owner"] = text["owner"] or None
        return entry


class ProductForm:
    """The product form as posted."""

    def __init__(
        self,
        model: Line = "",
        aliases: Text = "",
        category: Line = "",
        amount: Annotated[str, Form(max_length=40)] = "",
        currency: Annotated[str, Form(max_length=10)] = "CNY",
        images: Text = "",
    ) -> None:
        self.text: dict[str, Any] = {
            "model": model,
            "aliases": aliases,
            "category": category,
            "amount": amount,
            "currency": currency,
            "images": images,
        }

    def entry(self, stored: edit.ProductRecord | None = None) -> dict[str, Any]:
        text = self.text
        kept = stored.product.images if stored is not None else []
        amount = text["amount"].strip()
        msrp = {"amount": amount, "currency": text["currency"].strip() or "CNY"} if amount else None
        return {
            "model": text["model"],
            "aliases": _lines(text["aliases"]),
            "category": text["category"].strip() or None,
            "msrp": msrp,
            "images": _with_files(kept, text["images"]),
        }


# Brands --------------------------------------------------------------------------------------


@router.get("/registry", name="registry_brands")
def brands(
    request: Request,
    actor: Reader,
    store: StoreDep,
    q: Annotated[str, Query(max_length=200)] = "",
    cursor: PageCursor = None,
    done: Done = None,
) -> Response:
    with service_errors():
        page = edit.list_brands(store, actor, search=q, limit=PAGE_SIZE, cursor=cursor)
        total = edit.count_brands(store, actor, search=q)
    return render(
        request,
        "registry/brands.html",
        {
            "brands": page.items,
            "next_cursor": page.next_cursor,
            "total": total,
            "q": q,
            "paged": cursor is not None,
            "can_write": _can_write(actor),
            "done": done if done in DONE else None,
        },
    )


def _brand_form(
    request: Request,
    store: StoreDep,
    actor: Actor,
    brand: edit.BrandRecord | None,
    text: dict[str, Any],
    *,
    error: str | None = None,
    status: int = 200,
) -> Response:
    owners = edit.owner_choices(store, actor) if actor.is_operator else []
    context = {"brand": brand, "values": text, "owners": owners, "error": error}
    return render(request, "registry/brand_form.html", context, status_code=status)


@router.get("/registry/brands/new", name="registry_brand_new")
def new_brand(request: Request, actor: FormReader, store: StoreDep) -> Response:
    return _brand_form(request, store, actor, None, _brand_text(None))


@router.post("/registry/brands", name="registry_brand_create")
def create_brand(
    request: Request, actor: Writer, store: StoreDep, form: Annotated[BrandForm, Depends()]
) -> Response:
    try:
        record = edit.create_brand(store, actor=actor, entry=form.entry(actor))
    except edit.RegistryEditError as error:
        message, status = refusal(error)
        return _brand_form(request, store, actor, None, form.text, error=message, status=status)
    return _see(f"/registry/brands/{record.id}", "brand_created")


@router.get("/registry/brands/{brand_id}", name="registry_brand")
def brand(
    request: Request,
    brand_id: int,
    actor: Reader,
    store: StoreDep,
    cursor: PageCursor = None,
    done: Done = None,
) -> Response:
    return brand_page(request, store, actor, brand_id, cursor=cursor, done=done)


def _product_images(products: list[edit.ProductRecord]) -> dict[int, list[EntryImage]]:
    return {p.id: entry_images("images", p.product.images) for p in products}


def brand_page(
    request: Request,
    store: StoreDep,
    actor: Actor,
    brand_id: int,
    *,
    cursor: str | None = None,
    done: str | None = None,
    seller_error: str | None = None,
    seller: dict[str, str] | None = None,
    image_error: dict[str, str] | None = None,
    status: int = 200,
) -> Response:
    """The brand's page; a refused form on it comes back with its message (`seller_error`,
    `image_error`: the list it was for, its message and the decoder's reason)."""
    with service_errors():
        record = edit.get_brand(store, actor, brand_id)
        products = edit.list_products(store, actor, brand_id, limit=PAGE_SIZE, cursor=cursor)
    context = {
        "logos": entry_images("logos", record.brand.logos),
        "counterfeit_images": entry_images("counterfeit_images", record.brand.counterfeit_images),
        "product_images": _product_images(products.items),
        "image_error": image_error,
        "brand": record,
        "entry": record.brand,
        "products": products.items,
        "next_cursor": products.next_cursor,
        "paged": cursor is not None,
        "can_write": _can_write(actor),
        "done": done if done in DONE else None,
        "seller_error": seller_error,
        "seller": seller or {"platform": "", "seller_id": ""},
    }
    return render(request, "registry/brand.html", context, status_code=status)


@router.get("/registry/brands/{brand_id}/edit", name="registry_brand_edit")
def edit_brand(request: Request, brand_id: int, actor: FormReader, store: StoreDep) -> Response:
    with service_errors():
        record = edit.get_brand(store, actor, brand_id)
    return _brand_form(request, store, actor, record, _brand_text(record))


@router.post("/registry/brands/{brand_id}/edit", name="registry_brand_update")
def update_brand(
    request: Request,
    brand_id: int,
    actor: Writer,
    store: StoreDep,
    form: Annotated[BrandForm, Depends()],
) -> Response:
    with service_errors():
        record = edit.get_brand(store, actor, brand_id)
    try:
        edit.update_brand(store, brand_id, actor=actor, changes=form.entry(actor, record))
    except edit.RegistryEditError as error:
        message, status = refusal(error)
        return _brand_form(request, store, actor, record, form.text, error=message, status=status)
    return _see(f"/registry/brands/{brand_id}", "brand_updated")


@router.post("/registry/brands/{brand_id}/delete", name="registry_brand_delete")
def delete_brand(brand_id: int, actor: Writer, store: StoreDep) -> Response:
    with service_errors():
        edit.delete_brand(store, brand_id, actor=actor)
    return _see("/registry", "brand_deleted")


@router.post("/registry/brands/{brand_id}/sellers", name="registry_seller_add")
def add_seller(
    request: Request,
    brand_id: int,
    actor: Writer,
    store: StoreDep,
    platform: Annotated[str, Form(max_length=edit.MAX_PLATFORM)] = "",
    seller_id: Annotated[str, Form(max_length=edit.MAX_NAME)] = "",
) -> Response:
    seller = {"platform": platform, "seller_id": seller_id}
    try:
        edit.add_authorized_seller(store, brand_id, actor=actor, seller=seller)
    except edit.RegistryEditError as error:
        message, status = refusal(error)
        return brand_page(
            request, store, actor, brand_id, seller_error=message, seller=seller, status=status
        )
    return _see(f"/registry/brands/{brand_id}", "seller_added")


@router.post("/registry/brands/{brand_id}/sellers/remove", name="registry_seller_remove")
def remove_seller(
    request: Request,
    brand_id: int,
    actor: Writer,
    store: StoreDep,
    platform: Annotated[str, Form(max_length=edit.MAX_PLATFORM)] = "",
    seller_id: Annotated[str, Form(max_length=edit.MAX_NAME)] = "",
) -> Response:
    seller = {"platform": platform, "seller_id": seller_id}
    try:
        edit.remove_authorized_seller(store, brand_id, actor=actor, seller=seller)
    except edit.RegistryEditError as error:
        message, status = refusal(error)
        return brand_page(request, store, actor, brand_id, seller_error=message, status=status)
    return _see(f"/registry/brands/{brand_id}", "seller_removed")


# Products ------------------------------------------------------------------------------------


def product_form(
    request: Request,
    brand: edit.BrandRecord,
    product: edit.ProductRecord | None,
    text: dict[str, Any],
    *,
    error: str | None = None,
    done: str | None = None,
    image_error: dict[str, str] | None = None,
    status: int = 200,
) -> Response:
    """The product form; for a stored product also its photos, which are uploaded and
    removed here (`image_error`: a refused upload's message and the decoder's reason)."""
    context = {
        "brand": brand,
        "product": product,
        "values": text,
        "error": error,
        "done": done if done in DONE else None,
        "images": entry_images("images", product.product.images) if product else [],
        "image_error": image_error,
    }
    return render(request, "registry/product_form.html", context, status_code=status)


@router.get("/registry/brands/{brand_id}/products/new", name="registry_product_new")
def new_product(request: Request, brand_id: int, actor: FormReader, store: StoreDep) -> Response:
    with service_errors():
        record = edit.get_brand(store, actor, brand_id)
    return product_form(request, record, None, product_text(None))


@router.post("/registry/brands/{brand_id}/products", name="registry_product_create")
def create_product(
    request: Request,
    brand_id: int,
    actor: Writer,
    store: StoreDep,
    form: Annotated[ProductForm, Depends()],
) -> Response:
    with service_errors():
        record = edit.get_brand(store, actor, brand_id)
    try:
        edit.create_product(store, brand_id, actor=actor, entry=form.entry())
    except edit.RegistryEditError as error:
        message, status = refusal(error)
        return product_form(request, record, None, form.text, error=message, status=status)
    return _see(f"/registry/brands/{brand_id}", "product_created")


@router.get("/registry/products/{product_id}/edit", name="registry_product_edit")
def edit_product(
    request: Request, product_id: int, actor: FormReader, store: StoreDep, done: Done = None
) -> Response:
    with service_errors():
        product = edit.get_product(store, actor, product_id)
        record = edit.get_brand(store, actor, product.brand_id)
    return product_form(request, record, product, product_text(product), done=done)


@router.post("/registry/products/{product_id}/edit", name="registry_product_update")
def update_product(
    request: Request,
    product_id: int,
    actor: Writer,
    store: StoreDep,
    form: Annotated[ProductForm, Depends()],
) -> Response:
    with service_errors():
        product = edit.get_product(store, actor, product_id)
        record = edit.get_brand(store, actor, product.brand_id)
    try:
        edit.update_product(store, product_id, actor=actor, changes=form.entry(product))
    except edit.RegistryEditError as error:
        message, status = refusal(error)
        return product_form(request, record, product, form.text, error=message, status=status)
    return _see(f"/registry/brands/{record.id}", "product_updated")


@router.post("/registry/products/{product_id}/delete", name="registry_product_delete")
def delete_product(product_id: int, actor: Writer, store: StoreDep) -> Response:
    with service_errors():
        product = edit.get_product(store, actor, product_id)
        edit.delete_product(store, product_id, actor=actor)
    return _see(f"/registry/brands/{product.brand_id}", "product_deleted")


# Uploading a registry file -------------------------------------------------------------------


@router.get("/registry/upload", name="registry_upload_form")
def upload_form(request: Request, actor: FormReader) -> Response:
    return render(request, "registry/upload.html", {"report": None, "error": None})


def _file_format(file: UploadFile) -> UploadFormat | None:
    suffix = PurePath(file.filename or "").suffix.lower()
    if suffix in FILE_FORMATS:
        return FILE_FORMATS[suffix]
    media = (file.content_type or "").split(";")[0].strip().lower()
    return UPLOAD_TYPES.get(media)


@router.post("/registry/upload", name="registry_upload")
async def upload(
    request: Request,
    actor: Writer,
    store: StoreDep,
    file: Annotated[UploadFile | None, File()] = None,
    strict: Annotated[bool, Form()] = False,
) -> Response:
    def refuse(message: str, status: int) -> Response:
        context = {"report": None, "error": message, "strict": strict}
        return render(request, "registry/upload.html", context, status_code=status)

    if file is None or not file.filename:
        return refuse("choose a registry file (.yaml, .yml or .json) to upload", 400)
    fmt = _file_format(file)
    if fmt is None:
        return refuse(
            f"{PurePath(file.filename).name} is neither YAML nor JSON: upload a .yaml, .yml or "
            ".json registry file (see docs/formats.md)",
            415,
        )
    content = await file.read()
    try:
        report = await run_in_threadpool(
            load_uploaded_registry,
            store,
            actor,
            content,
            fmt=fmt,
            filename=file.filename,
            strict=strict,
        )
    except RegistryFileError as error:
        return refuse(str(error), 400)
    except edit.RegistryEditError as error:
        message, status = refusal(error)
        return refuse(message, status)
    context = {"report": upload_out(report), "error": None, "strict": strict}
    return render(request, "registry/upload.html", context)
