"""Notices made without the drafting service, for suites that need one of a case they built
themselves (the authorization matrix): a valid version-1 document, stored as sending would."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from vigil.notices.document import NoticeDocument
from vigil.store.tables import CaseRow, NoticeRow


def notice_document(case: CaseRow, *, n: int = 1, platform: str = "jd") -> NoticeDocument:
    """A small, valid notice about `case`: one listing, one mark, no evidence."""
    at = datetime.now(UTC)
    reference = f"N-{case.reference.removeprefix('C-')}-{n}"
    data: dict[str, Any] = {
        "reference": reference,
        "type": "counterfeit",
        "language": "en",
        "date": at.isoformat(),
        "case_reference": case.reference,
        "sender": {"member_id": case.owner_id, "name": case.owner_id, "contact_name": "Analyst"},
        "recipient": {"platform": platform, "name": platform},
        "rights": {"brand": case.brand, "marks": [
            {"brand": case.brand or "Brand", "number": "8228888", "jurisdiction": "CN",
             "classes": [9]}]},
        "listings": [{"platform": platform, "listing_id": f"{case.id}-1", "title": "高仿 phone"}],
        "requested_action": {"text": f"Remove the listing, quoting {reference}."},
        "answer_due": (at + timedelta(hours=24)).isoformat(),
    }  # fmt: skip
    return NoticeDocument.model_validate(data)


def insert_notice(session: Session, case: CaseRow, *, n: int = 1, platform: str = "jd") -> int:
    """Store a sent notice of `case` (the case's state is left as it is); its id."""
    document = notice_document(case, n=n, platform=platform)
    row = NoticeRow(
        case_id=case.id,
        reference=document.reference,
        type=document.type.value,
        platform=platform,
        template="default",
        language=document.language,
        document=document.json_form(),
        sha256=document.sha256(),
        sent_at=document.date,
        sent_by="factory",
        due_at=document.answer_due,
    )
    session.add(row)
    session.flush()
    return row.id
