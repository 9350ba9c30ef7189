"""Fixtures shared by the suites: stores on each backend, real-data paths."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from vigil.store.db import Store, open_store

PROJECT = Path(__file__).resolve().parents[1]
REAL_DATA = PROJECT.parent / "shared" / "data" / "real"
BACKENDS = ["sqlite", "postgresql"]


def real_data(*parts: str) -> Path:
    """A path under ../shared/data/real, or skip the test saying why it is absent."""
    path = REAL_DATA.joinpath(*parts)
    if not path.exists():
        pytest.skip(
            f"real data {path} is not here (it ships beside the project in CI, "
            "not in a clone); the test needs it"
        )
    return path


@pytest.fixture(params=BACKENDS)
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh, empty database URL on each backend; PostgreSQL only when configured."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'vigil.sqlite3'}"
        return
    base = os.environ.get("VIGIL_TEST_DATABASE_URL")
    if not base:
        pytest.skip("set VIGIL_TEST_DATABASE_URL to run the store suite on PostgreSQL")
    # A schema of its own per test, so that parallel workers never see each other's rows.
    schema = f"vigil_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(base)
    with admin.begin() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    separator = "&" if "?" in base else "?"
    try:
        yield f"{base}{separator}options=-csearch_path%3D{schema}"
    finally:
        with admin.begin() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture
def store(store_url: str) -> Iterator[Store]:
    opened = open_store(store_url)
    try:
        yield opened
    finally:
        opened.close()
