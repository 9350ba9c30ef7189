"""Scoring the text signals of a scan against the sample's text truth, on hand-made rows."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson
import pytest
from typer.testing import CliRunner

from vigil.cli.main import app
from vigil.services.evaluate import EvaluationError
from vigil.services.evaluate_texts import evaluate_texts

Row = dict[str, Any]
MANUAL, INTRO, GUIDE = "xiaomi/Xiaomi 14 用户手册", "nike/AF1 官方商品描述", "sony/Help Guide"
# listing id -> (label, text truth fields or None)
LISTINGS: dict[str, tuple[str, Row | None]] = {
    "A": ("counterfeit", {"work": MANUAL, "copied_chars": 300, "edit": "verbatim", "lang": "zh"}),
    "B": ("infringement", {"work": MANUAL, "copied_chars": 150, "edit": "light", "lang": "zh"}),
    "C": ("counterfeit", {"work": INTRO, "copied_chars": 500, "edit": "traditional", "lang": "zh"}),
    "D": ("infringement", {"work": GUIDE, "copied_chars": 250, "edit": "inserted", "lang": "en"}),
    "E": ("genuine", {"work": INTRO, "copied_chars": 400, "edit": "verbatim", "authorized": True}),
    "F": ("genuine", {"boilerplate_only": True}),
    "G": ("counterfeit", {"ring": "r1"}),
    "H": ("counterfeit", {"ring": "r1"}),
    "I": ("counterfeit", {"ring": "r1"}),
    "J": ("counterfeit", {"ring": "r2", "lang": "en"}),
    "K": ("counterfeit", {"ring": "r2", "lang": "en"}),
    "L": ("unrelated", None),
}


def text_row(listing_id: str, fields: Row) -> Row:
    row: Row = {
        "platform": "taobao",
        "listing_id": listing_id,
        "work": None,
        "copied_chars": 0,
        "edit": None,
        "lang": "zh",
        "ring": None,
        "boilerplate_only": False,
        "authorized": False,
    }
    return {**row, **fields}


def signal(kind: str, asset: str, **details: Any) -> Row:
    return {"detector": "texts", "kind": kind, "asset": asset, "weight": 4.0, "details": details}


def copied(work: str) -> Row:
    return signal("copyrighted_text", f"work:{work}", work=work.split("/")[1])


def clustered(key: str) -> Row:
    return signal("copy_paste_cluster", f"cluster:{key}", cluster=key, listings=3, sellers=3)


def write_jsonl(path: Path, rows: list[Row]) -> Path:
    path.write_bytes(b"".join(orjson.dumps(row) + b"\n" for row in rows))
    return path


@pytest.fixture
def files(tmp_path: Path) -> tuple[Path, Path]:
    """The truth and text truth files of the listings above."""
    truth = write_jsonl(
        tmp_path / "truth.jsonl",
        [
            {"platform": "taobao", "listing_id": key, "label": label, "brand": None}
            for key, (label, _) in LISTINGS.items()
        ],
    )
    texts = write_jsonl(
        tmp_path / "text_truth.jsonl",
        [text_row(key, fields) for key, (_, fields) in LISTINGS.items() if fields is not None],
    )
    return truth, texts


def assessments(tmp_path: Path, signals: dict[str, list[Row]]) -> Path:
    rows = [
        {
            "platform": "taobao",
            "listing_id": key,
            "verdict": "clear",
            "risk": 0.1,
            "signals": signals.get(key, []),
        }
        for key in LISTINGS
    ]
    return write_jsonl(tmp_path / "assessments.jsonl", rows)


def test_a_perfect_scan_scores_one_everywhere(tmp_path: Path, files: tuple[Path, Path]) -> None:
    truth, texts = files
    scan = assessments(
        tmp_path,
        {
            "A": [copied(MANUAL)],
            "B": [copied(MANUAL)],
            "C": [copied(INTRO)],
            "D": [copied(GUIDE)],
            **{key: [clustered("c1")] for key in "GHI"},
            **{key: [clustered("c2")] for key in "JK"},
        },
    )
    figures = evaluate_texts(scan, texts, truth)
    copies = figures["copyrighted_text"]
    assert (copies["precision"], copies["recall"]) == (1.0, 1.0)
    assert (copies["headline_precision"], copies["headline_recall"]) == (1.0, 1.0)
    assert copies["groups"]["headline"] == {"total": 3, "found": 3, "recall": 1.0}
    assert list(copies["groups"]) == [
        "all",
        "headline",
        "edit:verbatim",
        "edit:light",
        "edit:inserted",
        "edit:traditional",
        "lang:en",
        "lang:zh",
        "length:100-199",
        "length:>=200",
        "label:counterfeit",
        "label:infringement",
    ]
    assert copies["false_flags"] == {
        "boilerplate_only": {"flagged": 0, "total": 1},
        "authorized": {"flagged": 0, "total": 1},
        "no_copy": {"flagged": 0, "total": 6},
    }
    clusters = figures["clusters"]
    assert (clusters["pairwise_precision"], clusters["pairwise_recall"]) == (1.0, 1.0)
    assert (clusters["truth_pairs"], clusters["rings"], clusters["clusters"]) == (4, 2, 2)
    assert figures["missing_assessment"] == 0 and figures["text_truth_rows"] == 11


def test_a_scan_that_says_nothing_finds_nothing(tmp_path: Path, files: tuple[Path, Path]) -> None:
    truth, texts = files
    figures = evaluate_texts(assessments(tmp_path, {}), texts, truth)
    copies = figures["copyrighted_text"]
    assert copies["precision"] is None and copies["signals"] == 0
    assert (copies["recall"], copies["headline_recall"]) == (0.0, 0.0)
    assert copies["groups"]["all"] == {"total": 4, "found": 0, "recall": 0.0}
    assert figures["clusters"]["pairwise_precision"] is None
    assert figures["clusters"]["pairwise_recall"] == 0.0


def test_the_wrong_work_false_flags_and_a_merged_cluster_count_against_the_scan(
    tmp_path: Path, files: tuple[Path, Path]
) -> None:
    truth, texts = files
    scan = assessments(
        tmp_path,
        {
            # It copies the manual (the wrong work); as a copy, its cluster is left out.
            "A": [copied(INTRO), clustered("c1")],
            "B": [copied(MANUAL)],  # right, outside the headline group (150 characters)
            "E": [copied(INTRO)],  # an official shop using its own description
            "F": [copied(MANUAL)],  # shop boilerplate only
            "L": [copied(GUIDE)],  # copies nothing
            **{key: [clustered("c1")] for key in "GHIJK"},  # two rings merged
        },
    )
    figures = evaluate_texts(scan, texts, truth)
    copies = figures["copyrighted_text"]
    assert (copies["signals"], copies["correct"], copies["wrong_work"]) == (5, 1, 1)
    assert copies["precision"] == 0.2
    assert copies["headline_precision"] == 0.0  # A, E, F and L count; B does not
    assert (copies["recall"], copies["headline_recall"]) == (0.25, 0.0)
    groups = copies["groups"]
    assert groups["edit:light"] == {"total": 1, "found": 1, "recall": 1.0}
    assert groups["edit:verbatim"] == {"total": 1, "found": 0, "recall": 0.0}
    assert groups["lang:zh"] == {"total": 3, "found": 1, "recall": 0.3333}
    assert groups["length:>=200"] == {"total": 3, "found": 0, "recall": 0.0}
    assert groups["label:infringement"] == {"total": 2, "found": 1, "recall": 0.5}
    assert copies["false_flags"] == {
        "boilerplate_only": {"flagged": 1, "total": 1},
        "authorized": {"flagged": 1, "total": 1},
        "no_copy": {"flagged": 1, "total": 6},
    }
    clusters = figures["clusters"]
    assert (clusters["true_pairs"], clusters["predicted_pairs"]) == (4, 10)
    assert clusters["copies_clustered"] == 1
    assert (clusters["pairwise_precision"], clusters["pairwise_recall"]) == (0.4, 1.0)


def test_a_huge_cluster_is_counted_not_enumerated(tmp_path: Path) -> None:
    count = 30_000  # 450 million pairs
    truth = write_jsonl(
        tmp_path / "truth.jsonl",
        [
            {"platform": "ebay", "listing_id": str(n), "label": "counterfeit", "brand": None}
            for n in range(count)
        ],
    )
    texts = write_jsonl(
        tmp_path / "text_truth.jsonl",
        [{**text_row(str(n), {"ring": f"r{n % 2}"}), "platform": "ebay"} for n in range(count)],
    )
    scan = write_jsonl(
        tmp_path / "assessments.jsonl",
        [
            {"platform": "ebay", "listing_id": str(n), "verdict": "clear", "risk": 0.1,
             "signals": [clustered("all")]}
            for n in range(count)
        ],
    )  # fmt: skip
    clusters = evaluate_texts(scan, texts, truth)["clusters"]
    half = count // 2
    assert clusters["predicted_pairs"] == count * (count - 1) // 2
    assert clusters["true_pairs"] == clusters["truth_pairs"] == 2 * (half * (half - 1) // 2)
    assert clusters["pairwise_recall"] == 1.0 and clusters["pairwise_precision"] == 0.5


@pytest.mark.parametrize(
    ("broken", "message"),
    [
        ({"edit": "paraphrased"}, "unknown edit 'paraphrased'"),
        ({"copied_chars": "many"}, "copied_chars is not a whole number"),
        (None, "missing 'edit'"),
    ],
)
def test_a_bad_text_truth_row_is_named(
    tmp_path: Path, files: tuple[Path, Path], broken: Row | None, message: str
) -> None:
    truth, texts = files
    row = text_row("A", broken or {})
    if broken is None:
        del row["edit"]
    write_jsonl(texts, [text_row("Z", {}), row])
    with pytest.raises(EvaluationError, match=rf"text_truth.jsonl, line 2: .*{message}"):
        evaluate_texts(assessments(tmp_path, {}), texts, truth)


def test_unreadable_files_and_bad_assessments_are_named(
    tmp_path: Path, files: tuple[Path, Path]
) -> None:
    truth, texts = files
    with pytest.raises(EvaluationError, match=r"missing\.jsonl: cannot read it"):
        evaluate_texts(assessments(tmp_path, {}), tmp_path / "missing.jsonl", truth)
    scan = write_jsonl(tmp_path / "scan.jsonl", [{"platform": "taobao", "listing_id": "A"}])
    with pytest.raises(EvaluationError, match=r"scan\.jsonl, line 1: not an assessment"):
        evaluate_texts(scan, texts, truth)
    (tmp_path / "bad.jsonl").write_text("{not json\n", encoding="utf-8")
    with pytest.raises(EvaluationError, match=r"bad\.jsonl, line 1: not valid JSON"):
        evaluate_texts(scan, tmp_path / "bad.jsonl", truth)


def test_the_command_prints_the_text_figures(tmp_path: Path, files: tuple[Path, Path]) -> None:
    truth, texts = files
    scan = assessments(tmp_path, {"A": [copied(MANUAL)], "G": [clustered("c1")]})
    runner = CliRunner()
    arguments = ["evaluate", str(scan), "--truth", str(truth), "--texts", str(texts)]
    result = runner.invoke(app, arguments)
    assert result.exit_code == 0, result.stdout
    assert "copied text" in result.stdout and "edit: verbatim" in result.stdout
    assert "false flags: 0 of 1 boilerplate-only listings" in result.stdout
    assert "pairwise precision" in result.stdout
    result = runner.invoke(app, [*arguments, "--json"])
    figures = orjson.loads(result.stdout)["texts"]
    assert figures["copyrighted_text"]["recall"] == 0.25
    result = runner.invoke(app, [*arguments[:-1], str(tmp_path / "nope.jsonl")])
    assert result.exit_code == 1 and "nope.jsonl: cannot read it" in result.stderr
