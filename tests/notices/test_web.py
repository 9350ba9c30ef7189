"""Notices through the API and the pages: sending, reading in each form, answering, stats, and
that a member who is not party to the case sees nothing of its notices."""

from __future__ import annotations

import hashlib

from tests.notices.conftest import NoticeSite
from tests.web.conftest import email

ACME = email("analyst", "acme")
SHOPMART = email("analyst", "shopmart")
GLOBEX = email("analyst", "globex")


def _send(site: NoticeSite) -> dict[str, object]:
    answer = site.web.api(ACME).post(f"/api/v1/cases/{site.case_id}/notices", json={})
    assert answer.status_code == 201, answer.text
    body: dict[str, object] = answer.json()
    return body


def test_send_and_read_a_notice_in_every_form(site: NoticeSite) -> None:
    sent = _send(site)
    client = site.web.api(SHOPMART, "read")  # the marketplace, party to the case
    document = client.get(f"/api/v1/notices/{sent['id']}")
    assert document.status_code == 200
    assert document.headers["content-type"] == "application/json"
    # The JSON served is exactly the bytes the stored digest is of.
    assert hashlib.sha256(document.content).hexdigest() == sent["sha256"]
    assert document.json()["reference"] == sent["reference"]
    assert sorted(item["listing_id"] for item in document.json()["listings"]) == site.listing_ids
    pdf = client.get(f"/api/v1/notices/{sent['id']}.pdf")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF-")
    assert f"{sent['reference']}.pdf" in pdf.headers["content-disposition"]
    html = client.get(f"/api/v1/notices/{sent['id']}?format=html")
    assert html.status_code == 200 and "8228888" in html.text
    assert "frame-ancestors 'self'" in html.headers["content-security-policy"]
    status = client.get(f"/api/v1/notices/{sent['id']}/status").json()
    assert status["may_answer"] is False  # a read-only key records nothing
    listed = client.get(f"/api/v1/cases/{site.case_id}/notices").json()
    assert [n["reference"] for n in listed] == [sent["reference"]]


def test_a_notice_of_a_case_one_is_not_party_to_is_not_found(site: NoticeSite) -> None:
    sent = _send(site)
    stranger = site.web.api(GLOBEX)
    for path in (
        f"/api/v1/notices/{sent['id']}",
        f"/api/v1/notices/{sent['id']}.pdf",
        f"/api/v1/notices/{sent['id']}?format=html",
        f"/api/v1/notices/{sent['id']}/status",
        f"/api/v1/cases/{site.case_id}/notices",
        f"/api/v1/cases/{site.case_id}/notices/draft",
    ):
        assert stranger.get(path).status_code == 404, path
    # Whatever the body, another member's notice is 404 (not 422 nor 403).
    assert stranger.post(f"/api/v1/notices/{sent['id']}/answer", json={}).status_code == 404
    assert stranger.post(f"/api/v1/cases/{site.case_id}/notices", json={}).status_code == 404
    page = site.web.client(GLOBEX)
    assert page.get(f"/notices/{sent['id']}").status_code == 404
    assert page.get(f"/cases/{site.case_id}/notices/new").status_code == 404
    stats = stranger.get("/api/v1/notices/stats").json()
    assert stats["overall"]["notices"] == 0


def test_answering_over_the_api(site: NoticeSite) -> None:
    sent = _send(site)
    path = f"/api/v1/notices/{sent['id']}/answer"
    viewer = site.web.api(email("viewer", "shopmart"))
    assert viewer.post(path, json={"action": "yes"}).status_code == 403
    marketplace = site.web.api(SHOPMART)
    bad = marketplace.post(path, json={"action": "partial", "removed": ["nope"]})
    assert bad.status_code == 400 and "not among the notice's listings" in bad.json()["detail"]
    done = marketplace.post(path, json={"action": "partial", "removed": site.listing_ids[:1]})
    assert done.status_code == 200, done.text
    assert done.json()["action"] == "partial" and done.json()["removed"] == site.listing_ids[:1]
    again = marketplace.post(path, json={"action": "yes"})
    assert again.status_code == 409 and "answered already" in again.json()["detail"]
    stats = site.web.api(ACME).get("/api/v1/notices/stats").json()
    assert stats["overall"]["takedowns"] == 1 and len(stats["cases"]) == 1


def test_a_case_not_confirmed_yet_is_refused_with_409(site: NoticeSite) -> None:
    _send(site)
    again = site.web.api(ACME).post(f"/api/v1/cases/{site.case_id}/notices", json={})
    assert again.status_code == 409 and "notice_sent" in again.json()["detail"]


def test_preview_send_and_answer_through_the_pages(site: NoticeSite) -> None:
    analyst = site.web.client(ACME)
    preview = analyst.get(f"/cases/{site.case_id}/notices/new")
    assert preview.status_code == 200
    assert 'data-testid="notice-frame"' in preview.text and "Send the notice" in preview.text
    frame = analyst.get(f"/api/v1/cases/{site.case_id}/notices/draft?format=html")
    assert frame.status_code == 200 and "Notice of counterfeit goods" in frame.text
    token = site.web.csrf_of(analyst)
    sent = analyst.post(
        f"/cases/{site.case_id}/notices",
        data={"type": "counterfeit", "language": "en", "csrf_token": token},
    )
    assert sent.status_code == 303, sent.text
    target = sent.headers["location"]
    assert target.startswith("/notices/") and target.endswith("?done=sent")
    page = site.web.client(SHOPMART)
    shown = page.get(target)
    assert shown.status_code == 200 and 'data-testid="answer-form"' in shown.text
    notice_id = target.split("/")[2].split("?")[0]
    answered = page.post(
        f"/notices/{notice_id}/answer",
        data={"action": "no", "counter_notice": "on", "note": "Seller disputes it.",
              "csrf_token": site.web.csrf_of(page)},
    )  # fmt: skip
    assert answered.status_code == 303
    after = page.get(answered.headers["location"])
    assert "Refused" in after.text and "Seller disputes it." in after.text
    assert 'data-testid="answer-form"' not in after.text


def test_the_pages_speak_chinese(site: NoticeSite) -> None:
    sent = _send(site)
    page = site.web.client(SHOPMART)
    page.cookies.set("vigil_lang", "zh")
    shown = page.get(f"/notices/{sent['id']}")
    assert shown.status_code == 200 and "电商平台的答复" in shown.text
    assert "删除用时" in page.get("/notices/stats").text
