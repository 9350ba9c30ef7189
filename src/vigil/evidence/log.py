"""The evidence transparency log, stored in the relational store.

Entries go to `evidence_log_entries` with their leaf hashes; every perfect subtree's hash goes to
`evidence_log_nodes` as soon as the subtree is full, so a root or a proof needs O(log n) stored
hashes (fetched in two queries) and an append reads only the log's right edge. Signed tree heads
go to `evidence_tree_heads`. Nothing is ever updated or deleted.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, datetime

from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from vigil.evidence.merkle import (
    EMPTY_ROOT,
    ProofError,
    consistency_ranges,
    inclusion_ranges,
    leaf_hash,
    node_hash,
    perfect_subtrees,
    subtree_from_perfect,
)
from vigil.evidence.signing import LogSigner, TreeHead, utc_milliseconds, verify_tree_head
from vigil.store.tables import EvidenceLogEntryRow, EvidenceLogNodeRow, EvidenceTreeHeadRow, as_utc

# Any constant would do; all appenders of every Vigil process take the same one.
_ADVISORY_LOCK = 0x5649_4749_4C5F_4C47

Perfect = tuple[int, int]


class TransparencyLog:
    """The append-only Merkle log of evidence. Without a signer it can read and prove, not sign."""

    def __init__(self, signer: LogSigner | None = None) -> None:
        self.signer = signer

    # --- writing -------------------------------------------------------------------------

    def append(self, session: Session, entries: Sequence[bytes]) -> list[int]:
        """Append `entries` in the caller's transaction and return their 0-based indexes.

        Appenders are serialised: PostgreSQL takes a transaction-scoped advisory lock; SQLite
        takes its writer lock with the first write, before the log's size is read."""
        if not entries:
            return []
        self._lock(session)
        size = self.size(session)
        # The roots of the perfect subtrees that make up the current tree, largest first: the
        # only stored hashes a new leaf can combine with.
        parts = perfect_subtrees(0, size) if size else []
        edge = self._perfect(session, parts)
        stack = [(level, edge[(level, index)]) for level, index in parts]
        stamp = self._bound_time(session, datetime.now(UTC))
        entry_rows: list[tuple[int, bytes, bytes, object]] = []
        node_rows: list[tuple[int, int, bytes]] = []
        for offset, entry in enumerate(entries):
            position = size + offset
            current = leaf_hash(entry)
            entry_rows.append((position, bytes(entry), current, stamp))
            level = 0
            while stack and stack[-1][0] == level:
                current = node_hash(stack.pop()[1], current)
                level += 1
                node_rows.append((level, position >> level, current))
            stack.append((level, current))
        # Through the driver's executemany: SQLAlchemy's per-row parameter handling would cost
        # about as much as the rest of the append.
        mark = _mark(session)
        connection = session.connection()
        connection.exec_driver_sql(
            "INSERT INTO evidence_log_entries (idx, entry, leaf_hash, appended_at) "
            f"VALUES ({mark}, {mark}, {mark}, {mark})",
            entry_rows,
        )
        if node_rows:
            connection.exec_driver_sql(
                "INSERT INTO evidence_log_nodes (level, idx, hash) "
                f"VALUES ({mark}, {mark}, {mark})",
                node_rows,
            )
        return list(range(size, size + len(entries)))

    def _bound_time(self, session: Session, moment: datetime) -> object:
        """`moment` as the driver takes it for `appended_at` (SQLite stores text)."""
        column = EvidenceLogEntryRow.__table__.c.appended_at
        process = column.type.bind_processor(session.get_bind().dialect)
        return process(moment) if process else moment

    def _lock(self, session: Session) -> None:
        if session.get_bind().dialect.name == "postgresql":
            session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _ADVISORY_LOCK})
        else:
            # A write that changes nothing still takes SQLite's writer lock (waiting for it up
            # to the busy timeout), so no other appender can read the same size meanwhile.
            session.execute(text("UPDATE evidence_tree_heads SET size = size WHERE 1 = 0"))

    def sign_head(self, session: Session) -> TreeHead:
        """Sign the current size and root and store the head. When the newest head already
        covers this size with this key, that head is returned instead of a new one."""
        if self.signer is None:
            raise ProofError(
                "this log was opened without its signing key, so it cannot sign tree heads; "
                "open it with LogSigner.for_settings(settings)"
            )
        size = self.size(session)
        latest = self.latest_head(session)
        if latest is not None and latest.size == size and latest.key_id == self.signer.key_id:
            return latest
        head = self.signer.sign(size, self.root(session, size), utc_milliseconds(datetime.now(UTC)))
        session.add(
            EvidenceTreeHeadRow(
                size=head.size,
                root=head.root,
                timestamp=head.timestamp,
                signature=head.signature,
                key_id=head.key_id,
            )
        )
        session.flush()
        return head

    # --- reading -------------------------------------------------------------------------

    def size(self, session: Session) -> int:
        """How many entries the log holds."""
        last = session.scalar(select(func.max(EvidenceLogEntryRow.idx)))
        return 0 if last is None else int(last) + 1

    def root(self, session: Session, size: int | None = None) -> bytes:
        """The Merkle root of the first `size` entries (all of them by default)."""
        size = self._size_within(session, size, "root")
        if size == 0:
            return EMPTY_ROOT
        found = self._perfect(session, perfect_subtrees(0, size))
        return subtree_from_perfect(0, size, lambda level, index: found[(level, index)])

    def entry(self, session: Session, index: int) -> bytes:
        """The stored bytes of entry `index`."""
        stored = session.scalar(
            select(EvidenceLogEntryRow.entry).where(EvidenceLogEntryRow.idx == index)
        )
        if stored is None:
            raise ProofError(
                f"the evidence log has no entry {index}; it holds {self.size(session)} entries"
            )
        return bytes(stored)

    def leaf_hash_at(self, session: Session, index: int) -> bytes:
        """The stored leaf hash of entry `index` (what proofs start from; no content)."""
        stored = session.scalar(
            select(EvidenceLogEntryRow.leaf_hash).where(EvidenceLogEntryRow.idx == index)
        )
        if stored is None:
            raise ProofError(
                f"the evidence log has no entry {index}; it holds {self.size(session)} entries"
            )
        return bytes(stored)

    def latest_head(self, session: Session) -> TreeHead | None:
        """The most recently signed tree head, if any."""
        row = session.scalars(
            select(EvidenceTreeHeadRow).order_by(EvidenceTreeHeadRow.id.desc()).limit(1)
        ).first()
        return None if row is None else _head(row)

    def head_at(self, session: Session, size: int) -> TreeHead | None:
        """The most recently signed tree head for exactly `size` entries, if any."""
        row = session.scalars(
            select(EvidenceTreeHeadRow)
            .where(EvidenceTreeHeadRow.size == size)
            .order_by(EvidenceTreeHeadRow.id.desc())
            .limit(1)
        ).first()
        return None if row is None else _head(row)

    def inclusion_proof(self, session: Session, index: int, size: int | None = None) -> list[bytes]:
        """The audit path of entry `index` in the tree of `size` entries (default: all)."""
        size = self._size_within(session, size, "inclusion proof")
        return self._hashes(session, inclusion_ranges(index, size))

    def consistency_proof(
        self, session: Session, size1: int, size2: int | None = None
    ) -> list[bytes]:
        """The proof that the tree of `size1` entries is a prefix of the tree of `size2`."""
        size2 = self._size_within(session, size2, "consistency proof")
        return self._hashes(session, consistency_ranges(size1, size2))

    def _size_within(self, session: Session, size: int | None, what: str) -> int:
        current = self.size(session)
        if size is None:
            return current
        if not 0 <= size <= current:
            raise ProofError(
                f"no {what} for size {size}: the evidence log holds {current} entries, so the "
                f"size must be between 0 and {current}"
            )
        return size

    def _hashes(self, session: Session, ranges: Sequence[tuple[int, int]]) -> list[bytes]:
        needed = [part for start, end in ranges for part in perfect_subtrees(start, end)]
        found = self._perfect(session, needed)
        return [
            subtree_from_perfect(start, end, lambda level, index: found[(level, index)])
            for start, end in ranges
        ]

    def _perfect(self, session: Session, parts: Iterable[Perfect]) -> dict[Perfect, bytes]:
        """Stored hashes of perfect subtrees, in one round trip."""
        wanted = set(parts)
        leaves = [index for level, index in wanted if level == 0]
        nodes = [(level, index) for level, index in wanted if level > 0]
        # Plain SQL through the driver: building the equivalent SQLAlchemy expression afresh for
        # each proof's shape costs more than the query. Each node is one OR-ed term so that
        # both backends search the primary key (SQLite scans the table for a row-value IN list).
        mark = _mark(session)
        selects: list[str] = []
        params: list[int] = []
        if leaves:
            selects.append(
                "SELECT 0, idx, leaf_hash FROM evidence_log_entries "
                f"WHERE idx IN ({', '.join([mark] * len(leaves))})"
            )
            params.extend(leaves)
        if nodes:
            terms = " OR ".join([f"(level = {mark} AND idx = {mark})"] * len(nodes))
            selects.append(f"SELECT level, idx, hash FROM evidence_log_nodes WHERE {terms}")
            params.extend(value for node in nodes for value in node)
        found: dict[Perfect, bytes] = {}
        if selects:
            rows = session.connection().exec_driver_sql(" UNION ALL ".join(selects), tuple(params))
            found.update(((int(level), int(index)), bytes(value)) for level, index, value in rows)
        missing = wanted - found.keys()
        if missing:
            level, index = min(missing)
            raise ProofError(
                f"the evidence log is damaged: the hash of the subtree at level {level}, index "
                f"{index} is missing ({len(missing)} missing in all); run `verify_stored`"
            )
        return found

    # --- auditing ------------------------------------------------------------------------

    def verify_stored(self, session: Session) -> list[str]:
        """Check every stored row against what it should be and list each mismatch (empty when
        the log is intact): each entry against its leaf hash, each subtree hash against the hash
        of its two stored children, each signed head's root (and signature, with the signer's
        key) against the stored tree. Checking each row against its own children names the row
        that changed rather than every hash above it.

        Reads the whole log, holding one level of the tree in memory at a time."""
        problems: list[str] = []
        size = self.size(session)
        heads = [_head(row) for row in session.scalars(select(EvidenceTreeHeadRow))]
        needed = {
            part
            for head in heads
            if 0 < head.size <= size
            for part in perfect_subtrees(0, head.size)
        }
        level_hashes: list[bytes] = []
        rows = session.execute(
            select(
                EvidenceLogEntryRow.idx, EvidenceLogEntryRow.entry, EvidenceLogEntryRow.leaf_hash
            ).order_by(EvidenceLogEntryRow.idx)
        )
        for index, entry, stored in rows.yield_per(10_000):
            if index != len(level_hashes):
                first, last = len(level_hashes), index - 1
                problems.append(
                    f"entry {first} is missing"
                    if first == last
                    else f"entries {first} to {last} are missing"
                )
                level_hashes.extend([b""] * (index - len(level_hashes)))
            actual = leaf_hash(bytes(entry))
            if actual != bytes(stored):
                problems.append(
                    f"entry {index}: its bytes hash to leaf {actual.hex()} but the stored leaf "
                    f"hash is {bytes(stored).hex()}; the entry or its leaf hash was changed"
                )
            level_hashes.append(bytes(stored))
        kept: dict[Perfect, bytes] = {}
        level = 0
        while True:
            kept.update((part, level_hashes[part[1]]) for part in needed if part[0] == level)
            if len(level_hashes) <= 1:
                break
            level += 1
            level_hashes = self._check_level(session, level, level_hashes, problems)
        for head in heads:
            problems.extend(self._check_head(head, size, kept))
        return problems

    def _check_level(
        self, session: Session, level: int, below: list[bytes], problems: list[str]
    ) -> list[bytes]:
        """Compare the stored hashes of one level with the hashes of their children and return
        the latter: a changed row is then reported once, not again by the rows above it."""
        computed = [node_hash(below[i], below[i + 1]) for i in range(0, len(below) - 1, 2)]
        present = [False] * len(computed)
        rows = session.execute(
            select(EvidenceLogNodeRow.idx, EvidenceLogNodeRow.hash)
            .where(EvidenceLogNodeRow.level == level)
            .order_by(EvidenceLogNodeRow.idx)
        )
        for index, stored in rows.yield_per(10_000):
            if index >= len(computed):
                problems.append(
                    f"subtree at level {level}, index {index}: stored, but the log has no such "
                    "full subtree; a row was added"
                )
                continue
            present[index] = True
            if bytes(stored) != computed[index]:
                problems.append(
                    f"subtree at level {level}, index {index} (entries {index << level} to "
                    f"{((index + 1) << level) - 1}): stored hash {bytes(stored).hex()} differs "
                    f"from the hash of its children {computed[index].hex()}"
                )
        problems.extend(
            f"subtree at level {level}, index {index}: its stored hash is missing"
            for index, found in enumerate(present)
            if not found
        )
        return computed

    def _check_head(self, head: TreeHead, size: int, kept: dict[Perfect, bytes]) -> list[str]:
        name = f"tree head of size {head.size} signed {head.to_json()['timestamp']}"
        if head.size > size:
            return [f"{name}: the log now holds only {size} entries; entries were removed"]
        root = (
            EMPTY_ROOT
            if head.size == 0
            else subtree_from_perfect(0, head.size, lambda level, index: kept[(level, index)])
        )
        problems = []
        if root != head.root:
            problems.append(
                f"{name}: signed root {head.root.hex()} differs from the root {root.hex()} "
                "recomputed from the stored entries"
            )
        if self.signer is not None and head.key_id == self.signer.key_id:
            try:
                verify_tree_head(head, self.signer.public_key_pem)
            except ProofError as error:
                problems.append(f"{name}: {error}")
        return problems


def _mark(session: Session) -> str:
    """The driver's positional placeholder: SQLite's `?`, psycopg's `%s`."""
    return "?" if session.get_bind().dialect.paramstyle == "qmark" else "%s"


def _head(row: EvidenceTreeHeadRow) -> TreeHead:
    return TreeHead(
        size=int(row.size),
        root=bytes(row.root),
        timestamp=as_utc(row.timestamp),
        signature=bytes(row.signature),
        key_id=row.key_id,
    )
