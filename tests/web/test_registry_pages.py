"""Registry pages: brands, products and authorized sellers through forms, the upload form, and
what a member may see and change there."""

from __future__ import annotations

import re
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from tests.web.conftest import Web
from vigil.store.tables import AuditEventRow

XSS = '<script>alert("x")</script><img src=x onerror=alert(1)>'


def _create(client: TestClient, name: str, **fields: str) -> int:
    answer = client.post("/registry/brands", data={"name": name, **fields})
    assert answer.status_code == 303, answer.text
    found = re.match(r"/registry/brands/(\d+)\?done=brand_created$", answer.headers["location"])
    assert found, answer.headers["location"]
    return int(found.group(1))


def _api_brand(web: Web, who: str, name: str, **fields: Any) -> dict[str, Any]:
    answer = web.api(who).post("/api/v1/brands", json={"name": name, **fields})
    assert answer.status_code == 201, answer.text
    body: dict[str, Any] = answer.json()
    return body


def _actions(web: Web) -> list[tuple[str, str | None]]:
    with web.store.session() as session:
        rows = session.execute(
            select(AuditEventRow.action, AuditEventRow.member_id).order_by(AuditEventRow.id)
        )
        return [(a, m) for a, m in rows if a.startswith(("brand", "product", "registry"))]


def test_signed_out_visitors_are_sent_to_sign_in(web: Web) -> None:
    answer = web.anonymous().get("/registry")
    assert answer.status_code == 303 and answer.headers["location"].startswith("/login")


def test_a_brand_is_registered_shown_edited_and_deleted_through_forms(web: Web) -> None:
    client = web.client("analyst@acme.test")
    form = client.get("/registry/brands/new")
    assert form.status_code == 200 and 'name="csrf_token"' in form.text
    brand_id = _create(
        client,
        "Acme",
        aliases="艾克米\n ACME \n",
        categories="tools，工具, anvils",
        marks="8228888, CN, 9 35\nEU-1, EU",
        common_word="true",
    )
    page = client.get(f"/registry/brands/{brand_id}?done=brand_created")
    assert page.status_code == 200
    assert "The brand is registered." in page.text
    for shown in ("艾克米", "ACME", "工具", "anvils", "8228888", "classes 9, 35", "EU-1"):
        assert shown in page.text
    edit = client.get(f"/registry/brands/{brand_id}/edit")
    assert "8228888, CN, 9 35" in edit.text and "EU-1, EU" in edit.text
    assert "tools, 工具, anvils" in edit.text
    saved = client.post(
        f"/registry/brands/{brand_id}/edit",
        data={"name": "Acme Corp", "aliases": "艾克米", "categories": "tools"},
    )
    assert saved.headers["location"] == f"/registry/brands/{brand_id}?done=brand_updated"
    api = web.api("viewer@acme.test", scope="read").get(f"/api/v1/brands/{brand_id}").json()
    assert (api["name"], api["aliases"], api["marks"], api["common_word"]) == (
        "Acme Corp",
        ["艾克米"],
        [],
        False,
    )
    gone = client.post(f"/registry/brands/{brand_id}/delete")
    assert gone.headers["location"] == "/registry?done=brand_deleted"
    listing = client.get("/registry?done=brand_deleted")
    assert "The brand and its products were removed." in listing.text
    assert "No brands registered yet." in listing.text
    assert _actions(web) == [
        ("brand.create", "acme"),
        ("brand.update", "acme"),
        ("brand.delete", "acme"),
    ]


def test_the_list_counts_and_searches_only_the_members_brands(web: Web) -> None:
    _api_brand(web, "analyst@globex.test", "Globex", aliases=["Spacely"])
    client = web.client("viewer@acme.test")
    _api_brand(web, "analyst@acme.test", "Acme", aliases=["Spacely Sprockets"])
    _api_brand(web, "analyst@acme.test", "Roadrunner")
    page = client.get("/registry")
    assert "Brands: 2" in page.text and "Globex" not in page.text
    searched = client.get("/registry", params={"q": "spacely"})
    assert "Brands: 1" in searched.text and "Acme" in searched.text
    assert "Roadrunner" not in searched.text and "Globex" not in searched.text
    nothing = client.get("/registry", params={"q": "Globex"})
    assert "Brands: 0" in nothing.text and "No brand or alias contains" in nothing.text
    operator = web.client("viewer@alliance.test").get("/registry")
    assert "Brands: 3" in operator.text and "Globex" in operator.text


def test_another_members_brand_and_products_are_not_found(web: Web) -> None:
    theirs = _api_brand(web, "analyst@globex.test", "Globex")
    product = web.api("analyst@globex.test").post(
        "/api/v1/products", json={"brand_id": theirs["id"], "model": "Widget"}
    )
    product_id = product.json()["id"]
    client = web.client("admin@acme.test")
    brand_url = f"/registry/brands/{theirs['id']}"
    for answer in (
        client.get(brand_url),
        client.get(f"{brand_url}/edit"),
        client.post(f"{brand_url}/edit", data={"name": "Mine"}),
        client.post(f"{brand_url}/delete"),
        client.post(f"{brand_url}/sellers", data={"platform": "jd", "seller_id": "me"}),
        client.post(f"{brand_url}/sellers/remove", data={"platform": "jd", "seller_id": "x"}),
        client.get(f"{brand_url}/products/new"),
        client.post(f"{brand_url}/products", data={"model": "Sneaky"}),
        client.get(f"/registry/products/{product_id}/edit"),
        client.post(f"/registry/products/{product_id}/edit", data={"model": "Mine"}),
        client.post(f"/registry/products/{product_id}/delete"),
    ):
        assert answer.status_code == 404, answer.request.url
        assert "Globex" not in answer.text and "Widget" not in answer.text
    mine = web.api("viewer@globex.test", scope="read").get(f"/api/v1/brands/{theirs['id']}")
    assert mine.json()["name"] == "Globex" and mine.json()["product_count"] == 1


def test_viewers_read_but_get_no_forms(web: Web) -> None:
    brand = _api_brand(web, "analyst@acme.test", "Acme")
    viewer = web.client("viewer@acme.test")
    page = viewer.get(f"/registry/brands/{brand['id']}")
    assert page.status_code == 200 and "Acme" in page.text
    for write in ("Edit brand", "Add a product", "Delete brand", "Authorize a seller"):
        assert write not in page.text
    assert "Register a brand" not in viewer.get("/registry").text
    for answer in (
        viewer.get("/registry/brands/new"),
        viewer.get("/registry/upload"),
        viewer.post("/registry/brands", data={"name": "Nope"}),
        viewer.post(f"/registry/brands/{brand['id']}/delete"),
    ):
        assert answer.status_code == 403
    assert web.api("viewer@acme.test", scope="read").get("/api/v1/brands").json()["items"][0][
        "name"
    ] == ("Acme")


def test_a_form_without_its_security_token_is_refused(web: Web) -> None:
    client = web.client("analyst@acme.test")
    token = web.csrf_of(client)
    del client.headers["X-CSRF-Token"]
    brand_id = _api_brand(web, "analyst@acme.test", "Roadrunner")["id"]
    product_id = (
        web.api("analyst@acme.test")
        .post("/api/v1/products", json={"brand_id": brand_id, "model": "Seed"})
        .json()["id"]
    )
    # Reading a form needs no token; only sending it does.
    for url in (
        "/registry",
        "/registry/brands/new",
        "/registry/upload",
        f"/registry/brands/{brand_id}",
        f"/registry/brands/{brand_id}/edit",
        f"/registry/brands/{brand_id}/products/new",
        f"/registry/products/{product_id}/edit",
    ):
        assert client.get(url).status_code == 200, url
    assert client.post("/registry/brands", data={"name": "Acme"}).status_code == 403
    bad = client.post("/registry/brands", data={"name": "Acme", "csrf_token": "forged"})
    assert bad.status_code == 403
    good = client.post("/registry/brands", data={"name": "Acme", "csrf_token": token})
    assert good.status_code == 303


@pytest.mark.parametrize(
    ("data", "status", "says"),
    [
        ({"name": ""}, 400, "name: String should have at least 1 character"),
        ({"name": "A", "marks": "8228888"}, 400, "marks, line 1: write"),
        ({"name": "A", "marks": "1, CN, nine"}, 400, "marks, line 1: classes are whole numbers"),
        ({"name": "A", "marks": "1, CN, 99"}, 400, "Input should be less than or equal to 45"),
        ({"name": "Sprocket"}, 409, "already registered in the alliance"),
        ({"name": "x" * 301}, 400, "name: at most 300 characters"),
    ],
)
def test_a_refused_brand_form_comes_back_with_the_reason_and_the_input(
    web: Web, data: dict[str, str], status: int, says: str
) -> None:
    _api_brand(web, "analyst@globex.test", "Sprocket")
    client = web.client("analyst@acme.test")
    answer = client.post("/registry/brands", data={"aliases": "kept alias", **data})
    assert answer.status_code == status
    assert says in answer.text and "kept alias" in answer.text
    assert "globex" not in answer.text.lower()


def test_an_oversized_form_field_is_refused(web: Web) -> None:
    answer = web.client("analyst@acme.test").post("/registry/brands", data={"name": "x" * 1001})
    assert answer.status_code == 400 and "name" in answer.text


def test_authorized_sellers_are_added_and_removed(web: Web) -> None:
    client = web.client("analyst@acme.test")
    brand_id = _create(client, "Acme")
    seller = {"platform": "tmall", "seller_id": "Acme 官方旗舰店"}
    added = client.post(f"/registry/brands/{brand_id}/sellers", data=seller)
    assert added.headers["location"] == f"/registry/brands/{brand_id}?done=seller_added"
    page = client.get(f"/registry/brands/{brand_id}")
    assert "Acme 官方旗舰店" in page.text and "tmall" in page.text
    assert "Acme 官方旗舰店" in client.get("/registry").text
    empty = client.post(f"/registry/brands/{brand_id}/sellers", data={"platform": "jd"})
    assert empty.status_code == 400 and "seller_id: String should have at least" in empty.text
    removed = client.post(f"/registry/brands/{brand_id}/sellers/remove", data=seller)
    assert removed.headers["location"] == f"/registry/brands/{brand_id}?done=seller_removed"
    assert "No authorized sellers." in client.get(f"/registry/brands/{brand_id}").text
    again = client.post(f"/registry/brands/{brand_id}/sellers/remove", data=seller)
    assert again.status_code == 400 and "is not an authorized seller" in again.text
    assert [a for a, _ in _actions(web)] == [
        "brand.create",
        "brand.seller.add",
        "brand.seller.remove",
    ]


def test_products_are_added_edited_and_removed_with_their_msrp(web: Web) -> None:
    client = web.client("analyst@acme.test")
    brand_id = _create(client, "Acme")
    assert "Add a product to Acme" in client.get(f"/registry/brands/{brand_id}/products/new").text
    made = client.post(
        f"/registry/brands/{brand_id}/products",
        data={"model": "Anvil 3000", "aliases": "铁砧", "category": "tools", "amount": "6499"},
    )
    assert made.headers["location"] == f"/registry/brands/{brand_id}?done=product_created"
    page = client.get(f"/registry/brands/{brand_id}")
    assert "Anvil 3000" in page.text and "铁砧" in page.text
    assert re.search(r"6,499\.00 <span class=\"muted\">CNY</span>", page.text)
    product_id = int(re.search(r"/registry/products/(\d+)/edit", page.text).group(1))  # type: ignore[union-attr]
    form = client.get(f"/registry/products/{product_id}/edit")
    assert 'value="6499"' in form.text and 'value="CNY"' in form.text
    bad = client.post(
        f"/registry/products/{product_id}/edit", data={"model": "Anvil 3000", "amount": "cheap"}
    )
    assert bad.status_code == 400 and "msrp.amount: Input should be a valid number" in bad.text
    negative = client.post(
        f"/registry/brands/{brand_id}/products", data={"model": "Rocket", "amount": "-1"}
    )
    assert negative.status_code == 400 and "msrp.amount: Input should be greater than 0" in (
        negative.text
    )
    currency = client.post(
        f"/registry/brands/{brand_id}/products",
        data={"model": "Rocket", "amount": "1", "currency": "ZZZ"},
    )
    assert currency.status_code == 400 and "is not an ISO 4217 currency code" in currency.text
    duplicate = client.post(f"/registry/brands/{brand_id}/products", data={"model": "anvil 3000"})
    assert duplicate.status_code == 409 and "already has a product" in duplicate.text
    saved = client.post(
        f"/registry/products/{product_id}/edit",
        data={"model": "Anvil 3000", "amount": "99.5", "currency": "usd"},
    )
    assert saved.headers["location"] == f"/registry/brands/{brand_id}?done=product_updated"
    assert "99.50" in client.get(f"/registry/brands/{brand_id}").text
    removed = client.post(f"/registry/products/{product_id}/delete")
    assert removed.headers["location"] == f"/registry/brands/{brand_id}?done=product_deleted"
    assert "No products yet." in client.get(f"/registry/brands/{brand_id}").text
    assert [a for a, _ in _actions(web)][1:] == [
        "product.create",
        "product.update",
        "product.delete",
    ]


def test_registry_fields_render_as_text_not_markup(web: Web) -> None:
    client = web.client("analyst@acme.test")
    brand_id = _create(client, XSS, aliases=XSS, categories="cat" + XSS)
    client.post(f"/registry/brands/{brand_id}/sellers", data={"platform": XSS, "seller_id": XSS})
    client.post(f"/registry/brands/{brand_id}/products", data={"model": XSS, "aliases": XSS})
    for url in ("/registry", f"/registry/brands/{brand_id}", f"/registry/brands/{brand_id}/edit"):
        page = client.get(url)
        assert page.status_code == 200
        assert "<script>alert" not in page.text and "<img src=x" not in page.text
        assert "&lt;script&gt;alert(" in page.text
    upload = client.post(
        "/registry/upload",
        files={"file": ("x.yaml", f"brands:\n  - name: '{XSS}'\n    owner: globex\n".encode())},
    )
    assert upload.status_code == 200
    assert "<script>alert" not in upload.text and "&lt;script&gt;" in upload.text


def test_the_operator_chooses_owners(web: Web) -> None:
    client = web.client("analyst@alliance.test")
    form = client.get("/registry/brands/new")
    assert '<option value="globex"' in form.text and "No owner (alliance-wide)" in form.text
    brand_id = _create(client, "Initech", owner="globex")
    globex = web.client("viewer@globex.test")
    assert "Initech" in globex.get(f"/registry/brands/{brand_id}").text
    listing = client.get("/registry")
    assert "Owner" in listing.text and "globex" in listing.text
    moved = client.post(f"/registry/brands/{brand_id}/edit", data={"name": "Initech", "owner": ""})
    assert moved.status_code == 303
    assert globex.get(f"/registry/brands/{brand_id}").status_code == 404
    assert "alliance-wide" in client.get(f"/registry/brands/{brand_id}").text
    # A member's form has no owner to choose.
    assert 'name="owner"' not in web.client("analyst@acme.test").get("/registry/brands/new").text


# Uploads ---------------------------------------------------------------------------------------

REGISTRY = """
brands:
  - name: Acme
    aliases: [艾克米]
  - name: Theirs
    owner: globex
products:
  - {brand: Acme, model: Anvil, msrp: {amount: 99}}
  - {brand: Acme, model: Broken, msrp: {amount: free}}
""".encode()


def test_an_upload_shows_what_loaded_and_each_refused_entry(web: Web) -> None:
    client = web.client("analyst@acme.test")
    form = client.get("/registry/upload")
    assert 'enctype="multipart/form-data"' in form.text and 'name="csrf_token"' in form.text
    answer = client.post("/registry/upload", files={"file": ("acme.yaml", REGISTRY)})
    assert answer.status_code == 200, answer.text
    assert "acme.yaml is loaded, except the entries listed below." in answer.text
    problems = answer.text[answer.text.index('data-testid="problems"') :]
    assert "<code>products[1]</code> &#39;Broken&#39;" in problems
    assert "msrp.amount: Input should be a valid number" in problems
    assert "<code>brands[1]</code> &#39;Theirs&#39;" in problems
    assert "a member uploads its own entries only" in problems
    brands = web.api("viewer@acme.test", scope="read").get("/api/v1/brands").json()["items"]
    assert [(b["name"], b["product_count"]) for b in brands] == [("Acme", 1)]
    assert ("registry.upload", "acme") in _actions(web)


def test_a_strict_upload_with_problems_loads_nothing(web: Web) -> None:
    client = web.client("analyst@acme.test")
    answer = client.post(
        "/registry/upload", files={"file": ("acme.yml", REGISTRY)}, data={"strict": "true"}
    )
    assert answer.status_code == 200 and "Nothing was written" in answer.text
    assert "Brands: 0" in client.get("/registry").text


@pytest.mark.parametrize(
    ("filename", "content", "status", "says"),
    [
        ("notes.txt", b"brands: []", 415, "notes.txt is neither YAML nor JSON"),
        ("bad.yaml", b"brands: [name: x\n", 400, "bad.yaml: not valid YAML at line 2"),
        ("bad.json", b'{"brands": ', 400, "bad.json: not valid JSON at line 1"),
        ("empty.yaml", b"", 400, "empty.yaml: the file is empty"),
    ],
)
def test_a_bad_upload_says_what_to_fix(
    web: Web, filename: str, content: bytes, status: int, says: str
) -> None:
    answer = web.client("analyst@acme.test").post(
        "/registry/upload", files={"file": (filename, content, "text/plain")}
    )
    assert answer.status_code == status
    assert says in answer.text and 'data-testid="form-error"' in answer.text


def test_an_upload_without_a_file_asks_for_one(web: Web) -> None:
    answer = web.client("analyst@acme.test").post("/registry/upload", data={"strict": "false"})
    assert answer.status_code == 400 and "choose a registry file" in answer.text


def test_the_pages_speak_chinese(web: Web) -> None:
    client = web.client("analyst@acme.test")
    client.cookies.set("vigil_lang", "zh")
    brand_id = _create(client, "Acme")
    pages = {
        "/registry": ("品牌", "注册品牌"),
        f"/registry/brands/{brand_id}?done=brand_created": ("授权卖家", "品牌已注册。"),
        "/registry/brands/new": ("别名", "商标"),
        f"/registry/brands/{brand_id}/products/new": ("建议零售价", "型号"),
        "/registry/upload": ("上传登记文件", "有任何条目有问题时不载入"),
    }
    for url, words in pages.items():
        text = client.get(url).text
        for word in words:
            assert word in text, (url, word)
