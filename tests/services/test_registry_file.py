"""Registry files: problems are named by file, entry and field; good entries still load."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.factories import registry_data, write_registry
from vigil.services.registry import load_registry, registry_snapshot
from vigil.services.registry_file import RegistryFileError, parse_registry_file
from vigil.store.db import Store, open_store


@pytest.fixture
def sqlite_store(tmp_path: Path) -> Store:
    return open_store(f"sqlite:///{tmp_path / 'vigil.sqlite3'}")


def test_an_unreadable_entry_is_named_and_the_rest_loads(
    sqlite_store: Store, tmp_path: Path
) -> None:
    data = registry_data()
    data["products"].append({"brand": "Xiaomi", "model": "Xiaomi 13", "msrp": {"amount": -1}})
    data["products"].append({"brand": "Nokla", "model": "3310"})
    data["brands"].append({"name": "Huawei", "aliasse": ["华为"]})
    report = load_registry(sqlite_store, write_registry(tmp_path / "r.yaml", data))
    problems = [str(p) for p in report.problems]
    assert (
        "products[3] ('Xiaomi 13'): msrp.amount: Input should be greater than 0 (got -1)"
        in problems
    )
    assert (
        "brands[2] ('Huawei'): aliasse: unknown field (check its spelling against docs/formats.md)"
        in problems
    )
    assert (
        "products[4] ('3310'): brand: 'Nokla' is not registered; add it under brands first"
        in problems
    )
    snapshot = registry_snapshot(sqlite_store)
    assert {p.model for p in snapshot.products} == {"Xiaomi 14 Ultra", "Xiaomi 14", "iPhone 15"}


def test_strict_writes_nothing_when_an_entry_is_bad(sqlite_store: Store, tmp_path: Path) -> None:
    data = registry_data()
    data["members"].append({"id": "Bad Id!", "name": "x", "kind": "brand_owner"})
    report = load_registry(sqlite_store, write_registry(tmp_path / "r.yaml", data), strict=True)
    assert not report.written and report.problems
    assert registry_snapshot(sqlite_store).brands == []


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "the file is empty"),
        (b"brands: [name: x\n", "not valid YAML at line"),
        (b"- just\n- a list\n", "expected a mapping with sections"),
        (b"brandz: []\n", "unknown section(s) brandz"),
        (b"brands:\n  - name: \xff\n", "not valid UTF-8 at byte"),
    ],
)
def test_a_broken_file_says_what_is_wrong(tmp_path: Path, content: bytes, message: str) -> None:
    path = tmp_path / "registry.yaml"
    path.write_bytes(content)
    with pytest.raises(RegistryFileError, match=message.replace("(", r"\(").replace(")", r"\)")):
        parse_registry_file(path)


def test_relative_paths_resolve_against_the_registry_file(tmp_path: Path) -> None:
    (tmp_path / "logos").mkdir()
    (tmp_path / "logos" / "mi.png").write_bytes(b"png")
    data = registry_data()
    data["brands"][0]["logos"] = ["logos/mi.png", "logos/missing.png"]
    parsed = parse_registry_file(write_registry(tmp_path / "registry.yaml", data))
    xiaomi = parsed.registry.brands[0]
    assert xiaomi.logos == [
        str(tmp_path / "logos" / "mi.png"),
        str(tmp_path / "logos" / "missing.png"),
    ]
    assert parsed.warnings == ["brands[0] ('Xiaomi'): file logos/missing.png does not exist"]


def test_text_works_that_cannot_be_read_as_text_are_warned_about(tmp_path: Path) -> None:
    (tmp_path / "works").mkdir()
    (tmp_path / "works" / "manual.md").write_text("# 说明书\n\n使用前请仔细阅读。", "utf-8")
    (tmp_path / "works" / "scan.pdf").write_bytes(b"%PDF-1.7\n")
    (tmp_path / "works" / "empty.txt").write_bytes(b"")
    data = registry_data()
    data["works"] = [
        {"owner": "xiaomi", "title": "manual", "kind": "text", "files": ["works/manual.md"]},
        {"owner": "xiaomi", "title": "scans", "kind": "text",
         "files": ["works/scan.pdf", "works/empty.txt", "works/gone.txt"]},
    ]  # fmt: skip
    parsed = parse_registry_file(write_registry(tmp_path / "registry.yaml", data))
    assert len(parsed.registry.works) == 2  # kept: the scan reads what it can and warns again
    assert parsed.warnings == [
        "works[1] ('scans'): file works/gone.txt does not exist",
        f"works[1] ('scans'): {tmp_path / 'works' / 'scan.pdf'} is a PDF document, not text; "
        "register the work's text as .txt, .md or .html",
        f"works[1] ('scans'): {tmp_path / 'works' / 'empty.txt'} is empty; "
        "register a file with the work's text",
    ]
