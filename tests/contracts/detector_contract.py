"""The contract every detector passes. Subclass `DetectorContract` once per detector and
provide the detector, a registry and listings that exercise it (some must produce signals)."""

from __future__ import annotations

import math
import pickle
import re
import socket
from typing import Any, ClassVar

import pytest

from vigil.detectors.base import Detector, Findings, Matcher, ScanWide
from vigil.detectors.manifest import load_detectors
from vigil.domain.assessment import Signal
from vigil.domain.listing import Listing
from vigil.domain.registry import Registry
from vigil.settings import ScanConfig, load_scan_config


def run_matcher(matcher: Matcher, listing: Listing) -> list[Signal]:
    return matcher.match(listing, Findings())


class DetectorContract:
    __test__ = False

    def __init_subclass__(cls, **kwargs: Any) -> None:
        # pytest reads __test__ through inheritance; a subclass is a real test class.
        super().__init_subclass__(**kwargs)
        cls.__test__ = True

    detector: ClassVar[Detector]

    def registry(self) -> Registry:
        raise NotImplementedError

    def listings(self) -> list[Listing]:
        """Listings of which at least one must produce a signal."""
        raise NotImplementedError

    def prepare(self, matchers: list[Matcher], listing: Listing) -> Findings:
        """Findings of the stages before this detector (override when the detector reads them)."""
        return Findings()

    @pytest.fixture
    def config(self) -> ScanConfig:
        return load_scan_config()

    @pytest.fixture
    def matcher(self, config: ScanConfig) -> Matcher:
        return self.detector.compile(self.registry(), config)

    def _signals(self, matcher: Matcher, listing: Listing) -> list[Signal]:
        return matcher.match(listing, self.prepare([matcher], listing))

    def test_name_is_snake_case_and_registered(self) -> None:
        assert re.fullmatch(r"[a-z][a-z0-9_]*", self.detector.name)
        installed = {d.name: type(d) for d in load_detectors()}
        assert installed.get(self.detector.name) is type(self.detector)

    def test_matcher_names_its_detector(self, matcher: Matcher) -> None:
        assert isinstance(matcher, Matcher)
        assert matcher.detector == self.detector.name

    def test_some_listing_gives_signals(self, matcher: Matcher) -> None:
        assert any(self._signals(matcher, listing) for listing in self.listings())

    def test_signals_are_well_formed(self, matcher: Matcher) -> None:
        for listing in self.listings():
            for signal in self._signals(matcher, listing):
                assert signal.detector == self.detector.name
                assert re.fullmatch(r"[a-z][a-z0-9_]*", signal.kind)
                assert math.isfinite(signal.weight)
                assert signal.evidence
                text = signal.explanation.strip()
                assert text and text[0].isupper() and text.endswith("."), text

    def test_pickled_matcher_gives_the_same_signals(self, matcher: Matcher) -> None:
        clone = pickle.loads(pickle.dumps(matcher))
        for listing in self.listings():
            assert self._signals(clone, listing) == self._signals(matcher, listing)

    def test_matching_does_no_io(self, matcher: Matcher, monkeypatch: pytest.MonkeyPatch) -> None:
        def refuse(*args: Any, **kwargs: Any) -> Any:
            raise AssertionError("a matcher did I/O while matching")

        monkeypatch.setattr("builtins.open", refuse)
        monkeypatch.setattr(socket, "socket", refuse)
        for listing in self.listings():
            self._signals(matcher, listing)

    def test_scan_wide_matchers_fold_observations(self, matcher: Matcher) -> None:
        if not isinstance(matcher, ScanWide):
            pytest.skip(f"{self.detector.name} needs no scan-wide statistics")
        stats = matcher.new_stats()
        for listing in self.listings():
            observation = matcher.observe(listing, self.prepare([matcher], listing))
            if observation is not None:
                stats.add(pickle.loads(pickle.dumps(observation)))
