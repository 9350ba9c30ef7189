"""The authorization matrix, generated from the app's route table: every route × role ×
own/other member's object. A new route is in it automatically, and fails it if it declares no
requirement or names its objects with a path parameter the matrix does not know."""

from __future__ import annotations

import hashlib
import io
import re
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from fastapi.routing import APIRoute, iter_route_contexts
from fastapi.testclient import TestClient
from httpx2 import Response
from PIL import Image
from sqlalchemy import insert, select

from tests.notices.factories import insert_notice
from tests.web.conftest import Web, email
from vigil.domain.people import Role
from vigil.services import accounts, cases
from vigil.services.cases import Opening
from vigil.services.media import MediaPlaces
from vigil.settings import Settings
from vigil.store.db import cli_actor, open_store
from vigil.store.tables import (
    ApiKeyRow,
    BrandRow,
    CaseRow,
    ListingAccessRow,
    ListingRow,
    ProductRow,
    ScanRow,
    TextClusterMemberRow,
    TextClusterRow,
    UserRow,
    WorkRow,
)
from vigil.web.app import create_app
from vigil.web.security import Public, Requirement

# Routes anyone may call; everything else must declare a Requirement.
PUBLIC = {
    ("GET", "/login"),
    ("POST", "/login"),
    ("GET", "/language"),
    ("GET", "/api/v1/transparency/tree-head"),
    ("GET", "/api/v1/transparency/public-key"),
    ("GET", "/api/v1/transparency/inclusion"),
    ("GET", "/api/v1/transparency/consistency"),
}
PARAM = re.compile(r"{(\w+)}")
KNOWN_PARAMS = {
    "brand_id",
    "product_id",
    "listing_pk",
    "scan_id",
    "user_id",
    "key_id",
    "member_id",
    "sha256",
    "work_id",
    "cluster_key",
    "case_id",
    "notice_id",
}
# Other people's accounts and keys are for admins: the operator's other roles see only their own.
PEOPLE_PARAMS = {"user_id", "key_id"}
# Who asks: the member's three roles and the operator's admin and viewer.
PEOPLE = [
    ("acme", Role.ADMIN),
    ("acme", Role.ANALYST),
    ("acme", Role.VIEWER),
    ("alliance", Role.ADMIN),
    ("alliance", Role.VIEWER),
]


def _requirements(route: APIRoute) -> list[Requirement | Public]:
    found: list[Requirement | Public] = []
    stack = list(route.dependant.dependencies)
    while stack:
        dependant = stack.pop()
        if isinstance(dependant.call, Requirement | Public):
            found.append(dependant.call)
        stack.extend(dependant.dependencies)
    return found


def _routes() -> list[tuple[str, str, APIRoute]]:
    """(method, path, route) of every API and page route of the app, as the app serves them."""
    with tempfile.TemporaryDirectory() as folder:
        store = open_store(f"sqlite:///{folder}/routes.sqlite3")
        app = create_app(Settings(home=Path(folder)), store=store)
        table = []
        for context in iter_route_contexts(app.routes):
            route = context.original_route
            if isinstance(route, APIRoute) and context.path:
                for method in sorted(route.methods):
                    table.append((method, context.path, route))
        if app.state.scan_runner is not None:
            app.state.scan_runner.shutdown()
        store.close()
    return table


ROUTES = _routes()


@dataclass
class Objects:
    """One object of each kind that a path can name, all belonging to one member. `sha256`
    names an image that the listing, the brand (as a logo) and the product all show, and a file
    the work lists (a text work naming an image: its page says a scan cannot read it). The
    copy-paste cluster's one listing is the member's."""

    member_id: str
    brand_id: int
    product_id: int
    listing_pk: int
    scan_id: str
    user_id: int
    key_id: int
    sha256: str
    work_id: int
    cluster_key: str
    case_id: int
    notice_id: int

    def fill(self, path: str) -> str:
        return PARAM.sub(lambda m: str(getattr(self, m.group(1))), path)


_counter = iter(range(1, 1_000_000))


def _image(web: Web, n: int) -> tuple[str, str]:
    """A small PNG of its own (by `n`) in the home's image store and among its registry
    assets: its digest and the asset's path."""
    picture = Image.new("RGB", (24, 16), (n % 256, (n * 7) % 256, 90))
    buffer = io.BytesIO()
    picture.save(buffer, "PNG")
    data = buffer.getvalue()
    places = MediaPlaces.for_home(web.settings.home)
    assert places.blobs is not None
    sha256 = places.blobs.store_blob(data)
    asset = places.assets / sha256[:2] / f"{sha256}.png"
    asset.parent.mkdir(parents=True, exist_ok=True)
    asset.write_bytes(data)
    return sha256, str(asset)


def make_objects(web: Web, member_id: str, user_email: str) -> Objects:
    """Objects of `member_id`; the user and key are those of `user_email` (who must be one of
    the member's people)."""
    n = next(_counter)
    now = datetime.now(UTC)
    sha256, asset = _image(web, n)
    with web.store.session() as session:
        user_id = session.scalar(select(UserRow.id).where(UserRow.email == user_email))
        assert user_id is not None
        brand = BrandRow(
            name=f"Brand {member_id} {n}",
            owner_id=member_id,
            entry={
                "name": f"Brand {member_id} {n}",
                "owner": member_id,
                "aliases": [],
                "logos": [asset],
            },
        )
        session.add(brand)
        session.flush()
        product = ProductRow(
            brand_id=brand.id,
            model=f"Model {n}",
            entry={"brand": brand.name, "model": f"Model {n}", "images": [asset]},
        )
        scan = ScanRow(
            id=f"scan-{member_id}-{n}",
            started_at=now,
            status="finished",
            inputs=[],
            member_id=member_id,
            total=1,
            done=1,
        )
        session.add_all([product, scan])
        session.flush()
        listing_pk = session.execute(
            insert(ListingRow)
            .values(
                platform="jd",
                listing_id=f"{member_id}-{n}",
                title=f"secret listing of {member_id} {n}",
                currency="CNY",
                condition="new",
                images=[f"https://img.example/{n}.png"],
                image_records=[
                    {"ref": f"https://img.example/{n}.png", "sha256": sha256, "format": "PNG"}
                ],
                verdict="counterfeit_suspected",
                risk=0.9,
                log_odds=2.0,
                brand=brand.name,
                scan_id=scan.id,
                scanned_at=now,
            )
            .returning(ListingRow.id)
        ).scalar_one()
        session.add(ListingAccessRow(listing_pk=listing_pk, member_id=member_id, reason="brand"))
        work = WorkRow(
            owner_id=member_id,
            title=f"Work {member_id} {n}",
            entry={"kind": "text", "files": [asset]},
        )
        cluster_key = hashlib.sha256(f"{member_id}-{n}".encode()).hexdigest()[:16]
        cluster = TextClusterRow(
            scan_id=scan.id, key=cluster_key, listings=1, sellers=1, similarity=0.9,
            sample=f"secret listing of {member_id} {n}",
        )  # fmt: skip
        session.add_all([work, cluster])
        session.flush()
        session.add(
            TextClusterMemberRow(
                cluster_pk=cluster.id, platform="jd", listing_id=f"{member_id}-{n}", seller_id=None
            )
        )
        product_id, brand_id, work_id = product.id, brand.id, work.id
    key, _ = accounts.create_api_key(
        web.store, user_id, name="matrix", scope="write", actor=cli_actor()
    )
    with web.store.session() as session:
        key_id = session.scalar(select(ApiKeyRow.id).where(ApiKeyRow.id == key.id))
    assert key_id is not None
    case_id = cases.open_case(
        web.store, cli_actor(), Opening(listing_pks=[listing_pk], owner=member_id),
        cases.CaseConfig(),
    )  # fmt: skip
    with web.store.session() as session:
        # A sent notice of the case, as the notice service stores one.
        notice_id = insert_notice(session, session.get_one(CaseRow, case_id), n=n)
    return Objects(
        member_id, brand_id, product_id, listing_pk, scan.id, user_id, key_id, sha256, work_id,
        cluster_key, case_id, notice_id,
    )  # fmt: skip


def call(client: TestClient, method: str, path: str) -> Response:
    if method in ("GET", "HEAD", "DELETE"):
        return client.request(method, path)
    if path.startswith("/api/"):
        return client.request(method, path, json={})
    return client.request(method, path, data={"csrf_token": client.headers["X-CSRF-Token"]})


def _denied(response: Response, path: str) -> bool:
    if path.startswith("/api/"):
        return response.status_code == 401
    return response.status_code == 303 and response.headers["location"].startswith("/login")


def test_every_route_declares_one_requirement() -> None:
    missing = []
    for method, path, route in ROUTES:
        requirements = _requirements(route)
        if (method, path) in PUBLIC:
            if not (len(requirements) == 1 and isinstance(requirements[0], Public)):
                missing.append(f"{method} {path}: public routes declare public()")
        elif len(requirements) != 1 or not isinstance(requirements[0], Requirement):
            missing.append(f"{method} {path}: declares {len(requirements)} requirements")
    assert not missing, "\n".join(missing)


def test_every_path_parameter_is_known_to_the_matrix() -> None:
    unknown = {
        f"{method} {path}: {{{name}}}"
        for method, path, _ in ROUTES
        for name in PARAM.findall(path)
        if name not in KNOWN_PARAMS
    }
    assert not unknown, f"teach the matrix these parameters: {sorted(unknown)}"


@pytest.mark.parametrize(
    ("method", "path"),
    [(m, p) for m, p, _ in ROUTES if (m, p) not in PUBLIC],
    ids=[f"{m} {p}" for m, p, _ in ROUTES if (m, p) not in PUBLIC],
)
def test_route_authorization(web: Web, method: str, path: str) -> None:
    route = next(r for m, p, r in ROUTES if m == method and p == path)
    requirement = _requirements(route)[0]
    assert isinstance(requirement, Requirement)
    has_object = bool(PARAM.search(path))

    # Nobody signed in: refused before anything else.
    anonymous = web.anonymous()
    answer = call_anonymous(
        anonymous, method, make_objects(web, "acme", email("admin", "acme")).fill(path)
    )
    assert _denied(answer, path), f"anonymous {method} {path} -> {answer.status_code}"

    problems: list[str] = []
    for member, role in PEOPLE:
        who = email(role.value, member)
        operator = member == "alliance"
        own = make_objects(web, "acme" if not operator else "alliance", who)
        other = make_objects(web, "globex", email("admin", "globex"))
        allowed = role.includes(requirement.role) and (operator or not requirement.operator)

        client = web.client(who)
        answer = call(client, method, own.fill(path))
        if not allowed:
            if answer.status_code != 403:
                problems.append(f"{who} {method} {path}: {answer.status_code}, expected 403")
            continue
        if answer.status_code in (401, 403, 404) or answer.status_code >= 500:
            problems.append(
                f"{who} {method} {path} (own): {answer.status_code} {answer.text[:200]}"
            )
        if has_object:
            client = web.client(who)
            answer = call(client, method, other.fill(path))
            if operator and (role is Role.ADMIN or not PEOPLE_PARAMS & set(PARAM.findall(path))):
                if answer.status_code in (401, 403, 404) or answer.status_code >= 500:
                    problems.append(
                        f"{who} {method} {path} (other, operator): {answer.status_code}"
                    )
            elif answer.status_code != 404:
                problems.append(
                    f"{who} {method} {path} (other member's): {answer.status_code}, expected 404"
                )
        # A read-only key may read but never write.
        if not requirement.write and method in ("GET", "HEAD") and path.startswith("/api/"):
            reader = web.api(who, scope="read")
            answer = call(reader, method, own.fill(path))
            if answer.status_code in (401, 403, 404) or answer.status_code >= 500:
                problems.append(f"{who} read key {method} {path}: {answer.status_code}")
        elif path.startswith("/api/"):
            reader = web.api(who, scope="read")
            answer = call(reader, method, own.fill(path))
            if answer.status_code != 403:
                problems.append(
                    f"{who} read key {method} {path}: {answer.status_code}, expected 403"
                )
    assert not problems, "\n".join(problems)


def call_anonymous(client: TestClient, method: str, path: str) -> Response:
    data: dict[str, Any] | None = None if method in ("GET", "HEAD", "DELETE") else {}
    if data is None:
        return client.request(method, path)
    if path.startswith("/api/"):
        return client.request(method, path, json=data)
    return client.request(method, path, data=data)
