"""How cases are timed: the shipped `vigil/data/cases.yaml`, overridden by `<home>/cases.yaml`."""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

from vigil.domain.cases import CaseState
from vigil.settings import load_layered


class Timers(BaseModel):
    model_config = ConfigDict(extra="forbid")

    review_hours: float = Field(72, gt=0)
    notice_hours: float = Field(48, gt=0)
    answer_hours: float = Field(24, gt=0)


class PlatformTerms(BaseModel):
    model_config = ConfigDict(extra="forbid")

    marketplace: str | None = None
    answer_hours: float | None = Field(None, gt=0)


class CaseConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    timers: Timers = Field(default_factory=Timers)
    platforms: dict[str, PlatformTerms] = Field(default_factory=dict)

    def answer_hours(self, platform: str | None) -> float:
        terms = self.platforms.get(platform or "")
        if terms is not None and terms.answer_hours is not None:
            return terms.answer_hours
        return self.timers.answer_hours

    def marketplace(self, platform: str | None) -> str | None:
        terms = self.platforms.get(platform or "")
        return terms.marketplace if terms is not None else None

    def timer(self, state: CaseState, platform: str | None) -> tuple[str, float] | None:
        """The timer that runs while a case is in `state`, and its length in hours."""
        if state in (CaseState.OPEN, CaseState.UNDER_REVIEW):
            return "review", self.timers.review_hours
        if state is CaseState.CONFIRMED:
            return "notice", self.timers.notice_hours
        if state is CaseState.NOTICE_SENT:
            return "answer", self.answer_hours(platform)
        return None


def load_case_config(home: Path | None = None) -> CaseConfig:
    """The shipped case configuration, with `<home>/cases.yaml` merged over it."""
    override = home / "cases.yaml" if home is not None else None
    return load_layered(CaseConfig, "cases.yaml", override, "case configuration")
