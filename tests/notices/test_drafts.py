"""Drafting a notice from a case: what it cites, which type it is, which language, and when
it refuses."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.case_factories import actor
from tests.notices.world import ACME, COPIED, notice_world
from vigil.domain.cases import NoticeType
from vigil.notices.render import render_html
from vigil.services.cases import CaseNotFound
from vigil.services.notices import NoticeConflict, NoticeError, draft_notice
from vigil.store.db import Store
from vigil.store.tables import EvidenceItemRow


def test_a_draft_cites_the_marks_the_listings_and_the_evidence(
    store: Store, tmp_path: Path
) -> None:
    world = notice_world(store, tmp_path / "home")
    document = draft_notice(store, ACME, world.case_id, home=world.home)
    assert document.type is NoticeType.COUNTERFEIT
    assert document.reference == "N-" + world.reference.removeprefix("C-") + "-1"
    assert document.case_reference == world.reference
    assert [(m.number, m.jurisdiction, m.classes) for m in document.rights.marks] == [
        ("8228888", "CN", [9]), ("UK00003412345", "GB", [9, 35]),
    ]  # fmt: skip
    assert sorted(item.listing_id for item in document.listings) == world.listing_ids()
    first = document.listings[0]
    # The signals that raised the risk, weightiest first; a negative one is never quoted.
    assert [f.kind for f in first.findings] == [
        "counterfeit_wording", "price_below_msrp", "brand_mention",
    ]  # fmt: skip
    assert first.seller_name == "Seller shop-1" and first.price == 750.0
    with store.session() as session:
        items = session.query(EvidenceItemRow).filter_by(case_id=world.case_id).all()
    assert items, "the world captured evidence"
    assert {(e.sha256, e.log_index) for e in document.evidence} == {
        (row.sha256, row.log_index) for row in items
    }
    assert document.tree_head is not None
    assert document.tree_head.size > max(row.log_index or 0 for row in items)
    # The sender is the rights holder, the contact the person drafting it.
    assert document.sender.member_id == "acme" and document.sender.name == "Acme Brands"
    assert document.recipient.marketplace_id == "shopmart"
    assert document.recipient.name == "Shopmart Marketplace"
    # CN marks: PRC law is cited, and the 36 answer hours of cases.yaml give the deadline.
    assert any("Article 57" in line for line in document.legal_basis)
    assert document.answer_due is not None
    assert (document.answer_due - document.date).total_seconds() == 36 * 3600
    assert document.reference in document.requested_action.text


def test_the_html_shows_marks_listings_and_digests(store: Store, tmp_path: Path) -> None:
    world = notice_world(store, tmp_path / "home")
    document = draft_notice(store, ACME, world.case_id, home=world.home)
    html = render_html(document, home=world.home)
    for text in ["8228888", "UK00003412345", *world.listing_ids(), "Seller shop-2", "高仿"]:
        assert text in html
    for item in document.evidence:
        assert item.sha256 in html
    assert document.sha256() in html
    assert "Notice of counterfeit goods and request for removal" in html


def test_a_chinese_marketplace_gets_its_notice_in_chinese(store: Store, tmp_path: Path) -> None:
    world = notice_world(store, tmp_path / "home", platform="jd")
    document = draft_notice(store, ACME, world.case_id, home=world.home)
    assert document.language == "zh"
    html = render_html(document, home=world.home)
    assert "关于假冒商品的侵权通知及删除请求" in html
    assert "京东知识产权保护平台" in html  # jd's own template names its intake
    assert "《中华人民共和国电子商务法》第四十二条、第四十三条" in "".join(document.legal_basis)
    english = draft_notice(store, ACME, world.case_id, language="en", home=world.home)
    assert english.language == "en"
    assert "JD Intellectual Property Protection Platform" in render_html(english, home=world.home)


def test_copied_works_and_nothing_fake_make_a_copyright_notice(
    store: Store, tmp_path: Path
) -> None:
    world = notice_world(store, tmp_path / "home", signals=COPIED, verdict="infringement_suspected")
    document = draft_notice(store, ACME, world.case_id, home=world.home)
    assert document.type is NoticeType.COPYRIGHT
    assert [(w.title, w.owner_name) for w in document.rights.works] == [
        ("Acme phone manual", "Acme Brands")
    ]
    # A marketplace of no known jurisdiction: general law, the Berne Convention.
    assert "Berne Convention" in " ".join(document.legal_basis)


def test_a_case_that_is_not_a_suspected_counterfeit_gets_a_trademark_notice(
    store: Store, tmp_path: Path
) -> None:
    world = notice_world(
        store,
        tmp_path / "home",
        verdict="needs_review",
        signals=[{"detector": "brand", "kind": "brand_variant", "weight": 2.0}],
    )
    assert draft_notice(store, ACME, world.case_id, home=world.home).type is NoticeType.TRADEMARK
    # Asked for, the type is what the sender says.
    chosen = draft_notice(store, ACME, world.case_id, type="counterfeit", home=world.home)
    assert chosen.type is NoticeType.COUNTERFEIT


def test_copied_text_beside_counterfeit_signs_is_not_a_copyright_notice(
    store: Store, tmp_path: Path
) -> None:
    from tests.notices.world import COUNTERFEIT

    world = notice_world(store, tmp_path / "home", signals=[*COUNTERFEIT, *COPIED])
    assert draft_notice(store, ACME, world.case_id, home=world.home).type is NoticeType.COUNTERFEIT


def test_an_unconfirmed_case_gets_no_notice(store: Store, tmp_path: Path) -> None:
    world = notice_world(store, tmp_path / "home", confirm=False)
    with pytest.raises(NoticeConflict, match="confirm the case first"):
        draft_notice(store, ACME, world.case_id, home=world.home)


def test_a_mark_notice_needs_registered_marks(store: Store, tmp_path: Path) -> None:
    world = notice_world(store, tmp_path / "home", marks=[])
    with pytest.raises(NoticeError, match="add the marks"):
        draft_notice(store, ACME, world.case_id, home=world.home)
    with pytest.raises(NoticeError, match="copies a registered work"):
        draft_notice(store, ACME, world.case_id, type="copyright", home=world.home)


def test_bad_choices_are_named(store: Store, tmp_path: Path) -> None:
    world = notice_world(store, tmp_path / "home")
    with pytest.raises(NoticeError, match="one of counterfeit, trademark, copyright"):
        draft_notice(store, ACME, world.case_id, type="patent", home=world.home)
    with pytest.raises(NoticeError, match="en or zh"):
        draft_notice(store, ACME, world.case_id, language="fr", home=world.home)


def test_a_case_of_another_member_is_not_found(store: Store, tmp_path: Path) -> None:
    world = notice_world(store, tmp_path / "home")
    with pytest.raises(CaseNotFound):
        draft_notice(store, actor("globex"), world.case_id, home=world.home)


def test_without_captured_evidence_the_notice_offers_it_on_request(
    store: Store, tmp_path: Path
) -> None:
    world = notice_world(store, tmp_path / "home", capture=False)
    document = draft_notice(store, ACME, world.case_id, home=world.home)
    assert document.evidence == [] and document.tree_head is None
    html = render_html(document, home=world.home)
    assert "will be provided on request" in html and "Annex A" not in html
