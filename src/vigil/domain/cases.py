"""Cases: the states a case moves through, who takes part in it, and what a notice asks for.

A case starts as suspicion about listings or a seller and ends, when things go well, with the
listings taken down. The state machine is the one rule every path (UI, API, CLI, rules) goes
through; nothing here does I/O.
"""

from __future__ import annotations

from enum import StrEnum


class CaseState(StrEnum):
    OPEN = "open"
    UNDER_REVIEW = "under_review"
    CONFIRMED = "confirmed"
    DISMISSED = "dismissed"
    NOTICE_SENT = "notice_sent"
    ACTIONED = "actioned"
    CLOSED = "closed"


class Outcome(StrEnum):
    """What the marketplace did about an actioned case."""

    REMOVED = "removed"
    PARTIALLY_REMOVED = "partially_removed"
    REFUSED = "refused"


class PartyRole(StrEnum):
    RIGHTS_HOLDER = "rights_holder"
    MARKETPLACE = "marketplace"
    ENFORCEMENT_LIAISON = "enforcement_liaison"
    REPORTER = "reporter"


class NoticeType(StrEnum):
    """The kinds of takedown notice, as the Lumen database types them."""

    COUNTERFEIT = "counterfeit"
    TRADEMARK = "trademark"
    COPYRIGHT = "copyright"


class NoticeAction(StrEnum):
    """The marketplace's answer to a notice: did it take the listings down?"""

    YES = "yes"
    NO = "no"
    PARTIAL = "partial"


class Decision(StrEnum):
    """An analyst's judgement on a case; calibration learns from these."""

    CONFIRMED = "confirmed"
    DISMISSED = "dismissed"


# Where each state may go. A refused or partial takedown may be followed by another notice;
# a dismissed or closed case may be reopened.
TRANSITIONS: dict[CaseState, frozenset[CaseState]] = {
    CaseState.OPEN: frozenset({CaseState.UNDER_REVIEW, CaseState.CONFIRMED, CaseState.DISMISSED}),
    CaseState.UNDER_REVIEW: frozenset({CaseState.CONFIRMED, CaseState.DISMISSED}),
    CaseState.CONFIRMED: frozenset({CaseState.NOTICE_SENT}),
    CaseState.DISMISSED: frozenset({CaseState.CLOSED, CaseState.OPEN}),
    CaseState.NOTICE_SENT: frozenset({CaseState.ACTIONED}),
    CaseState.ACTIONED: frozenset({CaseState.CLOSED, CaseState.NOTICE_SENT}),
    CaseState.CLOSED: frozenset({CaseState.OPEN}),
}
REOPENABLE = frozenset(s for s, targets in TRANSITIONS.items() if CaseState.OPEN in targets)
# States in which the case is still being worked on (counted as open work and SLA-timed).
ACTIVE = frozenset(
    {CaseState.OPEN, CaseState.UNDER_REVIEW, CaseState.CONFIRMED, CaseState.NOTICE_SENT}
)
# The notice's answer decides the outcome of an actioned case.
OUTCOME_OF_ACTION = {
    NoticeAction.YES: Outcome.REMOVED,
    NoticeAction.PARTIAL: Outcome.PARTIALLY_REMOVED,
    NoticeAction.NO: Outcome.REFUSED,
}


def can_move(source: CaseState, target: CaseState) -> bool:
    return target in TRANSITIONS[source]


def decision_of(target: CaseState) -> Decision | None:
    """The judgement a move records: confirming or dismissing; None for the other moves."""
    if target is CaseState.CONFIRMED:
        return Decision.CONFIRMED
    if target is CaseState.DISMISSED:
        return Decision.DISMISSED
    return None
