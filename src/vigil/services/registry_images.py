"""Listing images among registry entries: a brand's logos and counterfeit-case photos, a
product's official photos. The image files themselves are stored by `vigil.services.media`;
this records which entry lists them, through the same audited changes as every registry edit.
"""

from __future__ import annotations

from vigil.domain.people import Actor
from vigil.services.registry_edit import (
    BRAND_IMAGES,
    BrandRecord,
    ProductRecord,
    RegistryEditError,
    _brand_entry,
    _brand_record,
    _brand_row,
    _change_brand,
    _change_product,
    _product_record,
    _product_rows,
    check_writer,
)
from vigil.store.db import Store


def _with_file(files: list[str], file: str, *, add: bool, what: str) -> list[str] | None:
    """The list with `file` added or removed; None when adding one it already has."""
    if add:
        return None if file in files else [*files, file]
    if file not in files:
        raise RegistryEditError(f"{file!r} is not among the {what}; reload the page")
    return [f for f in files if f != file]


def _check_image_field(field: str) -> None:
    if field not in BRAND_IMAGES:
        raise RegistryEditError(
            f"a brand's images are its {' or '.join(BRAND_IMAGES)}, not {field!r}"
        )


def add_brand_image(
    store: Store, brand_id: int, *, actor: Actor, field: str, file: str, sha256: str
) -> BrandRecord:
    """List an image the caller has stored (`media.store_registry_image`) among the brand's
    `logos` or `counterfeit_images`; listing it again changes nothing."""
    check_writer(actor)
    _check_image_field(field)
    with store.session() as session:
        row = _brand_row(session, actor, brand_id)
        files = _with_file(list(getattr(_brand_entry(row), field)), file, add=True, what=field)
        if files is not None:
            row = _change_brand(
                session, actor, row, {field: files}, action="brand.image.add",
                added=frozenset({file}), note={"image": {"field": field, "file": file,
                                                         "sha256": sha256}},
            )  # fmt: skip
        return _brand_record(session, row)


def remove_brand_image(
    store: Store, brand_id: int, *, actor: Actor, field: str, file: str
) -> BrandRecord:
    """Stop listing an image (a file or an address) among the brand's logos or
    counterfeit-case photos. The file itself stays: other entries may list it."""
    check_writer(actor)
    _check_image_field(field)
    with store.session() as session:
        row = _brand_row(session, actor, brand_id)
        files = _with_file(list(getattr(_brand_entry(row), field)), file, add=False, what=field)
        row = _change_brand(
            session, actor, row, {field: files}, action="brand.image.remove",
            note={"image": {"field": field, "file": file}},
        )  # fmt: skip
        return _brand_record(session, row)


def add_product_image(
    store: Store, product_id: int, *, actor: Actor, file: str, sha256: str
) -> ProductRecord:
    """List an image the caller has stored among the product's official photos."""
    check_writer(actor)
    with store.session() as session:
        row, brand = _product_rows(session, actor, product_id)
        current = _product_record(row, brand)
        files = _with_file(list(current.product.images), file, add=True, what="images")
        if files is None:
            return current
        return _change_product(
            session, actor, row, brand, {"images": files}, action="product.image.add",
            added=frozenset({file}), note={"image": {"file": file, "sha256": sha256}},
        )  # fmt: skip


def remove_product_image(
    store: Store, product_id: int, *, actor: Actor, file: str
) -> ProductRecord:
    """Stop listing an image among the product's official photos."""
    check_writer(actor)
    with store.session() as session:
        row, brand = _product_rows(session, actor, product_id)
        images = list(_product_record(row, brand).product.images)
        files = _with_file(images, file, add=False, what="official images")
        return _change_product(
            session, actor, row, brand, {"images": files}, action="product.image.remove",
            note={"image": {"file": file}},
        )  # fmt: skip
