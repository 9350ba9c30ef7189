"""The sample's registered works, and the passages listings copy from them.

`works.yaml` holds the texts (official product descriptions, user manuals, articles), written
for this sample with `{brand}` and `{model}` left open; `build_works` fills each in for a brand
of the catalogue and renders it as the file the registry points at (plain text, Markdown or
HTML). A work is also kept as a list of sentences, which is what listings copy: a passage is a
run of consecutive sentences, never a line of shop boilerplate, so that a copy is a copy of the
work's own words. The edits copiers make (words swapped, sentences shuffled, traditional
characters) are here too.
"""

from __future__ import annotations

import html
import random
import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from vigil.services.sample.catalog import BrandSpec, Catalog, ProductSpec

_EXTENSIONS = {"txt": "txt", "md": "md", "html": "html"}
_SENTENCE = {"zh": re.compile(r"(?<=[。！？；])"), "en": re.compile(r"(?<=[.!?])\s+")}
JOINER = {"zh": "", "en": " "}  # between the sentences of one paragraph
_STOPS = frozenset("。！？；.!?;:：")
PASSAGE_LIMITS = (60, 800)
SHORT_SHARE = 0.15  # passages shorter than 200 characters


@dataclass(frozen=True, slots=True)
class Sentence:
    text: str
    block: int  # the paragraph or list item it belongs to
    boilerplate: bool  # a shop's shipping, returns or size-chart line, not the work's own words


@dataclass(frozen=True, slots=True)
class Work:
    """A registered text work, filled in for one brand and product of the catalogue."""

    key: str  # the id of its text in works.yaml
    kind: str  # description, manual or article
    lang: str
    category: str
    owner: str
    brand: str
    model: str
    title: str
    file: str  # relative to the registry: works/<name>
    content: str  # the file's text
    sentences: tuple[Sentence, ...]
    runs: tuple[tuple[int, int], ...]  # [start, end) spans of copyable sentences

    @property
    def ref(self) -> str:
        """`owner/title`, as text_truth.jsonl names the work (its asset is `work:` + this)."""
        return f"{self.owner}/{self.title}"

    @property
    def plain(self) -> str:
        """The work's words, one paragraph or list item a line, without markup or headings."""
        lines: dict[int, list[str]] = {}
        for sentence in self.sentences:
            lines.setdefault(sentence.block, []).append(sentence.text)
        return "\n".join(JOINER[self.lang].join(parts) for parts in lines.values())

    def registry_entry(self) -> dict[str, Any]:
        return {"owner": self.owner, "title": self.title, "kind": "text", "files": [self.file]}


def build_works(catalog: Catalog, data: dict[str, Any]) -> list[Work]:
    """The works of `data["works"]` whose category some brand of the catalogue sells."""
    boilerplate = {lang: dict(lines) for lang, lines in data["boilerplate"].items()}
    charts = {lang: [str(line) for line in lines] for lang, lines in data["size_charts"].items()}
    works = []
    for spec in data["works"]:
        chosen = _owner(catalog, str(spec["category"]), [str(p) for p in spec.get("prefer", ())])
        if chosen is not None:
            works.append(_work(spec, *chosen, boilerplate, charts))
    return works


def work_file_pattern(data: dict[str, Any]) -> re.Pattern[str]:
    """The names of the files `build_works` can write, whichever brands own them."""
    keys = "|".join(re.escape(str(spec["id"])) for spec in data["works"])
    return re.compile(rf"[a-z0-9._-]+-(?:{keys})\.(?:txt|md|html)")


def write_works(works: Sequence[Work], folder: Path) -> int:
    """Write each work's file under `folder` (the sample's works/ folder, staged)."""
    folder.mkdir(parents=True, exist_ok=True)
    for work in works:
        (folder / Path(work.file).name).write_text(work.content, encoding="utf-8")
    return len(works)


def _owner(
    catalog: Catalog, category: str, prefer: list[str]
) -> tuple[BrandSpec, ProductSpec] | None:
    """The preferred brand selling `category` that the catalogue has, and its first such product."""
    sellers = {
        brand.name: product
        for brand in catalog.brands
        for product in brand.products[::-1]  # so that the first product of the category stays
        if product.category == category
    }
    if not sellers:
        return None
    name = next((n for n in prefer if n in sellers), None)
    brand = next(b for b in catalog.brands if b.name == (name or b.name) and b.name in sellers)
    return brand, sellers[brand.name]


def _work(
    spec: dict[str, Any],
    brand: BrandSpec,
    product: ProductSpec,
    boilerplate: dict[str, dict[str, str]],
    charts: dict[str, list[str]],
) -> Work:
    lang = str(spec["lang"])
    name = brand.zh if lang == "zh" and brand.zh else brand.name

    def fill(text: Any) -> str:
        return str(text).replace("{brand}", name).replace("{model}", product.model)

    title = fill(spec["title"])
    # (heading, [(kind, text, boilerplate)]) per section; kind is "p" or "li".
    sections: list[tuple[str, list[tuple[str, str, bool]]]] = []
    for section in spec["sections"]:
        blocks: list[tuple[str, str, bool]] = []
        for block in section["blocks"]:
            if isinstance(block, str):
                blocks.append(("p", fill(block), False))
            elif "list" in block:
                blocks += [("li", fill(item), False) for item in block["list"]]
            elif "boilerplate" in block:
                blocks += [("p", boilerplate[lang][key], True) for key in block["boilerplate"]]
            else:
                blocks += [("li", line, True) for line in charts[block["size_chart"]]]
        sections.append((fill(section["heading"]), blocks))
    sentences = []
    for number, (_, text, shared) in enumerate(b for _, blocks in sections for b in blocks):
        for part in _SENTENCE[lang].split(text):
            if part.strip():
                sentences.append(Sentence(part.strip(), number, shared))
    form = _EXTENSIONS[str(spec["format"])]
    render = {"txt": _as_text, "md": _as_markdown, "html": _as_html}[form]
    return Work(
        key=str(spec["id"]),
        kind=str(spec["kind"]),
        lang=lang,
        category=str(spec["category"]),
        owner=brand.owner,
        brand=brand.name,
        model=product.model,
        title=title,
        file=f"works/{brand.owner}-{spec['id']}.{form}",
        content=render(title, sections, lang),
        sentences=tuple(sentences),
        runs=_runs(sentences, lang),
    )


def _runs(sentences: list[Sentence], lang: str) -> tuple[tuple[int, int], ...]:
    """Spans of the work's own words between lines of boilerplate, long enough to copy."""
    runs, start = [], None
    for index, sentence in enumerate([*sentences, Sentence("", -1, True)]):
        if not sentence.boilerplate and start is None:
            start = index
        elif sentence.boilerplate and start is not None:
            if len(passage_text(sentences[start:index], lang)) >= PASSAGE_LIMITS[0]:
                runs.append((start, index))
            start = None
    return tuple(runs)


Sections = list[tuple[str, list[tuple[str, str, bool]]]]


def _as_text(title: str, sections: Sections, lang: str) -> str:
    lines = [title, ""]
    for heading, blocks in sections:
        lines.append(heading)
        lines += [f"- {text}" if kind == "li" else text for kind, text, _ in blocks]
        lines.append("")
    return "\n".join(lines)


def _as_markdown(title: str, sections: Sections, lang: str) -> str:
    lines = [f"# {title}", ""]
    for heading, blocks in sections:
        lines += [f"## {heading}", ""]
        previous = ""
        for kind, text, _ in blocks:
            if kind == "p" or previous == "p":
                lines.append("")
            lines.append(f"- {text}" if kind == "li" else text)
            previous = kind
        lines.append("")
    return "\n".join(line for i, line in enumerate(lines) if line or lines[i - 1]) + "\n"


def _as_html(title: str, sections: Sections, lang: str) -> str:
    esc = html.escape
    parts = [
        "<!DOCTYPE html>",
        f'<html lang="{"zh-CN" if lang == "zh" else "en"}">',
        f'<head><meta charset="utf-8"><title>{esc(title)}</title></head>',
        "<body>",
        f"<h1>{esc(title)}</h1>",
    ]
    for heading, blocks in sections:
        parts.append(f"<h2>{esc(heading)}</h2>")
        in_list = False
        for kind, text, _ in blocks:
            if (kind == "li") != in_list:
                parts.append("<ul>" if kind == "li" else "</ul>")
                in_list = kind == "li"
            parts.append(f"<li>{esc(text)}</li>" if kind == "li" else f"<p>{esc(text)}</p>")
        if in_list:
            parts.append("</ul>")
    parts += ["</body>", "</html>", ""]
    return "\n".join(parts)


# -- copies ------------------------------------------------------------------------------------


def passage_text(sentences: Sequence[Sentence], lang: str) -> str:
    """Sentences as a listing pastes them: a paragraph a line, as in the work."""
    lines: list[list[str]] = []
    block = None
    for sentence in sentences:
        if sentence.block != block:
            lines.append([])
            block = sentence.block
        lines[-1].append(sentence.text)
    return "\n".join(JOINER[lang].join(parts) for parts in lines)


def pick_passage(
    work: Work, rng: random.Random, length: int, *, start: int | None = None
) -> list[Sentence]:
    """About `length` characters of consecutive copyable sentences, within the passage limits.

    From a random sentence (or sentence `start`), forward and then backward while the passage
    is shorter than `length`; a passage never crosses a line of boilerplate.
    """
    if start is None:
        run = work.runs[rng.randrange(len(work.runs))]
        start = rng.randrange(*run)
    run = next(r for r in work.runs if r[0] <= start < r[1])
    sentences, joiner = work.sentences, len(JOINER[work.lang])

    def gap(before: Sentence, after: Sentence) -> int:  # a line break, or the joiner
        return 1 if before.block != after.block else joiner

    low, high = start, start + 1
    size = len(sentences[start].text)
    while size < length and (high < run[1] or low > run[0]):
        if high < run[1]:
            size += gap(sentences[high - 1], sentences[high]) + len(sentences[high].text)
            high += 1
        else:
            low -= 1
            size += gap(sentences[low], sentences[low + 1]) + len(sentences[low].text)
    while high - low > 1 and size > max(length, PASSAGE_LIMITS[1]):
        high -= 1
        size -= gap(sentences[high - 1], sentences[high]) + len(sentences[high].text)
    return list(sentences[low:high])


def passage_length(rng: random.Random) -> int:
    """How much a copier takes: mostly 200 to 800 characters, now and then less."""
    low, high = PASSAGE_LIMITS
    if rng.random() < SHORT_SHARE:
        return rng.randrange(low, 200)
    return rng.randrange(200, high + 1)


def light_edit(
    text: str,
    lang: str,
    swaps: Sequence[tuple[str, str]],
    marks: Sequence[tuple[str, str]],
    rng: random.Random,
) -> str:
    """`text` with one to three words and one to three punctuation marks changed."""
    edits: list[tuple[int, int, str]] = []
    for pairs, count in ((swaps, rng.randint(1, 3)), (marks, rng.randint(1, 3))):
        found = [
            (match.start(), match.end(), new)
            for old, new in pairs
            for match in re.finditer(_pattern(old, lang), text)
        ]
        found.sort()
        edits += rng.sample(found, min(count, len(found)))
    if not edits:  # nothing to swap: a stray mark where the text ends
        return text + ("~" if lang == "zh" else "!")
    edits.sort(reverse=True)
    edited, bound = text, len(text) + 1
    for start, end, new in edits:
        if end <= bound:
            edited = edited[:start] + new + edited[end:]
            bound = start
    return edited


@cache
def _pattern(word: str, lang: str) -> str:
    if lang == "en" and word[0].isalpha():
        return rf"\b{re.escape(word)}\b"
    return re.escape(word)


def reorder(sentences: Sequence[Sentence], lang: str, rng: random.Random) -> str | None:
    """The passage's sentences (or, in a one-sentence passage, clauses) in another order.

    A list item, which ends without a full stop, gets one, as a copier running items together
    would write it.
    """
    stop = "。" if lang == "zh" else "."
    parts = [s.text if s.text[-1] in _STOPS else s.text + stop for s in sentences]
    if len(set(parts)) < 2 and parts:
        clauses = re.split(r"(?<=，)" if lang == "zh" else r"(?<=,) ", parts[0])
        parts = [c for c in clauses if c]
    if len(set(parts)) < 2:
        return None
    shuffled = parts[:]
    while shuffled == parts:
        rng.shuffle(shuffled)
    return JOINER[lang].join(shuffled)


@cache
def _converter() -> Any:
    import opencc  # loaded on first use: reading its dictionaries takes a moment

    return opencc.OpenCC("s2t")


def to_traditional(text: str) -> str:
    """Simplified Chinese written in traditional characters (OpenCC s2t)."""
    return str(_converter().convert(text))
