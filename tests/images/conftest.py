"""Images made at test time, and a local HTTP server that misbehaves on request."""

from __future__ import annotations

import io
import threading
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import numpy as np
import pytest
from PIL import Image


def noise(width: int, height: int, seed: int = 0) -> Image.Image:
    """An RGB picture of random pixels (random, so that JPEG cannot shrink it to nothing)."""
    rng = np.random.default_rng(seed)
    return Image.fromarray(rng.integers(0, 256, (height, width, 3), dtype=np.uint8))


def encode(image: Image.Image, image_format: str, **options: Any) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, image_format, **options)
    return buffer.getvalue()


def jpeg(width: int = 64, height: int = 48, seed: int = 0) -> bytes:
    return encode(noise(width, height, seed), "JPEG", quality=90)


def png(width: int = 64, height: int = 48, seed: int = 0) -> bytes:
    return encode(noise(width, height, seed), "PNG")


@dataclass
class Route:
    """What the server answers on one path."""

    body: bytes = b""
    status: int = 200
    content_type: str | None = "image/jpeg"
    headers: dict[str, str] = field(default_factory=dict)
    # None: the real length; "omit": no Content-Length (the body ends when the connection does).
    content_length: int | str | None = None
    wait_before_headers: bool = False
    wait_after_bytes: int | None = None  # send this many body bytes, then stall
    pause: float = 0.0  # seconds to think before answering (never asserted on)


class ImageServer:
    """A ThreadingHTTPServer on 127.0.0.1 (a free port) that serves `routes`."""

    def __init__(self) -> None:
        self.routes: dict[str, Route] = {}
        self.hits: Counter[str] = Counter()
        self.host_headers: list[str] = []
        self.in_flight = 0
        self.most_in_flight = 0
        self.lock = threading.Lock()
        # Stalled responses wait on this; the fixture sets it so no thread outlives the test.
        self.release = threading.Event()
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(self))
        self.httpd.daemon_threads = True
        self.httpd.handle_error = lambda request, client_address: None  # type: ignore[method-assign]
        self.port = self.httpd.server_address[1]
        self.thread = threading.Thread(
            target=self.httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def add(self, path: str, route: Route) -> str:
        self.routes[path] = route
        return self.url(path)

    def redirect(self, path: str, location: str, status: int = 302) -> str:
        return self.add(
            path, Route(status=status, content_type=None, headers={"Location": location})
        )


def _handler_for(server: ImageServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            server.hits[self.path] += 1
            server.host_headers.append(self.headers.get("Host", ""))
            route = server.routes.get(self.path, Route(status=404, content_type="text/plain"))
            with server.lock:
                server.in_flight += 1
                server.most_in_flight = max(server.most_in_flight, server.in_flight)
            try:
                time.sleep(route.pause)
            finally:
                # Counted out before the answer goes back, so a client can never overlap it.
                with server.lock:
                    server.in_flight -= 1
            if route.wait_before_headers:
                server.release.wait(10)
                return
            self.send_response(route.status)
            if route.content_type is not None:
                self.send_header("Content-Type", route.content_type)
            for name, value in route.headers.items():
                self.send_header(name, value)
            if route.content_length != "omit":
                length = route.content_length
                self.send_header(
                    "Content-Length", str(len(route.body) if length is None else length)
                )
            self.end_headers()
            if route.wait_after_bytes is not None:
                self.wfile.write(route.body[: route.wait_after_bytes])
                self.wfile.flush()
                server.release.wait(10)
                return
            self.wfile.write(route.body)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    return Handler


@pytest.fixture
def image_server() -> Iterator[ImageServer]:
    server = ImageServer()
    server.thread.start()
    try:
        yield server
    finally:
        server.release.set()
        server.httpd.shutdown()
        server.httpd.server_close()
        server.thread.join()
