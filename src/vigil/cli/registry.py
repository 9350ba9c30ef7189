"""`vigil registry load FILE | show`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from vigil.cli.common import HomeOption, console, errors, reported, store_for
from vigil.services.registry import load_registry, registry_snapshot

app = typer.Typer(help="The registry: what members protect.", no_args_is_help=True)


@app.command("load")
def load(
    file: Annotated[Path, typer.Argument(help="Registry file, YAML or JSON (docs/formats.md).")],
    strict: Annotated[
        bool, typer.Option(help="Write nothing when any entry has a problem.")
    ] = False,
    home: HomeOption = None,
) -> None:
    """Load a registry file: add new entries, update changed ones (safe to run again)."""
    with reported():
        store = store_for(home)
        report = load_registry(store, file, strict=strict)
    table = Table(title=f"registry {file}", show_edge=False)
    for column in ("section", "added", "updated", "unchanged"):
        table.add_column(column, justify="left" if column == "section" else "right")
    for section, counts in report.changes.items():
        table.add_row(section, *(str(counts.get(k, 0)) for k in ("added", "updated", "unchanged")))
    if report.written:
        console.print(table)
    for warning in report.warnings:
        errors.print(f"[yellow]warning:[/] {file}: {warning}", highlight=False)
    for problem in report.problems:
        errors.print(f"[bold red]error:[/] {file}: {problem}", highlight=False, soft_wrap=True)
    if report.problems:
        what = "nothing was written (--strict)" if not report.written else "the rest was loaded"
        errors.print(
            f"{len(report.problems)} entr{'y' if len(report.problems) == 1 else 'ies'} "
            f"not loaded; {what}. Fix them and load the file again."
        )
        raise typer.Exit(1)


@app.command("show")
def show(
    brand: Annotated[str | None, typer.Option(help="Show one brand with its products.")] = None,
    home: HomeOption = None,
) -> None:
    """List what is registered: members, brands (with aliases and sellers) and products."""
    with reported():
        registry = registry_snapshot(store_for(home))
    if brand is not None:
        found = registry.brand(brand)
        if found is None:
            errors.print(
                f"[bold red]error:[/] no brand named {brand!r} is registered; "
                "`vigil registry show` lists them"
            )
            raise typer.Exit(1)
        products = [p for p in registry.products if p.brand == brand]
        console.print_json(
            data={
                "brand": found.model_dump(mode="json"),
                "products": [p.model_dump(mode="json") for p in products],
            }
        )
        return
    counts: dict[str, int] = {}
    for product in registry.products:
        counts[product.brand] = counts.get(product.brand, 0) + 1
    table = Table(
        title=f"{len(registry.members)} members, {len(registry.brands)} brands, "
        f"{len(registry.products)} products, {len(registry.works)} works"
    )
    for column in ("brand", "owner", "aliases", "authorized sellers", "products"):
        table.add_column(column)
    for item in registry.brands:
        table.add_row(
            item.name,
            item.owner or "",
            ", ".join(item.aliases),
            str(len(item.authorized_sellers)),
            str(counts.get(item.name, 0)),
        )
    console.print(table)
