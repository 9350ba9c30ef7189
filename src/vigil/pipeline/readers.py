"""Streaming readers for listing feeds: JSON Lines, CSV and Parquet.

Readers yield `RawRecord`s — where a record came from and its payload, still unparsed for JSON
Lines (parsing happens in the worker processes) — or a `Rejection` for a record that cannot
even be read. Memory stays constant whatever the size of the input.
"""

from __future__ import annotations

import csv
import io
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO, Literal

from vigil.errors import VigilError

Format = Literal["jsonl", "csv", "parquet"]
SUFFIXES: dict[str, Format] = {
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".json": "jsonl",
    ".csv": "csv",
    ".parquet": "parquet",
    ".pq": "parquet",
}
# A line longer than this is not a listing; it is rejected unparsed so it cannot exhaust memory
# in a worker. It sits well above the field limits (domain.listing), so that a record with one
# oversized field is rejected by name ("title: at most 2000 characters") rather than by size.
MAX_RECORD_BYTES = 8 << 20
CSV_LIST_SEPARATOR = "|"
SELLER_PREFIX = "seller_"


class InputError(VigilError):
    """An input as a whole cannot be read (missing file, unknown format)."""


@dataclass(slots=True, frozen=True)
class RawRecord:
    source: str
    line: int
    # bytes: one JSON Lines line, parsed later; dict: a CSV row or Parquet row, already split.
    payload: bytes | dict[str, Any]


@dataclass(slots=True, frozen=True)
class Rejection:
    source: str
    line: int
    reason: str


def detect_format(name: str, forced: Format | None = None) -> Format:
    if forced:
        return forced
    if name == "-":
        return "jsonl"
    suffix = Path(name).suffix.lower()
    if suffix == ".gz":
        raise InputError(f"{name}: compressed input is not read directly; decompress it first")
    try:
        return SUFFIXES[suffix]
    except KeyError:
        raise InputError(
            f"{name}: cannot tell the format from the extension {suffix or '(none)'!r}; use "
            ".jsonl, .csv or .parquet, or pass --format"
        ) from None


def check_inputs(names: list[str], forced: Format | None = None) -> list[tuple[str, Format]]:
    """Fail early, before any work, on an input that does not exist or has no known format."""
    checked = []
    for name in names:
        fmt = detect_format(name, forced)
        if name != "-" and not Path(name).is_file():
            raise InputError(f"{name}: no such file")
        checked.append((name, fmt))
    return checked


def read_records(name: str, fmt: Format) -> Iterator[RawRecord | Rejection]:
    if fmt == "jsonl":
        yield from _read_jsonl(name)
    elif fmt == "csv":
        yield from _read_csv(name)
    else:
        yield from _read_parquet(name)


def _open_binary(name: str) -> BinaryIO:
    return sys.stdin.buffer if name == "-" else open(name, "rb")


def _read_jsonl(name: str) -> Iterator[RawRecord | Rejection]:
    stream = _open_binary(name)
    source = "<stdin>" if name == "-" else name
    try:
        for number, line in enumerate(stream, start=1):
            if len(line) > MAX_RECORD_BYTES:
                yield Rejection(
                    source,
                    number,
                    f"record is {len(line):,} bytes; at most {MAX_RECORD_BYTES:,} are accepted",
                )
                continue
            if line.strip():
                yield RawRecord(source, number, line)
    finally:
        if stream is not sys.stdin.buffer:
            stream.close()


def _read_csv(name: str) -> Iterator[RawRecord | Rejection]:
    source = "<stdin>" if name == "-" else name
    binary = _open_binary(name)
    # surrogateescape keeps bad bytes visible to the record check instead of failing the file.
    text = io.TextIOWrapper(binary, encoding="utf-8-sig", errors="surrogateescape", newline="")
    try:
        reader = csv.reader(text)
        header = next(reader, None)
        if header is None:
            return
        header = [h.strip() for h in header]
        for row in reader:
            number = reader.line_num
            if not any(cell.strip() for cell in row):
                continue
            if len(row) != len(header):
                yield Rejection(
                    source,
                    number,
                    f"row has {len(row)} cells but the header has {len(header)} columns; "
                    "quote cells that contain commas",
                )
                continue
            yield RawRecord(source, number, unflatten(dict(zip(header, row, strict=True))))
    except csv.Error as error:
        yield Rejection(source, reader.line_num, f"CSV is malformed from here on: {error}")
    finally:
        text.detach()
        if binary is not sys.stdin.buffer:
            binary.close()


def unflatten(row: dict[str, Any]) -> dict[str, Any]:
    """A flat CSV/Parquet row (seller_id, images 'a|b') in the nested listing form."""
    record: dict[str, Any] = {}
    seller: dict[str, Any] = {}
    for key, value in row.items():
        if value is None or (isinstance(value, str) and value.strip() == ""):
            continue
        if key.startswith(SELLER_PREFIX):
            seller[key.removeprefix(SELLER_PREFIX)] = value
        elif key == "images" and isinstance(value, str):
            record["images"] = [p.strip() for p in value.split(CSV_LIST_SEPARATOR) if p.strip()]
        else:
            record[key] = value
    if seller:
        record["seller"] = seller
    return record


def _read_parquet(name: str) -> Iterator[RawRecord | Rejection]:
    import pyarrow.parquet as pq

    if name == "-":
        raise InputError("Parquet cannot be read from standard input; pass a file")
    try:
        parquet = pq.ParquetFile(name)
    except Exception as error:  # pyarrow raises several types for a damaged file
        raise InputError(f"{name}: not a readable Parquet file: {error}") from error
    number = 0
    with parquet:
        for batch in parquet.iter_batches(batch_size=4096):
            for row in batch.to_pylist():
                number += 1
                yield RawRecord(name, number, unflatten(row))
