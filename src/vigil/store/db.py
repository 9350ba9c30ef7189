"""Opening the store: SQLite (default) or PostgreSQL, migrated to the latest schema."""

from __future__ import annotations

import getpass
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.exc import ArgumentError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

from vigil.domain.people import Actor, Role
from vigil.errors import VigilError
from vigil.store.tables import AuditEventRow

MIGRATIONS = Path(__file__).with_name("migrations")


class StoreError(VigilError):
    """The store cannot be opened or migrated."""


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    # WAL lets readers (the web UI) work while a scan writes; NORMAL sync is safe under WAL.
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.close()


def make_engine(url: str) -> Engine:
    try:
        if url.startswith("sqlite:///"):
            Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
            engine = create_engine(url)
            event.listen(engine, "connect", _sqlite_pragmas)
            return engine
        return create_engine(url, pool_pre_ping=True)
    except (ArgumentError, ImportError) as error:
        raise StoreError(
            f"cannot use database URL {url!r}: {error}. Expected sqlite:///PATH or "
            "postgresql+psycopg://USER@HOST/DB (install the 'postgres' extra for PostgreSQL)"
        ) from error


def alembic_config(engine: Engine) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["engine"] = engine
    return config


class Store:
    """One installation's relational store."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.engine = make_engine(url)
        self.sessions = sessionmaker(self.engine, expire_on_commit=False)

    def migrate(self) -> None:
        """Bring the schema to the latest migration (idempotent)."""
        try:
            with self.engine.connect() as connection:
                current = MigrationContext.configure(connection).get_current_revision()
            head = ScriptDirectory.from_config(alembic_config(self.engine)).get_current_head()
            if current != head:
                command.upgrade(alembic_config(self.engine), "head")
        except OperationalError as error:
            raise StoreError(
                f"cannot reach the database at {self.engine.url.render_as_string()}: "
                f"{error.orig}. Check VIGIL_DATABASE_URL or --home."
            ) from error

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A session in one transaction: committed on success, rolled back on error."""
        with self.sessions() as session, session.begin():
            yield session

    def analyze(self) -> None:
        """Refresh the planner's statistics after a large write, so that the next queries are
        planned for the data as it now is (PostgreSQL plans nested loops over a freshly
        filled table otherwise; SQLite's `optimize` is cheap and does what is needed)."""
        with self.engine.begin() as connection:
            if connection.dialect.name == "postgresql":
                connection.exec_driver_sql("ANALYZE listings, listing_access, signals")
            else:
                connection.exec_driver_sql("PRAGMA optimize")

    def close(self) -> None:
        self.engine.dispose()


def audit(
    session: Session,
    *,
    action: str,
    subject: str,
    details: dict[str, Any],
    actor: Actor | None = None,
    member_id: str | None = None,
) -> None:
    """Record who did what, to whose data, from where; every service write calls this inside
    its transaction. Without an actor the write came from the command line."""
    actor = actor or cli_actor()
    session.add(
        AuditEventRow(
            actor=actor.name,
            action=action,
            subject=subject[:400],
            details=details,
            member_id=member_id if member_id is not None else actor.member_id,
            source=actor.source,
        )
    )


def cli_actor() -> Actor:
    """The command line acts for whoever runs it, with the operator's reach."""
    try:
        name = f"cli:{getpass.getuser()}"
    except (KeyError, OSError):
        name = "cli:unknown"
    return Actor(name=name, member_id=None, member_kind=None, role=Role.ADMIN, source="cli")


def open_store(url: str) -> Store:
    store = Store(url)
    store.migrate()
    return store
