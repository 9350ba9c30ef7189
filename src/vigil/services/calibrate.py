"""Learning from outcomes: fit the scorer's weights to the decisions analysts recorded on cases.

Each listing of a decided case is one example (a listing in several cases counts once, with its
latest decision); its features are the sums of its signals' detector weights per kind (see
`vigil.pipeline.calibration`). Nothing is written unless asked: `apply` writes
`<home>/calibration/weights.yaml`, which `load_scan_config` reads over the configured scoring,
and keeps the weights it replaces under `<home>/calibration/history/` for `rollback`.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import yaml
from sqlalchemy import func, select

from vigil.domain.cases import Decision
from vigil.domain.people import Actor
from vigil.errors import VigilError
from vigil.files import write_atomic
from vigil.pipeline.calibration import CalibrationRules, Fit, Outcomes, Weights, fit
from vigil.settings import (
    CALIBRATED_WEIGHTS,
    ScanConfig,
    load_layered,
    load_scan_config,
)
from vigil.store.db import Store, audit
from vigil.store.tables import CaseEventRow, CaseListingRow, CaseRow, SignalRow, as_utc

HISTORY = CALIBRATED_WEIGHTS.parent / "history"
DECIDED = (Decision.CONFIRMED.value, Decision.DISMISSED.value)


class CalibrationRefused(VigilError):
    """There are not outcomes enough, or not of the right kind, to fit weights from."""


def load_rules(home: Path | None = None) -> CalibrationRules:
    """The shipped `vigil/data/calibration.yaml`, with `<home>/calibration.yaml` merged over."""
    override = home / "calibration.yaml" if home is not None else None
    return load_layered(CalibrationRules, "calibration.yaml", override, "calibration settings")


def gather_outcomes(store: Store) -> Outcomes:
    """Every listing of a decided case, with its latest decision and its signals' features."""
    decided_at = (
        select(CaseEventRow.case_id, func.max(CaseEventRow.at).label("at"))
        .where(CaseEventRow.to_state.in_(DECIDED))
        .group_by(CaseEventRow.case_id)
        .subquery()
    )
    query = (
        select(
            CaseListingRow.listing_pk,
            CaseRow.decision,
            func.coalesce(decided_at.c.at, CaseRow.updated_at),
            CaseRow.id,
        )
        .join(CaseRow, CaseRow.id == CaseListingRow.case_id)
        .outerjoin(decided_at, decided_at.c.case_id == CaseRow.id)
        .where(CaseRow.decision.in_(DECIDED))
    )
    in_decided = (
        select(CaseListingRow.listing_pk)
        .join(CaseRow, CaseRow.id == CaseListingRow.case_id)
        .where(CaseRow.decision.in_(DECIDED))
    )
    latest: dict[int, tuple[datetime, int, str]] = {}
    sums: dict[int, dict[str, float]] = defaultdict(lambda: defaultdict(float))
    with store.session() as session:
        for listing_pk, decision, at, case_id in session.execute(query):
            key = (as_utc(at), case_id, decision)
            if listing_pk not in latest or key[:2] > latest[listing_pk][:2]:
                latest[listing_pk] = key
        signals = select(
            SignalRow.listing_pk, SignalRow.kind, SignalRow.weight, SignalRow.details
        ).where(SignalRow.listing_pk.in_(in_decided))
        for listing_pk, kind, weight, details in session.execute(signals):
            # A scan under calibrated weights stores the scaled weight and keeps the
            # detector's own in the details: the fit is always on the detectors' weights.
            own = (details or {}).get("detector_weight", weight)
            sums[listing_pk][kind] += float(own)
    pks = sorted(latest)
    kinds = sorted({kind for pk in pks for kind in sums.get(pk, {})})
    features = np.zeros((len(pks), len(kinds)), dtype=np.float64)
    column = {kind: i for i, kind in enumerate(kinds)}
    for row, pk in enumerate(pks):
        for kind, total in sums.get(pk, {}).items():
            features[row, column[kind]] = total
    confirmed = np.array([latest[pk][2] == Decision.CONFIRMED.value for pk in pks], dtype=bool)
    return Outcomes(kinds=kinds, features=features, confirmed=confirmed, listing_pks=pks)


@dataclass(frozen=True)
class Calibration:
    """A fit and what it was fitted from; `apply` writes its weights."""

    fit: Fit
    outcomes: int
    cleared: int  # decided listings the current weights score below the review line
    threshold: float  # the suspicion threshold "flagged" is measured at
    rules: CalibrationRules

    def as_json(self) -> dict[str, Any]:
        return {
            **self.fit.as_json(),
            "cleared_outcomes": self.cleared,
            "flagged_at": self.threshold,
        }


def current_weights(config: ScanConfig) -> Weights:
    scoring = config.scoring
    charge_prior = scoring.prior if scoring.charge_prior is None else scoring.charge_prior
    return Weights(scoring.prior, dict(scoring.kind_scale), charge_prior=charge_prior)


def calibrate(
    store: Store,
    home: Path,
    *,
    config: ScanConfig | None = None,
    rules: CalibrationRules | None = None,
) -> Calibration:
    """Fit weights to the cases' outcomes and measure them against the current ones on a
    held-out split; writes nothing. Refuses (CalibrationRefused) when outcomes are too few."""
    config = config or load_scan_config(home)
    rules = rules or load_rules(home)
    outcomes = gather_outcomes(store)
    current = current_weights(config)
    thresholds = config.scoring.thresholds
    review_line = float(np.log(thresholds.needs_review / (1 - thresholds.needs_review)))
    cleared = int((current.log_odds(outcomes) < review_line).sum()) if len(outcomes) else 0
    _check_enough(outcomes, cleared, rules, thresholds.needs_review)
    threshold = min(thresholds.counterfeit_suspected, thresholds.infringement_suspected)
    result = fit(outcomes, current, rules, threshold=threshold)
    return Calibration(result, len(outcomes), cleared, threshold, rules)


def _check_enough(outcomes: Outcomes, cleared: int, rules: CalibrationRules, review: float) -> None:
    total = len(outcomes)
    confirmed = int(outcomes.confirmed.sum())
    dismissed = total - confirmed
    again = "then run `vigil calibrate` again"
    if total < rules.min_outcomes:
        raise CalibrationRefused(
            f"calibration needs at least {rules.min_outcomes} decided listings (the listings of "
            f"confirmed or dismissed cases); there are {total}. Decide more cases, {again}"
        )
    for name, count in (("confirmed", confirmed), ("dismissed", dismissed)):
        if count < rules.min_each:
            raise CalibrationRefused(
                f"calibration needs at least {rules.min_each} {name} listings to learn from "
                f"both kinds of decision; there are {count} ({confirmed} confirmed, "
                f"{dismissed} dismissed). Decide more cases, {again}"
            )
    if cleared < rules.min_cleared:
        raise CalibrationRefused(
            f"calibration needs at least {rules.min_cleared} decided listings that the current "
            f"weights clear (risk below {review:.2f}); there are {cleared}. Outcomes of flagged "
            "listings alone cannot show what the scorer misses below the review line, and "
            "weights fitted on them flag listings that should stay clear. Open and decide "
            f"cases on a random sample of cleared listings (an audit sample), {again}"
        )


def _stamp(moment: datetime) -> str:
    return moment.strftime("%Y%m%dT%H%M%S.%fZ")


def weights_document(calibration: Calibration, *, at: datetime, actor: Actor) -> dict[str, Any]:
    """What `weights.yaml` holds: the weights scans read, and how they were fitted."""
    result = calibration.fit
    return {
        "prior": result.fitted.prior,
        "kind_scale": result.fitted.kind_scale,
        "charge_prior": result.fitted.charge_prior,
        "fitted": {
            "at": at.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "by": actor.name,
            "outcomes": calibration.outcomes,
            "confirmed": result.confirmed,
            "dismissed": result.dismissed,
            "cleared_outcomes": calibration.cleared,
            "train": result.train,
            "held_out": result.held_out,
            "regularisation": result.regularisation,
            "class_weight": result.class_weight,
            "previous": {"prior": result.current.prior, "kind_scale": result.current.kind_scale},
            "kinds": {
                k.kind: {"examples": k.examples, "fitted": k.fitted, "note": k.note}
                for k in result.kinds
            },
            "held_out_before": result.before.as_json(),
            "held_out_after": result.after.as_json(),
        },
    }


def _dump(document: dict[str, Any]) -> bytes:
    header = (
        "# Scoring weights fitted by `vigil calibrate --apply` from the cases' outcomes: they\n"
        "# override scoring's prior, kind_scale and charge_prior. `vigil calibrate --rollback`\n"
        "# restores the previous ones (kept under history/).\n"
    )
    body = yaml.safe_dump(document, sort_keys=False, allow_unicode=True)
    return (header + body).encode("utf-8")


def apply(store: Store, home: Path, calibration: Calibration, *, actor: Actor) -> Path:
    """Write the fitted weights to `<home>/calibration/weights.yaml`, keeping the weights it
    replaces in the history; audited. The path written."""
    at = datetime.now(UTC)
    path = home / CALIBRATED_WEIGHTS
    document = weights_document(calibration, at=at, actor=actor)
    with store.session() as session:
        kept = _keep(path, home / HISTORY / f"weights-{_stamp(at)}.yaml")
        write_atomic(path, _dump(document), what="the calibrated weights")
        audit(
            session,
            action="calibration.apply",
            subject=str(CALIBRATED_WEIGHTS),
            details={
                "prior": document["prior"],
                "kind_scale": document["kind_scale"],
                "outcomes": calibration.outcomes,
                "held_out_before": calibration.fit.before.as_json(),
                "held_out_after": calibration.fit.after.as_json(),
                "kept": str(kept.relative_to(home)) if kept else None,
            },
            actor=actor,
        )
    return path


def _read(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as error:
        raise VigilError(
            f"cannot read the weights in {path}: {error.strerror or error}; check that the "
            "file is readable"
        ) from error


def _keep(path: Path, into: Path) -> Path | None:
    """Copy the weights at `path` (if any) into the history; where they went."""
    if not path.exists():
        return None
    write_atomic(into, _read(path), what="the calibration history")
    return into


@dataclass(frozen=True)
class Rollback:
    restored: Path | None  # the history file restored; None: back to the configured weights
    set_aside: Path  # where the weights rolled back were kept


def rollback(store: Store, home: Path, *, actor: Actor) -> Rollback:
    """Restore the newest weights of the history (or, when there are none, the configured
    weights); the weights rolled back are set aside, not lost. Audited."""
    path = home / CALIBRATED_WEIGHTS
    history = sorted((home / HISTORY).glob("weights-*.yaml"))
    if not path.exists():
        raise CalibrationRefused(
            f"nothing to roll back: {path} does not exist, so scans use the configured "
            "weights already"
        )
    at = datetime.now(UTC)
    aside = home / HISTORY / f"rolled-back-{_stamp(at)}.yaml"
    previous = history[-1] if history else None
    with store.session() as session:
        _keep(path, aside)
        if previous is None:
            path.unlink()
        else:
            write_atomic(path, _read(previous), what="the calibrated weights")
            previous.unlink()
        audit(
            session,
            action="calibration.rollback",
            subject=str(CALIBRATED_WEIGHTS),
            details={
                "restored": previous.name if previous else None,
                "set_aside": str(aside.relative_to(home)),
            },
            actor=actor,
        )
    return Rollback(previous, aside)
