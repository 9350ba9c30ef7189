"""Works of kind text on both store backends: a member's own only, listed by title a page at a
time, found by (owner, title) for the listing page's links, image works left out."""

from __future__ import annotations

from pathlib import Path

import pytest

from vigil.domain.people import Actor, Role
from vigil.domain.registry import MemberKind
from vigil.services import accounts
from vigil.services import registry_edit as edit
from vigil.services import registry_works as works
from vigil.store.db import Store, cli_actor
from vigil.store.tables import WorkRow

ACME = Actor("analyst@acme.test", "acme", MemberKind.BRAND_OWNER, Role.ANALYST)
GLOBEX = Actor("analyst@globex.test", "globex", MemberKind.BRAND_OWNER, Role.ANALYST)
VIEWER = Actor("viewer@acme.test", "acme", MemberKind.BRAND_OWNER, Role.VIEWER)
OPERATOR = Actor("admin@alliance.test", "alliance", MemberKind.OPERATOR, Role.ADMIN)


@pytest.fixture
def members(store: Store) -> Store:
    for member_id, kind in (
        ("acme", "brand_owner"),
        ("globex", "brand_owner"),
        ("alliance", "operator"),
    ):
        accounts.create_member(
            store, member_id=member_id, name=member_id.title(), kind=kind, actor=cli_actor()
        )
    return store


def test_works_are_paged_by_title_for_their_owner_only(members: Store) -> None:
    titles = ["手册 b", "Manual A", "手册 a", "Manual B", "Article"]
    for title in titles:
        works.create_work(members, actor=ACME, title=title)
    works.create_work(members, actor=GLOBEX, title="Globex manual")
    with members.session() as session:
        # An image work of acme's, registered with the command line: not a text work.
        session.add(
            WorkRow(owner_id="acme", title="Logo art", entry={"kind": "image", "files": []})
        )
    seen: list[str] = []
    cursor = None
    while True:
        page = works.list_works(members, ACME, limit=2, cursor=cursor)
        seen += [w.title for w in page.items]
        cursor = page.next_cursor
        if cursor is None:
            break
    assert seen == sorted(titles)
    assert works.count_works(members, ACME) == 5
    assert works.count_works(members, OPERATOR) == 6
    everything = works.list_works(members, OPERATOR, limit=50).items
    assert {w.owner_name for w in everything} == {"Acme", "Globex"}


def test_a_member_cannot_reach_another_members_work(members: Store) -> None:
    mine = works.create_work(members, actor=ACME, title="Manual")
    with pytest.raises(edit.EntryNotFound):
        works.get_work(members, GLOBEX, mine.id)
    with pytest.raises(edit.EntryNotFound):
        works.delete_work(members, mine.id, actor=GLOBEX)
    with pytest.raises(edit.NotAllowed):
        works.create_work(members, actor=VIEWER, title="Viewer's work")
    with pytest.raises(edit.EntryConflict):
        works.create_work(members, actor=ACME, title="MANUAL")
    assert works.get_work(members, OPERATOR, mine.id).title == "Manual"


def test_links_find_the_works_the_actor_may_see(members: Store, tmp_path: Path) -> None:
    manual = works.create_work(members, actor=ACME, title="X1 用户手册")
    works.create_work(members, actor=GLOBEX, title="Article")
    asked = [("acme", "X1 用户手册"), ("globex", "Article"), ("acme", "missing")]
    assert works.work_ids(members, ACME, asked) == {("acme", "X1 用户手册"): manual.id}
    assert len(works.work_ids(members, OPERATOR, asked)) == 2
    kept = works.store_work_file(
        "本产品采用高强度铝合金机身".encode(), "x1.txt", places=works.WorkPlaces(tmp_path)
    )
    record, added = works.add_work_file(members, manual.id, actor=ACME, stored=kept)
    assert added and record.files == [str(kept.path)]
    removed = works.remove_work_file(members, manual.id, actor=ACME, sha256=kept.sha256)
    assert removed.files == []
