"""The shingle-window study of bench/near_dup.py (`--shingles`).

For each window — Chinese k = 3..7 characters, English k = 2..5 words, the other language at
the shipped default — a WorkIndex is built over the same works and every description of that
language is looked up as the detector does (candidates, then the exact containment of the best
three). A description is flagged when a confirmed work holds at least half of it; a flag is
right when that work is the one it copies. Also, for each copy, its exact containment in the
work it copies (no candidate step), so that the window's effect on edits shows apart from the
index's.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import numpy as np

from near_dup_search import (
    CONFIRM,
    SHORT,
    Gates,
    boilerplate_filters,
    entries,
    load,
    search,
    text_settings,
)

CJK_WINDOWS = (3, 4, 5, 6, 7)
WORD_WINDOWS = (2, 3, 4, 5)


def _figures(
    texts: list[Any], confirmed: list[list[tuple[Any, ...]]], column: int
) -> dict[str, Any]:
    copies = [i for i, d in enumerate(texts) if d.kind == "copy"]
    flagged = [i for i in range(len(texts)) if any(e[column] >= CONFIRM for e in confirmed[i])]
    right = [
        i for i in flagged
        if any(e[0] == texts[i].work and e[column] >= CONFIRM for e in confirmed[i])
    ]  # fmt: skip
    short = [i for i in copies if texts[i].passage_chars < SHORT]
    right_set = set(right)
    figures: dict[str, Any] = {
        "precision": round(len(right) / len(flagged), 4) if flagged else None,
        "recall": round(len(right) / len(copies), 4) if copies else None,
        "recall_short": round(sum(i in right_set for i in short) / len(short), 4)
        if short
        else None,
    }
    p, r = figures["precision"], figures["recall"]
    figures["f1"] = round(2 * p * r / (p + r), 4) if p and r else None
    for kind in ("related", "unrelated", "boilerplate"):
        rows = [i for i, d in enumerate(texts) if d.kind == kind]
        hits = sum(any(e[column] >= CONFIRM for e in confirmed[i]) for i in rows)
        figures[f"{kind}_flagged"] = round(hits / len(rows), 5) if rows else None
    return figures


def study_child(config: dict[str, Any]) -> dict[str, Any]:
    """Every window of one language (config["lang"]), on the cached corpus."""
    from vigil.texts.containment import WorkIndex
    from vigil.texts.shingles import Shingler

    settings = text_settings()
    works, texts = load(Path(config["corpus"]))
    lang = config["lang"]
    texts = [d for d in texts if d.lang == lang]
    indexed = entries(works)
    windows = CJK_WINDOWS if lang == "zh" else WORD_WINDOWS
    rows = []
    for k in windows:
        shingler = (
            Shingler(k, settings.word_window) if lang == "zh" else Shingler(settings.cjk_window, k)
        )
        index = WorkIndex(
            shingler, candidate_containment=settings.copyrighted_text.candidate_containment
        )
        index.build(indexed)

        def find(shingled: Any, index: Any = index) -> list[int]:
            return [work for work, _, _ in index.candidates(shingled.unique())]

        start = time.perf_counter()
        out = search(
            index, texts, find, gates=Gates.of(settings),
            filters=boilerplate_filters(shingler, settings),
        )  # fmt: skip
        seconds = time.perf_counter() - start
        exact = []
        for d in texts:
            if d.kind == "copy":
                shingled = shingler(d.text)
                found = index.match(shingled, d.work) if len(shingled) else None
                exact.append(found.containment if found is not None else 0.0)
        best_other = {
            kind: [
                max((e[3] for e in out.confirmed[i]), default=0.0)
                for i, d in enumerate(texts)
                if d.kind == kind
            ]
            for kind in ("related", "unrelated")
        }
        rows.append(
            {
                "lang": lang,
                "window": k,
                "unit": "characters" if lang == "zh" else "words",
                "containment": _figures(texts, out.confirmed, 1),
                "without_boilerplate": _figures(texts, out.confirmed, 3),
                "copies_exact_containment_median": round(float(np.median(exact)), 3),
                "copies_exact_containment_p10": round(float(np.percentile(exact, 10)), 3),
                "copies_exact_recall": round(float(np.mean(np.array(exact) >= CONFIRM)), 4),
                **{
                    f"{kind}_best_containment_{name}": round(float(f(values)), 3)
                    for kind, values in best_other.items()
                    for name, f in (("p99", lambda v: np.percentile(v, 99)), ("max", max))
                },
                "candidates_per_description": round(sum(out.candidates) / len(texts), 3),
                "index_shingles": index.shingle_count,
                "descriptions_per_s": round(len(texts) / seconds, 1),
            }
        )
    return {"lang": lang, "descriptions": len(texts), "rows": rows}
