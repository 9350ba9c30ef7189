"""Cases over the API: list and open them, read one, move it through its states, assign it,
comment, bring in parties and listings, work many at once, and the rules that open cases.

Errors: a case you are not party to is 404, exactly like a missing one; a case you see but may
not change this way is 403; a move the state machine does not allow from the case's current
state is 409 (the case changed under you, or the move never applies there); any other request
the case service refuses (an empty comment, an unknown member) is 400. Each says what to do.
"""

from __future__ import annotations

from contextlib import AbstractContextManager
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel, ConfigDict, Field

from vigil.domain.cases import CaseState, PartyRole
from vigil.domain.people import Actor, Role
from vigil.services import cases as service
from vigil.services.cases import (
    CaseConfig,
    CaseDetail,
    CaseFilters,
    CasePage,
    CaseRule,
    CaseTransitionError,
    NewRule,
    Opening,
)
from vigil.services.cases.desk import open_cases
from vigil.services.cases.views import MAX_PAGE
from vigil.services.cases.workflow import MAX_BULK, MAX_COMMENT, MAX_LISTINGS, MAX_TITLE
from vigil.web.api.refusals import case_refusals
from vigil.web.deps import StoreDep, get_settings
from vigil.web.errors import BadRequestError
from vigil.web.security import require

router = APIRouter()

Reader = Annotated[Actor, require(Role.VIEWER)]
Writer = Annotated[Actor, require(Role.ANALYST, write=True)]


def get_case_config(request: Request) -> CaseConfig:
    """The installation's case timers and platforms (`<home>/cases.yaml`), read once."""
    config: CaseConfig | None = getattr(request.app.state, "case_config", None)
    if config is None:
        config = service.load_case_config(get_settings(request).home)
        request.app.state.case_config = config
    return config


CaseConfigDep = Annotated[CaseConfig, Depends(get_case_config)]


def case_errors() -> AbstractContextManager[None]:
    """The case service's refusals as the HTTP answers the module docstring lists."""
    return case_refusals(CaseTransitionError)


def _visible(case_id: int, actor: Writer, store: StoreDep) -> tuple[Actor, int]:
    """The case, when the actor is party to it; checked before the body is read, so that
    another member's case is 404 whatever the body holds."""
    with case_errors(), store.session() as session:
        service.case_for(session, actor, case_id)
    return actor, case_id


VisibleCase = Annotated[tuple[Actor, int], Depends(_visible)]


class SellerRef(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    platform: str = Field(min_length=1, max_length=100)
    seller_id: str = Field(min_length=1, max_length=300)


class PartyIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    member: str = Field(min_length=1, max_length=100)
    role: PartyRole


class CaseIn(BaseModel):
    """A new case: listings, a seller (all its listings you see), or a seller's listings."""

    model_config = ConfigDict(extra="forbid")

    listings: list[int] = Field(default_factory=list, max_length=MAX_LISTINGS)
    seller: SellerRef | None = None
    title: str | None = Field(None, max_length=MAX_TITLE)
    owner: str | None = Field(
        None, max_length=100, description="The rights holder member; only the operator names one."
    )
    parties: list[PartyIn] = Field(default_factory=list, max_length=20)
    note: str | None = Field(None, max_length=MAX_COMMENT)


class MoveIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    to: CaseState
    note: str | None = Field(None, max_length=MAX_COMMENT)


class CommentIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    body: str = Field(min_length=1, max_length=MAX_COMMENT)


class AssigneeIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    user: int | Literal["me"] | None = Field(
        description="A user id, `me`, or null to unassign the case."
    )


class ListingsIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    listings: list[int] = Field(min_length=1, max_length=MAX_LISTINGS)


class BulkIn(BaseModel):
    """Open cases for listings (`action: open`, grouped by `group`) or move cases."""

    model_config = ConfigDict(extra="forbid")

    action: Literal["open", "move"]
    listings: list[int] = Field(default_factory=list, max_length=MAX_LISTINGS)
    group: Literal["all", "seller", "listing"] = Field(
        "all", description="open: one case for all listings, one per seller, one per listing"
    )
    title: str | None = Field(None, max_length=MAX_TITLE)
    cases: list[int] = Field(default_factory=list, max_length=MAX_BULK)
    to: CaseState | None = Field(None, description="move: the state to move every case to")
    note: str | None = Field(None, max_length=MAX_COMMENT)


class BulkOut(BaseModel):
    action: str
    opened: list[int] = Field(default_factory=list, description="open: the new cases' ids")
    moved: list[int] = Field(default_factory=list, description="move: the cases moved")
    refused: dict[int, str] = Field(
        default_factory=dict, description="move: the cases left as they were, and why"
    )


class PartyOut(BaseModel):
    added: bool = Field(description="False when the member already took part in that role.")
    case: CaseDetail


class ListingsOut(BaseModel):
    added: int = Field(description="How many of the listings were new to the case.")
    case: CaseDetail


StateQ = Annotated[
    list[CaseState] | None,
    Query(description="Keep cases in these states (repeat the parameter for several)"),
]


@router.get("/cases", response_model=CasePage)
def list_cases(
    actor: Reader,
    store: StoreDep,
    state: StateQ = None,
    overdue: Annotated[bool, Query(description="Only cases past their due time")] = False,
    assignee: Annotated[str | None, Query(max_length=20, description="`me` or a user id")] = None,
    brand: Annotated[str | None, Query(max_length=300)] = None,
    q: Annotated[
        str | None, Query(max_length=200, description="Text in the title, reference or seller")
    ] = None,
    offset: Annotated[int, Query(ge=0)] = 0,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 50,
) -> CasePage:
    """The cases your member is party to (every case, for the operator), most recently changed
    first, with counts by state and of overdue cases over all of them."""
    filters = CaseFilters(
        states=tuple(state or ()),
        overdue=overdue,
        assignee_id=assignee_id(actor, assignee),
        brand=brand.strip() if brand and brand.strip() else None,
        text=q.strip() if q and q.strip() else None,
    )
    with case_errors():
        return service.list_cases(store, actor, filters, offset=offset, limit=limit)


def assignee_id(actor: Actor, value: str | None) -> int | None:
    """`me` (the asking person), a user id, or nothing."""
    if value is None or not value.strip():
        return None
    value = value.strip()
    if value == "me":
        if actor.user_id is None:
            raise BadRequestError("assignee=me needs a signed-in person or a person's API key")
        return actor.user_id
    if not value.isdigit():
        raise BadRequestError(f"assignee: 'me' or a user id (a number), not {value!r}")
    return int(value)


@router.post("/cases", response_model=CaseDetail, status_code=201)
def open_case(body: CaseIn, actor: Writer, store: StoreDep, config: CaseConfigDep) -> CaseDetail:
    """Open a case for listings or a seller. You become its rights holder (the operator may
    name another member as `owner`); the platform's marketplace member, when `cases.yaml` names
    one, and the `parties` you list take part too."""
    opening = Opening(
        listing_pks=body.listings,
        seller=(body.seller.platform, body.seller.seller_id) if body.seller else None,
        title=body.title,
        owner=body.owner,
        parties=[(p.member, p.role) for p in body.parties],
        origin="manual",
        note=body.note,
    )
    with case_errors():
        case_id = service.open_case(store, actor, opening, config)
        return service.case_detail(store, actor, case_id)


@router.get(
    "/cases/{case_id}",
    response_model=CaseDetail,
    responses={404: {"description": "No such case, or your member is not party to it."}},
)
def get_case(case_id: int, actor: Reader, store: StoreDep) -> CaseDetail:
    """One case: its parties, listings, timeline, and what you may do with it now (`moves`,
    `can_work`, `can_decide`, `can_answer`)."""
    with case_errors():
        return service.case_detail(store, actor, case_id)


@router.post(
    "/cases/{case_id}/transitions",
    response_model=CaseDetail,
    responses={
        403: {"description": "Only the rights holder (or the operator) decides the case."},
        409: {"description": "The case's state does not allow this move."},
    },
)
def move_case(
    body: MoveIn, target: VisibleCase, store: StoreDep, config: CaseConfigDep
) -> CaseDetail:
    """Move the case to another state, with an optional note on its timeline. `notice_sent`
    and `actioned` come from sending a notice and recording the marketplace's answer."""
    actor, case_id = target
    with case_errors():
        service.move(store, actor, case_id, body.to, config, note=body.note)
        return service.case_detail(store, actor, case_id)


@router.post("/cases/bulk", response_model=BulkOut)
def bulk(body: BulkIn, actor: Writer, store: StoreDep, config: CaseConfigDep) -> BulkOut:
    """Work many at once. `open`: cases for the `listings`, one for all, one per seller or one
    per listing (all opened, or none). `move`: every case of `cases` to `to`; each that cannot
    move is reported in `refused` with its reason while the others move."""
    with case_errors():
        if body.action == "open":
            opened = open_cases(
                store, actor, body.listings, config, group=body.group, title=body.title,
                origin="queue", note=body.note,
            )  # fmt: skip
            return BulkOut(action="open", opened=opened)
        if body.to is None:
            raise BadRequestError("to: name the state to move the cases to")
        result = service.move_many(store, actor, body.cases, body.to, config)
        return BulkOut(action="move", moved=result.moved, refused=result.refused)


@router.post("/cases/{case_id}/comments", response_model=CaseDetail, status_code=201)
def add_comment(body: CommentIn, target: VisibleCase, store: StoreDep) -> CaseDetail:
    """A comment on the case's timeline; any party's analyst may write one."""
    actor, case_id = target
    with case_errors():
        service.comment(store, actor, case_id, body.body)
        return service.case_detail(store, actor, case_id)


@router.post("/cases/{case_id}/assignee", response_model=CaseDetail)
def set_assignee(body: AssigneeIn, target: VisibleCase, store: StoreDep) -> CaseDetail:
    """Give the case to one of your member's people (the operator: anyone of its parties), or
    take it back with `null`."""
    actor, case_id = target
    user = assignee_id(actor, body.user) if isinstance(body.user, str) else body.user
    with case_errors():
        service.assign(store, actor, case_id, user)
        return service.case_detail(store, actor, case_id)


@router.post("/cases/{case_id}/parties", response_model=PartyOut)
def add_party(body: PartyIn, target: VisibleCase, store: StoreDep) -> PartyOut:
    """Bring a member into the case in a role: it sees the case from then on. The rights
    holder (or the operator) does this."""
    actor, case_id = target
    with case_errors():
        added = service.add_party(store, actor, case_id, body.member, body.role)
        return PartyOut(added=added, case=service.case_detail(store, actor, case_id))


@router.post("/cases/{case_id}/listings", response_model=ListingsOut)
def add_listings(body: ListingsIn, target: VisibleCase, store: StoreDep) -> ListingsOut:
    """Add listings you may see to a case still being worked on."""
    actor, case_id = target
    with case_errors():
        added = service.add_listings(store, actor, case_id, body.listings)
        return ListingsOut(added=added, case=service.case_detail(store, actor, case_id))


@router.get("/case-rules", response_model=list[CaseRule])
def list_rules(actor: Reader, store: StoreDep) -> list[CaseRule]:
    """Your member's rules that open cases after each scan (every member's, for the operator)."""
    return service.list_rules(store, actor)


@router.post("/case-rules", response_model=CaseRule, status_code=201)
def create_rule(body: NewRule, actor: Writer, store: StoreDep) -> CaseRule:
    """A rule that opens cases by itself after a scan: listings of at least `min_risk`, of one
    of `verdicts`, of `brand` if given, one case per seller or per listing."""
    with case_errors():
        return service.create_rule(store, actor, body)
