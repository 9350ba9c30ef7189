"""The bytes of the images people look at, and images uploaded into the registry.

Three kinds of picture reach a page:

- a listing's photos and the registry photos and logos they matched, read from the scan's
  content-addressed store (`ImageFetcher.blob_path`), by digest. A digest is served for a
  listing only when the listing's own image records or image signals name it, so a digest
  that is in the store for another listing is not reachable through this one;
- the photos and logos a registry entry lists, read from the files the entry names, only for an
  entry the actor may see and only when a file's content has the digest asked for;
- nothing else: no path ever comes from a request, and bytes that are not an image (by their
  magic bytes) are never served, whatever a file is called.

Uploaded registry images are decoded under the pixel cap, re-encoded (PNG for logos, JPEG for
photos, so that what is kept is pixels and never the uploader's file with its metadata or
payload) and stored under `<home>/assets/<sha[:2]>/<sha>.<ext>`.
"""

from __future__ import annotations

import hashlib
import re
import stat
import threading
from collections import OrderedDict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from io import BytesIO
from pathlib import Path, PurePath
from typing import Any, Literal

from sqlalchemy import select

from vigil.domain.people import Actor
from vigil.errors import VigilError
from vigil.files import write_atomic
from vigil.images.decode import ACCEPTED, UnreadableImage, decode_image, sniff, why_not_image
from vigil.images.fetch import ImageFetcher
from vigil.services import registry_edit as edit
from vigil.services.tenancy import visible_listings
from vigil.settings import load_scan_config
from vigil.store.db import Store
from vigil.store.tables import ListingRow, SignalRow

SHA256 = re.compile(r"[0-9a-f]{64}")
MEDIA_TYPES = {
    "JPEG": "image/jpeg",
    "PNG": "image/png",
    "GIF": "image/gif",
    "WEBP": "image/webp",
    "BMP": "image/bmp",
}
# The detector whose signals name images, and the details that name them by digest.
IMAGE_DETECTOR = "images"
DIGEST_DETAILS = ("image_sha256", "asset_sha256")
# The scan's defaults (vigil/data/detectors/images.yaml), when the configuration says nothing.
DEFAULT_MAX_PIXELS = 40_000_000
DEFAULT_MIN_QUALITY = 50
# Uploaded images are kept at most this large on their longer side: scans look at 1024 pixels,
# people at a little more; larger originals would only fill the disk.
MAX_SIDE = 2048
JPEG_QUALITY = 92
# Registry files larger than this are not read (the fetcher's own default cap).
MAX_FILE_BYTES = 20 << 20
UploadKind = Literal["logo", "photo"]


class MediaNotFound(VigilError):
    """No such image for this listing or entry, or not one the actor may see."""


class UnusableImage(VigilError):
    """An uploaded file that cannot be stored as an image.

    `problem` names the kind of problem (`empty`, `not_image`, `too_many_pixels`, `corrupt`),
    so that pages can word it in the visitor's language; the message is the decoder's reason."""

    def __init__(self, problem: str, reason: str) -> None:
        super().__init__(reason)
        self.problem = problem
        self.reason = reason


@dataclass(frozen=True, slots=True)
class Media:
    """An image's bytes, ready to send."""

    data: bytes
    media_type: str
    sha256: str

    @property
    def extension(self) -> str:
        return self.media_type.removeprefix("image/").replace("jpeg", "jpg")


@dataclass(frozen=True)
class MediaPlaces:
    """Where one installation keeps images, and the scan's limits for them."""

    blobs: ImageFetcher | None  # the scan's content-addressed store; None when scans keep none
    assets: Path  # registry images uploaded through the web (absolute)
    max_pixels: int = DEFAULT_MAX_PIXELS
    min_quality: int = DEFAULT_MIN_QUALITY

    @classmethod
    def for_home(cls, home: Path) -> MediaPlaces:
        """The places of the installation at `home`, as its scan configuration sets them."""
        home = home.resolve()
        config = load_scan_config(home)
        images: Mapping[str, Any] = config.detectors.get("images", {}) or {}
        blobs = ImageFetcher(Path(config.cache_dir) / "images") if config.cache_dir else None
        return cls(
            blobs=blobs,
            assets=home / "assets",
            max_pixels=_whole(images.get("max_pixels"), DEFAULT_MAX_PIXELS),
            min_quality=_whole(images.get("min_quality"), DEFAULT_MIN_QUALITY),
        )

    def kept(self, sha256: str | None) -> bool:
        """Whether the store has the bytes with this digest."""
        return bool(sha256 and self.blobs is not None and self.blobs.blob_path(sha256) is not None)


def _whole(value: Any, default: int) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else default


# Serving ------------------------------------------------------------------------------------


def _checked(data: bytes, sha256: str, where: str) -> Media:
    """`data` as an image with this digest; anything else is treated as missing."""
    if hashlib.sha256(data).hexdigest() != sha256:
        # Changed or damaged on disk since it was named: not the image asked for.
        raise MediaNotFound(f"{where}: the stored copy no longer has this content")
    found = sniff(data)
    if found is None:
        raise MediaNotFound(f"{where}: the stored file is not an image")
    return Media(data=data, media_type=MEDIA_TYPES[found], sha256=sha256)


def _read_regular(path: Path, limit: int) -> bytes | None:
    """The bytes of a regular file no larger than `limit`, None for anything else."""
    try:
        info = path.stat()
        if not stat.S_ISREG(info.st_mode) or info.st_size > limit:
            return None
        with path.open("rb") as handle:
            data = handle.read(limit + 1)
    except OSError:
        return None
    return data if len(data) <= limit else None


def named_digests(records: Iterable[Any], signal_details: Iterable[Mapping[str, Any]]) -> set[str]:
    """The digests a listing names: its image records' and its image signals'."""
    names = set()
    for record in records:
        if isinstance(record, Mapping) and isinstance(record.get("sha256"), str):
            names.add(record["sha256"])
    for details in signal_details:
        for key in DIGEST_DETAILS:
            value = details.get(key)
            if isinstance(value, str) and value:
                names.add(value)
    return names


def listing_image(
    store: Store, actor: Actor, listing_pk: int, sha256: str, *, places: MediaPlaces
) -> Media:
    """A photo of the listing, or a registry image one of its photos matched, by digest."""
    missing = f"listing {listing_pk} has no image {sha256[:80]!r}"
    if not SHA256.fullmatch(sha256):
        raise MediaNotFound(f"{missing}: an image is named by the 64 hex digits of its SHA-256")
    with store.session() as session:
        found = session.execute(
            select(ListingRow.id, ListingRow.image_records).where(
                ListingRow.id == listing_pk, visible_listings(actor)
            )
        ).first()
        if found is None:
            raise MediaNotFound(f"no listing {listing_pk}")
        details = session.scalars(
            select(SignalRow.details).where(
                SignalRow.listing_pk == listing_pk, SignalRow.detector == IMAGE_DETECTOR
            )
        )
        names = named_digests(found.image_records or [], (d or {} for d in details))
    if sha256 not in names:
        raise MediaNotFound(missing)
    path = places.blobs.blob_path(sha256) if places.blobs is not None else None
    data = _read_regular(path, MAX_FILE_BYTES * 4) if path is not None else None
    if data is None:
        raise MediaNotFound(f"{missing}: its bytes are not kept on this server")
    return _checked(data, sha256, missing)


# Registry entries' images -------------------------------------------------------------------


def is_address(file: str) -> bool:
    return file.lower().startswith(("http://", "https://"))


class _Digests:
    """SHA-256 of registry files, remembered while a file's size and time stay the same, so
    that showing a brand's page does not read every photo again."""

    def __init__(self, size: int = 4096) -> None:
        self.size = size
        self.known: OrderedDict[tuple[str, int, int], str] = OrderedDict()
        self.lock = threading.Lock()

    def of(self, file: str) -> str | None:
        path = Path(file)
        try:
            info = path.stat()
        except OSError:
            return None
        if not stat.S_ISREG(info.st_mode) or info.st_size > MAX_FILE_BYTES:
            return None
        key = (file, info.st_size, info.st_mtime_ns)
        with self.lock:
            if key in self.known:
                self.known.move_to_end(key)
                return self.known[key]
        data = _read_regular(path, MAX_FILE_BYTES)
        if data is None or sniff(data) is None:
            return None
        digest = hashlib.sha256(data).hexdigest()
        with self.lock:
            self.known[key] = digest
            if len(self.known) > self.size:
                self.known.popitem(last=False)
        return digest


_DIGESTS = _Digests()


@dataclass(frozen=True, slots=True)
class EntryImage:
    """One image a registry entry lists, as a page shows it."""

    field: str  # logos, counterfeit_images or images
    file: str  # as the entry lists it
    name: str  # what a person reads: the address, or the file's name
    sha256: str | None  # of a readable local image file; it is served by this digest
    address: str | None  # an http(s) address, which the browser loads itself

    @property
    def missing(self) -> bool:
        """A local file that cannot be read as an image (gone, unreadable, not an image)."""
        return self.sha256 is None and self.address is None


def entry_images(field: str, files: Iterable[str]) -> list[EntryImage]:
    """The images of one list of an entry (`logos`, `counterfeit_images`, `images`)."""
    shown = []
    for file in files:
        if is_address(file):
            shown.append(EntryImage(field, file, file, None, file))
        else:
            shown.append(EntryImage(field, file, PurePath(file).name, _DIGESTS.of(file), None))
    return shown


def _entry_file(files: Iterable[str], sha256: str, missing: str) -> Media:
    if SHA256.fullmatch(sha256):
        for file in files:
            if not is_address(file) and _DIGESTS.of(file) == sha256:
                data = _read_regular(Path(file), MAX_FILE_BYTES)
                if data is not None:
                    return _checked(data, sha256, missing)
    raise MediaNotFound(missing)


def brand_image(store: Store, actor: Actor, brand_id: int, sha256: str) -> Media:
    """A logo or counterfeit-case photo the brand lists, by the digest of its content."""
    try:
        brand = edit.get_brand(store, actor, brand_id).brand
    except edit.EntryNotFound:
        raise MediaNotFound(f"no brand {brand_id}") from None
    files = [*brand.logos, *brand.counterfeit_images]
    return _entry_file(files, sha256, f"brand {brand_id} has no image {sha256[:80]!r}")


def product_image(store: Store, actor: Actor, product_id: int, sha256: str) -> Media:
    """An official photo the product lists, by the digest of its content."""
    try:
        product = edit.get_product(store, actor, product_id).product
    except edit.EntryNotFound:
        raise MediaNotFound(f"no product {product_id}") from None
    return _entry_file(product.images, sha256, f"product {product_id} has no image {sha256[:80]!r}")


# Uploads ------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class StoredImage:
    """An uploaded image as it was kept."""

    path: Path
    sha256: str
    format: str  # as stored: PNG or JPEG
    width: int
    height: int
    notes: tuple[str, ...]


def _problem(reason: str) -> str:
    if reason.startswith("image too large"):
        return "too_many_pixels"
    return "corrupt"


def store_registry_image(data: bytes, *, kind: UploadKind, places: MediaPlaces) -> StoredImage:
    """Decode an uploaded image, re-encode it (PNG for a logo, JPEG for a photo) and keep it
    under the installation's assets; raises UnusableImage for anything that is not one."""
    if not data:
        raise UnusableImage("empty", f"the file is empty (0 bytes); choose a {ACCEPTED} image")
    if sniff(data) is None:
        raise UnusableImage("not_image", why_not_image(data))
    try:
        decoded = decode_image(data, max_pixels=places.max_pixels, max_side=MAX_SIDE)
    except UnreadableImage as error:
        raise UnusableImage(_problem(error.reason), error.reason) from None
    buffer = BytesIO()
    if kind == "logo":
        decoded.image.save(buffer, "PNG")
        fmt, suffix = "PNG", "png"
    else:
        decoded.image.save(buffer, "JPEG", quality=JPEG_QUALITY, optimize=True)
        fmt, suffix = "JPEG", "jpg"
    encoded = buffer.getvalue()
    sha256 = hashlib.sha256(encoded).hexdigest()
    path = places.assets / sha256[:2] / f"{sha256}.{suffix}"
    if not path.is_file():
        _write_atomic(path, encoded)
    width, height = decoded.image.size
    return StoredImage(path, sha256, fmt, width, height, decoded.notes)


def _write_atomic(path: Path, data: bytes) -> None:
    write_atomic(path, data, what="the registry's image store")
