"""`vigil sample --out DIR [--listings N] [--seed S]`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from vigil.cli.common import HomeOption, console, reported


def command(
    out: Annotated[
        Path, typer.Option(help="Folder for registry.yaml, listings.jsonl, truth.jsonl.")
    ],
    listings: Annotated[int, typer.Option(min=1, help="How many listings.")] = 10_000,
    seed: Annotated[int, typer.Option(help="Random seed; the same seed gives the same files.")] = 0,
    brands: Annotated[
        int | None, typer.Option(min=1, help="Pad the registry to this many brands.")
    ] = None,
    products: Annotated[
        int | None, typer.Option(min=1, help="Pad the registry to this many products.")
    ] = None,
    home: HomeOption = None,
) -> None:
    """Write a sample alliance: a registry, marketplace listings and their truth labels."""
    from vigil.services.sample import write_sample

    with reported():
        summary = write_sample(out, listings=listings, seed=seed, brands=brands, products=products)
    console.print(
        f"wrote {summary.listings:,} listings ({summary.brands} brands, "
        f"{summary.products} products) to {out}/"
    )
