"""Assessments over the API: the filtered, cursor-paged list and its export, one listing in
detail, bulk review decisions and sharing a listing with another member."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response, StreamingResponse
from pydantic import BaseModel, ConfigDict, Field

from vigil.domain.people import Actor, Role
from vigil.services import assessments as service
from vigil.services.assessments import (
    AssessedListing,
    Filters,
    ListingDetail,
    ListingNotFound,
    MemberNotFound,
    Sort,
)
from vigil.services.media import listing_image
from vigil.services.tenancy import can_see_listing
from vigil.web.deps import MediaDep, StoreDep
from vigil.web.errors import BadRequestError, NotFoundError
from vigil.web.images import image_response
from vigil.web.security import require

router = APIRouter()

PAGE_PARAMS = frozenset({*service.PARAMS, "sort", "limit", "cursor"})
EXPORT_PARAMS = frozenset({*service.PARAMS, "sort", "format"})
MEDIA_TYPES = {"csv": "text/csv; charset=utf-8", "jsonl": "application/x-ndjson"}


class AssessmentList(BaseModel):
    items: list[AssessedListing]
    next_cursor: str | None = Field(
        description="Pass it back as `cursor` (with the same filters and sort) for the next "
        "page; null on the last page."
    )
    sort: str
    limit: int


class ReviewIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    listings: list[int] = Field(min_length=1, max_length=service.MAX_REVIEW)
    decision: Literal["confirmed", "dismissed", "open"]
    note: str | None = Field(default=None, max_length=1_000)


class ReviewOut(BaseModel):
    decision: str
    updated: list[int] = Field(description="The listings whose review state was recorded.")
    not_found: list[int] = Field(
        description="Listings that do not exist or that you may not see; left alone."
    )


class ShareIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    member: str = Field(min_length=1, max_length=100)


class ShareOut(BaseModel):
    listing: int
    member: str
    added: bool = Field(description="False when the member could already see the listing.")


def _query(request: Request, allowed: frozenset[str]) -> tuple[Filters, Sort]:
    """The filters and sort of the request's query string; unknown names are refused, so that
    a misspelt filter does not silently return everything."""
    unknown = sorted(set(request.query_params) - allowed)
    if unknown:
        raise BadRequestError(
            f"unknown query parameter {', '.join(map(repr, unknown))}; known are "
            f"{', '.join(sorted(allowed))}"
        )
    params = {name: request.query_params.getlist(name) for name in request.query_params}
    return service.parse_filters(params), service.parse_sort(request.query_params.get("sort"))


# The filters, declared for validation and for the OpenAPI document; the handlers read them
# from the query string through the same parser the pages use.
VerdictQ = Annotated[
    list[str] | None,
    Query(description=f"One or more of {', '.join(service.VERDICTS)} (repeat or comma-separate)"),
]
BrandQ = Annotated[list[str] | None, Query(description="Attributed brand name(s), exactly")]
PlatformQ = Annotated[list[str] | None, Query(description="Platform(s), e.g. taobao, jd")]
ProvinceQ = Annotated[
    str | None, Query(description="Province code, e.g. 440000 (or its first two digits)")
]
AreaQ = Annotated[Literal["urban", "rural"] | None, Query(description="Urban or rural")]
RiskQ = Annotated[float | None, Query(ge=0, le=1)]
DayQ = Annotated[date | None, Query(description="Scanned on or after / on or before (UTC day)")]
ReviewQ = Annotated[
    Literal["open", "confirmed", "dismissed"] | None,
    Query(description="Where your member's review stands"),
]
SearchQ = Annotated[
    str | None,
    Query(
        max_length=service.MAX_SEARCH, description="Text in the title or seller; or a listing id"
    ),
]
SortQ = Annotated[
    str | None,
    Query(description="risk, scanned_at, price or brand; prefix - for descending (default -risk)"),
]


@router.get("/assessments", response_model=AssessmentList)
def list_assessments(
    request: Request,
    actor: Annotated[Actor, require()],
    store: StoreDep,
    verdict: VerdictQ = None,
    brand: BrandQ = None,
    platform: PlatformQ = None,
    province: ProvinceQ = None,
    area: AreaQ = None,
    risk_min: RiskQ = None,
    risk_max: RiskQ = None,
    scanned_from: Annotated[DayQ, Query(alias="from")] = None,
    scanned_to: Annotated[DayQ, Query(alias="to")] = None,
    review: ReviewQ = None,
    q: SearchQ = None,
    sort: SortQ = None,
    limit: Annotated[int, Query(ge=1, le=service.MAX_LIMIT)] = service.DEFAULT_LIMIT,
    cursor: Annotated[str | None, Query(max_length=2_000)] = None,
) -> AssessmentList:
    """The listings you may see with their assessments, filtered and sorted, a page at a time."""
    filters, order = _query(request, PAGE_PARAMS)
    page = service.assessments(store, actor, filters, sort=order, limit=limit, cursor=cursor)
    return AssessmentList(
        items=page.items, next_cursor=page.next_cursor, sort=str(order), limit=limit
    )


@router.get(
    "/assessments/export",
    response_class=StreamingResponse,
    responses={
        200: {
            "description": "Every listing of the filtered set, as CSV or JSON Lines",
            "content": {"text/csv": {}, "application/x-ndjson": {}},
        }
    },
)
def export_assessments(
    request: Request,
    actor: Annotated[Actor, require()],
    store: StoreDep,
    format: Literal["csv", "jsonl"] = "jsonl",
    verdict: VerdictQ = None,
    brand: BrandQ = None,
    platform: PlatformQ = None,
    province: ProvinceQ = None,
    area: AreaQ = None,
    risk_min: RiskQ = None,
    risk_max: RiskQ = None,
    scanned_from: Annotated[DayQ, Query(alias="from")] = None,
    scanned_to: Annotated[DayQ, Query(alias="to")] = None,
    review: ReviewQ = None,
    q: SearchQ = None,
    sort: SortQ = None,
) -> StreamingResponse:
    """The whole filtered set, streamed: JSON Lines (one assessment with its listing per line)
    or CSV (one row per listing, signals summarised)."""
    filters, order = _query(request, EXPORT_PARAMS)
    body = service.export(store, actor, filters, order, format)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    return StreamingResponse(
        body,
        media_type=MEDIA_TYPES[format],
        headers={"Content-Disposition": f'attachment; filename="assessments-{stamp}.{format}"'},
    )


@router.get("/listings/{listing_pk}", response_model=ListingDetail)
def get_listing(
    listing_pk: int, actor: Annotated[Actor, require()], store: StoreDep, media: MediaDep
) -> ListingDetail:
    """One listing with its signals, the spans they point at in its text, its price beside
    the MSRP and the market median, its images (with the scan's record of each and the
    registry images they matched) and the review states you may know."""
    try:
        return service.listing_detail(store, actor, listing_pk, places=media)
    except ListingNotFound as error:
        raise NotFoundError(str(error)) from None


@router.get(
    "/listings/{listing_pk}/images/{sha256}",
    response_class=Response,
    responses={
        200: {
            "description": "The image's bytes, of the type its magic bytes say",
            "content": {"image/jpeg": {}, "image/png": {}, "image/gif": {}, "image/webp": {}},
        },
        304: {"description": "Not modified (the `ETag` is the SHA-256)"},
        404: {"description": "No such listing, or the listing names no image with this digest"},
    },
)
def get_listing_image(
    request: Request,
    listing_pk: int,
    sha256: str,
    actor: Annotated[Actor, require()],
    store: StoreDep,
    media: MediaDep,
) -> Response:
    """One of the listing's photos (an `images[].sha256` of its detail), or a registry image
    one of them matched (`images[].matches[].asset_sha256`), when the server keeps its bytes."""
    return image_response(
        request, lambda: listing_image(store, actor, listing_pk, sha256, places=media)
    )


@router.post("/reviews", response_model=ReviewOut)
def review_listings(
    body: ReviewIn,
    actor: Annotated[Actor, require(Role.ANALYST, write=True)],
    store: StoreDep,
) -> ReviewOut:
    """Confirm, dismiss or reopen up to 1,000 listings at once, for your member. Listings you
    may not see are reported in `not_found` and left alone."""
    result = service.review(store, actor, body.listings, body.decision, body.note)
    return ReviewOut(decision=result.decision, updated=result.updated, not_found=result.not_found)


def _shareable(
    listing_pk: int,
    actor: Annotated[Actor, require(Role.ANALYST, write=True)],
    store: StoreDep,
) -> tuple[Actor, int]:
    """The listing, when the actor may see it; checked before the body, so that another
    member's listing is 404 whatever the body holds."""
    with store.session() as session:
        if not can_see_listing(session, actor, listing_pk):
            raise NotFoundError(f"no listing {listing_pk}")
    return actor, listing_pk


@router.post("/listings/{listing_pk}/share", response_model=ShareOut)
def share_listing(
    body: ShareIn,
    target: Annotated[tuple[Actor, int], Depends(_shareable)],
    store: StoreDep,
) -> ShareOut:
    """Let another member see this listing. An unknown member is 404."""
    actor, listing_pk = target
    try:
        result = service.share(store, actor, listing_pk, body.member)
    except (ListingNotFound, MemberNotFound) as error:
        raise NotFoundError(str(error)) from None
    return ShareOut(listing=result.listing_pk, member=result.member_id, added=result.added)
