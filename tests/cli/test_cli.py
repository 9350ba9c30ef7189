"""The command line as a user meets it: exit codes, messages, and the files it leaves."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest
from typer.testing import CliRunner

from tests.factories import listing, read_jsonl, registry_data, write_jsonl, write_registry
from vigil.cli.main import app

runner = CliRunner()


def vigil(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args), catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


def test_every_command_documents_itself() -> None:
    for command in (["registry", "load"], ["registry", "show"], ["scan"], ["sample"],
                    ["evaluate"], ["demo"]):  # fmt: skip
        code, out, _ = vigil(*command, "--help")
        assert code == 0 and "--home" in out, command


def test_registry_load_then_show(tmp_path: Path) -> None:
    home = str(tmp_path / "home")
    registry = write_registry(tmp_path / "registry.yaml")
    code, out, _ = vigil("registry", "load", str(registry), "--home", home)
    assert code == 0 and "brands" in out
    code, out, _ = vigil("registry", "show", "--home", home)
    assert code == 0 and "Xiaomi" in out and "2 brands, 3 products" in out


def test_registry_load_names_the_bad_entry_and_exits_1(tmp_path: Path) -> None:
    data = registry_data()
    data["products"][1]["msrp"] = {"amount": "free"}
    registry = write_registry(tmp_path / "registry.yaml", data)
    code, _, err = vigil("registry", "load", str(registry), "--home", str(tmp_path / "home"))
    assert code == 1
    assert "products[1] ('Xiaomi 14'): msrp.amount: Input should be a valid number" in err
    assert "1 entry not loaded; the rest was loaded" in err


def test_a_missing_registry_file_is_one_clear_line(tmp_path: Path) -> None:
    code, _, err = vigil("registry", "load", str(tmp_path / "nope.yaml"), "--home", str(tmp_path))
    assert code == 1 and "nope.yaml: cannot read it: No such file or directory" in err
    assert "Traceback" not in err


def test_scan_writes_the_three_outputs(tmp_path: Path) -> None:
    home = str(tmp_path / "home")
    vigil("registry", "load", str(write_registry(tmp_path / "registry.yaml")), "--home", home)
    feed = write_jsonl(tmp_path / "feed.jsonl", [listing(), listing(title="高仿 小米14 Ultra")])
    out = tmp_path / "out"
    code, stdout, _ = vigil("scan", str(feed), "--out", str(out), "--home", home)
    assert code == 0 and "scanned" in stdout
    assert len(read_jsonl(out / "assessments.jsonl")) == 2
    assert read_jsonl(out / "rejected.jsonl") == []
    summary = orjson.loads((out / "summary.json").read_bytes())
    assert summary["scanned"] == 2 and sum(summary["by_verdict"].values()) == 2
    assert not [p for p in out.iterdir() if p.name.startswith(".")]  # no temporary files left


def test_scan_store_all_keeps_cleared_listings_too(tmp_path: Path) -> None:
    home = str(tmp_path / "home")
    vigil("registry", "load", str(write_registry(tmp_path / "registry.yaml")), "--home", home)
    feed = write_jsonl(tmp_path / "feed.jsonl", [listing(), listing(title="高仿 小米14 Ultra")])
    for flags, stored in (([], 1), (["--store-all"], 2)):
        out = tmp_path / f"out{len(flags)}"
        code, _, _ = vigil("scan", str(feed), "--out", str(out), "--home", home, *flags)
        summary = orjson.loads((out / "summary.json").read_bytes())
        assert code == 0 and summary["by_verdict"].get("clear") == 1
        assert summary["stored"] == stored


def test_scan_of_a_missing_file_fails_clearly(tmp_path: Path) -> None:
    code, _, err = vigil("scan", str(tmp_path / "feed.jsonl"), "--home", str(tmp_path))
    assert code == 1 and "feed.jsonl: no such file" in err


@pytest.mark.parametrize("bad", [b"not json\n", b'{"platform": "jd"}\n'])
def test_evaluate_rejects_files_that_are_not_its_inputs(tmp_path: Path, bad: bytes) -> None:
    assessments = tmp_path / "assessments.jsonl"
    assessments.write_bytes(bad)
    truth = tmp_path / "truth.jsonl"
    truth.write_bytes(b'{"platform": "jd", "listing_id": "1", "label": "genuine", "brand": null}\n')
    code, _, err = vigil("evaluate", str(assessments), "--truth", str(truth))
    assert code == 1 and "assessments.jsonl, line 1" in err


def test_a_sample_with_photos_scans_and_scores_its_image_signals(tmp_path: Path) -> None:
    home, sample, out = (str(tmp_path / n) for n in ("home", "sample", "out"))
    options = ("--listings", "120", "--seed", "2", "--brands", "3", "--products", "6")
    assert vigil("sample", "--out", sample, *options)[0] == 0
    assert vigil("registry", "load", f"{sample}/registry.yaml", "--home", home)[0] == 0
    assert vigil("scan", f"{sample}/listings.jsonl", "--out", out, "--home", home)[0] == 0
    code, stdout, _ = vigil(
        "evaluate", f"{out}/assessments.jsonl", "--truth", f"{sample}/truth.jsonl",
        "--images", f"{sample}/image_truth.jsonl", "--json",
    )  # fmt: skip
    figures = orjson.loads(stdout)["images"]
    assert code == 0 and figures["false_photo_matches"] == 0
    assert figures["counts"]["official_edited"]["total"] > 0
    assert figures["recall"]["official_edited"] == 1.0
    # The scan kept the photos it decoded, by content, for the pages and for evidence.
    assert any((tmp_path / "home" / "cache" / "images" / "blobs").rglob("*"))
