"""`vigil sample --out DIR [--listings N] [--seed S] [--no-images] [--no-works]`."""

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
    images: Annotated[
        bool,
        typer.Option(
            "--images/--no-images",
            help="Draw product photos, logos and listing images (images/, image_truth.jsonl).",
        ),
    ] = True,
    works: Annotated[
        bool,
        typer.Option(
            "--works/--no-works",
            help="Register texts (works/), have listings copy them and write text_truth.jsonl.",
        ),
    ] = True,
    home: HomeOption = None,
) -> None:
    """Write a sample alliance: a registry, marketplace listings and their truth labels."""
    from vigil.services.sample import write_sample

    with reported():
        summary = write_sample(
            out,
            listings=listings,
            seed=seed,
            brands=brands,
            products=products,
            images=images,
            works=works,
        )
    drawn = f" and {summary.images:,} images" if summary.images else ""
    texts = f", {summary.works} works" if summary.works else ""
    console.print(
        f"wrote {summary.listings:,} listings ({summary.brands} brands, "
        f"{summary.products} products{texts}){drawn} to {out}/"
    )
