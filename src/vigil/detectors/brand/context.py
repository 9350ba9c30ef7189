"""Words around a brand name that change what it means: "case for iPhone 15" and 华为手机壳
name what an accessory fits (nominative use); 手机 next to 小米 says it is the phone maker, not
millet."""

from __future__ import annotations

import re
from enum import IntEnum
from typing import NamedTuple

from ahocorasick_rs import MatchKind

from vigil.detectors.brand.config import Context, Nominative
from vigil.detectors.brand.normalize import INVISIBLE, at_word_boundaries, char_class
from vigil.detectors.search import TextAutomaton

# Punctuation that may sit between a cue and a name, or between names: "适用于苹果/华为/小米".
_LIST_PUNCTUATION = ",;:/|&()[]（）【】《》、，；：“”\"'"


class CueKind(IntEnum):
    BEFORE = 0  # "for" X: names what the item fits
    AFTER = 1  # X "case": names what the item fits
    CONTEXT = 2  # a word of one of the brand's trades (手机 for phones)


class Cue(NamedTuple):  # a tuple: made for many listings, and quick to make
    kind: CueKind
    start: int
    end: int
    categories: frozenset[str]  # for CONTEXT cues: the categories the word speaks of


_NOMINATIVE = frozenset({CueKind.BEFORE, CueKind.AFTER})
_CONTEXT = frozenset({CueKind.CONTEXT})


class CueIndex:
    """Finds nominative and context cues in the plain channel, near the names found."""

    def __init__(self, nominative: Nominative, context: Context, separators: str) -> None:
        meanings: dict[str, list[tuple[CueKind, frozenset[str]]]] = {}
        for word in nominative.before:
            meanings.setdefault(word.casefold(), []).append((CueKind.BEFORE, frozenset()))
        for word in nominative.after:
            meanings.setdefault(word.casefold(), []).append((CueKind.AFTER, frozenset()))
        words_by_category: dict[str, set[str]] = {}
        for category, words in context.categories.items():
            for word in words:
                words_by_category.setdefault(category.casefold(), set()).add(word.casefold())
        context_words: dict[str, set[str]] = {}
        for category, words_of in words_by_category.items():
            for word in words_of:
                context_words.setdefault(word, set()).add(category)
        for word, categories in context_words.items():
            meanings.setdefault(word, []).append((CueKind.CONTEXT, frozenset(categories)))
        self._patterns = list(meanings)
        self._meanings = [tuple(meanings[p]) for p in self._patterns]
        self.words_by_category = {c: tuple(sorted(w)) for c, w in words_by_category.items()}
        words = sorted((c.casefold() for c in nominative.categories), key=len, reverse=True)
        self._accessory = re.compile("|".join(map(re.escape, words))) if words else None
        self.window = context.window
        self._max_gap = nominative.max_gap
        gap_chars = re.escape("".join(sorted(set(separators + INVISIBLE + _LIST_PUNCTUATION))))
        fillers = "|".join(
            re.escape(w.casefold()) for w in sorted(nominative.fillers, key=len, reverse=True)
        )
        # A gap may hold separators, filler words and model numbers (15, s23, 13pro): in
        # "苹果15手机壳" the name is still what the case fits. Possessive quantifiers and
        # whole-token look-aheads keep the expression from backtracking on long digit runs.
        tokens = [r"\d[a-z0-9]{0,5}+(?![a-z0-9])", r"[a-z]{1,2}\d[a-z0-9]{0,4}+(?![a-z0-9])"]
        if fillers:
            tokens.insert(0, rf"(?:{fillers})(?![a-z0-9])")
        self._gap = re.compile(rf"(?:[\s{gap_chars}]++|{'|'.join(tokens)})*+")
        self._build()

    def _build(self) -> None:
        patterns = self._patterns
        nominative = [i for i, m in enumerate(self._meanings) if m[0][0] is not CueKind.CONTEXT]
        longest = max((len(p) for p in patterns), default=0)
        # Two automata: the nominative cues alone, searched around every name, and all cues,
        # searched only when context is needed. With all cues in one, the longest wins:
        # "手机壳" (a case) is not read as "手机" (a phone) there.
        self._nominative = _Searcher(
            [patterns[i] for i in nominative],
            [self._meanings[i] for i in nominative],
            self._max_gap + longest,
        )
        self._all = _Searcher(patterns, self._meanings, self.window + longest)

    def __getstate__(self) -> dict[str, object]:
        return {k: v for k, v in self.__dict__.items() if k not in ("_nominative", "_all")}

    def __setstate__(self, state: dict[str, object]) -> None:
        self.__dict__.update(state)
        self._build()

    def nominative_near(self, plain: str, spans: list[tuple[int, int]]) -> list[Cue]:
        """The "for" and "case" cues close enough to one of `spans` (positions in `plain`)."""
        return self._nominative.near(plain, spans, _NOMINATIVE)

    def context_near(self, plain: str, spans: list[tuple[int, int]]) -> list[Cue]:
        """The context cues close enough to one of `spans` (positions in `plain`)."""
        return self._all.near(plain, spans, _CONTEXT)

    def is_accessory_category(self, category: str) -> bool:
        """Whether a (case-folded) listing category is one of accessories."""
        return self._accessory is not None and self._accessory.search(category) is not None

    def is_gap(self, text: str) -> bool:
        """Whether `text` may stand between a cue and a name (or two names) of one phrase."""
        return len(text) <= self._max_gap and self._gap.fullmatch(text.casefold()) is not None


class _Searcher:
    """One automaton of cues, searched in windows around names."""

    def __init__(
        self,
        patterns: list[str],
        meanings: list[tuple[tuple[CueKind, frozenset[str]], ...]],
        reach: int,
    ) -> None:
        self._automaton = (
            TextAutomaton(patterns, matchkind=MatchKind.LeftmostLongest) if patterns else None
        )
        self._meanings = meanings
        self._bounded = [bool(char_class(p[0]) or char_class(p[-1])) for p in patterns]
        self._reach = reach

    def near(
        self, plain: str, spans: list[tuple[int, int]], kinds: frozenset[CueKind]
    ) -> list[Cue]:
        if self._automaton is None or not spans:
            return []
        reach = self._reach
        windows: list[tuple[int, int]] = []
        for start, end in sorted(spans) if len(spans) > 1 else spans:
            low, high = max(0, start - reach), min(len(plain), end + reach)
            if windows and low <= windows[-1][1]:
                windows[-1] = (windows[-1][0], max(windows[-1][1], high))
            else:
                windows.append((low, high))
        cues: list[Cue] = []
        for low, high in windows:
            window = plain[low:high]
            for index, start, end in self._automaton.find(window):
                start, end = low + start, low + end
                # Boundaries in the whole text: a window may begin inside a word.
                if self._bounded[index] and not at_word_boundaries(plain, start, end):
                    continue
                for kind, categories in self._meanings[index]:
                    if kind in kinds:
                        cues.append(Cue(kind, start, end, categories))
        return cues
