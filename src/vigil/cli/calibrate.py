"""`vigil calibrate [--apply] [--rollback] [--json]`: fit scoring weights to case outcomes."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from vigil.cli.common import HomeOption, console, reported, settings_for, store_for
from vigil.errors import VigilError
from vigil.pipeline.calibration import FlagMetrics
from vigil.services.calibrate import Calibration, apply, calibrate, rollback
from vigil.store.db import cli_actor


def command(
    write: Annotated[
        bool,
        typer.Option(
            "--apply",
            help="Write the fitted weights to <home>/calibration/weights.yaml (the previous "
            "ones are kept for --rollback). Without it nothing is written.",
        ),
    ] = False,
    undo: Annotated[
        bool,
        typer.Option(
            "--rollback", help="Restore the weights in use before the last --apply, and stop."
        ),
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the figures as JSON.")] = False,
    home: HomeOption = None,
) -> None:
    """Fit the scorer's weights (a prior and a factor per signal kind) to the decisions on
    confirmed and dismissed cases, and compare precision and recall of flagged listings before
    and after on a held-out split. Refuses when there are too few outcomes."""
    folder = settings_for(home).home
    with reported():
        if write and undo:
            raise VigilError("--apply and --rollback do opposite things: pass one of them")
        store = store_for(home)
        try:
            if undo:
                back = rollback(store, folder, actor=cli_actor())
                if as_json:
                    console.print_json(
                        data={
                            "restored": back.restored.name if back.restored else None,
                            "set_aside": str(back.set_aside),
                        }
                    )
                elif back.restored is None:
                    console.print(
                        "rolled back: scans use the configured weights again "
                        f"(the calibrated ones are kept in {back.set_aside})"
                    )
                else:
                    console.print(
                        f"rolled back to the weights of {back.restored.name} "
                        f"(the ones replaced are kept in {back.set_aside})"
                    )
                return
            result = calibrate(store, folder)
            written = apply(store, folder, result, actor=cli_actor()) if write else None
        finally:
            store.close()
    if as_json:
        data = result.as_json()
        data["applied"] = str(written) if written else None
        console.print_json(data=data)
        return
    _print(result)
    if written is not None:
        console.print(f"applied: wrote {written}; the next scans score with these weights")
    else:
        console.print("nothing written: run `vigil calibrate --apply` to use these weights")


def _print(result: Calibration) -> None:
    fit = result.fit
    kinds = Table(
        title=f"signal kinds (prior {fit.current.prior:.3f} → {fit.fitted.prior:.3f})",
        show_edge=False,
    )
    kinds.add_column("kind")
    for column in ("listings", "fitted", "factor now", "new factor"):
        kinds.add_column(column, justify="right")
    kinds.add_column("note")
    for kind in fit.kinds:
        kinds.add_row(
            kind.kind,
            f"{kind.examples:,}",
            "-" if kind.fitted is None else f"{kind.fitted:.3f}",
            f"{kind.current:.3f}",
            f"{kind.factor:.3f}",
            kind.note,
        )
    console.print(kinds)
    metrics = Table(
        title=(
            f"held-out split: {fit.held_out:,} of {result.outcomes:,} decided listings "
            f"(flagged: risk ≥ {result.threshold:.2f})"
        ),
        show_edge=False,
    )
    for column in ("weights", "flagged", "precision", "recall", "F1"):
        metrics.add_column(column, justify="left" if column == "weights" else "right")
    for name, figures in (("before (current)", fit.before), ("after (fitted)", fit.after)):
        metrics.add_row(name, *_figures(figures))
    console.print(metrics)
    worse = fit.worse()
    if worse:
        console.print(
            f"[yellow]warning: the fitted weights lower {', '.join(worse)} on the held-out "
            "split; look at the factors before applying them[/]"
        )


def _figures(m: FlagMetrics) -> tuple[str, str, str, str]:
    return (f"{m.flagged:,}", f"{m.precision:.4f}", f"{m.recall:.4f}", f"{m.f1:.4f}")
