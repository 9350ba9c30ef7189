"""`vigil evaluate ASSESSMENTS --truth TRUTH [--json]`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from vigil.cli.common import HomeOption, console, reported
from vigil.domain.assessment import Verdict
from vigil.services.evaluate import Evaluation, evaluate


def command(
    assessments: Annotated[Path, typer.Argument(help="assessments.jsonl written by a scan.")],
    truth: Annotated[Path, typer.Option(help="Truth labels, one JSON object per line.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print the figures as JSON.")] = False,
    home: HomeOption = None,
) -> None:
    """Precision, recall and F1 per verdict, a confusion matrix and a precision-recall curve."""
    with reported():
        result = evaluate(assessments, truth)
    if as_json:
        console.print_json(data=result.as_json())
        return
    print_evaluation(result)


def print_evaluation(result: Evaluation) -> None:
    table = Table(title=f"{result.evaluated:,} listings evaluated", show_edge=False)
    for column in ("verdict", "support", "predicted", "precision", "recall", "F1"):
        table.add_column(column, justify="left" if column == "verdict" else "right")
    for m in result.metrics:
        table.add_row(
            m.name,
            f"{m.support:,}",
            f"{m.predicted:,}",
            f"{m.precision:.4f}",
            f"{m.recall:.4f}",
            f"{m.f1:.4f}",
        )
    console.print(table)
    matrix = Table(title="confusion (rows: truth, columns: verdict)", show_edge=False)
    matrix.add_column("truth")
    for verdict in Verdict:
        matrix.add_column(verdict.value, justify="right")
    for label, row in result.confusion.items():
        if sum(row.values()):
            matrix.add_row(label, *(f"{row[v.value]:,}" for v in Verdict))
    console.print(matrix)
    console.print(f"average precision (counterfeit): {result.average_precision:.4f}")
    if result.missing_truth or result.missing_assessment:
        console.print(
            f"[yellow]{result.missing_truth:,} assessments had no truth label; "
            f"{result.missing_assessment:,} labels had no assessment[/]"
        )
    if result.curve_png:
        console.print(f"precision-recall curve: {result.curve_png}")
