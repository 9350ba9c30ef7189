"""Reading a registry file: every problem is reported with the file, the entry and the field."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError

from vigil.domain.registry import Brand, LexiconTerm, Member, Product, Registry, Work, WorkKind
from vigil.domain.validation import describe_validation_error
from vigil.errors import VigilError
from vigil.texts.works import WorkError, read_work_file

SECTIONS: dict[str, type[BaseModel]] = {
    "members": Member,
    "brands": Brand,
    "products": Product,
    "works": Work,
    "lexicon": LexiconTerm,
}
# Fields holding file paths, resolved against the registry file's folder.
PATH_FIELDS = {
    "brands": ("logos", "counterfeit_images"),
    "products": ("images",),
    "works": ("files",),
}


class RegistryFileError(VigilError):
    """The file as a whole cannot be read (missing, not YAML/JSON, wrong shape)."""


@dataclass
class EntryProblem:
    section: str
    index: int
    label: str
    message: str

    def __str__(self) -> str:
        return f"{self.section}[{self.index}]{self.label}: {self.message}"


@dataclass
class ParsedRegistry:
    registry: Registry
    # Position of each kept entry in its section of the file, for messages about it later.
    positions: dict[str, list[int]] = field(default_factory=dict)
    problems: list[EntryProblem] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def _label(raw: Any) -> str:
    if not isinstance(raw, dict):
        return ""
    for key in ("id", "name", "model", "title", "term"):
        value = raw.get(key)
        if isinstance(value, str) and value:
            return f" ({value!r})"
    return ""


def _read(path: Path) -> Any:
    try:
        raw = path.read_bytes()
    except OSError as error:
        raise RegistryFileError(f"{path}: cannot read it: {error.strerror or error}") from error
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as error:
        raise RegistryFileError(
            f"{path}: not valid UTF-8 at byte {error.start}; save the file as UTF-8"
        ) from error
    if not text.strip():
        raise RegistryFileError(f"{path}: the file is empty; see docs/formats.md for the format")
    try:
        if path.suffix.lower() == ".json":
            return json.loads(text)
        # libyaml's loader when the build has it: several times faster on large registries.
        return yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    except json.JSONDecodeError as error:
        raise RegistryFileError(
            f"{path}: not valid JSON at line {error.lineno}, column {error.colno}: {error.msg}"
        ) from error
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(error, "problem", None) or str(error)
        raise RegistryFileError(f"{path}: not valid YAML{where}: {problem}") from error


def parse_registry_file(path: Path) -> ParsedRegistry:
    """Validate each entry on its own: good entries are kept, bad ones reported."""
    data = _read(path)
    if not isinstance(data, dict):
        raise RegistryFileError(
            f"{path}: expected a mapping with sections {', '.join(SECTIONS)}, "
            f"found {type(data).__name__}"
        )
    unknown = sorted(set(map(str, data)) - set(SECTIONS))
    if unknown:
        raise RegistryFileError(
            f"{path}: unknown section(s) {', '.join(unknown)}; expected {', '.join(SECTIONS)}"
        )
    base = path.resolve().parent
    kept: dict[str, list[Any]] = {name: [] for name in SECTIONS}
    positions: dict[str, list[int]] = {name: [] for name in SECTIONS}
    problems: list[EntryProblem] = []
    warnings: list[str] = []
    for section, model in SECTIONS.items():
        entries = data.get(section) or []
        if not isinstance(entries, list):
            problems.append(EntryProblem(section, 0, "", "expected a list of entries"))
            continue
        for index, raw in enumerate(entries):
            try:
                entry = model.model_validate(raw)
            except ValidationError as error:
                problems.append(
                    EntryProblem(section, index, _label(raw), describe_validation_error(error))
                )
                continue
            entry, missing = _resolve_paths(section, entry, base)
            warnings.extend(
                f"{section}[{index}]{_label(raw)}: file {m} does not exist" for m in missing
            )
            if isinstance(entry, Work) and entry.kind is WorkKind.TEXT:
                warnings.extend(
                    f"{section}[{index}]{_label(raw)}: {problem}"
                    for problem in _unreadable_texts(entry)
                )
            kept[section].append(entry)
            positions[section].append(index)
    return ParsedRegistry(Registry.model_validate(kept), positions, problems, warnings)


def _unreadable_texts(work: Work) -> list[str]:
    """Why each existing file of a text work cannot be read as text (the scan skips them)."""
    problems = []
    for file in work.files:
        path = Path(file)
        if file.startswith(("http://", "https://")):
            problems.append(f"{file}: a text work's files must be files, not links")
        elif path.exists():
            try:
                read_work_file(path)
            except WorkError as error:
                problems.append(str(error))
    return problems


def _resolve_paths(section: str, entry: BaseModel, base: Path) -> tuple[Any, list[str]]:
    updates: dict[str, list[str]] = {}
    missing: list[str] = []
    for name in PATH_FIELDS.get(section, ()):
        resolved = []
        for value in getattr(entry, name):
            if value.startswith(("http://", "https://")):
                resolved.append(value)
                continue
            full = (base / value).resolve()
            if not full.exists():
                missing.append(value)
            resolved.append(str(full))
        updates[name] = resolved
    return (entry.model_copy(update=updates) if updates else entry), missing
