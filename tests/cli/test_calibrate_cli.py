"""`vigil calibrate` as an operator meets it: refusals, the report, --apply, --rollback, --json.
The store is the `store` fixture's (SQLite and PostgreSQL), reached through VIGIL_DATABASE_URL."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tests.calibration_factories import decide, drawn_outcomes
from vigil.cli.main import app
from vigil.store.db import Store

runner = CliRunner()
WEIGHTS = {"brand_variant": 4.5, "counterfeit_wording": 5.0}
TRUE_SCALE = {"counterfeit_wording": 0.3}


@pytest.fixture
def home(store: Store, store_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("VIGIL_DATABASE_URL", store_url)
    folder = tmp_path / "home"
    folder.mkdir()
    return folder


def vigil(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args), catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


def test_calibrate_documents_itself() -> None:
    code, out, _ = vigil("calibrate", "--help")
    assert code == 0
    for option in ("--apply", "--rollback", "--json", "--home"):
        assert option in out


def test_too_few_outcomes_is_one_clear_line(store: Store, home: Path) -> None:
    decide(store, [({"brand_variant": 4.5}, "confirmed")] * 3)
    code, _, err = vigil("calibrate", "--home", str(home))
    assert code == 1
    assert "at least 50 decided listings" in err and "there are 3" in err
    assert "Traceback" not in err


def test_a_report_without_apply_writes_nothing(store: Store, home: Path) -> None:
    decide(store, drawn_outcomes(600, WEIGHTS, TRUE_SCALE))
    code, out, _ = vigil("calibrate", "--home", str(home))
    assert code == 0, out
    assert "counterfeit_wording" in out and "before (current)" in out and "after (fitted)" in out
    assert "nothing written" in out
    assert not (home / "calibration").exists()


def test_apply_then_rollback(store: Store, home: Path) -> None:
    decide(store, drawn_outcomes(600, WEIGHTS, TRUE_SCALE))
    code, out, _ = vigil("calibrate", "--apply", "--json", "--home", str(home))
    assert code == 0, out
    report = json.loads(out)
    weights = home / "calibration" / "weights.yaml"
    assert report["applied"] == str(weights) and weights.exists()
    wording = next(k for k in report["kinds"] if k["kind"] == "counterfeit_wording")
    assert wording["factor"] < 0.6
    assert set(report["before"]) >= {"precision", "recall", "f1"}

    code, out, _ = vigil("calibrate", "--rollback", "--home", str(home))
    assert code == 0 and "configured weights again" in out
    assert not weights.exists()
    code, _, err = vigil("calibrate", "--rollback", "--home", str(home))
    assert code == 1 and "nothing to roll back" in err


def test_apply_and_rollback_together_are_refused(home: Path) -> None:
    code, _, err = vigil("calibrate", "--apply", "--rollback", "--home", str(home))
    assert code == 1 and "pass one of them" in err
