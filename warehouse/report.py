"""What `inflow report` shows, read from the published marts only (read-only, no file access).

The report is for readers, so it reads what they read: the published state, never the working
warehouse a nightly run may be writing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import polars as pl

from warehouse.connect import connect_for_readers
from warehouse.sql import sql_text, table

DEFAULT_PERIOD_DAYS = 90
ANOMALIES_LISTED = 50


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
        )


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
