"""Names people read for the codes the platform stores (verdicts, roles, member kinds, signal
kinds…). Templates call `label(group, value)`; the English names are the gettext msgids, so the
Chinese ones live in the catalogues like every other text. An unknown value shows as itself."""

from __future__ import annotations

from collections.abc import Callable

from markupsafe import Markup


def _(message: str) -> str:
    """Marks a text for extraction; it is translated when shown (see `labeller`)."""
    return message


LABELS: dict[str, dict[str, str]] = {
    "verdict": {
        "counterfeit_suspected": _("Suspected counterfeit"),
        "infringement_suspected": _("Suspected infringement"),
        "needs_review": _("Needs review"),
        "clear": _("Nothing suspicious"),
        "pending": _("Waiting for a scan"),
    },
    "review": {
        "open": _("Open"),
        "confirmed": _("Confirmed"),
        "dismissed": _("Dismissed"),
    },
    "kind": {
        "brand_owner": _("Brand owner"),
        "marketplace": _("Marketplace"),
        "association": _("Association"),
        "university": _("University"),
        "enforcement": _("Enforcement"),
        "operator": _("Operator"),
    },
    "role": {"viewer": _("Viewer"), "analyst": _("Analyst"), "admin": _("Admin")},
    "scope": {"read": _("Read"), "write": _("Read and write")},
    "detector": {
        "brand": _("Brand"),
        "wording": _("Wording"),
        "price": _("Price"),
        "seller": _("Seller"),
        "images": _("Images"),
        "texts": _("Texts"),
    },
    "signal": {
        "brand_mention": _("Brand named"),
        "brand_variant": _("Look-alike brand name"),
        "nominative_use": _("Brand named for compatibility"),
        "product_model": _("Product model named"),
        "counterfeit_wording": _("Counterfeit wording"),
        "price_below_msrp": _("Price far below MSRP"),
        "price_below_market": _("Price far below market"),
        "authorized_seller": _("Authorized seller"),
        "unverified_official_claim": _("Unverified official claim"),
        "official_image_reuse": _("Official photo reused"),
        "known_counterfeit_image": _("Photo from a counterfeit case"),
        "copyrighted_image": _("Copyrighted image"),
        "logo_match": _("Registered logo in a photo"),
        "copyrighted_text": _("Text copied from a registered work"),
        "copy_paste_cluster": _("Copy-paste cluster"),
    },
    # How a work's file is read (vigil.texts.works.WorkText.kind).
    "text_format": {"text": _("Plain text"), "markdown": _("Markdown"), "html": _("HTML")},
    # How a listing photo is turned, flipped or cropped from the registry photo it matched,
    # as the images signal records it (vigil.images.pdq.DIHEDRAL and the detector's alignment).
    "transform": {
        "original": _("Not turned or flipped"),
        "rotated 90° anticlockwise": _("Rotated 90° anticlockwise"),
        "rotated 180°": _("Rotated 180°"),
        "rotated 90° clockwise": _("Rotated 90° clockwise"),
        "flipped top to bottom": _("Flipped top to bottom"),
        "mirrored left to right": _("Mirrored left to right"),
        "flipped about the main diagonal": _("Flipped about the main diagonal"),
        "flipped about the anti-diagonal": _("Flipped about the anti-diagonal"),
        "cropped or rescaled (compared after alignment)": _(
            "Cropped or rescaled (compared after alignment)"
        ),
    },
    "access": {
        "uploaded": _("uploaded it"),
        "brand": _("its brand"),
        "shared": _("shared with it"),
        "reviewed": _("reviewed it"),
    },
    "area": {"urban": _("Urban"), "rural": _("Rural")},
    "condition": {
        "new": _("New"),
        "used": _("Used"),
        "refurbished": _("Refurbished"),
        "parts": _("For parts"),
        "unknown": _("Not stated"),
    },
}


def labeller(gettext: Callable[..., Markup]) -> Callable[[str, str | None], Markup | str]:
    def label(group: str, value: str | None) -> Markup | str:
        if value is None:
            return "—"
        english = LABELS.get(group, {}).get(value)
        return gettext(english) if english is not None else value

    return label
