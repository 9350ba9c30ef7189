"""Benchmark: the web API through `vigil serve` on 127.0.0.1, on SQLite and on PostgreSQL.

For each backend, on a fresh store, with one uvicorn worker in its own process and a keep-alive
HTTP client (httpx2) in this one:

- upload: 100k sample listings posted as JSON Lines in batches of 1,000 to
  `POST /api/v1/listings` — listings/s over all batches, per-batch p50/p99 (client wall time
  and the app's own time from `Server-Timing`); the baseline, in the same run, is the naive
  client posting the next 2,000 listings one per request;
- queries: 100k flagged listings seeded straight into the tables (see bench/api_seed.py; the
  uploads stay in the store too), then the first page (50) of `GET /api/v1/assessments` and of
  the review queue page `GET /queue` with typical filters, 20 pages followed by cursor, and a
  page 50,000 rows deep by cursor — p50/p95/p99 and requests/s per kind; the baseline is the
  naive OFFSET query for that deep page, run with SQLAlchemy on the same database.

Writes bench/results/api_upload.json and bench/results/api_queries.json (`_quick` with
--quick). Usage: python bench/api.py [--listings N] [--backends sqlite,postgresql] [--quick]
"""

from __future__ import annotations

import argparse
import html
import json
import re
import shutil
import sys
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import orjson

from api_seed import seed_flagged
from api_server import (
    EMAIL,
    Credentials,
    Database,
    bootstrap,
    client,
    postgres_database,
    served,
    sqlite_database,
    summary,
    timed,
)
from scan_text import machine

ROOT = Path(__file__).resolve().parents[1]
WORK = ROOT / "bench" / "work"
RESULTS = ROOT / "bench" / "results"
BATCH = 1_000
PAGE = 50
WALK_PAGES = 20
UPLOAD_GOAL = 5_000  # listings/s through the API, one worker
QUEUE_GOAL_MS = 200  # queue page server time, p95
MIN_REPEAT = 10
KIND_SECONDS = 5.0
NAIVE_REPEAT = 3  # the OFFSET baseline takes seconds per page on SQLite
NEXT_LINK = re.compile(r'rel="next" href="([^"]+)"')


# --- the sample -----------------------------------------------------------------------------


def sample(total: int) -> tuple[list[bytes], Path]:
    """`total` sample listings (seed 7), generated once and kept under bench/work/."""
    from vigil.services.sample import write_sample

    folder = WORK / f"api-sample-{total}"
    listings = folder / "listings.jsonl"
    if not listings.exists():
        print(f"writing a sample of {total:,} listings ...", flush=True)
        write_sample(folder, listings=total, seed=7, images=False)
    with listings.open("rb") as handle:
        lines = [line if line.endswith(b"\n") else line + b"\n" for line in handle if line.strip()]
    return lines, folder / "truth.jsonl"


def truth_of(path: Path, lines: list[bytes]) -> dict[tuple[str, str], dict[str, Any]]:
    keys = set()
    for line in lines:
        record = orjson.loads(line)
        keys.add((record["platform"], record["listing_id"]))
    found: dict[tuple[str, str], dict[str, Any]] = {}
    with path.open("rb") as handle:
        for line in handle:
            record = orjson.loads(line)
            key = (record["platform"], record["listing_id"])
            if key in keys:
                found[key] = record
    return found


# --- upload ---------------------------------------------------------------------------------


def post_lines(http: Any, body: bytes) -> Any:
    result = timed(
        http,
        "POST",
        "/api/v1/listings",
        content=body,
        headers={"Content-Type": "application/x-ndjson"},
    )
    if result.response.status_code != 200:
        raise RuntimeError(
            f"upload answered {result.response.status_code}: {result.response.text[:500]}"
        )
    return result


def upload_phase(
    base: str, credentials: Credentials, lines: list[bytes], naive: list[bytes], warm: list[bytes]
) -> dict[str, Any]:
    with client(base, credentials) as http:
        first = post_lines(http, b"".join(warm))  # imports, region data, connection pools
        batches = [b"".join(lines[i : i + BATCH]) for i in range(0, len(lines), BATCH)]
        client_ms: list[float] = []
        server_ms: list[float] = []
        accepted = rejected = 0
        started = time.perf_counter()
        for body in batches:
            result = post_lines(http, body)
            answer = result.response.json()
            accepted += answer["accepted"]
            rejected += len(answer["rejected"])
            client_ms.append(result.client_ms)
            server_ms.append(result.server_ms)
        wall = time.perf_counter() - started
        single: list[float] = []
        single_server: list[float] = []
        started = time.perf_counter()
        for line in naive:
            result = post_lines(http, line)
            single.append(result.client_ms)
            single_server.append(result.server_ms)
        naive_wall = time.perf_counter() - started
    rate = accepted / wall
    naive_rate = len(naive) / naive_wall
    return {
        "listings": len(lines),
        "batches": len(batches),
        "accepted": accepted,
        "rejected": rejected,
        "seconds": round(wall, 2),
        "listings_per_second": round(rate, 1),
        "batch_client_ms": summary(client_ms),
        "batch_server_ms": summary(server_ms),
        "server_share": round(sum(server_ms) / 1000 / wall, 3),
        "warmup_batch_ms": round(first.client_ms, 1),
        "naive": {
            "listings": len(naive),
            "listings_per_second": round(naive_rate, 1),
            "request_client_ms": summary(single),
            "request_server_ms": summary(single_server),
        },
        "ratio": round(rate / naive_rate, 1),
    }


# --- queries --------------------------------------------------------------------------------


def query_kinds(truth: dict[tuple[str, str], dict[str, Any]]) -> dict[str, dict[str, str]]:
    """The filters an analyst typically sets, with values taken from the seeded data."""
    brands = Counter(r["brand"] for r in truth.values() if r.get("brand"))
    ranked = [b for b, _ in brands.most_common()]
    today = datetime.now(UTC).date()
    return {
        "no filter": {},
        "verdict": {"verdict": "counterfeit_suspected"},
        "brand (top)": {"brand": ranked[0]},
        "brand (rare)": {"brand": ranked[-1]},
        "platform + risk>=0.8": {"platform": "taobao", "risk_min": "0.8"},
        "province": {"province": "44"},
        "last 7 days": {
            "from": (today - timedelta(days=6)).isoformat(),
            "to": today.isoformat(),
        },
        "search": {"q": "高仿"},
    }


def wait_for_routes(base: str, credentials: Credentials) -> None:
    """The assessments API and the queue page must answer; say so plainly when they do not."""
    with client(base, credentials) as api, client(base, credentials, page=True) as page:
        for http, path in ((api, "/api/v1/assessments?limit=1"), (page, "/queue")):
            status = http.get(path).status_code
            if status != 200:
                raise RuntimeError(f"GET {path} answered {status}; is the route there yet?")


def measure(http: Any, url: str, repeat: int) -> dict[str, Any]:
    """`repeat` requests one after the other; a slow kind stops after KIND_SECONDS once it has
    made MIN_REPEAT (the time budget of the whole run)."""
    client_ms: list[float] = []
    server_ms: list[float] = []
    started = time.perf_counter()
    for done in range(repeat):
        if done >= MIN_REPEAT and time.perf_counter() - started > KIND_SECONDS:
            break
        result = timed(http, "GET", url)
        if result.response.status_code != 200:
            raise RuntimeError(f"GET {url} answered {result.response.status_code}")
        client_ms.append(result.client_ms)
        server_ms.append(result.server_ms)
    found = figures(client_ms, server_ms)
    found["items"] = items_of(result.response)
    return found


def items_of(response: Any) -> int:
    """Listings on a page: the API's items, or the queue's table rows (a queue that fell back
    to its default view because it refused the filters would measure the wrong thing)."""
    if response.headers.get("content-type", "").startswith("application/json"):
        return len(response.json()["items"])
    if 'data-testid="filter-error"' in response.text:
        raise RuntimeError(f"the queue refused the filters of {response.url}")
    return response.text.count('data-listing="')


def figures(client_ms: list[float], server_ms: list[float]) -> dict[str, Any]:
    mean = sum(client_ms) / len(client_ms)
    return {
        "requests": len(client_ms),
        "server_ms": summary(server_ms),
        "client_ms": summary(client_ms),
        "requests_per_second": round(1000 / mean, 1),
    }


def walk(api: Any, page: Any, repeat: int) -> dict[str, Any]:
    """`repeat` walks of WALK_PAGES pages, each page by the cursor the one before handed out:
    through the API (unfiltered) and through the queue's "next page" link (its default view)."""
    found = {}
    for name, http in (("api", api), ("queue", page)):
        client_ms: list[float] = []
        server_ms: list[float] = []
        for _ in range(repeat):
            url: str | None = f"/api/v1/assessments?limit={PAGE}" if name == "api" else "/queue"
            for _page in range(WALK_PAGES):
                if url is None:
                    break
                result = timed(http, "GET", url)
                if result.response.status_code != 200:
                    raise RuntimeError(f"GET {url} answered {result.response.status_code}")
                client_ms.append(result.client_ms)
                server_ms.append(result.server_ms)
                url = next_url(name, result.response)
        found[name] = figures(client_ms, server_ms)
    return found


def next_url(kind: str, response: Any) -> str | None:
    if kind == "api":
        cursor = response.json()["next_cursor"]
        return (
            f"/api/v1/assessments?{urlencode({'limit': PAGE, 'cursor': cursor})}"
            if cursor
            else None
        )
    link = NEXT_LINK.search(response.text)
    return html.unescape(link.group(1)) if link else None


def deep_page(
    database: Database, credentials: Credentials, base: str, depth: int, repeat: int
) -> dict[str, Any]:
    """The page `depth` rows into the member's unfiltered list (by risk): by cursor through the
    API, and the naive way, `ORDER BY ... OFFSET depth`, straight on the database."""
    from sqlalchemy import exists, select

    from vigil.domain.people import Actor, Role
    from vigil.domain.registry import MemberKind
    from vigil.services.assessments import (
        Position,
        assessments,
        encode_cursor,
        parse_filters,
        parse_sort,
    )
    from vigil.store.db import open_store
    from vigil.store.tables import ListingAccessRow, ListingRow, SignalRow

    filters, sort = parse_filters({}), parse_sort(None)
    actor = Actor(
        name=EMAIL, member_id=credentials.member_id, member_kind=MemberKind.MARKETPLACE,
        role=Role.ANALYST, user_id=credentials.user_id, source="bench",
    )  # fmt: skip
    visible = exists().where(
        ListingAccessRow.listing_pk == ListingRow.id,
        ListingAccessRow.member_id == credentials.member_id,
    )
    order = (ListingRow.risk.desc(), ListingRow.id.desc())
    store = open_store(database.url)
    try:

        def naive() -> list[Any]:
            with store.session() as session:
                rows = list(
                    session.scalars(
                        select(ListingRow).where(visible).order_by(*order)
                        .offset(depth).limit(PAGE)
                    )
                )  # fmt: skip
                pks = [row.id for row in rows]
                list(session.scalars(select(SignalRow).where(SignalRow.listing_pk.in_(pks))))
                return pks

        with store.session() as session:
            before = session.execute(
                select(ListingRow.risk, ListingRow.id)
                .where(visible).order_by(*order).offset(depth - 1).limit(1)
            ).one()  # fmt: skip
        cursor = encode_cursor(filters, sort, Position(before.risk, before.id))
        naive_ms: list[float] = []
        direct_ms: list[float] = []
        for _ in range(NAIVE_REPEAT):
            started = time.perf_counter()
            expected = naive()
            naive_ms.append((time.perf_counter() - started) * 1000)
        for _ in range(repeat):
            started = time.perf_counter()
            page = assessments(store, actor, filters, sort=sort, limit=PAGE, cursor=cursor)
            direct_ms.append((time.perf_counter() - started) * 1000)
        if [item.id for item in page.items] != expected:
            raise RuntimeError("the cursor page and the OFFSET page hold different listings")
    finally:
        store.close()
    url = f"/api/v1/assessments?{urlencode({'limit': PAGE, 'cursor': cursor})}"
    with client(base, credentials) as http:
        http.get(url)
        served_page = measure(http, url, repeat)
    return {
        "depth": depth,
        "api_cursor": served_page,
        "service_cursor_ms": summary(direct_ms),
        "naive_offset_ms": summary(naive_ms),
    }


def query_phase(
    base: str,
    database: Database,
    credentials: Credentials,
    kinds: dict[str, dict[str, str]],
    repeat: int,
    depth: int,
) -> dict[str, Any]:
    wait_for_routes(base, credentials)
    api_urls = {
        k: f"/api/v1/assessments?{urlencode({'limit': PAGE, **q})}" for k, q in kinds.items()
    }
    page_urls = {k: f"/queue?{urlencode(q)}" if q else "/queue" for k, q in kinds.items()}
    found: dict[str, Any] = {"api": {}, "queue": {}}
    with client(base, credentials) as api, client(base, credentials, page=True) as page:
        for name in kinds:  # one untimed round: templates, first plans, caches
            api.get(api_urls[name])
            page.get(page_urls[name])
        for name in kinds:
            found["api"][name] = measure(api, api_urls[name], repeat)
            found["queue"][name] = measure(page, page_urls[name], repeat)
        found["cursor_walk"] = walk(api, page, max(1, repeat // 10))
    found["deep_page"] = deep_page(database, credentials, base, depth, repeat)
    return found


# --- one backend ----------------------------------------------------------------------------


def stored_listings(store: Any) -> int:
    """Listings in the store: every upload and every seeded row must be there."""
    from sqlalchemy import func, select

    from vigil.store.tables import ListingRow

    with store.session() as session:
        return int(session.scalar(select(func.count()).select_from(ListingRow)) or 0)


def run_backend(
    backend: str,
    lines: list[bytes],
    truth_path: Path,
    sizes: dict[str, int],
    repeat: int,
    keep: bool = False,
) -> dict[str, Any] | None:
    from vigil.store.db import open_store

    home = WORK / f"api-{backend}"
    shutil.rmtree(home, ignore_errors=True)
    home.mkdir(parents=True)
    database = sqlite_database(home) if backend == "sqlite" else postgres_database(home)
    if database is None:
        return None
    count, naive_count = sizes["listings"], sizes["naive"]
    upload = lines[:count]
    naive = lines[count : count + naive_count]
    warm = lines[count + naive_count : count + naive_count + sizes["warmup"]]
    flagged = lines[count + naive_count + sizes["warmup"] :][:count]
    log = home / "serve.log"
    try:
        credentials = bootstrap(database.url)
        print(f"[{backend}] uploading {count:,} listings in batches of {BATCH:,} ...", flush=True)
        started = time.perf_counter()
        with served(database, log) as base:
            upload_figures = upload_phase(base, credentials, upload, naive, warm)
        upload_figures["phase_seconds"] = round(time.perf_counter() - started, 1)
        upload_figures["postgresql_server"] = database.server or None
        print(
            f"[{backend}]   {upload_figures['listings_per_second']:,.0f} listings/s "
            f"(naive {upload_figures['naive']['listings_per_second']:,.0f}/s)",
            flush=True,
        )
        print(f"[{backend}] seeding {len(flagged):,} flagged listings ...", flush=True)
        started = time.perf_counter()
        truth = truth_of(truth_path, flagged)
        store = open_store(database.url)
        try:
            seeded = seed_flagged(
                store, flagged, truth, member_id=credentials.member_id, reviewer=EMAIL
            )
            stored = stored_listings(store)
        finally:
            store.close()
        expected = count + naive_count + len(warm) + len(flagged)
        if stored != expected:
            raise RuntimeError(f"the store holds {stored:,} listings, expected {expected:,}")
        seeded["seconds"] = round(time.perf_counter() - started, 1)
        print(f"[{backend}]   done in {seeded['seconds']} s; querying ...", flush=True)
        depth = min(50_000, count // 2)
        started = time.perf_counter()
        with served(database, log) as base:
            queries = query_phase(base, database, credentials, query_kinds(truth), repeat, depth)
        queries["phase_seconds"] = round(time.perf_counter() - started, 1)
        queries["postgresql_server"] = database.server or None
        queries["seeded"] = seeded
        queries["stored_listings"] = stored
        return {"upload": upload_figures, "queries": queries}
    finally:
        if keep and database.postgres_name:
            print(f"[{backend}] kept {database.url} (drop it when done)")
        else:
            database.drop()


# --- report ---------------------------------------------------------------------------------


def _cell(found: dict[str, Any]) -> str:
    server, client_ms = found["server_ms"], found["client_ms"]
    return (
        f"{server['p50']:.0f}/{server['p95']:.0f}/{server['p99']:.0f} "
        f"({client_ms['p95']:.0f}) {found['requests_per_second']:.0f}"
    )


def table(results: dict[str, dict[str, Any]]) -> None:
    """The figures side by side, one column per backend."""
    row = "{:32}" + "{:>26}" * len(results)
    lines = [row.format("", *results)]

    def add(label: str, cells: list[str]) -> None:
        lines.append(row.format(label[:32], *cells))

    uploads = [r["upload"] for r in results.values()]
    add("upload, listings/s", [f"{u['listings_per_second']:,.0f}" for u in uploads])
    add("  naive (1 per request)", [f"{u['naive']['listings_per_second']:,.0f}" for u in uploads])
    add(
        "  batch ms p50/p99 (server)",
        [f"{u['batch_server_ms']['p50']:.0f} / {u['batch_server_ms']['p99']:.0f}" for u in uploads],
    )
    add(
        "  batch ms p50/p99 (client)",
        [f"{u['batch_client_ms']['p50']:.0f} / {u['batch_client_ms']['p99']:.0f}" for u in uploads],
    )
    lines.append("first page of 50: server ms p50/p95/p99 (client p95) requests/s")
    queries = [r["queries"] for r in results.values()]
    for area in ("api", "queue"):
        for kind in queries[0][area]:
            add(f"  {area} {kind}", [_cell(q[area][kind]) for q in queries])
    for area in ("api", "queue"):
        add(f"  {area} next pages by cursor", [_cell(q["cursor_walk"][area]) for q in queries])
    deep = [q["deep_page"] for q in queries]
    add("deep page by cursor, API", [_cell(d["api_cursor"]) for d in deep])
    add("  by cursor, service only p50", [f"{d['service_cursor_ms']['p50']:.1f}" for d in deep])
    add("  naive OFFSET p50", [f"{d['naive_offset_ms']['p50']:.1f}" for d in deep])
    print("\n" + "\n".join(lines) + "\n")  # fmt: skip


def write(name: str, report: dict[str, Any], quick: bool) -> None:
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / (f"{name}_quick.json" if quick else f"{name}.json")
    path.write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"wrote {path.relative_to(ROOT)}")


def reports(results: dict[str, dict[str, Any]], params: dict[str, Any], quick: bool) -> None:
    first = next(iter(results))  # the headline figures are the first backend's (SQLite)
    head = results[first]
    upload = head["upload"]
    write(
        "api_upload",
        {
            "name": "api_upload",
            "metric": "listings_per_second_batches_of_1000",
            "value": upload["listings_per_second"],
            "unit": "listings/s",
            "baseline": {
                "name": "the same listings posted one per request (naive client)",
                "value": upload["naive"]["listings_per_second"],
            },
            "ratio": upload["ratio"],
            "machine": machine(),
            "params": {**params, "backend": first},
            "goal": {
                "listings_per_second": UPLOAD_GOAL,
                "met": {
                    b: r["upload"]["listings_per_second"] >= UPLOAD_GOAL
                    for b, r in results.items()
                },
            },
            "backends": {b: r["upload"] for b, r in results.items()},
        },
        quick,
    )  # fmt: skip
    deep = head["queries"]["deep_page"]
    value = deep["api_cursor"]["server_ms"]["p50"]
    base = deep["naive_offset_ms"]["p50"]
    worst = {
        b: max(f["server_ms"]["p95"] for f in r["queries"]["queue"].values())
        for b, r in results.items()
    }
    write(
        "api_queries",
        {
            "name": "api_queries",
            "metric": "deep_page_server_ms_p50_by_cursor",
            "value": value,
            "unit": "ms (lower is better)",
            "baseline": {
                "name": f"naive ORDER BY risk OFFSET {deep['depth']:,} LIMIT {PAGE} page "
                "(+ its signals), SQLAlchemy straight on the database",
                "value": base,
            },
            "ratio": round(value / base, 3),
            "machine": machine(),
            "params": {**params, "backend": first},
            "goal": {
                "queue_server_ms_p95": QUEUE_GOAL_MS,
                "worst_queue_server_ms_p95": worst,
                "met": {b: v <= QUEUE_GOAL_MS for b, v in worst.items()},
                "queue_kinds_over_goal": {
                    b: {
                        kind: f["server_ms"]["p95"]
                        for kind, f in r["queries"]["queue"].items()
                        if f["server_ms"]["p95"] > QUEUE_GOAL_MS
                    }
                    for b, r in results.items()
                },
            },
            "backends": {b: r["queries"] for b, r in results.items()},
        },
        quick,
    )  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--listings", type=int, default=None, help="listings (default 100,000)")
    parser.add_argument("--backends", default="sqlite,postgresql", help="comma-separated")
    parser.add_argument("--quick", action="store_true", help="10,000 listings, to try the script")
    parser.add_argument("--repeat", type=int, default=None, help="requests per query kind")
    parser.add_argument(
        "--keep", action="store_true", help="keep the PostgreSQL database (to EXPLAIN queries)"
    )
    args = parser.parse_args()
    count = args.listings or (10_000 if args.quick else 100_000)
    if count < 2 * BATCH:
        parser.error(f"--listings: at least {2 * BATCH:,}")
    backends = [b.strip() for b in args.backends.split(",") if b.strip()]
    unknown = set(backends) - {"sqlite", "postgresql"}
    if unknown or not backends:
        parser.error("--backends: a comma-separated list of sqlite and postgresql")
    repeat = args.repeat or (10 if args.quick else 40)
    sizes = {"listings": count, "naive": min(2_000, count // 5), "warmup": 200}
    WORK.mkdir(parents=True, exist_ok=True)
    lines, truth_path = sample(2 * count + sizes["naive"] + sizes["warmup"])
    results: dict[str, dict[str, Any]] = {}
    for backend in backends:
        found = run_backend(backend, lines, truth_path, sizes, repeat, args.keep)
        if found is not None:
            results[backend] = found
    if not results:
        sys.exit("no backend could be measured")
    params = {
        "listings": count, "batch": BATCH, "naive_listings": sizes["naive"],
        "flagged_listings": count, "page": PAGE, "repeat": repeat, "walk_pages": WALK_PAGES,
        "sample_seed": 7, "workers": 1, "backends": list(results),
    }  # fmt: skip
    table(results)
    reports(results, params, args.quick)


if __name__ == "__main__":
    main()
