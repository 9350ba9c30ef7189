"""`vigil scan INPUT... --out DIR [--workers N]`."""

from __future__ import annotations

import time
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from vigil.cli.common import HomeOption, config_for, console, reported, settings_for, store_for
from vigil.pipeline.readers import Format
from vigil.services.cases.config import load_case_config
from vigil.services.scan import ScanSummary, scan


class Engine(StrEnum):
    LOCAL = "local"


class InputFormat(StrEnum):
    JSONL = "jsonl"
    CSV = "csv"
    PARQUET = "parquet"


def command(
    inputs: Annotated[
        list[str],
        typer.Argument(help="Listing feeds: .jsonl, .csv or .parquet files; - reads stdin."),
    ],
    out: Annotated[Path, typer.Option(help="Folder for assessments, rejects and summary.")] = Path(
        "scan-out"
    ),
    workers: Annotated[int, typer.Option(min=1, help="Processes that run the matchers.")] = 1,
    engine: Annotated[Engine, typer.Option(help="Where matching runs.")] = Engine.LOCAL,
    input_format: Annotated[
        InputFormat | None,
        typer.Option("--format", help="Format of every input, instead of by extension."),
    ] = None,
    config: Annotated[
        Path | None, typer.Option(help="Extra configuration file (weights, thresholds).")
    ] = None,
    store_all: Annotated[
        bool,
        typer.Option(
            help="Store every assessed listing, cleared ones too (so that analysts can audit a "
            "sample of them, which `vigil calibrate` needs)."
        ),
    ] = False,
    home: HomeOption = None,
) -> None:
    """Scan listing feeds: assess every listing, store the flagged ones (all with --store-all),
    write the results, and run the members' case rules."""
    fmt: Format | None = input_format.value if input_format else None
    with reported():
        store = store_for(home)
        scan_config = config_for(home, config)
        started = time.perf_counter()
        with Progress(
            SpinnerColumn(),
            TextColumn("[bold]scanning[/]"),
            TextColumn("{task.fields[scanned]:>10,} listings"),
            TextColumn("{task.fields[rate]:>9,.0f}/s"),
            TextColumn("[red]{task.fields[rejected]:,} rejected"),
            TimeElapsedColumn(),
            console=console,
            transient=True,
        ) as bar:
            task = bar.add_task("scan", total=None, scanned=0, rejected=0, rate=0.0)

            def progress(scanned: int, rejected: int) -> None:
                elapsed = max(time.perf_counter() - started, 1e-6)
                bar.update(task, scanned=scanned, rejected=rejected, rate=scanned / elapsed)

            summary = scan(
                store,
                inputs,
                out,
                config=scan_config,
                workers=workers,
                fmt=fmt,
                progress=progress,
                store_all=store_all,
                case_config=load_case_config(settings_for(home).home),
            )
    print_summary(summary)


def print_summary(summary: ScanSummary) -> None:
    table = Table(title=f"scan {summary.scan_id[:12]}", show_header=False, show_edge=False)
    table.add_column(style="bold")
    table.add_column(justify="right")
    table.add_row("scanned", f"{summary.scanned:,}")
    for verdict, count in summary.by_verdict.items():
        share = count / summary.scanned if summary.scanned else 0.0
        table.add_row(f"  {verdict}", f"{count:,} ({share:.1%})")
    table.add_row("rejected", f"{summary.rejected:,}")
    table.add_row("stored", f"{summary.stored:,}")
    if summary.cases_opened:
        table.add_row("cases opened by rules", f"{summary.cases_opened:,}")
    table.add_row("duration", f"{summary.duration_s:.1f} s")
    table.add_row("rate", f"{summary.listings_per_second:,.0f} listings/s ({summary.workers} w)")
    console.print(table)
    if summary.top_brands:
        brands = Table(title="top flagged brands", show_edge=False)
        brands.add_column("brand")
        brands.add_column("flagged", justify="right")
        for name, count in summary.top_brands:
            brands.add_row(name, f"{count:,}")
        console.print(brands)
    if summary.ignored_fields:
        fields = ", ".join(f"{k} ({v:,})" for k, v in summary.ignored_fields.items())
        console.print(f"[yellow]ignored fields the listing contract does not know:[/] {fields}")
    for warning in summary.warnings:
        console.print(f"[yellow]warning:[/] {warning}", highlight=False)
    if summary.rejected:
        console.print(
            f"[red]{summary.rejected:,} records rejected[/]; see {summary.out}/rejected.jsonl"
        )
    console.print(f"results in {summary.out}/ (assessments.jsonl, summary.json)")
