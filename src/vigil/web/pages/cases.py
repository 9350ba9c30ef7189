"""The cases pages: the list (tabs by state, overdue, assigned to me, search, bulk moves), one
case (its moves, assignee, parties, comments, timeline, evidence and notices), and opening
cases from the review queue or a listing's page.

Everything works with JavaScript off: filters and tabs are links and GET forms, every action a
POST form carrying the CSRF token; after a form, the page is shown again with a flash message
(or, when the service refuses, with the reason and the status it calls for).
"""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import urlencode, urlsplit

from fastapi import APIRouter, Form, Request, UploadFile
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import select

from vigil.domain.cases import CaseState, PartyRole
from vigil.domain.people import Actor, Role
from vigil.errors import VigilError
from vigil.services import cases as service
from vigil.services.cases import CaseFilters, CaseForbidden, CaseNotFound, CaseTransitionError
from vigil.services.cases.desk import GROUPS, Assignee, assignees, open_cases
from vigil.services.cases.workflow import SERVICE_MOVES, now
from vigil.store.tables import MemberRow
from vigil.web.addresses import with_query
from vigil.web.api.cases import CaseConfigDep
from vigil.web.deps import StoreDep
from vigil.web.errors import ForbiddenError, NotFoundError
from vigil.web.i18n import choose_language, gettext_for
from vigil.web.pages import case_parts
from vigil.web.security import require
from vigil.web.templating import render

router = APIRouter(include_in_schema=False)

Reader = Annotated[Actor, require(Role.VIEWER)]
Writer = Annotated[Actor, require(Role.ANALYST, write=True)]
PAGE = 25
MAX_NOTE = 10_000
# What a flash message may report after a form (the `done` of the address).
DONE = frozenset({"opened", "moved", "comment", "assigned", "unassigned", "party", "captured",
                  "attached"})  # fmt: skip


def _bad(request: Request, message: str, status: int = 400) -> Response:
    return render(request, "error.html", {"status": status, "message": message}, status)


def _filters(request: Request) -> tuple[CaseFilters, dict[str, Any], str | None]:
    """The list's filters from its address, what the form shows, and a problem if any."""
    query = request.query_params
    problem = None
    states: list[CaseState] = []
    for value in query.getlist("state"):
        try:
            states.append(CaseState(value))
        except ValueError:
            problem = value
    overdue = query.get("overdue") == "1"
    mine = query.get("assignee") == "me"
    actor: Actor = request.state.actor
    brand = (query.get("brand") or "").strip()[:300] or None
    text = (query.get("q") or "").strip()[:200] or None
    filters = CaseFilters(
        states=tuple(states),
        overdue=overdue,
        assignee_id=actor.user_id if mine and actor.user_id is not None else None,
        brand=brand,
        text=text,
    )
    shown = {"states": [s.value for s in states], "overdue": overdue, "mine": mine,
             "brand": brand or "", "q": text or ""}  # fmt: skip
    return filters, shown, problem


def _list_address(shown: dict[str, Any], **changes: Any) -> str:
    values = {**shown, **changes}
    pairs: list[tuple[str, str]] = [("state", s) for s in values["states"]]
    if values["overdue"]:
        pairs.append(("overdue", "1"))
    if values["mine"]:
        pairs.append(("assignee", "me"))
    pairs += [(k, values[k]) for k in ("brand", "q") if values[k]]
    if values.get("offset"):
        pairs.append(("offset", str(values["offset"])))
    return "/cases" + (f"?{urlencode(pairs)}" if pairs else "")


@router.get("/cases", name="cases_list")
def cases_list(request: Request, actor: Reader, store: StoreDep) -> Response:
    """The cases the member is party to, with tabs by state, overdue, mine, search, pages."""
    filters, shown, problem = _filters(request)
    try:
        offset = max(int(request.query_params.get("offset", "0")), 0)
    except ValueError:
        offset = 0
    page = service.list_cases(store, actor, filters, offset=offset, limit=PAGE)
    plain = {"states": [], "overdue": False, "mine": False, "brand": "", "q": ""}
    tabs = [("all", _list_address(plain), sum(page.by_state.values()),
             not shown["states"] and not shown["overdue"] and not shown["mine"])]  # fmt: skip
    for state in CaseState:
        current = shown["states"] == [state.value] and not shown["overdue"]
        tabs.append((state.value, _list_address(plain, states=[state.value]),
                     page.by_state.get(state.value, 0), current))  # fmt: skip
    here = _list_address(shown, offset=offset)
    context = {
        "page": page,
        "shown": shown,
        "tabs": tabs,
        "overdue_href": _list_address(plain, overdue=True),
        "mine_href": _list_address(plain, mine=True),
        "problem": problem,
        "here": here,
        "previous_href": (
            _list_address(shown, offset=max(offset - PAGE, 0)) if offset > 0 else None
        ),
        "next_href": (
            _list_address(shown, offset=offset + PAGE) if offset + PAGE < page.total else None
        ),
        "can_work": service.may_work(actor),
        "targets": [s.value for s in CaseState if s not in SERVICE_MOVES],
        "flash": _flash(request),
    }
    return render(request, "cases/list.html", context, status_code=400 if problem else 200)


def _flash(request: Request) -> dict[str, Any] | None:
    done = request.query_params.get("done")
    if done not in DONE:
        return None
    counts = {}
    for key in ("n", "refused"):
        value = request.query_params.get(key, "0")
        counts[key] = int(value) if value.isdigit() else 0
    to = request.query_params.get("to")
    return {"done": done, **counts, "to": to if to in {s.value for s in CaseState} else None}


def _back(target: str, allowed: tuple[str, ...]) -> str:
    """Only one of our own addresses (with its query); anything else goes to the first."""
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not parts.path.startswith(allowed):
        return allowed[0]
    return target


@router.post("/cases/open", name="cases_open")
def open_from_queue(
    request: Request,
    actor: Writer,
    store: StoreDep,
    config: CaseConfigDep,
    listing: Annotated[list[str] | None, Form()] = None,
    group: Annotated[str, Form(max_length=20)] = "all",
) -> Response:
    """Open a case for the listings ticked in the queue (or for the listing of its page): one
    case for all of them, one per seller or one per listing. One case opens on its page."""
    _ = gettext_for(choose_language(request))
    try:
        pks = [int(value) for value in listing or []]
    except ValueError:
        return _bad(request, _("The selected listings must be named by their numbers."))
    if not pks:
        return _bad(
            request,
            _("No listing was selected: tick the listings for the case, then press Open case."),
        )
    if group not in GROUPS:
        return _bad(request, _("Choose one case for all the listings, or one per seller."))
    try:
        opened = open_cases(store, actor, pks, config, group=group, origin="queue")
    except CaseNotFound as error:
        raise NotFoundError(str(error)) from None
    except CaseForbidden as error:
        raise ForbiddenError(str(error)) from None
    except VigilError as problem:
        return _bad(request, str(problem))
    if len(opened) == 1:
        return RedirectResponse(f"/cases/{opened[0]}?done=opened&n=1", status_code=303)
    return RedirectResponse(f"/cases?done=opened&n={len(opened)}", status_code=303)


@router.post("/cases/move", name="cases_bulk_move")
def bulk_move(
    request: Request,
    actor: Writer,
    store: StoreDep,
    config: CaseConfigDep,
    case: Annotated[list[str] | None, Form()] = None,
    to: Annotated[str, Form(max_length=20)] = "",
    back: Annotated[str, Form(alias="next", max_length=4_000)] = "/cases",
) -> Response:
    """Move the cases ticked in the list; those that cannot move are counted and left."""
    _ = gettext_for(choose_language(request))
    try:
        ids = [int(value) for value in case or []]
        target = CaseState(to)
    except ValueError:
        return _bad(request, _("Tick the cases to move and choose the state to move them to."))
    if not ids:
        return _bad(request, _("No case was selected: tick the cases to move, then press Move."))
    try:
        result = service.move_many(store, actor, ids, target, config)
    except VigilError as problem:
        return _bad(request, str(problem))
    done = with_query(
        _back(back, ("/cases",)), done="moved", to=target.value, n=len(result.moved),
        refused=len(result.refused),
    )  # fmt: skip
    return RedirectResponse(done, status_code=303)


@router.get("/cases/{case_id}", name="case_page")
def case_page(request: Request, case_id: int, actor: Reader, store: StoreDep) -> Response:
    """One case: header with its timer, moves, assignee, parties, listings, comments, the
    timeline, and its evidence and notices."""
    return _case_response(request, actor, store, case_id)


def _case_response(
    request: Request,
    actor: Actor,
    store: StoreDep,
    case_id: int,
    *,
    error: str | None = None,
    status: int = 200,
) -> Response:
    try:
        detail = service.case_detail(store, actor, case_id)
    except CaseNotFound as problem:
        raise NotFoundError(str(problem)) from None
    context: dict[str, Any] = {
        "detail": detail,
        "case": detail.case,
        "flash": _flash(request),
        "error": error,
        "people": _people(store, actor, detail),
        "members": _members(store, detail) if detail.can_decide else [],
        "roles": [r.value for r in PartyRole if r is not PartyRole.RIGHTS_HOLDER],
        "time_left": _time_left(request, detail.case),
    }
    context.update(case_parts.parts(request, actor, store, detail))
    return render(request, "cases/case.html", context, status_code=status)


def _people(store: StoreDep, actor: Actor, detail: service.CaseDetail) -> list[Assignee]:
    """Whom the assignee form offers. A party does not get the form while the case is with
    another member's person: it could only take the case from them."""
    if not detail.can_work:
        return []
    people = assignees(store, actor, detail.case.id)
    holder = detail.case.assignee_id
    if holder is not None and not actor.is_operator and holder not in {p.id for p in people}:
        return []
    return people


def _time_left(request: Request, case: service.CaseSummary) -> str | None:
    """How long until the case's timer runs out, or how late it is, in days/hours/minutes."""
    if case.due_at is None or (not case.overdue and case.timer is None):
        return None
    _ = gettext_for(choose_language(request))
    seconds = int((case.due_at - now()).total_seconds())
    late = seconds < 0
    minutes = abs(seconds) // 60
    days, hours, mins = minutes // 1440, minutes % 1440 // 60, minutes % 60
    if days:
        span = _("%(d)s d %(h)s h", d=days, h=hours)
    else:
        span = _("%(h)s h %(m)s min", h=hours, m=mins)
    if late and case.overdue:
        return _("%(span)s late", span=span)
    return None if late else _("%(span)s left", span=span)


def _members(store: StoreDep, detail: service.CaseDetail) -> list[tuple[str, str]]:
    """Members that could be brought into the case (active, not yet a party)."""
    taking_part = {p.member_id for p in detail.parties}
    with store.session() as session:
        rows = session.execute(
            select(MemberRow.id, MemberRow.name)
            .where(MemberRow.active.is_(True))
            .order_by(MemberRow.name)
        ).all()
    return [(member_id, name) for member_id, name in rows if member_id not in taking_part]


def _refused(
    request: Request, actor: Actor, store: StoreDep, case_id: int, problem: VigilError
) -> Response:
    """The case page again with the service's reason; 403, 409 or 400 as it calls for."""
    if isinstance(problem, CaseNotFound):
        raise NotFoundError(str(problem)) from None
    if isinstance(problem, CaseForbidden):
        raise ForbiddenError(str(problem)) from None
    status = 409 if isinstance(problem, CaseTransitionError) else 400
    return _case_response(request, actor, store, case_id, error=str(problem), status=status)


def _seen(actor: Actor, store: StoreDep, case_id: int) -> None:
    """Another member's case is 404 whatever the form holds."""
    try:
        with store.session() as session:
            service.case_for(session, actor, case_id)
    except CaseNotFound as problem:
        raise NotFoundError(str(problem)) from None


@router.post("/cases/{case_id}/move", name="case_move")
def case_move(
    request: Request,
    case_id: int,
    actor: Writer,
    store: StoreDep,
    config: CaseConfigDep,
    to: Annotated[str, Form(max_length=20)] = "",
    note: Annotated[str, Form(max_length=MAX_NOTE)] = "",
) -> Response:
    """Confirm, dismiss, review, close or reopen the case, with an optional note."""
    _seen(actor, store, case_id)
    try:
        target = CaseState(to)
    except ValueError:
        _ = gettext_for(choose_language(request))
        message = _("Choose what to do with the case: press one of its buttons.")
        return _case_response(request, actor, store, case_id, error=message, status=400)
    try:
        service.move(store, actor, case_id, target, config, note=note.strip() or None)
    except VigilError as problem:
        return _refused(request, actor, store, case_id, problem)
    return RedirectResponse(f"/cases/{case_id}?done=moved&to={target.value}", status_code=303)


@router.post("/cases/{case_id}/comment", name="case_comment")
def case_comment(
    request: Request,
    case_id: int,
    actor: Writer,
    store: StoreDep,
    body: Annotated[str, Form(max_length=MAX_NOTE)] = "",
) -> Response:
    """A comment on the case's timeline."""
    _seen(actor, store, case_id)
    try:
        service.comment(store, actor, case_id, body)
    except VigilError as problem:
        return _refused(request, actor, store, case_id, problem)
    return RedirectResponse(f"/cases/{case_id}?done=comment#timeline", status_code=303)


@router.post("/cases/{case_id}/assignee", name="case_assign")
def case_assign(
    request: Request,
    case_id: int,
    actor: Writer,
    store: StoreDep,
    user: Annotated[str, Form(max_length=20)] = "",
) -> Response:
    """Give the case to someone (`me`, a user's number), or to nobody (empty)."""
    _seen(actor, store, case_id)
    value = user.strip()
    if value == "me":
        value = str(actor.user_id or "")
    if value and not value.isdigit():
        _ = gettext_for(choose_language(request))
        message = _("Choose the person to give the case to.")
        return _case_response(request, actor, store, case_id, error=message, status=400)
    try:
        service.assign(store, actor, case_id, int(value) if value else None)
    except VigilError as problem:
        return _refused(request, actor, store, case_id, problem)
    done = "assigned" if value else "unassigned"
    return RedirectResponse(f"/cases/{case_id}?done={done}", status_code=303)


@router.post("/cases/{case_id}/parties", name="case_party")
def case_party(
    request: Request,
    case_id: int,
    actor: Writer,
    store: StoreDep,
    member: Annotated[str, Form(max_length=100)] = "",
    role: Annotated[str, Form(max_length=30)] = "",
) -> Response:
    """Bring a member into the case in a role."""
    _seen(actor, store, case_id)
    try:
        party_role = PartyRole(role)
    except ValueError:
        party_role = None
    if not member.strip() or party_role is None:
        _ = gettext_for(choose_language(request))
        message = _("Choose the member to bring into the case and its role there.")
        return _case_response(request, actor, store, case_id, error=message, status=400)
    try:
        service.add_party(store, actor, case_id, member.strip(), party_role)
    except VigilError as problem:
        return _refused(request, actor, store, case_id, problem)
    return RedirectResponse(f"/cases/{case_id}?done=party", status_code=303)


@router.post("/cases/{case_id}/evidence/capture", name="case_capture")
def case_capture(request: Request, case_id: int, actor: Writer, store: StoreDep) -> Response:
    """Capture the case's listings as evidence, entered in the transparency log."""
    _seen(actor, store, case_id)
    try:
        added = case_parts.capture(request, actor, store, case_id)
    except VigilError as problem:
        return _refused(request, actor, store, case_id, problem)
    return RedirectResponse(f"/cases/{case_id}?done=captured&n={added}#evidence", status_code=303)


@router.post("/cases/{case_id}/evidence/attach", name="case_attach")
def case_attach(
    request: Request, case_id: int, actor: Writer, store: StoreDep, file: UploadFile | None = None
) -> Response:
    """Attach a file to the case's evidence."""
    _seen(actor, store, case_id)
    if file is None or not file.filename:
        _ = gettext_for(choose_language(request))
        message = _("Choose the file to attach.")
        return _case_response(request, actor, store, case_id, error=message, status=400)
    data = file.file.read()
    try:
        case_parts.attach(request, actor, store, case_id, file.filename, data, file.content_type)
    except VigilError as problem:
        return _refused(request, actor, store, case_id, problem)
    return RedirectResponse(f"/cases/{case_id}?done=attached#evidence", status_code=303)
