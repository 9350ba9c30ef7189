"""The registry API: brands, products and registry uploads, for members, the operator and the
roles that may only read."""

from __future__ import annotations

import json
from typing import Any

import pytest
import yaml
from fastapi.testclient import TestClient
from sqlalchemy import select

from tests.web.conftest import Web
from vigil.store.tables import AuditEventRow

API = "/api/v1"


def _brand(client: TestClient, name: str, **fields: Any) -> dict[str, Any]:
    answer = client.post(f"{API}/brands", json={"name": name, **fields})
    assert answer.status_code == 201, answer.text
    body: dict[str, Any] = answer.json()
    return body


def _product(client: TestClient, brand_id: int, model: str, **fields: Any) -> dict[str, Any]:
    answer = client.post(f"{API}/products", json={"brand_id": brand_id, "model": model, **fields})
    assert answer.status_code == 201, answer.text
    body: dict[str, Any] = answer.json()
    return body


def _events(web: Web, action: str) -> list[AuditEventRow]:
    with web.store.session() as session:
        query = select(AuditEventRow).where(AuditEventRow.action == action)
        return list(session.scalars(query.order_by(AuditEventRow.id)))


def test_a_member_registers_and_reads_its_brand(web: Web) -> None:
    acme = web.api("analyst@acme.test")
    created = _brand(
        acme,
        "Acme",
        aliases=["艾克米"],
        marks=[{"number": "8228888", "jurisdiction": "CN", "classes": [9, 35]}],
        authorized_sellers=[{"platform": "jd", "seller_id": "Acme 官方旗舰店"}],
        categories=["tools"],
    )
    assert created["owner"] == "acme" and created["product_count"] == 0
    assert created["marks"] == [{"number": "8228888", "jurisdiction": "CN", "classes": [9, 35]}]
    viewer = web.api("viewer@acme.test", scope="read")
    read = viewer.get(f"{API}/brands/{created['id']}")
    assert read.status_code == 200 and read.json() == created
    listed = viewer.get(f"{API}/brands").json()
    assert [b["name"] for b in listed["items"]] == ["Acme"] and listed["next_cursor"] is None
    assert [b["id"] for b in viewer.get(f"{API}/brands", params={"q": "克米"}).json()["items"]] == [
        created["id"]
    ]
    [event] = _events(web, "brand.create")
    assert (event.actor, event.member_id, event.source) == (
        "analyst@acme.test",
        "acme",
        "testclient",
    )


def test_another_members_brand_is_not_found_through_any_route(web: Web) -> None:
    globex = web.api("analyst@globex.test")
    theirs = _brand(globex, "Globex", aliases=["Shared Word"])
    product = _product(globex, theirs["id"], "Widget")
    acme = web.api("admin@acme.test")
    _brand(acme, "Acme", aliases=["Shared Word"])
    brand_url, product_url = f"{API}/brands/{theirs['id']}", f"{API}/products/{product['id']}"
    missing = acme.get(f"{API}/brands/999999")
    for answer in (
        acme.get(brand_url),
        acme.patch(brand_url, json={"aliases": ["mine"]}),
        acme.delete(brand_url),
        acme.get(f"{brand_url}/products"),
        acme.get(product_url),
        acme.patch(product_url, json={"model": "Mine"}),
        acme.delete(product_url),
        acme.post(f"{API}/products", json={"brand_id": theirs["id"], "model": "Sneaky"}),
    ):
        assert answer.status_code == 404, answer.text
        assert answer.json()["detail"] in (
            f"no brand {theirs['id']}",
            f"no product {product['id']}",
        )
    assert missing.json() == {"detail": "no brand 999999"}
    names = [b["name"] for b in acme.get(f"{API}/brands", params={"q": "shared"}).json()["items"]]
    assert names == ["Acme"]
    # Nothing changed on globex's side.
    assert globex.get(brand_url).json()["aliases"] == ["Shared Word"]
    assert globex.get(product_url).json()["model"] == "Widget"


def test_a_taken_name_is_a_conflict_that_does_not_say_who_holds_it(web: Web) -> None:
    _brand(web.api("analyst@globex.test"), "Sprocket")
    answer = web.api("analyst@acme.test").post(f"{API}/brands", json={"name": "SPROCKET"})
    assert answer.status_code == 409
    assert "already registered in the alliance" in answer.json()["detail"]
    assert "globex" not in answer.text.lower()


def test_the_operator_manages_every_members_brands(web: Web) -> None:
    operator = web.api("analyst@alliance.test")
    made = _brand(operator, "Initech", owner="acme")
    acme = web.api("viewer@acme.test", scope="read")
    assert acme.get(f"{API}/brands/{made['id']}").json()["owner"] == "acme"
    theirs = _brand(web.api("analyst@globex.test"), "Globex")
    changed = operator.patch(f"{API}/brands/{theirs['id']}", json={"common_word": True})
    assert changed.status_code == 200 and changed.json()["common_word"] is True
    moved = operator.patch(f"{API}/brands/{made['id']}", json={"owner": "globex"})
    assert moved.json()["owner"] == "globex"
    assert acme.get(f"{API}/brands/{made['id']}").status_code == 404
    assert {b["name"] for b in operator.get(f"{API}/brands").json()["items"]} == {
        "Initech",
        "Globex",
    }
    unknown = operator.patch(f"{API}/brands/{made['id']}", json={"owner": "nobody"})
    assert unknown.status_code == 400 and "'nobody' is not a registered member" in unknown.text
    grab = web.api("analyst@acme.test").post(f"{API}/brands", json={"name": "X", "owner": "globex"})
    assert grab.status_code == 400 and "registers brands for itself only" in grab.text


@pytest.mark.parametrize("how", ["viewer session", "viewer key", "read-only key"])
def test_those_who_may_only_read_cannot_write(web: Web, how: str) -> None:
    brand = _brand(web.api("analyst@acme.test"), "Acme")
    product = _product(web.api("analyst@acme.test"), brand["id"], "Anvil")
    client = {
        "viewer session": lambda: web.client("viewer@acme.test"),
        "viewer key": lambda: web.api("viewer@acme.test", scope="write"),
        "read-only key": lambda: web.api("admin@acme.test", scope="read"),
    }[how]()
    for answer in (
        client.post(f"{API}/brands", json={"name": "Nope"}),
        client.patch(f"{API}/brands/{brand['id']}", json={"aliases": ["x"]}),
        client.delete(f"{API}/brands/{brand['id']}"),
        client.post(f"{API}/products", json={"brand_id": brand["id"], "model": "Nope"}),
        client.patch(f"{API}/products/{product['id']}", json={"model": "Nope"}),
        client.delete(f"{API}/products/{product['id']}"),
        client.post(
            f"{API}/registry/upload",
            content=b"brands: [{name: Nope}]",
            headers={"Content-Type": "application/yaml"},
        ),
    ):
        assert answer.status_code == 403, answer.text
    assert client.get(f"{API}/brands/{brand['id']}").status_code == 200
    assert [b["name"] for b in client.get(f"{API}/brands").json()["items"]] == ["Acme"]


def test_signed_out_and_csrf_less_requests_are_refused(web: Web) -> None:
    assert web.anonymous().get(f"{API}/brands").status_code == 401
    session = web.client("analyst@acme.test")
    del session.headers["X-CSRF-Token"]
    answer = session.post(f"{API}/brands", json={"name": "Acme"})
    assert answer.status_code == 403 and "security token" in answer.json()["detail"]
    session.headers["X-CSRF-Token"] = "wrong"
    assert session.post(f"{API}/brands", json={"name": "Acme"}).status_code == 403
    assert web.api("admin@alliance.test").get(f"{API}/brands").json()["items"] == []


@pytest.mark.parametrize(
    ("path", "body", "says"),
    [
        ("brands", {"name": "Acme", "aliasse": ["x"]}, "aliasse: Extra inputs are not permitted"),
        ("brands", {"name": ""}, "name: String should have at least 1 character"),
        ("brands", {"name": "   "}, "name: String should have at least 1 character"),
        ("brands", {"name": "x" * 301}, "name: String should have at most 300 characters"),
        ("brands", {"name": "A", "aliases": [""]}, "aliases.0: String should have at least 1"),
        (
            "brands",
            {"name": "A", "marks": [{"number": "1", "jurisdiction": "CN", "classes": [99]}]},
            "marks.0.classes.0: Input should be less than or equal to 45",
        ),
        (
            "brands",
            {"name": "A", "authorized_sellers": [{"platform": "jd"}]},
            "authorized_sellers.0.seller_id: Field required",
        ),
        ("products", {"model": "A"}, "brand_id: Field required"),
        ("products", {"brand_id": 1, "model": "A", "msrp": {"amount": -5}}, "msrp.amount"),
        ("products", {"brand_id": 1, "model": "A", "msrp": {"amount": "cheap"}}, "msrp.amount"),
        (
            "products",
            {"brand_id": 1, "model": "A", "msrp": {"amount": 5, "currency": "DOLLARS"}},
            "is not an ISO 4217 currency code",
        ),
        ("products", {"brand_id": 1, "model": "A", "colour": "red"}, "colour: Extra inputs"),
    ],
)
def test_bad_bodies_are_422_naming_the_field(
    web: Web, path: str, body: dict[str, Any], says: str
) -> None:
    answer = web.api("analyst@acme.test").post(f"{API}/{path}", json=body)
    assert answer.status_code == 422, answer.text
    assert says in answer.json()["detail"]


def test_bad_patches_and_queries_are_refused_clearly(web: Web) -> None:
    acme = web.api("analyst@acme.test")
    brand = _brand(acme, "Acme")
    product = _product(acme, brand["id"], "Anvil", msrp={"amount": 99, "currency": "CNY"})
    url = f"{API}/brands/{brand['id']}"
    null = acme.patch(url, json={"aliases": None})
    assert null.status_code == 422 and "aliases cannot be null" in null.json()["detail"]
    assert acme.patch(url, json={"nmae": "x"}).status_code == 422
    assert (
        acme.patch(f"{API}/products/{product['id']}", json={"msrp": {"amount": 0}}).status_code
        == 422
    )
    cleared = acme.patch(f"{API}/products/{product['id']}", json={"msrp": None})
    assert cleared.status_code == 200 and cleared.json()["msrp"] is None
    bad_cursor = acme.get(f"{API}/brands", params={"cursor": "not*base64"})
    assert bad_cursor.status_code == 400 and "cursor is not valid" in bad_cursor.json()["detail"]
    assert acme.get(f"{API}/brands", params={"limit": 0}).status_code == 422
    assert acme.get(f"{API}/brands", params={"limit": 201}).status_code == 422
    assert acme.get(f"{API}/brands/abc").status_code == 422
    long_seller = acme.patch(
        url, json={"authorized_sellers": [{"platform": "p" * 101, "seller_id": "s"}]}
    )
    assert long_seller.status_code == 400
    assert "platform takes at most 100 characters" in long_seller.json()["detail"]
    sql = acme.get(f"{API}/brands", params={"q": "' OR 1=1 --"})
    assert sql.status_code == 200 and sql.json()["items"] == []
    not_json = acme.post(
        f"{API}/brands", content=b"{name: x", headers={"Content-Type": "application/json"}
    )
    assert not_json.status_code == 422


def test_brands_are_updated_renamed_and_deleted_with_their_products(web: Web) -> None:
    acme = web.api("analyst@acme.test")
    brand = _brand(acme, "Acme", authorized_sellers=[{"platform": "jd", "seller_id": "a"}])
    _product(acme, brand["id"], "Anvil")
    url = f"{API}/brands/{brand['id']}"
    renamed = acme.patch(
        url,
        json={"name": "Acme Corp", "authorized_sellers": [{"platform": "tmall", "seller_id": "b"}]},
    )
    assert renamed.status_code == 200, renamed.text
    assert renamed.json()["name"] == "Acme Corp" and renamed.json()["product_count"] == 1
    assert renamed.json()["authorized_sellers"] == [{"platform": "tmall", "seller_id": "b"}]
    products = acme.get(f"{url}/products").json()["items"]
    assert [(p["brand"], p["model"]) for p in products] == [("Acme Corp", "Anvil")]
    assert acme.delete(url).status_code == 204
    assert acme.get(url).status_code == 404
    assert acme.get(f"{API}/products/{products[0]['id']}").status_code == 404
    assert [e.action for e in _events(web, "brand.delete")] == ["brand.delete"]
    assert _events(web, "brand.update")[0].details["changed"]["name"] == "Acme Corp"


def test_products_are_created_listed_by_page_updated_and_deleted(web: Web) -> None:
    acme = web.api("analyst@acme.test")
    brand = _brand(acme, "Acme")
    other = _brand(acme, "Roadrunner")
    for model in ("Dynamite", "Anvil", "Catapult"):
        _product(acme, brand["id"], model, msrp={"amount": 10.5, "currency": "usd"})
    first = acme.get(f"{API}/brands/{brand['id']}/products", params={"limit": 2}).json()
    assert [p["model"] for p in first["items"]] == ["Anvil", "Catapult"]
    assert first["items"][0]["msrp"] == {"amount": 10.5, "currency": "USD"}
    rest = acme.get(
        f"{API}/brands/{brand['id']}/products", params={"limit": 2, "cursor": first["next_cursor"]}
    ).json()
    assert [p["model"] for p in rest["items"]] == ["Dynamite"] and rest["next_cursor"] is None
    duplicate = acme.post(f"{API}/products", json={"brand_id": brand["id"], "model": "ANVIL"})
    assert duplicate.status_code == 409
    anvil = first["items"][0]
    moved = acme.patch(
        f"{API}/products/{anvil['id']}",
        json={"brand_id": other["id"], "aliases": ["铁砧"], "category": "tools"},
    )
    assert moved.status_code == 200
    assert (moved.json()["brand"], moved.json()["aliases"]) == ("Roadrunner", ["铁砧"])
    assert acme.get(f"{API}/brands/{brand['id']}").json()["product_count"] == 2
    assert acme.delete(f"{API}/products/{anvil['id']}").status_code == 204
    assert acme.get(f"{API}/products/{anvil['id']}").status_code == 404
    assert len(_events(web, "product.create")) == 3
    assert len(_events(web, "product.update")) == 1
    assert len(_events(web, "product.delete")) == 1


def test_brand_pages_follow_the_cursor(web: Web) -> None:
    acme = web.api("analyst@acme.test")
    names = sorted(f"Brand {i}" for i in range(5))
    for name in names:
        _brand(acme, name)
    seen, params = [], {"limit": 2}
    while True:
        page = acme.get(f"{API}/brands", params=params).json()
        seen += [b["name"] for b in page["items"]]
        if page["next_cursor"] is None:
            break
        params = {"limit": 2, "cursor": page["next_cursor"]}
    assert seen == names


# Uploads ---------------------------------------------------------------------------------------


def _registry() -> dict[str, Any]:
    return {
        "brands": [
            {"name": "Acme", "aliases": ["艾克米"]},
            {"name": "Theirs", "owner": "globex"},
        ],
        "products": [
            {"brand": "Acme", "model": "Anvil", "msrp": {"amount": 99}},
            {"brand": "Acme", "model": "Broken", "msrp": {"amount": "free"}},
        ],
    }


def _upload(client: TestClient, body: bytes, content_type: str, **params: Any) -> Any:
    return client.post(
        f"{API}/registry/upload",
        content=body,
        headers={"Content-Type": content_type},
        params=params,
    )


@pytest.mark.parametrize(
    ("content_type", "encode"),
    [
        ("application/yaml", lambda d: yaml.safe_dump(d, allow_unicode=True).encode()),
        ("text/yaml; charset=utf-8", lambda d: yaml.safe_dump(d, allow_unicode=True).encode()),
        ("application/json", lambda d: json.dumps(d).encode()),
    ],
)
def test_an_upload_loads_own_entries_and_reports_the_rest(
    web: Web, content_type: str, encode: Any
) -> None:
    acme = web.api("analyst@acme.test")
    answer = _upload(acme, encode(_registry()), content_type, name="acme.yaml")
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["written"] is True and body["file"] == "acme.yaml"
    assert body["changes"]["brands"] == {"added": 1, "updated": 0, "unchanged": 0}
    assert body["changes"]["products"] == {"added": 1, "updated": 0, "unchanged": 0}
    assert [(p["section"], p["index"]) for p in body["problems"]] == [
        ("products", 1),
        ("brands", 1),
    ]
    assert "a member uploads its own entries only" in body["problems"][1]["message"]
    brands = acme.get(f"{API}/brands").json()["items"]
    assert [(b["name"], b["owner"], b["product_count"]) for b in brands] == [("Acme", "acme", 1)]
    [event] = _events(web, "registry.upload")
    assert (event.actor, event.member_id, event.subject) == (
        "analyst@acme.test",
        "acme",
        "acme.yaml",
    )
    again = _upload(acme, encode(_registry()), content_type).json()
    assert again["changes"]["brands"] == {"added": 0, "updated": 0, "unchanged": 1}


def test_a_strict_upload_with_problems_writes_nothing(web: Web) -> None:
    acme = web.api("analyst@acme.test")
    answer = _upload(acme, json.dumps(_registry()).encode(), "application/json", strict="true")
    assert answer.status_code == 200 and answer.json()["written"] is False
    assert acme.get(f"{API}/brands").json()["items"] == []


@pytest.mark.parametrize(
    ("body", "content_type", "status", "says"),
    [
        (b"brands: []", "text/plain", 415, "application/json or application/yaml, not text/plain"),
        (b"brands: []", "", 415, "not a body without Content-Type"),
        (b"brands: [name: x\n", "application/yaml", 400, "not valid YAML at line 2"),
        (b'{"brands": [}', "application/json", 400, "not valid JSON at line 1, column 13"),
        (b"", "application/yaml", 400, "the file is empty"),
        (b"[1, 2]", "application/json", 400, "expected a mapping with sections"),
        (b"brandz: []", "application/yaml", 400, "unknown section(s) brandz"),
        (b"brands:\n  - name: \xff\n", "application/yaml", 400, "not valid UTF-8"),
    ],
)
def test_a_bad_upload_is_refused_with_what_to_fix(
    web: Web, body: bytes, content_type: str, status: int, says: str
) -> None:
    answer = _upload(web.api("analyst@acme.test"), body, content_type)
    assert answer.status_code == status, answer.text
    assert says in answer.json()["detail"]
    assert "vigil-upload-" not in answer.text


def test_an_oversized_upload_is_413(web: Web) -> None:
    limit = web.settings.max_upload_bytes
    answer = _upload(web.api("analyst@acme.test"), b"#" * (limit + 1), "application/yaml")
    assert answer.status_code == 413 and "larger than this server accepts" in answer.text


def test_the_operator_uploads_for_members(web: Web) -> None:
    operator = web.api("admin@alliance.test")
    answer = _upload(operator, json.dumps(_registry()).encode(), "application/json")
    assert [p["section"] for p in answer.json()["problems"]] == ["products"]
    globex = web.api("viewer@globex.test", scope="read")
    assert [b["name"] for b in globex.get(f"{API}/brands").json()["items"]] == ["Theirs"]


def test_the_openapi_document_describes_every_registry_route(web: Web) -> None:
    paths = web.anonymous().get(f"{API}/openapi.json").json()["paths"]
    expected = {
        "/api/v1/brands": {"get", "post"},
        "/api/v1/brands/{brand_id}": {"get", "patch", "delete"},
        "/api/v1/brands/{brand_id}/products": {"get"},
        "/api/v1/products": {"post"},
        "/api/v1/products/{product_id}": {"get", "patch", "delete"},
        "/api/v1/registry/upload": {"post"},
    }
    for path, methods in expected.items():
        assert set(paths[path]) >= methods, path
    upload = paths["/api/v1/registry/upload"]["post"]["requestBody"]["content"]
    assert set(upload) == {"application/yaml", "application/json"}
