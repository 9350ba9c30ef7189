"""Filters, sort and cursor of an assessments query, read from query parameters."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, date, datetime
from typing import Any

import orjson

from vigil.domain.assessment import Verdict
from vigil.services.assessments.errors import AssessmentQueryError
from vigil.store.tables import ListingRow

# The scan's verdicts, and `pending` for uploads not scanned yet.
VERDICTS = (*(v.value for v in Verdict), "pending")
FLAGGED = VERDICTS[:3]
REVIEW_STATES = ("open", "confirmed", "dismissed")
AREAS = ("urban", "rural")
SORT_KEYS = ("risk", "scanned_at", "price", "brand")
DEFAULT_SORT = "-risk"
DEFAULT_LIMIT = 50
MAX_LIMIT = 500
MAX_REVIEW = 1_000
MAX_NOTE = 1_000
MAX_SEARCH = 200
MAX_VALUES = 50  # values of one multi-valued filter
EXPORT_CHUNK = 1_000
PARAMS = (
    "verdict", "brand", "platform", "province", "area", "risk_min", "risk_max", "from", "to",
    "review", "q",
)  # fmt: skip
# Not a secret: the cursor carries no authority (every page is filtered for the actor anew);
# the digest only catches cursors edited by hand, cut short, or reused with other filters.
_CURSOR_KEY = b"vigil.assessments.cursor.v1"


@dataclass(frozen=True, slots=True)
class Filters:
    """What a query keeps. Empty tuples and None keep everything."""

    verdicts: tuple[str, ...] = ()
    brands: tuple[str, ...] = ()
    platforms: tuple[str, ...] = ()
    province: str | None = None
    area: str | None = None
    risk_min: float | None = None
    risk_max: float | None = None
    scanned_from: date | None = None
    scanned_to: date | None = None
    review: str | None = None
    search: str | None = None

    def fingerprint(self) -> str:
        plain = {k: (v.isoformat() if isinstance(v, date) else v) for k, v in asdict(self).items()}
        digest = hashlib.blake2b(orjson.dumps(plain, option=orjson.OPT_SORT_KEYS), digest_size=8)
        return digest.hexdigest()


@dataclass(frozen=True, slots=True)
class Sort:
    key: str = "risk"
    descending: bool = True

    @property
    def column(self) -> Any:
        return getattr(ListingRow, self.key)

    @property
    def nullable(self) -> bool:
        return self.key in ("price", "brand")

    def __str__(self) -> str:
        return f"{'-' if self.descending else ''}{self.key}"


@dataclass(frozen=True, slots=True)
class Position:
    """Where a page ended: the last row's sort value and id (`missing`: past the values, among
    the rows without one)."""

    value: Any
    pk: int
    missing: bool = False


def _given(params: Mapping[str, Sequence[str]], name: str) -> Sequence[str]:
    values = params.get(name, ())
    if any("\x00" in value for value in values):
        raise AssessmentQueryError(f"{name}: contains a NUL character; remove it")
    return values


def _values(params: Mapping[str, Sequence[str]], name: str) -> list[str]:
    """A multi-valued parameter, given repeated or comma-separated; blanks ignored."""
    found = [part.strip() for raw in _given(params, name) for part in raw.split(",")]
    found = [v for v in found if v]
    if len(found) > MAX_VALUES:
        raise AssessmentQueryError(f"{name}: at most {MAX_VALUES} values at once")
    return list(dict.fromkeys(found))


def _single(params: Mapping[str, Sequence[str]], name: str) -> str | None:
    given = [v.strip() for v in _given(params, name) if v.strip()]
    if len(given) > 1:
        raise AssessmentQueryError(f"{name}: give it once (got {len(given)} values)")
    return given[0] if given else None


def _risk(params: Mapping[str, Sequence[str]], name: str) -> float | None:
    text = _single(params, name)
    if text is None:
        return None
    try:
        value = float(text)
    except ValueError:
        value = float("nan")
    if not 0.0 <= value <= 1.0:  # also false for NaN
        raise AssessmentQueryError(f"{name}: expected a number from 0 to 1, got {text!r}")
    return value


def _day(params: Mapping[str, Sequence[str]], name: str) -> date | None:
    text = _single(params, name)
    if text is None:
        return None
    try:
        return date.fromisoformat(text[:10]) if len(text) >= 10 else date.fromisoformat(text)
    except ValueError:
        raise AssessmentQueryError(
            f"{name}: expected a date as YYYY-MM-DD, got {text[:40]!r}"
        ) from None


def _province(text: str | None) -> str | None:
    if text is None:
        return None
    if len(text) in (2, 6) and text.isascii() and text.isdigit():
        return text[:2] + "0000"
    raise AssessmentQueryError(
        f"province: expected a province code such as 440000 (or its first two digits, 44), "
        f"got {text[:40]!r}"
    )


def parse_filters(params: Mapping[str, Sequence[str]]) -> Filters:
    """Filters from query parameters (each name with its list of values); blank values are
    ignored, so an untouched form field filters nothing."""
    verdicts = _values(params, "verdict")
    unknown = [v for v in verdicts if v not in VERDICTS]
    if unknown:
        raise AssessmentQueryError(
            f"verdict: unknown {', '.join(map(repr, unknown))}; use one or more of "
            f"{', '.join(VERDICTS)}"
        )
    area = _single(params, "area")
    if area is not None and area not in AREAS:
        raise AssessmentQueryError(f"area: expected urban or rural, got {area[:40]!r}")
    review = _single(params, "review")
    if review is not None and review not in REVIEW_STATES:
        raise AssessmentQueryError(
            f"review: expected one of {', '.join(REVIEW_STATES)}, got {review[:40]!r}"
        )
    search = _single(params, "q")
    if search is not None and len(search) > MAX_SEARCH:
        raise AssessmentQueryError(f"q: search for at most {MAX_SEARCH} characters")
    filters = Filters(
        verdicts=tuple(v for v in VERDICTS if v in verdicts),
        brands=tuple(_values(params, "brand")),
        platforms=tuple(_values(params, "platform")),
        province=_province(_single(params, "province")),
        area=area,
        risk_min=_risk(params, "risk_min"),
        risk_max=_risk(params, "risk_max"),
        scanned_from=_day(params, "from"),
        scanned_to=_day(params, "to"),
        review=review,
        search=search,
    )
    if None not in (filters.risk_min, filters.risk_max) and filters.risk_min > filters.risk_max:  # type: ignore[operator]
        raise AssessmentQueryError("risk_min is above risk_max; swap them")
    if filters.scanned_from and filters.scanned_to and filters.scanned_from > filters.scanned_to:
        raise AssessmentQueryError("from is after to; swap the dates")
    return filters


def parse_sort(text: str | None) -> Sort:
    """`risk`, `-risk` (descending), `scanned_at`, `price`, `brand` and their `-` forms."""
    text = (text or DEFAULT_SORT).strip()
    key = text.removeprefix("-")
    if key not in SORT_KEYS:
        raise AssessmentQueryError(
            f"sort: expected one of {', '.join(SORT_KEYS)} (with - in front for descending), "
            f"got {text[:40]!r}"
        )
    return Sort(key, text.startswith("-"))


def parse_limit(text: str | int | None) -> int:
    if text is None or text == "":
        return DEFAULT_LIMIT
    try:
        limit = int(text)
    except ValueError:
        limit = 0
    if not 1 <= limit <= MAX_LIMIT:
        raise AssessmentQueryError(f"limit: expected a whole number from 1 to {MAX_LIMIT}")
    return limit


def _mac(payload: bytes) -> bytes:
    return hmac.new(_CURSOR_KEY, payload, hashlib.sha256).digest()[:12]


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def encode_cursor(filters: Filters, sort: Sort, position: Position) -> str:
    value = position.value
    if isinstance(value, datetime):
        value = utc(value).isoformat()
    body = {
        "s": str(sort),
        "f": filters.fingerprint(),
        "k": value,
        "i": position.pk,
        "m": position.missing,
    }
    payload = orjson.dumps(body)
    return f"{_b64(payload)}.{_b64(_mac(payload))}"


_BAD_CURSOR = (
    "the cursor is not valid (changed or cut short?); use next_cursor exactly as returned, or "
    "start again from the first page without a cursor"
)


def decode_cursor(token: str, filters: Filters, sort: Sort) -> Position:
    """The position a cursor of the same filters and sort carries, or AssessmentQueryError."""
    try:
        encoded, _, mac = token.strip().partition(".")
        payload = _unb64(encoded)
        good = hmac.compare_digest(_unb64(mac), _mac(payload))
        body = orjson.loads(payload) if good else None
    except (ValueError, binascii.Error, orjson.JSONDecodeError):
        body = None
    if not isinstance(body, dict):
        raise AssessmentQueryError(_BAD_CURSOR)
    if body.get("s") != str(sort) or body.get("f") != filters.fingerprint():
        raise AssessmentQueryError(
            "the cursor belongs to a query with other filters or another sort; keep them as "
            "they were, or start again from the first page without a cursor"
        )
    pk, missing, value = body.get("i"), body.get("m"), body.get("k")
    if not isinstance(pk, int) or not isinstance(missing, bool):
        raise AssessmentQueryError(_BAD_CURSOR)
    return Position(_key_value(sort, value, missing), pk, missing)


def _key_value(sort: Sort, value: Any, missing: bool) -> Any:
    if missing:
        return None
    if sort.key in ("risk", "price") and isinstance(value, int | float):
        return float(value)
    if sort.key == "brand" and isinstance(value, str):
        return value
    if sort.key == "scanned_at" and isinstance(value, str):
        try:
            return utc(datetime.fromisoformat(value))
        except ValueError:
            pass
    raise AssessmentQueryError(_BAD_CURSOR)


def utc(moment: datetime) -> datetime:
    """Times as stored: UTC (SQLite hands them back without their zone)."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def filter_params(filters: Filters) -> list[tuple[str, str]]:
    """The query parameters that give these filters back through `parse_filters`."""
    pairs: list[tuple[str, str]] = []
    pairs += [("verdict", v) for v in filters.verdicts]
    pairs += [("brand", v) for v in filters.brands]
    pairs += [("platform", v) for v in filters.platforms]
    singles = {
        "province": filters.province,
        "area": filters.area,
        "risk_min": None if filters.risk_min is None else repr(filters.risk_min),
        "risk_max": None if filters.risk_max is None else repr(filters.risk_max),
        "from": filters.scanned_from.isoformat() if filters.scanned_from else None,
        "to": filters.scanned_to.isoformat() if filters.scanned_to else None,
        "review": filters.review,
        "q": filters.search,
    }
    pairs += [(name, value) for name, value in singles.items() if value is not None]
    return pairs
