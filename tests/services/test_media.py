"""The media service: which image bytes a listing or a registry entry may serve, and how
uploaded registry images are decoded, re-encoded and kept."""

from __future__ import annotations

import hashlib
import io
import os
from datetime import UTC, datetime
from pathlib import Path

import pytest
from PIL import Image, PngImagePlugin
from sqlalchemy import insert

from tests.services.test_assessments import ACME, OPERATOR, SHOPMART, create_members
from vigil.images.decode import sniff
from vigil.images.fetch import ImageFetcher
from vigil.services import media, registry_edit
from vigil.services.media import (
    MAX_SIDE,
    MediaNotFound,
    MediaPlaces,
    UnusableImage,
    entry_images,
    listing_image,
    named_digests,
    store_registry_image,
)
from vigil.store.db import Store
from vigil.store.tables import BrandRow, ListingAccessRow, ListingRow, SignalRow


def picture(fmt: str = "PNG", size: tuple[int, int] = (80, 60), **save: object) -> bytes:
    image = Image.new("RGB", size, (40, 90, 160))
    image.paste((240, 200, 30), (size[0] // 4, size[1] // 4, size[0] // 2, size[1] // 2))
    buffer = io.BytesIO()
    image.save(buffer, fmt, **save)
    return buffer.getvalue()


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@pytest.fixture
def places(tmp_path: Path) -> MediaPlaces:
    return MediaPlaces(
        blobs=ImageFetcher(tmp_path / "cache" / "images"), assets=tmp_path / "assets"
    )


# Uploads -------------------------------------------------------------------------------------


def test_a_logo_is_kept_as_png_and_a_photo_as_jpeg_by_content(places: MediaPlaces) -> None:
    sent = picture("JPEG")
    logo = store_registry_image(sent, kind="logo", places=places)
    photo = store_registry_image(picture("PNG"), kind="photo", places=places)
    for stored, fmt, suffix in ((logo, "PNG", "png"), (photo, "JPEG", "jpg")):
        data = stored.path.read_bytes()
        assert stored.format == fmt and sniff(data) == fmt
        assert stored.path == places.assets / sha(data)[:2] / f"{sha(data)}.{suffix}"
        assert stored.sha256 == sha(data) and (stored.width, stored.height) == (80, 60)
    # The same picture again is the same file; no temporary file is left behind.
    assert store_registry_image(sent, kind="logo", places=places).path == logo.path
    assert sorted(p.name for p in places.assets.rglob("*")) == sorted(
        [logo.path.parent.name, logo.path.name, photo.path.parent.name, photo.path.name]
    )


def test_what_is_kept_is_pixels_never_the_uploaded_file(places: MediaPlaces) -> None:
    info = PngImagePlugin.PngInfo()
    info.add_text("Comment", "secret payload <script>")
    sent = picture("PNG", pnginfo=info)
    assert b"secret payload" in sent
    stored = store_registry_image(sent, kind="logo", places=places)
    assert b"secret payload" not in stored.path.read_bytes()


def test_large_images_are_kept_at_a_bounded_size(places: MediaPlaces) -> None:
    stored = store_registry_image(picture("PNG", (MAX_SIDE * 2, 300)), kind="photo", places=places)
    assert (stored.width, stored.height) == (MAX_SIDE, 150)
    assert any("downscaled" in note for note in stored.notes)


@pytest.mark.parametrize(
    ("sent", "problem", "says"),
    [
        (b"", "empty", "0 bytes"),
        (b"<!doctype html><html>404</html>", "not_image", "HTML"),
        (b"%PDF-1.7\n", "not_image", "PDF"),
        (picture("JPEG")[:150], "corrupt", "truncated or corrupt JPEG"),
    ],
    ids=["empty", "html", "pdf", "truncated"],
)
def test_unusable_uploads_say_what_is_wrong(
    places: MediaPlaces, sent: bytes, problem: str, says: str
) -> None:
    with pytest.raises(UnusableImage) as refused:
        store_registry_image(sent, kind="photo", places=places)
    assert refused.value.problem == problem and says in str(refused.value)
    assert not places.assets.exists()


def test_too_many_pixels_are_refused_before_decoding(tmp_path: Path) -> None:
    small_cap = MediaPlaces(blobs=None, assets=tmp_path / "assets", max_pixels=1000)
    with pytest.raises(UnusableImage) as refused:
        store_registry_image(picture("PNG", (100, 100)), kind="logo", places=small_cap)
    assert refused.value.problem == "too_many_pixels" and "10,000 pixels" in str(refused.value)


def test_places_follow_the_homes_configuration(tmp_path: Path) -> None:
    (tmp_path / "config.yaml").write_text(
        "detectors:\n  images:\n    min_quality: 60\n    max_pixels: 5000\n", encoding="utf-8"
    )
    found = MediaPlaces.for_home(tmp_path)
    assert found.blobs is not None and found.blobs.cache_dir == tmp_path / "cache" / "images"
    assert found.assets == tmp_path.resolve() / "assets"
    assert (found.min_quality, found.max_pixels) == (60, 5000)


# Listing images -----------------------------------------------------------------------------


def test_named_digests_come_from_records_and_image_signals() -> None:
    records = [{"ref": "a", "sha256": "1" * 64}, {"ref": "b", "error": "gone"}, "junk", None]
    details = [{"image_sha256": "1" * 64, "asset_sha256": "2" * 64}, {"asset_sha256": 5}, {}]
    assert named_digests(records, details) == {"1" * 64, "2" * 64}


def _listing(store: Store, *, records: list[object], signal: dict[str, object] | None) -> int:
    now = datetime.now(UTC)
    with store.session() as session:
        pk = session.execute(
            insert(ListingRow)
            .values(
                platform="jd", listing_id=f"L{len(records)}-{id(signal)}", title="t",
                currency="CNY", condition="new", images=[], image_records=records,
                verdict="counterfeit_suspected", risk=0.9, log_odds=2.0, scanned_at=now,
            )
            .returning(ListingRow.id)
        ).scalar_one()  # fmt: skip
        session.add(ListingAccessRow(listing_pk=pk, member_id="acme", reason="brand"))
        if signal is not None:
            session.add(
                SignalRow(
                    listing_pk=pk, detector="images", kind="logo_match", asset="logo:X",
                    weight=2.0, evidence="e", explanation="x", details=signal,
                )
            )  # fmt: skip
    return pk


def test_a_listing_serves_only_the_images_it_names(store: Store, places: MediaPlaces) -> None:
    create_members(store)
    assert places.blobs is not None
    photo, logo, stranger = picture("JPEG"), picture("PNG"), picture("GIF")
    for data in (photo, logo, stranger):
        places.blobs.store_blob(data)
    pk = _listing(
        store,
        records=[{"ref": "https://x.test/p.jpg", "sha256": sha(photo)}],
        signal={"image_sha256": sha(photo), "asset_sha256": sha(logo)},
    )
    found = listing_image(store, ACME, pk, sha(photo), places=places)
    assert (found.data, found.media_type) == (photo, "image/jpeg")
    assert listing_image(store, OPERATOR, pk, sha(logo), places=places).media_type == "image/png"
    for actor, digest in (
        (ACME, sha(stranger)),  # in the store, but another listing's
        (ACME, "f" * 64),
        (ACME, "not-a-digest"),
        (SHOPMART, sha(photo)),  # a member who cannot see the listing
    ):
        with pytest.raises(MediaNotFound):
            listing_image(store, actor, pk, digest, places=places)
    without_store = MediaPlaces(blobs=None, assets=places.assets)
    with pytest.raises(MediaNotFound, match="not kept"):
        listing_image(store, ACME, pk, sha(photo), places=without_store)


def test_a_named_blob_that_is_not_an_image_is_never_served(
    store: Store, places: MediaPlaces
) -> None:
    create_members(store)
    assert places.blobs is not None
    page = b"<html><script>alert(1)</script></html>"
    places.blobs.store_blob(page)
    pk = _listing(store, records=[{"ref": "x", "sha256": sha(page)}], signal=None)
    with pytest.raises(MediaNotFound, match="not an image"):
        listing_image(store, ACME, pk, sha(page), places=places)


# Registry entries' images -------------------------------------------------------------------


def test_entry_images_are_named_by_the_digest_of_their_content(tmp_path: Path) -> None:
    logo = tmp_path / "logo.png"
    logo.write_bytes(picture("PNG"))
    text = tmp_path / "notes.png"
    text.write_bytes(b"just text")
    shown = entry_images(
        "logos", [str(logo), "https://x.test/l.png", str(tmp_path / "gone.png"), str(text)]
    )
    assert [(i.name, i.sha256, i.address, i.missing) for i in shown] == [
        ("logo.png", sha(logo.read_bytes()), None, False),
        ("https://x.test/l.png", None, "https://x.test/l.png", False),
        ("gone.png", None, None, True),
        ("notes.png", None, None, True),  # not an image: never named, never served
    ]
    # A file that changes is read again.
    logo.write_bytes(picture("PNG", (90, 60)))
    os.utime(logo, ns=(1, 1))
    assert entry_images("logos", [str(logo)])[0].sha256 == sha(logo.read_bytes())


def test_a_brand_serves_only_its_own_listed_files(store: Store, tmp_path: Path) -> None:
    create_members(store)
    logo, other = tmp_path / "logo.png", tmp_path / "other.png"
    logo.write_bytes(picture("PNG"))
    other.write_bytes(picture("PNG", (30, 30)))
    record = registry_edit.create_brand(store, actor=ACME, entry={"name": "Acme"})
    with store.session() as session:
        row = session.get(BrandRow, record.id)
        assert row is not None
        row.entry = {**row.entry, "logos": [str(logo)]}
    served = media.brand_image(store, ACME, record.id, sha(logo.read_bytes()))
    assert served.data == logo.read_bytes()
    with pytest.raises(MediaNotFound):
        media.brand_image(store, ACME, record.id, sha(other.read_bytes()))
    with pytest.raises(MediaNotFound):
        media.brand_image(store, SHOPMART, record.id, sha(logo.read_bytes()))
