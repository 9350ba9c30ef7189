"""The sentences a brand analyst reads next to each signal."""

from __future__ import annotations

from vigil.detectors.brand.catalog import Alias, Catalog
from vigil.detectors.brand.config import Variant

_VARIANT_PHRASES: dict[Variant, str] = {
    Variant.HOMOGLYPH: "{ev}, a look-alike spelling of {target}",
    Variant.FULLWIDTH: "{ev} in full-width or other compatibility characters, a disguised form "
    "of {target}",
    Variant.SEPARATORS: "{ev}, {target} pushed apart by separators",
    Variant.TYPO: "{ev}, {edits} away from {target}",
    Variant.TRADITIONAL: "{ev}, {target} in traditional characters",
    Variant.HOMOPHONE: "{ev}, a homophone of {target}",
    Variant.PINYIN: "{ev}, the pinyin of {target}",
    Variant.REORDERED: "{ev}, {target} with its parts swapped",
}


def visible(evidence: str) -> str:
    """`evidence` with its invisible characters shown (Xia⟨U+200B⟩omi): a reader of the
    sentence must see what separates the letters."""
    if evidence.isprintable():
        return evidence
    return "".join(c if c.isprintable() else f"⟨U+{ord(c):04X}⟩" for c in evidence)


def where(field: str) -> str:
    return "The title" if field == "title" else "The description"


def target(alias: Alias, catalog: Catalog) -> str:
    """The registered name an alias stands for, as an analyst knows it."""
    brand = catalog.brands[alias.brand].name
    if alias.product is not None:
        model = catalog.products[alias.product].model
        if alias.source == model:
            return f"the registered model {model} of {brand}"
        return f"the registered model {alias.source} ({model} of {brand})"
    if alias.source == brand:
        return f"the registered brand {brand}"
    return f"the registered brand {alias.source} ({brand})"


def mention(field: str, evidence: str, alias: Alias, catalog: Catalog) -> str:
    if evidence == alias.source:
        return f"{where(field)} names {target(alias, catalog)}."
    return f"{where(field)} names {evidence}, {target(alias, catalog)}."


def variant(
    field: str, evidence: str, alias: Alias, catalog: Catalog, kind: Variant, distance: int
) -> str:
    edits = {1: "one edit", 2: "two edits"}.get(distance, f"{distance} edits")
    phrase = _VARIANT_PHRASES[kind].format(
        ev=visible(evidence), target=target(alias, catalog), edits=edits
    )
    return f"{where(field)} writes {phrase}."


def unattributed(
    field: str, evidence: str, alias: Alias, catalog: Catalog, kind: Variant | None
) -> str:
    """For an everyday word that is also a brand name, with nothing tying it to the brand."""
    name = target(alias, catalog)
    said = (
        f"{evidence}, an everyday word that is also {name}"
        if kind is None
        else f"{evidence}, a form of {name}, which is also an everyday word"
    )
    return (
        f"{where(field)} says {said}, and nothing else in the listing ties it to the brand, so "
        f"it is not counted."
    )


def product(field: str, evidence: str, model: str, brand: str) -> str:
    if evidence.casefold() == model.casefold():
        return f"{where(field)} names {model}, a registered model of {brand}."
    return f"{where(field)} names {evidence}, the registered model {model} of {brand}."


def nominative(field: str, evidence: str, brand: str) -> str:
    return (
        f"{where(field)} names {brand} to say what the item fits ({evidence}), a legitimate use "
        f"of the name for an accessory."
    )


def accessory_category(category: str, brand: str) -> str:
    return (
        f"The listing is in the accessory category {category}, so naming {brand} says what the "
        f"item fits, a legitimate use of the name."
    )
