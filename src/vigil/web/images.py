"""Sending an image: its type from its magic bytes, shown inline, cached by the browser only."""

from __future__ import annotations

from collections.abc import Callable

from fastapi import Request
from fastapi.responses import Response

from vigil.services.media import Media, MediaNotFound
from vigil.web.errors import NotFoundError

# Private: only the browser of someone allowed to see it may keep it, and not for long, since
# what a member may see can change.
CACHE_CONTROL = "private, max-age=600"


def image_response(request: Request, find: Callable[[], Media]) -> Response:
    """The image `find` returns (its refusal as 404), or 304 when the browser has it."""
    try:
        media = find()
    except MediaNotFound as error:
        raise NotFoundError(str(error)) from None
    etag = f'"{media.sha256}"'
    headers = {
        "Cache-Control": CACHE_CONTROL,
        "ETag": etag,
        "X-Content-Type-Options": "nosniff",
        "Content-Disposition": f'inline; filename="{media.sha256[:16]}.{media.extension}"',
    }
    if etag in request.headers.get("if-none-match", ""):
        return Response(status_code=304, headers=headers)
    return Response(media.data, media_type=media.media_type, headers=headers)
