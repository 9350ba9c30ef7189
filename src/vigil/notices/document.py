"""A takedown notice in its machine form: the JSON document a marketplace's systems read.

This is a public contract (docs/notices.md): `format` names its version, and a change to the
fields is a new version. The HTML and PDF a person reads are rendered from it, and the digest
stored with a sent notice is the SHA-256 of its canonical JSON (RFC 8785), so that anyone
holding the JSON can show which notice was sent.
"""

from __future__ import annotations

import hashlib
from typing import Annotated, Any, Final, Literal

import rfc8785
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from vigil.domain.cases import NoticeType

FORMAT: Final = "vigil.notice/1"
Language = Literal["en", "zh"]
LANGUAGES: tuple[Language, ...] = ("en", "zh")
Digest = Annotated[str, Field(pattern=r"^[0-9a-f]{64}$")]


class _Part(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Sender(_Part):
    """The rights holder who sends the notice, and the person to answer to."""

    member_id: str
    name: str
    contact_name: str
    contact_email: str | None = None


class Recipient(_Part):
    """The marketplace the notice goes to."""

    platform: str
    name: str
    marketplace_id: str | None = None


class MarkRight(_Part):
    """A registered trademark: its registration number, where it is registered, its classes."""

    brand: str
    number: str
    jurisdiction: str
    classes: list[int] = Field(default_factory=list)


class WorkRight(_Part):
    """A copyrighted work and who owns it."""

    title: str
    owner: str
    owner_name: str
    kind: str | None = None


class Rights(_Part):
    """The rights the notice asserts: marks for counterfeit and trademark notices, works for
    copyright ones."""

    brand: str | None = None
    marks: list[MarkRight] = Field(default_factory=list)
    works: list[WorkRight] = Field(default_factory=list)


class Finding(_Part):
    """What was found in a listing: one signal of its assessment."""

    kind: str
    explanation: str
    evidence: str | None = None


class NoticeListing(_Part):
    """A listing the notice asks the marketplace to remove."""

    platform: str
    listing_id: str
    url: str | None = None
    title: str
    seller_id: str | None = None
    seller_name: str | None = None
    price: float | None = None
    currency: str | None = None
    findings: list[Finding] = Field(default_factory=list)


class EvidenceCitation(_Part):
    """An evidence item of the case: its content digest and its place in the transparency
    log (None while it waits to be entered)."""

    kind: str
    sha256: Digest
    log_index: int | None = Field(default=None, ge=0)
    listing_id: str | None = None
    captured_at: AwareDatetime


class TreeHeadCitation(_Part):
    """The signed tree head the evidence's inclusion proofs are checked against."""

    size: int = Field(ge=0)
    root_hash: Digest
    timestamp: AwareDatetime
    key_id: str
    signature: str  # base64 of the Ed25519 signature


class RequestedAction(_Part):
    """What the rights holder asks for, as a code for machines and a sentence for people."""

    action: Literal["remove_listings"] = "remove_listings"
    text: str


class NoticeDocument(_Part):
    """A takedown notice, as sent (or, before sending, as it would be sent)."""

    format: Literal["vigil.notice/1"] = FORMAT
    reference: str
    type: NoticeType
    language: Language
    date: AwareDatetime
    case_reference: str
    sender: Sender
    recipient: Recipient
    rights: Rights
    listings: list[NoticeListing] = Field(min_length=1)
    evidence: list[EvidenceCitation] = Field(default_factory=list)
    tree_head: TreeHeadCitation | None = None
    legal_basis: list[str] = Field(default_factory=list)
    statements: list[str] = Field(default_factory=list)
    requested_action: RequestedAction
    answer_due: AwareDatetime | None = None

    def json_form(self) -> dict[str, Any]:
        """The document as JSON values (what is stored and served)."""
        return self.model_dump(mode="json")

    def canonical_json(self) -> bytes:
        """The document's canonical bytes (RFC 8785 JSON Canonicalization Scheme)."""
        return rfc8785.dumps(self.json_form())

    def sha256(self) -> str:
        return hashlib.sha256(self.canonical_json()).hexdigest()
