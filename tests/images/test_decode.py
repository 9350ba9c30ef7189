"""decode_image on a corpus made at test time: every odd mode, every broken file, every bomb."""

from __future__ import annotations

import io
import struct
import warnings
import zlib
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image, ImageFile, JpegImagePlugin

from tests.images.conftest import encode, jpeg, noise, png
from vigil.errors import VigilError
from vigil.images.decode import UnreadableImage, decode_image, sniff

ACCEPTED = "JPEG, PNG, GIF, WebP or BMP"
RED, GREEN, BLUE, WHITE = (255, 0, 0), (0, 255, 0), (0, 0, 255), (255, 255, 255)


def reason_for(data: bytes, **options: Any) -> str:
    with pytest.raises(UnreadableImage) as refused:
        decode_image(data, **options)
    assert str(refused.value) == refused.value.reason
    return refused.value.reason


def png_chunk(kind: bytes, payload: bytes) -> bytes:
    crc = zlib.crc32(kind + payload)
    return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", crc)


def png_claiming(width: int, height: int, rows: bytes = b"") -> bytes:
    """A grayscale PNG whose header claims width x height, with `rows` as its compressed data."""
    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + png_chunk(b"IHDR", header)
        + png_chunk(b"IDAT", rows or zlib.compress(b"\0" * 64))
        + png_chunk(b"IEND", b"")
    )


def zero_rows(width: int, height: int) -> bytes:
    """Real, valid, black image data for a huge grayscale PNG: a few kilobytes once compressed."""
    packer = zlib.compressobj(9)
    row = b"\0" * (width + 1)  # filter byte + pixels
    return b"".join(packer.compress(row) for _ in range(height)) + packer.flush()


def animation(image_format: str, **options: Any) -> bytes:
    frames = [Image.new("RGB", (16, 12), colour) for colour in (RED, GREEN, BLUE)]
    return encode(frames[0], image_format, save_all=True, append_images=frames[1:], **options)


def close(pixel: Any, expected: tuple[int, int, int], tolerance: int = 12) -> bool:
    return all(abs(int(a) - b) <= tolerance for a, b in zip(pixel, expected, strict=True))


# -- sniffing -------------------------------------------------------------------------------


@pytest.mark.parametrize("image_format", ["JPEG", "PNG", "GIF", "WEBP", "BMP"])
def test_each_accepted_format_is_sniffed_from_its_bytes(image_format: str) -> None:
    assert sniff(encode(noise(8, 8), image_format)) == image_format


@pytest.mark.parametrize(
    "data",
    [b"", b"BMW of North America\n", b"RIFF\x24\x00\x00\x00WAVEfmt ", encode(noise(8, 8), "TIFF")],
)
def test_look_alikes_are_not_sniffed_as_images(data: bytes) -> None:
    assert sniff(data) is None


# -- good images ----------------------------------------------------------------------------


@pytest.mark.parametrize("image_format", ["JPEG", "PNG", "GIF", "WEBP", "BMP"])
def test_every_accepted_format_decodes_to_a_loaded_rgb_image(image_format: str) -> None:
    decoded = decode_image(encode(noise(30, 20), image_format))
    assert (decoded.format, decoded.width, decoded.height) == (image_format, 30, 20)
    assert decoded.image.mode == "RGB" and decoded.image.size == (30, 20)
    # A plain in-memory image, not one still reading from the bytes it came from.
    assert type(decoded.image) is Image.Image


def test_pixels_come_through_exactly_from_a_lossless_format() -> None:
    picture = noise(7, 5, seed=3)
    assert decode_image(encode(picture, "PNG")).image.tobytes() == picture.tobytes()


def test_a_large_jpeg_is_drafted_then_resized_to_max_side(monkeypatch: pytest.MonkeyPatch) -> None:
    drafts: list[tuple[int, int] | None] = []
    real_draft = JpegImagePlugin.JpegImageFile.draft

    def spying_draft(self: Any, mode: str | None, size: tuple[int, int] | None) -> Any:
        drafts.append(size)
        return real_draft(self, mode, size)

    monkeypatch.setattr(JpegImagePlugin.JpegImageFile, "draft", spying_draft)
    decoded = decode_image(jpeg(3000, 2000), max_side=1024)
    assert drafts == [(1024, 683)]
    assert (decoded.width, decoded.height, decoded.image.size) == (3000, 2000, (1024, 683))
    assert decoded.notes == ("downscaled from 3000x2000 to 1024x683",)


def test_other_formats_are_resized_and_max_side_none_keeps_full_size() -> None:
    data = png(1500, 600)
    assert decode_image(data, max_side=300).image.size == (300, 120)
    full = decode_image(data, max_side=None)
    assert full.image.size == (1500, 600) and full.notes == ()


def test_a_small_image_is_left_alone() -> None:
    decoded = decode_image(jpeg(200, 100), max_side=1024)
    assert decoded.image.size == (200, 100) and decoded.notes == ()


def exif_jpeg(picture: Image.Image, orientation: int) -> bytes:
    exif = Image.Exif()
    exif[0x0112] = orientation
    return encode(picture, "JPEG", exif=exif.tobytes(), quality=95)


def test_exif_orientation_6_turns_the_picture_upright() -> None:
    stored = Image.new("RGB", (40, 20), RED)
    stored.paste(BLUE, (20, 0, 40, 20))  # left half red, right half blue
    decoded = decode_image(exif_jpeg(stored, 6))
    assert (decoded.width, decoded.height, decoded.image.size) == (20, 40, (20, 40))
    # Turned a quarter clockwise: the stored left edge is now on top.
    assert close(decoded.image.getpixel((10, 5)), RED)
    assert close(decoded.image.getpixel((10, 35)), BLUE)
    assert decoded.notes == ("EXIF orientation 6 applied",)


def test_orientation_and_downscale_combine() -> None:
    decoded = decode_image(exif_jpeg(noise(3000, 2000), 6), max_side=1024)
    assert (decoded.width, decoded.height, decoded.image.size) == (2000, 3000, (683, 1024))


def jpeg_with_broken_exif() -> bytes:
    """A JPEG whose EXIF orientation is fine but whose camera-make tag points far past its end."""
    exif = (
        b"Exif\x00\x00II*\x00\x08\x00\x00\x00\x02\x00"
        + struct.pack("<HHIHH", 0x0112, 3, 1, 6, 0)
        + struct.pack("<HHII", 0x010F, 2, 400, 9999)
        + b"\x00\x00\x00\x00"
    )
    stored = jpeg(20, 10)
    return stored[:2] + b"\xff\xe1" + struct.pack(">H", len(exif) + 2) + exif + stored[2:]


BROKEN_EXIF_NOTES = (
    "EXIF orientation 6 applied",
    "decoder warning: Tag data larger than file. Skipping tag 271",
)


def test_a_broken_exif_tag_becomes_a_note_not_a_warning() -> None:
    decoded = decode_image(jpeg_with_broken_exif())
    assert decoded.image.size == (10, 20)
    assert decoded.notes == BROKEN_EXIF_NOTES


def test_decoding_in_threads_keeps_notes_apart_and_warning_filters_intact() -> None:
    filters_before = list(warnings.filters)
    inputs = [jpeg_with_broken_exif(), jpeg(30, 20), png_claiming(100_000, 100_000)] * 100

    def outcome(data: bytes) -> tuple[str, ...] | str:
        try:
            return decode_image(data).notes
        except UnreadableImage as refused:
            return refused.reason[:15]

    with ThreadPoolExecutor(max_workers=8) as pool:
        outcomes = list(pool.map(outcome, inputs))
    assert outcomes == [BROKEN_EXIF_NOTES, (), "image too large"] * 100
    assert warnings.filters == filters_before


# -- modes ----------------------------------------------------------------------------------


def test_cmyk_jpeg_becomes_rgb() -> None:
    decoded = decode_image(encode(Image.new("CMYK", (30, 20), (0, 255, 255, 0)), "JPEG"))
    assert close(decoded.image.getpixel((15, 10)), RED)
    assert decoded.notes == ("CMYK converted to RGB",)


def test_16_bit_png_is_scaled_not_clipped() -> None:
    samples = np.array([[0, 32768, 65535]], dtype=np.uint16)
    data = encode(Image.fromarray(samples), "PNG")
    assert Image.open(io.BytesIO(data)).mode == "I;16"
    decoded = decode_image(data)
    assert [decoded.image.getpixel((x, 0)) for x in range(3)] == [
        (0, 0, 0),
        (128, 128, 128),
        (255, 255, 255),
    ]
    assert decoded.notes == ("16-bit samples (I;16) scaled to 8 bits",)


@pytest.mark.parametrize("transparency", [0, b"\x00\xff"])
def test_palette_transparency_is_composited_on_white(transparency: int | bytes) -> None:
    palette = Image.new("P", (4, 4), 0)
    palette.putpalette([*RED, *GREEN] + [0] * 762)
    palette.putpixel((3, 3), 1)
    decoded = decode_image(encode(palette, "PNG", transparency=transparency))
    assert decoded.image.getpixel((0, 0)) == WHITE
    assert decoded.image.getpixel((3, 3)) == GREEN
    assert decoded.notes == ("transparency composited on white",)


@pytest.mark.parametrize(
    ("mode", "colour", "expected"),
    [
        ("RGBA", (255, 0, 0, 0), WHITE),
        ("RGBA", (255, 0, 0, 255), RED),
        ("RGBA", (255, 0, 0, 128), (255, 127, 127)),
        ("LA", (0, 255), (0, 0, 0)),
        ("LA", (0, 0), WHITE),
    ],
)
def test_alpha_is_composited_on_white(mode: str, colour: Any, expected: Any) -> None:
    decoded = decode_image(encode(Image.new(mode, (3, 3), colour), "PNG"))
    assert close(decoded.image.getpixel((1, 1)), expected, tolerance=1)
    assert decoded.notes == ("transparency composited on white",)


def test_one_bit_and_grayscale_become_rgb() -> None:
    bilevel = Image.new("1", (4, 2), 0)
    bilevel.putpixel((3, 1), 1)
    decoded = decode_image(encode(bilevel, "PNG"))
    assert decoded.image.getpixel((0, 0)) == (0, 0, 0)
    assert decoded.image.getpixel((3, 1)) == WHITE
    assert decode_image(encode(Image.new("L", (2, 2), 77), "PNG")).image.getpixel((1, 1)) == (
        77,
        77,
        77,
    )


@pytest.mark.parametrize(
    ("image_format", "options", "note"),
    [
        (
            "GIF",
            {"duration": 100, "loop": 0},
            "animated GIF with 3 frames: the first frame is used",
        ),
        (
            "WEBP",
            {"duration": 100, "lossless": True},
            "animated WebP with 3 frames: the first frame is used",
        ),
    ],
)
def test_animations_give_their_first_frame(
    image_format: str, options: dict[str, Any], note: str
) -> None:
    decoded = decode_image(animation(image_format, **options))
    assert (decoded.width, decoded.height) == (16, 12)
    assert decoded.image.getpixel((8, 6)) == RED
    assert decoded.notes == (note,)


# -- refusals -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"", f"empty file (0 bytes); supply a {ACCEPTED} image"),
        (
            b"\xef\xbb\xbf\n  <!DOCTYPE html>\n<html><body>Access denied</body></html>",
            f"not an image: starts like HTML; supply a {ACCEPTED} image",
        ),
        (
            b"<html lang=en><p>moved</p></html>",
            f"not an image: starts like HTML; supply a {ACCEPTED} image",
        ),
        (b'{"error": "not found"}', f"not an image: starts like JSON; supply a {ACCEPTED} image"),
        (
            b"<?xml version='1.0'?><feed/>",
            f"not an image: starts like XML; supply a {ACCEPTED} image",
        ),
        (
            b"Sorry, this photo was removed.\n",
            f"not an image: starts like text; supply a {ACCEPTED} image",
        ),
        (
            b"PK\x03\x04\x14\x00\x00\x00",
            f"not an image: starts like an archive (ZIP or gzip); supply a {ACCEPTED} image",
        ),
        (
            b"\x00\x07\x80\xfe\x01\x02\x03\x04\x05",
            f"not an image: the first bytes (00 07 80 fe 01 02 03 04) match no accepted format; supply a {ACCEPTED} image",
        ),
        (
            b'<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg" width="10"/>',
            f"SVG images are not accepted; convert it to {ACCEPTED}",
        ),
        (encode(noise(8, 8), "TIFF"), f"TIFF images are not accepted; convert it to {ACCEPTED}"),
        (b"%PDF-1.4\n%\xe2\xe3\xcf\xd3", f"PDF images are not accepted; convert it to {ACCEPTED}"),
        (
            b"\x00\x00\x00\x1cftypheic\x00\x00\x00\x00",
            f"HEIC images are not accepted; convert it to {ACCEPTED}",
        ),
    ],
)
def test_what_is_not_an_accepted_image_is_named(data: bytes, reason: str) -> None:
    assert reason_for(data) == reason


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (jpeg(256, 256)[:3000], "truncated or corrupt JPEG: image file is truncated"),
        (png(256, 256)[:3000], "truncated or corrupt PNG: image file is truncated"),
        (encode(noise(64, 64), "BMP")[:500], "truncated or corrupt BMP: image file is truncated"),
        (
            png(32, 32)[:30] + b"\x00" + png(32, 32)[31:],
            "truncated or corrupt PNG: its header cannot be read",
        ),
        (encode(noise(64, 64), "GIF")[:11], "truncated or corrupt GIF: its header cannot be read"),
        (b"\xff\xd8\xff\xe0" + bytes(1000), "truncated or corrupt JPEG: its header cannot be read"),
        (encode(noise(64, 64), "WEBP")[:100], "truncated or corrupt WebP: "),
    ],
)
def test_broken_files_are_reported_truncated_or_corrupt(data: bytes, reason: str) -> None:
    text = reason_for(data)
    assert text.startswith(reason)
    assert text.endswith("; re-export or download the image again")
    assert "0x" not in text  # no memory addresses from Pillow's messages


def test_a_tiny_png_claiming_ten_billion_pixels_is_refused() -> None:
    bomb = png_claiming(100_000, 100_000)
    assert len(bomb) < 200
    assert reason_for(bomb) == (
        "image too large: it claims 10,000,000,000 pixels, over the cap of 40,000,000 "
        "(a possible decompression bomb); supply a smaller image"
    )


def test_a_real_compressed_bomb_is_refused_before_any_pixel_is_decoded(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    bomb = png_claiming(8000, 8000, zero_rows(8000, 8000))
    assert len(bomb) < 200_000  # 64 megapixels in a small file

    def no_loading(self: Any) -> Any:
        raise AssertionError("pixels were decoded")

    monkeypatch.setattr(ImageFile.ImageFile, "load", no_loading)
    assert reason_for(bomb) == (
        "image too large: 8000x8000 is 64,000,000 pixels, over the cap of 40,000,000 "
        "(a possible decompression bomb); supply a smaller image"
    )


def test_the_cap_is_the_callers() -> None:
    assert reason_for(jpeg(100, 60), max_pixels=5000) == (
        "image too large: 100x60 is 6,000 pixels, over the cap of 5,000 "
        "(a possible decompression bomb); supply a smaller image"
    )


def test_pillows_own_bomb_warning_becomes_a_refusal() -> None:
    # 100 megapixels: over Pillow's warning threshold (about 89.5 million), under its error.
    # Pytest turns warnings into errors here, so an escaping warning would fail the test.
    bomb = png_claiming(10_000, 10_000)
    assert reason_for(bomb, max_pixels=10**9) == (
        f"image too large: it claims 100,000,000 pixels, over the cap of "
        f"{Image.MAX_IMAGE_PIXELS:,} (a possible decompression bomb); supply a smaller image"
    )


def test_unreadable_image_is_a_vigil_error() -> None:
    assert issubclass(UnreadableImage, VigilError)


# -- anything at all --------------------------------------------------------------------------

SEEDS = [
    jpeg(48, 32),
    png(48, 32),
    animation("GIF"),
    animation("WEBP"),
    encode(noise(24, 16), "WEBP"),
    encode(noise(24, 16), "BMP"),
    encode(Image.new("P", (9, 9)), "PNG", transparency=0),
    exif_jpeg(noise(24, 16), 8),
]


@settings(max_examples=400, deadline=None)
@given(
    seed=st.sampled_from(SEEDS),
    edits=st.lists(st.tuples(st.floats(0, 1, exclude_max=True), st.integers(0, 255)), max_size=8),
    keep=st.floats(0, 1),
)
def test_damaged_images_give_a_picture_or_a_reason_never_a_crash(
    seed: bytes, edits: list[tuple[float, int]], keep: float
) -> None:
    data = bytearray(seed)
    for where, value in edits:
        data[int(where * len(data))] = value
    data = data[: max(1, int(keep * len(data)))]
    try:
        decoded = decode_image(bytes(data))
    except UnreadableImage as refused:
        assert refused.reason
    else:
        assert decoded.image.mode == "RGB"
        assert max(decoded.image.size) <= 1024
