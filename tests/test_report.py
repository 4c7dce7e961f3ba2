"""`inflow report`: the page renders every chart in headless Chromium, offline, from the published
marts; the numbers it draws are checked on a hand-built fixture."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from datetime import date, timedelta
from html.parser import HTMLParser
from pathlib import Path

import polars as pl
import pytest

from report.render import REFERENCE_ER_BANDS, charts, er_by_tier_frame, write_report
from schemas.marts import DIM_ACCOUNT, FCT_TIER_HISTORY
from schemas.quality import SUITES
from tests.conftest import START, read_table
from warehouse.connect import connect
from warehouse.publish import current_state
from warehouse.report import NothingToReport, read_report_data, report_period
from warehouse.schema import apply_mart_ddl
from warehouse.sql import sql_text, table

pytestmark = pytest.mark.xdist_group("published_marts")

CHROMIUM = "/usr/bin/chromium"
# The flags the machine's browser tests use: no GPU, no sandbox as root, nothing phoning home.
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
CHART_IDS = {
    "tier-distribution",
    "tier-transitions",
    "er-by-tier",
    "risers-growth",
    "risers-engagement",
    "anomalies-weekly",
    "creator-trajectory",
}
# Drawn marks inside each chart's SVG (axes and legends are other roles).
COUNT_MARKS = """
Array.from(document.querySelectorAll('.chart')).map(chart => [
  chart.id,
  chart.querySelectorAll('svg g.role-mark path, svg g.role-mark text').length,
])
"""


def render_in_chromium(page_file: Path, screenshot: Path) -> dict:
    """Open the page in headless Chromium; what drew, what failed and what it tried to fetch."""
    from playwright.sync_api import sync_playwright

    assert Path(CHROMIUM).exists(), "chromium is missing: `make test` installs it (make browser)"
    console_errors: list[str] = []
    page_errors: list[str] = []
    requests: list[str] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
        try:
            page = browser.new_page(viewport={"width": 1200, "height": 900})
            page.on(
                "console", lambda m: console_errors.append(m.text) if m.type == "error" else None
            )
            page.on("pageerror", lambda error: page_errors.append(str(error)))
            page.on("request", lambda request: requests.append(request.url))
            page.goto(page_file.resolve().as_uri())
            page.wait_for_function(
                "window.inflowReport && "
                "window.inflowReport.rendered + window.inflowReport.errors.length "
                "=== window.inflowReport.expected",
                timeout=60_000,
            )
            state = page.evaluate("window.inflowReport")
            marks = dict(page.evaluate(COUNT_MARKS))
            page.screenshot(path=str(screenshot), full_page=True)
        finally:
            browser.close()
    return {
        "state": state,
        "marks": marks,
        "console_errors": console_errors,
        "page_errors": page_errors,
        "external_requests": [url for url in requests if not url.startswith("file:")],
    }


def external_references(page: str) -> list[str]:
    """src/href attributes of the page's tags (script bodies are not parsed as tags)."""
    found: list[str] = []

    class Collector(HTMLParser):
        def handle_starttag(self, tag, attrs):
            found.extend(f"{tag} {value}" for name, value in attrs if name in {"src", "href"})

    Collector().feed(page)
    return found


@pytest.fixture(scope="module")
def report_file(published_marts, tmp_path_factory) -> Path:
    return write_report(published_marts, tmp_path_factory.mktemp("report") / "report.html")


def test_every_chart_renders_in_headless_chromium_offline(report_file, tmp_path):
    screenshot = tmp_path / "report.png"
    seen = render_in_chromium(report_file, screenshot)
    assert seen["state"]["errors"] == []
    assert seen["state"]["expected"] == seen["state"]["rendered"] == len(CHART_IDS)
    assert set(seen["marks"]) == CHART_IDS
    assert all(count > 0 for count in seen["marks"].values()), seen["marks"]
    assert seen["console_errors"] == []
    assert seen["page_errors"] == []
    assert seen["external_requests"] == []
    assert screenshot.stat().st_size > 10_000


def test_a_chart_that_fails_to_draw_is_reported_not_hidden(report_file, tmp_path):
    # Fault injection: break one spec in the page; the test hook and the page must say so.
    page = report_file.read_text()
    broken = tmp_path / "broken.html"
    broken.write_text(page.replace('"mark": {"type": "area"}', '"mark": {"type": "no-such-mark"}'))
    assert broken.read_text() != page
    seen = render_in_chromium(broken, tmp_path / "broken.png")
    assert seen["state"]["rendered"] == len(CHART_IDS) - 1
    assert [e.split(":")[0] for e in seen["state"]["errors"]] == ["tier-distribution"]
    assert seen["console_errors"]


def test_the_page_is_self_contained_and_small(report_file, published_marts):
    page = report_file.read_text()
    assert external_references(page) == []
    assert report_file.stat().st_size < 3_000_000
    data = read_report_data(published_marts)
    for platform in ("instagram", "tiktok", "youtube"):
        assert f"<td>{platform}</td>" in page
    assert f"{data.period_start} to {data.period_end}" in page


def test_the_quality_panel_shows_every_check_and_names_stale_platforms(
    report_file, published_marts
):
    """The night validated the staged batch (with freshness) and then the marts in two runs: the
    panel shows both, and the stale data (dated months before today) as a failed check naming
    its platforms, though the latest run (marts) passed."""
    from report.render import quality_headline

    checks = read_report_data(published_marts).quality
    assert checks.height == sum(len(s.checks) for s in SUITES)
    assert set(checks["stage"]) == {"staging", "marts"}
    failed = checks.filter(~pl.col("passed"))
    assert failed.select("suite", "check_name", "concerns").rows() == [
        ("freshness", "latest_snapshot_recent", "instagram, tiktok, youtube")
    ]
    age = (date.today() - (START + timedelta(days=74))).days
    page = " ".join(report_file.read_text().split())
    assert f"instagram, tiktok, youtube stale ({age} days)" in page
    assert "<td>FAILED (warning)</td>" in page
    assert quality_headline(checks) in page
    assert "1 warning failed (freshness.latest_snapshot_recent)" in quality_headline(checks)
    # Freshness reads in words, not True/False.
    assert "stale: over 3 days old" in page and "<td>True</td>" not in page


def test_every_flow_of_the_night_is_recorded_in_meta_runs(published_marts):
    from typer.testing import CliRunner

    from cli.app import app

    working = published_marts.parent.parent / "w.duckdb"
    runs = read_table(
        working,
        "select flow, status, checks, checks_failed, accounts_rebuilt, published_state, files_loaded "
        "from meta.runs order by started_at",
    )
    assert runs["flow"].to_list() == [
        "nightly",
        "ingest",
        "validate",
        "transform",
        "validate",
        "publish",
    ]
    assert set(runs["status"]) == {"succeeded"}
    validations = runs.filter(pl.col("flow") == "validate")
    assert validations["checks"].sum() == sum(len(s.checks) for s in SUITES)
    assert validations["checks_failed"].to_list() == [1, 0]  # freshness, in the staging stage
    rebuilt = runs.filter(pl.col("flow") == "transform")["accounts_rebuilt"].item()
    assert rebuilt == read_table(working, "select count(*) as n from marts.dim_account")["n"].item()
    state = runs.filter(pl.col("flow") == "publish")["published_state"].item()
    assert current_state(published_marts.parent).name == state
    assert runs.filter(pl.col("flow") == "nightly")["published_state"].item() == state
    # Readers see the same runs; the two still running when the state was copied say so.
    published_runs = read_report_data(published_marts).runs
    assert (
        dict(published_runs.select("flow", "status").rows())["publish"] == "running when published"
    )
    status = CliRunner().invoke(
        app, ["status", "--warehouse", str(working)], env={"COLUMNS": "300"}
    )
    assert status.exit_code == 0
    for flow in ("nightly", "ingest", "validate", "transform", "publish"):
        assert flow in status.output


def test_risers_are_in_the_chosen_tier(published_marts):
    data = read_report_data(published_marts, tier="micro")
    assert data.risers_growth.height > 0 and data.risers_engagement.height > 0
    con = connect(published_marts, read_only=True)
    try:
        micro = set(
            table(con, "select handle from marts.dim_account where tier_latest = 'micro'")["handle"]
        )
    finally:
        con.close()
    assert set(data.risers_growth["handle"]) <= micro
    assert set(data.risers_engagement["handle"]) <= micro
    assert data.risers_growth.group_by("platform").len()["len"].max() <= 5
    for platform_risers in data.risers_growth.partition_by("platform"):
        growth = platform_risers["growth_rate_30d"].to_list()
        assert growth == sorted(growth, reverse=True)


def test_the_shortlist_ranks_each_platform_and_charts_the_top_of_it(published_marts, report_file):
    data = read_report_data(published_marts, tier="micro")
    cards = read_table(
        published_marts,
        "select platform, account_id, er_percentile_tier from marts.agg_creator_scorecard "
        "where tier = 'micro'",
    )
    assert data.shortlist.height > 0
    for platform, listed in data.shortlist.group_by("platform"):
        peers = cards.filter(pl.col("platform") == platform[0])
        assert listed["rank"].to_list() == list(range(1, min(10, peers.height) + 1))
        assert set(listed["account_id"]) <= set(peers["account_id"])  # micro creators only
        best = (
            peers["er_percentile_tier"].sort(descending=True, nulls_last=True).head(listed.height)
        )
        assert listed["er_percentile"].to_list() == best.round(1).to_list()
        # The trajectory follows the first three of the list, every month they have.
        top = listed.sort("rank").head(3)
        drawn = data.trajectory.filter(pl.col("platform") == platform[0])
        assert set(drawn["creator"]) == set(top["handle"])
    months = read_table(
        published_marts, "select count(distinct month) as n from marts.fct_creator_monthly"
    )
    assert data.trajectory.group_by("creator").len()["len"].max() == months["n"][0]
    page = report_file.read_text()
    assert "Shortlist: the top 10 micro creators of each platform by ER percentile" in page
    for platform in set(data.shortlist["platform"]):  # a table per platform
        assert f"<h3>{platform}</h3>" in page
    assert "creator-trajectory" in page


@pytest.fixture
def tiny_marts(tmp_path) -> Path:
    """Published-style marts with four accounts whose tiers are known by hand."""
    path = tmp_path / "tiny.duckdb"
    con = connect(path)
    apply_mart_ddl(con)
    history = [
        # A: nano until 2026-03-10, then micro: moves up inside the period.
        ("instagram", "a", "nano", date(2026, 1, 1), date(2026, 3, 10), 5_000),
        ("instagram", "a", "micro", date(2026, 3, 10), None, 10_500),
        # B: micro throughout.
        ("instagram", "b", "micro", date(2026, 1, 1), None, 40_000),
        # C: first seen after the period starts: not in the matrix.
        ("instagram", "c", "nano", date(2026, 3, 20), None, 2_000),
        # D: micro, down to nano after the period ends: still micro -> micro.
        ("instagram", "d", "micro", date(2026, 1, 1), date(2026, 4, 5), 12_000),
        ("instagram", "d", "nano", date(2026, 4, 5), None, 9_000),
    ]
    columns = ", ".join(FCT_TIER_HISTORY.column_names)
    con.executemany(
        f"insert into marts.fct_tier_history ({columns}) values ($1, $2, $3, $4, $5, $4, $6)",
        history,
    )
    con.executemany(
        f"insert into marts.dim_account ({', '.join(DIM_ACCOUNT.column_names)}) "
        "values ($1, $2, $2, $2, 'beauty', '2026-01-01', '2026-04-10', 1, 'x', false, null)",
        [("instagram", a) for a in "abcd"],
    )
    con.close()
    return path


def test_the_transition_matrix_counts_tiers_at_both_ends_of_the_period(tiny_marts):
    con = connect(tiny_marts, read_only=True)
    try:
        matrix = table(
            con,
            sql_text("sql", "report_tier_transitions.sql"),
            [date(2026, 3, 1), date(2026, 3, 31)],
        )
    finally:
        con.close()
    rows = {(r["from_tier"], r["to_tier"]): r for r in matrix.to_dicts()}
    assert set(rows) == {("nano", "micro"), ("micro", "micro")}
    assert rows["nano", "micro"]["accounts"] == 1
    assert rows["nano", "micro"]["share_of_from_tier"] == 1.0
    assert rows["micro", "micro"]["accounts"] == 2  # b and d
    assert rows["micro", "micro"]["share_of_from_tier"] == 1.0


def test_the_period_defaults_to_90_days_clipped_to_the_history():
    first, last = date(2026, 1, 1), date(2026, 6, 29)
    assert report_period(first, last, None, None) == (date(2026, 3, 31), last)
    assert report_period(date(2026, 5, 1), last, None, None) == (date(2026, 5, 1), last)
    assert report_period(first, last, date(2026, 2, 1), date(2026, 9, 1)) == (
        date(2026, 2, 1),
        last,
    )
    with pytest.raises(NothingToReport):
        report_period(first, last, date(2026, 6, 1), date(2026, 5, 1))


def test_reference_bands_attach_only_where_known():
    import polars as pl

    er = pl.DataFrame(
        {
            "platform": ["instagram", "instagram", "youtube"],
            "tier": ["micro", "nano", "micro"],
            "er_median": [0.04, 0.07, 0.02],
        }
    )
    joined = er_by_tier_frame(er).sort("platform", "tier")
    assert joined["reference_low"].to_list() == [
        REFERENCE_ER_BANDS["instagram", "micro"][0],
        None,
        None,
    ]
    assert joined["reference_high"].to_list() == [
        REFERENCE_ER_BANDS["instagram", "micro"][1],
        None,
        None,
    ]


def test_an_empty_chart_says_so_instead_of_drawing_nothing(published_marts):
    data = read_report_data(published_marts, tier="no_such_tier")
    drawn = charts(data)
    assert drawn["risers-growth"][1] is None and drawn["risers-engagement"][1] is None
    assert drawn["tier-distribution"][1] is not None


@pytest.mark.parametrize("command", [["report"], ["export", "--out", "x"], ["sql", "select 1"]])
def test_reader_commands_without_a_published_state_exit_2(tmp_path, command):
    result = subprocess.run(
        [sys.executable, "-m", "cli.app", *command],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=os.environ | {"COLUMNS": "200"},
    )
    assert result.returncode == 2
    assert "nothing published" in result.stderr


def test_cli_report_writes_the_page(published_marts, tmp_path):
    published_dir = tmp_path / "published"
    published_dir.mkdir()
    shutil.copy(published_marts, published_dir / "inflow.duckdb")
    out = tmp_path / "out" / "r.html"
    environment = os.environ | {"INFLOW_PUBLISHED": str(published_dir)}
    result = subprocess.run(
        [sys.executable, "-m", "cli.app", "report", "--out", str(out), "--from", "2026-02-01"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=environment,
    )
    assert result.returncode == 0, result.stderr
    assert out.exists() and "report: " in result.stdout
    assert "Tier migrations 2026-02-01 to" in out.read_text()
    bad = subprocess.run(
        [sys.executable, "-m", "cli.app", "report", "--from", "yesterday"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=environment,
    )
    assert bad.returncode == 2
    assert "--from must be a date" in bad.stderr


def test_growth_risers_leave_out_accounts_with_an_anomaly_in_their_30_days(tmp_path):
    """Hand-built: three micro accounts on 2026-04-10; the fastest grew by a bought jump."""
    path = tmp_path / "risers.duckdb"
    con = connect(path)
    apply_mart_ddl(con)
    last = date(2026, 4, 10)
    accounts = [
        # (account, growth_rate_30d, anomaly days ago: None for a clean account)
        ("bought", 0.80, 12),
        ("steady", 0.20, None),
        ("old_spike", 0.10, 45),  # an anomaly, but before the 30 days
    ]
    for account, growth, anomaly_ago in accounts:
        con.execute(
            "insert into marts.dim_account (platform, account_id, handle, last_seen, tier_latest) "
            "values ('instagram', $1, $1, $2, 'micro')",
            [account, last],
        )
        con.execute(
            "insert into marts.fct_account_daily (platform, account_id, date, followers, "
            "growth_rate_30d, growth_base_date_30d, tier, is_growth_anomaly) values "
            "('instagram', $1, $2, 20000, $3, $4, 'micro', false)",
            [account, last, growth, last - timedelta(days=30)],
        )
        # The base snapshot growth is measured from: 20000 / (1 + growth) followers.
        con.execute(
            "insert into marts.fct_account_daily (platform, account_id, date, followers, tier, "
            "is_growth_anomaly) values ('instagram', $1, $2, $3, 'micro', false)",
            [account, last - timedelta(days=30), round(20000 / (1 + growth))],
        )
        if anomaly_ago is not None:
            con.execute(
                "insert into marts.fct_account_daily (platform, account_id, date, followers, "
                "tier, is_growth_anomaly, anomaly_rule) values ('instagram', $1, $2, 15000, "
                "'micro', true, 'robust_z')",
                [account, last - timedelta(days=anomaly_ago)],
            )
    risers = table(con, sql_text("sql", "report_risers_growth.sql"), ["micro"])
    con.close()
    assert risers["handle"].to_list() == ["steady", "old_spike"]
    # The follower base is shown beside the rate: 20000 / 1.2 and 20000 / 1.1.
    assert risers["followers_base"].to_list() == [16667, 18182]
    from warehouse.status import headlines

    (columns, rows) = headlines(path)["top risers micro"]
    assert [dict(zip(columns, row, strict=True))["handle"] for row in rows] == [
        "steady",
        "old_spike",
    ]


def test_data_docs_list_every_validation_offline_and_fetch_nothing(published_marts):
    """GX's own pages load jQuery, Bootstrap and Vega from CDNs and its logo with the context
    id: after inflow rewrites them, Chromium with the network blocked shows the index's
    validation results and a result page, and nothing tries to leave the machine."""
    from playwright.sync_api import sync_playwright

    site = published_marts.parent.parent / "gx" / "uncommitted" / "data_docs" / "local_site"
    blocked: list[str] = []
    errors: list[str] = []

    def route(handle):
        if handle.request.url.startswith("file:"):
            handle.continue_()
        else:
            blocked.append(handle.request.url)
            handle.abort()

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
        try:
            page = browser.new_page()
            page.route("**/*", route)
            page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
            page.on("pageerror", lambda error: errors.append(str(error)))
            page.goto((site / "index.html").as_uri())
            rows = page.eval_on_selector_all(
                "#validation-results tbody tr",
                "rows => rows.map(r => Array.from(r.cells).map(c => c.innerText))",
            )
            links = page.eval_on_selector_all(
                "#validation-results tbody a", "links => links.map(a => a.href)"
            )
            freshness = next(link for link in links if "/validations/freshness/" in link)
            page.goto(freshness)
            result_page = page.inner_text("body")
            page.goto(next(link for link in links if "/fct_account_daily/" in link))
            daily_page = page.inner_text("body")
        finally:
            browser.close()
    assert blocked == [] and errors == []
    # Both validations of the night, every suite, the stale data failed.
    assert sorted(row[1] for row in rows) == sorted(s.name for s in SUITES)
    assert {row[1]: row[2] for row in rows}["freshness"] == "FAILED"
    assert "Data asset: inflow-freshness" in result_page and "Data asset: None" not in result_page
    assert "change_share_of_followers" in daily_page and "_change_share" not in daily_page
    for page_file in site.rglob("*.html"):
        assert not [
            r
            for r in external_references(page_file.read_text())
            if "://" in r.split()[1] and r.startswith(("script", "link", "img"))
        ], page_file


def test_charts_explain_their_marks_align_weeks_and_show_the_follower_base(
    report_file, published_marts
):
    data = read_report_data(published_marts)
    drawn = {chart_id: chart.to_dict() for chart_id, (_, chart) in charts(data).items() if chart}
    # The ER chart's legend names the bar, the tick and the band.
    layers = drawn["er-by-tier"]["spec"]["layer"]
    legend = [json.loads(layer["transform"][0]["calculate"]) for layer in layers]
    assert sorted(legend) == ["industry reference range", "interquartile range", "median"]
    assert {layer["encoding"]["color"]["field"] for layer in layers} == {"shows"}
    assert layers[0]["encoding"]["color"]["scale"]["domain"] == list(
        ["interquartile range", "median", "industry reference range"]
    )
    # Which pairs have a reference range is said in the title, from the one table of them.
    page = " ".join(report_file.read_text().split())
    assert "instagram micro, instagram mega, tiktok micro" in page
    # Anomaly weeks are categories labelled by their Monday: bars sit on their labels.
    assert drawn["anomalies-weekly"]["encoding"]["x"]["type"] == "ordinal"
    # Growth risers say the follower count they grew from.
    growth = drawn["risers-growth"]["layer"]
    assert growth[1]["mark"]["type"] == "text"
    labels = [row["base_label"] for row in drawn["risers-growth"]["data"]["values"]]
    first = data.risers_growth.row(0, named=True)
    assert labels[0] == f"{first['followers_base']:,} → {first['followers']:,} followers"


def test_every_flow_of_the_night_leaves_a_prefect_artifact(published_marts, prefect_api):
    """Each run in meta.runs has its markdown artifact in Prefect, under its flow run's id."""
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterKey

    keys = {
        "ingest": "ingest-summary",
        "validate": "quality-summary",
        "transform": "transform-summary",
        "publish": "publish-summary",
        "nightly": "nightly-summary",
    }
    runs = read_table(
        published_marts.parent.parent / "w.duckdb", "select flow, run_id from meta.runs"
    )
    with get_client(sync_client=True) as client:
        artifacts = client.read_artifacts(
            artifact_filter=ArtifactFilter(key=ArtifactFilterKey(any_=list(keys.values())))
        )
    by_run = {(a.key, str(a.flow_run_id)) for a in artifacts}
    for flow, run_id in runs.rows():
        assert (keys[flow], run_id) in by_run, flow
    publish_run = dict(runs.rows())["publish"]  # other tests' nights share this Prefect API
    publish = next(a for a in artifacts if str(a.flow_run_id) == publish_run)
    assert current_state(published_marts.parent).name in publish.data


def test_the_campaign_command_prints_one_campaign_and_refuses_an_unknown_id(
    published_marts, tmp_path
):
    published_dir = tmp_path / "published"
    published_dir.mkdir()
    shutil.copy(published_marts, published_dir / "inflow.duckdb")
    known = read_table(published_marts, "select campaign_id, posts, cpe from marts.agg_campaign")
    assert "glowco-collab" in known["campaign_id"].to_list()
    # The sample campaigns exercise every attribution rule as the first that matched.
    rules = read_table(
        published_marts, "select distinct attributed_by from marts.fct_campaign_posts"
    )
    assert set(rules["attributed_by"]) == {"post_ids", "hashtags", "mentions", "paid_partnership"}
    environment = os.environ | {"INFLOW_PUBLISHED": str(published_dir), "COLUMNS": "200"}

    def campaign(campaign_id: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, "-m", "cli.app", "campaign", campaign_id],
            capture_output=True,
            text=True,
            cwd=tmp_path,
            env=environment,
        )

    shown = campaign("glowco-collab")
    assert shown.returncode == 0, shown.stderr
    glow = known.filter(pl.col("campaign_id") == "glowco-collab").row(0, named=True)
    assert "│ posts " in shown.stdout and str(glow["posts"]) in shown.stdout
    assert "creators (cheapest engagement first)" in shown.stdout
    unknown = campaign("no-such-campaign")
    assert unknown.returncode == 2
    listed = ", ".join(sorted(known["campaign_id"].to_list()))
    assert f"unknown campaign 'no-such-campaign'; known: {listed}" in " ".join(
        unknown.stderr.split()
    )
    page = tmp_path / "r.html"
    subprocess.run(
        [sys.executable, "-m", "cli.app", "report", "--out", str(page)],
        check=True,
        capture_output=True,
        cwd=tmp_path,
        env=environment,
    )
    text = page.read_text()
    assert "Campaigns: what each delivered and cost" in text and "glowco-collab" in text
