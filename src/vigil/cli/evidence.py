"""`vigil evidence capture CASE | export CASE --out FILE | verify FILE [--key PEM]`."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape

from vigil.cli.common import HomeOption, console, errors, reported, settings_for, store_for
from vigil.evidence.bundle import BundleError
from vigil.evidence.verify import VerifyReport, verify_bundle
from vigil.services.cases import named_case_id
from vigil.services.evidence import capture as capture_case
from vigil.services.evidence_bundle import check_case_evidence, export_case_bundle
from vigil.store.db import Store, cli_actor

app = typer.Typer(
    help="A case's evidence: capture it, export it as a bundle, verify a bundle offline.",
    no_args_is_help=True,
)

CaseArgument = Annotated[
    str, typer.Argument(help="The case: its reference (C-2026-000042) or its number (42).")
]


@app.command("capture")
def capture(case: CaseArgument, home: HomeOption = None) -> None:
    """Capture the case's listings as evidence.

    Makes a snapshot of each listing, its signals and a copy of each photo the scan kept, and
    enters each in the transparency log; items the case has already are not made again."""
    with reported(), _opened(home) as store:
        result = capture_case(
            store, settings_for(home), cli_actor(), named_case_id(store, cli_actor(), case)
        )
    _say(f"{result.case}: {len(result.added)} new item(s), {result.unchanged} unchanged")
    for item in result.added:
        listing = f" {item.platform} {item.listing_id}" if item.platform else ""
        _say(f"  log entry {item.log_index}: {item.kind}{listing} {item.sha256}")
    for missing in result.missing:
        errors.print(
            "[yellow]not captured:[/] "
            + escape(
                f"{missing.platform} {missing.listing_id} photo {missing.ref}: {missing.reason}"
            ),
            highlight=False,
            soft_wrap=True,
        )
    if result.tree_head is not None:
        _say(f"tree head: size {result.tree_head.size}, root {result.tree_head.root.hex()}")


@app.command("export")
def export(
    case: CaseArgument,
    out: Annotated[Path, typer.Option("--out", help="The bundle file to write (.zip).")],
    home: HomeOption = None,
) -> None:
    """Write the case's evidence as one self-contained bundle (.zip).

    The bundle holds every item's bytes, its log entry and inclusion proof, the signed tree
    head, the log's public key and an index that says how to check it by hand."""
    with reported(), _opened(home) as store:
        result = export_case_bundle(
            store, settings_for(home), cli_actor(), named_case_id(store, cli_actor(), case), out=out
        )
    head = result.tree_head
    _say(
        f"{result.path}: case {result.case}, {result.items} item(s), {result.size:,} bytes; "
        f"tree head size {head.size}, root {head.root.hex()}, key {head.key_id}"
    )
    _say(f"check it anywhere with: vigil evidence verify {result.path}")


@contextmanager
def _opened(home: Path | None) -> Iterator[Store]:
    store = store_for(home)
    try:
        yield store
    finally:
        store.close()


def _say(text: str, *, to: Console = console) -> None:
    """One line as it is: no markup, no colours guessed, not wrapped (so it can be grepped)."""
    to.print(text, markup=False, highlight=False, soft_wrap=True)


def _show(report: VerifyReport) -> None:
    if report.ok:
        console.print(
            f"[bold green]verified:[/] {escape(report.summary())}", highlight=False, soft_wrap=True
        )
        return
    for failure in report.failures:
        errors.print(
            f"[bold red]failed:[/] {escape(str(failure))}", highlight=False, soft_wrap=True
        )
    _say(f"{report.summary()}; see above for each", to=errors)
    raise typer.Exit(1)


@app.command("verify")
def verify(
    file: Annotated[
        Path | None, typer.Argument(help="The bundle to check (as `export` wrote it).")
    ] = None,
    key: Annotated[
        Path | None,
        typer.Option(
            "--key",
            help="The log's public key (PEM) as its operator publishes it: checks that the "
            "bundle was signed by this log.",
        ),
    ] = None,
    case: Annotated[
        str | None,
        typer.Option(
            "--case",
            help="Check a case's evidence where it is stored (this home's files, database and "
            "log) instead of a bundle.",
        ),
    ] = None,
    home: HomeOption = None,
) -> None:
    """Check an evidence bundle offline, with nothing but the file.

    Exit 0 with a summary when every check passes; exit 1 listing every check that fails with
    the file it concerns. With --case, check a case's evidence where it is stored, and the
    whole log, instead of a bundle."""
    if (file is None) == (case is None):
        errors.print(
            "[bold red]error:[/] name a bundle file to verify, or --case CASE to check a case's "
            "stored evidence (one of the two)"
        )
        raise typer.Exit(2)
    with reported():
        if case is not None:
            with _opened(home) as store:
                report = check_case_evidence(
                    store, settings_for(home), cli_actor(), named_case_id(store, cli_actor(), case)
                )
        else:
            assert file is not None
            report = verify_bundle(file, expected_key_pem=_read_key(key))
    _show(report)


def _read_key(key: Path | None) -> bytes | None:
    if key is None:
        return None
    try:
        return key.read_bytes()
    except OSError as error:
        raise BundleError(
            f"--key {key}: cannot read it ({error.strerror or error}); give the PEM file of the "
            "log's public key"
        ) from None
