"""The transparency log in the store, on SQLite and PostgreSQL: appends, roots, proofs, signed
heads, tampering found, and the signing key's life."""

from __future__ import annotations

import base64
import os
import stat
import threading
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from pydantic import SecretStr
from sqlalchemy import delete, event, update

from vigil.evidence.log import TransparencyLog
from vigil.evidence.merkle import (
    ProofError,
    leaf_hash,
    root_of,
    verify_consistency,
    verify_inclusion,
)
from vigil.evidence.signing import (
    KEY_FILE,
    LogSigner,
    SigningKeyError,
    TreeHead,
    encode_private_key,
    verify_tree_head,
)
from vigil.settings import Settings
from vigil.store.db import Store
from vigil.store.tables import EvidenceLogEntryRow, EvidenceLogNodeRow, EvidenceTreeHeadRow

BATCHES = [1, 6, 1, 57, 64, 100, 3]


def entries(start: int, count: int) -> list[bytes]:
    """Log entries as evidence capture writes them: small JSON documents naming a digest."""
    return [
        b'{"case":"C-%d","sha256":"%064x"}' % (i % 7, i * 7919) for i in range(start, start + count)
    ]


@pytest.fixture
def signer(tmp_path: Path) -> LogSigner:
    return LogSigner.for_settings(Settings(home=tmp_path / "home"))


def filled(store: Store, log: TransparencyLog) -> list[bytes]:
    """The log after appends in several batches, each in its own transaction."""
    appended: list[bytes] = []
    for count in BATCHES:
        batch = entries(len(appended), count)
        with store.session() as session:
            indexes = log.append(session, batch)
        assert indexes == list(range(len(appended), len(appended) + count))
        appended.extend(batch)
    return appended


def test_appends_in_batches_give_the_root_of_all_leaves(store: Store) -> None:
    log = TransparencyLog()
    appended = filled(store, log)
    leaves = [leaf_hash(e) for e in appended]
    with store.session() as session:
        assert log.size(session) == len(appended)
        assert log.root(session) == root_of(leaves)
        for size in (0, 1, 2, 7, 64, 65, 128, 129, len(appended) - 1):
            assert log.root(session, size) == root_of(leaves[:size]), size
        assert log.entry(session, 70) == appended[70]
        assert log.leaf_hash_at(session, 70) == leaves[70]


def test_proofs_from_the_stored_log_verify(store: Store) -> None:
    log = TransparencyLog()
    appended = filled(store, log)
    leaves = [leaf_hash(e) for e in appended]
    with store.session() as session:
        for size in (1, 8, 65, len(appended)):
            root = root_of(leaves[:size])
            for index in range(size):
                proof = log.inclusion_proof(session, index, size)
                verify_inclusion(leaves[index], index, size, proof, root)
        for size1 in range(1, len(appended) + 1, 9):
            for size2 in (size1, size1 + 1, 128, len(appended)):
                if size2 < size1 or size2 > len(appended):
                    continue
                proof = log.consistency_proof(session, size1, size2)
                verify_consistency(
                    size1, size2, proof, root_of(leaves[:size1]), root_of(leaves[:size2])
                )
        with pytest.raises(ProofError, match="holds 232 entries"):
            log.inclusion_proof(session, 3, 500)
        with pytest.raises(ProofError, match="no entry 232"):
            log.entry(session, 232)


def test_signed_heads_verify_and_a_tampered_head_fails(store: Store, signer: LogSigner) -> None:
    log = TransparencyLog(signer)
    with store.session() as session:
        log.append(session, entries(0, 5))
        head = log.sign_head(session)
    assert head.size == 5 and head.key_id == signer.key_id
    verify_tree_head(head, signer.public_key_pem)
    with store.session() as session:
        stored = log.latest_head(session)
        assert stored == head
        assert log.head_at(session, 5) == head and log.head_at(session, 4) is None
        # Nothing new to sign: the same head, not a second one.
        assert log.sign_head(session) == head
        assert log.root(session, head.size) == head.root
    assert TreeHead.from_json(head.to_json()) == head

    later = head.timestamp + timedelta(milliseconds=1)
    for tampered in [
        replace(head, size=6),
        replace(head, root=bytes(32)),
        replace(head, timestamp=later),
        replace(head, signature=bytes(64)),
    ]:
        with pytest.raises(ProofError, match="does not verify"):
            verify_tree_head(tampered, signer.public_key_pem)
    other = LogSigner(Ed25519PrivateKey.generate())
    with pytest.raises(ProofError, match="names key"):
        verify_tree_head(head, other.public_key_pem)
    with pytest.raises(ProofError, match="not a PEM"):
        verify_tree_head(head, "not a key")


def test_a_changed_entry_byte_is_found_and_breaks_its_inclusion(
    store: Store, signer: LogSigner
) -> None:
    log = TransparencyLog(signer)
    filled(store, log)
    with store.session() as session:
        head = log.sign_head(session)
        assert log.verify_stored(session) == []
        original = log.entry(session, 42)
        changed = bytearray(original)
        changed[10] ^= 0x01
        session.execute(
            update(EvidenceLogEntryRow)
            .where(EvidenceLogEntryRow.idx == 42)
            .values(entry=bytes(changed))
        )
    with store.session() as session:
        problems = log.verify_stored(session)
        assert len(problems) == 1 and problems[0].startswith("entry 42:"), problems
        # A verifier holding the stored entry and a proof from the log cannot reach the root.
        stored = log.entry(session, 42)
        proof = log.inclusion_proof(session, 42, head.size)
        with pytest.raises(ProofError, match="not to the expected root"):
            verify_inclusion(leaf_hash(stored), 42, head.size, proof, head.root)
        # Its neighbours still prove fine.
        verify_inclusion(
            leaf_hash(log.entry(session, 41)),
            41,
            head.size,
            log.inclusion_proof(session, 41, head.size),
            head.root,
        )


def test_changed_subtree_hashes_and_heads_are_found(store: Store, signer: LogSigner) -> None:
    log = TransparencyLog(signer)
    filled(store, log)
    with store.session() as session:
        head = log.sign_head(session)
        session.execute(
            update(EvidenceLogNodeRow)
            .where(EvidenceLogNodeRow.level == 3, EvidenceLogNodeRow.idx == 2)
            .values(hash=bytes(32))
        )
        session.execute(
            update(EvidenceTreeHeadRow)
            .where(EvidenceTreeHeadRow.size == head.size)
            .values(root=bytes(32))
        )
    with store.session() as session:
        problems = log.verify_stored(session)
    # Each changed row once: the subtree hash, the head's root, and so the head's signature.
    assert len(problems) == 3, problems
    assert problems[0].startswith(
        "subtree at level 3, index 2 (entries 16 to 23): stored hash 0000"
    )
    assert "signed root 0000" in problems[1]
    assert "does not verify" in problems[2]


def test_concurrent_appenders_get_distinct_consecutive_indexes(store: Store) -> None:
    log = TransparencyLog()
    results: list[list[int]] = []
    failures: list[BaseException] = []

    def appender(worker: int) -> None:
        try:
            for round_ in range(5):
                with store.session() as session:
                    results.append(log.append(session, entries(worker * 1000 + round_ * 10, 10)))
        except BaseException as error:  # reported below, in the test's thread
            failures.append(error)

    threads = [threading.Thread(target=appender, args=(w,)) for w in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not failures, failures
    indexes = sorted(i for batch in results for i in batch)
    assert indexes == list(range(200))
    assert all(batch == list(range(batch[0], batch[0] + 10)) for batch in results)
    with store.session() as session:
        assert log.verify_stored(session) == []


def test_an_append_reads_only_the_right_edge(store: Store) -> None:
    log = TransparencyLog()
    statements: list[str] = []

    def count(_conn: object, _cursor: object, statement: str, *_args: object) -> None:
        statements.append(statement)

    def statements_of_one_append() -> int:
        statements.clear()
        event.listen(store.engine, "before_cursor_execute", count)
        try:
            with store.session() as session:
                log.append(session, entries(0, 3))
        finally:
            event.remove(store.engine, "before_cursor_execute", count)
        return len(statements)

    # Whatever the log's size: the lock, the size, the right edge's leaf and subtree hashes, and
    # one insert each of entries and of subtree hashes.
    with store.session() as session:
        log.append(session, entries(0, 5))
    assert statements_of_one_append() <= 6
    with store.session() as session:
        log.append(session, entries(0, 4093))
    assert statements_of_one_append() <= 6


def test_a_log_without_key_cannot_sign(store: Store) -> None:
    with store.session() as session, pytest.raises(ProofError, match="without its signing key"):
        TransparencyLog().sign_head(session)


def test_the_key_is_generated_once_private_and_then_reused(tmp_path: Path) -> None:
    settings = Settings(home=tmp_path / "home")
    first = LogSigner.for_settings(settings)
    path = settings.home / KEY_FILE
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert [p.name for p in path.parent.iterdir()] == ["evidence-log.key"]
    again = LogSigner.for_settings(settings)
    assert again.key_id == first.key_id and again.public_key_pem == first.public_key_pem


def test_a_key_readable_by_others_is_refused(tmp_path: Path) -> None:
    settings = Settings(home=tmp_path / "home")
    LogSigner.for_settings(settings)
    os.chmod(settings.home / KEY_FILE, 0o644)
    with pytest.raises(SigningKeyError, match="chmod 600"):
        LogSigner.for_settings(settings)


def test_the_key_from_settings_is_used_when_set(tmp_path: Path) -> None:
    private = Ed25519PrivateKey.generate()
    settings = Settings(
        home=tmp_path / "home", log_signing_key=SecretStr(encode_private_key(private))
    )
    signer = LogSigner.for_settings(settings)
    assert signer.key_id == LogSigner(private).key_id
    assert not (settings.home / KEY_FILE).exists()
    bad = Settings(home=tmp_path, log_signing_key=SecretStr(base64.b64encode(b"short").decode()))
    with pytest.raises(SigningKeyError, match="VIGIL_LOG_SIGNING_KEY"):
        LogSigner.for_settings(bad)


def test_the_key_setting_comes_from_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    private = Ed25519PrivateKey.generate()
    monkeypatch.setenv("VIGIL_LOG_SIGNING_KEY", encode_private_key(private))
    signer = LogSigner.for_settings(Settings(home=tmp_path))
    assert signer.key_id == LogSigner(private).key_id
    # The key never shows in the settings' text.
    assert encode_private_key(private) not in repr(Settings(home=tmp_path))


def test_a_removed_entry_is_found(store: Store, signer: LogSigner) -> None:
    log = TransparencyLog(signer)
    filled(store, log)
    with store.session() as session:
        log.sign_head(session)
        session.execute(delete(EvidenceLogEntryRow).where(EvidenceLogEntryRow.idx.in_([10, 231])))
    with store.session() as session:
        problems = log.verify_stored(session)
    assert problems[0] == "entry 10 is missing"
    assert any("the log now holds only 231 entries; entries were removed" in p for p in problems)


def test_a_damaged_key_file_is_refused(tmp_path: Path) -> None:
    settings = Settings(home=tmp_path / "home")
    LogSigner.for_settings(settings)
    (settings.home / KEY_FILE).write_text("not a key\n")
    with pytest.raises(SigningKeyError, match="restore it from your backup"):
        LogSigner.for_settings(settings)
