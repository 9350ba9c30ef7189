"""Containment search measurements for bench/near_dup.py, each run in a process of its own.

One child per index: vigil's WorkIndex, datasketch's MinHashLSH (Jaccard) and datasketch's
MinHashLSHEnsemble (containment). Each loads the cached corpus, builds its index over the works
(timed, with the memory it adds), then looks up the descriptions on one core: shingle, find
candidates, confirm the candidates exactly. Confirmation is vigil's `WorkIndex.match` on every
side, so the sides differ only in how they find candidates.
"""

from __future__ import annotations

import copy
import gc
import pickle
import resource
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import psutil

from near_dup_corpus import Description

# Passage lengths: below 60 characters a copy is never reported (the detector's
# min_copied_chars), so that bucket stands apart.
LENGTH_BUCKETS = ((50, 60), (60, 100), (100, 200), (200, 400), (400, 801))
SHORT = 200  # an excerpt shorter than this is "short"
REPORTABLE = 60
CONFIRM = 0.5  # containment a confirmed copy needs (the detector's min_containment)
TOP = 3  # candidates confirmed per description, as in the detector


def rss_mb() -> float:
    return round(psutil.Process().memory_info().rss / 2**20, 1)


def peak_rss_mb() -> float:
    """This process's peak RSS. VmHWM, not ru_maxrss: on Linux ru_maxrss carries over the
    parent's RSS at fork through exec, so a child started by a big parent would show it."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return round(int(line.split()[1]) / 1024, 1)
    except OSError:
        pass
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def entries(works: list[tuple[str, str]]) -> list[tuple[Any, str]]:
    """The works as WorkIndex.build takes them."""
    from vigil.texts.containment import IndexedWork

    return [(IndexedWork(f"w/{i}", "w", str(i), None), text) for i, (_, text) in enumerate(works)]


def load(path: Path) -> tuple[list[tuple[str, str]], list[Description]]:
    with path.open("rb") as handle:
        works, descriptions = pickle.load(handle)
    return works, descriptions


def text_settings() -> Any:
    """The detector's settings as a scan reads them (texts.yaml)."""
    from vigil.detectors.texts import text_settings as read
    from vigil.settings import load_scan_config

    return read(load_scan_config())


def shipped_boilerplate(shingler: Any, settings: Any) -> set[int]:
    """Clause hashes of the detector's shipped boilerplate phrases (its seeds)."""
    phrases = settings.boilerplate.phrases
    return {int(h) for p in phrases for h in shingler(p).clause_hashes.tolist()}


def all_boilerplate(shingler: Any, settings: Any) -> set[int]:
    """Clause hashes of every boilerplate phrase the generator uses: what the scan's learned
    filter would drop at best, on top of the shipped phrases."""
    from near_dup_corpus import language

    phrases = [p for code in ("zh", "en") for p in language(code).boilerplate]
    found = {int(h) for p in phrases for h in shingler(p).clause_hashes.tolist()}
    return found | shipped_boilerplate(shingler, settings)


def boilerplate_filters(shingler: Any, settings: Any) -> tuple[set[int], set[int]]:
    return shipped_boilerplate(shingler, settings), all_boilerplate(shingler, settings)


@dataclass
class Outcome:
    """What one index found for each description, kept small for scoring."""

    # Per description: (work, containment, containment without each boilerplate filter).
    confirmed: list[list[tuple[Any, ...]]] = field(default_factory=list)
    candidates: list[int] = field(default_factory=list)  # candidates returned
    true_candidate: list[bool] = field(default_factory=list)  # the copied work among them
    seconds: dict[str, float] = field(default_factory=dict)


def filtered(match: Any, boilerplate: set[int]) -> float:
    """A match's containment once the clauses in `boilerplate` are left out."""
    total = hit = 0
    for h, shingles, matched in zip(
        match.clause_hashes, match.clause_shingles, match.clause_matched, strict=True
    ):
        if h not in boilerplate:
            total += shingles
            hit += matched
    return hit / total if total else 0.0


Finder = Callable[[Any], list[int]]  # a shingled description -> candidate works, best first


@dataclass(frozen=True)
class Gates:
    """What a description needs to be looked up, as in the detector's pass one."""

    shortest: int  # normalised characters, below which it is not even shingled
    min_shingles: int
    # Characters a candidate must have copied to be matched in full (its passage placed in the
    # work), as the detector asks; fewer, and the candidate is dropped.
    min_copied: int = 0

    @classmethod
    def of(cls, settings: Any) -> Gates:
        shortest = min(
            settings.copyrighted_text.min_copied_chars, settings.copy_paste_cluster.min_chars
        )
        return cls(
            shortest, settings.copyrighted_text.min_shingles,
            settings.copyrighted_text.min_copied_chars,
        )  # fmt: skip


def search(
    index: Any,
    texts: list[Description],
    find: Finder,
    *,
    gates: Gates,
    filters: tuple[set[int], ...],
    top: int = TOP,
) -> Outcome:
    """The detector's pass one for each description (normalise; shingle when long enough;
    find candidates when it has enough shingles; confirm the first `top` exactly), timed per
    stage, scoring done outside the timers."""
    from vigil.texts.shingles import normalize

    shingler = index.shingler
    out = Outcome()
    spent = {"shingle": 0.0, "candidates": 0.0, "confirm": 0.0}
    clock = time.perf_counter
    gc.collect()
    for description in texts:
        t0 = clock()
        text = normalize(description.text)
        shingled = shingler(text, normalized=True) if len(text) >= gates.shortest else None
        t1 = clock()
        works: list[int] = []
        if shingled is not None and len(shingled) >= gates.min_shingles:
            works = find(shingled)
        t2 = clock()
        confirmed = (index.match(shingled, w, min_copied=gates.min_copied) for w in works[:top])
        matches = [m for m in confirmed if m is not None]
        t3 = clock()
        spent["shingle"] += t1 - t0
        spent["candidates"] += t2 - t1
        spent["confirm"] += t3 - t2
        out.candidates.append(len(works))
        out.true_candidate.append(description.work in works)
        out.confirmed.append(
            [
                (m.work, round(m.containment, 4), *(round(filtered(m, f), 4) for f in filters))
                for m in matches
            ]
        )
    out.seconds = {k: round(v, 3) for k, v in spent.items()}
    out.seconds["total"] = round(sum(spent.values()), 3)
    return out


def score(texts: list[Description], out: Outcome) -> dict[str, Any]:
    """Recall of the planted copies (by length, edit, language), false candidates and false
    confirmations, for raw containment and with boilerplate clauses left out."""
    count = len(texts)
    copies = [i for i, d in enumerate(texts) if d.kind == "copy"]
    others = [i for i, d in enumerate(texts) if d.kind != "copy"]

    def found(i: int, column: int) -> bool:
        return any(e[0] == texts[i].work and e[column] >= CONFIRM for e in out.confirmed[i])

    def recall(rows: Iterable[int], column: int) -> dict[str, Any]:
        rows = list(rows)
        hits = sum(found(i, column) for i in rows)
        return {"copies": len(rows), "recall": round(hits / len(rows), 4) if rows else None}

    def breakdown(column: int) -> dict[str, Any]:
        result: dict[str, Any] = {"all": recall(copies, column)}
        result[f"short (< {SHORT} chars)"] = recall(
            (i for i in copies if texts[i].passage_chars < SHORT), column
        )
        result[f"short reportable ({REPORTABLE}-{SHORT - 1} chars)"] = recall(
            (i for i in copies if REPORTABLE <= texts[i].passage_chars < SHORT), column
        )
        result[f"long (>= {SHORT} chars)"] = recall(
            (i for i in copies if texts[i].passage_chars >= SHORT), column
        )
        for low, high in LENGTH_BUCKETS:
            rows = (i for i in copies if low <= texts[i].passage_chars < high)
            result[f"{low}-{high - 1} chars"] = recall(rows, column)
        for edit in ("verbatim", "light", "traditional"):
            result[f"edit {edit}"] = recall((i for i in copies if texts[i].edit == edit), column)
        for lang in ("zh", "en"):
            result[f"lang {lang}"] = recall((i for i in copies if texts[i].lang == lang), column)
            for low, high in LENGTH_BUCKETS:
                rows = (
                    i for i in copies
                    if texts[i].lang == lang and low <= texts[i].passage_chars < high
                )  # fmt: skip
                result[f"lang {lang} {low}-{high - 1} chars"] = recall(rows, column)
        wrong = sum(
            1 for i in range(count) for entry in out.confirmed[i]
            if entry[0] != texts[i].work and entry[column] >= CONFIRM
        )  # fmt: skip
        result["false confirmations per description"] = round(wrong / count, 5)
        for kind in ("related", "unrelated", "boilerplate"):
            rows = [i for i in others if texts[i].kind == kind]
            flagged = sum(any(e[column] >= CONFIRM for e in out.confirmed[i]) for i in rows)
            result[f"{kind} descriptions flagged"] = {
                "share": round(flagged / len(rows), 5) if rows else None,
                "count": flagged,
                "of": len(rows),
            }
        return result

    false_candidates = sum(out.candidates) - sum(out.true_candidate)
    return {
        "descriptions": count,
        "candidates per description": round(sum(out.candidates) / count, 4),
        "false candidates per description": round(false_candidates / count, 4),
        "copied work among candidates": round(
            sum(out.true_candidate[i] for i in copies) / len(copies), 4
        )
        if copies
        else None,
        "containment": breakdown(1),
        "containment without shipped boilerplate": breakdown(2),
        "containment without any boilerplate": breakdown(3),
    }


def rate(count: int, seconds: float) -> float:
    return round(count / seconds, 1) if seconds else 0.0


# --- the children ---------------------------------------------------------------------------


def vigil_child(config: dict[str, Any]) -> dict[str, Any]:
    """Build vigil's WorkIndex over the works and look up every description."""
    from vigil.texts.containment import WorkIndex
    from vigil.texts.shingles import Shingler

    settings = text_settings()
    works, texts = load(Path(config["corpus"]))
    shingler = Shingler(
        config.get("cjk", settings.cjk_window), config.get("words", settings.word_window)
    )
    shingler("预热 warm-up")  # the class table is built once per process, not per index
    boilerplate = boilerplate_filters(shingler, settings)
    before = rss_mb()
    index = WorkIndex(
        shingler, candidate_containment=settings.copyrighted_text.candidate_containment
    )
    indexed = entries(works)
    start = time.perf_counter()
    index.build(indexed)
    build = time.perf_counter() - start
    del indexed
    gc.collect()
    after = rss_mb()

    def find(shingled: Any) -> list[int]:
        return [work for work, _, _ in index.candidates(shingled.unique())]

    gates = Gates.of(settings)
    passes = []
    for _ in range(config.get("repeats", 1)):
        out = search(index, texts, find, gates=gates, filters=boilerplate)
        passes.append(out.seconds)
    best = min(passes, key=lambda s: s["total"])
    scored = score(texts, out)
    peak = peak_rss_mb()  # before the variants, which build indexes of their own
    variants = [
        variant(index, works, texts[:: config["variant_stride"]], v, boilerplate, gates)
        for v in config.get("variants", [])
    ]
    return {
        "index": "vigil WorkIndex",
        "works": len(works),
        "shingles": index.shingle_count,
        "sampled keys": int(index._keys.size),
        "build_s": round(build, 2),
        "index_mb": round(after - before, 1),
        "peak_rss_mb": peak,
        "rss_before_index_mb": before,
        "descriptions_per_s": rate(len(texts), best["total"]),
        "passes_s": passes,
        "stage_us_per_description": {k: round(v / len(texts) * 1e6, 1) for k, v in best.items()},
        **scored,
        "variants": variants,
    }


def variant(
    default: Any,
    works: list[tuple[str, str]],
    texts: list[Description],
    change: dict[str, Any],
    filters: tuple[set[int], ...],
    gates: Gates,
) -> dict[str, Any]:
    """The lookup again on a subsample with one setting changed: the index's sampling
    (`sample_bits`), the detector's `min_shingles`, the passage not placed in the work
    (`place: false`, as if only the matches that are reported were placed), or sampled
    shingles found in more than `max_works_per_key` works left out of the candidate index."""
    from vigil.texts.containment import WorkIndex

    index = default
    if "max_works_per_key" in change:
        index = copy.copy(default)
        keys, counts = np.unique(default._keys, return_counts=True)
        common = keys[counts > change["max_works_per_key"]]
        keep = ~np.isin(default._keys, common)
        index._keys, index._postings = default._keys[keep], default._postings[keep]
    if change.get("sample_bits", 2) != 2:
        index = WorkIndex(
            default.shingler,
            sample_bits=change["sample_bits"],
            candidate_containment=default.candidate_containment,
        )
        index.build(entries(works))
    if not change.get("place", True):
        index._place = lambda *args: (-1, {})

    def find(shingled: Any) -> list[int]:
        return [work for work, _, _ in index.candidates(shingled.unique())]

    try:
        shingles = change.get("min_shingles", gates.min_shingles)
        changed = Gates(gates.shortest, shingles, gates.min_copied)
        out = search(index, texts, find, gates=changed, filters=filters)
    finally:
        index.__dict__.pop("_place", None)
    scored = score(texts, out)
    recall = scored["containment"]
    return {
        "change": change,
        "descriptions": len(texts),
        "sampled_keys": int(index._keys.size),
        "descriptions_per_s": rate(len(texts), out.seconds["total"]),
        "stage_us_per_description": {
            k: round(v / len(texts) * 1e6, 1) for k, v in out.seconds.items()
        },
        "recall": recall["all"]["recall"],
        "recall_short": recall["short (< 200 chars)"]["recall"],
        "recall_short_reportable": recall["short reportable (60-199 chars)"]["recall"],
        "recall_en_60_99": recall["lang en 60-99 chars"]["recall"],
        "recall_en_100_199": recall["lang en 100-199 chars"]["recall"],
        "false_candidates_per_description": scored["false candidates per description"],
        "related_flagged": recall["related descriptions flagged"]["share"],
        "unrelated_flagged": recall["unrelated descriptions flagged"]["share"],
    }


def _minhash_base(num_perm: int) -> Any:
    from datasketch import MinHash

    from vigil.texts.clusters import _same

    return MinHash(num_perm=num_perm, seed=1, hashfunc=_same)


def sketch(base: Any, hashes: npt.NDArray[np.uint32]) -> Any:
    minhash = base.copy()
    minhash.update_batch(hashes.tolist())
    return minhash


def datasketch_child(config: dict[str, Any]) -> dict[str, Any]:
    """Build datasketch's MinHashLSH or MinHashLSHEnsemble over the works (vigil's shingles) and
    look up the descriptions (every `stride`-th one for the ensemble)."""
    from datasketch import MinHashLSH, MinHashLSHEnsemble

    from vigil.texts.containment import WorkIndex
    from vigil.texts.shingles import Shingler

    settings = text_settings()
    works, texts = load(Path(config["corpus"]))
    texts = texts[:: config.get("stride", 1)]
    shingler = Shingler(settings.cjk_window, settings.word_window)
    shingler("预热 warm-up")
    boilerplate = boilerplate_filters(shingler, settings)
    num_perm, threshold, kind = config["num_perm"], config["threshold"], config["kind"]
    base = _minhash_base(num_perm)
    before = rss_mb()
    start = time.perf_counter()
    sets = [shingler(text).unique() for _, text in works]
    if kind == "lsh":
        lsh: Any = MinHashLSH(threshold=threshold, num_perm=num_perm)
        for number, hashes in enumerate(sets):
            if hashes.size:
                lsh.insert(number, sketch(base, hashes))
    else:
        lsh = MinHashLSHEnsemble(threshold=threshold, num_perm=num_perm, num_part=config["parts"])
        lsh.index([(n, sketch(base, h), int(h.size)) for n, h in enumerate(sets) if h.size])
    build = time.perf_counter() - start
    del sets
    gc.collect()
    after = rss_mb()
    peak_after_build = peak_rss_mb()
    # The exact confirmation every side shares (built after the index's memory is read).
    index = WorkIndex(shingler)
    index.build(entries(works))

    querying = [0.0]

    def find(shingled: Any) -> list[int]:
        start = time.perf_counter()
        hashes = shingled.unique()
        minhash = sketch(base, hashes)
        found = lsh.query(minhash) if kind == "lsh" else lsh.query(minhash, int(hashes.size))
        found = list(found)
        querying[0] += time.perf_counter() - start
        # The index does not rank what it returns: rank by exact shared shingles, so that the
        # best 3 are confirmed as on vigil's side.
        shared = [int(index.contains(work, shingled.hashes).sum()) for work in found]
        return [work for _, work in sorted(zip(shared, found, strict=True), reverse=True)]

    out = search(index, texts, find, gates=Gates.of(settings), filters=boilerplate)
    name = "datasketch MinHashLSH" if kind == "lsh" else "datasketch MinHashLSHEnsemble"
    lookups = out.seconds["shingle"] + querying[0]
    return {
        "index": f"{name} (threshold {threshold})",
        "threshold": threshold,
        "num_perm": num_perm,
        **({"num_part": config["parts"]} if kind != "lsh" else {}),
        "works": len(works),
        "build_s": round(build, 2),
        "index_mb": round(after - before, 1),
        "peak_rss_mb_after_build": peak_after_build,
        "rss_before_index_mb": before,
        "descriptions_per_s": rate(len(texts), out.seconds["total"]),
        "descriptions_per_s_shingle_and_query_only": rate(len(texts), lookups),
        "stage_us_per_description": {
            k: round(v / len(texts) * 1e6, 1) for k, v in out.seconds.items()
        },
        "confirmed": "the best 3 of the candidates returned, ranked by exact shared shingles "
        "(WorkIndex.contains, in the candidates stage)",
        **score(texts, out),
    }
