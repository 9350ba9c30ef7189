"""The `vigil` command."""

from __future__ import annotations

import typer

from vigil import __version__
from vigil.cli import (
    calibrate,
    cases,
    demo,
    evaluate,
    evidence,
    people,
    registry,
    sample,
    scan,
    serve,
)

app = typer.Typer(
    name="vigil",
    help="Vigil: registry, scans and evidence for an alliance against counterfeiting.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)
app.add_typer(registry.app, name="registry")
app.command("scan")(scan.command)
app.command("sample")(sample.command)
app.command("evaluate")(evaluate.command)
app.command("demo")(demo.command)
app.command("serve")(serve.command)
app.command("calibrate")(calibrate.command)
app.add_typer(people.member_app, name="member")
app.add_typer(people.user_app, name="user")
app.add_typer(cases.app, name="cases")
app.add_typer(evidence.app, name="evidence")


def _version(value: bool) -> None:
    if value:
        typer.echo(f"vigil {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Print the version and exit."
    ),
) -> None:
    """Vigil: registry, scans and evidence for an alliance against counterfeiting."""


def main() -> None:
    app()
