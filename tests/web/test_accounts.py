"""Members, people and keys through the API and the pages; sign-in, CSRF and sessions."""

from __future__ import annotations

import re
from collections.abc import Iterator

from fastapi.testclient import TestClient
from sqlalchemy import select

from tests.web.conftest import PASSWORD, Web, sign_in
from vigil.store.tables import AuditEventRow, WebSessionRow


def audit_actions(web: Web) -> list[str]:
    with web.store.session() as session:
        return list(session.scalars(select(AuditEventRow.action).order_by(AuditEventRow.id)))


def test_me_names_user_member_and_scope(web: Web) -> None:
    me = web.api("viewer@shopmart.test", scope="read").get("/api/v1/me").json()
    assert me["user"]["email"] == "viewer@shopmart.test"
    assert me["member"] == {
        "id": "shopmart",
        "name": "Shopmart Marketplace",
        "kind": "marketplace",
        "active": True,
    }
    assert me["scope"] == "read"


def test_operator_admits_a_member_and_its_admin_adds_people(web: Web) -> None:
    operator = web.client("admin@alliance.test")
    created = operator.post(
        "/api/v1/members", json={"id": "huawei", "name": "Huawei", "kind": "brand_owner"}
    )
    assert created.status_code == 201, created.text
    again = operator.post(
        "/api/v1/members", json={"id": "huawei", "name": "Huawei", "kind": "brand_owner"}
    )
    assert again.status_code == 409 and "already exists" in again.json()["detail"]
    user = operator.post(
        "/api/v1/members/huawei/users",
        json={"email": "Lead@Huawei.example", "role": "admin", "password": PASSWORD},
    )
    assert user.status_code == 201 and user.json()["email"] == "lead@huawei.example"
    lead = web.client("lead@huawei.example")
    analyst = lead.post(
        "/api/v1/members/huawei/users",
        json={"email": "a@huawei.example", "role": "analyst", "password": "long enough pw"},
    )
    assert analyst.status_code == 201
    listed = lead.get("/api/v1/members/huawei/users").json()
    assert [u["email"] for u in listed] == ["a@huawei.example", "lead@huawei.example"]
    assert {"member.create", "user.create"} <= set(audit_actions(web))


def test_member_admin_cannot_add_people_to_another_member(web: Web) -> None:
    acme = web.client("admin@acme.test")
    answer = acme.post(
        "/api/v1/members/globex/users",
        json={"email": "spy@acme.test", "role": "admin", "password": "long enough pw"},
    )
    assert answer.status_code == 404
    assert answer.json() == {"detail": "no member 'globex'"}


def test_bad_member_and_user_input_is_explained(web: Web) -> None:
    operator = web.client("admin@alliance.test")
    bad_id = operator.post(
        "/api/v1/members", json={"id": "Bad Id!", "name": "x", "kind": "university"}
    )
    assert bad_id.status_code == 400 and "lowercase letters" in bad_id.json()["detail"]
    bad_kind = operator.post("/api/v1/members", json={"id": "x", "name": "x", "kind": "pirate"})
    assert bad_kind.status_code == 422 and "kind" in bad_kind.json()["detail"]
    unknown = operator.post(
        "/api/v1/members", json={"id": "x", "name": "x", "kind": "university", "color": "red"}
    )
    assert unknown.status_code == 422 and "color" in unknown.json()["detail"]
    short = operator.post(
        "/api/v1/members/acme/users",
        json={"email": "n@acme.test", "role": "viewer", "password": "short"},
    )
    assert short.status_code == 400 and "at least 10 characters" in short.json()["detail"]
    not_json = operator.post(
        "/api/v1/members", content=b"{broken", headers={"content-type": "application/json"}
    )
    assert not_json.status_code == 422


def test_suspended_member_cannot_sign_in(web: Web) -> None:
    operator = web.client("admin@alliance.test")
    assert operator.patch("/api/v1/members/globex", json={"active": False}).status_code == 200
    client = web.anonymous()
    answer = sign_in(client, "admin@globex.test")
    assert answer.status_code == 401 and "suspended" in answer.text
    assert operator.patch("/api/v1/members/alliance", json={"active": False}).status_code == 400


def test_api_key_lifecycle(web: Web) -> None:
    client = web.client("analyst@acme.test")
    created = client.post("/api/v1/keys", json={"name": "nightly", "scope": "read"})
    assert created.status_code == 201
    whole = created.json()["key"]
    assert whole.startswith("vk_")
    listed = client.get("/api/v1/keys").json()
    assert "key" not in listed[0] and listed[0]["last_used_at"] is None
    keyed = web.anonymous()
    keyed.headers["Authorization"] = f"Bearer {whole}"
    assert keyed.get("/api/v1/me").status_code == 200
    assert client.get("/api/v1/keys").json()[0]["last_used_at"] is not None
    # Read scope: no writes, whatever the role.
    assert keyed.post("/api/v1/keys", json={"name": "x"}).status_code == 403
    key_id = created.json()["id"]
    assert client.delete(f"/api/v1/keys/{key_id}").json()["revoked_at"] is not None
    revoked = keyed.get("/api/v1/me")
    assert revoked.status_code == 401
    assert revoked.json() == {"detail": "this API key is not valid or was revoked"}
    assert revoked.headers["www-authenticate"] == "Bearer"
    assert {"key.create", "key.revoke"} <= set(audit_actions(web))


def test_the_stored_key_is_not_the_key(web: Web) -> None:
    whole = web.key("viewer@acme.test")
    with web.store.session() as session:
        from vigil.store.tables import ApiKeyRow

        stored = session.scalars(select(ApiKeyRow.secret_hash)).all()
    assert whole not in stored and all(whole.split("_")[-1] not in s for s in stored)


def test_malformed_authorization_is_401_not_500(web: Web) -> None:
    client = web.anonymous()
    for header in ("Basic abc", "Bearer", "Bearer vk_nonsense", "Bearer vk__", "x" * 5000):
        client.headers["Authorization"] = header
        assert client.get("/api/v1/me").status_code == 401, header


def test_password_change(web: Web) -> None:
    client = web.client("viewer@acme.test")
    wrong = client.post(
        "/api/v1/me/password", json={"current": "nope", "new": "a new long password"}
    )
    assert wrong.status_code == 400 and "current password is wrong" in wrong.json()["detail"]
    assert (
        client.post(
            "/api/v1/me/password", json={"current": PASSWORD, "new": "a new long password"}
        ).status_code
        == 204
    )
    page = client.post(
        "/account/password",
        data={"current": "a new long password", "new": "third password!", "repeat": "other"},
    )
    assert page.status_code == 400 and "differ" in page.text


# Sessions and CSRF -----------------------------------------------------------------------------


def test_forms_without_or_with_a_wrong_csrf_token_are_refused(web: Web) -> None:
    client = web.client("admin@acme.test")
    token = client.headers.pop("X-CSRF-Token")
    assert client.post("/keys", data={"name": "k", "scope": "read"}).status_code == 403
    assert (
        client.post(
            "/keys", data={"name": "k", "scope": "read", "csrf_token": "forged"}
        ).status_code
        == 403
    )
    assert client.post("/api/v1/keys", json={"name": "k"}).status_code == 403
    ok = client.post("/keys", data={"name": "k", "scope": "read", "csrf_token": token})
    assert ok.status_code == 201 and "vk_" in ok.text


def test_login_form_needs_its_token(web: Web) -> None:
    client = web.anonymous()
    client.get("/login")
    answer = client.post("/login", data={"email": "admin@acme.test", "password": PASSWORD})
    assert answer.status_code == 403


def test_session_fixation_is_prevented(web: Web) -> None:
    """A session id known before sign-in (planted by an attacker) is worthless after it."""
    victim = web.client("viewer@acme.test")
    planted = victim.cookies["vigil_session"]
    # The victim signs in again in the same browser, which still holds the planted cookie.
    sign_in(victim, "admin@acme.test")
    assert victim.cookies["vigil_session"] != planted
    attacker = web.anonymous()
    attacker.cookies.set("vigil_session", planted)
    assert attacker.get("/api/v1/me").status_code == 401
    # Nor is the token itself what the store keeps.
    with web.store.session() as session:
        ids = session.scalars(select(WebSessionRow.id)).all()
    assert victim.cookies["vigil_session"] not in ids


def test_session_cookie_flags(web: Web) -> None:
    client = web.anonymous()
    answer = sign_in(client, "admin@acme.test")
    cookie = answer.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie
    # Over HTTPS the cookies are Secure as well.
    client = TestClient(web.app, base_url="https://testserver", follow_redirects=False)
    answer = sign_in(client, "admin@acme.test")
    assert "Secure" in answer.headers["set-cookie"]


def test_logout_ends_the_session(web: Web) -> None:
    client = web.client("viewer@acme.test")
    token = client.cookies["vigil_session"]
    assert client.post("/logout").status_code == 303
    other = web.anonymous()
    other.cookies.set("vigil_session", token)
    assert other.get("/api/v1/me").status_code == 401


def test_login_redirects_only_within_the_site(web: Web) -> None:
    client = web.anonymous()
    answer = sign_in(client, "admin@acme.test", next="https://evil.example/")
    assert answer.headers["location"] == "/"


def test_pages_redirect_to_login_and_back(web: Web) -> None:
    answer = web.anonymous().get("/keys?x=1")
    assert answer.status_code == 303 and answer.headers["location"] == "/login?next=/keys%3Fx%3D1"


# Pages ----------------------------------------------------------------------------------------


def test_admin_pages_escape_what_people_typed(web: Web) -> None:
    operator = web.client("admin@alliance.test")
    payload = '<script>alert("x")</script>'
    operator.post(
        "/admin/members", data={"member_id": "evil", "name": payload, "kind": "university"}
    )
    page = operator.get("/admin/members").text
    assert payload not in page and "&lt;script&gt;alert(" in page
    operator.post(
        "/admin/members/evil/users",
        data={
            "email": "e@evil.test",
            "name": payload,
            "role": "viewer",
            "password": "long enough pw",
        },
    )
    page = operator.get("/admin/members/evil").text
    assert payload not in page and "&lt;script&gt;" in page


def test_member_admin_sees_only_its_own_member(web: Web) -> None:
    acme = web.client("admin@acme.test")
    assert acme.get("/admin/members").headers["location"] == "/admin/members/acme"
    page = acme.get("/admin/members/acme").text
    assert "viewer@acme.test" in page and "globex" not in page
    assert acme.get("/admin/members/globex").status_code == 404


def test_keys_page_shows_a_new_key_once(web: Web) -> None:
    client = web.client("viewer@acme.test")
    created = client.post("/keys", data={"name": "laptop", "scope": "read"})
    whole = re.search(r'data-testid="new-key">(vk_[^<]+)<', created.text)
    assert whole and created.headers["cache-control"] == "no-store"
    again = client.get("/keys").text
    assert whole.group(1) not in again and "laptop" in again


def test_audit_page_and_api_are_per_member(web: Web) -> None:
    web.client("admin@acme.test").post("/api/v1/keys", json={"name": "acme key"})
    web.client("admin@globex.test").post("/api/v1/keys", json={"name": "globex key"})
    events = web.client("admin@acme.test").get("/api/v1/audit").json()["events"]
    assert events and all(e["member_id"] == "acme" for e in events)
    assert any(e["action"] == "key.create" and e["source"] == "testclient" for e in events)
    page = web.client("admin@acme.test").get("/audit?action=key.").text
    assert "acme key" in page and "globex key" not in page
    everything = web.client("admin@alliance.test").get("/api/v1/audit?limit=500").json()["events"]
    assert {"acme", "globex"} <= {e["member_id"] for e in everything}
    assert web.client("analyst@acme.test").get("/api/v1/audit").status_code == 403


def test_audit_pagination(web: Web) -> None:
    client = web.client("admin@acme.test")
    for n in range(5):
        client.post("/api/v1/keys", json={"name": f"k{n}"})
    first = client.get("/api/v1/audit?limit=2&action=key.").json()
    second = client.get(f"/api/v1/audit?limit=2&action=key.&before={first['next_before']}").json()
    ids = [e["id"] for e in first["events"] + second["events"]]
    assert ids == sorted(ids, reverse=True) and len(set(ids)) == 4


def test_language_is_chosen_switched_and_remembered(web: Web) -> None:
    client = web.anonymous()
    assert "登录" in client.get("/login", headers={"accept-language": "zh-CN,zh;q=0.9"}).text
    assert "Sign in to Vigil" in client.get("/login", headers={"accept-language": "en-US"}).text
    switched = client.get("/language?lang=zh&next=/login")
    assert switched.headers["location"] == "/login"
    assert "登录 Vigil" in client.get("/login", headers={"accept-language": "en-US"}).text
    assert web.anonymous().get("/language?lang=zh&next=//evil.example").headers["location"] == "/"


def test_security_headers(web: Web) -> None:
    answer = web.anonymous().get("/login")
    assert "default-src 'self'" in answer.headers["content-security-policy"]
    assert answer.headers["x-frame-options"] == "DENY"


def test_unknown_routes_are_clear_404s(web: Web) -> None:
    assert web.anonymous().get("/api/v1/nothing").json() == {
        "detail": "there is nothing at this address"
    }
    page = web.client("viewer@acme.test").get("/nothing")
    assert page.status_code == 404 and "<h1>" in page.text


def test_openapi_document_is_complete(web: Web) -> None:
    document = web.anonymous().get("/api/v1/openapi.json").json()
    assert all(path.startswith("/api/v1/") for path in document["paths"])
    assert "/api/v1/keys/{key_id}" in document["paths"]
    assert not any(path.startswith("/admin") for path in document["paths"])


def test_bodies_without_a_length_are_limited_too(web: Web) -> None:
    client = web.api("admin@acme.test")

    def chunks() -> Iterator[bytes]:
        for _ in range(3):
            yield b"x" * (1024 * 1024)

    answer = client.post(
        "/api/v1/keys", content=chunks(), headers={"content-type": "application/json"}
    )
    assert answer.status_code == 413 and "2 MiB" in answer.json()["detail"]
    small = client.post(
        "/api/v1/keys",
        content=iter([b'{"name": ', b'"chunked"}']),
        headers={"content-type": "application/json"},
    )
    assert small.status_code == 201 and small.json()["name"] == "chunked"


def test_password_guessing_is_slowed_down(web: Web) -> None:
    client = web.anonymous()
    guesses = [sign_in(client, "admin@acme.test", f"guess {n}") for n in range(10)]
    assert [answer.status_code for answer in guesses] == [401] * 10
    refused = sign_in(client, "admin@acme.test")
    assert refused.status_code == 429 and int(refused.headers["retry-after"]) > 500
    assert "Too many failed sign-ins" in refused.text
    # Nor can another e-mail be tried from this address.
    other = sign_in(client, "viewer@acme.test")
    assert other.status_code == 429
