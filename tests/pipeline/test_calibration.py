"""The fit behind `vigil calibrate`, and the scorer under calibrated weights: pure, no store."""

from __future__ import annotations

import numpy as np
import pytest

from tests.calibration_factories import drawn_outcomes
from vigil.pipeline.calibration import CalibrationRules, KindFit, Outcomes, Weights, fit
from vigil.pipeline.scoring import Scorer
from vigil.settings import ScoringConfig, Thresholds, load_scan_config

CONFIGURED = Weights(prior=-3.0, kind_scale={}, charge_prior=-3.0)


def outcomes_of(drawn: list[tuple[dict[str, float], str]]) -> Outcomes:
    kinds = sorted({kind for signals, _ in drawn for kind in signals})
    features = np.array([[signals.get(k, 0.0) for k in kinds] for signals, _ in drawn])
    confirmed = np.array([decision == "confirmed" for _, decision in drawn])
    return Outcomes(kinds, features.reshape(len(drawn), len(kinds)), confirmed)


def kinds_of(drawn: Outcomes, rules: CalibrationRules | None = None) -> dict[str, KindFit]:
    result = fit(drawn, CONFIGURED, rules or CalibrationRules(), threshold=0.8)
    return {k.kind: k for k in result.kinds}


def test_a_kind_that_truly_weighs_more_gets_a_larger_factor() -> None:
    drawn = drawn_outcomes(1500, {"price_below_msrp": 1.0, "brand_variant": 3.0},
                           {"price_below_msrp": 2.5, "brand_variant": 1.0})  # fmt: skip
    kinds = kinds_of(outcomes_of(drawn))
    assert 1.8 < kinds["price_below_msrp"].factor < 3.5
    assert 0.7 < kinds["brand_variant"].factor < 1.4


def test_a_kind_that_speaks_against_its_decisions_is_reported_not_applied() -> None:
    # Listings with this "signal" are confirmed less often than those without.
    drawn = drawn_outcomes(1500, {"brand_variant": 3.0, "unverified_official_claim": 2.0},
                           {"unverified_official_claim": -0.5})  # fmt: skip
    claim = kinds_of(outcomes_of(drawn))["unverified_official_claim"]
    assert claim.fitted is not None and claim.fitted < 0
    assert claim.factor == 1.0 and claim.note == "negative: not applied"


def test_factors_are_clipped_and_rare_kinds_keep_theirs() -> None:
    drawn = drawn_outcomes(1500, {"brand_variant": 0.5}, {"brand_variant": 12.0})
    drawn += [({"logo_match": 2.0}, "confirmed")] * 5
    rules = CalibrationRules(scale_max=3.0)
    kinds = kinds_of(outcomes_of(drawn), rules)
    variant = kinds["brand_variant"]
    assert variant.factor == 3.0 and variant.note == "clipped"
    assert variant.fitted is not None and variant.fitted > 3.0
    logo = kinds["logo_match"]
    assert logo.factor == 1.0 and logo.fitted is None and logo.note == "not fitted"


def test_a_fixed_regularisation_is_used_as_given() -> None:
    drawn = outcomes_of(drawn_outcomes(400, {"brand_variant": 3.0}, {}))
    result = fit(drawn, CONFIGURED, CalibrationRules(regularisation=0.5), threshold=0.8)
    assert result.regularisation == 0.5
    assert result.train + result.held_out == 400


def test_the_rules_refuse_an_empty_range() -> None:
    with pytest.raises(ValueError, match="scale_min"):
        CalibrationRules(scale_min=2.0, scale_max=1.0)
    with pytest.raises(ValueError, match="regularisation"):
        CalibrationRules(regularisation=[])


def scoring(**fields: object) -> ScoringConfig:
    thresholds = Thresholds(counterfeit_suspected=0.8, infringement_suspected=0.8, needs_review=0.4)
    return ScoringConfig.model_validate({"prior": -3.0, "thresholds": thresholds, **fields})


def test_the_scorer_multiplies_each_kind_by_its_factor() -> None:
    plain = Scorer(scoring())
    scaled = Scorer(scoring(kind_scale={"counterfeit_wording": 0.5}))
    signals = [("counterfeit_wording", 4.0), ("brand_variant", 1.0)]
    assert plain.score(signals, attributed=True).log_odds == pytest.approx(2.0)
    assert scaled.score(signals, attributed=True).log_odds == pytest.approx(0.0)


def test_a_scaled_signal_shows_its_weight_as_scored_and_its_own() -> None:
    scorer = Scorer(scoring(kind_scale={"counterfeit_wording": 0.5}))
    row = {"kind": "counterfeit_wording", "weight": 4.0, "explanation": "says 高仿"}
    shown = scorer.shown(row)
    assert shown["weight"] == 2.0 and shown["explanation"] == "says 高仿"
    assert shown["details"] == {"detector_weight": 4.0, "kind_scale": 0.5}
    other = {"kind": "brand_variant", "weight": 1.0}
    assert scorer.shown(other) is other


def test_the_charge_rule_reads_the_detectors_weights_and_its_own_prior() -> None:
    # A copy of a work plus weak signs of a fake: without the copy, -3 + 2.8 is worth a
    # review (0.45 ≥ 0.4), so the charge is counterfeiting, whatever calibration made of
    # the prior and the factors.
    signals = [("copyrighted_text", 4.6), ("copy_paste_cluster", 2.8)]
    configured = Scorer(scoring(infringement_kinds=["copyrighted_text"]))
    calibrated = Scorer(
        scoring(prior=-5.5, charge_prior=-3.0, kind_scale={"copy_paste_cluster": 1.3},
                infringement_kinds=["copyrighted_text"])
    )  # fmt: skip
    assert configured.score(signals, attributed=True).verdict.value == "counterfeit_suspected"
    assert calibrated.score(signals, attributed=True).verdict.value == "counterfeit_suspected"
    uncharged = Scorer(
        scoring(prior=-5.5, kind_scale={"copy_paste_cluster": 1.3},
                infringement_kinds=["copyrighted_text"])
    )  # fmt: skip
    assert uncharged.score(signals, attributed=True).verdict.value == "infringement_suspected"


def test_a_factor_must_be_positive() -> None:
    with pytest.raises(ValueError, match="kind_scale factors must be above 0"):
        scoring(kind_scale={"brand_variant": 0.0})


def test_the_shipped_configuration_scales_nothing() -> None:
    config = load_scan_config().scoring
    assert config.kind_scale == {} and config.charge_prior is None
