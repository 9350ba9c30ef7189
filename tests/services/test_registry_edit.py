"""Editing the registry for a member: its own brands and products only, every write audited,
uploads limited to what the member may change."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
import yaml
from sqlalchemy import select

from tests.factories import registry_data
from vigil.domain.people import Actor, Role, Scope
from vigil.domain.registry import MemberKind
from vigil.services import accounts
from vigil.services import registry_edit as edit
from vigil.services.registry import registry_snapshot
from vigil.services.registry_file import RegistryFileError
from vigil.services.registry_upload import UploadFormat, load_uploaded_registry
from vigil.store.db import Store, cli_actor, open_store
from vigil.store.tables import AuditEventRow, AuthorizedSellerRow, MemberRow, ProductRow


def _actor(member: str, kind: MemberKind, role: Role = Role.ANALYST, **extra: object) -> Actor:
    return Actor(
        name=f"{role.value}@{member}.test",
        member_id=member,
        member_kind=kind,
        role=role,
        **extra,  # type: ignore[arg-type]
    )


ACME = _actor("acme", MemberKind.BRAND_OWNER)
GLOBEX = _actor("globex", MemberKind.BRAND_OWNER)
OPERATOR = _actor("alliance", MemberKind.OPERATOR, Role.ADMIN)


@pytest.fixture
def store(store_url: str) -> Iterator[Store]:
    opened = open_store(store_url)
    for member_id, kind in (
        ("alliance", "operator"),
        ("acme", "brand_owner"),
        ("globex", "brand_owner"),
    ):
        accounts.create_member(
            opened, member_id=member_id, name=member_id.title(), kind=kind, actor=cli_actor()
        )
    try:
        yield opened
    finally:
        opened.close()


def _audit(store: Store, action: str) -> list[AuditEventRow]:
    with store.session() as session:
        query = select(AuditEventRow).where(AuditEventRow.action == action)
        return list(session.scalars(query.order_by(AuditEventRow.id)))


def _brand(store: Store, actor: Actor, name: str, **fields: object) -> edit.BrandRecord:
    return edit.create_brand(store, actor=actor, entry={"name": name, **fields})


# Brands ----------------------------------------------------------------------------------------


def test_a_member_creates_a_brand_it_then_owns_and_the_write_is_audited(store: Store) -> None:
    record = _brand(
        store,
        ACME,
        "Acme",
        aliases=["艾克米", "ACME"],
        marks=[{"number": "123", "jurisdiction": "CN", "classes": [9]}],
        authorized_sellers=[{"platform": "jd", "seller_id": "acme-official"}],
        categories=["tools"],
        common_word=True,
    )
    assert record.brand.owner == "acme"
    assert record.brand.aliases == ["艾克米", "ACME"]
    assert record.product_count == 0
    assert edit.get_brand(store, ACME, record.id).brand == record.brand
    with store.session() as session:
        sellers = session.scalars(select(AuthorizedSellerRow.seller_id)).all()
    assert sellers == ["acme-official"]
    [event] = _audit(store, "brand.create")
    assert (event.actor, event.member_id, event.subject) == (
        "analyst@acme.test",
        "acme",
        f"brand:{record.id}",
    )
    assert event.details["aliases"] == ["艾克米", "ACME"]
    # The detectors compile from the same entries.
    assert registry_snapshot(store).brand("Acme") == record.brand


def test_a_member_cannot_register_a_brand_for_another_member(store: Store) -> None:
    with pytest.raises(edit.RegistryEditError, match="registers brands for itself only"):
        _brand(store, ACME, "Acme", owner="globex")
    assert edit.count_brands(store, OPERATOR) == 0


def test_a_taken_name_conflicts_without_saying_who_holds_it(store: Store) -> None:
    _brand(store, GLOBEX, "Globex")
    for name in ("Globex", "GLOBEX"):
        with pytest.raises(edit.EntryConflict) as caught:
            _brand(store, ACME, name)
        assert "globex" not in str(caught.value).replace(name, "").lower()
        assert "already registered in the alliance" in str(caught.value)


def test_members_see_only_their_own_brands(store: Store) -> None:
    acme = _brand(store, ACME, "Acme", aliases=["Roadrunner Supply"])
    globex = _brand(store, GLOBEX, "Globex", aliases=["Roadrunner Gear"])
    page = edit.list_brands(store, ACME)
    assert [b.brand.name for b in page.items] == ["Acme"]
    assert edit.count_brands(store, ACME) == 1
    assert edit.count_brands(store, ACME, search="roadrunner") == 1
    assert [b.id for b in edit.list_brands(store, ACME, search="Roadrunner").items] == [acme.id]
    assert edit.count_brands(store, OPERATOR, search="roadrunner") == 2
    with pytest.raises(edit.EntryNotFound, match=f"no brand {globex.id}"):
        edit.get_brand(store, ACME, globex.id)
    with pytest.raises(edit.EntryNotFound, match=f"no brand {globex.id}") as other:
        edit.update_brand(store, globex.id, actor=ACME, changes={"aliases": []})
    with pytest.raises(edit.EntryNotFound) as missing:
        edit.update_brand(store, 9999, actor=ACME, changes={"aliases": []})
    # Another member's brand and a missing one read the same.
    assert str(other.value).replace(str(globex.id), "N") == str(missing.value).replace("9999", "N")
    with pytest.raises(edit.EntryNotFound):
        edit.delete_brand(store, globex.id, actor=ACME)
    assert edit.get_brand(store, GLOBEX, globex.id).brand.aliases == ["Roadrunner Gear"]


def test_search_matches_aliases_in_any_script(store: Store) -> None:
    _brand(store, ACME, "Acme", aliases=["艾克米"])
    _brand(store, ACME, "Zeta")
    assert [b.brand.name for b in edit.list_brands(store, ACME, search="克米").items] == ["Acme"]
    assert edit.list_brands(store, ACME, search="nothing like it").items == []


def test_pages_follow_the_cursor_to_the_end(store: Store) -> None:
    names = [f"Brand {i:02d}" for i in range(7)]
    for name in reversed(names):
        _brand(store, ACME, name, aliases=["shared"])
    for search in (None, "shared"):
        seen, cursor = [], None
        while True:
            page = edit.list_brands(store, ACME, search=search, limit=3, cursor=cursor)
            seen += [b.brand.name for b in page.items]
            if page.next_cursor is None:
                break
            cursor = page.next_cursor
        assert seen == names
    with pytest.raises(edit.RegistryEditError, match="cursor is not valid"):
        edit.list_brands(store, ACME, cursor="%%%")
    with pytest.raises(edit.RegistryEditError, match="limit must be between 1 and 200"):
        edit.list_brands(store, ACME, limit=0)


def test_update_changes_only_the_named_fields(store: Store) -> None:
    record = _brand(store, ACME, "Acme", aliases=["ACME"], categories=["tools"])
    updated = edit.update_brand(
        store, record.id, actor=ACME, changes={"name": "Acme Corp", "common_word": True}
    )
    assert updated.brand.name == "Acme Corp"
    assert updated.brand.aliases == ["ACME"] and updated.brand.categories == ["tools"]
    assert updated.brand.common_word is True
    [event] = _audit(store, "brand.update")
    assert event.details == {
        "name": "Acme Corp",
        "changed": {"name": "Acme Corp", "common_word": True},
    }
    with pytest.raises(edit.RegistryEditError, match=r"aliases\.0: String should have at least"):
        edit.update_brand(store, record.id, actor=ACME, changes={"aliases": [""]})
    with pytest.raises(edit.RegistryEditError, match="name: at most 300 characters"):
        edit.update_brand(store, record.id, actor=ACME, changes={"name": "x" * 301})
    with pytest.raises(edit.RegistryEditError, match="registers brands for itself only"):
        edit.update_brand(store, record.id, actor=ACME, changes={"owner": "globex"})
    _brand(store, GLOBEX, "Globex")
    with pytest.raises(edit.EntryConflict):
        edit.update_brand(store, record.id, actor=ACME, changes={"name": "globex"})
    assert edit.get_brand(store, ACME, record.id).brand.name == "Acme Corp"


def test_the_operator_manages_every_brand_and_moves_owners(store: Store) -> None:
    record = _brand(store, OPERATOR, "Initech", owner="acme")
    assert edit.get_brand(store, ACME, record.id).brand.owner == "acme"
    moved = edit.update_brand(store, record.id, actor=OPERATOR, changes={"owner": "globex"})
    assert moved.brand.owner == "globex"
    with pytest.raises(edit.EntryNotFound):
        edit.get_brand(store, ACME, record.id)
    [transfer] = _audit(store, "brand.transfer")
    assert transfer.member_id == "acme" and transfer.details["to"] == "globex"
    with pytest.raises(edit.RegistryEditError, match="'nobody' is not a registered member"):
        edit.update_brand(store, record.id, actor=OPERATOR, changes={"owner": "nobody"})
    alliance_wide = _brand(store, OPERATOR, "Commons")
    assert alliance_wide.brand.owner is None
    assert edit.count_brands(store, ACME) == 0


def test_viewers_and_read_only_keys_cannot_write(store: Store) -> None:
    viewer = _actor("acme", MemberKind.BRAND_OWNER, Role.VIEWER)
    reader = _actor("acme", MemberKind.BRAND_OWNER, Role.ANALYST, scope=Scope.READ)
    with pytest.raises(edit.NotAllowed, match="analyst role"):
        _brand(store, viewer, "Acme")
    with pytest.raises(edit.NotAllowed, match="read-only"):
        _brand(store, reader, "Acme")
    with pytest.raises(edit.NotAllowed):
        load_uploaded_registry(store, viewer, b"brands: []", fmt="yaml")
    assert edit.count_brands(store, OPERATOR) == 0


def test_authorized_sellers_are_added_and_removed(store: Store) -> None:
    record = _brand(store, ACME, "Acme")
    seller = {"platform": "tmall", "seller_id": "Acme 官方旗舰店"}
    edit.add_authorized_seller(store, record.id, actor=ACME, seller=seller)
    again = edit.add_authorized_seller(store, record.id, actor=ACME, seller=seller)
    assert [s.seller_id for s in again.brand.authorized_sellers] == ["Acme 官方旗舰店"]
    assert len(_audit(store, "brand.seller.add")) == 1
    with pytest.raises(edit.RegistryEditError, match="platform: String should have at least"):
        edit.add_authorized_seller(
            store, record.id, actor=ACME, seller={"platform": "", "seller_id": "x"}
        )
    gone = edit.remove_authorized_seller(store, record.id, actor=ACME, seller=seller)
    assert gone.brand.authorized_sellers == []
    with pytest.raises(edit.RegistryEditError, match="not an authorized seller"):
        edit.remove_authorized_seller(store, record.id, actor=ACME, seller=seller)
    with store.session() as session:
        assert session.scalars(select(AuthorizedSellerRow)).all() == []
    assert len(_audit(store, "brand.seller.remove")) == 1


def test_deleting_a_brand_removes_its_products_and_sellers(store: Store) -> None:
    record = _brand(store, ACME, "Acme", authorized_sellers=[{"platform": "jd", "seller_id": "a"}])
    edit.create_product(store, record.id, actor=ACME, entry={"model": "Anvil"})
    edit.delete_brand(store, record.id, actor=ACME)
    with store.session() as session:
        assert session.scalars(select(ProductRow)).all() == []
        assert session.scalars(select(AuthorizedSellerRow)).all() == []
    [event] = _audit(store, "brand.delete")
    assert event.details == {"name": "Acme", "products": 1} and event.member_id == "acme"
    with pytest.raises(edit.EntryNotFound):
        edit.get_brand(store, ACME, record.id)


# Products --------------------------------------------------------------------------------------


def test_products_belong_to_the_members_brands(store: Store) -> None:
    acme = _brand(store, ACME, "Acme")
    globex = _brand(store, GLOBEX, "Globex")
    anvil = edit.create_product(
        store,
        acme.id,
        actor=ACME,
        entry={"model": "Anvil", "msrp": {"amount": 99.5, "currency": "usd"}},
    )
    assert anvil.product.brand == "Acme" and anvil.product.msrp is not None
    assert anvil.product.msrp.currency == "USD"
    assert edit.get_brand(store, ACME, acme.id).product_count == 1
    with pytest.raises(edit.EntryNotFound, match=f"no brand {globex.id}"):
        edit.create_product(store, globex.id, actor=ACME, entry={"model": "Sneaky"})
    with pytest.raises(edit.EntryConflict, match="already has a product 'anvil'"):
        edit.create_product(store, acme.id, actor=ACME, entry={"model": "anvil"})
    with pytest.raises(edit.RegistryEditError, match=r"msrp\.amount: Input should be greater"):
        edit.create_product(
            store, acme.id, actor=ACME, entry={"model": "Rocket", "msrp": {"amount": 0}}
        )
    with pytest.raises(edit.RegistryEditError, match="not an ISO 4217 currency"):
        edit.create_product(
            store,
            acme.id,
            actor=ACME,
            entry={"model": "Rocket", "msrp": {"amount": 1, "currency": "XXQ"}},
        )
    with pytest.raises(edit.EntryNotFound):
        edit.get_product(store, GLOBEX, anvil.id)
    with pytest.raises(edit.EntryNotFound):
        edit.list_products(store, GLOBEX, acme.id)
    [event] = _audit(store, "product.create")
    assert event.member_id == "acme" and event.details["model"] == "Anvil"


def test_products_are_updated_moved_and_deleted(store: Store) -> None:
    acme = _brand(store, ACME, "Acme")
    road = _brand(store, ACME, "Roadrunner")
    globex = _brand(store, GLOBEX, "Globex")
    anvil = edit.create_product(store, acme.id, actor=ACME, entry={"model": "Anvil"})
    updated = edit.update_product(
        store, anvil.id, actor=ACME, changes={"aliases": ["铁砧"], "category": "tools"}
    )
    assert updated.product.aliases == ["铁砧"] and updated.product.model == "Anvil"
    moved = edit.update_product(store, anvil.id, actor=ACME, changes={"brand_id": road.id})
    assert (moved.brand_id, moved.product.brand) == (road.id, "Roadrunner")
    with pytest.raises(edit.EntryNotFound):
        edit.update_product(store, anvil.id, actor=ACME, changes={"brand_id": globex.id})
    with pytest.raises(edit.EntryNotFound):
        edit.update_product(store, anvil.id, actor=GLOBEX, changes={"category": "x"})
    assert [e.details["changed"] for e in _audit(store, "product.update")] == [
        ["aliases", "category"],
        ["brand"],
    ]
    with pytest.raises(edit.EntryNotFound):
        edit.delete_product(store, anvil.id, actor=GLOBEX)
    edit.delete_product(store, anvil.id, actor=ACME)
    assert edit.list_products(store, ACME, road.id).items == []
    assert len(_audit(store, "product.delete")) == 1


def test_products_page_by_model(store: Store) -> None:
    acme = _brand(store, ACME, "Acme")
    for model in ("C", "A", "B"):
        edit.create_product(store, acme.id, actor=ACME, entry={"model": model})
    first = edit.list_products(store, ACME, acme.id, limit=2)
    assert [p.product.model for p in first.items] == ["A", "B"] and first.next_cursor
    rest = edit.list_products(store, ACME, acme.id, limit=2, cursor=first.next_cursor)
    assert [p.product.model for p in rest.items] == ["C"] and rest.next_cursor is None


# Uploads ---------------------------------------------------------------------------------------


def _upload_data() -> dict[str, object]:
    data = registry_data()
    data["members"] = [{"id": "acme", "name": "Acme", "kind": "brand_owner"}]
    data["brands"] = [
        {"name": "Acme", "owner": "acme", "aliases": ["艾克米"], "logos": ["logos/acme.png"]},
        {"name": "Roadrunner", "aliases": ["RR"]},
        {"name": "Globex", "owner": "globex"},
    ]
    data["products"] = [
        {"brand": "Acme", "model": "Anvil", "msrp": {"amount": 10}},
        {"brand": "Roadrunner", "model": "Seed", "images": ["https://example.org/seed.jpg"]},
        {"brand": "Globex", "model": "Widget"},
        {"brand": "Acme", "model": "Bad", "msrp": {"amount": -3}},
    ]
    data["lexicon"] = [{"term": "超A", "weight": 2.0}]
    return data


def test_a_member_uploads_its_own_entries_and_the_rest_is_reported(store: Store) -> None:
    content = yaml.safe_dump(_upload_data(), allow_unicode=True).encode()
    report = load_uploaded_registry(store, ACME, content, fmt="yaml", filename="acme.yaml")
    problems = [str(p) for p in report.problems]
    assert problems == [
        "products[3] ('Bad'): msrp.amount: Input should be greater than 0 (got -3)",
        "brands[2] ('Globex'): owner: a member uploads its own entries only; give 'acme' or "
        "leave owner out",
        "products[2] ('Widget'): brand: 'Globex' is not one of the brands you may change; add "
        "it among your brands first",
        "lexicon[0]: only the alliance operator changes the shared lexicon",
    ]
    assert report.skipped == ["members[0] ('acme'): unchanged"]
    assert report.changes["brands"] == {"added": 2}
    assert report.changes["products"] == {"added": 2}
    assert report.warnings == [
        "brands[0]: logos: 'logos/acme.png' is a file path, which an upload cannot carry; give "
        "an http(s) address or load the file with `vigil registry load`"
    ]
    snapshot = registry_snapshot(store)
    assert {(b.name, b.owner) for b in snapshot.brands} == {
        ("Acme", "acme"),
        ("Roadrunner", "acme"),
    }
    assert snapshot.lexicon == [] and snapshot.brand("Acme").logos == []  # type: ignore[union-attr]
    [event] = _audit(store, "registry.upload")
    assert (event.actor, event.member_id, event.subject) == (
        "analyst@acme.test",
        "acme",
        "acme.yaml",
    )
    assert len(event.details["problems"]) == 4


def test_a_member_cannot_take_over_or_rename_into_another_members_brand(store: Store) -> None:
    _brand(store, GLOBEX, "Globex")
    content = json.dumps(
        {
            "brands": [{"name": "GLOBEX", "aliases": ["mine now"]}],
            "products": [{"brand": "Globex", "model": "Widget"}],
            "members": [{"id": "acme", "name": "Acme", "kind": "operator"}],
        }
    ).encode()
    report = load_uploaded_registry(store, ACME, content, fmt="json")
    messages = " | ".join(str(p) for p in report.problems)
    assert "brands[0] ('GLOBEX'): a brand of this name is already registered" in messages
    assert "members[0] ('acme'): only the alliance operator admits members" in messages
    assert "products[0] ('Widget'): brand: 'Globex' is not one of the brands" in messages
    assert "globex" not in messages.lower().replace("'globex'", "").replace("('globex')", "")
    globex = registry_snapshot(store).brand("Globex")
    assert globex is not None and globex.aliases == []
    with store.session() as session:
        assert session.get(MemberRow, "acme").kind == "brand_owner"  # type: ignore[union-attr]


def test_strict_upload_writes_nothing_when_an_entry_is_refused(store: Store) -> None:
    content = yaml.safe_dump(_upload_data(), allow_unicode=True).encode()
    report = load_uploaded_registry(store, ACME, content, fmt="yaml", strict=True)
    assert not report.written and report.problems
    assert registry_snapshot(store).brands == []
    assert _audit(store, "registry.upload") == []


def test_the_operator_uploads_for_every_member(store: Store) -> None:
    data = registry_data()
    data["members"] += [{"id": "newco", "name": "NewCo", "kind": "brand_owner"}]
    data["brands"][0]["owner"] = "newco"
    data["brands"][1]["owner"] = "globex"
    content = yaml.safe_dump(data, allow_unicode=True).encode()
    report = load_uploaded_registry(store, OPERATOR, content, fmt="yaml")
    assert report.problems == []
    assert report.changes["members"] == {"added": 3}  # xiaomi, apple and newco
    assert {b.owner for b in registry_snapshot(store).brands} == {"newco", "globex"}
    assert [b.brand.name for b in edit.list_brands(store, GLOBEX).items] == ["Apple"]


@pytest.mark.parametrize(
    ("content", "fmt", "message"),
    [
        (b"brands: [name: x\n", "yaml", "not valid YAML at line 2, column 1"),
        (b'{"brands": [', "json", "not valid JSON at line 1"),
        (b"", "yaml", "the file is empty"),
        (b"- a list\n", "yaml", "expected a mapping with sections"),
    ],
)
def test_a_broken_upload_names_the_upload_not_a_temporary_file(
    store: Store, content: bytes, fmt: UploadFormat, message: str
) -> None:
    with pytest.raises(RegistryFileError) as caught:
        load_uploaded_registry(store, ACME, content, fmt=fmt, filename="../x/broken.txt")
    assert str(caught.value).startswith(f"broken.txt: {message}")
    assert "vigil-upload-" not in str(caught.value)
