from __future__ import annotations

import pickle
import random

import opencc
import pytest

from tests.texts.corpus import ARTICLE_EN, COPIED_EN, COPIED_ZH, MANUAL_ZH
from vigil.texts.containment import IndexedWork, WorkIndex
from vigil.texts.shingles import Shingler, tidy


@pytest.fixture(scope="module")
def index() -> WorkIndex:
    built = WorkIndex(Shingler())
    built.build(
        [
            (IndexedWork("xiaomi/manual", "xiaomi", "manual", "Xiaomi"), MANUAL_ZH),
            (IndexedWork("gucci/care", "gucci", "care", "Gucci"), ARTICLE_EN),
            (IndexedWork("nobody/empty", "nobody", "empty", None), "!!! ..."),
        ]
    )
    return built


def best(index: WorkIndex, text: str) -> tuple[str, float]:
    shingled = index.shingler(text)
    found = index.candidates(shingled.unique())
    assert found, f"no candidate for {text[:40]!r}"
    match = index.match(shingled, found[0][0])
    return index.works[match.work].key, match.containment


def test_works_without_text_are_left_out(index: WorkIndex) -> None:
    assert [w.key for w in index.works] == ["xiaomi/manual", "gucci/care"]


def test_verbatim_copies_are_wholly_contained(index: WorkIndex) -> None:
    assert best(index, COPIED_ZH) == ("xiaomi/manual", 1.0)
    assert best(index, COPIED_EN) == ("gucci/care", 1.0)


def test_light_edits_keep_most_of_the_copy(index: WorkIndex) -> None:
    edited = COPIED_ZH.replace("三秒", "3秒").replace("，", " ").replace("更快速", "更加快速")
    work, containment = best(index, edited)
    assert work == "xiaomi/manual"
    assert 0.75 <= containment < 1.0


def test_reordered_sentences_are_still_contained(index: WorkIndex) -> None:
    sentences = [s for s in COPIED_EN.replace("\n", " ").split(". ") if s]
    random.Random(3).shuffle(sentences)
    work, containment = best(index, ". ".join(sentences))
    assert work == "gucci/care"
    assert containment >= 0.8


def test_shop_text_around_a_copy_lowers_containment_but_it_is_found(index: WorkIndex) -> None:
    shop = "本店新到一批现货，欢迎新老顾客选购，下单备注颜色。"
    work, containment = best(index, shop + COPIED_ZH + shop)
    assert work == "xiaomi/manual"
    assert 0.45 <= containment <= 0.8


def test_traditional_copy_of_a_simplified_work(index: WorkIndex) -> None:
    traditional = opencc.OpenCC("s2t").convert(COPIED_ZH)
    assert traditional != COPIED_ZH
    assert best(index, traditional) == ("xiaomi/manual", 1.0)


def test_unrelated_text_finds_no_work(index: WorkIndex) -> None:
    text = "纯棉短袖T恤，夏季新款，透气舒适，多色可选，尺码齐全，机洗不变形。"
    assert index.candidates(index.shingler(text).unique()) == []


def test_the_longest_passage_and_its_place_in_the_work(index: WorkIndex) -> None:
    shop = "正品现货，拍下即发。"
    shingled = index.shingler(shop + COPIED_ZH)
    match = index.match(shingled, 0)
    assert match.passage.startswith("开机与关机")
    assert match.passage.endswith("解锁更快速准确")
    assert match.excerpt["match"] == tidy(match.passage)
    assert match.excerpt["before"].endswith("以免损坏电池。\n")
    assert match.excerpt["after"].startswith("。\n拍照技巧")
    work_text = index.work_text(0).text
    assert work_text[match.work_offset :].startswith("开机与关机")
    # The shop's own clause has shingles but none are copied.
    assert match.clause_matched[0] == 0
    assert sum(match.clause_copied) == len("".join(c for c in COPIED_ZH if c.isalnum()))


def test_the_index_pickles_and_answers_the_same(index: WorkIndex) -> None:
    clone = pickle.loads(pickle.dumps(index))
    assert best(clone, COPIED_EN) == best(index, COPIED_EN)


def test_an_empty_index_finds_nothing() -> None:
    empty = WorkIndex(Shingler())
    empty.build([])
    assert empty.candidates(empty.shingler(COPIED_ZH).unique()) == []
