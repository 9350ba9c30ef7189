"""Finding detectors: built-ins and third-party ones alike come from the `vigil.detectors`
entry-point group, and two detectors may not share a name."""

from __future__ import annotations

from importlib.metadata import entry_points

from vigil.detectors.base import Detector
from vigil.errors import VigilError


class DetectorError(VigilError):
    """A detector could not be loaded or clashes with another."""


def load_detectors(names: list[str] | None = None) -> list[Detector]:
    """The installed detectors in stage order, optionally only those named."""
    found: dict[str, Detector] = {}
    for point in entry_points(group="vigil.detectors"):
        try:
            cls = point.load()
        except Exception as error:  # a broken plugin must say which one it is
            raise DetectorError(
                f"detector {point.name!r} ({point.value}) failed to load: {error}"
            ) from error
        if not (isinstance(cls, type) and issubclass(cls, Detector)):
            raise DetectorError(
                f"entry point {point.name!r} ({point.value}) is not a Detector class"
            )
        if cls.name in found:
            raise DetectorError(
                f"two detectors are named {cls.name!r}: {type(found[cls.name]).__module__} and "
                f"{cls.__module__}; uninstall one of them"
            )
        found[cls.name] = cls()
    if names is not None:
        unknown = sorted(set(names) - set(found))
        if unknown:
            raise DetectorError(
                f"unknown detector(s) {', '.join(unknown)}; installed: {', '.join(sorted(found))}"
            )
        found = {n: d for n, d in found.items() if n in names}
    return sorted(found.values(), key=lambda d: (d.stage, d.name))
