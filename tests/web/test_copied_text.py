"""The listing page shows copied text: the passage beside the place in the registered work it
came from (title, owner, containment, copied characters, the match marked in its context), and
the copy-paste cluster the listing belongs to as a link to the cluster's page."""

from __future__ import annotations

import re
from html import unescape

import pytest
from sqlalchemy import update

from tests.web.conftest import Web, email
from tests.web.texts_world import AFTER, BEFORE, KEY, PASSAGE, WORK, TextsWorld, build_texts_world
from vigil.services.tenancy import grant_access
from vigil.store.tables import SignalRow


@pytest.fixture
def world(web: Web) -> TextsWorld:
    return build_texts_world(web.store, web.settings.home)


def card(html: str) -> str:
    found = re.search(r'<section class="card copied-text".*?</section>', html, re.S)
    assert found, "the page has no copied-text card"
    return found.group(0)


def test_the_passage_is_shown_beside_the_work_it_came_from(web: Web, world: TextsWorld) -> None:
    page = web.client(email("viewer", "acme")).get(f"/listings/{world.pks['copier']}")
    assert page.status_code == 200, page.text
    shown = card(page.text)
    # The work, linked to its page for its owner, with the owner's name.
    assert f'<a href="/registry/works/{world.work_id}" data-testid="work-title">{WORK}</a>' in shown
    assert "owned by Acme Brands" in shown
    assert '<strong class="num" data-testid="containment">83%</strong>' in shown
    assert f"{len(PASSAGE)} characters copied" in shown
    listing_side = re.search(r'data-testid="listing-passage">(.*?)</blockquote>', shown, re.S)
    work_side = re.search(r'data-testid="work-excerpt">(.*?)</blockquote>', shown, re.S)
    assert listing_side and work_side
    assert unescape(re.sub(r"<[^>]+>", "", listing_side.group(1))) == PASSAGE
    excerpt = work_side.group(1)
    assert f"…{BEFORE}</span><mark" in excerpt
    assert f'<mark class="span-copyrighted_text">{PASSAGE}</mark>' in excerpt
    assert f"{AFTER}…</span>" in excerpt
    # The cluster: a link to its page, sized.
    link = re.search(r'<a href="(/clusters/[^"]+)">([^<]+)</a>', shown)
    assert link and link.group(1) == f"/clusters/{KEY}"
    assert link.group(2).strip() == "6 listings by 3 sellers"
    assert web.client(email("viewer", "acme")).get(link.group(1)).status_code == 200


def test_another_member_sees_the_work_named_but_not_linked(web: Web, world: TextsWorld) -> None:
    with web.store.session() as session:
        grant_access(session, [world.pks["copier"]], "globex", "shared")
    shown = card(web.client(email("viewer", "globex")).get(f"/listings/{world.pks['copier']}").text)
    assert f'<span data-testid="work-title">{WORK}</span>' in shown
    assert "/registry/works/" not in shown
    assert "owned by Acme Brands" in shown


def test_a_ring_listing_links_its_cluster_and_shows_no_passage(web: Web, world: TextsWorld) -> None:
    page = web.client(email("viewer", "shopmart")).get(f"/listings/{world.pks['ring-2']}")
    shown = card(page.text)
    assert 'data-testid="copied-passage"' not in shown
    assert f'href="/clusters/{KEY}"' in shown and "similarity 91%" in shown


def test_a_listing_without_text_signals_has_no_card(web: Web, world: TextsWorld) -> None:
    with web.store.session() as session:
        session.execute(update(SignalRow).values(kind="counterfeit_wording", details={}))
    page = web.client(email("viewer", "acme")).get(f"/listings/{world.pks['copier']}")
    assert page.status_code == 200 and 'data-testid="copied-text"' not in page.text


def test_the_card_speaks_chinese(web: Web, world: TextsWorld) -> None:
    client = web.client(email("viewer", "acme"))
    client.cookies.set("vigil_lang", "zh")
    shown = card(client.get(f"/listings/{world.pks['copier']}").text)
    assert "抄袭的文字" in shown and "权利人：Acme Brands" in shown
    assert f"抄袭 {len(PASSAGE)} 个字符" in shown
    assert "3 个卖家的 6 条商品" in shown
    assert "商品中" in shown and "作品中" in shown


def test_signal_text_is_escaped_and_odd_details_do_not_break_the_page(
    web: Web, world: TextsWorld
) -> None:
    hostile = "<script>alert(1)</script>"
    with web.store.session() as session:
        session.execute(
            update(SignalRow)
            .where(SignalRow.kind == "copyrighted_text")
            .values(
                details={
                    "work": hostile,
                    "owner": "acme",
                    "containment": "most of it",
                    "copied_chars": True,
                    "passage": hostile,
                    "work_excerpt": "not an object",
                }
            )
        )
    page = web.client(email("viewer", "acme")).get(f"/listings/{world.pks['copier']}")
    assert page.status_code == 200
    shown = card(page.text)
    assert hostile not in page.text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in shown
    assert 'data-testid="containment"' not in shown and "characters copied" not in shown
    assert "did not record where in the work" in shown
