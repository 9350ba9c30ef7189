"""The case pages as a browser without JavaScript uses them: the list with its tabs, counts and
bulk moves, one case with its forms, opening cases from the queue and a listing's page; party
isolation on every page; the Chinese page."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, update

from tests.case_factories import CaseWorld
from tests.web.conftest import Web, email
from vigil.domain.cases import TRANSITIONS, CaseState, PartyRole
from vigil.services import cases
from vigil.services.cases import Opening
from vigil.store.db import cli_actor
from vigil.store.tables import CaseListingRow, CaseRow, UserRow

ANALYST = email("analyst", "acme")
CONFIG = cases.CaseConfig()


@pytest.fixture
def world(web: Web) -> CaseWorld:
    return CaseWorld(web.store)


def _case(web: Web, world: CaseWorld, owner: str = "acme", **opening: object) -> int:
    listing = world.listing(owner)
    return cases.open_case(
        web.store,
        cli_actor(),
        Opening(listing_pks=[listing], owner=owner, **opening),
        CONFIG,  # type: ignore[arg-type]
    )


def _state(web: Web, case_id: int) -> str:
    with web.store.session() as session:
        state = session.scalar(select(CaseRow.state).where(CaseRow.id == case_id))
    assert state is not None
    return state


def _form(client: TestClient, path: str, web: Web, **data: object) -> object:
    return client.post(path, data={"csrf_token": web.csrf_of(client), **data})


def test_the_case_page_shows_header_timer_parties_listings_and_timeline(
    web: Web, world: CaseWorld
) -> None:
    case_id = _case(web, world, title="Fake chargers")
    page = web.client(ANALYST).get(f"/cases/{case_id}")
    assert page.status_code == 200
    text = page.text
    assert re.search(r"C-\d{4}-0*" + str(case_id), text)
    assert "Fake chargers" in text and 'data-state="open"' in text
    assert "Decision due" in text and "left)" in text
    assert "Acme Brands" in text and "Rights holder" in text
    listing = cases.case_detail(web.store, cli_actor(), case_id).listings[0]
    assert f'href="/listings/{listing.id}"' in text
    assert "Opened the case with 1 listings." in text
    for target in ("under_review", "confirmed", "dismissed"):
        assert f'data-testid="move-{target}"' in text
    assert 'data-testid="comment-form"' in text and 'data-testid="assign-form"' in text
    assert 'data-testid="capture"' in text and 'data-testid="attach-form"' in text


@pytest.mark.parametrize(
    ("source", "target"),
    [
        (s, t)
        for s, targets in TRANSITIONS.items()
        for t in sorted(targets)
        if t not in (CaseState.NOTICE_SENT, CaseState.ACTIONED)
    ],
)
def test_every_move_works_from_the_case_page(
    web: Web, world: CaseWorld, source: CaseState, target: CaseState
) -> None:
    case_id = _case(web, world)
    with web.store.session() as session:
        session.execute(update(CaseRow).where(CaseRow.id == case_id).values(state=source.value))
    client = web.client(ANALYST)
    page = client.get(f"/cases/{case_id}")
    assert f'name="to" value="{target.value}"' in page.text
    answer = _form(client, f"/cases/{case_id}/move", web, to=target.value, note="looked at it")
    assert answer.status_code == 303  # type: ignore[attr-defined]
    assert _state(web, case_id) == target.value
    shown = client.get(answer.headers["location"]).text  # type: ignore[attr-defined]
    assert 'data-testid="flash"' in shown and "looked at it" in shown


def test_a_refused_move_shows_the_reason_on_the_page(web: Web, world: CaseWorld) -> None:
    case_id = _case(web, world)
    client = web.client(ANALYST)
    answer = _form(client, f"/cases/{case_id}/move", web, to="closed")
    assert answer.status_code == 409  # type: ignore[attr-defined]
    assert "cannot become closed" in answer.text  # type: ignore[attr-defined]
    assert _state(web, case_id) == "open"
    nothing = _form(client, f"/cases/{case_id}/move", web)
    assert nothing.status_code == 400  # type: ignore[attr-defined]


def test_another_members_case_is_404_on_every_page(web: Web, world: CaseWorld) -> None:
    case_id = _case(web, world, title="Acme secret case")
    for who in (email("admin", "globex"), email("analyst", "shopmart")):
        client = web.client(who)
        assert client.get(f"/cases/{case_id}").status_code == 404
        listed = client.get("/cases")
        assert listed.status_code == 200 and "Acme secret case" not in listed.text
        for action, data in [
            ("move", {"to": "confirmed"}),
            ("comment", {"body": "hi"}),
            ("assignee", {"user": ""}),
            ("parties", {"member": "globex", "role": "reporter"}),
            ("evidence/capture", {}),
        ]:
            answer = _form(client, f"/cases/{case_id}/{action}", web, **data)
            assert answer.status_code == 404, (who, action)  # type: ignore[attr-defined]
            assert "Acme secret case" not in answer.text  # type: ignore[attr-defined]
        moved = _form(client, "/cases/move", web, case=str(case_id), to="confirmed")
        assert moved.status_code == 303  # type: ignore[attr-defined]
        assert "refused=1" in moved.headers["location"]  # type: ignore[attr-defined]
    assert _state(web, case_id) == "open"


def test_a_marketplace_party_sees_the_case_without_moves_and_cannot_confirm(
    web: Web, world: CaseWorld
) -> None:
    case_id = _case(web, world, parties=[("shopmart", PartyRole.MARKETPLACE)])
    client = web.client(email("analyst", "shopmart"))
    page = client.get(f"/cases/{case_id}")
    assert page.status_code == 200
    assert 'data-testid="moves"' not in page.text
    assert "The rights holder decides this case" in page.text
    assert 'data-testid="comment-form"' in page.text
    refused = _form(client, f"/cases/{case_id}/move", web, to="confirmed")
    assert refused.status_code == 403  # type: ignore[attr-defined]
    assert "rights holder" in refused.text  # type: ignore[attr-defined]
    assert _state(web, case_id) == "open"
    said = _form(client, f"/cases/{case_id}/comment", web, body="We are looking into it.")
    assert said.status_code == 303  # type: ignore[attr-defined]
    assert "We are looking into it." in client.get(f"/cases/{case_id}").text


def test_viewers_see_the_case_but_get_no_forms(web: Web, world: CaseWorld) -> None:
    case_id = _case(web, world)
    client = web.client(email("viewer", "acme"))
    page = client.get(f"/cases/{case_id}").text
    assert "Opened the case" in page
    for form in ("moves", "comment-form", "assign-form", "party-form", "capture", "attach-form"):
        assert f'data-testid="{form}"' not in page, form
    listed = client.get("/cases").text
    assert f'href="/cases/{case_id}"' in listed and 'name="case"' not in listed
    refused = _form(client, f"/cases/{case_id}/move", web, to="confirmed")
    assert refused.status_code == 403  # type: ignore[attr-defined]


def test_assignee_party_and_comment_forms(web: Web, world: CaseWorld) -> None:
    case_id = _case(web, world)
    client = web.client(ANALYST)
    with web.store.session() as session:
        me = session.scalar(select(UserRow.id).where(UserRow.email == ANALYST))
    page = client.get(f"/cases/{case_id}").text
    assert f'<option value="{me}"' in page and email("viewer", "acme") not in page
    assert _form(client, f"/cases/{case_id}/assignee", web, user=str(me)).status_code == 303  # type: ignore[attr-defined]
    assert f"Gave it to {ANALYST}." in client.get(f"/cases/{case_id}").text
    added = _form(client, f"/cases/{case_id}/parties", web, member="shopmart", role="marketplace")
    assert added.status_code == 303  # type: ignore[attr-defined]
    page = client.get(f"/cases/{case_id}").text
    assert (
        "Shopmart Marketplace" in page and "Brought Shopmart Marketplace in as Marketplace." in page
    )
    assert client.get(f"/cases/{case_id}", headers={}).status_code == 200
    empty = _form(client, f"/cases/{case_id}/comment", web, body="  ")
    assert empty.status_code == 400 and "write something" in empty.text  # type: ignore[attr-defined]
    wrong = _form(client, f"/cases/{case_id}/parties", web, member="", role="marketplace")
    assert wrong.status_code == 400  # type: ignore[attr-defined]


def test_the_list_has_tabs_counts_overdue_search_and_pages(web: Web, world: CaseWorld) -> None:
    ids = [_case(web, world, title=f"Phones batch {n}") for n in range(27)]
    cases.move(web.store, cli_actor(), ids[0], CaseState.CONFIRMED, CONFIG)
    with web.store.session() as session:
        session.execute(
            update(CaseRow)
            .where(CaseRow.id == ids[1])
            .values(due_at=datetime.now(UTC) - timedelta(hours=2))
        )
    client = web.client(ANALYST)
    page = client.get("/cases").text
    assert re.search(r'data-testid="tab-all">All <span class="count">27<', page)
    assert re.search(r'data-testid="tab-confirmed">Confirmed <span class="count">1<', page)
    assert re.search(r'data-testid="tab-overdue">Overdue <span class="count">1<', page)
    assert page.count('data-testid="case-link"') == 25 and 'data-testid="next-page"' in page
    second = client.get("/cases?offset=25").text
    assert second.count('data-testid="case-link"') == 2 and 'data-testid="previous-page"' in second
    confirmed = client.get("/cases?state=confirmed").text
    assert confirmed.count('data-testid="case-link"') == 1 and f"/cases/{ids[0]}" in confirmed
    overdue = client.get("/cases?overdue=1").text
    assert f'href="/cases/{ids[1]}"' in overdue and 'data-testid="overdue"' in overdue
    found = client.get("/cases", params={"q": "batch 26"}).text
    assert found.count('data-testid="case-link"') == 1
    bad = client.get("/cases?state=lost")
    assert bad.status_code == 400 and "lost is not a case state" in bad.text


def test_bulk_move_from_the_list(web: Web, world: CaseWorld) -> None:
    first, second, closed = (_case(web, world) for _ in range(3))
    cases.move(web.store, cli_actor(), closed, CaseState.DISMISSED, CONFIG)
    cases.move(web.store, cli_actor(), closed, CaseState.CLOSED, CONFIG)
    client = web.client(ANALYST)
    answer = client.post(
        "/cases/move",
        data={"csrf_token": web.csrf_of(client), "case": [str(first), str(second), str(closed)],
              "to": "under_review", "next": "/cases?state=open"},
    )  # fmt: skip
    assert answer.status_code == 303
    assert answer.headers["location"].startswith("/cases?state=open&done=moved")
    assert [_state(web, i) for i in (first, second, closed)] == ["under_review"] * 2 + ["closed"]
    flash = client.get(answer.headers["location"]).text
    assert "2 cases moved to Under review." in flash and "1 could not move" in flash
    nothing = _form(client, "/cases/move", web, to="closed")
    assert nothing.status_code == 400  # type: ignore[attr-defined]


def test_opening_cases_from_the_queue(web: Web, world: CaseWorld) -> None:
    a1, a2 = world.listing("acme", seller="ring-a"), world.listing("acme", seller="ring-a")
    b1 = world.listing("acme", seller="ring-b")
    client = web.client(ANALYST)
    queue = client.get("/queue").text
    assert 'formaction="/cases/open"' in queue and 'data-testid="bulk-open-per-seller"' in queue
    answer = client.post(
        "/cases/open",
        data={"csrf_token": web.csrf_of(client), "listing": [str(a1), str(a2), str(b1)],
              "group": "seller", "next": "/queue"},
    )  # fmt: skip
    assert answer.status_code == 303 and answer.headers["location"] == "/cases?done=opened&n=2"
    assert "2 cases opened." in client.get(answer.headers["location"]).text
    one = client.post(
        "/cases/open",
        data={"csrf_token": web.csrf_of(client), "listing": [str(a1), str(b1)], "group": "all"},
    )
    location = one.headers["location"]
    assert re.fullmatch(r"/cases/\d+\?done=opened&n=1", location)
    case_id = int(location.split("/")[2].split("?")[0])
    with web.store.session() as session:
        held = set(
            session.scalars(
                select(CaseListingRow.listing_pk).where(CaseListingRow.case_id == case_id)
            )
        )
    assert held == {a1, b1}
    assert "Case opened." in client.get(location).text
    nothing = _form(client, "/cases/open", web, group="all")
    assert nothing.status_code == 400 and "No listing was selected" in nothing.text  # type: ignore[attr-defined]
    theirs = _form(client, "/cases/open", web, listing=str(world.listing("globex")))
    assert theirs.status_code == 404  # type: ignore[attr-defined]


def test_the_listing_page_links_its_cases_and_opens_one(web: Web, world: CaseWorld) -> None:
    listing = world.listing("acme")
    client = web.client(ANALYST)
    page = client.get(f"/listings/{listing}").text
    assert "No case holds this listing yet." in page and 'data-testid="open-case"' in page
    answer = _form(client, "/cases/open", web, listing=str(listing), group="all")
    location = answer.headers["location"]  # type: ignore[attr-defined]
    case_id = int(location.split("/")[2].split("?")[0])
    page = client.get(f"/listings/{listing}").text
    assert f'href="/cases/{case_id}"' in page
    # The other member's case on a shared listing is not shown.
    hidden = _case(web, world, owner="globex")
    assert f'href="/cases/{hidden}"' not in client.get(f"/listings/{listing}").text


def test_the_chinese_case_pages_show_translated_labels(web: Web, world: CaseWorld) -> None:
    case_id = _case(web, world)
    cases.move(web.store, cli_actor(), case_id, CaseState.UNDER_REVIEW, CONFIG)
    client = web.client(ANALYST)
    client.cookies.set("vigil_lang", "zh")
    page = client.get(f"/cases/{case_id}").text
    for chinese in ("审核中", "时间线", "当事方", "权利人", "确认", "添加评论"):
        assert chinese in page, chinese
    assert "Under review" not in page and "Timeline" not in page
    listed = client.get("/cases").text
    assert "案件" in listed and "已逾期" in listed and "已发通知" in listed


def test_evidence_is_captured_and_attached_from_the_case_page(web: Web, world: CaseWorld) -> None:
    case_id = _case(web, world)
    client = web.client(ANALYST)
    assert "No evidence yet." in client.get(f"/cases/{case_id}").text
    captured = _form(client, f"/cases/{case_id}/evidence/capture", web)
    assert captured.status_code == 303  # type: ignore[attr-defined]
    page = client.get(captured.headers["location"]).text  # type: ignore[attr-defined]
    assert "Evidence captured:" in page and 'data-testid="download-bundle"' in page
    assert page.count('data-testid="evidence-item"') >= 2  # the snapshot and the signals
    assert "Listing snapshot" in page and "Signals" in page
    assert f'href="/api/v1/cases/{case_id}/evidence/bundle"' in page
    attached = client.post(
        f"/cases/{case_id}/evidence/attach",
        data={"csrf_token": web.csrf_of(client)},
        files={"file": ("receipt.txt", b"Test purchase, order 5521", "text/plain")},
    )
    assert attached.status_code == 303, attached.text
    page = client.get(f"/cases/{case_id}").text
    assert "receipt.txt" in page and "Attachment" in page
    items = cases.case_detail(web.store, cli_actor(), case_id).timeline
    assert [e.kind for e in items].count("evidence") == 2
    missing = client.post(
        f"/cases/{case_id}/evidence/attach", data={"csrf_token": web.csrf_of(client)}
    )
    assert missing.status_code == 400 and "Choose the file to attach." in missing.text


def test_a_party_cannot_take_the_case_from_another_members_assignee(
    web: Web, world: CaseWorld
) -> None:
    case_id = _case(web, world, parties=[("shopmart", PartyRole.MARKETPLACE)])
    owner = web.client(ANALYST)
    with web.store.session() as session:
        me = session.scalar(select(UserRow.id).where(UserRow.email == ANALYST))
    _form(owner, f"/cases/{case_id}/assignee", web, user=str(me))
    market = web.client(email("analyst", "shopmart")).get(f"/cases/{case_id}").text
    assert ANALYST in market and 'data-testid="assign-form"' not in market
