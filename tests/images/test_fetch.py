"""ImageFetcher against a local server that misbehaves in every way a marketplace CDN can."""

from __future__ import annotations

import hashlib
import pickle
import socket
import threading
from pathlib import Path
from typing import Any

import pytest

from tests.images.conftest import ImageServer, Route, jpeg, png
from vigil.errors import VigilError
from vigil.images import fetch as fetch_module
from vigil.images.fetch import Fetched, ImageFetcher

GOOD = jpeg(80, 60)
HTML = b"<!DOCTYPE html><html><head><title>Not found</title></head><body>gone</body></html>"


def local_fetcher(**options: Any) -> ImageFetcher:
    """A fetcher allowed to reach the test server, with timeouts small enough to hit."""
    settings: dict[str, Any] = {
        "connect_timeout": 2.0,
        "read_timeout": 0.3,
        "block_private": False,
    }
    settings.update(options)
    return ImageFetcher(**settings)


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


# -- good answers ---------------------------------------------------------------------------


def test_a_jpeg_is_fetched_with_its_sha256(image_server: ImageServer) -> None:
    url = image_server.add("/good.jpg", Route(GOOD))
    result = local_fetcher().fetch(url)
    assert result == Fetched(url, GOOD, sha(GOOD), None)


def test_a_png_with_parameters_in_its_content_type_is_fetched(image_server: ImageServer) -> None:
    body = png()
    url = image_server.add("/good.png", Route(body, content_type="image/png; charset=binary"))
    assert local_fetcher().fetch(url).data == body


@pytest.mark.parametrize("content_type", [None, "application/octet-stream"])
def test_an_unlabelled_image_is_taken_on_its_magic_bytes(
    image_server: ImageServer, content_type: str | None
) -> None:
    url = image_server.add("/blob", Route(GOOD, content_type=content_type))
    assert local_fetcher().fetch(url).data == GOOD


# -- wrong content ----------------------------------------------------------------------------


def test_a_page_served_as_html_is_refused_by_its_content_type(image_server: ImageServer) -> None:
    url = image_server.add("/page", Route(HTML, content_type="text/html; charset=utf-8"))
    result = local_fetcher().fetch(url)
    assert result.data is None and result.sha256 is None
    assert (
        result.error == f"{url} is served as text/html, not as an image; link to the image itself"
    )


def test_html_served_as_image_jpeg_is_refused_by_its_magic_bytes(image_server: ImageServer) -> None:
    url = image_server.add("/fake.jpg", Route(HTML, content_type="image/jpeg"))
    result = local_fetcher().fetch(url)
    assert result.error == (
        f"{url} (served as image/jpeg): not an image: starts like HTML; "
        "supply a JPEG, PNG, GIF, WebP or BMP image"
    )


def test_an_unlabelled_body_that_is_not_an_image_is_refused(image_server: ImageServer) -> None:
    url = image_server.add("/blob", Route(b"%PDF-1.7\n...", content_type=None))
    result = local_fetcher().fetch(url)
    assert result.error == (
        f"{url} (served as no content type): PDF images are not accepted; "
        "convert it to JPEG, PNG, GIF, WebP or BMP"
    )


# -- HTTP errors and broken connections ---------------------------------------------------------


@pytest.mark.parametrize("status", [404, 500])
def test_an_error_status_is_reported_with_its_code(image_server: ImageServer, status: int) -> None:
    url = image_server.add("/gone.jpg", Route(HTML, status=status, content_type="text/html"))
    result = local_fetcher().fetch(url)
    assert result.error == f"HTTP {status} from {url}; check that the link still works"


def test_a_server_slow_to_answer_times_out(image_server: ImageServer) -> None:
    url = image_server.add("/slow.jpg", Route(GOOD, wait_before_headers=True))
    result = local_fetcher().fetch(url)
    assert result.error == f"timed out after 0.3 s reading {url}; try again later"


def test_a_body_that_stalls_halfway_times_out(image_server: ImageServer) -> None:
    url = image_server.add("/stall.jpg", Route(GOOD, wait_after_bytes=100))
    result = local_fetcher().fetch(url)
    assert result.error == f"timed out after 0.3 s reading {url}; try again later"


def test_a_body_shorter_than_its_content_length_is_reported_cut_short(
    image_server: ImageServer,
) -> None:
    url = image_server.add("/short.jpg", Route(GOOD[:1000], content_length=len(GOOD)))
    result = local_fetcher().fetch(url)
    assert result.error == (
        f"download of {url} was cut short after 1,000 of {len(GOOD):,} bytes; try again later"
    )


def test_a_closed_port_is_reported_as_unreachable() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    url = f"http://127.0.0.1:{port}/x.jpg"
    result = local_fetcher().fetch(url)
    assert result.error == f"cannot connect to {url}; the server may be down, try again later"


# -- size cap --------------------------------------------------------------------------------


def test_a_declared_length_over_the_cap_is_refused(image_server: ImageServer) -> None:
    url = image_server.add("/big.jpg", Route(jpeg(300, 300)))
    result = local_fetcher(max_bytes=1000).fetch(url)
    size = len(jpeg(300, 300))
    assert result.error == (
        f"{url} is {size:,} bytes, over the limit of 1,000 bytes; use a smaller image"
    )


def test_an_undeclared_body_over_the_cap_is_stopped_while_streaming(
    image_server: ImageServer,
) -> None:
    url = image_server.add("/big.jpg", Route(jpeg(300, 300), content_length="omit"))
    result = local_fetcher(max_bytes=1000).fetch(url)
    assert result.error == f"{url} is larger than the limit of 1,000 bytes; use a smaller image"


def test_a_content_length_that_understates_the_body_bounds_what_is_read(
    image_server: ImageServer,
) -> None:
    body = jpeg(300, 300)
    url = image_server.add("/liar.jpg", Route(body, content_length=800))
    result = local_fetcher(max_bytes=1000).fetch(url)
    assert result.error is None
    assert result.data == body[:800]


# -- redirects ------------------------------------------------------------------------------


def test_a_redirect_chain_within_the_limit_is_followed(image_server: ImageServer) -> None:
    image_server.add("/final.jpg", Route(GOOD))
    image_server.redirect("/hop2", "/final.jpg", status=301)
    image_server.redirect("/hop1", image_server.url("/hop2"), status=307)
    start = image_server.redirect("/start", "hop1")
    result = local_fetcher(max_redirects=3).fetch(start)
    assert result.ref == start
    assert result.data == GOOD


def test_too_many_redirects_are_refused(image_server: ImageServer) -> None:
    image_server.add("/final.jpg", Route(GOOD))
    for hop in range(4):
        image_server.redirect(f"/loop{hop}", f"/loop{hop + 1}")
    image_server.redirect("/loop4", "/final.jpg")
    start = image_server.url("/loop0")
    result = local_fetcher(max_redirects=3).fetch(start)
    assert result.error == (
        f"too many redirects: {start} redirects more than 3 times; link to the image itself"
    )
    assert image_server.hits["/final.jpg"] == 0


@pytest.mark.parametrize(
    "location", ["file:///etc/passwd", "ftp://files.example/a.jpg", "gopher://old.example/1"]
)
def test_a_redirect_out_of_http_is_refused(image_server: ImageServer, location: str) -> None:
    url = image_server.redirect("/escape", location)
    result = local_fetcher().fetch(url)
    assert result.error == (
        f"redirect from {url} to {location} refused: only http and https links are followed"
    )


def test_a_redirect_without_a_location_is_refused(image_server: ImageServer) -> None:
    url = image_server.add("/nowhere", Route(status=302, content_type=None))
    result = local_fetcher().fetch(url)
    assert result.error == f"HTTP 302 from {url} names no new location; link to the image itself"


# -- private networks -------------------------------------------------------------------------


def test_by_default_loopback_addresses_are_refused(image_server: ImageServer) -> None:
    url = image_server.add("/good.jpg", Route(GOOD))
    result = ImageFetcher().fetch(url)
    assert result.error == (
        f"refused {url}: 127.0.0.1 resolves to 127.0.0.1, a loopback address, and private "
        "networks are never fetched (a guard against request forgery); "
        "use a public link or a file path"
    )
    assert image_server.hits["/good.jpg"] == 0


def test_by_default_localhost_is_refused(image_server: ImageServer) -> None:
    image_server.add("/good.jpg", Route(GOOD))
    url = f"http://localhost:{image_server.port}/good.jpg"
    result = ImageFetcher().fetch(url)
    assert result.error is not None
    assert result.error.startswith(f"refused {url}: localhost resolves to ")
    assert ", a loopback address, and private networks are never fetched" in result.error
    assert image_server.hits["/good.jpg"] == 0


def test_with_the_guard_off_loopback_is_fetched(image_server: ImageServer) -> None:
    url = image_server.add("/good.jpg", Route(GOOD))
    assert ImageFetcher(block_private=False).fetch(url).data == GOOD


def test_a_resolver_that_hangs_is_given_up_on(monkeypatch: pytest.MonkeyPatch) -> None:
    release = threading.Event()

    def hanging(*args: Any, **kwargs: Any) -> Any:
        release.wait(10)
        raise socket.gaierror(socket.EAI_AGAIN, "Temporary failure in name resolution")

    monkeypatch.setattr(socket, "getaddrinfo", hanging)
    for guard in (True, False):
        got = ImageFetcher(connect_timeout=0.2, block_private=guard).fetch(
            "http://slow.example/a.jpg"
        )
        assert got.error == (
            "cannot resolve host slow.example of http://slow.example/a.jpg within 0.2 s; "
            "check the link or the name server"
        )
    release.set()


def resolve_as(monkeypatch: pytest.MonkeyPatch, names: dict[str, list[str]]) -> None:
    """Make the guard see `names` resolve to the given addresses, and take 127.0.0.1 as public.

    Any other lookup of those names (urllib3's own, say) gets 127.0.0.2, where nothing listens:
    a fetch only works if it connects to the address the guard checked.
    """
    real_getaddrinfo = socket.getaddrinfo
    real_kind = fetch_module._blocked_kind
    real_resolve = fetch_module._resolve

    def guard_resolve(host: str, port: int, timeout: float) -> list[str]:
        if host in names:
            return names[host]
        if host.endswith(".invalid"):
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return real_resolve(host, port, timeout)  # IP literals, answered without a lookup

    def other_getaddrinfo(host: Any, port: Any, *args: Any, **kwargs: Any) -> Any:
        if host in names:
            return real_getaddrinfo("127.0.0.2", port, *args, **kwargs)
        return real_getaddrinfo(host, port, *args, **kwargs)

    monkeypatch.setattr(fetch_module, "_resolve", guard_resolve)
    monkeypatch.setattr(socket, "getaddrinfo", other_getaddrinfo)
    monkeypatch.setattr(
        fetch_module,
        "_blocked_kind",
        lambda address: None if str(address) == "127.0.0.1" else real_kind(address),
    )


def test_the_guard_connects_to_the_address_it_checked(
    image_server: ImageServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The server still sees the name in the Host header.
    resolve_as(monkeypatch, {"images.example": ["127.0.0.1"]})
    image_server.add("/good.jpg", Route(GOOD))
    url = f"http://images.example:{image_server.port}/good.jpg"
    assert ImageFetcher().fetch(url).data == GOOD
    assert image_server.host_headers == [f"images.example:{image_server.port}"]


def test_a_name_with_any_private_address_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    resolve_as(monkeypatch, {"mixed.example": ["8.8.8.8", "10.1.2.3"]})
    result = ImageFetcher().fetch("http://mixed.example/a.jpg")
    assert result.error is not None
    assert result.error.startswith(
        "refused http://mixed.example/a.jpg: mixed.example resolves to 10.1.2.3, a private address"
    )


def test_every_redirect_hop_passes_the_guard(
    image_server: ImageServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    resolve_as(monkeypatch, {"images.example": ["127.0.0.1"]})
    image_server.redirect("/hop", "http://169.254.169.254/latest/meta-data/")
    result = ImageFetcher().fetch(f"http://images.example:{image_server.port}/hop")
    assert result.error is not None
    assert result.error.startswith(
        "refused http://169.254.169.254/latest/meta-data/: 169.254.169.254 resolves to "
        "169.254.169.254, a link-local address"
    )
    assert image_server.hits["/hop"] == 1


def test_an_unknown_host_is_reported(monkeypatch: pytest.MonkeyPatch) -> None:
    resolve_as(monkeypatch, {})
    result = ImageFetcher().fetch("https://nowhere.invalid/a.jpg")
    assert result.error is not None
    assert result.error.startswith(
        "cannot resolve host nowhere.invalid of https://nowhere.invalid/a.jpg; check the link"
    )


# -- references that are not http(s) ----------------------------------------------------------


@pytest.mark.parametrize(
    ("ref", "reason"),
    [
        ("  ", "empty image reference; give a file path or an http(s) URL"),
        (
            "file:///etc/passwd",
            "file: links are not fetched (file:///etc/passwd); give an http(s) URL or a file path",
        ),
        (
            "ftp://files.example/a.jpg",
            "ftp: links are not fetched (ftp://files.example/a.jpg); give an http(s) URL or a file path",
        ),
        (
            "data:image/png;base64,iVBORw0KGgo=",
            "data: links are not fetched (data:image/png;base64,iVBORw0KGgo=); give an http(s) URL or a file path",
        ),
    ],
)
def test_other_schemes_are_refused(ref: str, reason: str) -> None:
    assert ImageFetcher().fetch(ref) == Fetched(ref, None, None, reason)


# -- local files ----------------------------------------------------------------------------


def test_local_files_are_read_by_absolute_path_or_relative_to_base(tmp_path: Path) -> None:
    (tmp_path / "images").mkdir()
    (tmp_path / "images" / "a.jpg").write_bytes(GOOD)
    fetcher = ImageFetcher()
    assert fetcher.fetch(str(tmp_path / "images" / "a.jpg")).data == GOOD
    relative = fetcher.fetch("images/a.jpg", tmp_path)
    assert relative == Fetched("images/a.jpg", GOOD, sha(GOOD), None)


@pytest.mark.parametrize(
    ("ref", "reason"),
    [
        (
            "images/a.jpg",
            "relative path images/a.jpg has no folder to be read from; "
            "use an absolute path or an http(s) URL",
        ),
    ],
)
def test_a_relative_path_without_a_base_is_refused(ref: str, reason: str) -> None:
    assert ImageFetcher().fetch(ref).error == reason


def test_missing_files_folders_and_non_images_are_refused(tmp_path: Path) -> None:
    (tmp_path / "page.jpg").write_bytes(HTML)
    (tmp_path / "empty.jpg").write_bytes(b"")
    (tmp_path / "images").mkdir()
    fetcher = ImageFetcher()
    refs = ["nope.jpg", "images", "page.jpg", "empty.jpg"]
    results = {ref: fetcher.fetch(ref, tmp_path).error for ref in refs}
    assert results == {
        "nope.jpg": f"file not found: {tmp_path / 'nope.jpg'}; check the path",
        "images": f"{tmp_path / 'images'} is a folder, not an image file; name a file inside it",
        "page.jpg": f"{tmp_path / 'page.jpg'}: not an image: starts like HTML; supply a JPEG, PNG, GIF, WebP or BMP image",
        "empty.jpg": f"{tmp_path / 'empty.jpg'}: empty file (0 bytes); supply a JPEG, PNG, GIF, WebP or BMP image",
    }


def test_a_50_mb_file_is_refused_without_being_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    huge = tmp_path / "huge.jpg"
    with huge.open("wb") as out:
        out.write(b"\xff\xd8\xff\xe0")
        out.truncate(50 << 20)  # sparse: 50 MB on paper, almost nothing on disk
    opened: list[Path] = []
    real_open = Path.open

    def spying_open(self: Path, *args: Any, **kwargs: Any) -> Any:
        opened.append(self)
        return real_open(self, *args, **kwargs)

    monkeypatch.setattr(Path, "open", spying_open)
    result = ImageFetcher().fetch(str(huge))
    assert result.error == (
        f"{huge} is 52,428,800 bytes, over the limit of 20,971,520 bytes; use a smaller image"
    )
    assert opened == []


# -- cache ----------------------------------------------------------------------------------


def test_a_cached_url_is_served_without_the_network(
    image_server: ImageServer, tmp_path: Path
) -> None:
    url = image_server.add("/good.jpg", Route(GOOD))
    fetcher = local_fetcher(cache_dir=tmp_path)
    first = fetcher.fetch(url)
    second = local_fetcher(cache_dir=tmp_path).fetch(url)  # a fresh fetcher, same folder
    assert image_server.hits["/good.jpg"] == 1
    assert first == second == Fetched(url, GOOD, sha(GOOD), None)
    blob = fetcher.blob_path(sha(GOOD))
    assert blob == tmp_path / "blobs" / sha(GOOD)[:2] / sha(GOOD)
    assert sha(blob.read_bytes()) == sha(GOOD)
    record = tmp_path / "urls" / sha(url.encode())[:2] / sha(url.encode())
    assert record.read_text() == sha(GOOD)
    assert not list(tmp_path.rglob(".partial-*"))


def test_failed_fetches_are_not_cached(image_server: ImageServer, tmp_path: Path) -> None:
    url = image_server.add("/gone.jpg", Route(status=404, content_type="text/html"))
    fetcher = local_fetcher(cache_dir=tmp_path)
    assert fetcher.fetch(url).error == fetcher.fetch(url).error is not None
    assert image_server.hits["/gone.jpg"] == 2
    assert not (tmp_path / "urls").exists()


def test_a_damaged_blob_is_fetched_again(image_server: ImageServer, tmp_path: Path) -> None:
    url = image_server.add("/good.jpg", Route(GOOD))
    fetcher = local_fetcher(cache_dir=tmp_path)
    fetcher.fetch(url)
    blob = fetcher.blob_path(sha(GOOD))
    assert blob is not None
    blob.write_bytes(b"damaged")
    assert fetcher.fetch(url).data == GOOD
    assert image_server.hits["/good.jpg"] == 2


def test_store_blob_is_content_addressed(tmp_path: Path) -> None:
    fetcher = ImageFetcher(tmp_path)
    digest = fetcher.store_blob(GOOD)
    assert digest == sha(GOOD)
    assert fetcher.store_blob(GOOD) == digest
    stored = fetcher.blob_path(digest)
    assert stored is not None and stored.read_bytes() == GOOD
    assert fetcher.blob_path(sha(b"never stored")) is None
    assert fetcher.blob_path("../../etc/passwd") is None


def test_store_blob_without_a_cache_folder_says_so() -> None:
    with pytest.raises(VigilError, match="has no cache folder; create it with cache_dir"):
        ImageFetcher().store_blob(GOOD)
    assert ImageFetcher().blob_path(sha(GOOD)) is None


# -- pickling and batches -----------------------------------------------------------------------


def test_a_used_fetcher_pickles_and_still_fetches(
    image_server: ImageServer, tmp_path: Path
) -> None:
    url = image_server.add("/good.jpg", Route(GOOD))
    other = image_server.add("/other.png", Route(png(), content_type="image/png"))
    fetcher = local_fetcher(cache_dir=tmp_path, max_bytes=123_456, concurrency=3)
    fetcher.fetch(url)
    copy = pickle.loads(pickle.dumps(fetcher))
    assert (copy.cache_dir, copy.max_bytes, copy.concurrency, copy.read_timeout) == (
        tmp_path,
        123_456,
        3,
        0.3,
    )
    assert copy.fetch(other).data == png()
    assert copy.fetch(url).data == GOOD
    assert image_server.hits["/good.jpg"] == 1


def test_fetch_many_keeps_order_and_reports_each_failure(
    image_server: ImageServer, tmp_path: Path
) -> None:
    (tmp_path / "local.jpg").write_bytes(GOOD)
    good = image_server.add("/good.jpg", Route(GOOD))
    gone = image_server.add("/gone.jpg", Route(status=404, content_type="text/html"))
    slow = image_server.add("/slow.jpg", Route(GOOD, wait_before_headers=True))
    refs: list[tuple[str, Path | None]] = [
        (slow, None),
        (good, None),
        ("local.jpg", tmp_path),
        (gone, None),
        ("local.jpg", None),
        ("missing.jpg", tmp_path),
    ]
    results = local_fetcher(concurrency=3).fetch_many(refs)
    assert [result.ref for result in results] == [ref for ref, _ in refs]
    assert [result.data == GOOD for result in results] == [False, True, True, False, False, False]
    errors = [result.error or "" for result in results]
    assert errors[0].startswith("timed out after 0.3 s reading")
    assert errors[3].startswith("HTTP 404 from")
    assert errors[4].startswith("relative path local.jpg has no folder")
    assert errors[5].startswith("file not found:")


def test_fetch_many_never_runs_more_than_concurrency_at_once(image_server: ImageServer) -> None:
    urls = [image_server.add(f"/{n}.jpg", Route(GOOD, pause=0.05)) for n in range(8)]
    results = local_fetcher(concurrency=2).fetch_many([(url, None) for url in urls])
    assert all(result.data == GOOD for result in results)
    assert 1 <= image_server.most_in_flight <= 2
