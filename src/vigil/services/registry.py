"""Registry use cases: load a registry file into the store (idempotent upsert), show it."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from vigil.domain.registry import Registry
from vigil.services.registry_file import EntryProblem, parse_registry_file
from vigil.store import registry_repo as repo
from vigil.store.db import Store, audit


@dataclass
class LoadReport:
    path: Path
    changes: dict[str, Counter[str]] = field(default_factory=dict)
    problems: list[EntryProblem] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    written: bool = True

    @property
    def ok(self) -> bool:
        return not self.problems


def load_registry(store: Store, path: Path, *, strict: bool = False) -> LoadReport:
    """Upsert every valid entry of `path`; report the others with file, entry and field.

    Each entry is written whole or not at all, in one transaction. With `strict`, nothing is
    written when any entry has a problem.
    """
    parsed = parse_registry_file(path)
    registry = parsed.registry
    at = parsed.positions
    report = LoadReport(path=path, problems=list(parsed.problems), warnings=parsed.warnings)
    with store.session() as session:
        members = repo.member_ids(session) | {m.id for m in registry.members}
        brands_known = set(repo.brand_ids(session)) | {b.name for b in registry.brands}
        brands = [
            b
            for i, b in zip(at["brands"], registry.brands, strict=True)
            if _owner_ok(report, i, b.owner, members, "brands", b.name)
        ]
        products = []
        for index, product in zip(at["products"], registry.products, strict=True):
            if product.brand in brands_known:
                products.append(product)
            else:
                report.problems.append(
                    EntryProblem(
                        "products",
                        index,
                        f" ({product.model!r})",
                        f"brand: {product.brand!r} is not registered; add it under brands first",
                    )
                )
        works = [
            w
            for i, w in zip(at["works"], registry.works, strict=True)
            if _owner_ok(report, i, w.owner, members, "works", w.title)
        ]
        if strict and report.problems:
            report.written = False
            return report
        changes: dict[str, Counter[str]] = {
            s: Counter() for s in ("members", "brands", "products", "works", "lexicon")
        }
        for member in registry.members:
            changes["members"][repo.upsert_member(session, member)] += 1
        session.flush()
        for brand in brands:
            changes["brands"][repo.upsert_brand(session, brand)] += 1
        session.flush()
        ids = repo.brand_ids(session)
        changes["products"].update(repo.upsert_products(session, products, ids))
        for work in works:
            changes["works"][repo.upsert_work(session, work)] += 1
        for term in registry.lexicon:
            changes["lexicon"][repo.upsert_lexicon_term(session, term)] += 1
        report.changes = changes
        audit(
            session,
            action="registry.load",
            subject=str(path),
            details={
                "changes": {k: dict(v) for k, v in changes.items()},
                "problems": [str(p) for p in report.problems],
            },
        )
    return report


def _owner_ok(
    report: LoadReport, index: int, owner: str | None, members: set[str], section: str, label: str
) -> bool:
    if owner is None or owner in members:
        return True
    report.problems.append(
        EntryProblem(
            section,
            index,
            f" ({label!r})",
            f"owner: {owner!r} is not a registered member; add it under members first",
        )
    )
    return False


def registry_snapshot(store: Store) -> Registry:
    with store.session() as session:
        return repo.load_snapshot(session)
