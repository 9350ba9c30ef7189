"""The case endpoints: opening, reading, every move a person makes, bulk work, assignment,
comments, parties, listings, rules; and party isolation (another member's case is 404, a
marketplace party sees the case but may not decide it)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select, update

from tests.case_factories import CaseWorld
from tests.web.conftest import Web, email
from vigil.domain.cases import TRANSITIONS, CaseState
from vigil.store.tables import AuditEventRow, CaseRow, UserRow

API = "/api/v1"
ANALYST = email("analyst", "acme")


@pytest.fixture
def world(web: Web) -> CaseWorld:
    return CaseWorld(web.store)


def _open(web: Web, world: CaseWorld, who: str = ANALYST, **body: object) -> dict:  # type: ignore[type-arg]
    listing = world.listing("acme")
    answer = web.api(who).post(f"{API}/cases", json={"listings": [listing], **body})
    assert answer.status_code == 201, answer.text
    return answer.json()  # type: ignore[no-any-return]


def _force(web: Web, case_id: int, state: CaseState) -> None:
    with web.store.session() as session:
        session.execute(update(CaseRow).where(CaseRow.id == case_id).values(state=state.value))


def test_opening_a_case_makes_the_member_its_rights_holder(web: Web, world: CaseWorld) -> None:
    detail = _open(web, world, title="Fake phones on Shopmart")
    case = detail["case"]
    assert case["reference"].startswith(f"C-{datetime.now(UTC).year}-")
    assert case["state"] == "open" and case["title"] == "Fake phones on Shopmart"
    assert case["listings"] == 1 and case["timer"] == "review" and case["overdue"] is False
    assert detail["parties"] == [
        {"member_id": "acme", "name": "Acme Brands", "role": "rights_holder"}
    ]
    assert set(detail["moves"]) == {"under_review", "confirmed", "dismissed"}
    assert [e["kind"] for e in detail["timeline"]] == ["opened"]
    with web.store.session() as session:
        assert "case.open" in session.scalars(select(AuditEventRow.action)).all()


def test_a_seller_case_holds_every_listing_of_the_seller(web: Web, world: CaseWorld) -> None:
    first, second = world.listing("acme", seller="ring-9"), world.listing("acme", seller="ring-9")
    world.listing("acme", seller="someone-else")
    answer = web.api(ANALYST).post(
        f"{API}/cases", json={"seller": {"platform": "shopmart", "seller_id": "ring-9"}}
    )
    assert answer.status_code == 201, answer.text
    detail = answer.json()
    assert {item["id"] for item in detail["listings"]} == {first, second}
    assert detail["case"]["seller_id"] == "ring-9"


def test_opening_needs_listings_and_only_ones_the_member_sees(web: Web, world: CaseWorld) -> None:
    client = web.api(ANALYST)
    empty = client.post(f"{API}/cases", json={})
    assert empty.status_code == 400 and "listings or a seller" in empty.json()["detail"]
    theirs = world.listing("globex")
    assert client.post(f"{API}/cases", json={"listings": [theirs]}).status_code == 404
    # Only the operator names another member as the rights holder.
    mine = world.listing("acme")
    other = client.post(f"{API}/cases", json={"listings": [mine], "owner": "globex"})
    assert other.status_code == 403


@pytest.mark.parametrize(
    ("source", "target"),
    [
        (s, t)
        for s, targets in TRANSITIONS.items()
        for t in sorted(targets)
        if t not in (CaseState.NOTICE_SENT, CaseState.ACTIONED)
    ],
)
def test_every_move_a_person_makes_works_through_the_api(
    web: Web, world: CaseWorld, source: CaseState, target: CaseState
) -> None:
    case_id = _open(web, world)["case"]["id"]
    _force(web, case_id, source)
    answer = web.api(ANALYST).post(
        f"{API}/cases/{case_id}/transitions", json={"to": target.value, "note": "checked"}
    )
    assert answer.status_code == 200, answer.text
    detail = answer.json()
    assert detail["case"]["state"] == target.value
    last = detail["timeline"][-1]
    assert (last["from_state"], last["to_state"], last["actor"], last["body"]) == (
        source.value,
        target.value,
        ANALYST,
        "checked",
    )


def test_a_move_the_state_does_not_allow_is_409_and_says_why(web: Web, world: CaseWorld) -> None:
    case_id = _open(web, world)["case"]["id"]
    client = web.api(ANALYST)
    answer = client.post(f"{API}/cases/{case_id}/transitions", json={"to": "closed"})
    assert answer.status_code == 409
    assert "cannot become closed" in answer.json()["detail"]
    # A notice is sent by the notice service, not by a move.
    client.post(f"{API}/cases/{case_id}/transitions", json={"to": "confirmed"})
    notice = client.post(f"{API}/cases/{case_id}/transitions", json={"to": "notice_sent"})
    assert notice.status_code == 409 and "sending its notice" in notice.json()["detail"]
    assert client.get(f"{API}/cases/{case_id}").json()["case"]["state"] == "confirmed"
    unknown = client.post(f"{API}/cases/{case_id}/transitions", json={"to": "vanished"})
    assert unknown.status_code == 422


def test_another_members_case_is_404_on_every_endpoint(web: Web, world: CaseWorld) -> None:
    case_id = _open(web, world)["case"]["id"]
    listing = world.listing("globex")
    for who in (email("admin", "globex"), email("analyst", "shopmart")):
        client = web.api(who)
        assert client.get(f"{API}/cases/{case_id}").status_code == 404
        assert client.get(f"{API}/cases").json()["total"] == 0
        for path, body in [
            ("transitions", {"to": "confirmed"}),
            ("comments", {"body": "hello"}),
            ("assignee", {"user": None}),
            ("parties", {"member": "globex", "role": "reporter"}),
            ("listings", {"listings": [listing]}),
            # Even with a body that is not valid: the case is looked up first.
            ("transitions", {}),
        ]:
            answer = client.post(f"{API}/cases/{case_id}/{path}", json=body)
            assert answer.status_code == 404, (who, path, answer.text)
            assert "C-" not in answer.text
    assert web.api(ANALYST).get(f"{API}/cases/{case_id}").json()["case"]["state"] == "open"


def test_a_marketplace_party_sees_the_case_but_cannot_decide_it(web: Web, world: CaseWorld) -> None:
    case_id = _open(web, world)["case"]["id"]
    owner = web.api(ANALYST)
    added = owner.post(
        f"{API}/cases/{case_id}/parties", json={"member": "shopmart", "role": "marketplace"}
    )
    assert added.status_code == 200 and added.json()["added"] is True
    market = web.api(email("analyst", "shopmart"))
    detail = market.get(f"{API}/cases/{case_id}").json()
    assert detail["case"]["id"] == case_id
    assert detail["moves"] == [] and detail["can_decide"] is False
    assert detail["can_work"] is True and detail["can_answer"] is True
    refused = market.post(f"{API}/cases/{case_id}/transitions", json={"to": "confirmed"})
    assert refused.status_code == 403 and "rights holder" in refused.json()["detail"]
    # It may comment, and lists the case among its own.
    assert market.post(f"{API}/cases/{case_id}/comments", json={"body": "Seen."}).status_code == 201
    assert [c["id"] for c in market.get(f"{API}/cases").json()["items"]] == [case_id]
    assert owner.get(f"{API}/cases/{case_id}").json()["case"]["state"] == "open"


def test_viewers_and_read_keys_read_but_never_write(web: Web, world: CaseWorld) -> None:
    case_id = _open(web, world)["case"]["id"]
    viewer = web.api(email("viewer", "acme"))
    detail = viewer.get(f"{API}/cases/{case_id}").json()
    assert detail["moves"] == [] and detail["can_work"] is False
    assert viewer.post(f"{API}/cases/{case_id}/comments", json={"body": "x"}).status_code == 403
    reader = web.api(ANALYST, scope="read")
    assert reader.get(f"{API}/cases/{case_id}").status_code == 200
    moved = reader.post(f"{API}/cases/{case_id}/transitions", json={"to": "confirmed"})
    assert moved.status_code == 403


def test_the_operator_sees_and_decides_every_case(web: Web, world: CaseWorld) -> None:
    case_id = _open(web, world)["case"]["id"]
    operator = web.api(email("admin", "alliance"))
    assert operator.get(f"{API}/cases").json()["total"] == 1
    moved = operator.post(f"{API}/cases/{case_id}/transitions", json={"to": "dismissed"})
    assert moved.status_code == 200 and moved.json()["case"]["decision"] == "dismissed"


def test_bulk_open_one_case_per_seller_or_for_all(web: Web, world: CaseWorld) -> None:
    a1, a2 = world.listing("acme", seller="a"), world.listing("acme", seller="a")
    b1 = world.listing("acme", seller="b")
    client = web.api(ANALYST)
    per_seller = client.post(
        f"{API}/cases/bulk", json={"action": "open", "listings": [a1, b1, a2], "group": "seller"}
    )
    assert per_seller.status_code == 200, per_seller.text
    opened = per_seller.json()["opened"]
    assert len(opened) == 2
    held = {client.get(f"{API}/cases/{i}").json()["case"]["seller_id"]: i for i in opened}
    assert set(held) == {"a", "b"}
    a_case = client.get(f"{API}/cases/{held['a']}").json()
    assert {item["id"] for item in a_case["listings"]} == {a1, a2}
    assert a_case["case"]["origin"] == "queue"
    together = client.post(
        f"{API}/cases/bulk", json={"action": "open", "listings": [a1, b1], "group": "all"}
    )
    assert len(together.json()["opened"]) == 1
    per_listing = client.post(
        f"{API}/cases/bulk", json={"action": "open", "listings": [a1, a2], "group": "listing"}
    )
    assert len(per_listing.json()["opened"]) == 2


def test_bulk_open_is_all_or_nothing(web: Web, world: CaseWorld) -> None:
    mine, theirs = world.listing("acme", seller="a"), world.listing("globex", seller="b")
    client = web.api(ANALYST)
    answer = client.post(
        f"{API}/cases/bulk",
        json={"action": "open", "listings": [mine, theirs], "group": "seller"},
    )
    assert answer.status_code == 404
    assert client.get(f"{API}/cases").json()["total"] == 0


def test_bulk_move_moves_what_can_and_reports_the_rest(web: Web, world: CaseWorld) -> None:
    first, second = (_open(web, world)["case"]["id"] for _ in range(2))
    _force(web, second, CaseState.CLOSED)
    answer = web.api(ANALYST).post(
        f"{API}/cases/bulk", json={"action": "move", "cases": [first, second], "to": "confirmed"}
    )
    assert answer.status_code == 200
    result = answer.json()
    assert result["moved"] == [first]
    assert "cannot become confirmed" in result["refused"][str(second)]
    missing_target = web.api(ANALYST).post(
        f"{API}/cases/bulk", json={"action": "move", "cases": [first]}
    )
    assert missing_target.status_code == 400 and "to:" in missing_target.json()["detail"]


def test_listing_filters_and_counts(web: Web, world: CaseWorld) -> None:
    ids = [_open(web, world, title=f"Case number {n}")["case"]["id"] for n in range(3)]
    client = web.api(ANALYST)
    client.post(f"{API}/cases/{ids[0]}/transitions", json={"to": "confirmed"})
    client.post(f"{API}/cases/{ids[1]}/transitions", json={"to": "dismissed"})
    with web.store.session() as session:
        session.execute(
            update(CaseRow)
            .where(CaseRow.id == ids[2])
            .values(due_at=datetime.now(UTC) - timedelta(hours=1))
        )
    page = client.get(f"{API}/cases").json()
    assert page["total"] == 3 and page["overdue"] == 1
    assert page["by_state"]["confirmed"] == 1 and page["by_state"]["open"] == 1
    both = client.get(f"{API}/cases", params=[("state", "confirmed"), ("state", "dismissed")])
    assert {c["id"] for c in both.json()["items"]} == {ids[0], ids[1]}
    overdue = client.get(f"{API}/cases", params={"overdue": "true"}).json()
    assert [c["id"] for c in overdue["items"]] == [ids[2]] and overdue["items"][0]["overdue"]
    found = client.get(f"{API}/cases", params={"q": "number 1"}).json()
    assert [c["id"] for c in found["items"]] == [ids[1]]
    paged = client.get(f"{API}/cases", params={"limit": 2, "offset": 2}).json()
    assert len(paged["items"]) == 1 and paged["total"] == 3
    assert client.get(f"{API}/cases", params={"state": "lost"}).status_code == 422
    assert client.get(f"{API}/cases", params={"assignee": "bob"}).status_code == 400


def test_assigning_to_me_and_filtering_by_it(web: Web, world: CaseWorld) -> None:
    first, second = (_open(web, world)["case"]["id"] for _ in range(2))
    client = web.api(ANALYST)
    answer = client.post(f"{API}/cases/{first}/assignee", json={"user": "me"})
    assert answer.status_code == 200 and answer.json()["case"]["assignee"] == ANALYST
    mine = client.get(f"{API}/cases", params={"assignee": "me"}).json()
    assert [c["id"] for c in mine["items"]] == [first]
    with web.store.session() as session:
        theirs = session.scalar(select(UserRow.id).where(UserRow.email == email("admin", "globex")))
    refused = client.post(f"{API}/cases/{second}/assignee", json={"user": theirs})
    assert refused.status_code == 400 and "assignee" in refused.json()["detail"]
    back = client.post(f"{API}/cases/{first}/assignee", json={"user": None})
    assert back.json()["case"]["assignee"] is None
    kinds = [e["kind"] for e in back.json()["timeline"]]
    assert kinds == ["opened", "assigned", "assigned"]


def test_comments_parties_and_listings(web: Web, world: CaseWorld) -> None:
    case_id = _open(web, world)["case"]["id"]
    client = web.api(ANALYST)
    blank = client.post(f"{API}/cases/{case_id}/comments", json={"body": "   "})
    assert blank.status_code == 400 and "write something" in blank.json()["detail"]
    said = client.post(f"{API}/cases/{case_id}/comments", json={"body": "Test purchase made."})
    assert said.json()["timeline"][-1]["body"] == "Test purchase made."
    party = {"member": "shopmart", "role": "marketplace"}
    first = client.post(f"{API}/cases/{case_id}/parties", json=party)
    assert first.json()["added"] is True
    again = client.post(f"{API}/cases/{case_id}/parties", json=party)
    assert again.json()["added"] is False
    holder = client.post(
        f"{API}/cases/{case_id}/parties", json={"member": "globex", "role": "rights_holder"}
    )
    assert holder.status_code == 403 and "only the operator" in holder.json()["detail"]
    nobody = client.post(
        f"{API}/cases/{case_id}/parties", json={"member": "nobody", "role": "reporter"}
    )
    assert nobody.status_code == 400 and "no member" in nobody.json()["detail"]
    more = client.post(
        f"{API}/cases/{case_id}/listings", json={"listings": [world.listing("acme")]}
    )
    assert more.json()["added"] == 1 and more.json()["case"]["case"]["listings"] == 2
    client.post(f"{API}/cases/{case_id}/transitions", json={"to": "dismissed"})
    client.post(f"{API}/cases/{case_id}/transitions", json={"to": "closed"})
    late = client.post(
        f"{API}/cases/{case_id}/listings", json={"listings": [world.listing("acme")]}
    )
    assert late.status_code == 400 and "reopen it" in late.json()["detail"]


def test_case_rules_are_the_members_own(web: Web) -> None:
    client = web.api(ANALYST)
    made = client.post(
        f"{API}/case-rules", json={"name": "High risk", "min_risk": 0.95, "brand": "Brand of acme"}
    )
    assert made.status_code == 201, made.text
    assert made.json()["owner_id"] == "acme" and made.json()["group_by"] == "seller"
    assert [r["name"] for r in client.get(f"{API}/case-rules").json()] == ["High risk"]
    assert web.api(email("admin", "globex")).get(f"{API}/case-rules").json() == []
    other = client.post(f"{API}/case-rules", json={"name": "theirs", "owner": "globex"})
    assert other.status_code == 403
    assert client.post(f"{API}/case-rules", json={"name": "x", "min_risk": 2}).status_code == 422


def test_ids_beyond_any_database_integer_are_not_found(web: Web) -> None:
    client = web.api(email("analyst", "acme"))
    for path in ("/api/v1/cases/99999999999999999999", "/cases/99999999999999999999"):
        answer = client.get(path)
        assert answer.status_code in (400, 404), (path, answer.status_code)
        if path.startswith("/api/"):
            assert answer.json()["detail"]
