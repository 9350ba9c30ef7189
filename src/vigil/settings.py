"""Where an installation lives and how it is tuned.

`Settings` comes from the environment (`VIGIL_HOME`, `VIGIL_DATABASE_URL`); `ScanConfig` from
data files: the shipped `vigil/data/config.yaml` and `vigil/data/detectors/<name>.yaml`, each
overridable by `<home>/config.yaml`, whose sections are merged over the shipped ones.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from typing import Any, Literal, TypeVar

import yaml
from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from vigil.errors import VigilError

M = TypeVar("M", bound=BaseModel)


class ConfigError(VigilError):
    """A configuration file is missing, unreadable or invalid."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="VIGIL_", extra="ignore")

    home: Path = Path("vigil-data")
    database_url: str | None = None
    # The web platform's limits: request bodies in general, and uploads (listing batches,
    # registry files) in particular.
    max_body_bytes: int = 2 * 1024 * 1024
    max_upload_bytes: int = 64 * 1024 * 1024
    # Session cookies are marked Secure when served over HTTPS; set this to force it either way
    # (e.g. true behind a proxy that terminates TLS).
    cookie_secure: bool | None = None
    # Failed sign-ins allowed per client address and per e-mail within the window (seconds).
    login_attempts: int = 10
    login_window_s: float = 600.0
    # The evidence log's Ed25519 private key (raw 32 bytes, base64); unset: the key file
    # <home>/keys/evidence-log.key, generated on first use.
    log_signing_key: SecretStr | None = None
    # Where evidence bytes are kept: files under <home>/evidence, or the evidence_blobs table
    # (for installations whose home is not shared between the web servers).
    evidence_storage: Literal["home", "database"] = "home"

    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.home / 'vigil.sqlite3').resolve()}"


class Thresholds(BaseModel):
    model_config = ConfigDict(extra="forbid")

    counterfeit_suspected: float = Field(ge=0, le=1)
    infringement_suspected: float = Field(ge=0, le=1)
    needs_review: float = Field(ge=0, le=1)


class ScoringConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    prior: float
    thresholds: Thresholds
    infringement_kinds: list[str] = Field(default_factory=list)
    # A factor per signal kind that multiplies its detectors' weights, fitted from the cases'
    # outcomes by `vigil calibrate`; a kind not named keeps its weights as they are.
    kind_scale: dict[str, float] = Field(default_factory=dict)
    # The prior of the rule that charges a listing copying a work with counterfeiting or with
    # infringement, which reads the detectors' own weights: decisions (confirmed, dismissed)
    # say nothing about the charge, so calibration leaves the rule where it was. None: `prior`.
    charge_prior: float | None = None

    @field_validator("kind_scale")
    @classmethod
    def _positive_scale(cls, value: dict[str, float]) -> dict[str, float]:
        bad = sorted(kind for kind, factor in value.items() if not factor > 0)
        if bad:
            raise ValueError(f"kind_scale factors must be above 0 (see {', '.join(bad)})")
        return value


class CurrencyConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    base: str
    rates: dict[str, float]

    def to_base(self, amount: float, currency: str) -> float | None:
        """`amount` in the base currency, or None when no rate is configured."""
        rate = self.rates.get(currency)
        return None if rate is None else amount * rate


class ScanConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    scoring: ScoringConfig
    currency: CurrencyConfig
    detectors: dict[str, dict[str, Any]] = Field(default_factory=dict)
    # Where scans keep caches (downloaded images, image hashes): `<home>/cache` when the
    # configuration was loaded for a home; None keeps nothing between scans.
    cache_dir: str | None = None


def read_yaml(text: str, origin: str) -> dict[str, Any]:
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as error:
        raise ConfigError(f"{origin}: not valid YAML: {error}") from error
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError(f"{origin}: expected a mapping at the top, found {type(data).__name__}")
    return data


def merge_mappings(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = merge_mappings(merged[key], value)
        else:
            merged[key] = value
    return merged


def shipped_data(name: str) -> str:
    """The text of a data file shipped in `vigil/data/`."""
    return resources.files("vigil.data").joinpath(name).read_text(encoding="utf-8")


def read_override(path: Path | None) -> dict[str, Any]:
    """The mapping in an override file of the home, or an empty one when there is no file."""
    if path is None or not path.exists():
        return {}
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise ConfigError(f"{path}: cannot read it: {error}") from error
    return read_yaml(text, str(path))


def load_layered(model: type[M], shipped: str, override: Path | None, what: str) -> M:
    """A data file shipped in `vigil/data/` with the home's override file merged over it,
    validated as `model`; `what` names it in the error ("case configuration")."""
    data = merge_mappings(read_yaml(shipped_data(shipped), f"vigil/data/{shipped}"),
                          read_override(override))  # fmt: skip
    try:
        return model.model_validate(data)
    except ValidationError as error:
        raise ConfigError(f"{what} is invalid: {error}") from error


# The scoring weights `vigil calibrate --apply` wrote, relative to the home; they override
# `<home>/config.yaml`'s and are overridden by an explicit extra configuration file.
CALIBRATED_WEIGHTS = Path("calibration") / "weights.yaml"


def calibrated_scoring(weights: dict[str, Any]) -> dict[str, Any]:
    """The part of a calibrated weights file that overrides the configuration (its prior and
    kind factors; the rest of the file records how they were fitted)."""
    return {
        "scoring": {k: weights[k] for k in ("prior", "kind_scale", "charge_prior") if k in weights}
    }


def load_scan_config(home: Path | None = None, extra: Path | None = None) -> ScanConfig:
    """The shipped configuration, overridden by `<home>/config.yaml`, the calibrated weights
    (`<home>/calibration/weights.yaml`) and then by `extra`."""
    data = read_yaml(shipped_data("config.yaml"), "vigil/data/config.yaml")
    detectors_dir = resources.files("vigil.data").joinpath("detectors")
    shipped_detectors: dict[str, Any] = {}
    for entry in sorted(detectors_dir.iterdir(), key=lambda e: e.name):
        if entry.name.endswith(".yaml"):
            name = entry.name.removesuffix(".yaml")
            origin = f"vigil/data/detectors/{entry.name}"
            shipped_detectors[name] = read_yaml(entry.read_text(encoding="utf-8"), origin)
    data["detectors"] = merge_mappings(shipped_detectors, data.get("detectors") or {})
    calibrated = home / CALIBRATED_WEIGHTS if home else None
    for path in (home / "config.yaml" if home else None, calibrated, extra):
        if path is None or not path.exists():
            if path is extra and extra is not None:
                raise ConfigError(f"{extra}: no such configuration file")
            continue
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as error:
            raise ConfigError(f"{path}: cannot read it: {error}") from error
        override = read_yaml(text, str(path))
        if path is calibrated:
            override = calibrated_scoring(override)
        data = merge_mappings(data, override)
    if home is not None:
        data.setdefault("cache_dir", str(home / "cache"))
    try:
        return ScanConfig.model_validate(data)
    except ValidationError as error:
        raise ConfigError(f"configuration is invalid: {error}") from error
