"""`vigil member create` and `vigil user create`: the platform's first members and people."""

from __future__ import annotations

import os
from typing import Annotated

import typer

from vigil.cli.common import HomeOption, console, reported, store_for
from vigil.domain.people import Role
from vigil.domain.registry import MemberKind

member_app = typer.Typer(help="Members of the alliance.", no_args_is_help=True)
user_app = typer.Typer(help="People who sign in to the web platform.", no_args_is_help=True)


@member_app.command("create")
def create_member(
    member_id: Annotated[str, typer.Argument(help="Short id, e.g. xiaomi.")],
    name: Annotated[str, typer.Option(help="The organisation's name.")],
    kind: Annotated[MemberKind, typer.Option(help="What kind of member it is.")],
    home: HomeOption = None,
) -> None:
    """Admit a member to the alliance."""
    from vigil.services.accounts import create_member as create
    from vigil.store.db import cli_actor

    with reported():
        store = store_for(home)
        row = create(store, member_id=member_id, name=name, kind=kind.value, actor=cli_actor())
    console.print(f"member [bold]{row.id}[/] ({row.kind}) admitted")


@user_app.command("create")
def create_user(
    email: Annotated[str, typer.Argument(help="The e-mail the person signs in with.")],
    member: Annotated[str, typer.Option(help="Id of the member the person belongs to.")],
    role: Annotated[Role, typer.Option(help="Role within the member.")] = Role.ANALYST,
    name: Annotated[str, typer.Option(help="Display name.")] = "",
    password_env: Annotated[
        str,
        typer.Option(
            help="Read the password from this environment variable instead of asking for it."
        ),
    ] = "VIGIL_PASSWORD",
    home: HomeOption = None,
) -> None:
    """Create a person who signs in. The password comes from $VIGIL_PASSWORD or a prompt."""
    from vigil.services.accounts import create_user as create
    from vigil.store.db import cli_actor

    password = os.environ.get(password_env) or typer.prompt(
        "Password", hide_input=True, confirmation_prompt=True
    )
    with reported():
        store = store_for(home)
        row = create(
            store,
            member_id=member,
            email=email,
            name=name,
            role=role.value,
            password=password,
            actor=cli_actor(),
        )
    console.print(f"user [bold]{row.email}[/] ({row.role} of {row.member_id}) created")
