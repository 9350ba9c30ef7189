"""Works of kind `text` in the registry: registered by owner and title, their files uploaded
and removed through the web, each change audited like every registry edit.

An uploaded file is checked as a scan will read it (`vigil.texts.works.work_text`: empty,
binary, PDF or image, unknown encoding are refused with the reason) and kept as sent under
`<home>/assets/<sha[:2]>/<sha>/<name>`: the folder is the SHA-256 of the bytes, the name keeps
the uploader's file name, whose suffix says how to read it (.txt, .md, .html). The work's
entry lists that path; removing it from the work leaves the file, as for images.

A member manages its own works; the operator manages all of them and decides who owns what.
"""

from __future__ import annotations

import hashlib
import json
import re
import stat
import threading
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path, PurePath
from typing import Any

from sqlalchemy import ColumnElement, func, select, true, tuple_
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from vigil.domain.people import Actor
from vigil.domain.registry import Work, WorkKind
from vigil.errors import VigilError
from vigil.files import write_atomic
from vigil.services.media import is_address
from vigil.services.registry_edit import (
    MAX_PAGE,
    EntryConflict,
    EntryNotFound,
    Page,
    RegistryEditError,
    check_writer,
    decode_cursor,
    encode_cursor,
)
from vigil.settings import load_scan_config
from vigil.store.db import Store, audit
from vigil.store.tables import MemberRow, WorkRow
from vigil.texts.works import MAX_WORK_BYTES, WorkError, work_text

# The suffixes a work's file may have, and the one it is kept under.
SUFFIXES = {".txt": ".txt", ".md": ".md", ".markdown": ".md", ".html": ".html", ".htm": ".html"}
MAX_TITLE = 500  # the column's size
MAX_NAME = 120  # of a kept file's name
PREVIEW_CHARS = 400
_UNSAFE = re.compile(r"[^\w.\- ]+")


class UnusableWorkFile(VigilError):
    """An uploaded file that cannot be a work's text.

    `problem` names the kind of problem (`missing`, `suffix`, `too_large`, `empty`,
    `unreadable`), so that pages can word it in the visitor's language; the message says
    exactly what is wrong with this file."""

    def __init__(self, problem: str, reason: str) -> None:
        super().__init__(reason)
        self.problem = problem
        self.reason = reason


@dataclass(frozen=True)
class WorkPlaces:
    """Where an installation keeps works' files, and how large one may be (the scan's
    `texts.max_work_bytes`, which it reads them under)."""

    assets: Path
    max_bytes: int = MAX_WORK_BYTES

    @classmethod
    def for_home(cls, home: Path) -> WorkPlaces:
        home = home.resolve()
        texts: Mapping[str, Any] = load_scan_config(home).detectors.get("texts", {}) or {}
        limit = texts.get("max_work_bytes")
        if isinstance(limit, int) and not isinstance(limit, bool) and limit > 0:
            return cls(assets=home / "assets", max_bytes=limit)
        return cls(assets=home / "assets")


@dataclass(frozen=True, slots=True)
class StoredWorkFile:
    """An uploaded file as it was kept, and how a scan reads it."""

    path: Path
    name: str
    sha256: str
    size: int
    encoding: str
    kind: str  # text, markdown or html
    chars: int  # of extracted text
    preview: str


@dataclass(frozen=True, slots=True)
class WorkFile:
    """One file a work lists, as a page shows it: how it reads, or why it cannot be read."""

    file: str  # as the entry lists it
    name: str  # what a person reads: the address, or the file's name
    address: str | None  # an http(s) address (not read by the server)
    sha256: str | None = None
    size: int | None = None
    encoding: str | None = None
    kind: str | None = None
    chars: int | None = None
    preview: str | None = None
    error: str | None = None


@dataclass(frozen=True)
class WorkRecord:
    """A stored work of kind text, with its files."""

    id: int
    owner: str
    title: str
    files: list[str]
    updated_at: datetime
    owner_name: str | None = None
    shown: list[WorkFile] = field(default_factory=list)


def _preview(text: str) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= PREVIEW_CHARS else flat[: PREVIEW_CHARS - 1] + "…"


# Uploads -------------------------------------------------------------------------------------


def kept_name(name: str) -> str:
    """The uploader's file name as it is kept: its last part, with characters that are not
    letters, digits, dots, dashes, underscores or spaces replaced, the suffix made canonical."""
    base = PurePath(name.replace("\\", "/")).name.strip()
    suffix = PurePath(base).suffix.casefold()
    if suffix not in SUFFIXES:
        shown = base[:80] or "the file"
        raise UnusableWorkFile(
            "suffix",
            f"{shown} is not a .txt, .md or .html file; a work's text is registered as plain "
            "text, Markdown or HTML",
        )
    stem = _UNSAFE.sub("_", PurePath(base).stem).strip(" .") or "work"
    return stem[: MAX_NAME - len(SUFFIXES[suffix])] + SUFFIXES[suffix]


def store_work_file(data: bytes, name: str, *, places: WorkPlaces) -> StoredWorkFile:
    """Check an uploaded file as a scan would read it and keep it under the installation's
    assets; raises UnusableWorkFile saying why when it cannot be a work's text."""
    if not name.strip():
        raise UnusableWorkFile("missing", "choose a .txt, .md or .html file to upload")
    kept = kept_name(name)
    if len(data) > places.max_bytes:
        raise UnusableWorkFile(
            "too_large",
            f"{kept} is {len(data) / 2**20:.1f} MiB, over the {places.max_bytes / 2**20:g} MiB "
            "limit for a work's file; split the work into several files",
        )
    if not data.strip():
        raise UnusableWorkFile("empty", f"{kept} is empty; upload a file with the work's text")
    try:
        read = work_text(data, kept)
    except WorkError as error:
        raise UnusableWorkFile("unreadable", str(error)) from None
    sha256 = hashlib.sha256(data).hexdigest()
    path = places.assets / sha256[:2] / sha256 / kept
    if not path.is_file():
        write_atomic(path, data, what="the registry's store of works")
    return StoredWorkFile(
        path=path,
        name=kept,
        sha256=sha256,
        size=len(data),
        encoding=read.encoding,
        kind=read.kind,
        chars=len(read.text),
        preview=_preview(read.text),
    )


# Reading the files a work lists -------------------------------------------------------------


class _FileFacts:
    """How each listed file reads, remembered while its size and time stay the same, so that
    showing a work does not read and decode its files again."""

    def __init__(self, size: int = 512) -> None:
        self.size = size
        self.known: OrderedDict[tuple[str, int, int, int], WorkFile] = OrderedDict()
        self.lock = threading.Lock()

    def of(self, file: str, max_bytes: int) -> WorkFile:
        name = PurePath(file).name
        path = Path(file)
        try:
            info = path.stat()
        except OSError:
            return WorkFile(file, name, None, error="the file is missing on the server")
        if not stat.S_ISREG(info.st_mode):
            return WorkFile(file, name, None, error="not a regular file")
        key = (file, info.st_size, info.st_mtime_ns, max_bytes)
        with self.lock:
            if key in self.known:
                self.known.move_to_end(key)
                return self.known[key]
        facts = _read_facts(path, file, name, info.st_size, max_bytes)
        with self.lock:
            self.known[key] = facts
            if len(self.known) > self.size:
                self.known.popitem(last=False)
        return facts


def _read_facts(path: Path, file: str, name: str, size: int, max_bytes: int) -> WorkFile:
    digest = hashlib.sha256()
    try:
        with path.open("rb") as handle:
            head = handle.read(max_bytes + 1)
            digest.update(head)
            for chunk in iter(lambda: handle.read(1 << 20), b""):
                digest.update(chunk)
    except OSError as error:
        return WorkFile(file, name, None, error=f"cannot be read: {error.strerror or error}")
    known = WorkFile(file, name, None, sha256=digest.hexdigest(), size=size)
    if len(head) > max_bytes:
        limit = f"{max_bytes / 2**20:g} MiB"
        return replace(known, error=f"larger than the {limit} limit for a work")
    try:
        read = work_text(head, name)
    except WorkError as error:
        return replace(known, error=str(error))
    return replace(
        known,
        encoding=read.encoding,
        kind=read.kind,
        chars=len(read.text),
        preview=_preview(read.text),
    )


_FACTS = _FileFacts()


def work_files(files: list[str], *, max_bytes: int = MAX_WORK_BYTES) -> list[WorkFile]:
    """The files of a work as a page shows them; addresses are named, never fetched."""
    return [WorkFile(f, f, f) if is_address(f) else _FACTS.of(f, max_bytes) for f in files]


# Loading what the actor may see --------------------------------------------------------------


def visible_works(actor: Actor) -> ColumnElement[bool]:
    """A filter on `WorkRow`: a member's own works; all of them for the operator."""
    if actor.is_operator:
        return true()
    return WorkRow.owner_id == actor.member_id


def _entry(row: WorkRow) -> Work:
    return Work.model_validate({**row.entry, "owner": row.owner_id, "title": row.title})


def _work_row(session: Session, actor: Actor, work_id: int) -> WorkRow:
    row = session.scalar(
        select(WorkRow).where(
            WorkRow.id == work_id, visible_works(actor), WorkRow.entry["kind"].as_string() == "text"
        )
    )
    if row is None:
        raise EntryNotFound(f"no work {work_id}")
    return row


def _records(session: Session, rows: list[WorkRow]) -> list[WorkRecord]:
    owners = {row.owner_id for row in rows}
    found = session.execute(select(MemberRow.id, MemberRow.name).where(MemberRow.id.in_(owners)))
    names = {member_id: name for member_id, name in found}
    return [
        WorkRecord(
            id=row.id,
            owner=row.owner_id,
            title=row.title,
            files=list(_entry(row).files),
            updated_at=row.updated_at,
            owner_name=names.get(row.owner_id),
        )
        for row in rows
    ]


def _record(session: Session, row: WorkRow) -> WorkRecord:
    return _records(session, [row])[0]


def _text_works(actor: Actor) -> list[ColumnElement[bool]]:
    return [visible_works(actor), WorkRow.entry["kind"].as_string() == WorkKind.TEXT.value]


def list_works(
    store: Store, actor: Actor, *, limit: int = 50, cursor: str | None = None
) -> Page[WorkRecord]:
    """The actor's works of kind text (all of them for the operator), by title."""
    if not 1 <= limit <= MAX_PAGE:
        raise RegistryEditError(f"limit must be between 1 and {MAX_PAGE} (got {limit})")
    where = _text_works(actor)
    if cursor:
        try:
            title, last = json.loads(decode_cursor(cursor))
            where.append(tuple_(WorkRow.title, WorkRow.id) > tuple_(str(title), int(last)))
        except (ValueError, TypeError):
            raise RegistryEditError(
                "cursor is not valid: pass the next_cursor of the previous page unchanged"
            ) from None
    with store.session() as session:
        query = select(WorkRow).where(*where).order_by(WorkRow.title, WorkRow.id)
        rows = list(session.scalars(query.limit(limit + 1)))
        items = _records(session, rows[:limit])
    more = len(rows) > limit
    last_row = rows[limit - 1] if more else None
    next_cursor = encode_cursor(json.dumps([last_row.title, last_row.id])) if last_row else None
    return Page(items, next_cursor)


def count_works(store: Store, actor: Actor) -> int:
    with store.session() as session:
        found = session.scalar(select(func.count()).select_from(WorkRow).where(*_text_works(actor)))
    return found or 0


def get_work(
    store: Store,
    actor: Actor,
    work_id: int,
    *,
    files: bool = True,
    max_bytes: int = MAX_WORK_BYTES,
) -> WorkRecord:
    """One of the actor's works; with `files`, how each of its files reads."""
    with store.session() as session:
        record = _record(session, _work_row(session, actor, work_id))
    if not files:
        return record
    return replace(record, shown=work_files(record.files, max_bytes=max_bytes))


def work_ids(
    store: Store, actor: Actor, works: list[tuple[str, str]]
) -> dict[tuple[str, str], int]:
    """The ids of those (owner, title) works the actor may see (for links to their pages)."""
    if not works:
        return {}
    with store.session() as session:
        rows = session.execute(
            select(WorkRow.owner_id, WorkRow.title, WorkRow.id).where(
                tuple_(WorkRow.owner_id, WorkRow.title).in_(works), *_text_works(actor)
            )
        )
        return {(owner, title): work_id for owner, title, work_id in rows}


# Changes -------------------------------------------------------------------------------------


def _owner_for(session: Session, actor: Actor, owner: str | None) -> str:
    """Who will own the work: members register works for themselves; the operator names any
    member (itself when it names none)."""
    wanted = (owner or "").strip() or None
    if not actor.is_operator:
        if wanted not in (None, actor.member_id):
            raise RegistryEditError(
                f"owner: a member registers works for itself only; leave owner out or give "
                f"{actor.member_id!r}"
            )
        assert actor.member_id is not None
        return actor.member_id
    if wanted is None:
        if actor.member_id is None:
            raise RegistryEditError("owner: name the member who owns the work")
        return actor.member_id
    if session.get(MemberRow, wanted) is None:
        raise RegistryEditError(
            f"owner: {wanted!r} is not a registered member; admit the member first"
        )
    return wanted


def _checked_title(title: str) -> str:
    title = " ".join(title.split())
    if not title:
        raise RegistryEditError("title: give the work's title")
    if len(title) > MAX_TITLE:
        raise RegistryEditError(f"title: at most {MAX_TITLE} characters (got {len(title)})")
    return title


def create_work(store: Store, *, actor: Actor, title: str, owner: str | None = None) -> WorkRecord:
    """Register a work of kind text, with no files yet; a member's work is its own."""
    check_writer(actor)
    title = _checked_title(title)
    with store.session() as session:
        owner_id = _owner_for(session, actor, owner)
        taken = select(WorkRow.id).where(
            WorkRow.owner_id == owner_id, func.lower(WorkRow.title) == title.lower()
        )
        if session.scalar(taken) is not None:
            raise EntryConflict(
                f"{owner_id} already has a work titled {title!r}; open that one to add files"
            )
        work = Work(owner=owner_id, title=title, kind=WorkKind.TEXT, files=[])
        row = WorkRow(owner_id=owner_id, title=title, entry={"kind": "text", "files": []})
        session.add(row)
        try:
            session.flush()
        except IntegrityError:
            raise EntryConflict(
                f"{owner_id} just registered a work titled {title!r}; reload and try again"
            ) from None
        audit(
            session,
            action="work.create",
            subject=f"work:{row.id}",
            details=work.model_dump(mode="json"),
            actor=actor,
            member_id=owner_id,
        )
        return _record(session, row)


def delete_work(store: Store, work_id: int, *, actor: Actor) -> None:
    """Remove a work from the registry (its files stay among the assets)."""
    check_writer(actor)
    with store.session() as session:
        row = _work_row(session, actor, work_id)
        details = {"title": row.title, "files": list(_entry(row).files)}
        owner = row.owner_id
        session.delete(row)
        audit(
            session,
            action="work.delete",
            subject=f"work:{work_id}",
            details=details,
            actor=actor,
            member_id=owner,
        )


def _set_files(
    session: Session,
    actor: Actor,
    row: WorkRow,
    files: list[str],
    *,
    action: str,
    note: dict[str, Any],
) -> None:
    row.entry = {**row.entry, "files": files}
    session.flush()
    audit(
        session,
        action=action,
        subject=f"work:{row.id}",
        details={"title": row.title, **note},
        actor=actor,
        member_id=row.owner_id,
    )


def add_work_file(
    store: Store, work_id: int, *, actor: Actor, stored: StoredWorkFile
) -> tuple[WorkRecord, bool]:
    """List a file the caller has kept (`store_work_file`) among the work's files; the work and
    whether it changed (a file it lists already changes nothing)."""
    check_writer(actor)
    file = str(stored.path)
    with store.session() as session:
        row = _work_row(session, actor, work_id)
        files = list(_entry(row).files)
        added = file not in files
        if added:
            note = {
                "file": {
                    "name": stored.name,
                    "path": file,
                    "sha256": stored.sha256,
                    "size": stored.size,
                    "encoding": stored.encoding,
                    "kind": stored.kind,
                }
            }
            _set_files(session, actor, row, [*files, file], action="work.file.add", note=note)
        return _record(session, row), added


def remove_work_file(
    store: Store,
    work_id: int,
    *,
    actor: Actor,
    file: str | None = None,
    sha256: str | None = None,
) -> WorkRecord:
    """Stop listing a file among the work's files, named as the work lists it (`file`) or by
    the SHA-256 of its content. The file itself stays: another work may list it."""
    check_writer(actor)
    with store.session() as session:
        row = _work_row(session, actor, work_id)
        files = list(_entry(row).files)
        if file is None and sha256 is not None:
            file = next((f.file for f in work_files(files) if f.sha256 == sha256), None)
            if file is None:
                raise EntryNotFound(f"work {work_id} has no file {sha256[:80]!r}")
        if not file or file not in files:
            raise RegistryEditError(f"{(file or '')[:200]!r} is not among the work's files")
        kept = [f for f in files if f != file]
        note = {"file": {"path": file}}
        _set_files(session, actor, row, kept, action="work.file.remove", note=note)
        return _record(session, row)
