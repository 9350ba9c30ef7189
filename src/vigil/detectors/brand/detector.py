"""The `brand` detector: compiles a registry snapshot into a `BrandMatcher`."""

from __future__ import annotations

from typing import ClassVar

from vigil.detectors.base import Detector
from vigil.detectors.brand.catalog import CatalogBuilder
from vigil.detectors.brand.config import load_settings
from vigil.detectors.brand.context import CueIndex
from vigil.detectors.brand.fuzzy import TypoIndex
from vigil.detectors.brand.matcher import BrandMatcher
from vigil.detectors.brand.normalize import Simplifier, Skeleton
from vigil.domain.registry import Registry
from vigil.settings import ScanConfig


class BrandDetector(Detector):
    name: ClassVar[str] = "brand"
    stage: ClassVar[int] = 0
    description: ClassVar[str] = (
        "Registered brands and models in titles and descriptions, the look-alike names written "
        "instead (homoglyphs, separators, typos, homophones, pinyin, traditional characters), "
        "and the lawful uses that look alike (accessories, everyday words)."
    )

    def compile(self, registry: Registry, config: ScanConfig) -> BrandMatcher:
        settings = load_settings(self.section(config))
        folding = settings.folding
        skeleton = Skeleton(
            separators=folding.separators,
            lookalikes=folding.lookalikes,
            expansions=folding.expansions,
        )
        catalog = CatalogBuilder(settings, skeleton, Simplifier()).build(registry)
        typos = TypoIndex(
            catalog.typo_names,
            distance_1_from=settings.fuzzy.distance_1_from,
            distance_2_from=settings.fuzzy.distance_2_from,
            ignore=settings.ordinary_words,
            exact=catalog.plain,
        )
        cues = CueIndex(settings.nominative, settings.context, folding.separators)
        return BrandMatcher(settings, catalog, skeleton, typos, cues)
