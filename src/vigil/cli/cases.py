"""`vigil cases …`: open, list, show and move cases, and run the rules that open them."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from vigil.cli.common import HomeOption, console, reported, settings_for, store_for
from vigil.domain.assessment import Verdict
from vigil.domain.cases import CaseState, PartyRole

if TYPE_CHECKING:
    from vigil.services.cases import CaseConfig
    from vigil.store.db import Store

app = typer.Typer(help="Cases: from suspicion to takedown.", no_args_is_help=True)
rules_app = typer.Typer(help="Rules that open cases after a scan.", no_args_is_help=True)
app.add_typer(rules_app, name="rules")


def _config(home: Path | None) -> CaseConfig:
    from vigil.services.cases import load_case_config

    return load_case_config(settings_for(home).home)


def _case_id(store: Store, text: str) -> int:
    from vigil.services.cases import named_case_id
    from vigil.store.db import cli_actor

    return named_case_id(store, cli_actor(), text)


@app.command("open")
def open_command(
    listing: Annotated[
        list[int] | None, typer.Option("--listing", help="A stored listing's number (repeat).")
    ] = None,
    seller: Annotated[
        str | None,
        typer.Option(help="PLATFORM:SELLER_ID — every stored listing of that seller."),
    ] = None,
    title: Annotated[str | None, typer.Option(help="What the case is about.")] = None,
    owner: Annotated[
        str | None, typer.Option(help="The rights holder member (default: the brand's owner).")
    ] = None,
    party: Annotated[
        list[str] | None,
        typer.Option(help="MEMBER:ROLE, e.g. shopmart:marketplace (repeat)."),
    ] = None,
    home: HomeOption = None,
) -> None:
    """Open a case on listings or on a seller."""
    from vigil.services import cases
    from vigil.store.db import cli_actor

    with reported():
        who = None
        if seller is not None:
            platform, _, seller_id = seller.partition(":")
            if not platform or not seller_id:
                raise cases.CaseError("--seller: write PLATFORM:SELLER_ID, e.g. jd:shop-42")
            who = (platform, seller_id)
        parties = []
        for text in party or []:
            member, _, role = text.partition(":")
            try:
                parties.append((member, PartyRole(role)))
            except ValueError:
                roles = ", ".join(r.value for r in PartyRole)
                raise cases.CaseError(f"--party {text!r}: the role is one of {roles}") from None
        opening = cases.Opening(
            listing_pks=listing or [], seller=who, title=title, owner=owner, parties=parties
        )
        store = store_for(home)
        case_id = cases.open_case(store, cli_actor(), opening, _config(home))
        detail = cases.case_detail(store, cli_actor(), case_id)
    console.print(
        f"case [bold]{detail.case.reference}[/] opened: {detail.case.title} "
        f"({detail.case.listings} listings, rights holder {detail.case.owner_id})"
    )


@app.command("list")
def list_command(
    state: Annotated[list[CaseState] | None, typer.Option(help="Only these states.")] = None,
    overdue: Annotated[bool, typer.Option(help="Only cases past their timer.")] = False,
    limit: Annotated[int, typer.Option(min=1, max=200)] = 50,
    home: HomeOption = None,
) -> None:
    """The cases, newest change first, with counts by state."""
    from vigil.services import cases
    from vigil.store.db import cli_actor

    with reported():
        store = store_for(home)
        page = cases.list_cases(
            store,
            cli_actor(),
            cases.CaseFilters(states=tuple(state or ()), overdue=overdue),
            limit=limit,
        )
    table = Table("case", "state", "title", "listings", "due", show_lines=False)
    for item in page.items:
        due = item.due_at.strftime("%Y-%m-%d %H:%M") if item.due_at else "—"
        table.add_row(
            item.reference,
            item.state.value,
            item.title,
            str(item.listings),
            f"[red]{due} overdue[/]" if item.overdue else due,
        )
    console.print(table)
    counts = ", ".join(f"{k} {v}" for k, v in page.by_state.items() if v)
    console.print(
        f"{page.total} cases shown of the filter; {counts or 'none'}; overdue {page.overdue}"
    )


@app.command("show")
def show_command(
    case: Annotated[str, typer.Argument(help="C-2026-000042 or 42.")], home: HomeOption = None
) -> None:
    """A case: parties, listings and timeline."""
    from vigil.services import cases
    from vigil.store.db import cli_actor

    with reported():
        store = store_for(home)
        detail = cases.case_detail(store, cli_actor(), _case_id(store, case))
    head = detail.case
    console.print(f"[bold]{head.reference}[/] {head.title} — {head.state.value}")
    console.print("parties: " + ", ".join(f"{p.name} ({p.role.value})" for p in detail.parties))
    for row in detail.listings:
        console.print(
            f"  listing {row.id}: {row.platform} {row.listing_id} {row.title} ({row.risk:.2f})"
        )
    for event in detail.timeline:
        move = f" {event.from_state or ''}→{event.to_state}" if event.to_state else ""
        note = f": {event.body}" if event.body else ""
        console.print(f"  {event.at:%Y-%m-%d %H:%M} {event.actor} {event.kind}{move}{note}")


@app.command("move")
def move_command(
    case: Annotated[str, typer.Argument(help="C-2026-000042 or 42.")],
    to: Annotated[CaseState, typer.Argument(help="The new state.")],
    note: Annotated[str | None, typer.Option(help="Why, for the timeline.")] = None,
    home: HomeOption = None,
) -> None:
    """Move a case: under_review, confirmed, dismissed, closed, or open to reopen."""
    from vigil.services import cases
    from vigil.store.db import cli_actor

    with reported():
        store = store_for(home)
        case_id = _case_id(store, case)
        state = cases.move(store, cli_actor(), case_id, to, _config(home), note=note)
    console.print(f"case {case} is now [bold]{state.value}[/]")


@rules_app.command("add")
def add_rule(
    name: Annotated[str, typer.Option(help="What the rule is for.")],
    owner: Annotated[str, typer.Option(help="The member the rule opens cases for.")],
    min_risk: Annotated[float, typer.Option(min=0, max=1)] = 0.9,
    brand: Annotated[str | None, typer.Option(help="Only listings of this brand.")] = None,
    verdict: Annotated[list[Verdict] | None, typer.Option(help="Verdicts (repeat).")] = None,
    per_listing: Annotated[
        bool, typer.Option(help="One case per listing, not per seller.")
    ] = False,
    home: HomeOption = None,
) -> None:
    """Add a rule: after every scan, open cases for the listings it matches."""
    from vigil.services import cases
    from vigil.store.db import cli_actor

    with reported():
        rule = cases.NewRule(
            name=name,
            owner=owner,
            min_risk=min_risk,
            brand=brand,
            group_by="listing" if per_listing else "seller",
            **({"verdicts": verdict} if verdict else {}),
        )
        made = cases.create_rule(store_for(home), cli_actor(), rule)
    console.print(f"rule {made.id} added for {made.owner_id}: risk ≥ {made.min_risk}")


@rules_app.command("apply")
def apply_rules(
    scan: Annotated[str | None, typer.Option(help="Only this scan's listings.")] = None,
    home: HomeOption = None,
) -> None:
    """Run the active rules now over the stored listings."""
    from vigil.services import cases

    with reported():
        run = cases.apply_rules(store_for(home), _config(home), scan_id=scan)
    console.print(f"{len(run.opened)} cases opened over {run.listings} listings")
