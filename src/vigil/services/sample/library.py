"""Listings that copy registered works, rings that paste one description, shop boilerplate.

The library reworks a chunk of listings once they are made, with a generator of its own, so the
listings it leaves alone keep the words, prices and sellers of a sample without works. Of the
listings it takes:

- counterfeits paste the official description of their brand's product (label unchanged);
- official shops of the brand use that description as it is (genuine, `authorized` in the truth);
- some unrelated listings become infringements: sellers of a manual as an e-book, of a reprinted
  article, or goods whose description copies an article (label `infringement`);
- groups of counterfeit (now and then accessory) listings by three sellers or more paste one
  ring's description, with a number, the shop's name and a word or two of their own;
- some genuine and unrelated listings say nothing but shipping, returns and size-chart lines,
  some of which the works hold too.

Each such listing gets a `text_truth.jsonl` row.
"""

from __future__ import annotations

import random
import re
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

import orjson

from vigil.services.sample.catalog import Catalog, load_data
from vigil.services.sample.records import Record
from vigil.services.sample.texts import Weighted
from vigil.services.sample.works import (
    JOINER,
    Sentence,
    Work,
    build_works,
    light_edit,
    passage_length,
    passage_text,
    pick_passage,
    reorder,
    to_traditional,
    work_file_pattern,
)

# Shares of the listings of a label the library takes.
COUNTERFEIT_COPY = 0.7  # of counterfeits whose brand has an official description of their kind
AUTHORIZED_COPY = 0.8  # of official shops' listings of the product a description is about
INFRINGEMENT = 0.08  # of unrelated listings, when there are works in their language
# Of genuine and unrelated listings, by language, and of genuine clothes (size charts): often
# enough that a scan sees each line of boilerplate many times, as marketplaces do.
BOILERPLATE_ONLY = {"zh": 0.025, "en": 0.05}
APPAREL_BOILERPLATE = 0.2
RING_SHARE = 0.02  # of all listings, in rings
RING_LENGTH = (150, 600)  # characters of a ring's description
ACCESSORY_RINGS = 0.15  # share of rings made of accessory listings
EDITS = {
    "zh": {"verbatim": 25, "light": 25, "reordered": 15, "inserted": 15, "traditional": 20},
    "en": {"verbatim": 30, "light": 30, "reordered": 15, "inserted": 25},
}
_UNIT = 2.0**-53  # a 53-bit whole number times this is a float in [0, 1)
_SLOT = re.compile(r"\{([^{}]+)\}")
_HAN = re.compile(r"[\u4e00-\u9fff]")


@dataclass(frozen=True)
class Shelf:
    """Everything the library draws from, built once per sample and shared with workers."""

    works: list[Work]
    descriptions: dict[tuple[str, str], list[Work]]  # (brand, lang) -> official descriptions
    copied: dict[str, list[Work]]  # lang -> manuals and articles infringers copy
    boilerplate: dict[str, list[str]]
    size_charts: dict[str, list[str]]
    rings: dict[str, Any]  # works.yaml's rings
    copies: dict[str, Any]  # works.yaml's copies
    categories: dict[tuple[str, str], str]  # (brand, model) -> category
    authorized: dict[str, frozenset[tuple[str, str]]]  # brand -> (platform, seller id)
    names_zh: dict[str, str]  # brand -> its Chinese name
    names: dict[str, tuple[str, ...]]  # brand -> every name it is registered under, lower case
    chinese: frozenset[str]  # the Chinese marketplaces
    file_pattern: re.Pattern[str]

    @classmethod
    def build(cls, catalog: Catalog) -> Shelf:
        data = load_data("works.yaml")
        works = build_works(catalog, data)
        descriptions: dict[tuple[str, str], list[Work]] = defaultdict(list)
        copied: dict[str, list[Work]] = defaultdict(list)
        for work in works:
            if work.kind == "description":
                descriptions[work.brand, work.lang].append(work)
            else:
                copied[work.lang].append(work)
        copies = data["copies"]
        for key in ("swaps_zh", "swaps_en", "punctuation_zh", "punctuation_en"):
            copies[key] = [(str(old), str(new)) for old, new in copies[key]]
        return cls(
            works=works,
            descriptions=dict(descriptions),
            copied=dict(copied),
            boilerplate={k: [str(v) for v in d.values()] for k, d in data["boilerplate"].items()},
            size_charts={k: [str(v) for v in lines] for k, lines in data["size_charts"].items()},
            rings=data["rings"],
            copies=copies,
            categories={
                (brand.name, product.model): product.category
                for brand in catalog.brands
                for product in brand.products
            },
            authorized={
                brand.name: frozenset(catalog.authorized_sellers(brand)) for brand in catalog.brands
            },
            names_zh={brand.name: brand.zh for brand in catalog.brands if brand.zh},
            names={b.name: tuple(n.lower() for n in b.names) for b in catalog.brands},
            chinese=frozenset(
                str(name)
                for name, platform in load_data("texts.yaml")["platforms"].items()
                if float(platform["zh"]) > 0.5
            ),
            file_pattern=work_file_pattern(data),
        )

    def registry_entries(self) -> list[dict[str, Any]]:
        return [work.registry_entry() for work in self.works]


class Library:
    """Reworks one process's chunks of listings and writes their text truth rows."""

    def __init__(self, shelf: Shelf, seed: int) -> None:
        self.shelf = shelf
        self.seed = seed
        self.rng = random.Random()  # the chunk's: one number a listing, then its rings
        self.local = random.Random()  # a reworked listing's, seeded from its number
        self.chunk = 0
        self.edits = {lang: Weighted(weights) for lang, weights in EDITS.items()}

    def restart(self, chunk: int) -> None:
        """Start chunk `chunk`: what the library does depends on the seed and the chunk alone."""
        self.rng.seed(f"vigil-sample-texts:{self.seed}:{chunk}")
        self.chunk = chunk

    def rework(self, made: list[tuple[Record, Record]]) -> bytes:
        """Rework the chunk's listings in place; their text_truth.jsonl rows, in listing order."""
        rows: dict[int, Record] = {}
        joiners: dict[tuple[str, str], list[int]] = defaultdict(list)  # ring candidates
        draw = self.rng.getrandbits
        for index, (record, truth) in enumerate(made):
            # One number per listing, whatever is done with it, so that what happens to one
            # listing changes nothing for the next (with images or without).
            number = draw(64)
            lang = self._lang(record, truth)
            taken, row = self._rework(record, truth, lang, number)
            if row is not None:
                rows[index] = row
            if taken:
                continue
            group = self._ring_group(truth)
            if group is not None:
                joiners[lang, group].append(index)
        rows.update(self._rings(made, joiners))
        dumps, newline = orjson.dumps, orjson.OPT_APPEND_NEWLINE
        return b"".join(dumps(rows[index], option=newline) for index in sorted(rows))

    # -- one listing -----------------------------------------------------------------------

    def _lang(self, record: Record, truth: Record) -> str:
        """The language the listing's new words are in.

        A counterfeit's is its marketplace's, not that of its words: with images, the words of
        one that hides its brand change, and nothing the library decides may change with them.
        """
        if truth["label"] == "counterfeit":
            return "zh" if record["platform"] in self.shelf.chinese else "en"
        words = f"{record['title']}{record.get('description') or ''}"
        return "zh" if _HAN.search(words) else "en"

    def _rework(
        self, record: Record, truth: Record, lang: str, number: int
    ) -> tuple[bool, Record | None]:
        """Whether the listing is taken (for a copy, official text or boilerplate), and its row.

        A counterfeit whose words hide its brand is taken as in a sample without images, but
        left as it is: a copy would name the brand.
        """
        roll = (number >> 11) * _UNIT
        self.local.seed(number)
        label, brand = truth["label"], truth["brand"]
        row = None
        if label == "counterfeit":
            category = self.shelf.categories.get((brand, truth.get("product", "")))
            works = [
                w for w in self.shelf.descriptions.get((brand, lang), ()) if w.category == category
            ]
            # One whose own words carry its counterfeit wording keeps them beside the copy.
            keep = "wording" in truth.get("tricks", ())
            if works and roll < COUNTERFEIT_COPY * (0.5 if keep else 1.0):
                if "hidden_brand" in truth.get("tricks", ()):
                    return True, None
                work = works[int(self.local.random() * len(works))]
                row = self._copy(record, work, lang, keep=keep, shop=record.get("description"))
        elif label == "genuine":
            seller = (record["platform"], record["seller"]["id"])
            works = [
                w
                for w in self.shelf.descriptions.get((brand, lang), ())
                if w.model == truth.get("product")
            ]
            if works and seller in self.shelf.authorized.get(brand, ()):
                if roll < AUTHORIZED_COPY:
                    row = self._official(record, works[0])
            else:
                apparel = self.shelf.categories.get((brand, truth.get("product", ""))) == "apparel"
                if roll < (APPAREL_BOILERPLATE if apparel else BOILERPLATE_ONLY[lang]):
                    row = self._boilerplate(record, lang, apparel=apparel)
        elif label == "unrelated":
            if roll < INFRINGEMENT and self.shelf.copied.get(lang):
                row = self._infringe(record, truth, lang)
            elif 1 - roll < BOILERPLATE_ONLY[lang]:
                row = self._boilerplate(record, lang, apparel=False)
        return row is not None, row

    def _copy(
        self, record: Record, work: Work, lang: str, *, keep: bool, shop: str | None
    ) -> Record:
        """Paste a passage of `work` into the listing, edited.

        An inserted passage has `shop` (else a line of shop text) around it; `keep` asks for that
        edit, so that the listing's own words stay.
        """
        rng = self.local
        passage = pick_passage(work, rng, passage_length(rng))
        edit = "inserted" if keep else self.edits[lang](rng.random)
        text = None
        if edit == "light":
            copies = self.shelf.copies
            text = light_edit(
                passage_text(passage, lang),
                lang,
                copies[f"swaps_{lang}"],
                copies[f"punctuation_{lang}"],
                rng,
            )
        elif edit == "reordered":
            text = reorder(passage, lang, rng)
        elif edit == "traditional":
            text = to_traditional(passage_text(passage, lang))
            if text == passage_text(passage, lang):
                text = None
        if text is None and edit != "inserted":
            edit, text = "verbatim", passage_text(passage, lang)
        if edit == "inserted":
            text = self._insert(shop, passage, lang)
            copied = len(passage_text(passage, lang))
        else:
            assert text is not None
            copied = len(text)
        record["description"] = text
        return _row(record, work, copied, edit, lang)

    def _insert(self, own: str | None, passage: list[Sentence], lang: str) -> str:
        """The passage with the shop's words before it, after it or in the middle."""
        rng = self.local
        shop = own or _pick(self.shelf.copies[f"shop_{lang}"], rng)
        where = rng.random()
        if where < 1 / 3:
            return f"{shop}\n{passage_text(passage, lang)}"
        if where < 2 / 3 or len(passage) < 2:
            return f"{passage_text(passage, lang)}\n{shop}"
        cut = rng.randrange(1, len(passage))
        return f"{passage_text(passage[:cut], lang)}\n{shop}\n{passage_text(passage[cut:], lang)}"

    def _official(self, record: Record, work: Work) -> Record:
        """An official shop's listing: the official description as it is, or most of it."""
        first = work.runs[0][0]
        passage = pick_passage(work, self.local, self.local.randrange(300, 2000), start=first)
        text = passage_text(passage, work.lang)
        record["description"] = text
        return {**_row(record, work, len(text), "verbatim", work.lang), "authorized": True}

    def _infringe(self, record: Record, truth: Record, lang: str) -> Record:
        """An unrelated listing made into one that sells or reprints a work."""
        rng, copies = self.local, self.shelf.copies
        works = self.shelf.copied[lang]
        work = works[int(rng.random() * len(works))]
        # Sellers of goods that paste an article keep their goods; the others sell the text.
        sells_text = work.kind == "manual" or rng.random() < 0.5
        own = None if sells_text or rng.random() < 0.5 else record.get("description")
        row = self._copy(record, work, lang, keep=bool(own), shop=own)
        if sells_text:
            title = _pick(copies["titles"][f"{work.kind}_{lang}"], rng)
            brand = self.shelf.names_zh.get(work.brand, work.brand) if lang == "zh" else work.brand
            record["title"] = (
                title.replace("{brand}", brand)
                .replace("{model}", work.model)
                .replace("{title}", work.title)
            )
            record["price"] = _pick(copies[f"prices_{lang}"], rng)
            record["category"] = _pick(copies[f"categories_{lang}"], rng)
        truth["label"] = "infringement"
        truth["brand"] = work.brand
        if work.kind == "manual":
            truth["product"] = work.model
        return row

    def _boilerplate(self, record: Record, lang: str, *, apparel: bool) -> Record:
        """A description of nothing but shop boilerplate."""
        rng = self.local
        lines = self.shelf.boilerplate[lang]
        if apparel and rng.random() < 0.8:
            chosen = self.shelf.size_charts[lang] + rng.sample(lines, rng.randint(0, 2))
        else:
            chosen = rng.sample(lines, rng.randint(1, 4))
        record["description"] = "\n".join(chosen)
        return _text_row(record, lang, boilerplate_only=True)

    # -- rings -----------------------------------------------------------------------------

    def _ring_group(self, truth: Record) -> str | None:
        """The goods group of a listing that may join a ring, or None."""
        label = truth["label"]
        if label == "accessory":
            return "accessory"
        # The truth says a counterfeit's own words carry its counterfeit wording.
        if label != "counterfeit" or "wording" in truth.get("tricks", ()):
            return None
        category = self.shelf.categories.get((truth["brand"], truth.get("product", "")))
        group = self.shelf.rings["groups"].get(category)
        return None if group is None else str(group)

    def _rings(
        self, made: list[tuple[Record, Record]], joiners: dict[tuple[str, str], list[int]]
    ) -> dict[int, Record]:
        """This chunk's rings: groups of listings by 3 sellers or more pasting one text.

        Rings are drawn as in a sample without images; a counterfeit whose words hide its brand
        pastes the ring's text without the lines that would name it.
        """
        rng = self.rng
        expected = len(made) * RING_SHARE / 16
        count = int(expected) + (rng.random() < expected % 1)
        rows: dict[int, Record] = {}
        pools = {key: sorted(indices) for key, indices in joiners.items()}
        for number in range(count):
            accessory = rng.random() < ACCESSORY_RINGS
            keys = sorted(
                key
                for key, pool in pools.items()
                if len(pool) >= 5 and (key[1] == "accessory") == accessory
            )
            if not keys:
                continue
            weights = [len(pools[key]) for key in keys]
            lang, group = rng.choices(keys, weights)[0]
            pool = pools[lang, group]
            size = min(5 + int(35 * rng.random() ** 2), len(pool))
            members = sorted(rng.sample(pool, size))
            sellers = {made[i][0]["seller"]["id"] for i in members}
            taken = set(members)
            pools[lang, group] = [i for i in pool if i not in taken]
            if len(sellers) < 3:
                continue
            template = self._template(lang, group)
            ring = f"ring-{self.chunk}-{number}"
            for index in members:
                record, truth = made[index]
                record["description"] = self._fill(template, record, truth, lang)
                rows[index] = {**_text_row(record, lang), "ring": ring}
        return rows

    def _template(self, lang: str, group: str) -> list[str]:
        """A ring's lines: an opening, one or two about its goods, then shop lines.

        Three to seven shop lines, as many as bring the text within `RING_LENGTH`.
        """
        rng, words = self.rng, self.shelf.rings[lang]
        goods = words["accessory"] if group == "accessory" else words["goods"][group]
        lines = rng.sample(goods, min(len(goods), rng.randint(1, 2)))
        common = rng.sample(words["common"], 7)
        count = rng.randint(3, 5)
        low, high = RING_LENGTH
        opening = _pick(words["opening"], rng)

        def length(count: int) -> int:
            return len(JOINER[lang].join([opening, *lines, *common[:count]]))

        while count < len(common) and length(count) < low + 70:
            count += 1
        while count > 3 and length(count) > high - 40:
            count -= 1
        lines += common[:count]
        rng.shuffle(lines)
        return self._settle([opening, *lines])

    def _settle(self, template: list[str]) -> list[str]:
        """Fill every slot of a ring's lines once for the ring, but the shop, the brand and one
        other: what each listing of the ring says differently."""
        rng = self.rng
        slots = [
            (line, match.start())
            for line, text in enumerate(template)
            for match in _SLOT.finditer(text)
            if match.group(1) not in ("shop", "brand")
        ]
        varying = slots[rng.randrange(len(slots))] if slots else None
        settled = []
        for line, text in enumerate(template):

            def fill(match: re.Match[str], line: int = line) -> str:
                if match.group(1) in ("shop", "brand") or (line, match.start()) == varying:
                    return match.group(0)
                return self._slot(match.group(1), rng)

            settled.append(_SLOT.sub(fill, text))
        return settled

    def _fill(self, template: list[str], record: Record, truth: Record, lang: str) -> str:
        """One listing's text of a ring; without a word of its brand when it hides the brand."""
        rng = self.rng
        brand = str(truth["brand"])
        hidden = "hidden_brand" in truth.get("tricks", ())
        name = "" if hidden else self.shelf.names_zh.get(brand, brand) if lang == "zh" else brand

        def slot(match: re.Match[str]) -> str:
            key = match.group(1)
            if key == "shop":
                return str(record["seller"]["name"])
            return name if key == "brand" else self._slot(key, rng)

        lines = [_SLOT.sub(slot, line) for line in template]  # the same draws either way
        if hidden:
            names = self.shelf.names.get(brand, ())
            lines = [line for line in lines if not any(n in line.lower() for n in names)]
        return JOINER[lang].join(lines)

    @staticmethod
    def _slot(key: str, rng: random.Random) -> str:
        """A number (`n:LOW-HIGH`) or one of the words (`a|b|c`)."""
        if key.startswith("n:"):
            low, high = key[2:].split("-")
            return str(rng.randint(int(low), int(high)))
        return str(_pick(key.split("|"), rng))


def _row(record: Record, work: Work, copied: int, edit: str, lang: str) -> Record:
    return {**_text_row(record, lang), "work": work.ref, "copied_chars": copied, "edit": edit}


def _text_row(record: Record, lang: str, *, boilerplate_only: bool = False) -> Record:
    return {
        "platform": record["platform"],
        "listing_id": record["listing_id"],
        "work": None,
        "copied_chars": 0,
        "edit": None,
        "lang": lang,
        "ring": None,
        "boilerplate_only": boilerplate_only,
        "authorized": False,
    }


def _pick(items: list[Any], rng: random.Random) -> Any:
    return items[int(rng.random() * len(items))]
