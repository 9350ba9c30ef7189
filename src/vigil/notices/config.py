"""What notices are made of besides the case: the shipped `vigil/data/notices/` files (type
rules, platforms, the words of each language), each overridable under `<home>/notices/`."""

from __future__ import annotations

from datetime import tzinfo
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from vigil.notices.document import LANGUAGES, Language
from vigil.settings import ConfigError, merge_mappings, read_override, read_yaml, shipped_data


class PlatformInfo(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: dict[str, str] = Field(default_factory=dict)
    language: Language = "en"
    jurisdiction: str | None = None
    timezone: str = "UTC"

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {value!r}; use an IANA name") from None
        return value


class NoticeConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    copyright_kinds: list[str] = Field(default_factory=list)
    counterfeit_kinds: list[str] = Field(default_factory=list)
    findings_per_listing: int = Field(4, ge=1, le=20)
    quoted_kinds: list[str] = Field(default_factory=list)
    platforms: dict[str, PlatformInfo] = Field(default_factory=dict)

    def platform(self, code: str) -> PlatformInfo:
        return self.platforms.get(code) or PlatformInfo()

    def platform_name(self, code: str, language: str) -> str:
        names = self.platform(code).name
        return names.get(language) or names.get("en") or code

    def zone(self, code: str) -> tzinfo:
        return ZoneInfo(self.platform(code).timezone)


def _home_file(home: Path | None, name: str) -> dict[str, Any]:
    return read_override(home / "notices" / name if home is not None else None)


def _shipped(name: str) -> dict[str, Any]:
    return read_yaml(shipped_data(f"notices/{name}"), f"vigil/data/notices/{name}")


def load_notice_config(home: Path | None = None) -> NoticeConfig:
    """The shipped notice configuration with `<home>/notices/notices.yaml` merged over it."""
    data = merge_mappings(_shipped("notices.yaml"), _home_file(home, "notices.yaml"))
    try:
        return NoticeConfig.model_validate(data)
    except ValidationError as error:
        raise ConfigError(f"notice configuration is invalid: {error}") from error


def _keys(value: Any, prefix: str = "") -> set[str]:
    if isinstance(value, dict):
        return {k for key, inner in value.items() for k in _keys(inner, f"{prefix}{key}.")}
    return {prefix.rstrip(".")}


def load_texts(home: Path | None = None) -> dict[str, dict[str, Any]]:
    """The words of a notice in each language: the shipped texts with the home's merged over.
    Every language must have every key English has, so that no notice shows a gap."""
    data = merge_mappings(_shipped("texts.yaml"), _home_file(home, "texts.yaml"))
    english = data.get("en")
    if not isinstance(english, dict):
        raise ConfigError("notice texts: the 'en' section is missing")
    wanted = _keys(english)
    texts: dict[str, dict[str, Any]] = {}
    for language in LANGUAGES:
        words = data.get(language)
        if not isinstance(words, dict):
            raise ConfigError(f"notice texts: the {language!r} section is missing")
        missing = sorted(wanted - _keys(words))
        if missing:
            raise ConfigError(
                f"notice texts: {language!r} lacks {', '.join(missing[:5])}"
                f"{' and more' if len(missing) > 5 else ''}; add them to texts.yaml"
            )
        texts[language] = words
    return texts
