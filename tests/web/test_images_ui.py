"""Listing photos and registry images on the pages and the API: a real scan's records and
matches shown beside each photo, the image routes' tenancy, and registry image uploads."""

from __future__ import annotations

import hashlib
import io
import re
import struct
import zlib
from html import unescape
from pathlib import Path

import pytest
from PIL import Image
from sqlalchemy import select

from tests.web.conftest import Web
from tests.web.images_world import World, build_world, polygon
from vigil.images.decode import sniff
from vigil.images.pdq import DIHEDRAL
from vigil.services.media import MediaPlaces
from vigil.store.tables import AuditEventRow, BrandRow, ProductRow
from vigil.web.labels import LABELS

ACME_VIEWER, GLOBEX_VIEWER = "viewer@acme.test", "viewer@globex.test"
SHOPMART_VIEWER, OPERATOR = "viewer@shopmart.test", "admin@alliance.test"


@pytest.fixture
def world(web: Web, tmp_path: Path) -> World:
    return build_world(web.store, web.settings.home, tmp_path / "feed")


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def image_bytes(fmt: str = "PNG", size: tuple[int, int] = (64, 48)) -> bytes:
    picture = Image.new("RGB", size, (30, 120, 200))
    for x in range(0, size[0], 8):
        for y in range(size[1]):
            picture.putpixel((x, y), (250, 250, 20))
    buffer = io.BytesIO()
    picture.save(buffer, fmt)
    return buffer.getvalue()


def png_claiming(width: int, height: int) -> bytes:
    """A tiny PNG whose header claims `width` x `height` pixels (a decompression bomb)."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        crc = zlib.crc32(kind + body)
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", crc)

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IEND", b"")


def srcs(html: str) -> list[str]:
    """The images a page shows, but the site's own (its logo)."""
    return [s for s in re.findall(r'<img [^>]*?src="([^"]+)"', html) if "/static/" not in s]


def audit_actions(web: Web, prefix: str) -> list[tuple[str, dict[str, object]]]:
    with web.store.session() as session:
        rows = session.scalars(
            select(AuditEventRow)
            .where(AuditEventRow.action.startswith(prefix))
            .order_by(AuditEventRow.id)
        )
        return [(row.action, dict(row.details or {})) for row in rows]


# The listing page -----------------------------------------------------------------------------


def test_a_reused_official_photo_is_shown_beside_the_photo_it_copies(
    web: Web, world: World
) -> None:
    (signal,) = world.signals(web.store, "copy")
    details = signal.details
    pk = world.pks["copy"]
    client = web.client(ACME_VIEWER)
    page = client.get(f"/listings/{pk}")
    assert page.status_code == 200, page.text
    photo_src = f"/listings/{pk}/images/{details['image_sha256']}"
    asset_src = f"/listings/{pk}/images/{details['asset_sha256']}"
    assert srcs(page.text)[:2] == [photo_src, asset_src]
    match = re.search(r'data-testid="image-match" data-kind="official_image_reuse">(.*?)</figure>',
                      page.text, re.S)  # fmt: skip
    assert match, "the match is shown beside the photo"
    text = unescape(re.sub(r"<[^>]+>", " ", match.group(1)))
    assert "Official photo reused" in text and "mi14.jpg" in text
    assert "Mirrored left to right" in text
    assert f"{details['distance']} of 256 bits (a match is 31 or fewer)" in text
    # The photo's own record: format and size, PDQ quality.
    record = world.records(web.store, "copy")[0]
    assert "JPEG · 480 × 480 pixels" in unescape(page.text)
    assert f'data-testid="quality">{record["quality"]}<' in page.text
    # Both images are served, as the bytes the scan read.
    for src, file in ((photo_src, world.files["flipped"]), (asset_src, world.files["official"])):
        answer = client.get(src)
        assert answer.status_code == 200
        assert answer.content == file.read_bytes()
        assert answer.headers["content-type"] == "image/jpeg"
        assert answer.headers["x-content-type-options"] == "nosniff"
        assert answer.headers["content-disposition"].startswith("inline")
        assert answer.headers["cache-control"].startswith("private")


def test_the_page_speaks_chinese_around_the_scans_own_words(web: Web, world: World) -> None:
    client = web.client(OPERATOR)
    client.cookies.set("vigil_lang", "zh")
    copy = unescape(client.get(f"/listings/{world.pks['copy']}").text)
    assert "官方图片被盗用" in copy and "左右镜像翻转" in copy and "PDQ 距离" in copy
    bad = unescape(client.get(f"/listings/{world.pks['bad']}").text)
    truncated = world.records(web.store, "bad")[1]["error"]
    assert "未使用原因" in bad and truncated in bad  # the label translated, the reason as written
    assert "低于 50：不参与比对" in bad
    assert "Not used" not in bad and "below 50" not in bad


def test_a_logo_match_outlines_the_logo_on_the_photo(web: Web, world: World) -> None:
    (signal,) = world.signals(web.store, "logo")
    pk = world.pks["logo"]
    page = web.client(GLOBEX_VIEWER).get(f"/listings/{pk}")
    assert page.status_code == 200, page.text
    rows = re.findall(r'<li class="photo-row[^"]*" data-testid="photo".*?</li>', page.text, re.S)
    assert len(rows) == 2 and "image-match" not in rows[0], "only the scene matched"
    scene = rows[1]
    assert f'src="/listings/{pk}/images/{signal.details["image_sha256"]}"' in scene
    svg = re.search(r'<svg class="outline" viewBox="0 0 (\d+) (\d+)".*?<polygon class="line" points="([^"]+)"',
                    scene, re.S)  # fmt: skip
    assert svg and (int(svg.group(1)), int(svg.group(2))) == (480, 360)
    drawn = [[float(v) for v in point.split(",")] for point in svg.group(3).split()]
    assert drawn == polygon(signal)
    # The outline is where the logo was pasted (within a few pixels).
    for (x, y), (px, py) in zip(drawn, world.corners, strict=True):
        assert abs(x - px) < 12 and abs(y - py) < 12
    assert (
        "Registered logo in a photo" in scene and "The listing&#39;s text names no brand." in scene
    )
    assert f"/listings/{pk}/images/{signal.details['asset_sha256']}" in scene


def test_unusable_photos_say_why_and_low_quality_ones_are_flagged(web: Web, world: World) -> None:
    page = web.client(OPERATOR).get(f"/listings/{world.pks['bad']}")
    html = unescape(page.text)
    missing, broken, flat, _ = world.records(web.store, "bad")
    errors = re.findall(r'data-testid="image-error">([^<]*)<', html)
    assert errors == [missing["error"], broken["error"]]
    assert html.count('data-testid="no-picture"') == 2  # nothing to show for either
    assert f'data-testid="quality">{flat["quality"]} ' in html and "below 50: not matched" in html
    assert 'data-kind="known_counterfeit_image"' in html and "Photo from a counterfeit case" in html
    # A photo recorded with a digest but never decoded is not kept: its digest answers 404.
    assert web.client(OPERATOR).get(f"/listings/{world.pks['bad']}/images/{broken['sha256']}")\
        .status_code == 404  # fmt: skip


def test_the_api_detail_lists_photos_records_and_matches(web: Web, world: World) -> None:
    pk = world.pks["logo"]
    client = web.api(GLOBEX_VIEWER, scope="read")
    detail = client.get(f"/api/v1/listings/{pk}").json()
    own, scene = detail["images"]
    assert own["ref"] == "pics/own.jpg" and own["matches"] == [] and own["kept"]
    assert scene["format"] == "JPEG" and (scene["width"], scene["height"]) == (480, 360)
    assert scene["quality"] >= 50 and not scene["below_min_quality"]
    (match,) = scene["matches"]
    (signal,) = world.signals(web.store, "logo")
    assert match["kind"] == "logo_match" and match["signal_id"] == signal.id
    assert [list(p) for p in match["outline"]] == polygon(signal)
    assert match["asset_kept"] and match["inliers"] == signal.details["inliers"]
    assert detail["pdq_min_quality"] == 50
    answer = client.get(f"/api/v1/listings/{pk}/images/{match['asset_sha256']}")
    assert answer.status_code == 200 and sniff(answer.content) == "PNG"
    assert answer.headers["content-type"] == "image/png"
    assert sha(answer.content) == match["asset_sha256"]
    again = client.get(
        f"/api/v1/listings/{pk}/images/{match['asset_sha256']}",
        headers={"If-None-Match": answer.headers["etag"]},
    )
    assert again.status_code == 304 and not again.content


# Who may see which image ------------------------------------------------------------------------


def test_another_members_listing_images_are_404(web: Web, world: World) -> None:
    pk = world.pks["copy"]  # Xiaomi's: acme and shopmart see it, globex does not
    digest = world.records(web.store, "copy")[0]["sha256"]
    for path in (f"/listings/{pk}/images/{digest}", f"/api/v1/listings/{pk}/images/{digest}"):
        assert web.client(ACME_VIEWER).get(path).status_code == 200
        assert web.client(SHOPMART_VIEWER).get(path).status_code == 200
        assert web.client(GLOBEX_VIEWER).get(path).status_code == 404
    assert web.api(GLOBEX_VIEWER).get(f"/api/v1/listings/{pk}/images/{digest}").status_code == 404
    anonymous = web.anonymous()
    assert anonymous.get(f"/api/v1/listings/{pk}/images/{digest}").status_code == 401
    assert anonymous.get(f"/listings/{pk}/images/{digest}").status_code == 303


def test_only_digests_the_listing_names_are_served(web: Web, world: World) -> None:
    client = web.client(OPERATOR)  # who may see every listing
    copy = world.pks["copy"]
    scene_digest = world.records(web.store, "logo")[1]["sha256"]
    places = MediaPlaces.for_home(web.settings.home)
    assert places.kept(scene_digest), "the other listing's photo is in the store"
    assert client.get(f"/listings/{world.pks['logo']}/images/{scene_digest}").status_code == 200
    for digest in (scene_digest, "0" * 64, "..%2F..%2Fvigil.sqlite3", "A" * 64, "abc"):
        for prefix in ("", "/api/v1"):
            answer = client.get(f"{prefix}/listings/{copy}/images/{digest}")
            assert answer.status_code == 404, (digest, answer.status_code)
    assert client.get(f"/listings/999999/images/{scene_digest}").status_code == 404


def test_a_tampered_blob_is_not_served(web: Web, world: World) -> None:
    digest = world.records(web.store, "copy")[0]["sha256"]
    places = MediaPlaces.for_home(web.settings.home)
    assert places.blobs is not None
    path = places.blobs.blob_path(digest)
    assert path is not None
    path.write_bytes(b"<html><script>alert(1)</script></html>")
    answer = web.client(OPERATOR).get(f"/listings/{world.pks['copy']}/images/{digest}")
    assert answer.status_code == 404 and "<script>" not in answer.text


# Registry pages -----------------------------------------------------------------------------------


def brand_id(web: Web, name: str) -> int:
    with web.store.session() as session:
        found = session.scalar(select(BrandRow.id).where(BrandRow.name == name))
    assert found is not None
    return found


def product_id(web: Web, model: str) -> int:
    with web.store.session() as session:
        found = session.scalar(select(ProductRow.id).where(ProductRow.model == model))
    assert found is not None
    return found


def test_the_brand_page_shows_its_logos_photos_and_product_photos(web: Web, world: World) -> None:
    xiaomi, apple = brand_id(web, "Xiaomi"), brand_id(web, "Apple")
    acme = web.client("analyst@acme.test")
    page = acme.get(f"/registry/brands/{xiaomi}")
    assert page.status_code == 200, page.text
    case_digest = sha(world.files["case"].read_bytes())
    official_digest = sha(world.files["official"].read_bytes())
    product = product_id(web, "Xiaomi 14")
    assert f"/registry/brands/{xiaomi}/images/{case_digest}" in srcs(page.text)
    assert f"/registry/products/{product}/images/{official_digest}" in srcs(page.text)
    served = acme.get(f"/registry/brands/{xiaomi}/images/{case_digest}")
    assert served.status_code == 200 and served.content == world.files["case"].read_bytes()
    photo = acme.get(f"/registry/products/{product}/images/{official_digest}")
    assert photo.status_code == 200 and photo.headers["content-type"] == "image/jpeg"
    # Apple is globex's: its page and its logo are 404 for acme, as a missing brand is.
    logo_digest = sha(world.files["logo"].read_bytes())
    assert acme.get(f"/registry/brands/{apple}/images/{logo_digest}").status_code == 404
    globex = web.client(GLOBEX_VIEWER)
    assert globex.get(f"/registry/brands/{apple}/images/{logo_digest}").status_code == 200
    # A digest the brand does not list, even one of another file on the server, is 404.
    assert globex.get(f"/registry/brands/{apple}/images/{case_digest}").status_code == 404
    assert acme.get(f"/registry/products/{product}/images/{case_digest}").status_code == 404


def test_uploading_a_logo_through_the_page(web: Web, world: World) -> None:
    apple = brand_id(web, "Apple")
    client = web.client("analyst@globex.test")
    token = web.csrf_of(client)
    sent = image_bytes("JPEG")
    done = client.post(
        f"/registry/brands/{apple}/logos",
        data={"csrf_token": token},
        files={"file": ("logo.jpg", sent, "image/jpeg")},
    )
    assert done.status_code == 303 and done.headers["location"].endswith("done=image_added")
    assets = web.settings.home.resolve() / "assets"
    (stored,) = [p for p in assets.rglob("*.png")]
    data = stored.read_bytes()
    assert sniff(data) == "PNG" and data != sent  # re-encoded, not the upload as sent
    assert stored.name == f"{sha(data)}.png" and stored.parent.name == sha(data)[:2]
    with web.store.session() as session:
        brand = session.get(BrandRow, apple)
        assert brand is not None and brand.entry["logos"][-1] == str(stored)
    ((action, details),) = audit_actions(web, "brand.image")
    assert action == "brand.image.add"
    assert details["image"] == {"field": "logos", "file": str(stored), "sha256": sha(data)}
    page = client.get(done.headers["location"])
    assert f"/registry/brands/{apple}/images/{sha(data)}" in srcs(page.text)
    assert 'data-testid="done"' in page.text
    assert client.get(f"/registry/brands/{apple}/images/{sha(data)}").content == data
    # The same image again changes nothing.
    again = client.post(
        f"/registry/brands/{apple}/logos",
        data={"csrf_token": token},
        files={"file": ("logo.jpg", sent, "image/jpeg")},
    )
    assert again.headers["location"].endswith("done=image_unchanged")
    assert len(audit_actions(web, "brand.image")) == 1
    # Removing it from the brand: audited, the file itself stays.
    removed = client.post(
        f"/registry/brands/{apple}/images/remove",
        data={"csrf_token": token, "field": "logos", "file": str(stored)},
    )
    assert removed.status_code == 303 and removed.headers["location"].endswith("image_removed")
    with web.store.session() as session:
        brand = session.get(BrandRow, apple)
        assert brand is not None and str(stored) not in brand.entry["logos"]
    assert audit_actions(web, "brand.image")[-1][0] == "brand.image.remove"
    assert stored.is_file()
    assert client.get(f"/registry/brands/{apple}/images/{sha(data)}").status_code == 404


@pytest.mark.parametrize(
    ("sent", "english", "chinese"),
    [
        (b"<html>not found</html>", "This file is not an image", "该文件不是权利登记接受的图片"),
        (png_claiming(60_000, 60_000), "too many pixels", "像素过多"),
        (image_bytes("JPEG")[:200], "damaged or cut short", "已损坏或不完整"),
        (b"", "The file is empty", "文件为空"),
    ],
    ids=["html", "bomb", "truncated", "empty"],
)
def test_a_bad_image_is_refused_with_a_clear_message_in_both_languages(
    web: Web, world: World, sent: bytes, english: str, chinese: str
) -> None:
    apple = brand_id(web, "Apple")
    client = web.client("analyst@globex.test")
    for lang, expected in (("en", english), ("zh", chinese)):
        client.cookies.set("vigil_lang", lang)
        answer = client.post(
            f"/registry/brands/{apple}/counterfeit-images",
            data={"csrf_token": web.csrf_of(client)},
            files={"file": ("photo.jpg", sent, "image/jpeg")},
        )
        assert answer.status_code == 400
        error = re.search(r'data-testid="image-error">(.*?)</div>\s*<form', answer.text, re.S)
        assert error and expected in unescape(error.group(1)), answer.text[-3000:]
    assert not (web.settings.home / "assets").exists()
    assert audit_actions(web, "brand.image") == []


def test_uploading_a_product_photo_through_the_page_and_removing_it(web: Web, world: World) -> None:
    product = product_id(web, "Xiaomi 14 Ultra")
    client = web.client("analyst@acme.test")
    token = web.csrf_of(client)
    sent = image_bytes("PNG", (300, 200))
    done = client.post(
        f"/registry/products/{product}/images",
        data={"csrf_token": token},
        files={"file": ("front.png", sent, "image/png")},
    )
    assert done.status_code == 303
    assert done.headers["location"] == f"/registry/products/{product}/edit?done=image_added"
    (stored,) = (web.settings.home / "assets").rglob("*.jpg")
    assert sniff(stored.read_bytes()) == "JPEG"
    page = client.get(done.headers["location"])
    digest = sha(stored.read_bytes())
    assert f"/registry/products/{product}/images/{digest}" in srcs(page.text)
    # The form's address list holds addresses only, and saving it keeps the uploaded file.
    assert str(stored) not in page.text.split('name="images"')[1].split("</textarea>")[0]
    saved = client.post(
        f"/registry/products/{product}/edit",
        data={"csrf_token": token, "model": "Xiaomi 14 Ultra", "images": "https://x.test/a.jpg"},
    )
    assert saved.status_code == 303
    with web.store.session() as session:
        row = session.get(ProductRow, product)
        assert row is not None and row.entry["images"] == [str(stored), "https://x.test/a.jpg"]
    assert [a for a, _ in audit_actions(web, "product.image")] == ["product.image.add"]
    other = web.client("analyst@globex.test")
    refused = other.post(
        f"/registry/products/{product}/images",
        data={"csrf_token": web.csrf_of(other)},
        files={"file": ("front.png", sent, "image/png")},
    )
    assert refused.status_code == 404
    removed = client.post(
        f"/registry/products/{product}/images/remove",
        data={"csrf_token": token, "file": str(stored)},
    )
    assert removed.status_code == 303
    assert [a for a, _ in audit_actions(web, "product.image")][-1] == "product.image.remove"


def test_a_registry_edit_cannot_point_an_entry_at_a_file_on_the_server(
    web: Web, world: World
) -> None:
    apple = brand_id(web, "Apple")
    client = web.client("analyst@globex.test")
    token = web.csrf_of(client)
    secret = web.settings.home / "vigil.sqlite3"
    form = {"csrf_token": token, "name": "Apple", "logos": str(secret)}
    refused = client.post(f"/registry/brands/{apple}/edit", data=form)
    assert refused.status_code == 400 and "not an http(s) address" in refused.text
    api = web.api("analyst@globex.test")
    product = product_id(web, "iPhone 15")
    patched = api.patch(f"/api/v1/products/{product}", json={"images": ["/etc/passwd"]})
    assert patched.status_code == 400 and "upload the image" in patched.json()["detail"]
    created = api.post("/api/v1/brands", json={"name": "Nokia", "counterfeit_images": ["/etc/x"]})
    assert created.status_code == 400
    # Keeping the files it has, and adding addresses, is fine.
    logo = str(world.files["logo"])
    kept = api.patch(f"/api/v1/brands/{apple}", json={"logos": [logo, "https://x.test/l.png"]})
    assert kept.status_code == 200, kept.text


def test_a_registry_file_upload_keeps_the_images_uploaded_before(web: Web, world: World) -> None:
    api = web.api("analyst@globex.test")
    apple = brand_id(web, "Apple")
    added = api.post(
        f"/api/v1/brands/{apple}/logos",
        content=image_bytes(),
        headers={"content-type": "image/png"},
    ).json()
    file = "brands:\n  - name: Apple\n    logos: [https://x.test/apple.png, /etc/logo.png]\n"
    loaded = api.post(
        "/api/v1/registry/upload", content=file, headers={"content-type": "application/yaml"}
    )
    assert loaded.status_code == 200, loaded.text
    assert any("/etc/logo.png" in w for w in loaded.json()["warnings"])
    logos = api.get(f"/api/v1/brands/{apple}").json()["logos"]
    assert logos == [str(world.files["logo"]), added["image"]["file"], "https://x.test/apple.png"]


def test_uploading_images_through_the_api(web: Web, world: World) -> None:
    api = web.api("analyst@acme.test")
    xiaomi = brand_id(web, "Xiaomi")
    sent = image_bytes("PNG")
    answer = api.post(
        f"/api/v1/brands/{xiaomi}/logos", content=sent, headers={"content-type": "image/png"}
    )
    assert answer.status_code == 201, answer.text
    body = answer.json()
    assert body["added"] is True and body["image"]["format"] == "PNG"
    assert body["brand"]["logos"] == [body["image"]["file"]]
    assert sha(Path(body["image"]["file"]).read_bytes()) == body["image"]["sha256"]
    case = api.post(
        f"/api/v1/brands/{xiaomi}/counterfeit-images",
        content=image_bytes("JPEG", (640, 480)),
        headers={"content-type": "image/jpeg"},
    )
    assert case.status_code == 201 and case.json()["image"]["format"] == "JPEG"
    assert case.json()["brand"]["counterfeit_images"][-1] == case.json()["image"]["file"]
    product = product_id(web, "Xiaomi 14")
    photo = api.post(
        f"/api/v1/products/{product}/images",
        content=image_bytes("GIF"),
        headers={"content-type": "application/octet-stream"},
    )
    assert photo.status_code == 201 and photo.json()["product"]["images"][-1].endswith(".jpg")
    actions = [a for a, _ in audit_actions(web, "")]
    assert {"brand.image.add", "product.image.add"} <= set(actions)
    bad = api.post(
        f"/api/v1/products/{product}/images",
        content=b"%PDF-1.4 not a photo",
        headers={"content-type": "image/jpeg"},
    )
    assert bad.status_code == 400 and "PDF images are not accepted" in bad.json()["detail"]
    wrong = api.post(f"/api/v1/products/{product}/images", json={"image": "x"})
    assert wrong.status_code == 415 and "Content-Type" in wrong.json()["detail"]
    read_only = web.api("analyst@acme.test", scope="read")
    assert read_only.post(
        f"/api/v1/brands/{xiaomi}/logos", content=sent, headers={"content-type": "image/png"}
    ).status_code == 403  # fmt: skip
    theirs = brand_id(web, "Apple")
    assert api.post(
        f"/api/v1/brands/{theirs}/logos", content=sent, headers={"content-type": "image/png"}
    ).status_code == 404  # fmt: skip


def test_image_uploads_get_the_upload_limit_not_the_body_limit(web: Web, world: World) -> None:
    big = Image.effect_noise((1100, 1100), 90).convert("RGB")
    buffer = io.BytesIO()
    big.save(buffer, "PNG")
    assert buffer.tell() > web.settings.max_body_bytes
    api = web.api("analyst@acme.test")
    answer = api.post(
        f"/api/v1/brands/{brand_id(web, 'Xiaomi')}/counterfeit-images",
        content=buffer.getvalue(),
        headers={"content-type": "image/png"},
    )
    assert answer.status_code == 201, answer.text[:300]


def test_every_turn_and_flip_has_a_label() -> None:
    assert set(DIHEDRAL) <= set(LABELS["transform"])
