"""What `inflow report` shows, read from the published marts only (read-only, no file access).

The report is for readers, so it reads what they read: the published state, never the working
warehouse a nightly run may be writing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import duckdb
import polars as pl

from warehouse.connect import connect_for_readers
from warehouse.sql import sql_text, table

DEFAULT_PERIOD_DAYS = 90
ANOMALIES_LISTED = 50
# The report's shortlist per platform, and how many of its top creators the trajectory shows.
SHORTLISTED = 10
TRAJECTORIES = 3


@dataclass(frozen=True)
class ReportData:
    """Every frame the report draws, with the period and tier they were read for."""

    first_day: date
    last_day: date
    period_start: date
    period_end: date
    tier: str
    tier_order: list[str]
    tier_weekly: pl.DataFrame
    tier_transitions: pl.DataFrame
    er_by_tier: pl.DataFrame
    risers_growth: pl.DataFrame
    risers_engagement: pl.DataFrame
    anomalies: pl.DataFrame
    anomalies_weekly: pl.DataFrame
    freshness: pl.DataFrame
    quality: pl.DataFrame
    runs: pl.DataFrame
    campaigns: pl.DataFrame
    campaign_creators: pl.DataFrame
    shortlist: pl.DataFrame
    trajectory: pl.DataFrame


class NothingToReport(Exception):
    """The published marts hold no follower days, or the chosen period is empty."""


def report_period(
    first_day: date, last_day: date, start: date | None, end: date | None
) -> tuple[date, date]:
    """The migration period: by default the last 90 days, clipped to the history."""
    period_end = min(end or last_day, last_day)
    period_start = max(start or period_end - timedelta(days=DEFAULT_PERIOD_DAYS), first_day)
    if period_start > period_end:
        raise NothingToReport(f"the period {period_start} .. {period_end} is empty")
    return period_start, period_end


def read_report_data(
    published: Path, *, tier: str = "micro", start: date | None = None, end: date | None = None
) -> ReportData:
    with connect_for_readers(published) as con:

        def read(name: str, params: list | None = None) -> pl.DataFrame:
            return table(con, sql_text("sql", f"report_{name}.sql"), params)

        first_day, last_day = read("period").row(0)
        if last_day is None:
            raise NothingToReport(f"{published} holds no follower days yet")
        period_start, period_end = report_period(first_day, last_day, start, end)
        return ReportData(
            first_day=first_day,
            last_day=last_day,
            period_start=period_start,
            period_end=period_end,
            tier=tier,
            tier_order=read("tier_order")["tier"].to_list(),
            tier_weekly=read("tier_weekly"),
            tier_transitions=read("tier_transitions", [period_start, period_end]),
            er_by_tier=read("er_by_tier"),
            risers_growth=read("risers_growth", [tier]),
            risers_engagement=read("risers_engagement", [tier]),
            anomalies=read("anomalies", [ANOMALIES_LISTED]),
            anomalies_weekly=read("anomalies_weekly"),
            freshness=read("freshness"),
            quality=table(con, sql_text("sql", "latest_checks.sql")),
            runs=read("runs"),
            campaigns=read("campaigns"),
            campaign_creators=read("campaign_creators", [None]),
            **_shortlists(con, tier),
        )


def _shortlists(con: duckdb.DuckDBPyConnection, tier: str) -> dict[str, pl.DataFrame]:
    """The report's shortlist (the top SHORTLISTED of `inflow shortlist` on each platform) and
    the monthly trajectory of the first TRAJECTORIES of each."""
    platforms = sorted(set(table(con, sql_text("sql", "shortlist_choices.sql"))["platform"]))
    lists = [
        _ranked(con, ShortlistRequest(p, tier, limit=SHORTLISTED)).select(
            pl.lit(p).alias("platform"), *REPORT_SHORTLIST
        )
        for p in platforms
    ]
    shortlist = pl.concat(lists) if lists else pl.DataFrame(schema={"platform": pl.String})
    top = (
        shortlist.filter(pl.col("rank") <= TRAJECTORIES)
        .select(pl.format("{}:{}", "platform", "account_id"))
        .to_series()
        .to_list()
        if lists
        else []
    )
    return {
        "shortlist": shortlist,
        "trajectory": table(con, sql_text("sql", "report_trajectory.sql"), [top]),
    }


def campaign_kpis(
    published: Path, campaign_id: str
) -> tuple[pl.DataFrame, pl.DataFrame, list[str]]:
    """One campaign's KPI row and creator rows (cheapest engagement first), and every known id
    (the KPI frame is empty when the id is unknown)."""
    with connect_for_readers(published) as con:
        campaigns = table(con, sql_text("sql", "report_campaigns.sql"))
        creators = table(con, sql_text("sql", "report_campaign_creators.sql"), [campaign_id])
    known = sorted(campaigns["campaign_id"].to_list())
    return campaigns.filter(pl.col("campaign_id") == campaign_id), creators, known


@dataclass(frozen=True)
class ShortlistRequest:
    """Which creators `inflow shortlist` lists (see shortlist.sql for the ranking)."""

    platform: str
    tier: str
    category: str | None = None
    min_er_percentile: float | None = None
    max_flags: int | None = None
    limit: int = 20


# The report's shortlist columns (HTML: the reasons fit).
REPORT_SHORTLIST = (
    "rank",
    "handle",
    "account_id",
    "category",
    "followers",
    "er_median_pct",
    "er_percentile",
    "growth_30d_pct",
    "consistency",
    "flags",
    "flag_reasons",
)
# What the shortlist shows as a terminal table: the ranking, growth and which flags fired (CSV
# and JSON carry every column, the flags' reasons with their numbers among them).
SHORTLIST_TABLE = (
    "rank",
    "handle",
    "category",
    "followers",
    "er_median_pct",
    "er_percentile",
    "growth_30d_pct",
    "growth_percentile_tier",
    "consistency",
    "coverage",
    "flags",
    "flagged",
)


class UnknownChoice(ValueError):
    """A platform without scorecards, a tier outside the marts' scheme or a category no creator
    of the platform has; the message lists the known ones."""


def shortlist(published: Path, request: ShortlistRequest) -> pl.DataFrame:
    """The ranked creators of the request (none when no creator matches); raises UnknownChoice
    naming the known values when the platform, tier or category is unknown."""
    with connect_for_readers(published) as con:
        check_choice(
            table(con, sql_text("sql", "shortlist_choices.sql")),
            table(con, sql_text("sql", "report_tier_order.sql"))["tier"].to_list(),
            request,
        )
        return _ranked(con, request)


def _ranked(con: duckdb.DuckDBPyConnection, request: ShortlistRequest) -> pl.DataFrame:
    return table(
        con,
        sql_text("sql", "shortlist.sql"),
        [
            request.platform,
            request.tier,
            request.category,
            request.min_er_percentile,
            request.max_flags,
            request.limit,
        ],
    )


def check_choice(known: pl.DataFrame, tiers: list[str], request: ShortlistRequest) -> None:
    """Raise UnknownChoice for a platform without scorecards, a tier outside the scheme the
    marts are built with (`tiers`) or a category no creator of the platform has."""

    def refuse(what: str, value: str, values: list[str]) -> None:
        listed = ", ".join(values) or "none yet (run `inflow run` or `make demo`)"
        raise UnknownChoice(f"unknown {what} {value!r}; known: {listed}")

    platforms = sorted(set(known["platform"].to_list()))
    if request.platform not in platforms:
        refuse("platform", request.platform, platforms)
    if request.tier not in tiers:
        refuse("tier", request.tier, tiers)
    on_platform = known.filter(pl.col("platform") == request.platform)
    categories = sorted(set(on_platform["category"].to_list()))
    if request.category is not None and request.category not in categories:
        refuse(f"category on {request.platform}", request.category, categories)
