"""The brand matcher: finds the registered brands and models a listing names, the look-alike
names it writes instead, and what it is with respect to them (the brand's product, an accessory
for it, or a word that only sounds like it)."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from itertools import pairwise
from typing import Any, ClassVar

from ahocorasick_rs import AhoCorasick, BytesAhoCorasick, MatchKind

from vigil.detectors.base import Findings, Matcher
from vigil.detectors.brand.assess import Assessor
from vigil.detectors.brand.catalog import Catalog
from vigil.detectors.brand.config import BrandSettings, Variant
from vigil.detectors.brand.context import Cue, CueIndex
from vigil.detectors.brand.fuzzy import Typo, TypoIndex
from vigil.detectors.brand.mentions import Channels, Mention, more_than, without_overlaps
from vigil.detectors.brand.normalize import (
    Simplifier,
    Skeleton,
    at_word_boundaries,
    char_class,
    phonetic_table,
    span_in_original,
)
from vigil.detectors.brand.spelling import SpellingJudge
from vigil.detectors.search import TextAutomaton
from vigil.domain.assessment import Signal
from vigil.domain.listing import Listing

# How far after a look-alike brand name to look for the rest of one of its models.
_MODEL_TAIL_CHARS = 48


class BrandMatcher(Matcher):
    """Compiled from a registry snapshot by `BrandDetector`; pure and picklable."""

    detector: ClassVar[str] = "brand"

    def __init__(
        self,
        settings: BrandSettings,
        catalog: Catalog,
        skeleton: Skeleton,
        typos: TypoIndex,
        cues: CueIndex,
    ) -> None:
        self._settings = settings
        self._catalog = catalog
        self._skeleton = skeleton
        self._typos = typos
        self._cues = cues
        self._build()
        self._implied, self._words_inside = self._names_inside_models()

    # --- compiled state ------------------------------------------------------------------

    def _build(self) -> None:
        """Everything derived from the catalog that cannot or need not be pickled."""
        catalog = self._catalog
        self._simplifier = Simplifier()
        self._phonetic_table = phonetic_table()
        # Names that are one run of ASCII letters are looked up as whole words: an automaton
        # would also find them inside other words ("vivo" in "vivid"), each such find a
        # boundary check in Python. Everything else goes through the automaton.
        self._word_names = {
            k.encode("ascii"): v for k, v in catalog.plain.items() if _is_letter_run(k)
        }
        # Lengths of the names that may be glued to a model ("OPPOA57", "vivoY67"), longest
        # first; shorter names glued to letters are too likely to be parts of other words.
        self._glue_lengths = sorted(
            {len(k) for k in self._word_names if len(k) >= _GLUED_NAME_MIN}, reverse=True
        )
        self._glue_heads = frozenset(
            k[:_GLUED_NAME_MIN] for k in self._word_names if len(k) >= _GLUED_NAME_MIN
        )
        phrases = {k: v for k, v in catalog.plain.items() if not _is_letter_run(k)}
        self._plain_ac = _text_automaton(list(phrases))
        self._plain_alias = list(phrases.values())
        # The class (letter, digit) of each pattern's first and last character: a Latin
        # pattern must not touch a character of the same class.
        self._plain_edges = [(char_class(k[0]), char_class(k[-1])) for k in phrases]
        self._skeleton_ac = _bytes_automaton(list(catalog.skeleton))
        self._skeleton_alias = list(catalog.skeleton.values())
        self._phonetic_ac = _text_automaton(list(catalog.phonetic))
        self._phonetic_alias = list(catalog.phonetic.values())
        self._spelling = SpellingJudge(self._settings.folding.separators)
        self._ordinary = frozenset(w.casefold() for w in self._settings.ordinary_words)
        shields = {self._simplifier.simplify(w).casefold() for w in self._settings.shields}
        self._shields = _automaton(sorted(shields))
        # The names a shield can hide: one inside it (茅台 in 茅台镇) or sharing a word with
        # it ("new balance" and "balance board"). Other names need no look for shields.
        shield_words = {w for shield in shields for w in shield.split()}
        self._shielded = frozenset(
            alias_id
            for alias_id, alias in enumerate(self._catalog.aliases)
            if any(alias.key in shield for shield in shields)
            or not shield_words.isdisjoint(alias.key.split())
        )
        # First words of two-word names: a listing holding one is searched for misspellings
        # of the second ("New Baance").
        self._pair_starts = frozenset(
            name.split(" ", 1)[0].encode("ascii")
            for name in self._catalog.typo_names
            if " " in name
        )

    def _names_inside_models(
        self,
    ) -> tuple[dict[int, list[int]], dict[int, frozenset[bytes]]]:
        """The brand names a model's own name holds ("Xiaomi 13 Ultra" holds "Xiaomi"), by
        model spelling: in the skeleton and phonetic channels (a model found in the plain
        channel explains them there), and as whole words."""
        implied: dict[int, list[int]] = {}
        words_inside: dict[int, frozenset[bytes]] = {}
        for alias_id, alias in enumerate(self._catalog.aliases):
            if alias.product is None:
                continue
            words = (
                self._word_names.keys() & alias.key.encode("utf-8").translate(_LETTERS_ONLY).split()
            )
            if words:
                words_inside[alias_id] = frozenset(words)
            inside: list[int] = []
            if self._skeleton_ac is not None:
                found = self._skeleton_ac.find_matches_as_indexes(self._skeleton.fold(alias.key))
                inside += [self._skeleton_alias[p] for p, _, _ in found]
            if self._phonetic_ac is not None:
                sounds = alias.key.translate(self._phonetic_table)
                found = self._phonetic_ac.find(sounds)
                inside += [self._phonetic_alias[p] for p, _, _ in found]
            if inside:
                implied[alias_id] = inside
        return implied, words_inside

    def __getstate__(self) -> dict[str, Any]:
        keep = (
            "_settings",
            "_catalog",
            "_skeleton",
            "_typos",
            "_cues",
            "_implied",
            "_words_inside",
        )
        return {name: getattr(self, name) for name in keep}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._build()

    # --- matching ------------------------------------------------------------------------

    def match(self, listing: Listing, findings: Findings) -> list[Signal]:
        text = listing.text
        found = self._find(text)
        if found is None:
            return []
        channels, mentions = found
        if not mentions:
            return []
        return self._assess(listing, channels, mentions, findings)

    def _find(self, text: str) -> tuple[Channels, list[Mention]] | None:
        """The mentions in `text`, longest and least altered first where they overlap."""
        ascii_only = text.isascii()
        simple = text if ascii_only else self._simplifier.simplify(text)
        plain = simple.lower() if ascii_only else simple.casefold()
        words = plain.encode("utf-8").translate(_LETTERS_ONLY).split()
        named = self._word_names.keys() & words
        glued = self._glued(words, named) if self._glue_lengths else []
        plain_hits = self._plain_ac.find(plain) if self._plain_ac else []
        skeleton = self._skeleton.fold(simple)
        skeleton_hits = (
            self._skeleton_ac.find_matches_as_indexes(skeleton) if self._skeleton_ac else []
        )
        phonetic_hits = (
            self._phonetic_ac.find(text.translate(self._phonetic_table))
            if self._phonetic_ac and not ascii_only
            else []
        )
        typos = self._typos.find(words) if self._typos else []
        if self._pair_starts and not self._pair_starts.isdisjoint(words):
            pairs = [
                first + b" " + second
                for first, second in pairwise(words)
                if first in self._pair_starts
            ]
            typos += self._typos.find(pairs)
        if not (named or glued or plain_hits or skeleton_hits or phonetic_hits or typos):
            return None
        channels = Channels(text, simple, plain, skeleton)
        mentions: list[Mention] = []
        seen: dict[int, int] = {}  # how often the plain channel found each alias
        self._plain_mentions(channels, plain_hits, mentions, seen)
        if glued:
            self._glued_mentions(channels, glued, mentions, seen)
        if named and mentions:
            # A name that is a word of a model found is part of that model; should it also
            # stand alone, the skeleton channel finds it there.
            for mention in mentions:
                named = named.difference(self._words_inside.get(mention.alias_id, ()))
        if named or typos:
            self._word_mentions(channels, named, typos, mentions, seen)
        # A name in another channel that the plain channel found as often is the real name
        # again: only the others need the (slower) look at where they are.
        if skeleton_hits:
            # A name glued to letters on both sides is part of a longer word ("aila" in
            # "available"), whatever its case: it need not be looked at.
            loose = [hit for hit in skeleton_hits if _loose(skeleton, hit[1], hit[2])]
            if loose and more_than(loose, self._skeleton_alias, seen):
                mentions.extend(self._skeleton_mentions(channels))
        if phonetic_hits and more_than(phonetic_hits, self._phonetic_alias, seen):
            mentions.extend(self._phonetic_mentions(channels, phonetic_hits))
        chosen = without_overlaps(mentions)
        if self._shielded and any(m.alias_id in self._shielded for m in chosen):
            chosen = self._unshielded(channels, chosen)
        with_model = {m.alias.brand for m in chosen if m.alias.product is not None}
        for mention in chosen:
            mention.product = mention.alias.product
            if mention.product is None and mention.alias.brand not in with_model:
                self._read_model_after(channels, mention)
        return channels, chosen

    def _unshielded(self, channels: Channels, mentions: list[Mention]) -> list[Mention]:
        """The mentions not inside a phrase that only holds the name (茅台镇, 三星堆)."""
        assert self._shields is not None
        plain = channels.plain
        shields = []
        for _, start, end in self._shields.find_matches_as_indexes(plain):
            if at_word_boundaries(plain, start, end):
                shields.append(channels.plain_span(start, end))
        if not shields:
            return mentions
        return [m for m in mentions if not any(m.start < e and s < m.end for s, e in shields)]

    def _plain_mentions(
        self,
        channels: Channels,
        hits: list[tuple[int, int, int]],
        mentions: list[Mention],
        seen: dict[int, int],
    ) -> None:
        plain, simple, text = channels.plain, channels.simple, channels.original
        aliases = self._catalog.aliases
        for pattern, start, end in hits:
            first, last = self._plain_edges[pattern]
            if (
                (first and start and char_class(plain[start - 1]) == first)
                or (last and end < len(plain) and char_class(plain[end]) == last)
            ) and (
                # Glued to a letter: only a change of case in the original makes it a name.
                len(plain) != len(text) or not at_word_boundaries(text, start, end)
            ):
                continue
            alias_id = self._plain_alias[pattern]
            seen[alias_id] = seen.get(alias_id, 0) + 1
            for inside in self._implied.get(alias_id, ()):
                seen[inside] = seen.get(inside, 0) + 1
            start, end = channels.plain_span(start, end)
            alias = aliases[alias_id]
            kind = alias.derived
            if kind is None and simple is not text and text[start:end] != simple[start:end]:
                kind = Variant.TRADITIONAL
            mentions.append(Mention(start, end, alias, alias_id, kind))

    def _word_mentions(
        self,
        channels: Channels,
        named: set[bytes],
        typos: list[Typo],
        mentions: list[Mention],
        seen: dict[int, int],
    ) -> None:
        """Whole-word names and misspellings, where they are; a name inside a model found
        already ("xiaomi" in "Xiaomi 13 Ultra") is part of that model."""
        plain = channels.plain
        taken = [(m.start, m.end) for m in mentions]
        found: list[tuple[str, int, Variant | None, int]] = [
            (name.decode("ascii"), self._word_names[name], None, 0) for name in named
        ]
        found += [(typo.word, typo.alias, Variant.TYPO, typo.distance) for typo in typos]
        for name, alias_id, kind, distance in found:
            if " " in name:  # a misspelt two-word name: its words, whatever is between
                first, second = name.split(" ", 1)
                for pair in re.finditer(rf"(?<![a-z]){first}[^a-z]+{second}(?![a-z])", plain):
                    start, stop = channels.plain_span(pair.start(), pair.end())
                    alias = self._catalog.aliases[alias_id]
                    mentions.append(Mention(start, stop, alias, alias_id, kind, distance))
                continue
            at = plain.find(name)
            while at >= 0:
                end = at + len(name)
                # Words are runs of ASCII letters, as the tokenizer cut them ("小米xiaomi"),
                # but an accent that follows belongs to the word ("xiaomí" is no real name).
                if (at == 0 or not "a" <= plain[at - 1] <= "z") and (
                    end == len(plain)
                    or not ("a" <= plain[end] <= "z" or unicodedata.combining(plain[end]))
                ):
                    start, stop = channels.plain_span(at, end)
                    if not any(low <= start and stop <= high for low, high in taken):
                        alias = self._catalog.aliases[alias_id]
                        if kind is None:
                            seen[alias_id] = seen.get(alias_id, 0) + 1
                            kind_here = alias.derived
                        else:
                            kind_here = kind
                        mentions.append(Mention(start, stop, alias, alias_id, kind_here, distance))
                at = plain.find(name, end)

    def _glued(self, words: list[bytes], named: set[bytes]) -> list[tuple[bytes, bytes]]:
        """(word, name) for letter runs that begin with a registered one-word name but are
        longer: Chinese listings glue names to models ("OPPOA57", "AppleiPhone8")."""
        found = []
        heads = self._glue_heads
        for word in words:
            if len(word) <= _GLUED_NAME_MIN or word[:_GLUED_NAME_MIN] not in heads:
                continue
            if word in named:
                continue
            for size in self._glue_lengths:
                if size < len(word) and word[:size] in self._word_names:
                    found.append((word, word[:size]))
                    break
        return found

    def _glued_mentions(
        self,
        channels: Channels,
        glued: list[tuple[bytes, bytes]],
        mentions: list[Mention],
        seen: dict[int, int],
    ) -> None:
        """Keep a glued name only where the rest reads as a model: a letter or two before a
        digit ("OPPOA57", "vivoX9s") or a camel-cased word ("AppleiPhone"). "Vivobook" and
        "Applebee" stay words of their own."""
        plain, text = channels.plain, channels.original
        if len(plain) != len(text):
            return  # case folding changed lengths; too rare to map for this
        for word, name in glued:
            run = word.decode("ascii")
            at = plain.find(run)
            while at >= 0:
                end = at + len(run)
                whole = (at == 0 or not "a" <= plain[at - 1] <= "z") and (
                    end == len(plain) or not "a" <= plain[end] <= "z"
                )
                rest = text[at + len(name) : end]
                model_like = (len(rest) <= 2 and end < len(text) and text[end].isdigit()) or (
                    _CAMEL.match(rest) is not None
                )
                if whole and model_like:
                    alias_id = self._word_names[name]
                    seen[alias_id] = seen.get(alias_id, 0) + 1
                    alias = self._catalog.aliases[alias_id]
                    stop = at + len(name)
                    mentions.append(Mention(at, stop, alias, alias_id, alias.derived))
                at = plain.find(run, end)

    def _skeleton_mentions(self, channels: Channels) -> list[Mention]:
        automaton, alias_of = self._skeleton_ac, self._skeleton_alias
        assert automaton is not None  # there were hits
        channel, starts = self._skeleton.align(channels.simple)
        text, simple = channels.original, channels.simple
        mentions = []
        for pattern, low, high in automaton.find_matches_as_indexes(channel):
            start, end = span_in_original(starts, low, high)
            while end < len(text) and unicodedata.combining(text[end]):
                end += 1  # accents fold to nothing, but belong to the letter before them
            if not at_word_boundaries(text, start, end):
                continue
            written = simple[start:end]
            if self._ordinary and self._spelling.closed(written) in self._ordinary:
                continue  # "lining" is a jacket's, even if "Li-Ning" closes up to it
            alias_id = alias_of[pattern]
            alias = self._catalog.aliases[alias_id]
            kind = alias.derived or self._spelling.variant(text[start:end], written, alias)
            mentions.append(Mention(start, end, alias, alias_id, kind))
        return mentions

    def _phonetic_mentions(
        self, channels: Channels, hits: list[tuple[int, int, int]]
    ) -> list[Mention]:
        # The phonetic channel has one character per character: spans need no mapping.
        text, simple = channels.original, channels.simple
        mentions = []
        for pattern, start, end in hits:
            alias_id = self._phonetic_alias[pattern]
            alias = self._catalog.aliases[alias_id]
            written = simple[start:end]
            if written == alias.key:
                kind = Variant.TRADITIONAL if text[start:end] != written else None
            elif any(a == b for a, b in zip(written, alias.key, strict=True)):
                kind = Variant.HOMOPHONE
            else:
                # Every character different: with a thousand brands, two syllables that
                # sound like one of them turn up in most Chinese texts. Evasions keep a
                # character (晓米, 华伪) so that buyers still recognise the name.
                continue
            mentions.append(Mention(start, end, alias, alias_id, kind))
        return mentions

    def _read_model_after(self, channels: Channels, mention: Mention) -> None:
        """Finds the rest of one of the brand's models right after a brand name: "MI Smart
        Band8" is the "Xiaomi Smart Band 8", 晓米13 Ultra is "Xiaomi 13 Ultra" disguised."""
        remainders = self._catalog.remainders.get(mention.alias.brand)
        if not remainders:
            return
        tail_text = channels.simple[mention.end : mention.end + _MODEL_TAIL_CHARS]
        spaced = self._skeleton.fold(tail_text)
        closed = spaced.replace(b" ", b"")
        for rest, product in remainders:
            if not closed.startswith(rest):
                continue
            # Where the model's last byte lies with the spaces: what follows it there must
            # not continue it ("13" is not in "135", but is in "13 256GB").
            last = _nth_non_space(spaced, len(rest))
            after = spaced[last + 1 : last + 2]
            if after and _byte_class(spaced[last]) == _byte_class(after[0]) != 0:
                continue
            mention.product = product
            channel, starts = self._skeleton.align(tail_text)
            if channel == spaced:
                mention.product_end = mention.end + span_in_original(starts, last, last + 1)[1]
            return

    # --- what the mentions make of the listing ---------------------------------------------

    def _assess(
        self, listing: Listing, channels: Channels, mentions: list[Mention], findings: Findings
    ) -> list[Signal]:
        spans = [(m.start, m.end) for m in mentions]

        def cues_near(search: Callable[[str, list[tuple[int, int]]], list[Cue]]) -> list[Cue]:
            plain = channels.plain
            if len(plain) == len(channels.original):
                found = search(plain, spans)
            else:  # case folding changed lengths: search all and map back
                found = [
                    Cue(c.kind, *channels.plain_span(c.start, c.end), c.categories)
                    for c in search(plain, [(0, len(plain))])
                ]
            return [c for c in found if not any(c.start < e and s < c.end for s, e in spans)]

        assessor = Assessor(
            settings=self._settings,
            catalog=self._catalog,
            cue_index=self._cues,
            listing=listing,
            text=channels.original,
            simple=channels.simple,
            mentions=mentions,
            cues=cues_near(self._cues.nominative_near),
            context=lambda: cues_near(self._cues.context_near),
        )
        return assessor.run(findings)


def _automaton(patterns: list[str]) -> AhoCorasick | None:
    return AhoCorasick(patterns, matchkind=MatchKind.LeftmostLongest) if patterns else None


def _bytes_automaton(patterns: list[bytes]) -> BytesAhoCorasick | None:
    return BytesAhoCorasick(patterns, matchkind=MatchKind.LeftmostLongest) if patterns else None


def _text_automaton(patterns: list[str]) -> TextAutomaton | None:
    return TextAutomaton(patterns, matchkind=MatchKind.LeftmostLongest) if patterns else None


# The shortest one-word name recognised when glued to the model that follows it.
_GLUED_NAME_MIN = 4
# A camel-cased word: lower-case letters, then an upper-case one ("iPhone", "eSIM").
_CAMEL = re.compile(r"[a-z]+[A-Z]")
# Keeps ASCII letters and turns every other byte into a space: `.split()` then gives words.
_LETTERS_ONLY = bytes(b if 0x61 <= b <= 0x7A else 0x20 for b in range(256))


def _is_letter_run(key: str) -> bool:
    return key.isascii() and key.isalpha()


def _loose(channel: bytes, start: int, end: int) -> bool:
    """Whether a match in the skeleton channel is free of letters on at least one side."""
    before = channel[start - 1] if start else 0x20
    after = channel[end] if end < len(channel) else 0x20
    return not (0x61 <= before <= 0x7A and 0x61 <= channel[start] <= 0x7A) or not (
        0x61 <= after <= 0x7A and 0x61 <= channel[end - 1] <= 0x7A
    )


def _nth_non_space(data: bytes, count: int) -> int:
    """The offset of the `count`-th byte of `data` that is not a space."""
    seen = 0
    for offset, byte in enumerate(data):
        if byte != 0x20:
            seen += 1
            if seen == count:
                return offset
    return len(data) - 1


def _byte_class(byte: int) -> int:
    if 0x30 <= byte <= 0x39:
        return 2
    return 1 if 0x61 <= byte <= 0x7A else 0
