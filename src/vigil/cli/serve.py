"""`vigil serve [--host 127.0.0.1] [--port 8000]`: the web platform."""

from __future__ import annotations

from typing import Annotated

import typer

from vigil.cli.common import HomeOption, console, reported, settings_for


def command(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535, help="Port to listen on.")] = 8000,
    home: HomeOption = None,
) -> None:
    """Serve the JSON API (/api/v1) and the pages until interrupted."""
    serve(host=host, port=port, home=home)


def serve(*, host: str, port: int, home: HomeOption) -> None:
    import uvicorn

    from vigil.web.app import create_app

    settings = settings_for(home)
    with reported():
        settings.home.mkdir(parents=True, exist_ok=True)
        app = create_app(settings)
    console.print(f"serving Vigil at [bold]http://{host}:{port}/[/] (Ctrl+C stops)")
    uvicorn.run(app, host=host, port=port, log_level="warning", access_log=False)
