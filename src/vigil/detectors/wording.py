"""Counterfeit wording: 高仿, A货, replica, super copy... in a listing's title or description.

The terms come from a weighted, bilingual lexicon shipped in `vigil/data/lexicons/` and from the
registry (`Registry.lexicon`), whose terms add to the shipped ones or re-weigh them. All terms go
into one Aho-Corasick automaton over folded text. A term preceded by a negation (非高仿, not a
replica) or followed by a dismissal (高仿勿扰) is a disclaimer and does not count. A term of
weight zero or less is a "shield" (高仿真 "lifelike", AAA battery, 假一赔十): it gives no signal
and hides the terms inside it; a member switches a shipped term off by giving it weight 0.

This module also holds the text folding and whole-term search the price and seller detectors use.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any, ClassVar

import icu
import opencc
import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from vigil.detectors.base import Detector, Findings, Matcher, Role
from vigil.detectors.search import TextAutomaton
from vigil.domain.assessment import Signal
from vigil.domain.listing import Listing
from vigil.domain.registry import Registry
from vigil.settings import ConfigError, ScanConfig, shipped_data

# --- Folding and whole-term search (shared with the price and seller detectors) -------------

_NFKC_CASEFOLD = icu.Normalizer2.getNFKCCasefoldInstance()


def fold(text: str) -> str:
    """Text as the matchers compare it: NFKC, case-folded, invisible characters (zero-width
    spaces, soft hyphens) dropped, whitespace collapsed to single spaces."""
    # ICU folds in one pass, an order of magnitude faster than unicodedata on Chinese text.
    folded: str = _NFKC_CASEFOLD.normalize(text)
    if "  " in folded or not folded.isprintable() or folded[:1] == " " or folded[-1:] == " ":
        folded = " ".join(folded.split())
    return folded


# Each character's fold, filled as characters are met (bounded by the size of Unicode).
_FOLDED_CHARS: dict[str, str] = {}


def _fold_char(char: str) -> str:
    folded: str = _NFKC_CASEFOLD.normalize(char)
    _FOLDED_CHARS[char] = folded
    return folded


def fold_with_offsets(text: str) -> tuple[str, list[int]]:
    """`fold(text)` character by character, with the index in `text` each folded character
    comes from, so that a match can be shown as the span the seller wrote. Slower than `fold`:
    call it only for text that already matched."""
    pieces = [_FOLDED_CHARS.get(char) or _fold_char(char) for char in text]
    joined = "".join(pieces)
    if (
        len(joined) == len(text)
        and max(map(len, pieces), default=1) == 1
        and "  " not in joined
        and joined.isprintable()
        and joined[:1] != " "
        and joined[-1:] != " "
    ):
        return joined, list(range(len(text)))  # the common case: one character for one
    chars: list[str] = []
    origin: list[int] = []
    space_at = -1
    for i, piece in enumerate(pieces):
        for folded in piece:
            if folded.isspace():
                if chars and space_at < 0:
                    space_at = i
                continue
            if space_at >= 0:
                chars.append(" ")
                origin.append(space_at)
                space_at = -1
            chars.append(folded)
            origin.append(i)
    return "".join(chars), origin


def is_word_char(char: str) -> bool:
    """A letter or digit of an alphabetic script: Latin terms must not touch one."""
    return char.isalnum() and char < "\u2e80"


def is_cjk(char: str) -> bool:
    return "\u3400" <= char <= "\u9fff" or "\uf900" <= char <= "\ufaff"


def has_cjk(text: str) -> bool:
    return any(is_cjk(char) for char in text)


def gapped_spellings(term: str) -> list[str]:
    """A Chinese term written with spaces between its characters (高 仿, 一 比 一), a common
    way to slip past keyword filters."""
    cuts = [i for i in range(1, len(term)) if is_cjk(term[i - 1]) and is_cjk(term[i])]
    # Past five gaps, only the fully spaced spelling: the combinations would grow too fast.
    masks = range(1, 2 ** len(cuts)) if len(cuts) <= 5 else [2 ** len(cuts) - 1]
    spellings = []
    for mask in masks:
        pieces, last = [], 0
        for bit, cut in enumerate(cuts):
            if mask >> bit & 1:
                pieces.append(term[last:cut])
                last = cut
        pieces.append(term[last:])
        spellings.append(" ".join(pieces))
    return spellings


class TermIndex:
    """Finds whole terms in folded text with one Aho-Corasick automaton.

    A term that begins (ends) with a Latin letter or digit must not be preceded (followed) by
    one, so "fake" is not found in "fakeout" nor "1:1" in "11:12". Where found terms overlap,
    the leftmost, then the longest wins, which lets a longer innocent phrase shield a term.
    Chinese terms are also found written with spaces between their characters. With `plurals`,
    a Latin term may take a plural "s"; terms marked `open_right` match as prefixes (a shield
    "fake eyelash" also covers "fake eyelashes").
    """

    def __init__(
        self,
        patterns: Sequence[str],
        *,
        plurals: bool = False,
        open_right: Sequence[bool] | None = None,
    ) -> None:
        self._patterns = list(patterns)
        self._plurals = plurals
        self._open_right = list(open_right) if open_right is not None else [False] * len(patterns)
        self._build()

    def _build(self) -> None:
        spellings: dict[str, int] = {pattern: i for i, pattern in enumerate(self._patterns)}
        for i, pattern in enumerate(self._patterns):
            for spelling in gapped_spellings(pattern):
                spellings.setdefault(spelling, i)
        self._spelling_pattern = list(spellings.values())
        self._automaton = TextAutomaton(list(spellings)) if spellings else None
        self._left = [is_word_char(p[0]) for p in self._patterns]
        self._right = [
            is_word_char(p[-1]) and not open_right
            for p, open_right in zip(self._patterns, self._open_right, strict=True)
        ]
        self._plural = [self._plurals and p[-1].isalpha() for p in self._patterns]

    # The automaton is native code and cannot be pickled; a matcher sent to a worker process
    # or a Spark executor carries the patterns and rebuilds it there.
    def __getstate__(self) -> dict[str, Any]:
        return {"patterns": self._patterns, "plurals": self._plurals, "open": self._open_right}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self._patterns = state["patterns"]
        self._plurals = state["plurals"]
        self._open_right = state["open"]
        self._build()

    def find(self, text: str) -> list[tuple[int, int, int]]:
        """(pattern index, start, end) of the terms found in folded `text`, left to right."""
        if self._automaton is None:
            return []
        raw = self._automaton.find(text, overlapping=True)
        if not raw:
            return []
        accepted: list[tuple[int, int, int]] = []
        for spelling, start, end in raw:
            index = self._spelling_pattern[spelling]
            if self._left[index] and start > 0 and is_word_char(text[start - 1]):
                continue
            if self._right[index] and end < len(text) and is_word_char(text[end]):
                plural = (
                    self._plural[index]
                    and text[end] == "s"
                    and (end + 1 == len(text) or not is_word_char(text[end + 1]))
                )
                if not plural:
                    continue
                end += 1
            accepted.append((index, start, end))
        accepted.sort(key=lambda hit: (hit[1], -hit[2]))
        chosen: list[tuple[int, int, int]] = []
        covered = 0
        for hit in accepted:
            if hit[1] >= covered:
                chosen.append(hit)
                covered = hit[2]
        return chosen


@cache
def _converter(config: str) -> Any:
    return opencc.OpenCC(config)


def chinese_variants(term: str) -> set[str]:
    """The traditional (and simplified) spellings of a folded Chinese term."""
    if not has_cjk(term):
        return set()
    return {fold(_converter(c).convert(term)) for c in ("s2t", "s2tw", "s2hk", "t2s")} - {term}


def spacing_variants(term: str) -> set[str]:
    """The hyphenated and joined spellings of a Latin phrase: super-copy, supercopy."""
    if " " not in term or has_cjk(term):
        return set()
    return {term.replace(" ", "-"), term.replace(" ", "")}


class Negation:
    """Cues around a term that turn it into a disclaimer: 非高仿, not a replica, 高仿勿扰."""

    def __init__(self, before: Iterable[str], after: Iterable[str]) -> None:
        self._before = tuple(sorted({fold(cue) for cue in before if cue.strip()}, key=len))
        self._after = tuple(sorted({fold(cue) for cue in after if cue.strip()}, key=len))
        self._reach = max((len(cue) for cue in (*self._before, *self._after)), default=0) + 2

    def __call__(self, text: str, start: int, end: int, depth: int = 0) -> bool:
        if depth < 2 and self._coordinated_with_negated(text, start, depth):
            return True
        before = text[max(0, start - self._reach) : start].rstrip(" ,，:：、-")
        for article in (" a", " an", " the"):  # "never a replica" is "never replica"
            if before.endswith(article):
                before = before[: -len(article)]
                break
        if before.endswith(self._before):
            for cue in self._before:
                # A Latin cue must be a whole word: "piano replica" is not "no replica".
                at = len(before) - len(cue)
                if before.endswith(cue) and (
                    not is_word_char(cue[0]) or at == 0 or not is_word_char(before[at - 1])
                ):
                    return True
        after = text[end : end + self._reach].lstrip(" ,，:：、-")
        if after.startswith(self._after):
            for cue in self._after:
                stop = len(cue)
                if after.startswith(cue) and (
                    not is_word_char(cue[-1]) or stop == len(after) or not is_word_char(after[stop])
                ):
                    return True
        return False

    def _coordinated_with_negated(self, text: str, start: int, depth: int) -> bool:
        """ "We do not sell replicas or fakes", 不卖高仿和A货: a term joined by or/and/和 to a
        negated one is negated too."""
        head = text[:start].rstrip()
        for joint in _JOINTS:
            latin = joint.isascii() and joint.isalpha()
            if not head.endswith(joint) or (latin and head[: -len(joint)][-1:] != " "):
                continue
            before = head[: -len(joint)].rstrip()
            end = len(before)
            if before[-1:].isascii():
                word = _LAST_WORD.search(before)
                return word is not None and self(text, word.start(), end, depth + 1)
            # Chinese has no spaces: try the last two to four characters as the term.
            return any(self(text, end - size, end, depth + 1) for size in (2, 3, 4))
        return False


# Words that join two terms under one negation, and the word before them.
_JOINTS = ("or", "and", "nor", "或", "和", "及", "与", "、", "/", ",", "，")
_LAST_WORD = re.compile(r"[A-Za-z0-9:+]+$")


# --- The wording detector ------------------------------------------------------------------


class _Settings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    lexicon: str = "lexicons/counterfeit_wording.yaml"
    max_total_weight: float = Field(default=6.0, gt=0)
    role_factors: dict[Role, float] = Field(default_factory=dict)
    chinese_variants: bool = True


class _LexiconEntry(BaseModel):
    model_config = ConfigDict(extra="forbid")

    term: str = Field(min_length=1)
    weight: float = Field(ge=-10, le=10, allow_inf_nan=False)
    lang: str | None = None
    gloss: str | None = None


class _NegationCues(BaseModel):
    model_config = ConfigDict(extra="forbid")

    before: list[str] = Field(default_factory=list)
    after: list[str] = Field(default_factory=list)


class _Lexicon(BaseModel):
    model_config = ConfigDict(extra="forbid")

    negation: _NegationCues = Field(default_factory=_NegationCues)
    terms: list[_LexiconEntry]


@dataclass(frozen=True, slots=True)
class WordingTerm:
    """One lexicon term: its folded spelling, weight (≤ 0 for a shield) and where it came from."""

    term: str
    weight: float
    lang: str | None
    gloss: str | None
    source: str  # "shipped" or "registry"


def _load_lexicon(name: str) -> _Lexicon:
    try:
        data = yaml.safe_load(shipped_data(name))
        return _Lexicon.model_validate(data)
    except (OSError, yaml.YAMLError, ValidationError) as error:
        raise ConfigError(
            f"vigil/data/{name}: the wording lexicon is unreadable: {error}"
        ) from error


class WordingMatcher(Matcher):
    detector: ClassVar[str] = "wording"

    def __init__(
        self,
        *,
        terms: list[WordingTerm],
        patterns: list[tuple[str, int]],
        negation: Negation,
        role_factors: dict[Role, float],
        max_total_weight: float,
    ) -> None:
        self._terms = terms
        self._pattern_term = [term for _, term in patterns]
        self._index = TermIndex(
            [pattern for pattern, _ in patterns],
            plurals=True,
            open_right=[terms[term].weight <= 0 for _, term in patterns],
        )
        self._negation = negation
        self._role_factors = role_factors
        self._cap = max_total_weight

    def _terms_in(self, text: str) -> list[tuple[int, int, int]]:
        """(term, start, end) of the counterfeit terms in folded text, disclaimers left out."""
        found = []
        for pattern, start, end in self._index.find(text):
            term = self._pattern_term[pattern]
            if self._terms[term].weight > 0 and not self._negation(text, start, end):
                found.append((term, start, end))
        return found

    def match(self, listing: Listing, findings: Findings) -> list[Signal]:
        title = fold(listing.title)
        description = fold(listing.description) if listing.description else ""
        # " | " keeps a term or a negation from reaching across from the title.
        hits = self._terms_in(f"{title} | {description}" if description else title)
        if not hits:
            return []
        fields = {"title" if start < len(title) else "description" for _, start, _ in hits}
        seen: dict[int, tuple[str, str, int]] = {}  # term -> (field, original span, position)
        for field, text in (("title", listing.title), ("description", listing.description)):
            if field not in fields or not text:
                continue
            # Only text that matched pays for the slower fold that maps back to the original.
            folded, origin = fold_with_offsets(text)
            for term_id, start, end in self._terms_in(folded):
                if term_id not in seen:
                    span = text[origin[start] : origin[end - 1] + 1]
                    seen[term_id] = (field, span, origin[start])
        if findings.product and seen:
            # A term that is part of the product's registered name ("Zippo 1941 Replica") is
            # the name, not a confession.
            model = fold(findings.product)
            seen = {t: v for t, v in seen.items() if self._terms[t].term not in model}
        if not seen:
            return []
        factor = self._role_factors.get(findings.role, 1.0)
        ranked = sorted(seen.items(), key=lambda item: (-self._terms[item[0]].weight, item[1][2]))
        signals: list[Signal] = []
        room = self._cap
        for term_id, (field, span, position) in ranked:
            if room <= 0:
                break
            term = self._terms[term_id]
            weight = round(min(term.weight * factor, room), 3)
            room -= weight
            signals.append(
                Signal(
                    detector=self.detector,
                    kind="counterfeit_wording",
                    asset=f"brand:{findings.brand}" if findings.brand else None,
                    weight=weight,
                    evidence=span,
                    explanation=_explain(term, field, span),
                    details={
                        "term": term.term,
                        "lang": term.lang,
                        "source": term.source,
                        "field": field,
                        "position": position,
                        "lexicon_weight": term.weight,
                        "role_factor": factor,
                        "capped": weight < round(term.weight * factor, 3),
                    },
                )
            )
        return signals


def _explain(term: WordingTerm, field: str, span: str) -> str:
    gloss = f' ("{term.gloss}")' if term.gloss and term.gloss.casefold() != span.casefold() else ""
    if term.source == "registry":
        meaning = "wording a member registered as a sign of imitations"
    elif term.weight >= 4.0:
        meaning = "wording sellers use for imitations"
    elif term.weight >= 2.0:
        meaning = "wording often used for imitations, though it has innocent uses too"
    else:
        meaning = "wording sometimes used for lookalikes and grey goods"
    return f'The {field} says "{span}"{gloss}, {meaning}.'


class WordingDetector(Detector):
    name: ClassVar[str] = "wording"
    stage: ClassVar[int] = 10
    description: ClassVar[str] = (
        "Counterfeit wording (高仿, A货, replica, super copy...) from a weighted bilingual lexicon "
        "that members can extend in the registry."
    )

    def compile(self, registry: Registry, config: ScanConfig) -> WordingMatcher:
        try:
            settings = _Settings.model_validate(self.section(config))
        except ValidationError as error:
            raise ConfigError(
                f"detectors.wording in the configuration is invalid: {error}"
            ) from error
        lexicon = _load_lexicon(settings.lexicon)
        terms: dict[str, WordingTerm] = {}
        for entry in lexicon.terms:
            if folded := fold(entry.term):
                terms[folded] = WordingTerm(
                    folded, entry.weight, entry.lang, entry.gloss, "shipped"
                )
        for added in registry.lexicon:
            folded = fold(added.term)
            if not folded:  # nothing but invisible characters
                continue
            shipped = terms.get(folded)
            lang = added.lang or (shipped.lang if shipped else ("zh" if has_cjk(folded) else None))
            gloss = shipped.gloss if shipped else None
            terms[folded] = WordingTerm(folded, added.weight, lang, gloss, "registry")
        ordered = list(terms.values())
        # Each term's own spelling first, so that a variant never takes over another term.
        patterns: dict[str, int] = {term.term: i for i, term in enumerate(ordered)}
        for i, term in enumerate(ordered):
            variants = spacing_variants(term.term)
            if settings.chinese_variants:
                variants |= chinese_variants(term.term)
            for variant in sorted(variants):
                patterns.setdefault(variant, i)
        return WordingMatcher(
            terms=ordered,
            patterns=list(patterns.items()),
            negation=Negation(lexicon.negation.before, lexicon.negation.after),
            role_factors=settings.role_factors,
            max_total_weight=settings.max_total_weight,
        )
