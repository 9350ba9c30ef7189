"""How well a scan read the sample's texts, against `text_truth.jsonl`.

`vigil sample` records every listing that copies a registered work (which work, how many
characters, with what edit, in which language, whether an official shop of the brand posted
it), every listing of a ring of sellers pasting one description, and every listing whose
description is nothing but shop boilerplate. This compares that with the `copyrighted_text` and
`copy_paste_cluster` signals of the scan's assessments:

- recall of `copyrighted_text` over the listings that copy a work, not counting official shops:
  a hit names the right work (asset `work:{owner}/{title}`); overall, for the headline group
  (passages of `HEADLINE_CHARS` characters or more, copied with any of `HEADLINE_EDITS`), and
  by edit, language, passage length and truth label;
- precision over every `copyrighted_text` signal: right when the listing copies that work and
  is no official shop's; the headline precision leaves out the signals on copies outside the
  headline group (short passages), which neither help nor hurt it;
- false flags: signals on boilerplate-only listings, on official shops' listings, and on
  listings that copy nothing;
- cluster recovery: pairwise precision and recall of the scan's clusters (`details.cluster`)
  against the sample's rings, counted from the sizes of the groups, never pair by pair.
  Listings that copy a work are left out: many sellers pasting one official description are
  a cluster a scan may well report, and they are the copied-text figures' business.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any, NamedTuple

from vigil.services.evaluate import EvaluationError, json_lines, read_truth

EDITS = ("verbatim", "light", "reordered", "inserted", "traditional")
HEADLINE_EDITS = frozenset(EDITS)
HEADLINE_CHARS = 200
LENGTHS = (("<100", 0, 100), ("100-199", 100, 200), (">=200", 200, None))
_FIELDS = (
    "platform",
    "listing_id",
    "work",
    "copied_chars",
    "edit",
    "lang",
    "ring",
    "boilerplate_only",
    "authorized",
)

Key = tuple[str, str]


class TextTruth(NamedTuple):
    work: str | None
    copied_chars: int
    edit: str | None
    lang: str
    ring: str | None
    boilerplate_only: bool
    authorized: bool


class Read(NamedTuple):
    """What the scan said about one listing's text."""

    works: frozenset[str]  # assets of its copyrighted_text signals
    cluster: str | None


def evaluate_texts(assessments: Path, text_truth: Path, truth: Path) -> dict[str, Any]:
    """Text detection figures of a scan of the sample (see the module docstring)."""
    labels = read_truth(truth)
    texts = _read_text_truth(text_truth)
    scanned = _read_assessments(assessments)
    missing = sum(1 for key in texts if key not in scanned)
    return {
        "copyrighted_text": _copies(texts, scanned, {k: v.value for k, v in labels.items()}),
        "clusters": _clusters(texts, scanned),
        "text_truth_rows": len(texts),
        "missing_assessment": missing,
    }


def _copies(
    texts: dict[Key, TextTruth], scanned: dict[Key, Read], labels: dict[Key, str]
) -> dict[str, Any]:
    totals: Counter[str] = Counter()
    found: Counter[str] = Counter()
    flagged: Counter[str] = Counter()
    signals = correct = wrong_work = 0
    headline_signals = headline_correct = 0
    for key, read in scanned.items():
        row = texts.get(key)
        copies = row is not None and row.work is not None and not row.authorized
        right = f"work:{row.work}" if copies and row is not None else None
        hits = sum(asset == right for asset in read.works)
        signals += len(read.works)
        correct += hits
        in_headline = not copies or (row is not None and _headline(row))
        if in_headline:
            headline_signals += len(read.works)
            headline_correct += hits
        if copies and row is not None:
            wrong_work += len(read.works) - hits
            for group in _groups(row, labels.get(key)):
                totals[group] += 1
                found[group] += hits > 0
            continue
        kind = (
            "authorized"
            if row is not None and row.authorized
            else "boilerplate_only"
            if row is not None and row.boilerplate_only
            else "no_copy"
        )
        totals[f"innocent:{kind}"] += 1
        flagged[kind] += bool(read.works)
    groups = sorted((g for g in totals if not g.startswith("innocent:")), key=_order)
    recall = {
        group: {
            "total": totals[group],
            "found": found[group],
            "recall": _ratio(found[group], totals[group]),
        }
        for group in groups
    }
    return {
        "precision": _ratio(correct, signals),
        "headline_precision": _ratio(headline_correct, headline_signals),
        "recall": recall.get("all", {}).get("recall"),
        "headline_recall": recall.get("headline", {}).get("recall"),
        "signals": signals,
        "correct": correct,
        "wrong_work": wrong_work,
        "groups": recall,
        "false_flags": {
            kind: {"flagged": flagged[kind], "total": totals[f"innocent:{kind}"]}
            for kind in ("boilerplate_only", "authorized", "no_copy")
        },
    }


def _headline(row: TextTruth) -> bool:
    return row.copied_chars >= HEADLINE_CHARS and row.edit in HEADLINE_EDITS


def _groups(row: TextTruth, label: str | None) -> Iterator[str]:
    """The recall groups a copying listing counts in."""
    yield "all"
    if _headline(row):
        yield "headline"
    yield f"edit:{row.edit}"
    yield f"lang:{row.lang}"
    for name, low, high in LENGTHS:
        if row.copied_chars >= low and (high is None or row.copied_chars < high):
            yield f"length:{name}"
    if label is not None:
        yield f"label:{label}"


def _order(group: str) -> tuple[int, int, str]:
    """Groups in reading order: all, headline, edits, languages, lengths, labels."""
    kind, _, value = group.partition(":")
    rank = ("all", "headline", "edit", "lang", "length", "label").index(kind)
    within = {name: i for i, (name, _, _) in enumerate(LENGTHS)} | {
        e: i for i, e in enumerate(EDITS)
    }
    return rank, within.get(value, len(EDITS)), value


def _clusters(texts: dict[Key, TextTruth], scanned: dict[Key, Read]) -> dict[str, Any]:
    """Pairwise precision and recall of the scan's clusters against the sample's rings."""
    rings: Counter[str] = Counter()
    clusters: Counter[str] = Counter()
    both: Counter[tuple[str, str]] = Counter()
    copies = 0
    for key, read in scanned.items():
        row = texts.get(key)
        if row is not None and row.work is not None:
            copies += read.cluster is not None
            continue
        ring = row.ring if row is not None else None
        if ring is not None:
            rings[ring] += 1
        if read.cluster is not None:
            clusters[read.cluster] += 1
            if ring is not None:
                both[ring, read.cluster] += 1
    true_pairs = sum(_pairs(n) for n in both.values())
    truth_pairs = sum(_pairs(n) for n in rings.values())
    predicted_pairs = sum(_pairs(n) for n in clusters.values())
    return {
        "pairwise_precision": _ratio(true_pairs, predicted_pairs),
        "pairwise_recall": _ratio(true_pairs, truth_pairs),
        "true_pairs": true_pairs,
        "truth_pairs": truth_pairs,
        "predicted_pairs": predicted_pairs,
        "rings": len(rings),
        "clusters": len(clusters),
        "listings_in_rings": sum(rings.values()),
        "listings_clustered": sum(clusters.values()),
        "copies_clustered": copies,  # left out of the figures above
    }


def _pairs(n: int) -> int:
    return n * (n - 1) // 2


def _ratio(hit: int, total: int) -> float | None:
    return round(hit / total, 4) if total else None


def _read_text_truth(path: Path) -> dict[Key, TextTruth]:
    rows: dict[Key, TextTruth] = {}
    for number, row in json_lines(path):
        missing = [name for name in _FIELDS if not isinstance(row, dict) or name not in row]
        problem = f"missing {', '.join(repr(m) for m in missing)}" if missing else None
        if problem is None and row["edit"] not in (None, *EDITS):
            problem = f"unknown edit {row['edit']!r}"
        if problem is None and not isinstance(row["copied_chars"], int):
            problem = "copied_chars is not a whole number"
        if problem is not None:
            raise EvaluationError(
                f"{path}, line {number}: not a text truth row ({problem}); pass the "
                "text_truth.jsonl that `vigil sample` wrote"
            )
        rows[str(row["platform"]), str(row["listing_id"])] = TextTruth(
            work=row["work"],
            copied_chars=row["copied_chars"],
            edit=row["edit"],
            lang=str(row["lang"]),
            ring=row["ring"],
            boilerplate_only=bool(row["boilerplate_only"]),
            authorized=bool(row["authorized"]),
        )
    return rows


def _read_assessments(path: Path) -> dict[Key, Read]:
    scanned: dict[Key, Read] = {}
    for number, row in json_lines(path):
        try:
            key = (str(row["platform"]), str(row["listing_id"]))
            works = frozenset(
                str(s["asset"]) for s in row["signals"] if s["kind"] == "copyrighted_text"
            )
            clusters = [
                str((s.get("details") or {})["cluster"])
                for s in row["signals"]
                if s["kind"] == "copy_paste_cluster"
            ]
        except (KeyError, TypeError) as error:
            raise EvaluationError(
                f"{path}, line {number}: not an assessment ({error!r} is missing or malformed); "
                "pass the assessments.jsonl a scan wrote"
            ) from error
        scanned.setdefault(key, Read(works, min(clusters) if clusters else None))
    return scanned
