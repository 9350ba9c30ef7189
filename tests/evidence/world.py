"""A case with evidence to capture: acme's case about two flagged listings, one with two photos
the scan kept, one it could not fetch and one no scan has read yet; built on any store."""

from __future__ import annotations

import hashlib
import io
from dataclasses import dataclass
from pathlib import Path

from PIL import Image

from tests.case_factories import CaseWorld, actor, seed_case_world
from vigil.domain.people import Actor
from vigil.evidence.blobs import Storage
from vigil.services import cases
from vigil.services.media import MediaPlaces
from vigil.settings import Settings
from vigil.store.db import Store

ACME = actor("acme")
GLOBEX = actor("globex")


def picture(colour: tuple[int, int, int], fmt: str = "PNG") -> bytes:
    image = Image.new("RGB", (40, 30), colour)
    buffer = io.BytesIO()
    image.save(buffer, fmt)
    return buffer.getvalue()


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@dataclass
class EvidenceWorld:
    store: Store
    settings: Settings
    cases: CaseWorld
    case_id: int
    reference: str
    listings: list[int]
    photos: list[bytes]
    places: MediaPlaces

    @property
    def home(self) -> Path:
        return self.settings.home

    def listing(self, **columns: object) -> int:
        return self.cases.listing("acme", **columns)  # type: ignore[arg-type]


def evidence_world(
    store: Store, home: Path, *, storage: Storage = "home", owner: Actor = ACME
) -> EvidenceWorld:
    """Members and people (tests.case_factories), and acme's case about two listings."""
    home.mkdir(parents=True, exist_ok=True)
    settings = Settings(home=home, evidence_storage=storage)
    world = seed_case_world(store)
    places = MediaPlaces.for_home(home)
    assert places.blobs is not None
    photos = [picture((200, 30, 30)), picture((30, 200, 30), "JPEG")]
    for photo in photos:
        places.blobs.store_blob(photo)
    refs = ["https://shop.example/a.png", "https://shop.example/b.jpg"]
    first = world.listing(
        "acme",
        images=[*refs, "https://shop.example/gone.jpg", "https://shop.example/later.jpg"],
        image_records=[
            {"ref": refs[0], "sha256": sha(photos[0]), "format": "PNG"},
            {"ref": refs[1], "sha256": sha(photos[1]), "format": "JPEG"},
            {"ref": "https://shop.example/gone.jpg", "error": "HTTP 404 Not Found"},
        ],
        signals=[
            {"detector": "wording", "kind": "counterfeit_wording", "weight": 2.5},
            {
                "detector": "price",
                "kind": "price_below_msrp",
                "weight": 1.25,
                "evidence": "0.08",
                "details": {"ratio": 0.08},
            },
        ],
    )
    second = world.listing("acme", seller="shop-2")
    case_id = cases.open_case(
        store, owner, cases.Opening(listing_pks=[first, second]), cases.CaseConfig()
    )
    reference = cases.case_detail(store, owner, case_id).case.reference
    return EvidenceWorld(
        store=store,
        settings=settings,
        cases=world,
        case_id=case_id,
        reference=reference,
        listings=[first, second],
        photos=photos,
        places=places,
    )


def capture_world(store: Store, home: Path, *, storage: Storage = "home") -> EvidenceWorld:
    """`evidence_world` with its evidence captured."""
    from vigil.services.evidence import capture

    world = evidence_world(store, home, storage=storage)
    capture(store, world.settings, ACME, world.case_id, places=world.places)
    return world
