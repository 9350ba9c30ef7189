"""A realistic notice rendered to PDF with WeasyPrint, read back with pdftotext and turned into
PNG pages with pdftoppm (Debian's poppler-utils), saved under tests/artifacts/ to look at."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
from argon2 import PasswordHasher

from tests.case_factories import seed_case_world
from vigil.domain.cases import CaseState
from vigil.domain.people import Actor, Role
from vigil.domain.registry import MemberKind
from vigil.notices.document import NoticeDocument
from vigil.notices.render import render_html, render_pdf
from vigil.services import accounts, cases, evidence
from vigil.services.notices import draft_notice
from vigil.settings import Settings
from vigil.store.db import Store, cli_actor, open_store
from vigil.store.tables import BrandRow

ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts"
XIAOMI = Actor(
    name="wang.li@xiaomi.test", member_id="xiaomi", member_kind=MemberKind.BRAND_OWNER,
    role=Role.ANALYST, source="test",
)  # fmt: skip
LISTINGS = [
    ("100045678901", "小米14 Ultra 高仿 一比一 16+512G 徕卡影像 全网通", "数码精品折扣店", 799.0,
     [("counterfeit_wording", 2.6, "高仿", "The title uses the counterfeit term 高仿 (high imitation)."),
      ("price_below_msrp", 1.8, "0.12", "The price is 12% of the Xiaomi 14 Ultra's MSRP (6,499 CNY).")]),
    ("100045678902", "晓米14 Ultra 原单 尾货 顺丰包邮", "华强北数码城", 650.0,
     [("brand_variant", 2.2, "晓米", "“晓米” is a homophone of the brand 小米 written with other characters."),
      ("counterfeit_wording", 1.9, "原单", "The title uses the counterfeit term 原单 (factory original).")]),
    ("100045678903", "Xiaomi 14 Ultra 精仿版 全新未拆封", "优品手机专营", 899.0,
     [("counterfeit_wording", 2.4, "精仿", "The title uses the counterfeit term 精仿 (fine imitation)."),
      ("known_counterfeit_image", 4.5, "photo 2", "A photo matches one seen in a confirmed counterfeit case of 小米.")]),
]  # fmt: skip


def _realistic(store: Store, home: Path) -> tuple[Settings, Actor, int]:
    """Xiaomi's case about three listings on JD: its brand 小米 with two registered marks, the
    signals that flagged each listing, the evidence captured into the log, confirmed."""
    home.mkdir(parents=True, exist_ok=True)
    (home / "cases.yaml").write_text("platforms: {jd: {marketplace: shopmart}}\n", "utf-8")
    settings = Settings(home=home)
    world = seed_case_world(store)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(
            accounts, "_hasher", PasswordHasher(time_cost=1, memory_cost=64, parallelism=1)
        )
        accounts.create_member(
            store,
            member_id="xiaomi",
            name="小米科技有限责任公司",
            kind="brand_owner",
            actor=cli_actor(),
        )
        user = accounts.create_user(
            store,
            member_id="xiaomi",
            email=XIAOMI.name,
            name="王丽",
            role="analyst",
            password="correct horse battery",
            actor=cli_actor(),
        )
    with store.session() as session:
        session.add(
            BrandRow(
                name="小米",
                owner_id="xiaomi",
                entry={
                    "name": "小米",
                    "owner": "xiaomi",
                    "aliases": ["Xiaomi", "MI"],
                    "marks": [
                        {"number": "8228888", "jurisdiction": "CN", "classes": [9]},
                        {"number": "10086123", "jurisdiction": "CN", "classes": [9, 35]},
                    ],
                },
            )
        )
    pks = [
        world.listing(
            "xiaomi", brand="小米", platform="jd", listing_id=listing_id, title=title,
            seller=f"shop-{n}", seller_name=seller,
            price=price, url=f"https://item.jd.com/{listing_id}.html",
            signals=[{"detector": "wording", "kind": kind, "weight": weight, "evidence": found,
                      "explanation": why} for kind, weight, found, why in signals],
        )
        for n, (listing_id, title, seller, price, signals) in enumerate(LISTINGS, 1)
    ]  # fmt: skip
    sender = Actor(name=XIAOMI.name, member_id="xiaomi", member_kind=MemberKind.BRAND_OWNER,
                   role=Role.ANALYST, user_id=user.id, source="test")  # fmt: skip
    config = cases.load_case_config(home)
    case_id = cases.open_case(store, sender, cases.Opening(listing_pks=pks), config)
    evidence.capture(store, settings, sender, case_id)
    cases.move(store, sender, case_id, CaseState.CONFIRMED, config)
    return settings, sender, case_id


def _text(pdf: Path) -> str:
    if shutil.which("pdftotext") is None:
        pytest.skip(
            "pdftotext (Debian's poppler-utils) is not installed: apt-get install poppler-utils"
        )
    return subprocess.run(
        ["pdftotext", str(pdf), "-"], check=True, capture_output=True, text=True
    ).stdout


def _pages(pdf: Path, stem: str) -> list[Path]:
    if shutil.which("pdftoppm") is None:
        pytest.skip(
            "pdftoppm (Debian's poppler-utils) is not installed: apt-get install poppler-utils"
        )
    ARTIFACTS.mkdir(exist_ok=True)
    for old in ARTIFACTS.glob(f"{stem}-*.png"):
        old.unlink()
    subprocess.run(["pdftoppm", "-r", "110", "-png", str(pdf), str(ARTIFACTS / stem)], check=True)
    return sorted(ARTIFACTS.glob(f"{stem}-*.png"))


@pytest.mark.parametrize("language", ["zh", "en"])
def test_a_notice_renders_as_a_pdf_letter(tmp_path: Path, language: str) -> None:
    # The letter does not depend on the database: SQLite is enough here.
    store = open_store(f"sqlite:///{tmp_path / 'vigil.sqlite3'}")
    try:
        settings, sender, case_id = _realistic(store, tmp_path / "home")
        document = draft_notice(
            store, sender, case_id, language=None if language == "zh" else "en", home=settings.home
        )
    finally:
        store.close()
    assert document.language == language  # jd is a Chinese marketplace: Chinese by default
    html = render_html(document, home=settings.home)
    pdf = tmp_path / f"notice-{language}.pdf"
    pdf.write_bytes(render_pdf(html))
    assert pdf.read_bytes().startswith(b"%PDF-")
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / f"notice-{language}.html").write_text(html, encoding="utf-8")
    shutil.copy(pdf, ARTIFACTS / pdf.name)
    text = _text(pdf)
    expected = {
        "zh": ["关于假冒商品的侵权通知及删除请求", "京东知识产权保护平台", "8228888", "第五十七条",
               "特此通知", "附件一：证据清单"],
        "en": ["Notice of counterfeit goods and request for removal", "8228888", "Article 57",
               "Yours faithfully", "Annex A. Evidence"],
    }[language]  # fmt: skip
    flat = " ".join(text.split())
    for phrase in [*expected, document.reference, *(listing[0] for listing in LISTINGS)]:
        assert phrase in flat, f"{phrase!r} is not in the PDF's text"
    # Every evidence digest is printed whole (a long digest may wrap, so compare unwrapped).
    joined = "".join(text.split())
    for item in document.evidence:
        assert item.sha256 in joined
    assert NoticeDocument.model_validate(document.json_form()).sha256() in joined
    pages = _pages(pdf, f"notice-{language}")
    assert 2 <= len(pages) <= 4, f"a three-listing notice should take 2-4 pages, not {len(pages)}"
