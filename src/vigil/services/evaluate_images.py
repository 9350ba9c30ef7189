"""How well a scan read the sample's photos, against `image_truth.jsonl`.

`vigil sample` records, for every image of every listing, what the photo really is: an official
photo as published or edited, an edited photo from a counterfeit case, a scene with a registered
logo pasted in, a seller's own photo, or a broken reference. This compares that with the image
signals and image records of the scan's assessments:

- recall of `official_image_reuse` over official photos shown by counterfeit sellers (edited
  and as published, counted apart), and of `known_counterfeit_image` over edited case photos —
  a hit must name the right image and the right asset;
- false matches: any photo signal on a photo that is not a registered one (own photos, scenes);
- logo detection: recall over pasted logos (right image, right brand) and precision over every
  `logo_match` the scan made;
- broken references recorded with a reason.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import orjson

from vigil.services.evaluate import EvaluationError

PHOTO_KINDS = {"official_image_reuse", "known_counterfeit_image", "copyrighted_image"}


def _rows(path: Path) -> list[dict[str, Any]]:
    try:
        data = path.read_bytes()
    except OSError as error:
        raise EvaluationError(f"cannot read {path}: {error.strerror or error}") from error
    rows = []
    for number, line in enumerate(data.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            rows.append(orjson.loads(line))
        except orjson.JSONDecodeError as error:
            raise EvaluationError(f"{path}:{number}: not valid JSON: {error}") from error
    return rows


def _ratio(hit: int, total: int) -> float | None:
    return round(hit / total, 4) if total else None


def evaluate_images(assessments: Path, image_truth: Path, truth: Path) -> dict[str, Any]:
    """Image detection figures of a scan of the sample (see the module docstring)."""
    labels = {(r["platform"], r["listing_id"]): r["label"] for r in _rows(truth)}
    scanned = {(r["platform"], r["listing_id"]): r for r in _rows(assessments)}
    hits: Counter[str] = Counter()
    totals: Counter[str] = Counter()
    false_photo = 0
    logo_right = 0
    for row in _rows(image_truth):
        key = (row["platform"], row["listing_id"])
        assessment = scanned.get(key)
        if assessment is None:
            continue
        signals = [s for s in assessment["signals"] if s["detector"] == "images"]
        on_image = [s for s in signals if (s.get("details") or {}).get("image") == row["image"]]
        kind = row["kind"]
        if kind in ("official", "official_edit") and labels.get(key) == "counterfeit":
            group = "official_edited" if kind == "official_edit" else "official_as_published"
            totals[group] += 1
            hits[group] += any(
                s["kind"] == "official_image_reuse" and s["asset"] == row["asset"] for s in on_image
            )
        elif kind == "counterfeit_edit":
            totals["counterfeit_edited"] += 1
            hits["counterfeit_edited"] += any(
                s["kind"] == "known_counterfeit_image" and s["asset"] == row["asset"]
                for s in on_image
            )
        elif kind in ("own", "logo_scene"):
            totals["unrelated_photos"] += 1
            false_photo += any(s["kind"] in PHOTO_KINDS for s in on_image)
        if kind == "logo_scene":
            totals["logos"] += 1
            hits["logos"] += any(
                s["kind"] == "logo_match" and s["asset"] == f"logo:{row['brand']}" for s in on_image
            )
        elif kind == "broken":
            totals["broken"] += 1
            records = {r["ref"]: r for r in assessment.get("image_records", [])}
            hits["broken"] += bool(records.get(row["image"], {}).get("error"))
    truth_logos = {
        (r["platform"], r["listing_id"], r["image"], f"logo:{r['brand']}")
        for r in _rows(image_truth)
        if r["kind"] == "logo_scene"
    }
    logo_signals = [
        (key[0], key[1], (s.get("details") or {}).get("image"), s["asset"])
        for key, a in scanned.items()
        for s in a["signals"]
        if s["kind"] == "logo_match"
    ]
    logo_right = sum(signal in truth_logos for signal in logo_signals)
    recall = {group: _ratio(hits[group], totals[group]) for group in sorted(totals)}
    return {
        "recall": {k: v for k, v in recall.items() if k != "unrelated_photos"},
        "counts": {group: {"total": totals[group], "found": hits[group]} for group in totals},
        "false_photo_matches": false_photo,
        "unrelated_photos": totals["unrelated_photos"],
        "logo_precision": _ratio(logo_right, len(logo_signals)),
        "logo_recall": recall.get("logos"),
        "logo_signals": len(logo_signals),
    }
