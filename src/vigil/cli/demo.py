"""`vigil demo [--no-serve]`: a sample alliance built, loaded and scanned in one step."""

from __future__ import annotations

from typing import Annotated

import typer

from vigil.cli.common import HomeOption, config_for, console, reported, settings_for, store_for
from vigil.cli.evaluate import print_evaluation
from vigil.cli.scan import print_summary


def command(
    listings: Annotated[int, typer.Option(min=1, help="Listings in the sample.")] = 10_000,
    seed: Annotated[int, typer.Option(help="Random seed of the sample.")] = 0,
    workers: Annotated[int, typer.Option(min=1, help="Processes that run the matchers.")] = 1,
    serve: Annotated[
        bool, typer.Option(help="Serve the web UI afterwards (needs the web platform).")
    ] = True,
    home: HomeOption = None,
) -> None:
    """Build a sample alliance under <home>/demo, load its registry, scan it and evaluate."""
    from vigil.services.demo import run_demo

    with reported():
        store = store_for(home)
        config = config_for(home)
        home_dir = settings_for(home).home
        console.print(f"building a sample alliance of {listings:,} listings in {home_dir}/demo ...")
        result = run_demo(
            store, home_dir / "demo", config=config, listings=listings, seed=seed, workers=workers
        )
    print_summary(result.scan)
    print_evaluation(result.evaluation)
    if serve:
        console.print(
            "[yellow]The web UI is not part of this version yet[/]; the results above are in "
            f"{home_dir}/demo/scan. Run with --no-serve to skip this note."
        )
