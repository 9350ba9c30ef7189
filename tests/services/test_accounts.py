"""Members, people, sessions and keys in the store, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from argon2 import PasswordHasher
from sqlalchemy import select

from vigil.services import accounts
from vigil.store.db import Store, cli_actor
from vigil.store.tables import AuditEventRow, UserRow, WebSessionRow

PASSWORD = "a long enough password"


@pytest.fixture(autouse=True)
def cheap_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(
        accounts, "_hasher", PasswordHasher(time_cost=1, memory_cost=64, parallelism=1)
    )


@pytest.fixture
def people(store: Store) -> Store:
    accounts.create_member(
        store, member_id="acme", name="Acme", kind="brand_owner", actor=cli_actor()
    )
    accounts.create_user(
        store, member_id="acme", email="a@acme.test", name="A", role="analyst",
        password=PASSWORD, actor=cli_actor(),
    )  # fmt: skip
    return store


def test_passwords_are_argon2_hashes(people: Store) -> None:
    with people.session() as session:
        stored = session.scalar(select(UserRow.password_hash))
    assert stored is not None and stored.startswith("$argon2id$") and PASSWORD not in stored


def test_authenticate(people: Store) -> None:
    assert accounts.authenticate(people, " A@ACME.test ", PASSWORD) is not None
    assert accounts.authenticate(people, "a@acme.test", PASSWORD + "x") is None
    assert accounts.authenticate(people, "nobody@acme.test", PASSWORD) is None


def test_deactivated_users_and_suspended_members_cannot_sign_in(people: Store) -> None:
    user = accounts.authenticate(people, "a@acme.test", PASSWORD)
    assert user is not None
    token, _ = accounts.start_session(people, user, ip="127.0.0.1")
    accounts.update_member(people, "acme", name=None, active=False, actor=cli_actor())
    assert accounts.authenticate(people, "a@acme.test", PASSWORD) is None
    assert accounts.resolve_session(people, token) is None
    accounts.update_member(people, "acme", name=None, active=True, actor=cli_actor())
    assert accounts.resolve_session(people, token) is not None
    accounts.update_user(people, user.id, active=False, actor=cli_actor())
    assert accounts.resolve_session(people, token) is None  # its sessions ended


def test_sessions_expire(people: Store) -> None:
    user = accounts.authenticate(people, "a@acme.test", PASSWORD)
    assert user is not None
    token, csrf = accounts.start_session(people, user, ip=None)
    found = accounts.resolve_session(people, token)
    assert found is not None and found.csrf == csrf
    with people.session() as session:
        for row in session.scalars(select(WebSessionRow)):
            row.expires_at = datetime.now(UTC) - timedelta(seconds=1)
    assert accounts.resolve_session(people, token) is None


def test_keys(people: Store) -> None:
    user = accounts.authenticate(people, "a@acme.test", PASSWORD)
    assert user is not None
    row, whole = accounts.create_api_key(
        people, user.id, name="feed", scope="write", actor=cli_actor()
    )
    found = accounts.resolve_api_key(people, whole)
    assert found is not None and found.actor("1.2.3.4").scope.value == "write"
    assert accounts.resolve_api_key(people, whole[:-1] + ("A" if whole[-1] != "A" else "B")) is None
    accounts.revoke_api_key(people, row.id, actor=cli_actor())
    assert accounts.resolve_api_key(people, whole) is None
    with pytest.raises(accounts.AccountError, match="scope 'admin' is not known"):
        accounts.create_api_key(people, user.id, name="x", scope="admin", actor=cli_actor())


def test_every_write_is_audited(people: Store) -> None:
    user = accounts.authenticate(people, "a@acme.test", PASSWORD)
    assert user is not None
    accounts.change_password(
        people, user.id, current=PASSWORD, new="another long one", actor=cli_actor()
    )
    accounts.reset_password(people, user.id, new="a third long one", actor=cli_actor())
    with people.session() as session:
        events = session.execute(select(AuditEventRow.action, AuditEventRow.member_id)).all()
    assert [e.action for e in events] == [
        "member.create",
        "user.create",
        "user.password",
        "user.password_reset",
    ]
    assert {e.member_id for e in events} == {"acme"}
