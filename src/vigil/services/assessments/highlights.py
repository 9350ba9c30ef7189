"""Where a listing's signals point in its text: spans to highlight, and the text cut at them.

Detectors record where they found their evidence in different ways: the brand detector gives
`field`, `start` and `end` (character offsets in the original title or description), the
wording detector `field` and `position` (where the evidence starts). Signals without offsets
(a seller, an image) are looked up by their evidence text when it occurs in the listing. Pure
functions, no I/O: the pages turn segments into escaped markup.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from itertools import pairwise
from typing import Any

FIELDS = ("title", "description")
# Evidence longer than this is a sentence about the listing (a price comparison), not a quote.
MAX_QUOTE = 120
# A signal whose evidence occurs many times marks the first few occurrences only.
MAX_OCCURRENCES = 10
_CLASS_SAFE = re.compile(r"[^a-z0-9_-]+")


@dataclass(frozen=True, slots=True)
class SignalText:
    """What a span needs of a signal."""

    id: int
    detector: str
    kind: str
    weight: float
    evidence: str
    explanation: str
    details: Mapping[str, Any]


@dataclass(frozen=True, slots=True)
class Span:
    """Characters `start`..`end` of `field` that signal `signal_id` points at."""

    field: str
    start: int
    end: int
    signal_id: int
    kind: str
    weight: float
    explanation: str


@dataclass(frozen=True, slots=True)
class Segment:
    """A run of text and the spans covering all of it (none: plain text)."""

    text: str
    spans: tuple[Span, ...] = ()

    @property
    def kind(self) -> str:
        """The kind of the weightiest span here, safe to use in a CSS class name."""
        if not self.spans:
            return ""
        strongest = max(self.spans, key=lambda s: (abs(s.weight), -s.signal_id))
        return css_kind(strongest.kind)

    @property
    def title(self) -> str:
        """The explanations of the spans here, for a tooltip."""
        seen: dict[str, None] = {}
        for span in self.spans:
            seen.setdefault(span.explanation, None)
        return " · ".join(seen)

    @property
    def signal_ids(self) -> tuple[int, ...]:
        return tuple(sorted({s.signal_id for s in self.spans}))


def css_kind(kind: str) -> str:
    return _CLASS_SAFE.sub("-", kind.lower()) or "signal"


def spans_for(title: str, description: str | None, signals: Iterable[SignalText]) -> list[Span]:
    """The spans of every signal, in field and text order."""
    texts = {"title": title, "description": description or ""}
    spans: list[Span] = []
    for signal in signals:
        spans.extend(_spans_of(signal, texts))
    return sorted(spans, key=lambda s: (FIELDS.index(s.field), s.start, s.end, s.signal_id))


def _spans_of(signal: SignalText, texts: Mapping[str, str]) -> list[Span]:
    recorded = _recorded(signal, texts)
    if recorded is not None:
        return [recorded]
    evidence = signal.evidence.strip()
    if not evidence or len(evidence) > MAX_QUOTE:
        return []
    pattern = re.compile(re.escape(evidence), re.IGNORECASE)
    found: list[Span] = []
    for field in FIELDS:
        for match in pattern.finditer(texts[field]):
            found.append(_span(signal, field, match.start(), match.end()))
            if len(found) == MAX_OCCURRENCES:
                return found
    return found


def _recorded(signal: SignalText, texts: Mapping[str, str]) -> Span | None:
    """The span the detector recorded, when its offsets still fit the listing's text."""
    details = signal.details
    field = details.get("field")
    if field not in FIELDS:
        return None
    text = texts[str(field)]
    start, end = _int(details.get("start")), _int(details.get("end"))
    if start is None:
        start = _int(details.get("position"))
        end = start + len(signal.evidence) if start is not None else None
    if start is None or end is None:
        return None
    if not 0 <= start < end <= len(text):
        return None
    # Offsets from an older text of the listing would point at the wrong words.
    if signal.evidence and text[start:end].casefold() != signal.evidence.casefold():
        return None
    return _span(signal, str(field), start, end)


def _int(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _span(signal: SignalText, field: str, start: int, end: int) -> Span:
    return Span(
        field=field,
        start=start,
        end=end,
        signal_id=signal.id,
        kind=signal.kind,
        weight=signal.weight,
        explanation=signal.explanation,
    )


def segments(text: str, spans: Sequence[Span]) -> list[Segment]:
    """`text` cut where spans begin and end; overlapping spans share the segments they cover."""
    inside = [s for s in spans if 0 <= s.start < s.end <= len(text)]
    if not text:
        return []
    cuts = sorted({0, len(text), *(s.start for s in inside), *(s.end for s in inside)})
    result: list[Segment] = []
    for low, high in pairwise(cuts):
        covering = tuple(s for s in inside if s.start <= low and high <= s.end)
        if result and result[-1].spans == covering:
            result[-1] = Segment(result[-1].text + text[low:high], covering)
        else:
            result.append(Segment(text[low:high], covering))
    return result
