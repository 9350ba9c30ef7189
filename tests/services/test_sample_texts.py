"""The sample's works and text truth: copies that really copy, rings that really paste one text,
boilerplate that is nothing else, and a sample without works that is the one of before."""

from __future__ import annotations

import hashlib
import re
import sys
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

import opencc
import orjson
import pytest
from typer.testing import CliRunner

from vigil.cli.main import app
from vigil.services.registry_file import parse_registry_file
from vigil.services.sample import SampleError, SampleSummary, write_sample
from vigil.services.sample.catalog import load_data
from vigil.services.sample.chunks import CHUNK, Recipe, make_chunks
from vigil.services.sample.library import Library, Shelf
from vigil.services.sample.padding import build_catalog
from vigil.services.sample.works import Work
from vigil.settings import load_scan_config

Row = dict[str, Any]
FIELDS = [
    "platform",
    "listing_id",
    "work",
    "copied_chars",
    "edit",
    "lang",
    "ring",
    "boilerplate_only",
    "authorized",
]
# Digests of every file the code before works wrote for these samples (checked against it).
BEFORE_WORKS: dict[str, dict[str, Any]] = {
    "6c68d33ebc6908771e4828a2d57de8e55b3f5b2aec4141309edc5026a63e79d5": {
        "listings": 300,
        "seed": 3,
        "images": False,
    },
    "ed13226f31a9409ac1ed633c354876f7b34a93cba901caa3cdf4a4a8dc51c936": {
        "listings": 200,
        "seed": 2,
        "brands": 10,
        "products": 40,
        "images": True,
    },
}
_T2S = opencc.OpenCC("t2s")
_STOPS = re.compile(r"(?<=[。！？；.!?;])\s*")


def read_jsonl(path: Path) -> list[Row]:
    return [orjson.loads(line) for line in path.read_bytes().splitlines()]


def folder_digest(folder: Path) -> str:
    digest = hashlib.sha256()
    for path in sorted(folder.rglob("*")):
        if path.is_file():
            content = hashlib.sha256(path.read_bytes()).hexdigest()
            digest.update(f"{path.relative_to(folder)}\0{content}\n".encode())
    return digest.hexdigest()


def squeeze(text: str) -> str:
    return re.sub(r"\s+", "", text)


def covered(text: str, source: str, n: int = 8) -> int:
    """Characters of `text` (whitespace aside) inside an n-character run that `source` holds."""
    text, source = squeeze(text), squeeze(source)
    grams = {source[i : i + n] for i in range(len(source) - n + 1)}
    hit = [False] * len(text)
    for i in range(len(text) - n + 1):
        if text[i : i + n] in grams:
            hit[i : i + n] = [True] * n
    return sum(hit)


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory) -> SampleSummary:
    return write_sample(tmp_path_factory.mktemp("texts"), listings=4000, seed=7, images=False)


@pytest.fixture(scope="module")
def listings(sample: SampleSummary) -> list[tuple[Row, Row, Row | None]]:
    """Each listing with its truth row and its text truth row, if any."""
    assert sample.text_truth is not None
    texts = {(r["platform"], r["listing_id"]): r for r in read_jsonl(sample.text_truth)}
    rows = []
    for record, truth in zip(
        read_jsonl(sample.listings_path), read_jsonl(sample.truth), strict=True
    ):
        rows.append((record, truth, texts.pop((record["platform"], record["listing_id"]), None)))
    assert not texts, "text truth rows of no listing"
    return rows


@pytest.fixture(scope="module")
def works() -> dict[str, Work]:
    return {work.ref: work for work in Shelf.build(build_catalog()).works}


def copies(listings: list[tuple[Row, Row, Row | None]]) -> list[tuple[Row, Row, Row]]:
    return [(r, t, x) for r, t, x in listings if x is not None and x["work"] is not None]


def test_without_works_the_sample_is_byte_for_byte_the_one_of_before(tmp_path: Path) -> None:
    for number, (digest, arguments) in enumerate(BEFORE_WORKS.items()):
        folder = tmp_path / str(number)
        summary = write_sample(folder, works=False, **arguments)
        assert folder_digest(folder) == digest, arguments
        assert summary.text_truth is None and summary.works == 0
        assert not (folder / "works").exists()


def test_the_same_arguments_write_the_same_bytes(tmp_path: Path) -> None:
    first = write_sample(tmp_path / "a", listings=600, seed=3, images=False)
    again = write_sample(tmp_path / "b", listings=600, seed=3, images=False)
    other = write_sample(tmp_path / "c", listings=600, seed=4, images=False)
    assert folder_digest(tmp_path / "a") == folder_digest(tmp_path / "b")
    assert first.text_truth is not None and first.text_truth.read_bytes()
    assert again.works == first.works > 0
    # Another seed copies other passages into other listings of the same works.
    assert folder_digest(tmp_path / "a" / "works") == folder_digest(tmp_path / "c" / "works")
    assert other.text_truth is not None
    assert other.text_truth.read_bytes() != first.text_truth.read_bytes()


def test_works_change_no_listing_but_those_text_truth_names(tmp_path: Path) -> None:
    with_works = write_sample(tmp_path / "a", listings=2000, seed=5, images=False)
    without = write_sample(tmp_path / "b", listings=2000, seed=5, images=False, works=False)
    assert with_works.text_truth is not None
    named = {(r["platform"], r["listing_id"]) for r in read_jsonl(with_works.text_truth)}
    changed = 0
    pairs = zip(
        read_jsonl(with_works.listings_path),
        read_jsonl(without.listings_path),
        read_jsonl(with_works.truth),
        read_jsonl(without.truth),
        strict=True,
    )
    for record, before, truth, truth_before in pairs:
        if (record["platform"], record["listing_id"]) in named:
            changed += record != before
            if truth["label"] != "infringement":
                assert truth == truth_before
        else:
            assert (record, truth) == (before, truth_before)
    assert changed >= 0.9 * len(named)


def test_the_registry_lists_the_works_and_their_files(
    sample: SampleSummary, works: dict[str, Work]
) -> None:
    parsed = parse_registry_file(sample.registry)
    assert not parsed.problems and not parsed.warnings, (parsed.problems, parsed.warnings)
    registered = parsed.registry.works
    assert len(registered) == sample.works == len(works) >= 10
    owners = {m.id: m.kind for m in parsed.registry.members}
    brands = {b.name: b.owner for b in parsed.registry.brands}
    for entry in registered:
        assert entry.kind == "text" and owners[entry.owner] == "brand_owner"
        work = works[f"{entry.owner}/{entry.title}"]
        assert brands[work.brand] == entry.owner
        (path,) = entry.files
        assert Path(path).read_text(encoding="utf-8") == work.content
    assert {Path(w.file).suffix for w in works.values()} == {".txt", ".md", ".html"}
    assert {(w.kind, w.lang) for w in works.values()} >= {
        ("description", "zh"),
        ("description", "en"),
        ("manual", "zh"),
        ("manual", "en"),
        ("article", "zh"),
        ("article", "en"),
    }
    for work in works.values():
        low, high = {"description": (500, 2000), "manual": (3000, 10_000)}.get(
            work.kind, (500, 10_000)
        )
        assert low <= len(work.plain) <= high, (work.file, len(work.plain))
    assert sorted(p.name for p in (sample.registry.parent / "works").iterdir()) == sorted(
        Path(w.file).name for w in works.values()
    )


def test_text_truth_rows_have_the_contract_fields(
    listings: list[tuple[Row, Row, Row | None]],
) -> None:
    rows = [text for _, _, text in listings if text is not None]
    assert rows and all(list(row) == FIELDS for row in rows)
    for row in rows:
        assert row["edit"] in (None, "verbatim", "light", "reordered", "inserted", "traditional")
        assert row["lang"] in ("zh", "en")
        assert (row["work"] is None) == (row["edit"] is None) == (row["copied_chars"] == 0)
        assert sum(bool(x) for x in (row["work"], row["ring"], row["boilerplate_only"])) == 1


def test_copies_contain_their_passage_as_their_edit_says(
    listings: list[tuple[Row, Row, Row | None]], works: dict[str, Work]
) -> None:
    found: Counter[str] = Counter()
    for record, _, text in copies(listings):
        work, description = works[text["work"]], record["description"]
        copied, edit = text["copied_chars"], text["edit"]
        assert text["lang"] == work.lang
        lines = description.split("\n")
        found[edit] += 1
        if edit == "verbatim":
            assert all(line in work.plain for line in lines)
            assert len(description) == copied
        elif edit == "light":
            assert abs(len(description) - copied) <= 0.1 * copied
            assert not all(line in work.plain for line in lines)
            assert covered(description, work.plain) >= 0.5 * len(squeeze(description))
        elif edit == "reordered":
            sentences = [s.rstrip("。.") for s in _STOPS.split(description) if s]
            assert len(sentences) >= 2 and description not in work.plain
            assert all(s.rstrip("。.") in work.plain for s in sentences), description
            assert copied <= len(description) <= copied + len(sentences)
        elif edit == "inserted":
            assert len(description) > copied
            assert covered(description, work.plain) >= 0.9 * len(squeeze(description[:copied]))
        else:
            assert edit == "traditional" and work.lang == "zh"
            simplified = _T2S.convert(description)
            assert simplified != description  # it really is written in traditional characters
            assert covered(simplified, work.plain) >= 0.95 * len(squeeze(simplified))
    assert all(found[edit] >= 5 for edit in ("verbatim", "light", "reordered", "inserted"))
    assert found["traditional"] >= 3


def test_passages_run_from_60_to_800_characters_mostly_200_or_more(
    listings: list[tuple[Row, Row, Row | None]],
) -> None:
    lengths = [x["copied_chars"] for _, _, x in copies(listings) if not x["authorized"]]
    assert all(60 <= n <= 800 for n in lengths)
    assert sum(n >= 200 for n in lengths) >= 0.7 * len(lengths)
    assert 0.025 <= len(copies(listings)) / len(listings) <= 0.05


def test_who_copies_and_how_they_are_labelled(
    sample: SampleSummary,
    listings: list[tuple[Row, Row, Row | None]],
    works: dict[str, Work],
) -> None:
    catalog = build_catalog()
    by_label: Counter[str] = Counter()
    for record, truth, text in copies(listings):
        work = works[text["work"]]
        assert truth["brand"] == work.brand
        by_label[truth["label"]] += 1
        if text["authorized"]:
            brand = next(b for b in catalog.brands if b.name == work.brand)
            seller = (record["platform"], record["seller"]["id"])
            assert truth["label"] == "genuine" and seller in catalog.authorized_sellers(brand)
            assert text["edit"] == "verbatim" and truth["product"] == work.model
        elif truth["label"] == "counterfeit":
            assert work.kind == "description"
        else:
            assert truth["label"] == "infringement" and work.kind in ("manual", "article")
    assert by_label["counterfeit"] >= 20 and by_label["infringement"] >= 20
    assert by_label["genuine"] >= 1
    assert 0.01 <= sample.labels["infringement"] / len(listings) <= 0.025
    infringing = [t for _, t, _ in listings if t["label"] == "infringement"]
    assert len(infringing) == by_label["infringement"]


def test_rings_paste_one_description_by_three_sellers_or_more(
    listings: list[tuple[Row, Row, Row | None]],
) -> None:
    rings: dict[str, list[tuple[Row, Row]]] = defaultdict(list)
    for record, truth, text in listings:
        if text is not None and text["ring"] is not None:
            rings[text["ring"]].append((record, truth))
    assert len(rings) >= 3
    labels = Counter(truth["label"] for members in rings.values() for _, truth in members)
    assert labels["counterfeit"] > labels["accessory"] and set(labels) <= {
        "counterfeit",
        "accessory",
    }
    firsts = []
    for members in rings.values():
        assert 5 <= len(members) <= 40
        assert len({record["seller"]["id"] for record, _ in members}) >= 3
        texts = [record["description"] for record, _ in members]
        assert all(150 <= len(text) <= 600 for text in texts)
        assert len(set(texts)) > 1  # each listing varies the template a little
        assert all(covered(text, texts[0], 5) >= 0.7 * len(squeeze(text)) for text in texts)
        firsts.append(texts[0])
    for number, text in enumerate(firsts):  # rings do not paste each other's texts
        for other in firsts[number + 1 :]:
            assert covered(text, other, 8) < 0.5 * len(squeeze(text))


def test_boilerplate_only_listings_say_nothing_else(
    listings: list[tuple[Row, Row, Row | None]], works: dict[str, Work]
) -> None:
    data = load_data("works.yaml")
    lines = {line for pool in data["boilerplate"].values() for line in pool.values()}
    lines |= {line for chart in data["size_charts"].values() for line in chart}
    shared: Counter[bool] = Counter()
    boilerplate = [(r, t) for r, t, x in listings if x is not None and x["boilerplate_only"]]
    assert len(boilerplate) >= 20
    for record, truth in boilerplate:
        assert truth["label"] in ("genuine", "unrelated")
        said = record["description"].split("\n")
        assert set(said) <= lines
        shared[any(line in work.plain for line in said for work in works.values())] += 1
    assert shared[True] >= 5  # some of it is in the works too


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="workers are forked on Linux")
def test_worker_processes_rework_the_same_listings_as_one_process() -> None:
    catalog = build_catalog()
    rates = load_scan_config().currency.rates
    recipe = Recipe(catalog=catalog, seed=5, pool_size=12, rates=rates, shelf=Shelf.build(catalog))
    count = 2 * CHUNK + 123
    alone = list(make_chunks(recipe, count, workers=1))
    together = list(make_chunks(recipe, count, workers=2))
    assert [c.listings for c in alone] == [c.listings for c in together]
    assert [c.texts for c in alone] == [c.texts for c in together]
    assert all(c.texts for c in together)


def test_a_new_sample_replaces_the_works_of_the_last(tmp_path: Path) -> None:
    write_sample(tmp_path, listings=50, seed=1, images=False)
    first = {p.name for p in (tmp_path / "works").iterdir()}
    write_sample(tmp_path, listings=50, seed=1, images=False, brands=4)
    second = {p.name for p in (tmp_path / "works").iterdir()}
    # Fewer brands own the works: the files are those of the second sample alone.
    assert second == {Path(w.file).name for w in Shelf.build(build_catalog(brands=4)).works}
    assert second != first
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]


def test_a_works_folder_the_sample_did_not_write_is_left_alone(tmp_path: Path) -> None:
    (tmp_path / "works").mkdir()
    (tmp_path / "works" / "my-novel.txt").write_text("mine", encoding="utf-8")
    with pytest.raises(SampleError, match=r"did not write.*my-novel\.txt"):
        write_sample(tmp_path, listings=20, seed=1, images=False)
    assert [p.name for p in tmp_path.iterdir()] == ["works"]
    assert (tmp_path / "works" / "my-novel.txt").read_text(encoding="utf-8") == "mine"


def test_nothing_is_left_half_written_when_reworking_fails(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def failing(self: Library, made: list[tuple[Row, Row]]) -> bytes:
        raise RuntimeError("ink spilled")

    monkeypatch.setattr(Library, "rework", failing)
    with pytest.raises(RuntimeError):
        write_sample(tmp_path, listings=30, seed=1, images=False)
    assert list(tmp_path.iterdir()) == []


def test_the_command_writes_works_unless_asked_not_to(tmp_path: Path) -> None:
    runner = CliRunner()
    result = runner.invoke(app, ["sample", "--out", str(tmp_path / "a"), "--listings", "40",
                                 "--no-images"])  # fmt: skip
    assert result.exit_code == 0 and re.search(r"\d+ works\)", result.stdout)
    assert (tmp_path / "a" / "text_truth.jsonl").exists() and (tmp_path / "a" / "works").is_dir()
    result = runner.invoke(app, ["sample", "--out", str(tmp_path / "b"), "--listings", "40",
                                 "--no-images", "--no-works"])  # fmt: skip
    assert result.exit_code == 0 and not re.search(r"\d+ works\)", result.stdout)
    assert sorted(p.name for p in (tmp_path / "b").iterdir()) == [
        "listings.jsonl",
        "registry.yaml",
        "truth.jsonl",
    ]


def test_with_images_a_fake_that_hides_its_brand_pastes_its_ring_text_without_it(
    tmp_path: Path,
) -> None:
    sample = write_sample(tmp_path, listings=3000, seed=3, brands=10, products=40)
    assert sample.text_truth is not None
    rings = {
        (r["platform"], r["listing_id"]): r["ring"]
        for r in read_jsonl(sample.text_truth)
        if r["ring"] is not None
    }
    names = {b.name: [n.lower() for n in b.names] for b in build_catalog(brands=10).brands}
    hidden = 0
    members: Counter[str] = Counter()
    for record, truth in zip(
        read_jsonl(sample.listings_path), read_jsonl(sample.truth), strict=True
    ):
        ring = rings.get((record["platform"], record["listing_id"]))
        if ring is None:
            continue
        members[ring] += 1
        if "hidden_brand" in truth.get("tricks", ()):
            hidden += 1
            text = record["description"].lower()
            assert not any(name in text for name in names[truth["brand"]])
    assert hidden > 0 and min(members.values()) >= 5
