"""From the names a listing mentions to what it is about: the brand and model it is attributed
to, its role (product, accessory, mere mention) and the signals that say why."""

from __future__ import annotations

from collections.abc import Callable

from vigil.detectors.base import Findings, Role
from vigil.detectors.brand import explain
from vigil.detectors.brand.catalog import Catalog
from vigil.detectors.brand.config import BrandSettings, Variant
from vigil.detectors.brand.context import Cue, CueIndex, CueKind
from vigil.detectors.brand.mentions import Mention
from vigil.domain.assessment import Details, Signal
from vigil.domain.listing import Listing

DETECTOR = "brand"
# Variants that are also ordinary ways of writing: they weigh fully only in a listing that
# writes everything else the other way.
_SCRIPT_VARIANTS = frozenset({Variant.TRADITIONAL, Variant.FULLWIDTH})


class Assessor:
    """Weighs the mentions of one listing (built per listing that names something)."""

    def __init__(
        self,
        *,
        settings: BrandSettings,
        catalog: Catalog,
        cue_index: CueIndex,
        listing: Listing,
        text: str,
        simple: str,
        mentions: list[Mention],
        cues: list[Cue],
        context: Callable[[], list[Cue]],
    ) -> None:
        self._settings = settings
        self._catalog = catalog
        self._cue_index = cue_index
        self._text = text
        self._simple = simple  # `text` in simplified Chinese, character for character
        self._title_chars = len(listing.title)
        self._mentions = mentions
        self._cues = cues  # nominative cues ("for", "case") near the names
        self._context = context  # context cues (手机, phone), found only when needed
        self._context_cues: list[Cue] | None = None
        self._category = (listing.category or "").casefold()
        self._by_brand: dict[int, list[Mention]] = {}
        for mention in mentions:
            self._by_brand.setdefault(mention.alias.brand, []).append(mention)
        self._corroborated: dict[int, bool] = {}

    def run(self, findings: Findings) -> list[Signal]:
        self._mark_nominative()
        if any(m.alias.generic for m in self._mentions):
            self._drop_descriptions()
            if not self._mentions:
                return []
        primary = None
        for mention in self._mentions:  # a model says most about what the listing is
            if mention.product is not None:
                primary = mention
                break
        else:
            for mention in self._mentions:
                if self._counts(mention):
                    primary = mention
                    break
        if primary is None:
            return self._unattributed(findings)
        brand_id = primary.alias.brand
        own = self._by_brand[brand_id]
        accessory_category = self._accessory_category() if self._category else None
        accessory = accessory_category is not None or own[0].cue is not None
        signals: list[Signal] = []
        strongest = self._variant_signal(brand_id, accessory)
        if strongest is not None:
            signals.append(strongest)
        else:
            for mention in own:
                if mention.variant is None and mention.alias.product is None:
                    signals.append(self._mention_signal(mention))
                    break
        if primary.product is not None:
            signals.append(self._product_signal(primary))
        if accessory:
            signals.append(self._nominative_signal(own[0], accessory_category))
        if len(self._by_brand) > 1:
            for other, others in self._by_brand.items():
                signal = self._variant_signal(other, accessory) if other != brand_id else None
                if signal is not None and any(self._counts(m) for m in others):
                    signals.append(signal)
        findings.brand = self._catalog.brands[brand_id].name
        if primary.product is not None:
            findings.product = self._catalog.products[primary.product].model
        findings.role = Role.ACCESSORY if accessory else Role.PRODUCT
        findings.variant = str(strongest.details["variant"]) if strongest is not None else None
        return signals

    # --- context ---------------------------------------------------------------------------

    def _drop_descriptions(self) -> None:
        """A model spelling that may be a description (小白鞋 "little white shoes") tells the
        model only next to the brand's name, or as what an accessory fits (适用于小方块)."""
        named = {m.alias.brand for m in self._mentions if m.alias.product is None}
        self._mentions = [
            m
            for m in self._mentions
            if not m.alias.generic or m.alias.brand in named or m.cue is not None
        ]
        self._by_brand = {}
        for mention in self._mentions:
            self._by_brand.setdefault(mention.alias.brand, []).append(mention)

    def _mark_nominative(self) -> None:
        """Marks the mentions that say what an accessory fits: right after a "for" cue, right
        before a "case" cue, or next to such a mention ("适用于苹果/华为/小米")."""
        if not self._cues:
            return
        text, index = self._text, self._cue_index
        before = [c for c in self._cues if c.kind is CueKind.BEFORE]
        after = [c for c in self._cues if c.kind is CueKind.AFTER]
        if not before and not after:
            return
        previous: Mention | None = None
        for mention in self._mentions:
            for cue in before:
                if cue.end <= mention.start and index.is_gap(text[cue.end : mention.start]):
                    mention.cue = cue
            if (
                mention.cue is None
                and previous is not None
                and previous.cue is not None
                and index.is_gap(text[previous.end : mention.start])
            ):
                mention.cue = previous.cue
            previous = mention
        following: Mention | None = None
        for mention in reversed(self._mentions):
            if mention.cue is None:
                for cue in after:
                    if cue.start >= mention.end and index.is_gap(text[mention.end : cue.start]):
                        mention.cue = cue
                        break
            if (
                mention.cue is None
                and following is not None
                and following.cue is not None
                and index.is_gap(text[mention.end : following.start])
            ):
                mention.cue = following.cue
            following = mention

    def _is_corroborated(self, brand_id: int) -> bool:
        """Whether the listing also names one of the brand's models, or is in or speaks of one
        of its categories."""
        known = self._corroborated.get(brand_id)
        if known is not None:
            return known
        mentions = self._by_brand[brand_id]
        categories = self._catalog.brands[brand_id].categories
        found = any(m.product is not None for m in mentions)
        if not found and categories and self._category:
            words = self._cue_index.words_by_category
            found = any(
                c in self._category or any(w in self._category for w in words.get(c, ()))
                for c in categories
            )
        if not found and categories:
            if self._context_cues is None:
                self._context_cues = self._context()
            window = self._cue_index.window
            found = any(
                not cue.categories.isdisjoint(categories)
                and cue.start - m.end <= window
                and m.start - cue.end <= window
                for cue in self._context_cues
                for m in mentions
            )
        self._corroborated[brand_id] = found
        return found

    def _counts(self, mention: Mention) -> bool:
        """Whether a mention attributes the listing to its brand. An everyday word that is
        also a brand name (苹果, 小米), or a homophone, needs context to."""
        if mention.product is not None:
            return True
        brand_id = mention.alias.brand
        weak = mention.alias.everyday or mention.variant in self._settings.needs_context
        return (
            not weak
            or self._is_corroborated(brand_id)
            or any(m.cue is not None for m in self._by_brand[brand_id])
        )

    def _accessory_category(self) -> str | None:
        if not self._category:
            return None
        if self._cue_index.is_accessory_category(self._category):
            return self._category
        return None

    # --- signals ---------------------------------------------------------------------------

    def _where(self, mention: Mention, end: int | None = None) -> tuple[str, int, int, str]:
        """The field of a mention, its span in that field, and the evidence."""
        stop = mention.end if end is None else end
        evidence = self._text[mention.start : stop]
        if mention.start < self._title_chars:
            return "title", mention.start, stop, evidence
        offset = self._title_chars + 1
        return "description", mention.start - offset, stop - offset, evidence

    def _variant_signal(self, brand_id: int, accessory: bool) -> Signal | None:
        mentions = self._by_brand[brand_id]
        if all(m.variant is None for m in mentions):
            return None
        candidates = [m for m in mentions if m.variant is not None and self._counts(m)]
        if not candidates:
            return None
        corroborated = self._is_corroborated(brand_id) and not accessory
        weights = self._settings.weights.brand_variant

        def weight(m: Mention) -> float:
            assert m.variant is not None
            pair = weights[m.variant]
            deliberate = m.variant not in _SCRIPT_VARIANTS or self._script_mixed(m)
            return pair.corroborated if corroborated and deliberate else pair.alone

        strongest = max(candidates, key=weight)
        assert strongest.variant is not None
        field, start, end, evidence = self._where(strongest)
        explanation = explain.variant(
            field, evidence, strongest.alias, self._catalog, strongest.variant, strongest.distance
        )
        details = self._details(strongest, field, start, end)
        details["corroborated"] = corroborated
        return self._signal(
            "brand_variant", brand_id, weight(strongest), evidence, explanation, details
        )

    def _script_mixed(self, mention: Mention) -> bool:
        """Whether only the name is written in the other script. Traditional characters in a
        traditional-Chinese listing are how Taiwan and Hong Kong write, full-width letters in a
        full-width title how some input methods type; the name alone in that script, in a
        listing written otherwise, is a way around keyword filters."""
        rest = self._text[: mention.start] + self._text[mention.end :]
        if mention.variant is Variant.TRADITIONAL:
            simple = self._simple[: mention.start] + self._simple[mention.end :]
            return rest == simple and any("\u4e00" <= ch <= "\u9fff" for ch in rest)
        return any(ch.isascii() and ch.isalnum() for ch in rest)

    def _mention_signal(self, mention: Mention) -> Signal:
        field, start, end, evidence = self._where(mention)
        explanation = explain.mention(field, evidence, mention.alias, self._catalog)
        return self._signal(
            "brand_mention",
            mention.alias.brand,
            self._settings.weights.brand_mention,
            evidence,
            explanation,
            self._details(mention, field, start, end),
        )

    def _product_signal(self, mention: Mention) -> Signal:
        assert mention.product is not None
        entry = self._catalog.products[mention.product]
        brand = self._catalog.brands[entry.brand].name
        field, start, end, evidence = self._where(mention, mention.product_end or mention.end)
        details = self._details(mention, field, start, end)
        return Signal(
            detector=DETECTOR,
            kind="product_model",
            asset=f"product:{brand}/{entry.model}",
            weight=self._settings.weights.product_model,
            evidence=evidence,
            explanation=explain.product(field, evidence, entry.model, brand),
            details=details,
        )

    def _nominative_signal(self, mention: Mention, category: str | None) -> Signal:
        brand = self._catalog.brands[mention.alias.brand].name
        cue = mention.cue
        if cue is not None:
            start, end = min(cue.start, mention.start), max(cue.end, mention.end)
            span = Mention(start, end, mention.alias, mention.alias_id, None)
            field, low, high, evidence = self._where(span)
            explanation = explain.nominative(field, evidence, brand)
        else:
            field, low, high, evidence = self._where(mention)
            explanation = explain.accessory_category(category or "", brand)
        details: Details = {
            "field": field,
            "start": low,
            "end": high,
            "alias": mention.alias.source,
        }
        return self._signal(
            "nominative_use",
            mention.alias.brand,
            self._settings.weights.nominative_use,
            evidence,
            explanation,
            details,
        )

    def _unattributed(self, findings: Findings) -> list[Signal]:
        """No mention attributes the listing. An everyday word that is also a brand (苹果 the
        fruit) is noted with no weight, for the analyst who wonders why the listing is clear;
        a mere homophone (化为 "turn into") is ordinary Chinese and is not even noted."""
        brands = self._catalog.brands
        first = next((m for m in self._mentions if m.alias.everyday), None)
        if first is None:
            return []
        field, start, end, evidence = self._where(first)
        explanation = explain.unattributed(
            field, evidence, first.alias, self._catalog, first.variant
        )
        kind = "brand_mention" if first.variant is None else "brand_variant"
        findings.role = Role.MENTION
        findings.notes["brand_unattributed"] = brands[first.alias.brand].name
        details = self._details(first, field, start, end)
        details["attributed"] = False
        return [self._signal(kind, first.alias.brand, 0.0, evidence, explanation, details)]

    def _details(self, mention: Mention, field: str, start: int, end: int) -> Details:
        details: Details = {
            "variant": mention.variant.value if mention.variant is not None else None,
            "alias": mention.alias.source,
            "field": field,
            "start": start,
            "end": end,
        }
        if mention.variant is Variant.TYPO:
            details["distance"] = mention.distance
        if mention.product is not None:
            details["product"] = self._catalog.products[mention.product].model
        return details

    def _signal(
        self,
        kind: str,
        brand_id: int,
        weight: float,
        evidence: str,
        explanation: str,
        details: Details,
    ) -> Signal:
        return Signal(
            detector=DETECTOR,
            kind=kind,
            asset=f"brand:{self._catalog.brands[brand_id].name}",
            weight=weight,
            evidence=evidence,
            explanation=explanation,
            details=details,
        )
