"""One mapping of a case's refusals to HTTP answers, for every API module about cases (their
evidence and notices included), so that the same refusal is the same status everywhere."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from vigil.errors import VigilError
from vigil.services.cases import CaseForbidden, CaseNotFound
from vigil.web.errors import BadRequestError, ConflictError, ForbiddenError, NotFoundError


@contextmanager
def case_refusals(*conflicts: type[Exception]) -> Iterator[None]:
    """Not party to the case (or no such thing) → 404; party, but not allowed → 403; a state
    that forbids it (the errors in `conflicts`) → 409; any other refusal → 400."""
    try:
        yield
    except CaseNotFound as error:
        raise NotFoundError(str(error)) from None
    except CaseForbidden as error:
        raise ForbiddenError(str(error)) from None
    except conflicts as error:
        raise ConflictError(str(error)) from None
    except VigilError as error:
        raise BadRequestError(str(error)) from None
