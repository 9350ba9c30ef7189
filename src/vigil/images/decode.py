"""Turning untrusted image bytes into a small RGB picture, or a reason why not.

Listing photos come from marketplaces we do not control, so every step assumes hostile input:

- The format is decided from the magic bytes (`sniff`), never from a file name or a served
  Content-Type, and only JPEG, PNG, GIF, WebP and BMP are taken. Bytes that are not one of those
  get a reason naming what they look like instead (an HTML error page saved as `.jpg` is the
  usual culprit), so a person can tell a broken link from a wrong format. Pillow is then told to
  try only the sniffed format, which keeps its long list of rarely used plugins out of reach.
- Opening with Pillow reads the header only. The pixel count is checked against `max_pixels`
  before a single pixel is decoded, so a tiny file claiming 100000x100000 pixels is refused
  without allocating anything. Pillow has a process-wide guard of its own
  (`Image.MAX_IMAGE_PIXELS`); we leave that global alone, because changing it per call would race
  between threads, and instead turn its warning and error into the same refusal. Other warnings
  Pillow emits while decoding (odd EXIF, odd palettes) become notes on the result rather than
  noise in the log.
- For JPEG, `Image.draft` lets libjpeg decode at 1/2, 1/4 or 1/8 scale when the caller only wants
  a small picture: most of the cost of a large photo is never paid. A Lanczos resize then brings
  the longer side to exactly `max_side`.
- Every mode ends up as 8-bit RGB: transparency is composited on white (what a shopper sees on a
  listing page), 16-bit samples are scaled rather than clipped (Pillow's own conversion clips
  them to white), CMYK goes through Pillow's conversion. Animated images give their first frame.
- Pillow raises many exception types on broken data (OSError, SyntaxError, struct.error, ...);
  all of them become `UnreadableImage` with a reason, so callers handle exactly one exception.

Capturing warnings means swapping the process-wide warning filters (`warnings.catch_warnings`),
which Python 3.11 does not make safe across threads: two overlapping captures can restore each
other's state and leave warnings silenced for good. Decodes therefore take a lock, so threads of
one process decode one image at a time; parallel decoding belongs in separate processes, which
is how the pipeline fans out anyway.
"""

from __future__ import annotations

import io
import re
import struct
import threading
import warnings
import zlib
from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from vigil.errors import VigilError

FORMATS = {"JPEG", "PNG", "GIF", "WEBP", "BMP"}
ACCEPTED = "JPEG, PNG, GIF, WebP or BMP"
_DISPLAY = {"WEBP": "WebP"}

# Size of the BMP information header, which follows the 14-byte file header: "BM" alone is too
# common at the start of text to mean BMP.
_BMP_INFO_SIZES = {12, 16, 40, 52, 56, 64, 108, 124}
# Formats we recognise but do not take, by their magic bytes, so the reason can name them.
_OTHER_FORMATS: tuple[tuple[bytes, int, str], ...] = (
    (b"II*\x00", 0, "TIFF"),
    (b"MM\x00*", 0, "TIFF"),
    (b"%PDF", 0, "PDF"),
    (b"8BPS", 0, "Photoshop (PSD)"),
    (b"\x00\x00\x01\x00", 0, "ICO"),
    (b"ftypheic", 4, "HEIC"),
    (b"ftypheix", 4, "HEIC"),
    (b"ftypmif1", 4, "HEIF"),
    (b"ftypavif", 4, "AVIF"),
    (b"\x00\x00\x00\x0cjP  ", 0, "JPEG 2000"),
    (b"\xff\x0a", 0, "JPEG XL"),
    (b"\x00\x00\x00\x0cJXL ", 0, "JPEG XL"),
)
# Everything Pillow's plugins are known to raise on malformed data. Anything else is a bug of
# ours and should surface as one.
_DECODER_ERRORS = (
    OSError,
    SyntaxError,
    ValueError,
    EOFError,
    struct.error,
    IndexError,
    KeyError,
    TypeError,
    zlib.error,
    Image.DecompressionBombError,
)
_PIXEL_COUNT = re.compile(r"\((\d+) pixels\)")
_CAPTURE_LOCK = threading.Lock()


class UnreadableImage(VigilError):
    """Bytes that are not an image we can use; `reason` says what is wrong and what to do."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True, slots=True)
class Decoded:
    """A decoded image: RGB, upright, fully loaded, possibly downscaled."""

    image: Image.Image
    format: str
    width: int
    height: int
    notes: tuple[str, ...]


def sniff(data: bytes) -> str | None:
    """The format of `data` from its magic bytes ("JPEG", "PNG", ...), None if not one we take."""
    if data.startswith(b"\xff\xd8\xff"):
        return "JPEG"
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "PNG"
    if data.startswith((b"GIF87a", b"GIF89a")):
        return "GIF"
    if data.startswith(b"RIFF") and data[8:12] == b"WEBP":
        return "WEBP"
    if data.startswith(b"BM") and len(data) >= 18:
        (info_size,) = struct.unpack_from("<I", data, 14)
        if info_size in _BMP_INFO_SIZES:
            return "BMP"
    return None


def why_not_image(data: bytes) -> str:
    """A reason for bytes `sniff` refuses: what they look like, and what to supply instead."""
    if not data:
        return f"empty file (0 bytes); supply a {ACCEPTED} image"
    for magic, offset, name in _OTHER_FORMATS:
        if data[offset : offset + len(magic)] == magic:
            return f"{name} images are not accepted; convert it to {ACCEPTED}"
    looks_like = _looks_like(data[:512])
    if looks_like == "SVG":
        return f"SVG images are not accepted; convert it to {ACCEPTED}"
    if looks_like is not None:
        return f"not an image: starts like {looks_like}; supply a {ACCEPTED} image"
    return (
        f"not an image: the first bytes ({data[:8].hex(' ')}) match no accepted format; "
        f"supply a {ACCEPTED} image"
    )


def _looks_like(head: bytes) -> str | None:
    """Name the kind of text or archive `head` starts like, None when it is unrecognisable."""
    if head.startswith((b"PK\x03\x04", b"\x1f\x8b")):
        return "an archive (ZIP or gzip)"
    text = head.decode("utf-8", errors="replace").lstrip("\ufeff \t\r\n").lower()
    if text.startswith(("<!doctype html", "<html", "<head", "<body", "<meta", "<script")):
        return "HTML"
    if "<svg" in text[:300]:
        return "SVG"
    if text.startswith("<?xml") or text.startswith("<"):
        return "XML"
    if text.startswith(("{", "[")):
        return "JSON"
    printable = sum(ch.isprintable() or ch in "\t\r\n" for ch in text)
    if text and "\ufffd" not in text and printable / len(text) > 0.95:
        return "text"
    return None


def decode_image(
    data: bytes, *, max_pixels: int = 40_000_000, max_side: int | None = 1024
) -> Decoded:
    """Decode `data` to an upright RGB image whose longer side is at most `max_side`.

    Raises UnreadableImage, with a reason, for anything that is not a usable image.
    """
    image_format = sniff(data)
    if image_format is None:
        raise UnreadableImage(why_not_image(data))
    notes: list[str] = []
    with _CAPTURE_LOCK, warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        # Inserted in front of "always", so Pillow's bomb warning becomes an exception we map.
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            decoded = _decode(data, image_format, max_pixels, max_side, notes)
        except (Image.DecompressionBombWarning, Image.DecompressionBombError) as exc:
            raise UnreadableImage(_bomb_reason(str(exc), max_pixels)) from None
        except _DECODER_ERRORS as exc:
            # Pillow's "cannot identify image file <BytesIO at 0x...>" names a memory address.
            unidentified = isinstance(exc, UnidentifiedImageError)
            detail = "its header cannot be read" if unidentified else str(exc) or repr(exc)
            raise UnreadableImage(
                f"truncated or corrupt {_DISPLAY.get(image_format, image_format)}: {detail}; "
                "re-export or download the image again"
            ) from None
    notes.extend(dict.fromkeys(f"decoder warning: {warning.message}" for warning in caught))
    return Decoded(
        image=decoded.image,
        format=image_format,
        width=decoded.width,
        height=decoded.height,
        notes=tuple(notes),
    )


@dataclass(frozen=True, slots=True)
class _Upright:
    image: Image.Image
    width: int
    height: int


def _decode(
    data: bytes, image_format: str, max_pixels: int, max_side: int | None, notes: list[str]
) -> _Upright:
    with Image.open(io.BytesIO(data), formats=[image_format]) as opened:
        stored_width, stored_height = opened.size
        if stored_width * stored_height > max_pixels:
            raise UnreadableImage(
                f"image too large: {stored_width}x{stored_height} is "
                f"{stored_width * stored_height:,} pixels, over the cap of {max_pixels:,} "
                "(a possible decompression bomb); supply a smaller image"
            )
        frames = getattr(opened, "n_frames", 1)
        if frames > 1:
            kind = "animated" if image_format in ("GIF", "WEBP") else "multi-frame"
            name = _DISPLAY.get(image_format, image_format)
            notes.append(f"{kind} {name} with {frames} frames: the first frame is used")
        orientation = opened.getexif().get(0x0112, 1)
        swapped = orientation in (5, 6, 7, 8)
        width, height = (stored_height, stored_width) if swapped else (stored_width, stored_height)
        if image_format == "JPEG" and max_side is not None:
            target = _fit(stored_width, stored_height, max_side)
            if target != (stored_width, stored_height):
                # libjpeg decodes at 1/2, 1/4 or 1/8 scale, never below the requested size.
                opened.draft(None, target)
        opened.load()
        upright = ImageOps.exif_transpose(opened)
        if orientation != 1:
            notes.append(f"EXIF orientation {orientation} applied")
        rgb = _to_rgb(upright, notes)
        if rgb is opened:
            # Detach the result from the file object the `with` block closes.
            rgb = rgb.copy()
    if max_side is not None and max(rgb.size) > max_side:
        size = _fit(rgb.width, rgb.height, max_side)
        rgb = rgb.resize(size, Image.Resampling.LANCZOS, reducing_gap=3.0)
        notes.append(f"downscaled from {width}x{height} to {size[0]}x{size[1]}")
    return _Upright(rgb, width, height)


def _fit(width: int, height: int, max_side: int) -> tuple[int, int]:
    """The size with the same aspect whose longer side is `max_side` (unchanged when smaller)."""
    longer = max(width, height)
    if longer <= max_side:
        return width, height
    scale = max_side / longer
    return max(1, round(width * scale)), max(1, round(height * scale))


def _to_rgb(image: Image.Image, notes: list[str]) -> Image.Image:
    mode = image.mode
    if mode == "RGB":
        return image
    if mode.startswith("I;16") or mode == "I":
        # 16-bit PNG samples. Pillow's conversion clips everything above 255 to white, so the
        # range is scaled down instead.
        samples = np.asarray(image, dtype=np.uint32)
        scaled = np.clip((samples + 128) // 257, 0, 255).astype(np.uint8)
        notes.append(f"16-bit samples ({mode}) scaled to 8 bits")
        return Image.fromarray(scaled).convert("RGB")
    if mode == "CMYK":
        notes.append("CMYK converted to RGB")
        return image.convert("RGB")
    has_alpha = mode in ("RGBA", "RGBa", "LA", "La", "PA") or "transparency" in image.info
    if has_alpha:
        rgba = image.convert("RGBA")
        canvas = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        canvas.alpha_composite(rgba)
        notes.append("transparency composited on white")
        return canvas.convert("RGB")
    return image.convert("RGB")


def _bomb_reason(pillow_message: str, max_pixels: int) -> str:
    """Pillow's own guard tripped at open time: say so with the numbers it gave."""
    cap = max_pixels
    if Image.MAX_IMAGE_PIXELS is not None:
        cap = min(cap, Image.MAX_IMAGE_PIXELS)
    match = _PIXEL_COUNT.search(pillow_message)
    claimed = f"{int(match.group(1)):,} pixels" if match else "more pixels than Pillow allows"
    return (
        f"image too large: it claims {claimed}, over the cap of {cap:,} "
        "(a possible decompression bomb); supply a smaller image"
    )
