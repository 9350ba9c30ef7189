"""The `brand` detector (stage 0): which registered brand and model a listing is about, the
look-alike names counterfeiters write instead of the real ones, and the lawful uses that look
alike (an accessory "for" a brand, an everyday word that is also a brand name).

Modules: `normalize` (text channels), `catalog` (patterns compiled from the registry), `fuzzy`
(edit-distance search), `context` (nominative and context cues), `matcher` (finding mentions),
`spelling` (which variant a mention writes), `mentions` (what a match found), `assess`
(attribution, role and signals), `explain` (sentences), `config` (brand.yaml).
"""

from vigil.detectors.brand.config import BrandSettings, Variant
from vigil.detectors.brand.detector import BrandDetector
from vigil.detectors.brand.matcher import BrandMatcher

__all__ = ["BrandDetector", "BrandMatcher", "BrandSettings", "Variant"]
