"""Copied text: listing descriptions found in registered works, and copy-paste clusters.

- `copyrighted_text` (an infringement kind): the description is largely contained in a work of
  kind `text` (vigil.texts.containment); the evidence is the longest copied passage, with the
  place it comes from in the work. Sellers authorized for a brand of the work's owner are not
  reported: official shops use their own descriptions.
- `copy_paste_cluster`: the description is near-identical to those of listings from at least
  `min_sellers` other sellers in the same scan (vigil.texts.clusters) — a ring pasting one
  template. Clusters are stored for the seller-network work.

Both need the whole scan (`ScanWide`), for two reasons: clusters are found among all
descriptions, and boilerplate (包邮, 七天无理由退换, size charts, "free shipping") is learned
from how many different descriptions share a clause. Pass one shingles each description,
confirms candidate works exactly and keeps, per clause, how much of it is in each work; pass
two drops the boilerplate clauses, decides, and explains.
"""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

import numpy as np

from vigil.detectors.base import Detector, Findings, ListingFacts, Matcher, ScanStats
from vigil.detectors.seller import seller_key
from vigil.detectors.texts_stats import (
    ClusterInfo,
    TextObservation,
    TextSettings,
    TextStats,
    listing_key,
    text_settings,
)
from vigil.domain.assessment import Signal
from vigil.domain.listing import Listing
from vigil.domain.registry import Registry, WorkKind
from vigil.settings import ScanConfig
from vigil.texts.clusters import Sketcher
from vigil.texts.containment import IndexedWork, Match, WorkIndex
from vigil.texts.shingles import Shingler, clauses, normalize
from vigil.texts.works import WorkError, read_work_file


class TextMatcher(Matcher):
    """Pure and picklable: the works' index and the settings; no I/O while matching."""

    detector: ClassVar[str] = "texts"

    def __init__(
        self,
        settings: TextSettings,
        index: WorkIndex,
        authorized: dict[tuple[str, str], frozenset[str]],
        seeds: frozenset[int],
        warnings: list[str],
    ) -> None:
        self.settings = settings
        self.index = index
        self.shingler = index.shingler
        self.sketcher = Sketcher(settings.copy_paste_cluster.num_perm)
        self.authorized = authorized
        self.seeds = seeds
        self._seed_array = np.array(sorted(seeds), dtype=np.uint64)
        self.warnings = warnings
        # Shorter descriptions can neither show a reportable copy nor join a cluster.
        self.shortest = min(
            settings.copyrighted_text.min_copied_chars, settings.copy_paste_cluster.min_chars
        )

    # -- pass one --------------------------------------------------------------------------

    def match(self, listing: Listing, findings: Findings) -> list[Signal]:
        description = listing.description
        if not self.settings.enabled or not description:
            return []
        text = normalize(description)
        seller = listing.seller.id if listing.seller else None
        key = listing_key(listing.platform, listing.listing_id)
        if len(text) < self.shortest:
            # Too short to copy a work or to cluster: only its clauses count, for boilerplate.
            cut = clauses(text)
            findings.notes["texts"] = TextObservation(
                key, seller, cut.hashes.tobytes(), cut.prose.tobytes(), None
            )
            return []
        shingled = self.shingler(text, normalized=True)
        matches: list[Match] = []
        copy = self.settings.copyrighted_text
        if len(shingled) >= copy.min_shingles and len(self.index):
            owned = (
                self.authorized.get((seller_key(listing.platform), seller_key(seller)), frozenset())
                if seller
                else frozenset()
            )
            for work, _, _ in self.index.candidates(shingled.unique())[:3]:
                if self.index.works[work].owner in owned:
                    continue
                found = self.index.match(shingled, work, min_copied=copy.min_copied_chars)
                if found is not None:
                    matches.append(found)
        signature = None
        if int(shingled.clause_prose.sum()) >= self.settings.copy_paste_cluster.min_chars:
            kept = ~np.isin(shingled.clause_hashes[shingled.clauses], self._seed_array)
            kept &= shingled.clause_prose[shingled.clauses] > 0
            if kept.any():
                signature = self.sketcher(np.unique(shingled.hashes[kept])).tobytes()
        findings.notes["texts"] = TextObservation(
            key,
            seller,
            shingled.clause_hashes.tobytes(),
            shingled.clause_prose.tobytes(),
            signature,
            matches,
        )
        return []

    def observe(self, listing: Listing, findings: Findings) -> TextObservation | None:
        observation: TextObservation | None = findings.notes.get("texts")
        return observation

    def new_stats(self) -> TextStats:
        return TextStats(self.settings, self.seeds)

    # -- pass two --------------------------------------------------------------------------

    def match_scan(self, facts: ListingFacts, stats: ScanStats) -> list[Signal]:
        assert isinstance(stats, TextStats)
        key = listing_key(facts.platform, facts.listing_id)
        matches = stats.pending.get(key)
        if matches is None and not stats.signature_owner.size:
            return []
        boilerplate, clusters = stats.final()
        signals: list[Signal] = []
        if matches:
            copied = self._copied(matches, boilerplate)
            if copied is not None:
                signals.append(copied)
        cluster_of = clusters.get(key)
        if cluster_of is not None:
            signals.append(self._cluster_signal(cluster_of))
        return signals

    def _copied(self, matches: list[Match], boilerplate: frozenset[int]) -> Signal | None:
        copy = self.settings.copyrighted_text
        best: tuple[int, float, Match] | None = None
        for match in matches:
            shingles = matched = chars = 0
            for h, total, hit, covered in zip(
                match.clause_hashes, match.clause_shingles, match.clause_matched,
                match.clause_copied, strict=True,
            ):  # fmt: skip
                if h in boilerplate:
                    continue
                shingles += total
                matched += hit
                chars += covered
            if not shingles or chars < copy.min_copied_chars:
                continue
            containment = matched / shingles
            if containment < copy.min_containment and chars < copy.long_copy_chars:
                continue
            if best is None or (chars, containment) > best[:2]:
                best = (chars, containment, match)
        if best is None:
            return None
        chars, containment, match = best
        work = self.index.works[match.work]
        span = max(copy.long_copy_chars - copy.min_copied_chars, 1)
        share = min(max((chars - copy.min_copied_chars) / span, 0.0), 1.0)
        weight = copy.weight_min + (copy.weight_max - copy.weight_min) * share
        passage = match.passage if len(match.passage) <= 300 else match.passage[:299] + "…"
        return Signal(
            detector=self.detector,
            kind="copyrighted_text",
            asset=f"work:{work.key}",
            weight=round(weight, 3),
            evidence=passage,
            explanation=(
                f"The description copies the registered work “{work.title}” of {work.owner}: "
                f"{containment:.0%} of it ({chars} characters) is in the work."
            ),
            details={
                "work": work.title,
                "owner": work.owner,
                "containment": round(containment, 3),
                "copied_chars": chars,
                "passage": match.passage,
                "work_excerpt": match.excerpt,
                "work_offset": match.work_offset,
                "brand": work.brand,
            },
        )

    def _cluster_signal(self, cluster: ClusterInfo) -> Signal:
        settings = self.settings.copy_paste_cluster
        span = max(settings.many_sellers - settings.min_sellers, 1)
        share = min(max((cluster.sellers - settings.min_sellers) / span, 0.0), 1.0)
        weight = settings.weight_min + (settings.weight_max - settings.weight_min) * share
        return Signal(
            detector=self.detector,
            kind="copy_paste_cluster",
            asset=f"cluster:{cluster.key}",
            weight=round(weight, 3),
            evidence=f"{cluster.listings} listings by {cluster.sellers} sellers",
            explanation=(
                f"The description is near-identical to those of {cluster.listings - 1} other "
                f"listings from {cluster.sellers} sellers in this scan: one template pasted "
                "across shops."
            ),
            details={
                "cluster": cluster.key,
                "listings": cluster.listings,
                "sellers": cluster.sellers,
                "similarity": cluster.similarity,
            },
        )


class TextDetector(Detector):
    name: ClassVar[str] = "texts"
    stage: ClassVar[int] = 20
    description: ClassVar[str] = (
        "Descriptions copied from registered works (containment search), and copy-paste "
        "clusters of near-identical descriptions posted by many sellers."
    )

    def compile(self, registry: Registry, config: ScanConfig) -> TextMatcher:
        settings = text_settings(config)
        shingler = Shingler(settings.cjk_window, settings.word_window)
        index = WorkIndex(
            shingler, candidate_containment=settings.copyrighted_text.candidate_containment
        )
        warnings: list[str] = []
        owned: dict[str, list[str]] = {}
        for brand in registry.brands:
            if brand.owner:
                owned.setdefault(brand.owner, []).append(brand.name)
        works: list[tuple[IndexedWork, str]] = []
        if settings.enabled:
            for work in registry.works:
                if work.kind is not WorkKind.TEXT:
                    continue
                texts = []
                for file in work.files:
                    try:
                        read = read_work_file(Path(file), max_bytes=settings.max_work_bytes)
                    except WorkError as error:
                        warnings.append(f"work “{work.title}” of {work.owner}: {error}")
                        continue
                    if read.encoding not in ("utf-8", "utf-8-sig", "utf-16", "utf-32"):
                        warnings.append(
                            f"work “{work.title}” of {work.owner}: {file} was read as "
                            f"{read.encoding}; save it as UTF-8 to be sure it reads right"
                        )
                    texts.append(read.text)
                if not texts:
                    if work.files:
                        continue
                    warnings.append(
                        f"work “{work.title}” of {work.owner} has no files; upload its text"
                    )
                    continue
                brands = owned.get(work.owner, [])
                entry = IndexedWork(
                    key=f"{work.owner}/{work.title}",
                    owner=work.owner,
                    title=work.title,
                    brand=brands[0] if len(brands) == 1 else None,
                )
                works.append((entry, "\n".join(texts)))
        index.build(works)
        authorized: dict[tuple[str, str], set[str]] = {}
        for brand in registry.brands:
            for entry_ in brand.authorized_sellers:
                if brand.owner:
                    key = (seller_key(entry_.platform), seller_key(entry_.seller_id))
                    authorized.setdefault(key, set()).add(brand.owner)
        seeds = (
            frozenset(
                int(h)
                for phrase in settings.boilerplate.phrases
                for h in shingler(phrase).clause_hashes.tolist()
            )
            | index.shared_clauses
        )
        return TextMatcher(
            settings,
            index,
            {k: frozenset(v) for k, v in authorized.items()},
            seeds,
            warnings,
        )
