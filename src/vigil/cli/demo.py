"""`vigil demo [--no-serve]`: a sample alliance built, loaded and scanned in one step."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from vigil.cli.common import HomeOption, config_for, console, reported, settings_for, store_for
from vigil.cli.evaluate import print_evaluation
from vigil.cli.scan import print_summary

if TYPE_CHECKING:
    from vigil.services.demo_platform import DemoUser


def command(
    listings: Annotated[int, typer.Option(min=1, help="Listings in the sample.")] = 10_000,
    seed: Annotated[int, typer.Option(help="Random seed of the sample.")] = 0,
    workers: Annotated[int, typer.Option(min=1, help="Processes that run the matchers.")] = 1,
    serve: Annotated[bool, typer.Option(help="Serve the web platform afterwards.")] = True,
    host: Annotated[str, typer.Option(help="Address the web platform listens on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535, help="Its port.")] = 8000,
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
            store,
            settings_for(home),
            home_dir / "demo",
            config=config,
            listings=listings,
            seed=seed,
            workers=workers,
        )
        store.close()
    print_summary(result.scan)
    print_evaluation(result.evaluation)
    print_users(result.users)
    if result.cases:
        console.print(f"cases opened by the demo (see /cases): {', '.join(result.cases)}")
    if serve:
        from vigil.cli.serve import serve as run_server

        run_server(host=host, port=port, home=home)
    else:
        console.print(f"serve the web platform with: vigil serve --home {home_dir}")


def print_users(users: list[DemoUser]) -> None:
    # Plain lines rather than a table: e-mails and passwords must never be cut to fit.
    console.print("[bold]Sign in as[/] (passwords are new on every run):")
    for user in users:
        console.print(
            f"  {user.email}  password [bold]{user.password}[/]  "
            f"({user.role} of {user.member_name}, {user.kind})",
            highlight=False,
            soft_wrap=True,
        )
