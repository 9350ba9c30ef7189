"""The dashboard page and its JSON API: rendered in both languages, within tenancy."""

from __future__ import annotations

import itertools
import random
import re
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from tests.services.test_dashboard import (
    ACME,
    GLOBEX,
    OPERATOR,
    Seed,
    SeedScan,
    check_dashboard,
    load_brands,
    random_seeds,
    seed_scans,
    store_seeds,
    visible,
)
from tests.web.conftest import Web
from vigil.services.dashboard import FLAGGED, Dashboard
from vigil.web.pages.dashboard import labelled_days, scale_for

# Only globex may see these: a seller and a brand that top globex's dashboard, and names that
# would run as markup if the page did not escape them.
SECRET_SELLER = "Globex-only <b>seller</b>"
SECRET_BRAND = "<img src=x onerror=alert(1)>"


def today() -> date:
    return datetime.now(UTC).date()


def globex_secrets(day: date) -> list[Seed]:
    noon = datetime.combine(day, datetime.min.time(), UTC) + timedelta(hours=12)
    return [
        Seed(
            listing_id=f"G{n}",
            platform="globex-mall",
            verdict="counterfeit_suspected",
            risk=0.9,
            brand=SECRET_BRAND,
            category="secret-category",
            seller_id="globex-seller",
            seller_name=SECRET_SELLER,
            region="广东省深圳市南山区",
            province_code="440000",
            area="urban",
            scanned_at=noon - timedelta(days=n % 5),
            access={"globex": "open"},
        )
        for n in range(60)
    ]


@pytest.fixture
def seeds(web: Web, tmp_path: Path) -> list[Seed]:
    load_brands(web.store, tmp_path, members=False)
    seeds = random_seeds(600, random.Random(11), today()) + globex_secrets(today())
    store_seeds(web.store, seeds, seed_scans())
    return seeds


def test_the_page_draws_every_chart_in_english(web: Web, seeds: list[Seed]) -> None:
    page = web.client("viewer@acme.test").get("/")
    assert page.status_code == 200
    html = page.text
    flagged = sum(1 for s in visible(seeds, ACME, 30, today()) if s.verdict in FLAGGED)
    assert re.search(rf'data-testid="total-flagged">{flagged:,}<', html)
    for heading in ("Flagged per day", "By platform", "By brand", "By category", "By region",
                    "Top sellers", "Recent scans"):  # fmt: skip
        assert heading in html
    # The per-day chart: an SVG with a title, one column group per day, each with a tooltip.
    chart = html[
        html.index('<svg class="columns"') : html.index(
            "</svg>", html.index('<svg class="columns"')
        )
    ]
    assert (
        'role="img"' in chart
        and '<title id="per-day-title">Flagged listings per day</title>' in chart
    )
    assert chart.count('<g class="day">') == 30
    assert chart.count("<title>") == 30  # a tooltip per day
    # Bars, the urban/rural split, and the tables behind the charts.
    assert 'class="bar stacked"' in html and 'class="area-urban"' in html
    assert html.count('<details class="behind">') == 5
    assert 'href="/?days=30" aria-current="page"' in html
    assert 'href="/dashboard.css"' not in html and "/static/dashboard.css" in html


def test_the_page_speaks_chinese(web: Web, seeds: list[Seed]) -> None:
    client = web.client("viewer@acme.test")
    client.cookies.set("vigil_lang", "zh")
    html = client.get("/").text
    assert "<h1>总览</h1>" in html
    for text in (
        "每日可疑商品",
        "按平台",
        "按地区",
        "可疑商品最多的卖家",
        "以表格显示",
        "城镇",
        "农村",
    ):
        assert text in html
    assert re.search(r"\d+月\d+日", html)  # day labels written the Chinese way
    assert "Flagged per day" not in html


def test_a_member_sees_only_its_own_figures(web: Web, seeds: list[Seed]) -> None:
    acme = web.client("viewer@acme.test").get("/?days=7").text
    globex = web.client("viewer@globex.test").get("/?days=7").text
    for secret in ("Globex-only", "globex-mall", "secret-category", "onerror"):
        assert secret not in acme
        assert secret in globex
    # Escaped where shown: the names read as text, never as markup.
    assert "Globex-only &lt;b&gt;seller&lt;/b&gt;" in globex and "<b>seller</b>" not in globex
    assert "&lt;img src=x onerror=alert(1)&gt;" in globex and "<img src=x" not in globex


def test_recent_scans_are_the_members_own_and_everyone_s_for_the_operator(
    web: Web, seeds: list[Seed]
) -> None:
    acme = web.client("viewer@acme.test").get("/").text
    operator = web.client("viewer@alliance.test").get("/").text
    assert re.findall(r'href="/scans/(scan-\d\d)"', acme) == [
        "scan-08", "scan-06", "scan-05", "scan-03", "scan-00",
    ]  # fmt: skip
    assert re.findall(r'href="/scans/(scan-\d\d)"', operator) == [
        f"scan-{n:02d}" for n in range(9, 4, -1)
    ]
    assert '<th scope="col">Member</th>' in operator and '<th scope="col">Member</th>' not in acme


@pytest.mark.parametrize("days", [7, 90])
def test_the_period_switch_redraws_the_chart(web: Web, seeds: list[Seed], days: int) -> None:
    html = web.client("viewer@acme.test").get(f"/?days={days}").text
    assert html.count('<g class="day">') == days
    assert f'href="/?days={days}" aria-current="page"' in html


def test_an_empty_store_shows_zeros_and_friendly_notes(web: Web) -> None:
    page = web.client("viewer@acme.test").get("/")
    assert page.status_code == 200
    assert 'data-testid="total-listings">0<' in page.text
    assert "No flagged listings in this period." in page.text
    assert page.text.count('<g class="day">') == 30
    # A brand owner that runs no scans learns where its flagged listings come from.
    assert "No scans yet." not in page.text
    assert "come from scans run by the members that upload listings" in page.text
    # A marketplace that could run one is told how; its viewers only that there is none yet.
    analyst = web.client("analyst@shopmart.test").get("/").text
    assert "No scans yet." in analyst and "Upload listings and start a scan" in analyst
    viewer = web.client("viewer@shopmart.test").get("/").text
    assert "No scans yet." in viewer and "Upload listings and start a scan" not in viewer


def test_a_brand_owner_without_scans_never_sees_other_members_scans(
    web: Web, tmp_path: Path
) -> None:
    """globex has flagged listings but started no scan; acme did: globex's card explains where
    its listings come from and lists no scan of anyone else."""
    load_brands(web.store, tmp_path, members=False)
    acme_scan = SeedScan(
        id="scan-acme", member_id="acme", started_at=datetime.now(UTC), flagged=3, scanned=9
    )
    store_seeds(web.store, globex_secrets(today()), [acme_scan])
    globex = web.client("viewer@globex.test")
    html = globex.get("/").text
    assert re.search(r'data-testid="total-flagged">60<', html)
    assert 'data-testid="no-scans"' in html and 'data-testid="recent-scans"' not in html
    assert "scan-acme" not in html and "No scans yet." not in html
    assert "come from scans run by the members that upload listings" in html
    globex.cookies.set("vigil_lang", "zh")
    assert "您的可疑商品来自上传商品的成员所运行的扫描" in globex.get("/").text
    assert "scan-acme" in web.client("viewer@acme.test").get("/").text


def test_other_buckets_are_a_total_without_a_bar(web: Web, seeds: list[Seed]) -> None:
    """The brands beyond the top ten add up to one number; the bars are scaled to the top ten,
    so the largest bar of the list is the largest brand's, at full width."""
    html = web.client("viewer@alliance.test").get("/?days=90").text
    ranking = html[html.index('id="by-brand"') : html.index("</ol>", html.index('id="by-brand"'))]
    other = ranking[ranking.index('<li class="other">') :]
    assert "other brands" in other and "<svg" not in other
    widths = [float(w) for w in re.findall(r'class="fill" width="([\d.]+)%"', ranking)]
    assert widths and max(widths) == 100.0 and widths == sorted(widths, reverse=True)


@pytest.mark.parametrize("days", ["0", "367", "week"])
def test_a_bad_period_is_a_clear_400_page(web: Web, days: str) -> None:
    page = web.client("viewer@acme.test").get(f"/?days={days}")
    assert page.status_code == 400
    assert "days" in page.text


def test_the_api_returns_the_same_figures_as_json(web: Web, seeds: list[Seed]) -> None:
    answer = web.api("viewer@acme.test", scope="read").get("/api/v1/dashboard", params={"days": 30})
    assert answer.status_code == 200
    body = answer.json()
    assert set(body) == {
        "days", "start", "end", "totals", "per_day", "by_platform", "by_brand", "by_category",
        "by_province", "areas", "top_sellers", "recent_scans",
    }  # fmt: skip
    assert body["end"] == today().isoformat() and len(body["per_day"]) == 30
    assert set(body["totals"]) == {"listings", "flagged", "confirmed", "dismissed", "open"}
    assert set(body["by_brand"]) == {"top", "other", "other_buckets"}
    assert set(body["by_province"][0]) == {"code", "name", "flagged", "areas"}
    assert set(body["areas"]) == {"urban", "rural", "unknown"}
    assert set(body["top_sellers"][0]) == {"platform", "seller_id", "name", "flagged", "max_risk"}
    check_dashboard(Dashboard.model_validate(body), seeds, ACME, 30, today())


def test_the_api_counts_within_tenancy(web: Web, seeds: list[Seed]) -> None:
    for who, actor in (("viewer@globex.test", GLOBEX), ("analyst@alliance.test", OPERATOR)):
        body = web.api(who, scope="read").get("/api/v1/dashboard?days=7").json()
        assert body["totals"]["listings"] == len(visible(seeds, actor, 7, today()))
        assert any(s["seller_id"] == "globex-seller" for s in body["top_sellers"])
    acme = web.api("viewer@acme.test", scope="read").get("/api/v1/dashboard?days=7").json()
    assert all(s["seller_id"] != "globex-seller" for s in acme["top_sellers"])
    assert all(p["key"] != "globex-mall" for p in acme["by_platform"])


@pytest.mark.parametrize("days", ["0", "367", "week"])
def test_the_api_refuses_a_bad_period_with_a_message(web: Web, days: str) -> None:
    answer = web.api("viewer@acme.test", scope="read").get(f"/api/v1/dashboard?days={days}")
    assert answer.status_code == 422
    assert answer.json()["detail"].startswith("days:")


def test_signed_out_visitors_are_sent_to_sign_in(web: Web) -> None:
    anonymous = web.anonymous()
    page = anonymous.get("/?days=7")
    assert page.status_code == 303
    assert page.headers["location"] == "/login?next=/%3Fdays%3D7"
    api = anonymous.get("/api/v1/dashboard")
    assert api.status_code == 401 and "sign in" in api.json()["detail"]


def test_the_api_is_documented(web: Web) -> None:
    spec = web.anonymous().get("/api/v1/openapi.json").json()
    operation = spec["paths"]["/api/v1/dashboard"]["get"]
    assert operation["parameters"][0]["name"] == "days"
    assert "Dashboard" in spec["components"]["schemas"]


@pytest.mark.parametrize(
    ("largest", "top", "ticks"),
    [(0, 4, [0, 1, 2, 3, 4]), (1, 1, [0, 1]), (7, 8, [0, 2, 4, 6, 8]), (37, 40, [0, 10, 20, 30, 40]),
     (1234, 1500, [0, 500, 1000, 1500])],
)  # fmt: skip
def test_the_day_chart_scale_is_round_and_holds_the_largest_day(
    largest: int, top: int, ticks: list[int]
) -> None:
    scale = scale_for(largest)
    assert (scale.top, scale.ticks) == (top, ticks)


@pytest.mark.parametrize("days", [1, 7, 30, 90, 366])
def test_day_labels_are_few_evenly_spaced_and_end_today(days: int) -> None:
    shown = sorted(labelled_days(days))
    assert shown[-1] == days - 1 and len(shown) <= 8
    assert len({b - a for a, b in itertools.pairwise(shown)}) <= 1
