"""The notice's JSON form is a contract: it round-trips through the model, its canonical bytes
(RFC 8785) and so its digest do not depend on how it was stored, and old documents still read."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from vigil.domain.cases import NoticeType
from vigil.notices.document import (
    EvidenceCitation,
    Finding,
    MarkRight,
    NoticeDocument,
    NoticeListing,
    Recipient,
    RequestedAction,
    Rights,
    Sender,
)

texts = st.text(min_size=1, max_size=40)
digests = st.text(alphabet="0123456789abcdef", min_size=64, max_size=64)
moments = st.datetimes(
    min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1), timezones=st.just(UTC)
)
listings = st.builds(
    NoticeListing,
    platform=st.sampled_from(["jd", "taobao", "shopmart"]),
    listing_id=texts,
    url=st.none() | texts,
    title=texts,
    seller_id=st.none() | texts,
    seller_name=st.none() | texts,
    price=st.none() | st.floats(min_value=0, max_value=1e7, allow_nan=False),
    currency=st.sampled_from(["CNY", "USD"]),
    findings=st.lists(
        st.builds(Finding, kind=texts, explanation=texts, evidence=texts), max_size=3
    ),
)
documents = st.builds(
    NoticeDocument,
    reference=texts,
    type=st.sampled_from(list(NoticeType)),
    language=st.sampled_from(["en", "zh"]),
    date=moments,
    case_reference=texts,
    sender=st.builds(Sender, member_id=texts, name=texts, contact_name=texts),
    recipient=st.builds(Recipient, platform=texts, name=texts),
    rights=st.builds(
        Rights,
        brand=texts,
        marks=st.lists(
            st.builds(
                MarkRight,
                brand=texts,
                number=texts,
                jurisdiction=texts,
                classes=st.lists(st.integers(1, 45), max_size=3),
            ),
            max_size=3,
        ),
    ),
    listings=st.lists(listings, min_size=1, max_size=3),
    evidence=st.lists(
        st.builds(
            EvidenceCitation,
            kind=texts,
            sha256=digests,
            captured_at=moments,
            log_index=st.none() | st.integers(0, 2**40),
        ),
        max_size=4,
    ),
    legal_basis=st.lists(texts, max_size=3),
    statements=st.lists(texts, max_size=3),
    requested_action=st.builds(RequestedAction, text=texts),
    answer_due=st.none() | moments,
)


@settings(max_examples=60, deadline=None)
@given(documents)
def test_the_json_form_round_trips_with_the_same_digest(document: NoticeDocument) -> None:
    stored = json.loads(json.dumps(document.json_form()))  # as a database JSON column keeps it
    again = NoticeDocument.model_validate(stored)
    assert again == document
    assert again.canonical_json() == document.canonical_json()
    assert again.sha256() == document.sha256()


def _minimal() -> dict[str, object]:
    """A version 1 document as a marketplace's system would receive it."""
    return {
        "format": "vigil.notice/1",
        "reference": "N-2026-000042-1",
        "type": "counterfeit",
        "language": "zh",
        "date": "2026-12-08T01:30:00Z",
        "case_reference": "C-2026-000042",
        "sender": {"member_id": "xiaomi", "name": "小米", "contact_name": "王丽"},
        "recipient": {"platform": "jd", "name": "京东"},
        "rights": {"marks": [{"brand": "小米", "number": "8228888", "jurisdiction": "CN"}]},
        "listings": [{"platform": "jd", "listing_id": "100001", "title": "小米14 高仿"}],
        "requested_action": {"action": "remove_listings", "text": "请删除。"},
    }


def test_a_version_1_document_reads() -> None:
    document = NoticeDocument.model_validate(_minimal())
    assert document.date == datetime(2026, 12, 8, 1, 30, tzinfo=UTC)
    assert document.rights.marks[0].classes == []
    # Canonical JSON sorts keys and has no spaces: the digest is reproducible by anyone.
    assert document.canonical_json().startswith(b'{"answer_due":null,"case_reference":')


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"format": "vigil.notice/2"}, "format"),
        ({"type": "patent"}, "type"),
        ({"listings": []}, "listings"),
        ({"date": "2026-12-08T01:30:00"}, "date"),  # a time without its zone is ambiguous
        ({"surprise": 1}, "surprise"),
    ],
)
def test_a_document_that_breaks_the_contract_is_refused(
    change: dict[str, object], field: str
) -> None:
    with pytest.raises(ValidationError, match=field):
        NoticeDocument.model_validate({**_minimal(), **change})


def test_a_bad_digest_is_refused() -> None:
    evidence = {"kind": "image", "sha256": "ABC", "captured_at": "2026-12-08T01:30:00Z"}
    with pytest.raises(ValidationError, match="sha256"):
        NoticeDocument.model_validate({**_minimal(), "evidence": [evidence]})


def test_the_factory_notice_is_valid_and_renders() -> None:
    from tests.notices.factories import notice_document
    from vigil.notices.render import render_html
    from vigil.store.tables import CaseRow

    case = CaseRow(id=7, reference="C-2026-000007", owner_id="acme", brand="Acme")
    document = notice_document(case)
    assert document.reference == "N-2026-000007-1"
    assert "N-2026-000007-1" in render_html(document)


def test_rendering_a_pdf_leaves_pillow_refusing_cut_off_images() -> None:
    """WeasyPrint's import switches Pillow, process-wide, to decoding cut-off images; rendering
    a notice in the web server must not change how the rest of Vigil (and its tests) read
    images."""
    import io

    from PIL import Image, ImageFile

    from vigil.notices.render import render_pdf

    assert render_pdf("<p>Notice</p>").startswith(b"%PDF")
    assert ImageFile.LOAD_TRUNCATED_IMAGES is False
    buffer = io.BytesIO()
    Image.new("RGB", (64, 64), (200, 30, 30)).save(buffer, "JPEG")
    cut = buffer.getvalue()[: len(buffer.getvalue()) // 2]
    with pytest.raises(OSError), Image.open(io.BytesIO(cut)) as image:
        image.convert("RGB")
