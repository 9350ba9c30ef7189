"""Generated texts for bench/near_dup.py: registered works, listing descriptions that copy
passages of them, unrelated descriptions, and copy-paste rings.

Texts are drawn from a language model simple enough to be fast and rich enough to be fair:

- **Lexicon.** Chinese units are real words (pypinyin's phrase list: 2–3 characters, some
  4-character idioms) after a head of function characters (的, 了, 和, 是...); English units
  are real function words, real words from the sample's data files and pronounceable made-up
  words, 20,000 in all. A bank of collocations (2–3 units that always go together) joins the
  lexicon, so that unrelated texts share longer runs than single words, as real ones do.
- **Frequencies.** Zipf–Mandelbrot over the ranked lexicon, function words first. Each text
  has one of 60 topics; 30 % of its units come from the topic's 500 words, so texts on the
  same topic share much of their vocabulary.
- **Shape.** Clauses of 2–7 units, sentences of 1–3 clauses, paragraphs of 3–8 sentences, with
  the punctuation of each language.
- **Boilerplate.** Shop phrases every seller writes (the detector's shipped phrases, the
  sample's stock sentences, shipping and return terms, size charts), in both languages; a
  fifth of the works contain some too, as official descriptions do.

Edits of a copied passage ("light"): 0–4 % of the Han characters (or 0–5 % of the words)
replaced, 30 % of the punctuation marks changed, sometimes a clause's case changed; a tenth of
the Chinese copies are converted to traditional characters (OpenCC s2t); half of the copies
get shop text (boilerplate, promotions) inserted before, after or in the middle, up to 40 % of
the passage's length. Everything is drawn from numpy generators with fixed seeds.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import yaml

TOPICS = 60
TOPIC_WORDS = 500
TOPIC_SHARE = 0.3
ZH_FUNCTION = tuple("的了和是在与及可以为这也都将对从更让把被就而或等中上一不有其该并还很最")
# Words as running text, split below (a list literal of 90 words is unreadable).
_EN_FUNCTION_WORDS = """
the of and to a in is it for with on that this as are be by from or at your you can an all
will not its more has have was our which their when so if one into up out use also any
other than only very well each most new time after before over these them while both such
make made high easy just used day may per two need like without between through during
under about keep every even first then where who what how there
"""
EN_FUNCTION = tuple(_EN_FUNCTION_WORDS.split())
_EN_HEADS = "b c d f g h j k l m n p r s t v w z br cr dr fl gr pl pr st tr ch sh th"
EN_SYLLABLES_HEAD = tuple(_EN_HEADS.split())
EN_VOWELS = ("a", "e", "i", "o", "u", "ai", "ea", "ee", "io", "ou")
EN_SYLLABLES_TAIL = ["", "", "n", "r", "s", "t", "l", "m", "nd", "st", "rk", "ng"]
ZH_EXTRA_BOILERPLATE = [
    "欢迎光临本店", "拍下请备注颜色尺码", "有任何问题请联系客服", "默认发中通快递",
    "偏远地区不包邮", "收到货请及时确认收货", "好评返现五元", "亲，欢迎咨询",
    "新疆西藏不发货", "本店支持开发票", "量大从优", "现货秒发", "下单送运费险",
    "尺码表仅供参考，请对照选购", "颜色以实物为准", "图片实拍", "关注店铺优先发货",
    "收藏加购送小礼品", "尺码：S 胸围88 衣长62；M 胸围92 衣长64；L 胸围96 衣长66",
    "尺码：36码 脚长230；37码 脚长235；38码 脚长240；39码 脚长245", "质量问题包退换",
]  # fmt: skip
EN_EXTRA_BOILERPLATE = [
    "Thanks for shopping with us.", "Please leave positive feedback.",
    "Combined shipping available.", "We ship worldwide.",
    "Items are shipped within 2 business days.",
    "Color may vary slightly due to monitor settings.",
    "Size chart: S chest 34 in, M chest 38 in, L chest 42 in.",
    "Size chart: US 7 = 25 cm, US 8 = 26 cm, US 9 = 27 cm.",
    "Returns accepted within 30 days.", "Buy with confidence.", "Satisfaction guaranteed.",
    "Add to cart now.", "Contact us before leaving negative feedback.",
]  # fmt: skip


@cache
def _data(name: str) -> Any:
    import vigil.data

    return yaml.safe_load((Path(vigil.data.__file__).parent / name).read_text(encoding="utf-8"))


def _strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for v in value.values() for s in _strings(v)]
    if isinstance(value, list):
        return [s for v in value for s in _strings(v)]
    return []


@dataclass
class Language:
    """A lexicon with its frequencies, its topics and its punctuation."""

    code: str  # "zh" or "en"
    units: list[str]
    cdf: npt.NDArray[np.float64]  # global Zipf, over `units`
    topics: npt.NDArray[np.int64]  # (TOPICS, TOPIC_WORDS) unit indices
    topic_cdf: npt.NDArray[np.float64]
    boilerplate: list[str]
    shop: list[str]  # promotions and stock sentences inserted around copies
    substitutes: list[str]  # what an edit puts in place of a character or a word

    @property
    def joiner(self) -> str:
        return "" if self.code == "zh" else " "

    def draw_units(self, rng: np.random.Generator, topic: int, count: int) -> list[str]:
        from_topic = rng.random(count) < TOPIC_SHARE
        picks = np.searchsorted(self.cdf, rng.random(count), side="right")
        in_topic = np.searchsorted(self.topic_cdf, rng.random(count), side="right")
        picks[from_topic] = self.topics[topic, in_topic[from_topic]]
        units = self.units
        return [units[i] for i in picks.tolist()]

    def text(self, rng: np.random.Generator, topic: int, chars: int, *, lines: bool) -> str:
        """About `chars` characters of running text on `topic`, in whole sentences."""
        per_unit = 2.4 if self.code == "zh" else 6.5
        budget = int(chars / per_unit * 1.2) + 12
        units = self.draw_units(rng, topic, budget)
        sizes = rng.integers(2, 8, size=budget).tolist()  # units per clause
        counts = rng.integers(1, 4, size=budget).tolist()  # clauses per sentence
        endings = rng.random(budget).tolist()
        paragraphs = rng.integers(3, 9, size=budget).tolist()  # sentences per paragraph
        out: list[str] = []
        length = at = clause = sentence = 0
        since_break = 0
        while length < chars:
            parts = []
            for _ in range(counts[sentence % budget]):
                size = sizes[clause % budget]
                clause += 1
                if at + size > len(units):
                    units += self.draw_units(rng, topic, budget)
                parts.append(self.joiner.join(units[at : at + size]))
                at += size
            out.append(self._sentence(parts, endings[sentence % budget]))
            length += len(out[-1]) + len(self.joiner)
            sentence += 1
            since_break += 1
            if lines and since_break >= paragraphs[sentence % budget]:
                out.append("\n")
                since_break = 0
        return self.joiner.join(out).replace(" \n ", "\n").strip()

    def _sentence(self, clauses: list[str], draw: float) -> str:
        if self.code == "zh":
            end = "。" if draw < 0.85 else ("！" if draw < 0.95 else "；")
            return "，".join(clauses) + end
        text = ", ".join(clauses)
        end = "." if draw < 0.9 else "!"
        return text[:1].upper() + text[1:] + end

    def boilerplate_text(self, rng: np.random.Generator, count: int) -> str:
        picks = rng.choice(len(self.boilerplate), size=count, replace=False)
        sep = "，" if self.code == "zh" else " "
        parts = [self.boilerplate[i] for i in picks.tolist()]
        if self.code == "zh":
            return sep.join(p.rstrip("。！") for p in parts) + "。"
        return sep.join(p if p[-1:] in ".!?" else p + "." for p in parts)

    def shop_text(self, rng: np.random.Generator, chars: int) -> str:
        """Shop text of about `chars` characters: promotions and stock sentences."""
        parts: list[str] = []
        while sum(map(len, parts)) < chars:
            pool = self.boilerplate if rng.random() < 0.5 else self.shop
            parts.append(pool[int(rng.integers(len(pool)))])
        return ("" if self.code == "zh" else " ").join(parts)


def _zipf_cdf(size: int, offset: float = 2.7) -> npt.NDArray[np.float64]:
    weights = 1.0 / (np.arange(size) + offset)
    cdf = np.cumsum(weights)
    result: npt.NDArray[np.float64] = cdf / cdf[-1]
    result[-1] = 1.0
    return result


def _stock_sentences(code: str) -> list[str]:
    texts = _data("sample/texts.yaml")
    found: list[str] = []
    for key, value in texts["descriptions"].items():
        if key.endswith(f"_{code}"):
            found += [s for s in _strings(value) if "{" not in s]
    found += [str(s) for s in texts[f"promos_{code}"] + texts[f"guarantees_{code}"]]
    return found


def _shipped_phrases() -> list[str]:
    config = _data("detectors/texts.yaml")
    return [str(p) for p in config["boilerplate"]["phrases"]]


def _is_han(text: str) -> bool:
    return bool(re.fullmatch(r"[\u4e00-\u9fff]+", text))


def _has_han(text: str) -> bool:
    return bool(re.search(r"[\u4e00-\u9fff]", text))


def _english_words(rng: np.random.Generator, total: int) -> list[str]:
    real = sorted(
        {
            w.lower()
            for s in _strings(_data("sample/texts.yaml"))
            for w in re.findall(r"[A-Za-z]{3,}", s)
        }
    )
    words = set(real) - set(EN_FUNCTION)
    while len(words) < total:
        syllables = (1, 2, 2, 3)[int(rng.integers(4))]
        word = "".join(
            EN_SYLLABLES_HEAD[int(rng.integers(len(EN_SYLLABLES_HEAD)))]
            + EN_VOWELS[int(rng.integers(len(EN_VOWELS)))]
            + EN_SYLLABLES_TAIL[int(rng.integers(len(EN_SYLLABLES_TAIL)))]
            for _ in range(syllables)
        )
        words.add(word)
    ordered = sorted(words)
    rng.shuffle(ordered)
    return ordered[:total]


def _chinese_words(rng: np.random.Generator) -> list[str]:
    from pypinyin.phrases_dict import phrases_dict

    short = sorted(w for w in phrases_dict if 2 <= len(w) <= 3 and _is_han(w))
    idioms = sorted(w for w in phrases_dict if len(w) == 4 and _is_han(w))
    chosen = short + [idioms[i] for i in rng.choice(len(idioms), 3000, replace=False).tolist()]
    rng.shuffle(chosen)
    return [w for w in chosen if w not in ZH_FUNCTION]


def _interleave(words: int, extra: int, rng: np.random.Generator) -> npt.NDArray[np.int64]:
    """Indices into `words` items followed by `extra` ones: the extra ones at random ranks, the
    words in their order."""
    slots = np.zeros(words + extra, dtype=bool)
    slots[rng.choice(words + extra, extra, replace=False)] = True
    order = np.empty(words + extra, dtype=np.int64)
    order[~slots] = np.arange(words)
    order[slots] = words + np.arange(extra)
    return order


@cache
def language(code: str, seed: int = 11) -> Language:
    """The Chinese ("zh") or English ("en") model (the same for a given seed)."""
    rng = np.random.default_rng([seed, 0 if code == "zh" else 1])
    zh = code == "zh"
    function = list(ZH_FUNCTION if zh else EN_FUNCTION)
    words = _chinese_words(rng) if zh else _english_words(rng, 20_000)
    joiner = "" if zh else " "
    extra = ZH_EXTRA_BOILERPLATE if zh else EN_EXTRA_BOILERPLATE
    boilerplate = [p for p in _shipped_phrases() if _has_han(p) == zh] + extra
    # Collocations: two or three common words that go together, spread over the ranks.
    top = words[:3000]
    collocations = [
        joiner.join(top[i] for i in rng.choice(len(top), int(rng.integers(2, 4))).tolist())
        for _ in range(3000)
    ]
    merged = np.array(words + collocations, dtype=object)
    merged = merged[_interleave(len(words), len(collocations), rng)]
    units = function + merged.tolist()
    first_content = len(function)
    topics = np.stack(
        [
            first_content + rng.choice(merged.size // 2, TOPIC_WORDS, replace=False)
            for _ in range(TOPICS)
        ]
    )
    shop = _stock_sentences(code)
    substitutes = (
        [c for w in words[:6000] for c in w] if code == "zh" else list(words[:6000]) + function
    )
    return Language(
        code=code,
        units=units,
        cdf=_zipf_cdf(len(units)),
        topics=topics,
        topic_cdf=_zipf_cdf(TOPIC_WORDS, 10.0),
        boilerplate=boilerplate,
        shop=shop,
        substitutes=substitutes,
    )


# --- edits ----------------------------------------------------------------------------------

_ZH_MARKS = "，。！；、："
_ZH_MARK_SWAPS = "，。！；、 "
_EN_MARK_SWAPS = (",", ";", " -", "!", ".", "")
_EN_TOKEN = re.compile(r"[A-Za-z0-9']+|[^A-Za-z0-9'\s]+|\s+")


@cache
def _to_traditional() -> Any:
    import opencc

    return opencc.OpenCC("s2t")


def edit(lang: Language, text: str, rng: np.random.Generator, substitution: float) -> str:
    """`text` lightly edited: characters (zh) or words (en) replaced at the rate
    `substitution`, 30 % of the punctuation changed, an English word's case now and then."""
    subs = lang.substitutes
    if lang.code == "zh":
        chars = list(text)
        draws = rng.random(len(chars))
        picks = rng.integers(len(subs), size=len(chars))
        marks = rng.integers(len(_ZH_MARK_SWAPS), size=len(chars))
        for i, char in enumerate(chars):
            if "\u4e00" <= char <= "\u9fff":
                if draws[i] < substitution:
                    chars[i] = subs[picks[i]]
            elif char in _ZH_MARKS and draws[i] < 0.3:
                chars[i] = _ZH_MARK_SWAPS[marks[i]]
        return "".join(chars)
    tokens = _EN_TOKEN.findall(text)
    draws = rng.random(len(tokens))
    picks = rng.integers(len(subs), size=len(tokens))
    for i, token in enumerate(tokens):
        if token[0].isalnum():
            if draws[i] < substitution:
                tokens[i] = subs[picks[i]]
            elif draws[i] > 0.97:
                tokens[i] = token.upper() if draws[i] > 0.985 else token.capitalize()
        elif not token.isspace() and draws[i] < 0.3:
            tokens[i] = _EN_MARK_SWAPS[int(picks[i]) % len(_EN_MARK_SWAPS)]
    return "".join(tokens)


def insert_shop_text(lang: Language, passage: str, rng: np.random.Generator) -> tuple[str, str]:
    """The passage with shop text before, after or in the middle (up to 40 % of its length),
    and where it went."""
    shop = lang.shop_text(rng, max(8, int(len(passage) * rng.uniform(0.1, 0.4))))
    where = ("before", "after", "middle")[int(rng.choice(3, p=[0.4, 0.4, 0.2]))]
    sep = "" if lang.code == "zh" else " "
    if where == "before":
        return shop + sep + passage, where
    if where == "after":
        return passage + sep + shop, where
    marks = [m.end() for m in re.finditer(r"[，。！；,.!;]\s?", passage)]
    cut = min(marks, key=lambda m: abs(m - len(passage) // 2)) if marks else len(passage) // 2
    return passage[:cut] + sep + shop + sep + passage[cut:], where


def passage_of(lang: Language, work: str, length: int, rng: np.random.Generator) -> str:
    """A copied passage of about `length` characters, starting at a sentence of the work."""
    length = min(length, len(work))
    ends = r"[。！；\n]" if lang.code == "zh" else r"[.!]\s|\n"
    starts = [0] + [m.end() for m in re.finditer(ends, work)]
    fitting = [s for s in starts if s + length <= len(work)] or [0]
    start = fitting[int(rng.integers(len(fitting)))]
    passage = work[start : start + length]
    if lang.code == "en" and start + length < len(work):
        passage = passage.rsplit(" ", 1)[0] if " " in passage else passage
    return passage.strip()


def log_uniform(rng: np.random.Generator, low: float, high: float) -> int:
    return round(float(np.exp(rng.uniform(np.log(low), np.log(high)))))


# --- the containment corpus -----------------------------------------------------------------


@dataclass(frozen=True)
class Description:
    """A listing description and what it truly is."""

    text: str
    lang: str
    kind: str  # "copy", "related", "unrelated" or "boilerplate"
    work: int = -1  # the work it copies, for a copy
    passage_chars: int = 0  # the copied passage's length, as it stands in the description
    edit: str = ""  # "verbatim", "light" or "traditional", for a copy
    inserted: str = ""  # where shop text went ("", "before", "after", "middle")
    about: int = -1  # the work whose product it describes in its own words, for "related"


def topic_of(work: int) -> int:
    return work * 7 % TOPICS


def works(count: int, seed: int, *, low: int = 500, high: int = 20_000) -> list[tuple[str, str]]:
    """`count` works, half Chinese and half English: (language, text)."""
    rng = np.random.default_rng([seed, 100])
    out: list[tuple[str, str]] = []
    for number in range(count):
        lang = language("zh" if number % 2 == 0 else "en")
        text = lang.text(rng, topic_of(number), log_uniform(rng, low, high), lines=True)
        if rng.random() < 0.2:  # official descriptions carry shop terms too
            bp = lang.boilerplate_text(rng, int(rng.integers(1, 4)))
            text = bp + "\n" + text if rng.random() < 0.5 else text + "\n" + bp
        out.append((lang.code, text))
    return out


def copy_of(
    lang: Language, work: str, rng: np.random.Generator, *, low: int = 50, high: int = 800
) -> tuple[str, int, str, str]:
    """A description copying a passage of `work`: (text, passage chars, edit, inserted)."""
    passage = passage_of(lang, work, log_uniform(rng, low, high), rng)
    draw = rng.random()
    if draw < 0.2:
        kind = "verbatim"
        passage = edit(lang, passage, rng, 0.0)  # punctuation only
    elif draw < 0.9 or lang.code == "en":
        kind = "light"
        top = 0.04 if lang.code == "zh" else 0.05
        passage = edit(lang, passage, rng, float(rng.uniform(0.005, top)))
    else:
        kind = "traditional"
        passage = _to_traditional().convert(edit(lang, passage, rng, 0.0))
    chars = len(passage)
    inserted = ""
    if rng.random() < 0.5:
        passage, inserted = insert_shop_text(lang, passage, rng)
    return passage, chars, kind, inserted


def unrelated(lang: Language, rng: np.random.Generator, *, low: int = 50, high: int = 800) -> str:
    """A description of the seller's own: text on a topic, with shop terms around it."""
    text = lang.text(rng, int(rng.integers(TOPICS)), log_uniform(rng, low, high), lines=False)
    if rng.random() < 0.7:
        bp = lang.boilerplate_text(rng, int(rng.integers(1, 4)))
        sep = "" if lang.code == "zh" else " "
        text = bp + sep + text if rng.random() < 0.5 else text + sep + bp
    return text


def related(lang: Language, work: str, topic: int, rng: np.random.Generator) -> str:
    """A seller's own description of the product a work is about: its own clauses on the
    work's topic, 40 % of them terms taken from the work (a product name, a spec: 3–10 Han
    characters or 1–4 words) — sharing words with the work, copying no passage."""
    target = log_uniform(rng, 50, 800)
    zh = lang.code == "zh"
    clauses: list[str] = []
    while sum(map(len, clauses)) < target:
        if rng.random() < 0.4:
            clauses.append(_term(work, zh, rng))
        else:
            units = lang.draw_units(rng, topic, int(rng.integers(2, 6)))
            clauses.append(lang.joiner.join(units))
    return ("，".join(clauses) + "。") if zh else (", ".join(clauses) + ".")


def _term(work: str, zh: bool, rng: np.random.Generator) -> str:
    for _ in range(20):
        if zh:
            size = int(rng.integers(3, 11))
            start = int(rng.integers(max(1, len(work) - size)))
            term = work[start : start + size]
            if _is_han(term):
                return term
        else:
            words = work[int(rng.integers(len(work))) :].split()[1:5]
            size = int(rng.integers(1, 5))
            if len(words) >= size and all(w.isalnum() for w in words[:size]):
                return " ".join(words[:size])
    return work[:4]


def descriptions(
    texts: list[tuple[str, str]], count: int, seed: int, *, copies: float = 0.1
) -> list[Description]:
    """`count` descriptions: a share `copies` of them copy passages of `texts` (each copy picks
    a work at random); of the rest, 10 % are shop boilerplate only, 20 % the sellers' own
    descriptions of a work's product (`related`), 70 % unrelated texts on shared topics."""
    rng = np.random.default_rng([seed, 200])
    out: list[Description] = []
    for _ in range(count):
        draw = rng.random()
        if draw < copies:
            work = int(rng.integers(len(texts)))
            lang = language(texts[work][0])
            text, chars, kind, inserted = copy_of(lang, texts[work][1], rng)
            out.append(Description(text, lang.code, "copy", work, chars, kind, inserted))
            continue
        share = (draw - copies) / (1 - copies)
        if share < 0.3:
            about = int(rng.integers(len(texts)))
            lang = language(texts[about][0])
            if share < 0.1:
                text = lang.boilerplate_text(rng, int(rng.integers(2, 6)))
                out.append(Description(text, lang.code, "boilerplate"))
            else:
                text = related(lang, texts[about][1], topic_of(about), rng)
                out.append(Description(text, lang.code, "related", about=about))
            continue
        lang = language("zh" if rng.random() < 0.5 else "en")
        out.append(Description(unrelated(lang, rng), lang.code, "unrelated"))
    return out


# --- the clustering corpus ------------------------------------------------------------------


def ring_member(lang: Language, template: str, rng: np.random.Generator, rate: float) -> str:
    """One ring member's version of the template: a few characters or words changed, a shop
    phrase added or a promotion put in front now and then."""
    text = edit(lang, template, rng, rate)
    sep = "" if lang.code == "zh" else " "
    if rng.random() < 0.4:
        text = text + sep + lang.boilerplate_text(rng, 1)
    if rng.random() < 0.3:
        text = lang.shop[int(rng.integers(len(lang.shop)))] + sep + text
    return text


def listing_texts(count: int, seed: int, *, ring_share: float = 0.04) -> tuple[list[str], Any]:
    """`count` listing texts (70 % Chinese) and each one's ring (-1 for none): rings of 5–40
    near-identical texts from one template of 150–600 characters make up `ring_share` of them;
    the rest are distinct texts of 60–600 characters on shared topics, half with shop terms."""
    rng = np.random.default_rng([seed, 300])
    ring_texts: list[str] = []
    ring_ids: list[int] = []
    ring = 0
    while len(ring_texts) < int(count * ring_share):
        lang = language("zh" if rng.random() < 0.7 else "en")
        template = unrelated(lang, rng, low=150, high=600)
        rate = float(rng.uniform(0.0, 0.03))
        size = min(int(rng.integers(5, 41)), int(count * ring_share) - len(ring_texts))
        ring_texts += [ring_member(lang, template, rng, rate) for _ in range(max(size, 1))]
        ring_ids += [ring] * max(size, 1)
        ring += 1
    positions = np.sort(rng.choice(count, len(ring_texts), replace=False))
    truth = np.full(count, -1, dtype=np.int64)
    truth[positions] = ring_ids
    texts: list[str] = []
    next_ring = 0
    for index in range(count):
        if next_ring < positions.size and positions[next_ring] == index:
            texts.append(ring_texts[next_ring])
            next_ring += 1
            continue
        lang = language("zh" if rng.random() < 0.7 else "en")
        texts.append(unrelated(lang, rng, low=60, high=600))
    return texts, truth
