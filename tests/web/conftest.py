"""The web platform under test: an app on a fresh store with members, people in every role,
and clients signed in as any of them (by session, with CSRF, or by API key)."""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from argon2 import PasswordHasher
from fastapi import FastAPI
from fastapi.testclient import TestClient
from httpx2 import Response

from vigil.domain.people import Role
from vigil.services import accounts
from vigil.settings import Settings
from vigil.store.db import Store, cli_actor, open_store
from vigil.web.app import create_app

PASSWORD = "correct horse battery"
MEMBERS = {
    "alliance": ("The Alliance", "operator"),
    "acme": ("Acme Brands", "brand_owner"),
    "globex": ("Globex Goods", "brand_owner"),
    "shopmart": ("Shopmart Marketplace", "marketplace"),
}
ROLES = [r.value for r in Role]
CSRF_META = re.compile(r'<meta name="csrf-token" content="([^"]*)">')


def email(role: str, member: str) -> str:
    return f"{role}@{member}.test"


@pytest.fixture(autouse=True)
def cheap_password_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    """Real argon2, at the lowest cost, so that the suites sign in hundreds of times quickly."""
    monkeypatch.setattr(
        accounts, "_hasher", PasswordHasher(time_cost=1, memory_cost=64, parallelism=1)
    )


def seed_people(store: Store) -> None:
    actor = cli_actor()
    for member_id, (name, kind) in MEMBERS.items():
        accounts.create_member(store, member_id=member_id, name=name, kind=kind, actor=actor)
        for role in ROLES:
            accounts.create_user(
                store,
                member_id=member_id,
                email=email(role, member_id),
                name=f"{role.title()} of {name}",
                role=role,
                password=PASSWORD,
                actor=actor,
            )


@pytest.fixture(scope="session")
def seeded_database(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An SQLite file with the members and people, made once and copied for each test."""
    folder = tmp_path_factory.mktemp("web-template")
    path = folder / "vigil.sqlite3"
    store = open_store(f"sqlite:///{path}")
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(
            accounts, "_hasher", PasswordHasher(time_cost=1, memory_cost=64, parallelism=1)
        )
        seed_people(store)
    store.close()
    return path


def sign_in(client: TestClient, who: str, password: str = PASSWORD, **form: str) -> Response:
    """Sign in through the login form as a browser does: fetch the form (and its token), post it."""
    client.get("/login")
    data = {"email": who, "password": password, "csrf_token": client.cookies["vigil_login_csrf"]}
    return client.post("/login", data={**data, **form})


@dataclass
class Web:
    app: FastAPI
    store: Store
    settings: Settings
    _clients: list[TestClient] = field(default_factory=list)

    def anonymous(self) -> TestClient:
        client = TestClient(self.app, follow_redirects=False)
        self._clients.append(client)
        return client

    def client(self, who: str) -> TestClient:
        """Signed in as `who` through the login form; unsafe requests carry the CSRF header."""
        client = self.anonymous()
        answer = sign_in(client, who)
        assert answer.status_code == 303, f"cannot sign in as {who}: {answer.status_code}"
        account = client.get("/account")
        found = CSRF_META.search(account.text)
        assert found, "the page carries no CSRF token"
        client.headers["X-CSRF-Token"] = found.group(1)
        return client

    def csrf_of(self, client: TestClient) -> str:
        return str(client.headers["X-CSRF-Token"])

    def api(self, who: str, scope: str = "write") -> TestClient:
        """A client sending an API key of `who` with this scope."""
        client = self.anonymous()
        client.headers["Authorization"] = f"Bearer {self.key(who, scope)}"
        return client

    def key(self, who: str, scope: str = "write") -> str:
        with self.store.session() as session:
            from sqlalchemy import select

            from vigil.store.tables import UserRow

            user_id = session.scalar(select(UserRow.id).where(UserRow.email == who))
        assert user_id is not None, f"no user {who}"
        _, whole = accounts.create_api_key(
            self.store, user_id, name=f"test {scope}", scope=scope, actor=cli_actor()
        )
        return whole

    def close(self) -> None:
        for client in self._clients:
            client.close()


@pytest.fixture
def web(seeded_database: Path, tmp_path: Path) -> Iterator[Web]:
    home = tmp_path / "home"
    home.mkdir()
    shutil.copy(seeded_database, home / "vigil.sqlite3")
    settings = Settings(home=home)
    store = open_store(settings.resolved_database_url())
    app = create_app(settings, store=store)
    harness = Web(app=app, store=store, settings=settings)
    try:
        yield harness
    finally:
        harness.close()
        runner = app.state.scan_runner
        if runner is not None:
            runner.shutdown()
        store.close()
