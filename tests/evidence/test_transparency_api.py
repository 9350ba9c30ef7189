"""The public transparency endpoints: anyone can fetch the signed tree head, the public key and
proofs, check them offline, and learn nothing of the evidence itself."""

from __future__ import annotations

import base64
from typing import Any

import pytest

from tests.web.conftest import Web
from vigil.evidence.log import TransparencyLog
from vigil.evidence.merkle import leaf_hash, verify_consistency, verify_inclusion
from vigil.evidence.signing import LogSigner, TreeHead, verify_tree_head

API = "/api/v1/transparency"
SECRET = "C-0042"


def entry(i: int) -> bytes:
    return b'{"case":"%s","item":%d,"sha256":"%064x"}' % (SECRET.encode(), i, i * 31337)


def log_and_sign(web: Web, start: int, count: int) -> TreeHead:
    log = TransparencyLog(LogSigner.for_settings(web.settings))
    with web.store.session() as session:
        log.append(session, [entry(i) for i in range(start, start + count)])
        return log.sign_head(session)


def decode(values: list[str]) -> list[bytes]:
    return [base64.b64decode(v) for v in values]


@pytest.fixture
def logged(web: Web) -> tuple[TreeHead, TreeHead]:
    return log_and_sign(web, 0, 13), log_and_sign(web, 13, 30)


def test_anyone_can_check_the_head_and_an_inclusion_proof(
    web: Web, logged: tuple[TreeHead, TreeHead]
) -> None:
    client = web.anonymous()
    key = client.get(f"{API}/public-key")
    assert key.status_code == 200 and key.text.startswith("-----BEGIN PUBLIC KEY-----")
    head = TreeHead.from_json(client.get(f"{API}/tree-head").json())
    assert head == logged[1] and key.headers["X-Key-Id"] == head.key_id
    verify_tree_head(head, key.text)

    answer = client.get(f"{API}/inclusion", params={"index": 20}).json()
    assert answer["size"] == 43 and answer["tree_head"] == head.to_json()
    leaf = base64.b64decode(answer["leaf_hash"])
    assert leaf == leaf_hash(entry(20))
    verify_inclusion(leaf, 20, 43, decode(answer["proof"]), head.root)

    older = client.get(f"{API}/inclusion", params={"index": 5, "size": 13}).json()
    assert older["tree_head"] == logged[0].to_json()
    verify_inclusion(leaf_hash(entry(5)), 5, 13, decode(older["proof"]), logged[0].root)


def test_the_log_only_grew_between_two_heads(web: Web, logged: tuple[TreeHead, TreeHead]) -> None:
    client = web.anonymous()
    answer = client.get(f"{API}/consistency", params={"size1": 13}).json()
    assert (answer["size1"], answer["size2"]) == (13, 43)
    first = TreeHead.from_json(answer["tree_head1"])
    second = TreeHead.from_json(answer["tree_head2"])
    verify_consistency(13, 43, decode(answer["proof"]), first.root, second.root)
    explicit = client.get(f"{API}/consistency", params={"size1": 13, "size2": 43}).json()
    assert explicit == answer
    assert client.get(f"{API}/tree-head", params={"size": 13}).json() == logged[0].to_json()


def test_no_answer_reveals_an_entry(web: Web, logged: tuple[TreeHead, TreeHead]) -> None:
    client = web.anonymous()
    answers = [
        client.get(f"{API}/tree-head"),
        client.get(f"{API}/public-key"),
        client.get(f"{API}/consistency", params={"size1": 3}),
        *(client.get(f"{API}/inclusion", params={"index": i}) for i in range(43)),
    ]
    for answer in answers:
        assert answer.status_code == 200
        assert SECRET not in answer.text and "sha256" not in answer.text
        assert f"{31337:064x}" not in answer.text


@pytest.mark.parametrize(
    ("params", "status", "message"),
    [
        ({"index": -1}, 422, "index: Input should be greater than or equal to 0"),
        ({"index": "x"}, 422, "index: Input should be a valid integer"),
        ({"index": 43}, 400, "entry 43 is not in the tree of size 43"),
        ({"index": 3, "size": 99}, 400, "the evidence log holds 43 entries"),
        ({}, 422, "index: Field required"),
        ({"index": 2, "size": 0}, 422, "size: Input should be greater than or equal to 1"),
    ],
)
def test_bad_inclusion_requests_say_what_is_wrong(
    web: Web, logged: tuple[TreeHead, TreeHead], params: dict[str, Any], status: int, message: str
) -> None:
    answer = web.anonymous().get(f"{API}/inclusion", params=params)
    assert answer.status_code == status
    assert message in answer.json()["detail"]


@pytest.mark.parametrize(
    ("params", "status", "message"),
    [
        ({}, 422, "size1: Field required"),
        ({"size1": 0}, 422, "size1: Input should be greater than or equal to 1"),
        ({"size1": 20, "size2": 10}, 400, "size1 (20) must not exceed size2 (10)"),
        ({"size1": 2, "size2": 50}, 400, "the evidence log holds 43 entries"),
    ],
)
def test_bad_consistency_requests_say_what_is_wrong(
    web: Web, logged: tuple[TreeHead, TreeHead], params: dict[str, Any], status: int, message: str
) -> None:
    answer = web.anonymous().get(f"{API}/consistency", params=params)
    assert answer.status_code == status
    assert message in answer.json()["detail"]


def test_before_any_head_is_signed_the_endpoints_say_so(web: Web) -> None:
    client = web.anonymous()
    for path, params in [
        ("tree-head", {}),
        ("inclusion", {"index": 0}),
        ("consistency", {"size1": 1}),
    ]:
        answer = client.get(f"{API}/{path}", params=params)
        assert answer.status_code == 404
        assert "no signed tree head yet" in answer.json()["detail"]
    missing = client.get(f"{API}/tree-head", params={"size": 7})
    assert missing.status_code == 404 and "no tree head of size 7" in missing.json()["detail"]
