"""Errors a handler raises; the app turns them into JSON for the API and pages for people."""

from __future__ import annotations


class WebError(Exception):
    status_code = 400

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class BadRequestError(WebError):
    status_code = 400


class NotSignedInError(WebError):
    status_code = 401


class ForbiddenError(WebError):
    status_code = 403


class NotFoundError(WebError):
    """Missing, or not the actor's to see: the two look the same from outside."""

    status_code = 404


class ConflictError(WebError):
    status_code = 409


class PayloadTooLargeError(WebError):
    status_code = 413


class UnsupportedMediaTypeError(WebError):
    status_code = 415
