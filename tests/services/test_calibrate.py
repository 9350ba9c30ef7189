"""Calibration from cases' outcomes: refusals, the fit, apply and rollback, and scans that
score with what was applied. On SQLite and PostgreSQL (the `store` fixture)."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import pytest
import yaml
from sqlalchemy import select, update

from tests.calibration_factories import decide, drawn_outcomes, later
from tests.factories import listing, read_jsonl, write_jsonl, write_registry
from vigil.services.calibrate import (
    Calibration,
    CalibrationRefused,
    apply,
    calibrate,
    gather_outcomes,
    rollback,
)
from vigil.services.registry import load_registry
from vigil.services.scan import scan
from vigil.settings import ConfigError, load_scan_config
from vigil.store.db import Store, cli_actor
from vigil.store.tables import AuditEventRow, SignalRow

# Counterfeit wording's detectors say 5.0; in this world it is worth 0.3 of that. Brand
# variants are worth what their detector says.
DETECTOR_WEIGHTS = {"brand_variant": 4.5, "counterfeit_wording": 5.0}
TRUE_SCALE = {"brand_variant": 1.0, "counterfeit_wording": 0.3}


def over_weighted_world(store: Store, count: int = 800) -> None:
    decide(store, drawn_outcomes(count, DETECTOR_WEIGHTS, TRUE_SCALE))


def factor(result: Calibration, kind: str) -> float:
    return next(k.factor for k in result.fit.kinds if k.kind == kind)


def test_too_few_outcomes_are_refused(store: Store, tmp_path: Path) -> None:
    decide(store, [({"brand_variant": 3.0}, "confirmed")] * 10 + [({}, "dismissed")] * 10)
    with pytest.raises(CalibrationRefused) as refused:
        calibrate(store, tmp_path)
    message = str(refused.value)
    assert "at least 50 decided listings" in message and "there are 20" in message
    assert "Decide more cases" in message
    assert not (tmp_path / "calibration").exists()


def test_outcomes_of_one_decision_only_are_refused(store: Store, tmp_path: Path) -> None:
    decide(store, [({"brand_variant": 3.0}, "confirmed")] * 55 + [({}, "dismissed")] * 5)
    with pytest.raises(CalibrationRefused, match="at least 10 dismissed listings"):
        calibrate(store, tmp_path)


def test_outcomes_of_flagged_listings_alone_are_refused(store: Store, tmp_path: Path) -> None:
    # Every decided listing was flagged by the current weights (risk ≥ 0.4): nothing shows
    # what the scorer misses below the review line.
    flagged = [({"counterfeit_wording": 5.0}, "confirmed")] * 50
    decide(store, flagged + [({"counterfeit_wording": 5.0}, "dismissed")] * 20)
    with pytest.raises(CalibrationRefused) as refused:
        calibrate(store, tmp_path)
    assert "decided listings that the current weights clear" in str(refused.value)
    assert "audit sample" in str(refused.value)


def test_an_over_weighted_kind_gets_a_lower_factor(store: Store, tmp_path: Path) -> None:
    over_weighted_world(store)
    result = calibrate(store, tmp_path)
    assert factor(result, "counterfeit_wording") < 0.6
    assert 0.7 < factor(result, "brand_variant") < 1.4
    # Listings with the wording alone were flagged and mostly dismissed: the new weights flag
    # fewer of them, so flagged listings are more often confirmed on the held-out split.
    assert result.fit.after.precision > result.fit.before.precision
    assert result.fit.held_out == round(0.3 * 800)
    # Fitting writes nothing.
    assert not (tmp_path / "calibration").exists()


def test_apply_writes_the_weights_and_keeps_the_previous(store: Store, tmp_path: Path) -> None:
    over_weighted_world(store)
    first = calibrate(store, tmp_path)
    path = apply(store, tmp_path, first, actor=cli_actor())
    assert path == tmp_path / "calibration" / "weights.yaml"
    written = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert written["prior"] == first.fit.fitted.prior
    assert written["fitted"]["outcomes"] == 800
    scoring = load_scan_config(tmp_path).scoring
    assert scoring.prior == first.fit.fitted.prior
    assert scoring.kind_scale["counterfeit_wording"] == factor(first, "counterfeit_wording")
    assert not list((tmp_path / "calibration" / "history").glob("*"))

    # A second fit starts from the applied weights; applying it keeps the first in history.
    first_bytes = path.read_bytes()
    second = calibrate(store, tmp_path)
    assert second.fit.current.prior == first.fit.fitted.prior
    apply(store, tmp_path, second, actor=cli_actor())
    kept = list((tmp_path / "calibration" / "history").glob("weights-*.yaml"))
    assert [p.read_bytes() for p in kept] == [first_bytes]
    with store.session() as session:
        actions = session.scalars(
            select(AuditEventRow.action).where(AuditEventRow.action.like("calibration.%"))
        ).all()
    assert actions == ["calibration.apply", "calibration.apply"]


def test_rollback_restores_the_previous_weights(store: Store, tmp_path: Path) -> None:
    over_weighted_world(store)
    configured = load_scan_config(tmp_path).scoring
    first = calibrate(store, tmp_path)
    apply(store, tmp_path, first, actor=cli_actor())
    first_bytes = (tmp_path / "calibration" / "weights.yaml").read_bytes()
    decide(store, drawn_outcomes(200, DETECTOR_WEIGHTS, TRUE_SCALE, seed=8))
    apply(store, tmp_path, calibrate(store, tmp_path), actor=cli_actor())

    back = rollback(store, tmp_path, actor=cli_actor())
    assert back.restored is not None
    assert (tmp_path / "calibration" / "weights.yaml").read_bytes() == first_bytes
    assert load_scan_config(tmp_path).scoring.prior == first.fit.fitted.prior

    # Rolling back the first calibration returns to the configured weights.
    back = rollback(store, tmp_path, actor=cli_actor())
    assert back.restored is None and back.set_aside.exists()
    assert not (tmp_path / "calibration" / "weights.yaml").exists()
    assert load_scan_config(tmp_path).scoring == configured
    with pytest.raises(CalibrationRefused, match="nothing to roll back"):
        rollback(store, tmp_path, actor=cli_actor())
    with store.session() as session:
        rollbacks = session.scalars(
            select(AuditEventRow.subject).where(AuditEventRow.action == "calibration.rollback")
        ).all()
    assert len(rollbacks) == 2


def test_a_listing_in_several_cases_counts_once_with_its_latest_decision(store: Store) -> None:
    pks = decide(store, [({"brand_variant": 3.0}, "confirmed"), ({}, "dismissed")])
    decide(store, [({}, "dismissed"), ({}, "confirmed")], at=later(5), listing_pks=pks)
    outcomes = gather_outcomes(store)
    assert outcomes.listing_pks == pks
    assert outcomes.confirmed.tolist() == [False, True]
    assert outcomes.features.tolist() == [[3.0], [0.0]]


def test_a_scaled_signal_is_refitted_from_its_detector_weight(store: Store) -> None:
    (pk,) = decide(store, [({"counterfeit_wording": 1.5}, "confirmed")])
    with store.session() as session:
        # As a scan under kind_scale 0.3 stores it: the weight it scored with, and its own.
        session.execute(
            update(SignalRow)
            .where(SignalRow.listing_pk == pk)
            .values(details={"detector_weight": 5.0, "kind_scale": 0.3})
        )
    assert gather_outcomes(store).features.tolist() == [[5.0]]


def test_scans_after_apply_score_with_the_new_weights(store: Store, tmp_path: Path) -> None:
    home = tmp_path / "home"
    load_registry(store, write_registry(tmp_path / "registry.yaml"))
    feed = write_jsonl(tmp_path / "feed.jsonl", [listing(title="高仿 小米14 Ultra")])

    def scanned(out: str) -> tuple[dict[str, Any], dict[str, Any]]:
        """The listing's assessment and its wording signal."""
        scan(store, [str(feed)], tmp_path / out, config=load_scan_config(home))
        (row,) = read_jsonl(tmp_path / out / "assessments.jsonl")
        (wording,) = (s for s in row["signals"] if s["kind"] == "counterfeit_wording")
        return row, wording

    before, wording = scanned("before")
    over_weighted_world(store)
    result = calibrate(store, home)
    apply(store, home, result, actor=cli_actor())
    after, scaled = scanned("after")

    assert after["risk"] < before["risk"]
    # Every contribution stays visible: the weight as scored, the detector's own beside it.
    scale = factor(result, "counterfeit_wording")
    assert scaled["weight"] == pytest.approx(wording["weight"] * scale, abs=1e-3)
    assert scaled["details"]["detector_weight"] == wording["weight"]
    assert scaled["explanation"] == wording["explanation"]
    log_odds = result.fit.fitted.prior + sum(s["weight"] for s in after["signals"])
    assert after["risk"] == pytest.approx(1 / (1 + math.exp(-log_odds)), abs=1e-3)


def test_the_refusal_rules_are_settings_of_the_home(store: Store, tmp_path: Path) -> None:
    over_weighted_world(store)
    (tmp_path / "calibration.yaml").write_text("min_outcomes: 1000\n", encoding="utf-8")
    with pytest.raises(CalibrationRefused, match="at least 1000 decided listings"):
        calibrate(store, tmp_path)
    (tmp_path / "calibration.yaml").write_text("scale_min: 5\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="scale_min"):
        calibrate(store, tmp_path)
