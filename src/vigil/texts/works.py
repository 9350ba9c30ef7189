"""Reading a registered work's files as text.

A work of kind `text` names files of plain text, Markdown or HTML. Each is read under a size
cap, its encoding found (a byte-order mark, then UTF-8, then what charset-normalizer finds with
confidence: GB18030, Big5, Shift JIS...),
and its text extracted: HTML through selectolax (scripts, styles and markup dropped, block
elements kept apart), Markdown rendered by markdown-it and read the same way. Anything else —
a binary file, an image or PDF registered as text, an empty file, an encoding nobody can tell —
is refused with a reason that says what to do.
"""

from __future__ import annotations

import codecs
import re
from dataclasses import dataclass
from pathlib import Path

from charset_normalizer import from_bytes
from markdown_it import MarkdownIt
from selectolax.lexbor import LexborHTMLParser

from vigil.errors import VigilError

# 16 MiB of text is about 5,000 pages; larger files are refused rather than held in memory.
MAX_WORK_BYTES = 16 << 20

_MAGIC = {
    b"%PDF": "a PDF document",
    b"PK\x03\x04": "a ZIP archive (a .docx, .epub or .xlsx is one)",
    b"\x89PNG": "a PNG image",
    b"\xff\xd8\xff": "a JPEG image",
    b"GIF8": "a GIF image",
    b"RIFF": "a RIFF file (WebP image or audio)",
    b"\xd0\xcf\x11\xe0": "an old Microsoft Office document",
    b"\x1f\x8b": "a gzip archive",
}
_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
_HTML_SUFFIXES = {".html", ".htm", ".xhtml"}
_MARKDOWN_SUFFIXES = {".md", ".markdown"}
# Line breaks go after these, so that blocks do not run together (inline tags stay inline).
_BLOCK_END = re.compile(
    r"</(?:p|div|li|h[1-6]|tr|td|th|section|article|blockquote|pre|table|ul|ol|dt|dd)\s*>"
    r"|<br\s*/?>",
    re.IGNORECASE,
)
_DROPPED_TAGS = ["script", "style", "noscript", "template", "svg", "head"]


class WorkError(VigilError):
    """A work's file cannot be read as text."""


@dataclass(frozen=True, slots=True)
class WorkText:
    """The text of one file of a work, and how it was read."""

    path: str
    text: str
    encoding: str
    kind: str  # "text", "markdown" or "html"


def read_work_file(path: Path, *, max_bytes: int = MAX_WORK_BYTES) -> WorkText:
    """The text of a work's file, or WorkError saying why it cannot be used."""
    try:
        size = path.stat().st_size
        if size > max_bytes:
            raise WorkError(
                f"{path} is {size / 2**20:.1f} MiB, over the {max_bytes / 2**20:.0f} MiB limit "
                "for a work; split it into several files or raise texts.max_work_bytes"
            )
        data = path.read_bytes()
    except OSError as error:
        raise WorkError(
            f"cannot read {path}: {error.strerror or error}; check that the file exists"
        ) from error
    return work_text(data, str(path))


def work_text(data: bytes, name: str) -> WorkText:
    """The text of a work's file given as bytes (`name` says which file, and its suffix which
    format)."""
    if not data.strip():
        raise WorkError(f"{name} is empty; register a file with the work's text")
    for magic, what in _MAGIC.items():
        if data.startswith(magic):
            raise WorkError(
                f"{name} is {what}, not text; register the work's text as .txt, .md or .html"
            )
    raw, encoding = decode_text(data, name)
    suffix = Path(name).suffix.casefold()
    if suffix in _HTML_SUFFIXES or (not suffix and raw.lstrip()[:1] == "<"):
        text, kind = html_text(raw), "html"
    elif suffix in _MARKDOWN_SUFFIXES:
        text, kind = html_text(MarkdownIt("commonmark").render(raw)), "markdown"
    else:
        text, kind = raw, "text"
    if not text.strip():
        raise WorkError(f"{name} has no text once its markup is removed")
    return WorkText(name, text, encoding, kind)


def decode_text(data: bytes, name: str) -> tuple[str, str]:
    """The bytes as text, with the encoding used; WorkError for binary data or an unknown
    encoding."""
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            try:
                return data.decode(encoding), encoding
            except UnicodeDecodeError as error:
                raise WorkError(f"{name}: starts as {encoding} but is not: {error}") from error
    if b"\x00" in data[:8192]:
        raise WorkError(
            f"{name} holds NUL bytes, so it is a binary file, not text; "
            "register the work's text as .txt, .md or .html"
        )
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    # GB18030 decodes almost any bytes, Big5 included, so it cannot be tried blindly: the
    # guess weighs which decoding reads as language.
    best = from_bytes(data[: 1 << 20]).best()
    if best is None or best.encoding is None or best.chaos > 0.2:
        raise WorkError(
            f"{name}: cannot tell the text's encoding (not UTF-8, UTF-16 or GB18030); "
            "save the file as UTF-8 and register it again"
        )
    try:
        return data.decode(best.encoding), best.encoding
    except (UnicodeDecodeError, LookupError) as error:
        raise WorkError(
            f"{name}: cannot be read as {best.encoding}: {error}; save the file as UTF-8"
        ) from error


def html_text(html: str) -> str:
    """The readable text of an HTML document, one line per block."""
    tree = LexborHTMLParser(_BLOCK_END.sub(r"\g<0>\n", html))
    tree.strip_tags(_DROPPED_TAGS)
    root = tree.body or tree.root
    if root is None:
        return ""
    lines = (line.strip() for line in str(root.text(separator="")).splitlines())
    return "\n".join(line for line in lines if line)
