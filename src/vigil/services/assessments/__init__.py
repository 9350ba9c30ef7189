"""Assessments for people and programs: the listings an actor may see, filtered, sorted and paged
by cursor (`query`), exported whole (`export`), reviewed and shared (`decisions`), and one listing
in detail with the spans its signals point at (`detail`, `highlights`).
"""

from vigil.services.assessments.decisions import ReviewResult, ShareResult, review, share
from vigil.services.assessments.detail import AccessOut, ListingDetail, PriceContext, listing_detail
from vigil.services.assessments.errors import (
    AssessmentQueryError,
    ListingNotFound,
    MemberNotFound,
    ReviewError,
)
from vigil.services.assessments.export import (
    CSV_COLUMNS,
    EXPORT_FORMATS,
    assessment_record,
    export,
)
from vigil.services.assessments.params import (
    AREAS,
    DEFAULT_LIMIT,
    FLAGGED,
    MAX_LIMIT,
    MAX_REVIEW,
    MAX_SEARCH,
    PARAMS,
    REVIEW_STATES,
    SORT_KEYS,
    VERDICTS,
    Filters,
    Position,
    Sort,
    decode_cursor,
    encode_cursor,
    filter_params,
    parse_filters,
    parse_limit,
    parse_sort,
)
from vigil.services.assessments.query import (
    AssessedListing,
    AssessmentPage,
    SignalOut,
    assessments,
    iter_assessments,
)

__all__ = [
    "AREAS",
    "CSV_COLUMNS",
    "DEFAULT_LIMIT",
    "EXPORT_FORMATS",
    "FLAGGED",
    "MAX_LIMIT",
    "MAX_REVIEW",
    "MAX_SEARCH",
    "PARAMS",
    "REVIEW_STATES",
    "SORT_KEYS",
    "VERDICTS",
    "AccessOut",
    "AssessedListing",
    "AssessmentPage",
    "AssessmentQueryError",
    "Filters",
    "ListingDetail",
    "ListingNotFound",
    "MemberNotFound",
    "Position",
    "PriceContext",
    "ReviewError",
    "ReviewResult",
    "ShareResult",
    "SignalOut",
    "Sort",
    "assessment_record",
    "assessments",
    "decode_cursor",
    "encode_cursor",
    "export",
    "filter_params",
    "iter_assessments",
    "listing_detail",
    "parse_filters",
    "parse_limit",
    "parse_sort",
    "review",
    "share",
]
