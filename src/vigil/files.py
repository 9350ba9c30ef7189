"""Writing files whole or not at all."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from vigil.errors import VigilError


def write_atomic(path: Path, data: bytes, *, what: str) -> None:
    """Write `data` to `path` under a temporary name in the same folder, then rename it into
    place: a reader, in this process or another, sees the whole file or none. `what` names
    the store in the error ("the image cache"), which says what to check."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=".partial-")
        try:
            with os.fdopen(handle, "wb") as out:
                out.write(data)
            os.replace(temporary, path)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
    except OSError as error:
        raise VigilError(
            f"cannot write to {what} under {path.parent}: {error.strerror or error}; check that "
            "the folder is writable and the disk has room"
        ) from None
