"""How a name found in the skeleton channel differs from the registered spelling."""

from __future__ import annotations

import re
import unicodedata

from vigil.detectors.brand.catalog import MODEL_TOKENS, Alias
from vigil.detectors.brand.config import Variant
from vigil.detectors.brand.normalize import INVISIBLE, compact, nfkc_casefold


class SpellingJudge:
    """Tells, for a span the skeleton channel matched, which variant of a name it writes."""

    def __init__(self, separators: str) -> None:
        # What is set aside to compare spellings: separators, spaces, invisible characters.
        self._separators = " \t\u3000" + separators + INVISIBLE
        self._runs = re.compile(f"[\\s{re.escape(self._separators)}]+")

    def variant(self, original: str, simple: str, alias: Alias) -> Variant | None:
        """None for the registered spelling (case and, for models, spacing aside), else how
        `original` (`simple` once simplified) differs from it."""
        key, separators = alias.key, self._separators
        folded = simple.casefold()
        if folded == key:
            return Variant.TRADITIONAL if original != simple else None
        closed_key = compact(key, separators)
        if compact(folded, separators) == closed_key:
            if self._pulled_apart(folded, alias):
                return Variant.SEPARATORS
            return Variant.TRADITIONAL if original != simple else None
        normalized = nfkc_casefold(simple)
        if compact(normalized, separators) == closed_key:
            if self._pulled_apart(normalized, alias):
                return Variant.SEPARATORS
            return Variant.FULLWIDTH
        return Variant.HOMOGLYPH

    def closed(self, text: str) -> str:
        """`text` case-folded, without separators: how ordinary words are compared."""
        return compact(text.casefold(), self._separators)

    def _pulled_apart(self, span: str, alias: Alias) -> bool:
        """Whether `span` has more breaks than the registered spelling: "Sam sung" does. A
        model may break wherever words, digits and scripts meet ("小米 Smart Band 8" for
        "小米Smart Band8"), but not inside them ("S m a r t")."""
        if not span.isascii():  # a symbol between letters (华❤为) is a break too
            span = "".join(" " if unicodedata.category(c) == "So" else c for c in span)
        gaps = len(self._runs.findall(span.strip()))
        if alias.product is not None:
            return gaps > len(MODEL_TOKENS.findall(alias.key)) - 1
        return gaps > len(self._runs.findall(alias.key))
