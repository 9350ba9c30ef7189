"""Getting the bytes of listing and registry images from files or the web, or a reason why not.

A reference is an absolute path, a path relative to the folder of the file that names it, or an
http(s) URL. The fetcher only makes sure the bytes are small enough and start like an accepted
image (`decode.sniff`); decoding them is `decode_image`'s job.

- urllib3 gives us a pool, separate connect and read timeouts and a body we can stop reading;
  its retries and redirects are off and redirects are followed here, so that every hop is checked
  like the first: http(s) only, a bounded number of hops, the private-network guard.
- The guard (`block_private`, on by default) keeps a listing from making us request addresses
  behind our own firewall (server-side request forgery). Every address the host resolves to must
  be public, and the request then goes to the checked address, with the name in the Host header
  and the TLS handshake, so a DNS answer that changes after the check cannot slip through.
- A body must be labelled image/* (or carry no useful label) and also start like an image: an
  HTML error page served as image/jpeg is refused. The size cap is checked on Content-Length and
  again while streaming, since that header can be absent or wrong.
- Downloads are cached by content: `blobs/<sha[:2]>/<sha>` holds the bytes, `urls/<h[:2]>/<h>`
  (h = sha256 of the URL) names the blob a URL gave, so a second scan stays off the network.
  Files are written under a temporary name and renamed into place, so no reader sees half of
  one. Local files are not copied into the cache: they are on disk already.
- The fetcher pickles for process pools (the connection pool is made lazily and not pickled);
  `fetch_many` uses threads, the work being waits on sockets and disks.
"""

from __future__ import annotations

import hashlib
import ipaddress
import re
import socket
import stat
import threading
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urljoin

import urllib3
from urllib3.exceptions import (
    ConnectTimeoutError,
    HTTPError,
    LocationParseError,
    NameResolutionError,
    NewConnectionError,
    ProtocolError,
    ReadTimeoutError,
    SSLError,
)

from vigil.errors import VigilError
from vigil.files import write_atomic
from vigil.images.decode import sniff, why_not_image

_URL_SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]+)://|^(data|javascript|mailto):", re.ASCII)
_SHA256 = re.compile(r"[0-9a-f]{64}")
_REDIRECTS = {301, 302, 303, 307, 308}
_UNLABELLED = {"", "application/octet-stream", "binary/octet-stream"}
_CHUNK = 64 * 1024
_HEADERS = {"User-Agent": "vigil-image-fetcher/0.1", "Accept": "image/*"}


@dataclass(frozen=True, slots=True)
class Fetched:
    """The outcome of fetching one reference: bytes and their sha256, or why there are none."""

    ref: str
    data: bytes | None
    sha256: str | None
    error: str | None


class _Refused(Exception):
    """Internal: a fetch ended with `reason`."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class ImageFetcher:
    """Fetches image bytes from paths and http(s) URLs under size, time and network limits."""

    def __init__(
        self,
        cache_dir: Path | None = None,
        *,
        connect_timeout: float = 5.0,
        read_timeout: float = 10.0,
        max_bytes: int = 20 << 20,
        concurrency: int = 8,
        max_redirects: int = 3,
        block_private: bool = True,
    ) -> None:
        self.cache_dir = cache_dir
        self.connect_timeout = connect_timeout
        self.read_timeout = read_timeout
        self.max_bytes = max_bytes
        self.concurrency = max(1, concurrency)
        self.max_redirects = max_redirects
        self.block_private = block_private
        self._pool: urllib3.PoolManager | None = None
        self._pool_lock = threading.Lock()

    def __getstate__(self) -> dict[str, Any]:
        state = self.__dict__.copy()
        state["_pool"] = None
        del state["_pool_lock"]
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._pool_lock = threading.Lock()

    # -- public API -------------------------------------------------------------------------

    def fetch(self, ref: str, base: Path | None = None) -> Fetched:
        """The bytes `ref` names; `base` is the folder relative paths are read from."""
        text = ref.strip()
        try:
            if not text:
                raise _Refused("empty image reference; give a file path or an http(s) URL")
            scheme = _scheme(text)
            if scheme in ("http", "https"):
                return self._fetch_url(ref, text)
            if scheme is not None:
                raise _Refused(
                    f"{scheme}: links are not fetched ({text}); give an http(s) URL or a file path"
                )
            data = self._read_file(text, base)
        except _Refused as refused:
            return Fetched(ref, None, None, refused.reason)
        except VigilError:
            raise  # the cache folder is unusable: a problem of the setup, not of this ref
        except Exception as exc:  # a bug of ours must not sink a whole batch of listings
            return Fetched(ref, None, None, f"unexpected error fetching {text}: {exc!r}")
        return Fetched(ref, data, hashlib.sha256(data).hexdigest(), None)

    def fetch_many(self, refs: Sequence[tuple[str, Path | None]]) -> list[Fetched]:
        """`fetch` for each (ref, base), at most `concurrency` at a time, in the order given."""
        items = list(refs)
        # Threads pay off only for waiting on the network; files are read in turn.
        downloads = sum(_scheme(ref.strip()) in ("http", "https") for ref, _ in items)
        if downloads <= 1 or self.concurrency == 1:
            return [self.fetch(ref, base) for ref, base in items]
        workers = min(self.concurrency, len(items))
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="vigil-fetch") as pool:
            return list(pool.map(lambda item: self.fetch(*item), items))

    def blob_path(self, sha256: str) -> Path | None:
        """Where the cache keeps the bytes with this sha256, None when it does not have them."""
        if self.cache_dir is None or not _SHA256.fullmatch(sha256):
            return None
        path = self._blob_location(sha256)
        return path if path.is_file() else None

    def store_blob(self, data: bytes) -> str:
        """Put `data` in the content-addressed cache (atomically) and return its sha256."""
        sha = hashlib.sha256(data).hexdigest()
        path = self._blob_location(sha)
        if not path.is_file():
            self._write_atomic(path, data)
        return sha

    # -- local files --------------------------------------------------------------------------

    def _read_file(self, text: str, base: Path | None) -> bytes:
        path = Path(text)
        if not path.is_absolute():
            if base is None:
                raise _Refused(
                    f"relative path {text} has no folder to be read from; "
                    "use an absolute path or an http(s) URL"
                )
            path = base / path
        try:
            info = path.stat()
        except FileNotFoundError:
            raise _Refused(f"file not found: {path}; check the path") from None
        except OSError as exc:
            raise _Refused(f"cannot read {path}: {exc.strerror}") from None
        if stat.S_ISDIR(info.st_mode):
            raise _Refused(f"{path} is a folder, not an image file; name a file inside it")
        if not stat.S_ISREG(info.st_mode):
            raise _Refused(f"{path} is not a regular file; name an image file")
        if info.st_size > self.max_bytes:
            raise _Refused(self._too_big(str(path), info.st_size))
        try:
            with path.open("rb") as handle:
                # One byte past the cap tells a file that grew since stat() from one that fits.
                data = handle.read(self.max_bytes + 1)
        except OSError as exc:
            raise _Refused(f"cannot read {path}: {exc.strerror}") from None
        if len(data) > self.max_bytes:
            raise _Refused(self._too_big(str(path), None))
        if sniff(data) is None:
            raise _Refused(f"{path}: {why_not_image(data)}")
        return data

    # -- URLs ------------------------------------------------------------------------------

    def _fetch_url(self, ref: str, url: str) -> Fetched:
        cached = self._cached(url)
        if cached is not None:
            return Fetched(ref, cached[0], cached[1], None)
        data = self._download(url)
        sha = hashlib.sha256(data).hexdigest()
        if self.cache_dir is not None:
            self.store_blob(data)
            self._write_atomic(self._url_record(url), sha.encode("ascii"))
        return Fetched(ref, data, sha, None)

    def _download(self, url: str) -> bytes:
        current = url
        for _hop in range(self.max_redirects + 1):
            try:
                response = self._request(current)
            except HTTPError as exc:
                raise _Refused(self._network_reason(exc, current)) from None
            complete = False
            try:
                if response.status not in _REDIRECTS:
                    data = self._read_body(current, response)
                    complete = True
                    return data
                current = self._redirect_target(current, response)
            except HTTPError as exc:
                raise _Refused(self._network_reason(exc, current)) from None
            finally:
                if not complete:
                    # An unread body is not worth draining: drop the connection instead.
                    response.close()
                response.release_conn()
        raise _Refused(
            f"too many redirects: {url} redirects more than {self.max_redirects} times; "
            "link to the image itself"
        )

    @staticmethod
    def _redirect_target(url: str, response: urllib3.BaseHTTPResponse) -> str:
        location = response.headers.get("Location")
        if not location:
            raise _Refused(
                f"HTTP {response.status} from {url} names no new location; link to the image itself"
            )
        target = urljoin(url, location)
        if _scheme(target) not in ("http", "https"):
            raise _Refused(
                f"redirect from {url} to {target} refused: only http and https links are followed"
            )
        return target

    def _request(self, url: str) -> urllib3.BaseHTTPResponse:
        parts = urllib3.util.parse_url(url)
        if not parts.host:
            raise _Refused(f"{url} names no host; check the link")
        scheme = parts.scheme or "http"
        port = parts.port or (443 if scheme == "https" else 80)
        pool = self._pool_manager()
        timeout = urllib3.Timeout(connect=self.connect_timeout, read=self.read_timeout)
        options: dict[str, Any] = {"retries": False, "redirect": False, "preload_content": False}
        # Resolved here, within the connect timeout (the system resolver has none of its own
        # and can hang a scan for minutes), and checked when private networks are refused.
        address = _public_address(
            url, parts.host.strip("[]"), port, self.connect_timeout, check=self.block_private
        )
        # Connect to the address just checked; the name still goes in Host and in the TLS
        # handshake (SNI and certificate check).
        pool_kwargs = (
            {"server_hostname": parts.host, "assert_hostname": parts.host}
            if scheme == "https"
            else None
        )
        connection = pool.connection_from_host(address, port, scheme, pool_kwargs=pool_kwargs)
        headers = {**_HEADERS, "Host": parts.netloc or parts.host}
        return connection.urlopen(
            "GET", parts.request_uri, headers=headers, timeout=timeout, **options
        )

    def _read_body(self, url: str, response: urllib3.BaseHTTPResponse) -> bytes:
        if response.status >= 400:
            raise _Refused(f"HTTP {response.status} from {url}; check that the link still works")
        if not 200 <= response.status < 300:
            raise _Refused(f"HTTP {response.status} from {url} carries no image; check the link")
        content_type = response.headers.get("Content-Type", "").split(";")[0].strip().lower()
        if not content_type.startswith("image/") and content_type not in _UNLABELLED:
            raise _Refused(
                f"{url} is served as {content_type}, not as an image; link to the image itself"
            )
        declared = response.headers.get("Content-Length", "").strip()
        if declared.isdigit() and int(declared) > self.max_bytes:
            raise _Refused(self._too_big(url, int(declared)))
        chunks: list[bytes] = []
        received = 0
        try:
            for chunk in response.stream(_CHUNK):
                received += len(chunk)
                if received > self.max_bytes:
                    raise _Refused(self._too_big(url, None))
                chunks.append(chunk)
        except ProtocolError:
            # urllib3 drops the partial chunk it raises on; the response still counts it.
            received = max(received, response.tell())
            expected = f" of {int(declared):,}" if declared.isdigit() else ""
            raise _Refused(
                f"download of {url} was cut short after {received:,}{expected} bytes; "
                "try again later"
            ) from None
        data = b"".join(chunks)
        if sniff(data) is None:
            label = content_type or "no content type"
            raise _Refused(f"{url} (served as {label}): {why_not_image(data)}")
        return data

    def _network_reason(self, exc: HTTPError, url: str) -> str:
        if isinstance(exc, NameResolutionError):
            host = urllib3.util.parse_url(url).host
            return f"cannot resolve host {host} of {url}; check the link"
        if isinstance(exc, NewConnectionError):
            return f"cannot connect to {url}; the server may be down, try again later"
        if isinstance(exc, ConnectTimeoutError):
            return (
                f"timed out after {self.connect_timeout:g} s connecting to {url}; try again later"
            )
        if isinstance(exc, ReadTimeoutError):
            return f"timed out after {self.read_timeout:g} s reading {url}; try again later"
        if isinstance(exc, SSLError):
            return f"TLS error with {url}: {exc}; the site's certificate is not trusted"
        if isinstance(exc, LocationParseError):
            return f"malformed link {url}; check it"
        return f"download of {url} failed: {exc}; try again later"

    def _pool_manager(self) -> urllib3.PoolManager:
        with self._pool_lock:
            if self._pool is None:
                self._pool = urllib3.PoolManager(
                    num_pools=max(10, 2 * self.concurrency), maxsize=self.concurrency
                )
            return self._pool

    def _too_big(self, source: str, size: int | None) -> str:
        """The reason for a body over the cap, of a known size or found while reading."""
        known = "larger than" if size is None else f"{size:,} bytes, over"
        return f"{source} is {known} the limit of {self.max_bytes:,} bytes; use a smaller image"

    # -- cache ----------------------------------------------------------------------------

    def _cached(self, url: str) -> tuple[bytes, str] | None:
        if self.cache_dir is None:
            return None
        try:
            sha = self._url_record(url).read_text(encoding="ascii").strip()
            blob = self.blob_path(sha)
            data = blob.read_bytes() if blob is not None else None
        except (OSError, UnicodeDecodeError):
            return None
        # A missing blob, or one damaged on disk, is fetched again rather than served.
        if data is None or hashlib.sha256(data).hexdigest() != sha:
            return None
        return data, sha

    def _blob_location(self, sha: str) -> Path:
        if self.cache_dir is None:
            raise VigilError(
                "this image fetcher has no cache folder; create it with cache_dir to store images"
            )
        return self.cache_dir / "blobs" / sha[:2] / sha

    def _url_record(self, url: str) -> Path:
        assert self.cache_dir is not None
        key = hashlib.sha256(url.encode("utf-8")).hexdigest()
        return self.cache_dir / "urls" / key[:2] / key

    def _write_atomic(self, path: Path, data: bytes) -> None:
        write_atomic(path, data, what="the image cache")


def _scheme(text: str) -> str | None:
    """The lower-cased URL scheme `text` starts with, None for a plain path."""
    match = _URL_SCHEME.match(text)
    if match is None:
        return None
    return (match.group(1) or match.group(2)).lower()


def _public_address(url: str, host: str, port: int, timeout: float, *, check: bool) -> str:
    """An address of `host`; with `check`, after making sure all of them are public."""
    try:
        addresses = _resolve(host, port, timeout)
    except TimeoutError:
        raise _Refused(
            f"cannot resolve host {host} of {url} within {timeout:g} s; check the link or "
            "the name server"
        ) from None
    except (OSError, UnicodeError) as exc:
        raise _Refused(f"cannot resolve host {host} of {url}; check the link ({exc})") from None
    if not addresses:
        raise _Refused(f"cannot resolve host {host} of {url}; check the link")
    for address in addresses if check else ():
        kind = _blocked_kind(ipaddress.ip_address(address.split("%")[0]))
        if kind is not None:
            raise _Refused(
                f"refused {url}: {host} resolves to {address}, a {kind} address, and private "
                "networks are never fetched (a guard against request forgery); "
                "use a public link or a file path"
            )
    return addresses[0]


def _resolve(host: str, port: int, timeout: float) -> list[str]:
    """The distinct addresses `host` resolves to, in the resolver's order; TimeoutError when
    the resolver takes longer than `timeout` seconds.

    getaddrinfo cannot be interrupted, so it runs in a daemon thread that is abandoned (and
    ends whenever the resolver gives up) if it outlives the timeout."""
    outcome: list[Any] = []

    def lookup() -> None:
        try:
            outcome.append(socket.getaddrinfo(host, port, type=socket.SOCK_STREAM))
        except BaseException as exc:  # handed to the caller's thread below
            outcome.append(exc)

    thread = threading.Thread(target=lookup, name="vigil-resolve", daemon=True)
    thread.start()
    thread.join(timeout)
    if not outcome:
        raise TimeoutError(host)
    if isinstance(outcome[0], BaseException):
        raise outcome[0]
    return list(dict.fromkeys(str(info[4][0]) for info in outcome[0]))


def _blocked_kind(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> str | None:
    """What kind of non-public address this is, None for a public one."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    checks = (
        ("loopback", address.is_loopback),
        ("link-local", address.is_link_local),
        ("private", address.is_private),
        ("multicast", address.is_multicast),
        ("unspecified", address.is_unspecified),
        ("reserved", address.is_reserved),
        ("non-public", not address.is_global),
    )
    return next((kind for kind, hit in checks if hit), None)
