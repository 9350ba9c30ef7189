"""`vigil evaluate ASSESSMENTS --truth TRUTH [--images IMAGE_TRUTH] [--texts TEXT_TRUTH]`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from vigil.cli.common import HomeOption, console, reported
from vigil.domain.assessment import Verdict
from vigil.services.evaluate import Evaluation, evaluate
from vigil.services.evaluate_images import evaluate_images
from vigil.services.evaluate_texts import evaluate_texts


def command(
    assessments: Annotated[Path, typer.Argument(help="assessments.jsonl written by a scan.")],
    truth: Annotated[Path, typer.Option(help="Truth labels, one JSON object per line.")],
    images: Annotated[
        Path | None,
        typer.Option(help="image_truth.jsonl of a sample: also score the image signals."),
    ] = None,
    texts: Annotated[
        Path | None,
        typer.Option(help="text_truth.jsonl of a sample: also score the text signals."),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the figures as JSON.")] = False,
    home: HomeOption = None,
) -> None:
    """Precision, recall and F1 per verdict, a confusion matrix and a precision-recall curve;
    with --images, recall of the image signals, false photo matches and logo precision; with
    --texts, precision and recall of copied-text signals and recovery of copy-paste rings."""
    with reported():
        result = evaluate(assessments, truth)
        figures = evaluate_images(assessments, images, truth) if images else None
        text_figures = evaluate_texts(assessments, texts, truth) if texts else None
    if as_json:
        data = result.as_json()
        if figures is not None:
            data["images"] = figures
        if text_figures is not None:
            data["texts"] = text_figures
        console.print_json(data=data)
        return
    print_evaluation(result)
    if figures is not None:
        print_image_evaluation(figures)
    if text_figures is not None:
        print_text_evaluation(text_figures)


def _figure(value: float | None) -> str:
    return "-" if value is None else f"{value:.4f}"


def print_text_evaluation(figures: dict[str, Any]) -> None:
    copies = figures["copyrighted_text"]
    table = Table(title="copied text (copyrighted_text)", show_edge=False)
    table.add_column("copies")
    for column in ("total", "found", "recall"):
        table.add_column(column, justify="right")
    for group, count in copies["groups"].items():
        table.add_row(
            group.replace(":", ": "),
            f"{count['total']:,}",
            f"{count['found']:,}",
            _figure(count["recall"]),
        )
    console.print(table)
    console.print(
        f"precision: {_figure(copies['precision'])} over {copies['signals']:,} signals "
        f"({copies['wrong_work']:,} naming the wrong work); headline precision: "
        f"{_figure(copies['headline_precision'])}"
    )
    flags = copies["false_flags"]
    console.print(
        "false flags: "
        + "; ".join(
            f"{flags[kind]['flagged']:,} of {flags[kind]['total']:,} {label}"
            for kind, label in (
                ("boilerplate_only", "boilerplate-only listings"),
                ("authorized", "official shops' copies"),
                ("no_copy", "listings that copy nothing"),
            )
        )
    )
    rings = figures["clusters"]
    console.print(
        f"clusters: pairwise precision {_figure(rings['pairwise_precision'])}, recall "
        f"{_figure(rings['pairwise_recall'])} ({rings['clusters']:,} clusters of "
        f"{rings['listings_clustered']:,} listings; {rings['rings']:,} rings of "
        f"{rings['listings_in_rings']:,})"
    )


def print_image_evaluation(figures: dict[str, Any]) -> None:
    table = Table(title="image signals", show_edge=False)
    table.add_column("photos")
    for column in ("total", "found", "recall"):
        table.add_column(column, justify="right")
    for group, count in sorted(figures["counts"].items()):
        if group == "unrelated_photos":
            continue
        recall = figures["recall"].get(group)
        table.add_row(
            group.replace("_", " "),
            f"{count['total']:,}",
            f"{count['found']:,}",
            "-" if recall is None else f"{recall:.4f}",
        )
    console.print(table)
    precision = figures["logo_precision"]
    console.print(
        f"false photo matches: {figures['false_photo_matches']:,} of "
        f"{figures['unrelated_photos']:,} unrelated photos; logo precision: "
        f"{'-' if precision is None else f'{precision:.4f}'} over "
        f"{figures['logo_signals']:,} logo signals"
    )


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
