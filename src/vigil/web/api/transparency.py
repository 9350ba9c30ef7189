"""The evidence log's public face: signed tree heads, the log's public key, inclusion and
consistency proofs. Anyone may read them; they carry hashes only, never an entry's content."""

from __future__ import annotations

import base64
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import PlainTextResponse
from pydantic import BaseModel, Field

from vigil.domain.people import Actor
from vigil.evidence.log import TransparencyLog
from vigil.evidence.signing import LogSigner, TreeHead
from vigil.web.deps import StoreDep
from vigil.web.errors import BadRequestError, NotFoundError
from vigil.web.security import public

router = APIRouter(prefix="/transparency")

PublicActor = Annotated[Actor | None, public()]


class TreeHeadOut(BaseModel):
    size: int = Field(description="Entries in the log when it was signed")
    root: str = Field(description="Merkle root, base64")
    timestamp: str = Field(description="When it was signed, RFC 3339 UTC with milliseconds")
    signature: str = Field(description="Ed25519 signature of the tree head message, base64")
    key_id: str = Field(description="Hex SHA-256 of the raw public key that signed")


class InclusionOut(BaseModel):
    index: int
    size: int
    leaf_hash: str = Field(description="SHA-256(0x00 || entry), base64")
    proof: list[str] = Field(description="Audit path, base64, from the leaf's sibling upwards")
    tree_head: TreeHeadOut | None = Field(description="The signed head of this size, if any")


class ConsistencyOut(BaseModel):
    size1: int
    size2: int
    proof: list[str] = Field(description="Consistency proof nodes, base64")
    tree_head1: TreeHeadOut | None
    tree_head2: TreeHeadOut | None


def _signer(request: Request) -> LogSigner:
    """The log's key, read (or made, on first use) once per app."""
    signer: LogSigner | None = getattr(request.app.state, "evidence_log_signer", None)
    if signer is None:
        signer = LogSigner.for_settings(request.app.state.settings)
        request.app.state.evidence_log_signer = signer
    return signer


def _b64(value: bytes) -> str:
    return base64.b64encode(value).decode("ascii")


def _head_out(head: TreeHead | None) -> TreeHeadOut | None:
    return None if head is None else TreeHeadOut(**head.to_json())


def _signed_size(log: TransparencyLog, session: Any) -> int:
    head = log.latest_head(session)
    if head is None:
        raise NotFoundError(
            "the evidence log has no signed tree head yet; proofs are served once evidence has "
            "been logged and a head signed"
        )
    return head.size


@router.get("/tree-head", response_model=TreeHeadOut)
def tree_head(
    _actor: PublicActor,
    store: StoreDep,
    size: Annotated[int | None, Query(ge=0, description="A head of exactly this size")] = None,
) -> TreeHeadOut:
    """The latest signed tree head, or the latest one of a given size."""
    log = TransparencyLog()
    with store.session() as session:
        head = log.latest_head(session) if size is None else log.head_at(session, size)
    found = _head_out(head)
    if found is None:
        raise NotFoundError(
            "the evidence log has no signed tree head yet"
            if size is None
            else f"no tree head of size {size} was signed; ask for the latest one without size"
        )
    return found


@router.get("/public-key", response_class=PlainTextResponse)
def public_key(request: Request, _actor: PublicActor) -> PlainTextResponse:
    """The log's Ed25519 public key in PEM; its key id is in the X-Key-Id header."""
    signer = _signer(request)
    return PlainTextResponse(
        signer.public_key_pem,
        media_type="application/x-pem-file",
        headers={"X-Key-Id": signer.key_id},
    )


@router.get("/inclusion", response_model=InclusionOut)
def inclusion(
    _actor: PublicActor,
    store: StoreDep,
    index: Annotated[int, Query(ge=0, description="The entry's 0-based index")],
    size: Annotated[
        int | None, Query(ge=1, description="Tree size (default: the latest signed head's)")
    ] = None,
) -> InclusionOut:
    """The inclusion proof of one entry in the tree of a given size, with that tree's signed
    head when there is one."""
    log = TransparencyLog()
    with store.session() as session:
        tree_size = size if size is not None else _signed_size(log, session)
        if index >= tree_size:
            raise BadRequestError(
                f"entry {index} is not in the tree of size {tree_size}"
                + ("" if size is not None else " (the latest signed head); ask again later")
            )
        proof = log.inclusion_proof(session, index, tree_size)
        leaf = log.leaf_hash_at(session, index)
        head = log.head_at(session, tree_size)
    return InclusionOut(
        index=index,
        size=tree_size,
        leaf_hash=_b64(leaf),
        proof=[_b64(node) for node in proof],
        tree_head=_head_out(head),
    )


@router.get("/consistency", response_model=ConsistencyOut)
def consistency(
    _actor: PublicActor,
    store: StoreDep,
    size1: Annotated[int, Query(ge=1, description="The older tree size")],
    size2: Annotated[
        int | None, Query(ge=1, description="The newer size (default: the latest signed head's)")
    ] = None,
) -> ConsistencyOut:
    """The proof that the tree of size1 entries is a prefix of the tree of size2 entries."""
    log = TransparencyLog()
    with store.session() as session:
        newer = size2 if size2 is not None else _signed_size(log, session)
        if size1 > newer:
            raise BadRequestError(f"size1 ({size1}) must not exceed size2 ({newer})")
        proof = log.consistency_proof(session, size1, newer)
        first, second = log.head_at(session, size1), log.head_at(session, newer)
    return ConsistencyOut(
        size1=size1,
        size2=newer,
        proof=[_b64(node) for node in proof],
        tree_head1=_head_out(first),
        tree_head2=_head_out(second),
    )
