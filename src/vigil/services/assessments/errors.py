"""What goes wrong with an assessments request: each error says what to change."""

from __future__ import annotations

from vigil.errors import VigilError


class AssessmentQueryError(VigilError):
    """A filter, sort, limit or cursor the query cannot use."""


class ListingNotFound(VigilError):
    """No such listing, or not one the actor may see (the two look the same)."""


class MemberNotFound(VigilError):
    """No member by that id."""


class ReviewError(VigilError):
    """A review or share request that cannot be carried out as asked."""
