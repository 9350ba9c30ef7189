"""Helpers of the web API benchmark: databases, accounts, the `vigil serve` process, timing.

Used by bench/api.py; nothing here measures anything by itself.
"""

from __future__ import annotations

import os
import re
import secrets
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

try:  # the project pins httpx2; plain httpx has the same client API
    import httpx2 as httpx
except ImportError:  # pragma: no cover - depends on the environment
    import httpx  # type: ignore[no-redef]

# PostgreSQL on this machine: trust authentication for `postgres`; `test` always exists.
POSTGRES_ADMIN = os.environ.get("VIGIL_BENCH_POSTGRES", "postgresql://postgres@127.0.0.1:5432/test")
MEMBER = "bench-market"
EMAIL = "analyst@bench-market.test"
PASSWORD = "bench password, not a secret"
SERVER_SETTINGS = ("server_version", "shared_buffers", "synchronous_commit", "autovacuum", "jit")
SERVER_TIMING = re.compile(r"app;dur=([0-9.]+)")


# --- databases ------------------------------------------------------------------------------


@dataclass
class Database:
    """Where one backend's store lives, and how to throw it away afterwards."""

    backend: str
    url: str
    home: Path
    postgres_name: str | None = None
    server: dict[str, str] = field(default_factory=dict)

    def drop(self) -> None:
        if self.postgres_name is None:
            return
        import psycopg

        with psycopg.connect(POSTGRES_ADMIN, autocommit=True) as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{self.postgres_name}" WITH (FORCE)')


def sqlite_database(home: Path) -> Database:
    return Database("sqlite", f"sqlite:///{(home / 'vigil.sqlite3').resolve()}", home)


def postgres_database(home: Path) -> Database | None:
    """A fresh, empty PostgreSQL database, or None (with the reason printed) when the server
    cannot be reached."""
    try:
        import psycopg
    except ImportError:
        print("  PostgreSQL skipped: psycopg is not installed (the 'postgres' extra)")
        return None
    name = f"vigil_bench_{secrets.token_hex(4)}"
    try:
        with psycopg.connect(POSTGRES_ADMIN, autocommit=True, connect_timeout=5) as connection:
            connection.execute(f'CREATE DATABASE "{name}"')
            server = {}
            for setting in SERVER_SETTINGS:
                row = connection.execute(f"SHOW {setting}").fetchone()
                server[setting] = str(row[0]) if row else ""
    except psycopg.Error as error:
        reason = str(error).strip().splitlines()[0] if str(error).strip() else type(error)
        print(f"  PostgreSQL skipped: cannot create a database via {POSTGRES_ADMIN}: {reason}")
        return None
    admin = psycopg.conninfo.conninfo_to_dict(POSTGRES_ADMIN)
    user = admin.get("user", "postgres")
    host = admin.get("host", "127.0.0.1")
    port = admin.get("port", "5432")
    url = f"postgresql+psycopg://{user}@{host}:{port}/{name}"
    return Database("postgresql", url, home, postgres_name=name, server=server)


# --- accounts -------------------------------------------------------------------------------


@dataclass
class Credentials:
    member_id: str
    user_id: int
    api_key: str
    session_token: str


def bootstrap(url: str) -> Credentials:
    """The benchmark's member (a marketplace), one analyst, a write-scope API key and a signed-in
    session, made through the account services on the store the server will use."""
    from vigil.services import accounts
    from vigil.store.db import cli_actor, open_store

    store = open_store(url)
    try:
        operator = cli_actor()
        accounts.create_member(
            store, member_id=MEMBER, name="Bench Marketplace", kind="marketplace", actor=operator
        )
        user = accounts.create_user(
            store,
            member_id=MEMBER,
            email=EMAIL,
            name="Bench Analyst",
            role="analyst",
            password=PASSWORD,
            actor=operator,
        )
        _, key = accounts.create_api_key(
            store, user.id, name="bench upload", scope="write", actor=operator
        )
        token, _csrf = accounts.start_session(store, user, ip="127.0.0.1")
    finally:
        store.close()
    return Credentials(member_id=MEMBER, user_id=user.id, api_key=key, session_token=token)


# --- the server -----------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def vigil_command() -> list[str]:
    script = Path(sys.executable).with_name("vigil")
    if script.exists():
        return [str(script)]
    return [sys.executable, "-c", "from vigil.cli.main import main; main()"]


@contextmanager
def served(database: Database, log: Path) -> Iterator[str]:
    """`vigil serve` (one uvicorn worker) on a free port of 127.0.0.1 for the time of the
    block; yields its base URL."""
    port = free_port()
    env = dict(os.environ)
    env.pop("VIGIL_HOME", None)
    if database.backend == "postgresql":
        env["VIGIL_DATABASE_URL"] = database.url
    else:
        env.pop("VIGIL_DATABASE_URL", None)
    command = [*vigil_command(), "serve", "--home", str(database.home), "--port", str(port)]
    with log.open("ab") as output:
        process = subprocess.Popen(command, env=env, stdout=output, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_ready(process, base, log)
        yield base
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGINT)  # uvicorn's graceful shutdown
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def _wait_ready(process: subprocess.Popen[bytes], base: str, log: Path) -> None:
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        if process.poll() is not None:
            tail = log.read_text(encoding="utf-8", errors="replace")[-2000:]
            raise RuntimeError(f"vigil serve exited with {process.returncode}:\n{tail}")
        with suppress(httpx.TransportError):
            if httpx.get(f"{base}/api/v1/openapi.json", timeout=2).status_code == 200:
                return
        time.sleep(0.2)
    raise RuntimeError(f"vigil serve did not answer at {base} within 90 s; see {log}")


def client(base: str, credentials: Credentials, *, page: bool = False) -> httpx.Client:
    """A keep-alive client: an API key for the API, the session cookie for pages."""
    if page:
        return httpx.Client(
            base_url=base,
            cookies={"vigil_session": credentials.session_token},
            timeout=120,
        )
    return httpx.Client(
        base_url=base,
        headers={"Authorization": f"Bearer {credentials.api_key}"},
        timeout=120,
    )


# --- timing ---------------------------------------------------------------------------------


@dataclass
class Timed:
    response: Any
    client_ms: float
    server_ms: float


def timed(http: httpx.Client, method: str, url: str, **kwargs: Any) -> Timed:
    """One request, read whole: the client's wall time and the app's own (Server-Timing)."""
    started = time.perf_counter()
    response = http.request(method, url, **kwargs)
    response.read()
    client_ms = (time.perf_counter() - started) * 1000
    found = SERVER_TIMING.search(response.headers.get("server-timing", ""))
    server_ms = float(found.group(1)) if found else float("nan")
    return Timed(response, client_ms, server_ms)


def percentile(values: Sequence[float], fraction: float) -> float:
    """Linear interpolation between the closest ranks (numpy's default)."""
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    position = (len(ordered) - 1) * fraction
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def summary(values: Sequence[float]) -> dict[str, float]:
    return {
        "p50": round(percentile(values, 0.50), 2),
        "p95": round(percentile(values, 0.95), 2),
        "p99": round(percentile(values, 0.99), 2),
        "max": round(max(values), 2) if values else float("nan"),
    }
