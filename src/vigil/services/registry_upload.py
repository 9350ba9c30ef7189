"""Registry files uploaded through the web: loaded as `vigil registry load` loads them, within
what the uploading member may change."""

from __future__ import annotations

import tempfile
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, TypeVar

from sqlalchemy import select
from sqlalchemy.orm import Session

from vigil.domain.people import Actor
from vigil.domain.registry import Brand, Product, Registry, Work
from vigil.services.media import is_address
from vigil.services.registry import LoadReport
from vigil.services.registry_edit import (
    RegistryEditError,
    check_brand_sizes,
    check_model_size,
    check_writer,
)
from vigil.services.registry_file import (
    PATH_FIELDS,
    EntryProblem,
    RegistryFileError,
    parse_registry_file,
)
from vigil.store import registry_repo as repo
from vigil.store.db import Store, audit
from vigil.store.tables import BrandRow, MemberRow, ProductRow, WorkRow

UploadFormat = Literal["yaml", "json"]
SECTIONS = ("members", "brands", "products", "works", "lexicon")


@dataclass
class UploadReport(LoadReport):
    """What an upload changed, and each entry it did not write with the reason."""

    # Entries left alone because they match what is stored (a member's own member entry).
    skipped: list[str] = field(default_factory=list)


def load_uploaded_registry(
    store: Store,
    actor: Actor,
    content: bytes,
    *,
    fmt: UploadFormat,
    filename: str = "registry",
    strict: bool = False,
) -> UploadReport:
    """Load a registry file sent through the web, as `vigil registry load` does, within what the
    actor may change: a member's entries must be its own, and only the operator admits members
    or changes the alliance's lexicon. Entries it may not write are reported, never written in
    part; with `strict`, nothing is written when any entry has a problem.
    """
    check_writer(actor)
    shown = Path(filename).name or "registry"
    with tempfile.TemporaryDirectory(prefix="vigil-upload-") as folder:
        path = Path(folder) / f"upload.{fmt}"
        path.write_bytes(content)
        try:
            parsed = parse_registry_file(path)
        except RegistryFileError as error:
            raise RegistryFileError(str(error).replace(str(path), shown)) from None
        registry, warnings = _without_local_files(parsed.registry, Path(folder), parsed.positions)
    # The parser's own warnings are about files missing next to the temporary copy; the
    # ones above say what an upload does with file paths instead.
    report = UploadReport(path=Path(shown), problems=list(parsed.problems), warnings=warnings)
    with store.session() as session:
        plan = _Plan(session, actor, registry, parsed.positions, report)
        if strict and report.problems:
            report.written = False
            return report
        report.changes = plan.write()
        audit(
            session,
            action="registry.upload",
            subject=shown,
            details={
                "changes": {k: dict(v) for k, v in report.changes.items()},
                "problems": [str(p) for p in report.problems],
            },
            actor=actor,
            member_id=None if actor.is_operator else actor.member_id,
        )
    return report


def _without_local_files(
    registry: Registry, folder: Path, positions: dict[str, list[int]]
) -> tuple[Registry, list[str]]:
    """An upload carries no files, so a path in it points nowhere (or into the server's own
    disk): keep http(s) addresses and drop paths, saying so."""
    warnings: list[str] = []
    sections: dict[str, list[Any]] = {}
    for section in SECTIONS:
        kept = []
        for index, entry in zip(positions[section], getattr(registry, section), strict=True):
            updates = {}
            for name in PATH_FIELDS.get(section, ()):
                values = getattr(entry, name)
                urls = [v for v in values if v.startswith(("http://", "https://"))]
                for dropped in values:
                    if dropped not in urls:
                        local = dropped.removeprefix(str(folder.resolve()) + "/")
                        warnings.append(
                            f"{section}[{index}]: {name}: {local!r} is a file path, which an "
                            "upload cannot carry; give an http(s) address or load the file "
                            "with `vigil registry load`"
                        )
                updates[name] = urls
            kept.append(entry.model_copy(update=updates) if updates else entry)
        sections[section] = kept
    return Registry.model_validate(sections), warnings


E = TypeVar("E", Brand, Product, Work)


def _with_stored_files(section: str, entry: E, stored: dict[str, Any] | None) -> E:
    """An upload carries no files, so the files a stored entry lists (images uploaded through
    the web, or loaded with the command line) stay, with the upload's addresses after them."""
    updates: dict[str, list[str]] = {}
    for name in PATH_FIELDS[section]:
        listed: list[Any] = (stored or {}).get(name, [])
        kept: list[str] = [f for f in listed if isinstance(f, str) and not is_address(f)]
        given: list[str] = getattr(entry, name)
        if kept:
            updates[name] = kept + [v for v in given if v not in kept]
    return entry.model_copy(update=updates) if updates else entry


class _Plan:
    """What an upload will write for this actor, each entry checked before anything is."""

    def __init__(
        self,
        session: Session,
        actor: Actor,
        registry: Registry,
        positions: dict[str, list[int]],
        report: UploadReport,
    ) -> None:
        self.session, self.actor, self.report = session, actor, report
        self.operator = actor.is_operator
        self.members = [
            m
            for i, m in zip(positions["members"], registry.members, strict=True)
            if self._member_ok(i, m.id, m.name, m.kind.value)
        ]
        known_members = repo.member_ids(session) | {m.id for m in self.members}
        stored = {
            name.lower(): (name, owner)
            for name, owner in session.execute(select(BrandRow.name, BrandRow.owner_id))
        }
        self.brands = []
        for i, brand in zip(positions["brands"], registry.brands, strict=True):
            owned = brand if self.operator else brand.model_copy(update={"owner": actor.member_id})
            if self._brand_ok(i, brand, known_members, stored):
                self.brands.append(owned)
        writable = {
            name for name, owner in stored.values() if self.operator or owner == actor.member_id
        } | {b.name for b in self.brands}
        self.products = [
            p
            for i, p in zip(positions["products"], registry.products, strict=True)
            if self._product_ok(i, p, writable)
        ]
        self.works = [
            w
            for i, w in zip(positions["works"], registry.works, strict=True)
            if self._owned(i, "works", w.title, w.owner, known_members)
        ]
        self.lexicon = registry.lexicon if self.operator else []
        if not self.operator:
            for i in positions["lexicon"]:
                self._problem(
                    "lexicon", i, "", "only the alliance operator changes the shared lexicon"
                )

    def _problem(self, section: str, index: int, label: str, message: str) -> bool:
        self.report.problems.append(EntryProblem(section, index, label, message))
        return False

    def _member_ok(self, index: int, member_id: str, name: str, kind: str) -> bool:
        if self.operator:
            return True
        row = self.session.get(MemberRow, member_id)
        if (
            member_id == self.actor.member_id
            and row is not None
            and (row.name, row.kind)
            == (
                name,
                kind,
            )
        ):
            self.report.skipped.append(f"members[{index}] ({member_id!r}): unchanged")
            return False
        return self._problem(
            "members", index, f" ({member_id!r})", "only the alliance operator admits members"
        )

    def _owned(
        self, index: int, section: str, label: str, owner: str | None, known: set[str]
    ) -> bool:
        if not self.operator and owner not in (None, self.actor.member_id):
            return self._problem(
                section,
                index,
                f" ({label!r})",
                f"owner: a member uploads its own entries only; give {self.actor.member_id!r} "
                "or leave owner out",
            )
        if owner is not None and owner not in known:
            return self._problem(
                section,
                index,
                f" ({label!r})",
                f"owner: {owner!r} is not a registered member; add it under members first",
            )
        return True

    def _brand_ok(
        self, index: int, brand: Brand, known: set[str], stored: dict[str, tuple[str, str | None]]
    ) -> bool:
        label = f" ({brand.name!r})"
        try:
            check_brand_sizes(brand)
        except RegistryEditError as error:
            return self._problem("brands", index, label, str(error))
        if not self._owned(index, "brands", brand.name, brand.owner, known):
            return False
        held = stored.get(brand.name.lower())
        if held is None or self.operator:
            if held is not None and held[0] != brand.name:
                return self._problem(
                    "brands", index, label, f"the brand is registered as {held[0]!r}; use that"
                )
            return True
        name, owner = held
        if owner != self.actor.member_id:
            return self._problem(
                "brands",
                index,
                label,
                "a brand of this name is already registered in the alliance; choose another "
                "name, or ask the alliance operator if it is yours",
            )
        if name != brand.name:
            return self._problem(
                "brands", index, label, f"your brand is registered as {name!r}; use that spelling"
            )
        return True

    def _product_ok(self, index: int, product: Product, writable: set[str]) -> bool:
        label = f" ({product.model!r})"
        try:
            check_model_size(product)
        except RegistryEditError as error:
            return self._problem("products", index, label, str(error))
        if product.brand not in writable:
            where = "under brands first" if self.operator else "among your brands first"
            return self._problem(
                "products",
                index,
                label,
                f"brand: {product.brand!r} is not one of the brands you may change; add it {where}",
            )
        return True

    def write(self) -> dict[str, Counter[str]]:
        session = self.session
        changes: dict[str, Counter[str]] = {section: Counter() for section in SECTIONS}
        for member in self.members:
            changes["members"][repo.upsert_member(session, member)] += 1
        session.flush()
        stored_brands: dict[str, dict[str, Any]] = {
            name: entry for name, entry in session.execute(select(BrandRow.name, BrandRow.entry))
        }
        for brand in self.brands:
            brand = _with_stored_files("brands", brand, stored_brands.get(brand.name))
            changes["brands"][repo.upsert_brand(session, brand)] += 1
        session.flush()
        ids = repo.brand_ids(session)
        stored_products = {
            (brand_id, model): entry
            for brand_id, model, entry in session.execute(
                select(ProductRow.brand_id, ProductRow.model, ProductRow.entry)
            )
        }
        products = [
            _with_stored_files("products", p, stored_products.get((ids[p.brand], p.model)))
            for p in self.products
        ]
        changes["products"].update(repo.upsert_products(session, products, ids))
        stored_works = {
            (owner, title): entry
            for owner, title, entry in session.execute(
                select(WorkRow.owner_id, WorkRow.title, WorkRow.entry)
            )
        }
        for work in self.works:
            work = _with_stored_files("works", work, stored_works.get((work.owner, work.title)))
            changes["works"][repo.upsert_work(session, work)] += 1
        for term in self.lexicon:
            changes["lexicon"][repo.upsert_lexicon_term(session, term)] += 1
        return changes
