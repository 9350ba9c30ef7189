from __future__ import annotations

import codecs
from pathlib import Path

import pytest

from vigil.texts.works import WorkError, read_work_file, work_text


def test_plain_text_in_utf8() -> None:
    read = work_text("说明书\n第一章".encode(), "manual.txt")
    assert (read.text, read.encoding, read.kind) == ("说明书\n第一章", "utf-8", "text")


def test_html_keeps_blocks_apart_and_drops_scripts_and_styles() -> None:
    html = (
        "<html><head><title>t</title><style>p{color:red}</style></head><body>"
        "<h1>说明书</h1><p>第一段<b>加粗</b>文字。</p><script>alert(1)</script>"
        "<ul><li>one</li><li>two</li></ul><p>end<br>line</p></body></html>"
    )
    read = work_text(html.encode(), "page.html")
    assert read.kind == "html"
    assert read.text == "说明书\n第一段加粗文字。\none\ntwo\nend\nline"


def test_markdown_is_read_without_its_markup() -> None:
    read = work_text(b"# Title\n\nSome *text* and [a link](http://example.invalid).\n", "a.md")
    assert read.kind == "markdown"
    assert read.text == "Title\nSome text and a link."


@pytest.mark.parametrize(
    ("data", "encoding"),
    [
        ("使用前请仔细阅读本说明书，并妥善保管。".encode("gb18030"), "gb18030"),
        (("繁體中文說明書，使用前請仔細閱讀本手冊的內容，並妥善保管。" * 3).encode("big5"), "big5"),
        (codecs.BOM_UTF16_LE + "使用说明".encode("utf-16-le"), "utf-16"),
        (codecs.BOM_UTF8 + "使用说明".encode(), "utf-8-sig"),
    ],
)
def test_encodings_are_found(data: bytes, encoding: str) -> None:
    read = work_text(data, "manual.txt")
    assert read.encoding == encoding
    assert "说明" in read.text or "說明書" in read.text


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"", "is empty"),
        (b"  \n\t ", "is empty"),
        (b"%PDF-1.7\n...", "is a PDF document, not text"),
        (b"\x89PNG\r\n\x1a\n....", "is a PNG image"),
        (b"PK\x03\x04....", "ZIP archive"),
        (bytes(range(256)) * 8, "binary file"),
        (bytes(range(128, 256)) * 40, "cannot tell the text's encoding"),
        (b"<html><body><script>x()</script></body></html>", "no text once its markup"),
    ],
)
def test_what_is_not_text_is_refused_with_a_reason(data: bytes, reason: str) -> None:
    with pytest.raises(WorkError, match=reason):
        work_text(data, "work.html" if data.startswith(b"<html") else "work.txt")


def test_a_work_over_the_size_limit_is_refused_before_it_is_read(tmp_path: Path) -> None:
    big = tmp_path / "big.txt"
    with big.open("wb") as out:  # 50 MiB, written in pieces
        for _ in range(50):
            out.write(("版权所有的文字。" * 43_690)[: 1 << 20].encode()[: 1 << 20])
    with pytest.raises(WorkError, match=r"big.txt is 50.0 MiB, over the 16 MiB limit"):
        read_work_file(big)


def test_a_missing_file_says_so(tmp_path: Path) -> None:
    with pytest.raises(WorkError, match=r"cannot read .*missing\.txt"):
        read_work_file(tmp_path / "missing.txt")
