"""Copy-paste clusters on the pages and over the API: the newest scan's cluster by key, all of its
listings for the operator, and for a member only the listings it may see with a count of the
rest; a member that may see none of it, like an unknown key, gets 404."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from tests.web.conftest import Web, email
from tests.web.texts_world import KEY, RING_TEXT, SAMPLE, SCANNED_AT, TextsWorld, build_texts_world
from vigil.store import clusters_repo, listings_repo

LISTED = re.compile(r'<tr data-listing="(\d+)"')


@pytest.fixture
def world(web: Web) -> TextsWorld:
    return build_texts_world(web.store, web.settings.home)


def test_the_operator_sees_every_listing_of_the_cluster(web: Web, world: TextsWorld) -> None:
    page = web.client(email("viewer", "alliance")).get(f"/clusters/{KEY}")
    assert page.status_code == 200, page.text
    assert "6 listings by 3 sellers" in page.text
    assert sorted(int(pk) for pk in LISTED.findall(page.text)) == sorted(world.pks.values())
    assert "ring-6" in page.text and "Not stored" in page.text
    assert SAMPLE in page.text, "the operator reads the stored sample"
    assert "6 of 6 listings; sellers among them: 3" in page.text
    assert f'href="/scans/{"texts-scan"}"' in page.text


def test_a_member_sees_its_own_listings_and_counts_of_the_rest(web: Web, world: TextsWorld) -> None:
    page = web.client(email("viewer", "acme")).get(f"/clusters/{KEY}")
    assert page.status_code == 200, page.text
    shown = {int(pk) for pk in LISTED.findall(page.text)}
    assert shown == {world.pks["copier"], world.pks["ring-1"]}
    assert "2 of 6 listings; sellers among them: 1" in page.text
    assert "The others are only counted" in page.text
    for hidden in ("手机壳 ring-2", "手机壳 ring-3", "手机壳 ring-4", "ring-6", "店铺 shop-b"):
        assert hidden not in page.text
    # The stored sample is another seller's description: a member reads one of its own.
    assert SAMPLE not in page.text and "shop-c 专用" not in page.text
    assert 'data-testid="cluster-sample"' in page.text
    # The scan is the operator's: not named to a member.
    assert "texts-scan" not in page.text

    other = web.client(email("viewer", "shopmart")).get(f"/clusters/{KEY}")
    assert {int(pk) for pk in LISTED.findall(other.text)} == {
        world.pks["ring-2"],
        world.pks["ring-3"],
    }
    assert "2 of 6 listings; sellers among them: 1" in other.text
    assert RING_TEXT in other.text, "its sample is the description of one of its listings"


def test_a_member_seeing_none_of_it_gets_404_like_an_unknown_key(
    web: Web, world: TextsWorld
) -> None:
    client = web.client(email("viewer", "globex"))
    hidden = client.get(f"/clusters/{KEY}")
    unknown = client.get("/clusters/0000000000000000")
    assert hidden.status_code == unknown.status_code == 404
    api = web.api(email("viewer", "globex"), scope="read")
    answers = [api.get(f"/api/v1/clusters/{k}") for k in (KEY, "0000000000000000", "x" * 300)]
    assert [a.status_code for a in answers] == [404, 404, 404]
    assert answers[0].json()["detail"] == f"no copy-paste cluster {KEY!r}"


def test_the_api_gives_the_same_view(web: Web, world: TextsWorld) -> None:
    api = web.api(email("viewer", "acme"), scope="read")
    body = api.get(f"/api/v1/clusters/{KEY}").json()
    assert (body["listings"], body["sellers"], body["visible_listings"]) == (6, 3, 2)
    assert body["hidden_listings"] == 4 and body["scan_id"] is None
    assert {m["listing"] for m in body["members"]} == {world.pks["copier"], world.pks["ring-1"]}
    assert body["by_seller"] == [{"seller_id": "shop-a", "seller_name": "小A数码", "listings": 2}]

    operator = web.api(email("admin", "alliance"), scope="read")
    everything = operator.get(f"/api/v1/clusters/{KEY}").json()
    assert everything["visible_listings"] == 6 and everything["hidden_listings"] == 0
    assert everything["scan_id"] == "texts-scan" and everything["sample"] == SAMPLE
    unstored = [m for m in everything["members"] if m["listing"] is None]
    assert [(m["listing_id"], m["seller_id"]) for m in unstored] == [("ring-6", "shop-c")]
    sellers = {s["seller_id"]: s["listings"] for s in everything["by_seller"]}
    assert sellers == {"shop-a": 2, "shop-b": 2, "shop-c": 2}


def test_the_newest_scan_that_found_the_key_is_shown(web: Web, world: TextsWorld) -> None:
    later = SCANNED_AT + timedelta(days=1)
    with web.store.session() as session:
        listings_repo.start_scan(session, scan_id="later-scan", started_at=later, inputs=[])
        record = clusters_repo.ClusterRecord(
            KEY, 9, 5, 0.77, "newer sample", [("taobao", "copier", "shop-a")]
        )
        clusters_repo.save_clusters(session, "later-scan", [record])
    body = web.api(email("admin", "alliance")).get(f"/api/v1/clusters/{KEY}").json()
    assert (body["scan_id"], body["listings"], body["sample"]) == ("later-scan", 9, "newer sample")
    page = web.client(email("viewer", "acme")).get(f"/clusters/{KEY}")
    assert "9 listings by 5 sellers" in page.text and "1 of 9 listings" in page.text


def test_the_cluster_page_speaks_chinese(web: Web, world: TextsWorld) -> None:
    client = web.client(email("viewer", "acme"))
    client.cookies.set("vigil_lang", "zh")
    page = client.get(f"/clusters/{KEY}")
    assert "3 个卖家的 6 条商品" in page.text
    assert "6 条商品中的 2 条" in page.text
    assert "复制粘贴群组" in page.text
