"""`vigil member create`, `vigil user create` and `vigil serve --help` as an operator meets them."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from vigil.cli.main import app
from vigil.services.accounts import authenticate
from vigil.store.db import open_store

runner = CliRunner()


def vigil(*args: str, env: dict[str, str] | None = None) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args), catch_exceptions=False, env=env)
    return result.exit_code, result.stdout, result.stderr


@pytest.mark.parametrize("command", [["member", "create"], ["user", "create"], ["serve"], ["demo"]])
def test_commands_document_themselves(command: list[str]) -> None:
    code, out, _ = vigil(*command, "--help")
    assert code == 0 and "--home" in out


def test_bootstrap_a_member_and_its_first_admin(tmp_path: Path) -> None:
    home = str(tmp_path)
    code, out, _ = vigil(
        "member", "create", "xiaomi", "--name", "Xiaomi Inc.", "--kind", "brand_owner",
        "--home", home,
    )  # fmt: skip
    assert code == 0 and "xiaomi" in out
    code, out, _ = vigil(
        "user", "create", "Lead@Xiaomi.example", "--member", "xiaomi", "--role", "admin",
        "--home", home, env={"VIGIL_PASSWORD": "a long password"},
    )  # fmt: skip
    assert code == 0 and "lead@xiaomi.example" in out
    store = open_store(f"sqlite:///{tmp_path / 'vigil.sqlite3'}")
    try:
        user = authenticate(store, "lead@xiaomi.example", "a long password")
        assert user is not None and user.role == "admin"
        assert authenticate(store, "lead@xiaomi.example", "wrong password") is None
    finally:
        store.close()


def test_bootstrap_errors_are_clear(tmp_path: Path) -> None:
    home = str(tmp_path)
    code, _, err = vigil(
        "user", "create", "a@b.example", "--member", "nobody", "--home", home,
        env={"VIGIL_PASSWORD": "a long password"},
    )  # fmt: skip
    assert code == 1 and "no member 'nobody'" in err
    vigil("member", "create", "m", "--name", "M", "--kind", "university", "--home", home)
    code, _, err = vigil(
        "member", "create", "m", "--name", "M", "--kind", "university", "--home", home
    )
    assert code == 1 and "already exists" in err
    code, _, err = vigil(
        "user", "create", "a@b.example", "--member", "m", "--home", home,
        env={"VIGIL_PASSWORD": "short"},
    )  # fmt: skip
    assert code == 1 and "at least 10 characters" in err
    code, _, err = vigil("member", "create", "x", "--name", "X", "--kind", "pirate", "--home", home)
    assert code == 2 and "pirate" in err
