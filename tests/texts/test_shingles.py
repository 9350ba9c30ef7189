from __future__ import annotations

import numpy as np
import pytest

from vigil.texts.shingles import Shingler, clauses, normalize, tidy


@pytest.fixture(scope="module")
def shingler() -> Shingler:
    return Shingler(cjk=5, words=3)


def test_normalize_folds_width_case_traditional_and_spaces() -> None:
    assert normalize(" ＸＩＡＯＭＩ 小米手機 說明書 ") == "xiaomi 小米手机 说明书"
    assert tidy(normalize("小米手機\t 說明書\n \n\n第二行 ")) == "小米手机 说明书\n第二行"


def test_punctuation_and_spacing_do_not_change_shingles(shingler: Shingler) -> None:
    a = shingler("开机与关机：长按电源键三秒即可开机。")
    b = shingler("开机与关机 长按电源键三秒即可开机!!")
    assert np.array_equal(a.hashes, b.hashes)


def test_traditional_copy_has_the_simplified_shingles(shingler: Shingler) -> None:
    simplified = shingler("录入时请多次调整手指位置，使指纹信息更完整")
    traditional = shingler("錄入時請多次調整手指位置，使指紋信息更完整")
    assert np.array_equal(simplified.hashes, traditional.hashes)


def test_chinese_shingles_are_character_windows_and_latin_ones_word_windows(
    shingler: Shingler,
) -> None:
    text = shingler("小米手机好 the quick brown fox")
    # 5 Han characters, 4 words: a window runs on across scripts, and only whole windows are
    # shingles.
    assert len(text) == 7
    assert text.windows.tolist() == [5, 5, 5, 5, 5, 3, 3]
    assert text.positions.tolist() == [0, 1, 2, 3, 4, 5, 6]
    start, end = text.span(0, 0)
    assert text.text[start:end] == "小米手机好"
    start, end = text.span(5, 5)
    assert text.text[start:end] == "the quick brown"


def test_a_changed_word_changes_only_the_windows_over_it(shingler: Shingler) -> None:
    a = shingler("keep it away from direct sunlight and radiators")
    b = shingler("keep it away from strong sunlight and radiators")
    changed = int((a.hashes != b.hashes).sum())
    assert changed == 3  # the three word windows that include "direct"


def test_clauses_are_compared_by_their_tokens(shingler: Shingler) -> None:
    a = shingler("全国包邮！七天无理由退换。")
    b = shingler("全国包邮,七天无理由退换")
    assert a.clause_hashes.tolist() == b.clause_hashes.tolist()
    assert a.clause_lengths.tolist() == [4, 7]
    assert a.token_clauses.tolist() == [0] * 4 + [1] * 7
    assert a.clauses.tolist() == [0] * 4 + [1] * 3  # shingles start on the first 7 tokens


def test_a_full_stop_ends_a_clause_only_before_a_space(shingler: Shingler) -> None:
    text = shingler("Screen 5.15 inch. Free shipping.")
    assert text.clause_lengths.tolist() == [len("screen515inch"), len("freeshipping")]


def test_a_text_shorter_than_a_window_is_one_shingle(shingler: Shingler) -> None:
    text = shingler("包邮")
    assert len(text) == 1
    assert text.span(0, 0) == (0, 2)


def test_mixed_scripts_skip_cut_windows_but_keep_later_whole_ones(shingler: Shingler) -> None:
    text = shingler("手机 a b c d")  # 手 and 机 need 5 tokens; the words need 3
    assert text.positions.tolist() == [0, 1, 2, 3]
    text = shingler("a b c 手机")
    assert text.positions.tolist() == [0, 1, 2]  # 手 and 机 start no whole window
    assert text.text[slice(*text.span(2, 2))] == "c 手机"


def test_text_without_tokens_has_no_shingles(shingler: Shingler) -> None:
    for text in ("", "   ", "!!!——。。", "\u200b"):
        assert len(shingler(text)) == 0


def test_windows_must_be_positive() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        Shingler(cjk=0)


def test_clauses_alone_are_those_the_shingler_finds(shingler: Shingler) -> None:
    text = normalize("全国包邮！！七天无理由退换。 Free shipping… 30-day returns")
    cut = clauses(text)
    shingled = shingler(text, normalized=True)
    assert cut.hashes.tolist() == shingled.clause_hashes.tolist()
    assert cut.lengths.tolist() == [4, 7, 12, 12]
    assert [text[s : s + 2] for s in cut.starts.tolist()] == ["全国", "七天", " f", " 3"]
    assert shingled.token_clauses.tolist() == [0] * 4 + [1] * 7 + [2, 2, 3, 3, 3]


def test_size_chart_rows_and_spec_fragments_are_not_prose() -> None:
    chart = normalize(
        "尺码参考（单位：cm，手工平铺测量）：\nS码：身高155-165，胸围100，衣长64\n"
        "xs: chest 36-38, waist 29-31\n本店赠送运费险，退换无忧。"
    )
    cut = clauses(chart)
    assert [p > 0 for p in cut.prose.tolist()] == [
        True,  # 尺码参考(单位
        False,  # cm
        True,  # 手工平铺测量
        False,
        False,
        False,
        False,  # s码 身高155165 胸围100 衣长64
        False,
        False,
        False,  # xs, chest 3638, waist 2931
        True,
        True,  # 本店赠送运费险 退换无忧
    ]
    assert cut.prose.tolist()[0] == cut.lengths.tolist()[0] == len("尺码参考单位")
