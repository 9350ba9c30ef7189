"""The review queue and a listing's detail page.

Everything works with JavaScript off: the filter bar is a GET form, the column headers are
links, the bulk decision is a POST form, the next page a link. `static/review.js` adds the
keyboard (j/k, x, c, d, o, ?).
"""

from __future__ import annotations

from functools import cache
from typing import Annotated, Any
from urllib.parse import urlencode, urlsplit

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import select

from vigil.domain.people import Actor, Role
from vigil.errors import VigilError
from vigil.regions import province_name, region_index
from vigil.services import assessments as service
from vigil.services.assessments import (
    AssessmentQueryError,
    Filters,
    ListingDetail,
    ListingNotFound,
    MemberNotFound,
    Sort,
)
from vigil.services.assessments.highlights import segments
from vigil.services.tenancy import visible_brands
from vigil.store.tables import BrandRow, MemberRow
from vigil.web.deps import StoreDep
from vigil.web.errors import NotFoundError
from vigil.web.i18n import choose_language, gettext_for
from vigil.web.security import require
from vigil.web.templating import render

router = APIRouter(include_in_schema=False)

Reader = Annotated[Actor, require(Role.VIEWER)]
Writer = Annotated[Actor, require(Role.ANALYST, write=True)]
QUEUE_PAGE = 50
MAX_QUEUE_PAGE = 200
# Sortable columns and the direction a first click sorts them in.
COLUMNS = {"risk": True, "scanned_at": True, "price": False, "brand": False}
ANY = "any"


def _can_review(actor: Actor) -> bool:
    return actor.role.includes(Role.ANALYST) and actor.can_write


@cache
def _provinces() -> list[tuple[str, str]]:
    divisions = region_index().divisions
    return sorted((code, d.name) for code, d in divisions.items() if code.endswith("0000"))


def _queue_params(request: Request) -> dict[str, list[str]]:
    """The filters of the queue's address. The queue opens on open flagged listings: no verdict
    means the three suspicious ones, no review state means open (`any`: every state)."""
    params = {n: request.query_params.getlist(n) for n in service.PARAMS}
    if not any(v.strip() for v in params["verdict"]):
        params["verdict"] = list(service.FLAGGED)
    review = [v.strip() for v in params["review"] if v.strip()]
    if not review:
        params["review"] = ["open"]
    elif review == [ANY]:
        params["review"] = []
    return params


def _address(path: str, filters: Filters, sort: Sort, limit: int, **extra: str) -> str:
    pairs = service.filter_params(filters)
    if filters.review is None:
        pairs.append(("review", ANY))
    pairs.append(("sort", str(sort)))
    if limit != QUEUE_PAGE:
        pairs.append(("limit", str(limit)))
    pairs += [(k, v) for k, v in extra.items() if v]
    return f"{path}?{urlencode(pairs)}"


def _export(fmt: str, filters: Filters, sort: Sort) -> str:
    """The API's export of what the queue shows (every page of it)."""
    pairs = [*service.filter_params(filters), ("sort", str(sort)), ("format", fmt)]
    return f"/api/v1/assessments/export?{urlencode(pairs)}"


def _sort_links(filters: Filters, sort: Sort, limit: int) -> dict[str, dict[str, Any]]:
    links = {}
    for key, first_descending in COLUMNS.items():
        current = sort.key == key
        descending = not sort.descending if current else first_descending
        links[key] = {
            "href": _address("/queue", filters, Sort(key, descending), limit),
            "current": current,
            "aria": ("descending" if sort.descending else "ascending") if current else None,
        }
    return links


def _brand_names(store: StoreDep, actor: Actor) -> list[str]:
    """Brand names to suggest in the filter: the actor's own (all, for the operator)."""
    with store.session() as session:
        return list(
            session.scalars(
                select(BrandRow.name).where(visible_brands(actor)).order_by(BrandRow.name)
            )
        )


def _flash(request: Request) -> dict[str, Any] | None:
    decision = request.query_params.get("reviewed")
    if decision not in service.REVIEW_STATES:
        return None
    try:
        count = int(request.query_params.get("count", "0"))
        skipped = int(request.query_params.get("skipped", "0"))
    except ValueError:
        return None
    return {"decision": decision, "count": count, "skipped": skipped}


@router.get("/queue", name="review_queue")
def queue(request: Request, actor: Reader, store: StoreDep) -> Response:
    """The review queue: filter bar, sortable table, bulk decisions, next page by cursor."""
    error = None
    try:
        filters = service.parse_filters(_queue_params(request))
        sort = service.parse_sort(request.query_params.get("sort"))
        limit = service.parse_limit(request.query_params.get("limit") or QUEUE_PAGE)
        if limit > MAX_QUEUE_PAGE:
            raise AssessmentQueryError(f"limit: the queue shows at most {MAX_QUEUE_PAGE} a page")
        cursor = request.query_params.get("cursor") or None
        page = service.assessments(
            store, actor, filters, sort=sort, limit=limit, cursor=cursor, with_signals=False
        )
    except AssessmentQueryError as problem:
        error = str(problem)
        filters, sort, cursor = Filters(verdicts=service.FLAGGED, review="open"), Sort(), None
        limit = QUEUE_PAGE
        page = service.assessments(store, actor, filters, sort=sort, limit=limit)
    here = _address("/queue", filters, sort, limit, cursor=cursor or "")
    context = {
        "page": page,
        "limit": limit,
        "default_limit": QUEUE_PAGE,
        "filters": filters,
        "sort": sort,
        "error": error,
        "flash": _flash(request),
        "first_page": bool(cursor),
        "first_href": _address("/queue", filters, sort, limit),
        "next_href": (
            _address("/queue", filters, sort, limit, cursor=page.next_cursor)
            if page.next_cursor
            else None
        ),
        "here": here,
        "sort_links": _sort_links(filters, sort, limit),
        "export_csv": _export("csv", filters, sort),
        "export_jsonl": _export("jsonl", filters, sort),
        "provinces": _provinces(),
        "province_name": province_name,
        "brand_names": _brand_names(store, actor),
        "can_review": _can_review(actor),
        "review_states": service.REVIEW_STATES,
        "all_verdicts": service.VERDICTS,
    }
    status = 400 if error else 200
    return render(request, "review/queue.html", context, status_code=status)


def _back_to_queue(target: str) -> str:
    """Only the queue's own address (with its filters); anything else goes to the queue."""
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or parts.path != "/queue":
        return "/queue"
    return target


def _with(target: str, **values: str | int) -> str:
    separator = "&" if "?" in target else "?"
    return f"{target}{separator}{urlencode(values)}"


@router.post("/queue/review", name="review_bulk")
def bulk_review(
    request: Request,
    actor: Writer,
    store: StoreDep,
    listing: Annotated[list[str] | None, Form()] = None,
    decision: Annotated[str, Form(max_length=20)] = "",
    back: Annotated[str, Form(alias="next", max_length=4_000)] = "/queue",
) -> Response:
    """Confirm or dismiss the listings ticked in the queue, then show the queue again."""
    target = _back_to_queue(back)
    _ = gettext_for(choose_language(request))
    try:
        pks = [int(value) for value in listing or []]
    except ValueError:
        return _bad_request(request, _("The selected listings must be named by their numbers."))
    if not pks:
        return _bad_request(
            request,
            _("No listing was selected: tick the listings to decide on, then press a button."),
        )
    try:
        result = service.review(store, actor, pks, decision)
    except VigilError as problem:
        return _bad_request(request, str(problem))
    done = _with(
        target, reviewed=result.decision, count=len(result.updated), skipped=len(result.not_found)
    )
    return RedirectResponse(done, status_code=303)


def _bad_request(request: Request, message: str) -> Response:
    return render(request, "error.html", {"status": 400, "message": message}, status_code=400)


def _detail(store: StoreDep, actor: Actor, listing_pk: int) -> ListingDetail:
    try:
        return service.listing_detail(store, actor, listing_pk)
    except ListingNotFound as error:
        raise NotFoundError(str(error)) from None


def _web_images(images: list[str]) -> tuple[list[str], int]:
    """Images the browser may load itself (http/https) and how many others (local paths,
    which are never served) the listing names."""
    shown = [i for i in images if urlsplit(i).scheme in ("http", "https")]
    return shown, len(images) - len(shown)


def _members_to_share_with(store: StoreDep, actor: Actor) -> list[MemberRow]:
    with store.session() as session:
        rows = session.scalars(
            select(MemberRow).where(MemberRow.active.is_(True)).order_by(MemberRow.name)
        )
        return [m for m in rows if m.id != actor.member_id]


@router.get("/listings/{listing_pk}", name="listing_page")
def listing_page(request: Request, listing_pk: int, actor: Reader, store: StoreDep) -> Response:
    """A listing with its evidence highlighted, its signals, price and seller."""
    detail = _detail(store, actor, listing_pk)
    listing = detail.listing
    by_field: dict[str, list[Any]] = {"title": [], "description": []}
    for span in detail.spans:
        by_field[span.field].append(span)
    images, hidden = _web_images(listing.images)
    url = listing.url if listing.url and urlsplit(listing.url).scheme in ("http", "https") else None
    context = {
        "detail": detail,
        "listing": listing,
        "title_segments": segments(listing.title, by_field["title"]),
        "description_segments": segments(listing.description or "", by_field["description"]),
        "signals": sorted(listing.signals, key=lambda s: (-abs(s.weight), s.id)),
        "images": images,
        "hidden_images": hidden,
        "url": url,
        "province": province_name(listing.province_code) if listing.province_code else None,
        "can_review": _can_review(actor),
        "members": _members_to_share_with(store, actor) if _can_review(actor) else [],
        "flash": _flash(request),
        "shared": request.query_params.get("shared"),
        "queue_href": _back_to_queue(request.query_params.get("from", "/queue")),
    }
    return render(request, "review/listing.html", context)


@router.post("/listings/{listing_pk}/review", name="listing_review")
def listing_review(
    request: Request,
    listing_pk: int,
    actor: Writer,
    store: StoreDep,
    decision: Annotated[str, Form(max_length=20)] = "",
) -> Response:
    """Confirm, dismiss or reopen one listing from its page."""
    _detail(store, actor, listing_pk)  # another member's listing is 404, whatever the form
    try:
        result = service.review(store, actor, [listing_pk], decision)
    except VigilError as problem:
        return _bad_request(request, str(problem))
    target = _with(f"/listings/{listing_pk}", reviewed=result.decision, count=len(result.updated))
    return RedirectResponse(target, status_code=303)


@router.post("/listings/{listing_pk}/share", name="listing_share")
def listing_share(
    request: Request,
    listing_pk: int,
    actor: Writer,
    store: StoreDep,
    member: Annotated[str, Form(max_length=100)] = "",
) -> Response:
    """Let another member see this listing."""
    _detail(store, actor, listing_pk)
    if not member.strip():
        _ = gettext_for(choose_language(request))
        return _bad_request(request, _("Choose the member to share the listing with."))
    try:
        service.share(store, actor, listing_pk, member.strip())
    except (ListingNotFound, MemberNotFound) as error:
        raise NotFoundError(str(error)) from None
    except VigilError as problem:
        return _bad_request(request, str(problem))
    return RedirectResponse(
        _with(f"/listings/{listing_pk}", shared=member.strip()), status_code=303
    )
