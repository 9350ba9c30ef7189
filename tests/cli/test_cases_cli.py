"""`vigil cases`: open, list, show, move, and rules — through the command line on a home."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from tests.case_factories import CaseWorld, seed_case_world
from vigil.cli.main import app
from vigil.settings import Settings
from vigil.store.db import open_store

runner = CliRunner()


@pytest.fixture
def home(tmp_path: Path) -> tuple[Path, CaseWorld]:
    store = open_store(Settings(home=tmp_path).resolved_database_url())
    world = seed_case_world(store)
    return tmp_path, world


def _run(home: Path, *args: str) -> tuple[int, str]:
    result = runner.invoke(app, [*args, "--home", str(home)])
    # Rich wraps long lines at the terminal's width; read the words, not the layout.
    return result.exit_code, " ".join(result.output.split())


def test_a_case_opened_listed_moved_and_shown(home: tuple[Path, CaseWorld]) -> None:
    folder, world = home
    first, second = world.listing("acme", seller="ring"), world.listing("acme", seller="ring")
    code, out = _run(folder, "cases", "open", "--seller", "shopmart:ring")
    assert code == 0, out
    assert "C-" in out and "2 listings" in out and "rights holder acme" in out
    reference = out.split("case ")[1].split()[0]
    code, out = _run(folder, "cases", "move", reference, "confirmed", "--note", "clear fakes")
    assert code == 0 and "now confirmed" in out
    code, out = _run(folder, "cases", "show", reference)
    assert code == 0
    assert f"listing {first}" in out and f"listing {second}" in out
    assert "open→confirmed: clear fakes" in out
    code, out = _run(folder, "cases", "list", "--state", "confirmed")
    assert code == 0 and reference in out


def test_bad_requests_say_what_to_do(home: tuple[Path, CaseWorld]) -> None:
    folder, world = home
    code, out = _run(folder, "cases", "open", "--seller", "nocolon")
    assert code == 1 and "PLATFORM:SELLER_ID" in out
    code, out = _run(folder, "cases", "move", "C-2026-999999", "confirmed")
    assert code == 1 and "no case C-2026-999999" in out
    code, out = _run(folder, "cases", "open", "--listing", str(world.listing("acme")))
    reference = out.split("case ")[1].split()[0]
    code, out = _run(folder, "cases", "move", reference, "closed")
    assert code == 1 and "it cannot become closed" in out


def test_rules_open_cases(home: tuple[Path, CaseWorld]) -> None:
    folder, world = home
    world.listing("acme", seller="s1", risk=0.99)
    world.listing("acme", seller="s2", risk=0.99)
    code, out = _run(folder, "cases", "rules", "add", "--name", "fakes", "--owner", "acme")
    assert code == 0, out
    code, out = _run(folder, "cases", "rules", "apply")
    assert code == 0 and "2 cases opened over 2 listings" in out
