"""The site in a real browser: `vigil serve`'s app on a free local port over a home seeded
with the sample alliance (the data `make demo` serves), and headless Chromium driving it.

The browser is Debian's `chromium` driven by Playwright; nothing is ever downloaded. Without
chromium the browser tests are skipped with a note on how to install it, unless
VIGIL_REQUIRE_BROWSER is set (CI), where its absence is a failure.
"""

from __future__ import annotations

import os
import shutil
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

import pytest
import uvicorn
from playwright.sync_api import Browser, BrowserContext, Page, Playwright, sync_playwright
from sqlalchemy import select

from vigil.domain.people import Role
from vigil.services import accounts
from vigil.services.demo_platform import DemoUser, seed_platform
from vigil.services.registry import load_registry
from vigil.services.sample import write_sample
from vigil.settings import Settings
from vigil.store.db import Store, cli_actor, open_store
from vigil.store.tables import BrandRow, ListingAccessRow, ListingRow, SignalRow
from vigil.web.app import create_app

T = TypeVar("T")

SCREENSHOTS = Path(__file__).resolve().parents[1] / "artifacts" / "screenshots"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
FLAGGED = ("counterfeit_suspected", "infringement_suspected", "needs_review")
SAMPLE_LISTINGS = 400
SAMPLE_SEED = 3


def chromium_executable() -> str:
    """VIGIL_CHROMIUM if set, else Debian's chromium; or skip saying how to install it."""
    chosen = os.environ.get("VIGIL_CHROMIUM")
    candidates = [chosen] if chosen else ["/usr/bin/chromium", shutil.which("chromium")]
    for candidate in candidates:
        if candidate and os.access(candidate, os.X_OK):
            return candidate
    message = (
        f"chromium is missing ({chosen or '/usr/bin/chromium'} is not an executable), so the "
        "browser tests cannot run: install Debian's chromium with `sudo apt-get install -y "
        "chromium` (`make test` does it when run as root), or set VIGIL_CHROMIUM to a "
        "Chromium binary"
    )
    if os.environ.get("VIGIL_REQUIRE_BROWSER"):
        pytest.fail(message)
    pytest.skip(message)


@dataclass(frozen=True)
class Flagged:
    """A flagged listing as its member's queue shows it."""

    pk: int
    title: str
    platform: str
    verdict: str


@dataclass(frozen=True)
class Site:
    """The running site: its address, store, and the demo people to sign in as."""

    url: str
    store: Store
    users: dict[str, DemoUser]  # by kind: operator, brand_owner, marketplace

    def open_flagged(self, member_id: str) -> list[Flagged]:
        """The flagged listings still open for review in `member_id`'s queue, riskiest first."""
        with self.store.session() as session:
            rows = session.execute(
                select(ListingRow.id, ListingRow.title, ListingRow.platform, ListingRow.verdict)
                .join(ListingAccessRow, ListingAccessRow.listing_pk == ListingRow.id)
                .where(
                    ListingAccessRow.member_id == member_id,
                    ListingAccessRow.review == "open",
                    ListingRow.verdict.in_(FLAGGED),
                )
                .order_by(ListingRow.risk.desc(), ListingRow.id)
            )
            return [Flagged(*row) for row in rows]

    def brand_names(self, member_id: str) -> list[str]:
        """The names of the brands `member_id` registered."""
        with self.store.session() as session:
            return list(
                session.scalars(
                    select(BrandRow.name)
                    .where(BrandRow.owner_id == member_id)
                    .order_by(BrandRow.id)
                )
            )

    def evidence(self, listing_pk: int) -> list[str]:
        """The evidence of each signal of a listing, one entry per signal."""
        with self.store.session() as session:
            return list(
                session.scalars(
                    select(SignalRow.evidence)
                    .where(SignalRow.listing_pk == listing_pk)
                    .order_by(SignalRow.id)
                )
            )

    def review_state(self, listing_pk: int, member_id: str) -> str:
        with self.store.session() as session:
            state = session.scalar(
                select(ListingAccessRow.review).where(
                    ListingAccessRow.listing_pk == listing_pk,
                    ListingAccessRow.member_id == member_id,
                )
            )
        assert state is not None, f"member {member_id} has no access to listing {listing_pk}"
        return state


def _free_socket() -> socket.socket:
    """A listening socket on a port the system chose, handed to uvicorn (no race for it)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    sock.listen(128)
    return sock


@pytest.fixture(scope="session")
def chromium() -> str:
    return chromium_executable()


@pytest.fixture(scope="session")
def site(chromium: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    """The app served by a real uvicorn server in a thread, over the seeded sample alliance."""
    home = tmp_path_factory.mktemp("browser-home")
    settings = Settings(home=home)
    # Text only: the journey is about the queue; photos have their own test (test_images.py).
    sample = write_sample(home / "sample", listings=SAMPLE_LISTINGS, seed=SAMPLE_SEED, images=False)
    store = open_store(settings.resolved_database_url())
    report = load_registry(store, sample.registry)
    assert not report.problems, report.problems
    users = {user.kind: user for user in seed_platform(store, settings, sample.listings_path)}
    assert set(users) == {"operator", "brand_owner", "marketplace"}, users

    try:
        with serving(settings, store) as url:
            yield Site(url=url, store=store, users=users)
    finally:
        store.close()


@contextmanager
def serving(settings: Settings, store: Store) -> Iterator[str]:
    """The web platform served on a free port of 127.0.0.1 in a thread; yields its address."""
    sock = _free_socket()
    port = sock.getsockname()[1]
    config = uvicorn.Config(
        create_app(settings, store=store), log_level="warning", access_log=False, lifespan="on"
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert thread.is_alive(), "the web server stopped while starting; see its log above"
        assert time.monotonic() < deadline, "the web server did not start within 30 s"
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=30)
        sock.close()


@contextmanager
def acme_site(
    home: Path,
    members: dict[str, tuple[str, str]],
    password: str,
    build: Callable[[Store], T],
) -> Iterator[tuple[Site, T]]:
    """The web platform over a small world of its own: `members` (id: (name, kind)), an analyst
    of acme to sign in as ("brand_owner"), and what `build` puts in the store; served on a free
    port while the block runs."""
    settings = Settings(home=home)
    store = open_store(settings.resolved_database_url())
    for member_id, (name, kind) in members.items():
        accounts.create_member(store, member_id=member_id, name=name, kind=kind, actor=cli_actor())
    email = "analyst@acme.test"
    accounts.create_user(
        store, member_id="acme", email=email, name="Acme analyst", role=Role.ANALYST.value,
        password=password, actor=cli_actor(),
    )  # fmt: skip
    users = {
        "brand_owner": DemoUser(email, password, "acme", "Acme Brands", "brand_owner", "analyst")
    }
    world = build(store)
    try:
        with serving(settings, store) as url:
            yield Site(url=url, store=store, users=users), world
    finally:
        store.close()


@contextmanager
def signed_in(browser: Browser, site: Site, user: str) -> Iterator[Visitor]:
    """A visitor of `site` signed in as `user` (a key of `site.users`), closed afterwards."""
    opened = Visitor(browser, site)
    try:
        opened.sign_in(user)
        yield opened
    finally:
        opened.close()


@pytest.fixture(scope="session")
def playwright_driver(chromium: str) -> Iterator[Playwright]:
    with sync_playwright() as driver:
        yield driver


@pytest.fixture(scope="session")
def browser(playwright_driver: Playwright, chromium: str) -> Iterator[Browser]:
    launched = playwright_driver.chromium.launch(
        executable_path=chromium, headless=True, args=CHROMIUM_ARGS
    )
    try:
        yield launched
    finally:
        launched.close()


class Visitor:
    """One person's browser window: fresh cookies, English unless switched, 1280 px wide."""

    def __init__(self, browser: Browser, site: Site, *, javascript: bool = True) -> None:
        self.site = site
        self.context: BrowserContext = browser.new_context(
            base_url=site.url,
            locale="en-US",
            viewport={"width": 1280, "height": 800},
            java_script_enabled=javascript,
        )
        self.context.set_default_timeout(15_000)
        self.page: Page = self.context.new_page()

    def sign_in(self, kind: str) -> DemoUser:
        """Sign in through the login form as the demo user of this member kind."""
        user = self.site.users[kind]
        self.page.goto("/login")
        self.page.get_by_label("E-mail").fill(user.email)
        self.page.get_by_label("Password").fill(user.password)
        self.page.get_by_role("button", name="Sign in").click()
        self.page.wait_for_url(lambda url: "/login" not in url)
        return user

    def visit(self, path: str) -> Page:
        """Open `path` and insist that the server answered it successfully."""
        response = self.page.goto(path)
        assert response is not None, f"no answer for {path}"
        assert response.ok, f"{path} answered {response.status}: {self.page.inner_text('main')}"
        return self.page

    def shoot(self, name: str) -> Path:
        """A full-page screenshot kept under tests/artifacts/screenshots/<name>.png."""
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        path = SCREENSHOTS / f"{name}.png"
        self.page.screenshot(path=str(path), full_page=True)
        return path

    def close(self) -> None:
        self.context.close()


@pytest.fixture
def visitor(browser: Browser, site: Site) -> Iterator[Visitor]:
    opened = Visitor(browser, site)
    try:
        yield opened
    finally:
        opened.close()


@pytest.fixture
def reader_without_js(browser: Browser, site: Site) -> Iterator[Visitor]:
    opened = Visitor(browser, site, javascript=False)
    try:
        yield opened
    finally:
        opened.close()
