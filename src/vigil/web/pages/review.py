"""The review queue, a listing's detail page and the listing's images.

Everything works with JavaScript off: the filter bar is a GET form, the column headers are
links, the bulk decision is a POST form, the next page a link. `static/review.js` adds the
keyboard (j/k, x, c, d, o, ?).
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
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
    AssessmentPage,
    AssessmentQueryError,
    Filters,
    ListingDetail,
    ListingNotFound,
    MemberNotFound,
    Sort,
)
from vigil.services.assessments.copied_text import cluster_links, copied_passages
from vigil.services.assessments.count import Tally, count_assessments
from vigil.services.assessments.highlights import Segment, segments
from vigil.services.cases.desk import cases_holding
from vigil.services.media import MediaPlaces, listing_image
from vigil.services.registry_works import work_ids
from vigil.services.tenancy import visible_brands
from vigil.store.tables import BrandRow, MemberRow
from vigil.web.addresses import with_query
from vigil.web.deps import MediaDep, StoreDep
from vigil.web.errors import NotFoundError
from vigil.web.i18n import choose_language, gettext_for
from vigil.web.images import image_response
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
# Counting the matching listings must be done by this time into the request (seconds); when
# the page itself took longer (a text search reads every row), the count is skipped.
COUNT_BY = 0.12
MIN_COUNT_BUDGET = 0.01


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


def _matching(
    store: StoreDep,
    actor: Actor,
    filters: Filters,
    page: AssessmentPage,
    cursor: str | None,
    since: float,
) -> Tally | None:
    """How many listings the filters keep, when that can be known without slowing the page:
    a first page that is also the last one says so itself; otherwise a capped, timed count."""
    if cursor is None and page.next_cursor is None:
        return Tally(len(page.items))
    budget = COUNT_BY - (time.perf_counter() - since)
    if budget < MIN_COUNT_BUDGET:
        return None
    return count_assessments(store, actor, filters, budget=budget)


@router.get("/queue", name="review_queue")
def queue(request: Request, actor: Reader, store: StoreDep) -> Response:
    """The review queue: filter bar, sortable table, bulk decisions, next page by cursor."""
    started = time.perf_counter()
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
    queue_address = _address("/queue", filters, sort, limit, cursor=cursor or "")
    context = {
        "page": page,
        "matching": _matching(store, actor, filters, page, cursor, started),
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
        "queue_address": queue_address,  # (base.html uses `here` for the path)
        "sort_links": _sort_links(filters, sort, limit),
        "export_csv": _export("csv", filters, sort),
        "export_jsonl": _export("jsonl", filters, sort),
        "provinces": _provinces(),
        "province_name": _province_name,
        "brand_names": _brand_names(store, actor),
        "can_review": _can_review(actor),
        "review_states": service.REVIEW_STATES,
        "all_verdicts": service.VERDICTS,
    }
    status = 400 if error else 200
    return render(request, "review/queue.html", context, status_code=status)


def _province_name(code: str | None) -> str | None:
    """The province's name (Chinese, as the division list gives it); None rather than a code."""
    return province_name(code) if code else None


def _back_to_queue(target: str) -> str:
    """Only the queue's own address (with its filters); anything else goes to the queue."""
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or parts.path != "/queue":
        return "/queue"
    return target


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
    done = with_query(
        target, reviewed=result.decision, count=len(result.updated), skipped=len(result.not_found)
    )
    return RedirectResponse(done, status_code=303)


def _bad_request(request: Request, message: str) -> Response:
    return render(request, "error.html", {"status": 400, "message": message}, status_code=400)


def _detail(
    store: StoreDep, actor: Actor, listing_pk: int, places: MediaPlaces | None = None
) -> ListingDetail:
    try:
        return service.listing_detail(store, actor, listing_pk, places=places)
    except ListingNotFound as error:
        raise NotFoundError(str(error)) from None


def _members_to_share_with(store: StoreDep, actor: Actor) -> list[MemberRow]:
    with store.session() as session:
        rows = session.scalars(
            select(MemberRow).where(MemberRow.active.is_(True)).order_by(MemberRow.name)
        )
        return [m for m in rows if m.id != actor.member_id]


def _member_names(store: StoreDep, member_ids: list[str]) -> dict[str, str]:
    """The names of the members the page lists (the detail only names members the actor may
    know of: every one for the operator, its own for a member)."""
    if not member_ids:
        return {}
    with store.session() as session:
        rows = session.execute(
            select(MemberRow.id, MemberRow.name).where(MemberRow.id.in_(member_ids))
        )
        return {member_id: name for member_id, name in rows}


def _observed(text: str | None) -> datetime | str | None:
    """When the listing was seen, as a time when the uploader's text is one (RFC 3339), else
    the text as given."""
    if not text:
        return None
    try:
        seen = datetime.fromisoformat(text.strip())
    except ValueError:
        return text
    # In UTC, like every other time on the page; a time without a zone is taken as UTC.
    return seen.astimezone(UTC) if seen.tzinfo else seen.replace(tzinfo=UTC)


def _legend(*runs: list[Segment]) -> list[str]:
    """The kinds of highlight shown, in the order they first appear."""
    kinds: dict[str, None] = {}
    for run in runs:
        for seg in run:
            if seg.spans:
                kinds.setdefault(seg.kind, None)
    return list(kinds)


def _listing_address(listing_pk: int, queue_href: str, **values: str | int) -> str:
    """The listing page after a form, still knowing the queue (and its filters) it came from."""
    if queue_href != "/queue":
        values["from"] = queue_href
    return with_query(f"/listings/{listing_pk}", **values)


@router.get("/listings/{listing_pk}", name="listing_page")
def listing_page(
    request: Request, listing_pk: int, actor: Reader, store: StoreDep, media: MediaDep
) -> Response:
    """A listing with its evidence highlighted, its signals, photos, price and seller."""
    detail = _detail(store, actor, listing_pk, media)
    listing = detail.listing
    by_field: dict[str, list[Any]] = {"title": [], "description": []}
    for span in detail.spans:
        by_field[span.field].append(span)
    url = listing.url if listing.url and urlsplit(listing.url).scheme in ("http", "https") else None
    title_segments = segments(listing.title, by_field["title"])
    description_segments = segments(listing.description or "", by_field["description"])
    can_review = _can_review(actor)
    members = _members_to_share_with(store, actor) if can_review else []
    shared = request.query_params.get("shared")
    passages = copied_passages(listing.signals)
    owners = [p.owner for p in passages if p.owner]
    context = {
        "detail": detail,
        "listing": listing,
        "title_segments": title_segments,
        "description_segments": description_segments,
        "legend": _legend(title_segments, description_segments),
        "signals": sorted(listing.signals, key=lambda s: (-abs(s.weight), s.id)),
        "photos": detail.images,
        "url": url,
        "province": _province_name(listing.province_code),
        "observed": _observed(listing.observed_at),
        "can_review": can_review,
        "members": members,
        "member_names": _member_names(store, [row.member_id for row in detail.access] + owners),
        "passages": passages,
        "clusters": cluster_links(listing.signals),
        # Works the visitor may open: its own (all of them for the operator).
        "work_links": work_ids(store, actor, [(p.owner, p.work) for p in passages]),
        "flash": _flash(request),
        # Named as the share form listed it; anything else as given.
        "shared": next((m.name for m in members if m.id == shared), shared),
        "queue_href": _back_to_queue(request.query_params.get("from", "/queue")),
        "listing_cases": cases_holding(store, actor, listing_pk),
    }
    return render(request, "review/listing.html", context)


@router.get("/listings/{listing_pk}/images/{sha256}", name="listing_image")
def listing_image_page(
    request: Request,
    listing_pk: int,
    sha256: str,
    actor: Reader,
    store: StoreDep,
    media: MediaDep,
) -> Response:
    """A photo of the listing, or a registry image it matched, by the digest of its bytes."""
    return image_response(
        request, lambda: listing_image(store, actor, listing_pk, sha256, places=media)
    )


@router.post("/listings/{listing_pk}/review", name="listing_review")
def listing_review(
    request: Request,
    listing_pk: int,
    actor: Writer,
    store: StoreDep,
    decision: Annotated[str, Form(max_length=20)] = "",
    back: Annotated[str, Form(alias="from", max_length=4_000)] = "/queue",
) -> Response:
    """Confirm, dismiss or reopen one listing from its page."""
    _detail(store, actor, listing_pk)  # another member's listing is 404, whatever the form
    try:
        result = service.review(store, actor, [listing_pk], decision)
    except VigilError as problem:
        return _bad_request(request, str(problem))
    target = _listing_address(
        listing_pk, _back_to_queue(back), reviewed=result.decision, count=len(result.updated)
    )
    return RedirectResponse(target, status_code=303)


@router.post("/listings/{listing_pk}/share", name="listing_share")
def listing_share(
    request: Request,
    listing_pk: int,
    actor: Writer,
    store: StoreDep,
    member: Annotated[str, Form(max_length=100)] = "",
    back: Annotated[str, Form(alias="from", max_length=4_000)] = "/queue",
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
    target = _listing_address(listing_pk, _back_to_queue(back), shared=member.strip())
    return RedirectResponse(target, status_code=303)
