"""`vigil evidence` as a user meets it: capture, export, verify, their messages and exit codes.
On SQLite and, when configured, PostgreSQL (the commands open the store VIGIL_DATABASE_URL
names, as an installation's would)."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from tests.evidence.world import EvidenceWorld, evidence_world
from vigil.cli.main import app
from vigil.store.db import Store

runner = CliRunner()


def vigil(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args), catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture
def world(
    store: Store, store_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> EvidenceWorld:
    monkeypatch.setenv("VIGIL_DATABASE_URL", store_url)
    return evidence_world(store, tmp_path / "home")


def test_every_evidence_command_documents_itself() -> None:
    for command in ("capture", "export", "verify"):
        code, out, _ = vigil("evidence", command, "--help")
        assert code == 0 and "--home" in out, command


def test_capture_export_verify(world: EvidenceWorld, tmp_path: Path) -> None:
    home = str(world.home)
    code, out, err = vigil("evidence", "capture", world.reference, "--home", home)
    assert code == 0, err
    assert f"{world.reference}: 6 new item(s), 0 unchanged" in out
    assert "log entry 2: image shopmart" in out and "tree head: size 6, root " in out
    assert "not captured: shopmart" in err and "HTTP 404 Not Found" in err
    # The case's number names it too; nothing new the second time.
    code, out, _ = vigil("evidence", "capture", str(world.case_id), "--home", home)
    assert code == 0 and "0 new item(s), 6 unchanged" in out
    bundle = tmp_path / "exports" / "case.zip"
    code, out, err = vigil(
        "evidence", "export", world.reference, "--out", str(bundle), "--home", home
    )
    assert code == 0, err
    assert f"{bundle}: case {world.reference}, 6 item(s)" in out and bundle.is_file()
    code, out, _ = vigil("evidence", "verify", str(bundle))
    assert code == 0 and f"verified: {bundle}: case {world.reference}, 6 item(s)" in out


def test_export_refuses_a_case_without_evidence_and_writes_nothing(
    world: EvidenceWorld, tmp_path: Path
) -> None:
    out = tmp_path / "case.zip"
    code, _, err = vigil(
        "evidence", "export", world.reference, "--out", str(out), "--home", str(world.home)
    )
    assert code == 1 and "has no evidence to export; capture it first" in err
    assert not out.exists() and list(tmp_path.glob(".partial-*")) == []


def test_unknown_cases_and_bad_arguments_are_one_clear_line(
    world: EvidenceWorld, tmp_path: Path
) -> None:
    home = str(world.home)
    code, _, err = vigil("evidence", "capture", "C-2026-000099", "--home", home)
    assert code == 1 and "no case C-2026-000099" in err and "Traceback" not in err
    code, _, err = vigil("evidence", "capture", "case one", "--home", home)
    assert code == 1 and "names no case: give its reference" in err
    code, _, err = vigil("evidence", "verify", "--home", home)
    assert code == 2 and "name a bundle file to verify, or --case CASE" in err
    code, _, err = vigil("evidence", "verify", str(tmp_path / "x.zip"), "--case", "1")
    assert code == 2
    code, _, err = vigil("evidence", "verify", str(tmp_path / "missing.zip"))
    assert code == 1 and "missing.zip: no such file" in err
    vigil("evidence", "capture", world.reference, "--home", home)
    bundle = tmp_path / "case.zip"
    vigil("evidence", "export", world.reference, "--out", str(bundle), "--home", home)
    code, _, err = vigil("evidence", "verify", str(bundle), "--key", str(tmp_path / "no.pem"))
    assert code == 1 and "no.pem: cannot read it" in err
