"""Templates and words are data: a marketplace's own template, and the home's overrides of
templates and texts, with a clear refusal when an override is broken."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.notices.world import ACME, notice_world
from vigil.notices.config import load_texts
from vigil.notices.render import NoticeRenderError, render_html, template_for
from vigil.services.notices import case_notices, draft_notice, send_notice
from vigil.settings import ConfigError
from vigil.store.db import Store


def test_marketplaces_with_intake_details_have_their_own_template(tmp_path: Path) -> None:
    assert template_for("jd") == "jd"
    assert template_for("taobao") == "taobao" and template_for("tmall") == "tmall"
    assert template_for("shopmart") == "default"
    assert template_for("../../etc/passwd") == "default"  # a platform code is no path


def test_the_home_overrides_a_template_and_the_words(store: Store, tmp_path: Path) -> None:
    world = notice_world(store, tmp_path / "home")
    folder = world.home / "notices"
    folder.mkdir()
    (folder / "shopmart.html.j2").write_text(
        '{% extends "default.html.j2" %}{% block intake %}'
        "<div>Upload at the Shopmart brand portal, form IP-7</div>{% endblock %}",
        encoding="utf-8",
    )
    (folder / "texts.yaml").write_text("en: {salutation: 'Dear Shopmart team,'}\n", "utf-8")
    assert template_for("shopmart", world.home) == "shopmart"
    html = render_html(draft_notice(store, ACME, world.case_id, home=world.home), home=world.home)
    assert "Upload at the Shopmart brand portal, form IP-7" in html
    assert "Dear Shopmart team," in html and "Dear Sir or Madam," not in html
    sent = send_notice(store, world.settings, ACME, world.case_id)
    assert sent.template == "shopmart"


def test_a_broken_override_is_refused_before_anything_is_sent(store: Store, tmp_path: Path) -> None:
    world = notice_world(store, tmp_path / "home")
    folder = world.home / "notices"
    folder.mkdir()
    (folder / "shopmart.html.j2").write_text("{{ doc.no_such_field.deeper }}", "utf-8")
    with pytest.raises(NoticeRenderError, match="remove it to use the shipped one"):
        send_notice(store, world.settings, ACME, world.case_id)
    assert case_notices(store, ACME, world.case_id) == []


def test_texts_of_every_language_have_every_key(tmp_path: Path) -> None:
    texts = load_texts(None)
    assert set(texts) == {"en", "zh"}
    (tmp_path / "notices").mkdir()
    (tmp_path / "notices" / "texts.yaml").write_text("zh: {title: 标题}\n", "utf-8")
    with pytest.raises(ConfigError, match=r"'zh' lacks title\.copyright"):
        load_texts(tmp_path)
