"""The Merkle proofs against the RFC 6962 test vectors of transparency-dev/merkle: every
happy path verifies, every tampered variant (`wantErr: true`) is rejected."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import REAL_DATA, real_data
from vigil.evidence.merkle import ProofError, verify_consistency, verify_inclusion

VECTORS = REAL_DATA / "merkle"
FILES = sorted(VECTORS.rglob("*.json")) if VECTORS.exists() else []


def _bytes(value: str | None) -> bytes:
    return base64.b64decode(value or "")


def _proof(data: dict[str, Any]) -> list[bytes]:
    return [_bytes(node) for node in data["proof"] or []]


def _check(data: dict[str, Any]) -> None:
    if "leafIdx" in data:
        verify_inclusion(
            _bytes(data["leafHash"]),
            data["leafIdx"],
            data["treeSize"],
            _proof(data),
            _bytes(data["root"]),
        )
    else:
        verify_consistency(
            data["size1"], data["size2"], _proof(data), _bytes(data["root1"]), _bytes(data["root2"])
        )


def test_the_vectors_cover_both_proofs_and_both_outcomes() -> None:
    root = real_data("merkle")
    cases = [json.loads(path.read_text()) for path in root.rglob("*.json")]
    inclusion = [c for c in cases if "leafIdx" in c]
    consistency = [c for c in cases if "size1" in c]
    assert len(inclusion) + len(consistency) == len(cases)
    for kind in (inclusion, consistency):
        assert any(not c["wantErr"] for c in kind) and any(c["wantErr"] for c in kind)
    for folder in ("inclusion/additional", "inclusion/single-entry", "consistency/additional"):
        assert list((root / folder).rglob("*.json")), f"{folder} holds no vector"


@pytest.mark.parametrize(
    "path",
    FILES or [None],
    ids=[str(p.relative_to(VECTORS)) for p in FILES] or ["absent"],
)
def test_vector(path: Path | None) -> None:
    real_data("merkle")
    assert path is not None
    data = json.loads(path.read_text())
    if data["wantErr"]:
        with pytest.raises(ProofError) as raised:
            _check(data)
        # The message names the proof it was checking.
        assert "proof" in str(raised.value)
    else:
        _check(data)
