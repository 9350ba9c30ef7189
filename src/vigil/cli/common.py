"""What every command shares: the --home option, the store, and how errors are shown."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from vigil.errors import VigilError
from vigil.settings import ScanConfig, Settings, load_scan_config
from vigil.store.db import Store, open_store

console = Console()
errors = Console(stderr=True)

HomeOption = Annotated[
    Path | None,
    typer.Option(
        "--home",
        envvar="VIGIL_HOME",
        help="Folder of this installation (database, lake, caches). Default: ./vigil-data.",
        show_default=False,
    ),
]


def settings_for(home: Path | None) -> Settings:
    settings = Settings()
    if home is not None:
        settings.home = home
    return settings


@contextmanager
def reported() -> Iterator[None]:
    """Show a VigilError as one clear line on stderr and exit 1 instead of a traceback."""
    try:
        yield
    except VigilError as error:
        errors.print(f"[bold red]error:[/] {error}", highlight=False, soft_wrap=True)
        raise typer.Exit(1) from None


def store_for(home: Path | None) -> Store:
    settings = settings_for(home)
    settings.home.mkdir(parents=True, exist_ok=True)
    return open_store(settings.resolved_database_url())


def config_for(home: Path | None, extra: Path | None = None) -> ScanConfig:
    return load_scan_config(settings_for(home).home, extra)
