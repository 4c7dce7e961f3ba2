"""`inflow report`: one self-contained HTML dashboard from the published marts.

Charts are Vega-Lite specs built with Altair; the page embeds the Vega/Vega-Lite/vega-embed
bundle that vl-convert ships, once, so the file works offline (no CDN) and every chart draws
as SVG. Chart builders are pure functions of the frames `warehouse.report` reads.
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from pathlib import Path

import altair as alt
import polars as pl
from jinja2 import Environment, PackageLoader, select_autoescape

from warehouse.report import (
    ANOMALIES_LISTED,
    SHORTLISTED,
    TRAJECTORIES,
    ReportData,
    read_report_data,
)

# Industry reference ranges of ER by followers (DESIGN.md, "Reference figures"): context for
# readers, not rules. Only ranges are drawn; single figures are left out.
REFERENCE_ER_BANDS: dict[tuple[str, str], tuple[float, float]] = {
    ("instagram", "micro"): (0.03, 0.08),
    ("instagram", "mega"): (0.012, 0.017),
    ("tiktok", "micro"): (0.08, 0.18),
}
CHART_WIDTH = 640


def _values(frame: pl.DataFrame) -> alt.Data:
    # Dates as ISO strings: Vega-Lite parses them; no pandas round trip.
    converted = frame.with_columns(pl.col(pl.Date, pl.Datetime).dt.to_string())
    return alt.Data(values=converted.to_dicts())


def tier_distribution_chart(weekly: pl.DataFrame, tier_order: list[str]) -> alt.FacetChart:
    """Accounts per confirmed tier each week, stacked, one row per platform."""
    return (
        alt.Chart(_values(weekly))
        .mark_area()
        .encode(
            x=alt.X("week_start:T", title="week"),
            y=alt.Y("accounts:Q", stack="zero", title="accounts"),
            color=alt.Color("tier:N", sort=tier_order, scale=alt.Scale(domain=tier_order)),
            order=alt.Order("tier_rank:Q"),
            tooltip=["platform:N", "week_start:T", "tier:N", "accounts:Q"],
        )
        .transform_calculate(tier_rank=f"indexof({json.dumps(tier_order)}, datum.tier)")
        .properties(width=CHART_WIDTH, height=140)
        .facet(row=alt.Row("platform:N", title=None))
        .resolve_scale(y="independent")
    )


def tier_transition_chart(transitions: pl.DataFrame, tier_order: list[str]) -> alt.FacetChart:
    """Transition matrix for the period: tier at its start (rows) to tier at its end (columns)."""
    base = alt.Chart().encode(
        x=alt.X("to_tier:N", sort=tier_order, title="tier at the end"),
        y=alt.Y("from_tier:N", sort=tier_order, title="tier at the start"),
    )
    cells = base.mark_rect().encode(
        color=alt.Color(
            "share_of_from_tier:Q",
            title="share of the row",
            scale=alt.Scale(scheme="blues", domain=[0, 1]),
        ),
        tooltip=[
            "platform:N",
            "from_tier:N",
            "to_tier:N",
            "accounts:Q",
            alt.Tooltip("share_of_from_tier:Q", format=".1%"),
        ],
    )
    labels = base.mark_text(fontSize=11).encode(
        text="accounts:Q",
        color=alt.condition(
            "datum.share_of_from_tier > 0.5", alt.value("white"), alt.value("black")
        ),
    )
    return (
        alt.layer(cells, labels, data=_values(transitions))
        .properties(width=210, height=210)
        .facet(column=alt.Column("platform:N", title=None))
    )


def er_by_tier_frame(er_by_tier: pl.DataFrame) -> pl.DataFrame:
    """The month's ER quartiles per tier with the industry reference range where one is known."""
    bands = pl.DataFrame(
        [
            {"platform": platform, "tier": tier, "reference_low": low, "reference_high": high}
            for (platform, tier), (low, high) in REFERENCE_ER_BANDS.items()
        ],
        schema={
            "platform": pl.String,
            "tier": pl.String,
            "reference_low": pl.Float64,
            "reference_high": pl.Float64,
        },
    )
    return er_by_tier.join(bands, on=["platform", "tier"], how="left")


# The ER chart's three marks, in its legend: what each shows.
ER_LEGEND = {
    "interquartile range": "#4c78a8",
    "median": "black",
    "industry reference range": "#f2b134",
}


def _er_legend(chart: alt.Chart, mark: str) -> alt.Chart:
    """A layer's colour as a legend entry (a constant `shows` field): one legend names the
    bar, the tick and the band."""
    return chart.transform_calculate(shows=json.dumps(mark)).encode(
        color=alt.Color(
            "shows:N",
            scale=alt.Scale(domain=list(ER_LEGEND), range=list(ER_LEGEND.values())),
            legend=alt.Legend(title=None, orient="bottom"),
        )
    )


def er_by_tier_chart(er_by_tier: pl.DataFrame, tier_order: list[str]) -> alt.FacetChart:
    """Median ER per post by tier with its interquartile range, against the reference ranges."""
    x = alt.X("tier:N", sort=tier_order, title=None)
    percent = alt.Axis(format="%")
    reference = (
        alt.Chart()
        .mark_bar(opacity=0.35, size=34)
        .encode(
            x=x,
            y=alt.Y("reference_low:Q", axis=percent, title="engagement rate per post"),
            y2="reference_high:Q",
            tooltip=[
                alt.Tooltip("reference_low:Q", format=".1%", title="industry low"),
                alt.Tooltip("reference_high:Q", format=".1%", title="industry high"),
            ],
        )
    )
    quartiles = (
        alt.Chart()
        .mark_bar(size=12)
        .encode(
            x=x,
            y=alt.Y("er_p25:Q", axis=percent),
            y2="er_p75:Q",
            tooltip=[
                "tier:N",
                "posts:Q",
                alt.Tooltip("er_p25:Q", format=".2%"),
                alt.Tooltip("er_median:Q", format=".2%"),
                alt.Tooltip("er_p75:Q", format=".2%"),
            ],
        )
    )
    median = (
        alt.Chart()
        .mark_tick(thickness=2, size=20)
        .encode(x=x, y=alt.Y("er_median:Q", axis=percent))
    )
    return (
        alt.layer(
            _er_legend(reference, "industry reference range"),
            _er_legend(quartiles, "interquartile range"),
            _er_legend(median, "median"),
            data=_values(er_by_tier_frame(er_by_tier)),
        )
        .properties(width=210, height=220)
        .facet(column=alt.Column("platform:N", title=None))
        .resolve_scale(y="independent")
    )


def reference_bands_note() -> str:
    """Which platform-tier pairs have an industry range (the others have none drawn)."""
    return ", ".join(f"{platform} {tier}" for platform, tier in REFERENCE_ER_BANDS)


def risers_chart(risers: pl.DataFrame, measure: str, title: str) -> alt.TopLevelMixin:
    """Horizontal bars of the top accounts, labelled `handle (platform)`; where the frame has
    the follower base (growth risers), each bar says "12,300 -> 15,100 followers" beside it: a
    rate means little without the audience it grew from."""
    labelled = risers.with_columns(
        account=pl.concat_str(pl.col("handle"), pl.lit(" ("), pl.col("platform"), pl.lit(")"))
    )
    if "followers_base" in labelled.columns:
        labelled = labelled.with_columns(
            base_label=pl.format(
                "{} → {} followers",
                _thousands(pl.col("followers_base")),
                _thousands(pl.col("followers")),
            )
        )
    x = alt.X(f"{measure}:Q", axis=alt.Axis(format="%"), title=title)
    y = alt.Y("account:N", sort="-x", title=None)
    bars = (
        alt.Chart()
        .mark_bar()
        .encode(
            x=x,
            y=y,
            color=alt.Color("platform:N"),
            tooltip=[
                "account:N",
                *[
                    f"{c}:{'N' if labelled[c].dtype == pl.String else 'Q'}"
                    for c in labelled.columns
                    if c not in {"account", "handle", "platform", measure}
                ],
                alt.Tooltip(f"{measure}:Q", format=".2%"),
            ],
        )
    )
    layers: list[alt.Chart] = [bars]
    if "base_label" in labelled.columns:
        layers.append(
            alt.Chart()
            .mark_text(align="left", dx=4, fontSize=10)
            .encode(x=x, y=y, text="base_label:N")
        )
    return alt.layer(*layers, data=_values(labelled)).properties(
        width=CHART_WIDTH - 180, height=alt.Step(16)
    )


def _thousands(column: pl.Expr) -> pl.Expr:
    """12300 -> "12,300" (Polars has no thousands separator in format)."""
    return (
        column.cast(pl.String)
        .str.reverse()
        .str.replace_all(r"(\d{3})", "$1,")
        .str.reverse()
        .str.strip_chars_start(",")
    )


def _by_platform(frame: pl.DataFrame) -> list[tuple[str, pl.DataFrame]]:
    """The frame's rows per platform, platforms in alphabetical order."""
    if frame.is_empty():
        return []
    return [
        (str(rows["platform"][0]), rows)
        for rows in sorted(frame.partition_by("platform"), key=lambda r: r["platform"][0])
    ]


def trajectory_chart(trajectory: pl.DataFrame) -> alt.FacetChart:
    """Followers and median ER per month of the shortlist's top creators: one column per
    platform, one row per measure (each with its own scale), a line per creator."""
    measures = {"followers": "followers", "er_median": "median ER per post at 7 days"}
    long = trajectory.unpivot(
        index=["platform", "creator", "month"],
        on=list(measures),
        variable_name="measure",
        value_name="value",
    ).with_columns(pl.col("measure").replace(measures))
    return (
        alt.Chart(_values(long))
        .mark_line(point=True)
        .encode(
            x=alt.X("month:T", title=None, axis=alt.Axis(format="%b %Y")),
            y=alt.Y("value:Q", title=None),
            color=alt.Color("creator:N"),
            tooltip=["creator:N", "platform:N", "month:T", "measure:N", "value:Q"],
        )
        .properties(width=(CHART_WIDTH - 120) // 3, height=140)
        .facet(row=alt.Row("measure:N", title=None), column=alt.Column("platform:N", title=None))
        .resolve_scale(y="independent", color="independent")
    )


def anomalies_chart(weekly: pl.DataFrame) -> alt.Chart:
    """Growth anomalies per week, stacked by the rule that fired. Weeks are ordinal (labelled by
    their Monday): on a time axis Vega centres each bar on its date and ticks at its own
    (Sunday or month) boundaries, so bars sat off the weeks they count."""
    return (
        alt.Chart(_values(weekly))
        .mark_bar()
        .encode(
            x=alt.X(
                "week_start:O",
                title="week (starting Monday)",
                axis=alt.Axis(labelAngle=-45, labelOverlap="greedy"),
            ),
            y=alt.Y("anomalies:Q", title="flagged account-days"),
            color=alt.Color("anomaly_rule:N", title="rule"),
            tooltip=["week_start:N", "anomaly_rule:N", "anomalies:Q"],
        )
        .properties(width=CHART_WIDTH, height=160)
    )


def _format(column: str, value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        if column.startswith(("er_", "growth_", "share_")):
            return f"{value:.2%}"
        return f"{value:,.4g}"
    if isinstance(value, int) and not isinstance(value, bool):
        return f"{value:,}"
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M UTC")
    return str(value)


def html_table(frame: pl.DataFrame) -> dict:
    """Columns and formatted cells for the template."""
    return {
        "columns": frame.columns,
        "rows": [
            [_format(c, v) for c, v in zip(frame.columns, row, strict=True)] for row in frame.rows()
        ],
    }


def freshness_table(freshness: pl.DataFrame, today: date, stale_after_days: int) -> pl.DataFrame:
    """Freshness per platform with the data's age and, in words, whether it is stale."""
    return freshness.with_columns(
        age_days=(pl.lit(today) - pl.col("latest_follower_day")).dt.total_days(),
    ).with_columns(
        status=pl.when(pl.col("age_days") > stale_after_days)
        .then(pl.format("stale: over {} days old", pl.lit(stale_after_days)))
        .otherwise(pl.lit("fresh"))
    )


def quality_table(checks: pl.DataFrame) -> pl.DataFrame:
    """Every latest check, failures first, with its result in words and what it concerns."""
    result = (
        pl.when(pl.col("passed"))
        .then(pl.lit("passed"))
        .otherwise(pl.format("FAILED ({})", pl.col("severity")))
    )
    return checks.select(
        "stage",
        pl.col("suite"),
        pl.col("check_name").alias("check"),
        result.alias("result"),
        pl.col("message").alias("what failed"),
        pl.col("checked_at").alias("checked at"),
    )


def quality_headline(checks: pl.DataFrame) -> str:
    """e.g. "23 checks: 22 passed, 1 warning failed (freshness.latest_snapshot_recent)"."""
    failed = checks.filter(~pl.col("passed"))
    parts = [f"{checks.height} checks: {checks.height - failed.height} passed"]
    for severity in ("critical", "warning"):
        named = failed.filter(pl.col("severity") == severity)
        if named.height:
            names = ", ".join(f"{s}.{c}" for s, c in named.select("suite", "check_name").rows())
            parts.append(f"{named.height} {severity} failed ({names})")
    return ", ".join(parts)


def charts(data: ReportData) -> dict[str, tuple[str, alt.TopLevelMixin | None]]:
    """Chart id -> (title, chart or None when there is nothing to draw)."""

    def unless_empty(frame: pl.DataFrame, build) -> alt.TopLevelMixin | None:
        return build(frame) if frame.height else None

    order = data.tier_order
    return {
        "tier-distribution": (
            "Tier distribution over time (accounts per confirmed tier, weekly)",
            unless_empty(data.tier_weekly, lambda f: tier_distribution_chart(f, order)),
        ),
        "tier-transitions": (
            f"Tier migrations {data.period_start} to {data.period_end} (accounts, colour: share of the starting tier)",
            unless_empty(data.tier_transitions, lambda f: tier_transition_chart(f, order)),
        ),
        "er-by-tier": (
            "Engagement rate by tier (each creator's median likes + comments at 7 days / followers):"
            " median and interquartile range across creators"
            + (f" in {data.er_by_tier['month'][0]:%B %Y}" if data.er_by_tier.height else "")
            + ". Shaded: the industry reference range where a source gives one ("
            + reference_bands_note()
            + "; DESIGN.md, reference figures); other tiers have none.",
            unless_empty(data.er_by_tier, lambda f: er_by_tier_chart(f, order)),
        ),
        "risers-growth": (
            f"Top risers in the {data.tier} tier: follower growth over 30 days, from the follower"
            " count beside each bar (accounts with a growth anomaly in those days left out)",
            unless_empty(
                data.risers_growth,
                lambda f: risers_chart(f, "growth_rate_30d", "growth over 30 days"),
            ),
        ),
        "risers-engagement": (
            f"Top risers in the {data.tier} tier: median ER per post at 7 days (likes + comments),"
            " last 4 weeks (3+ posts)",
            unless_empty(
                data.risers_engagement,
                lambda f: risers_chart(f, "er_median", "median ER per post"),
            ),
        ),
        "anomalies-weekly": (
            "Audience growth anomalies per week",
            unless_empty(data.anomalies_weekly, anomalies_chart),
        ),
        "creator-trajectory": (
            f"Trajectory of the top {TRAJECTORIES} of each platform's {data.tier} shortlist: "
            "followers and median ER per post at 7 days by month (fct_creator_monthly)",
            unless_empty(data.trajectory, trajectory_chart),
        ),
    }


def render_html(
    data: ReportData,
    *,
    source: str,
    stale_after_days: int,
    generated_at: datetime,
    data_docs: str | None = None,
) -> str:
    """The whole page: the JS bundle, each chart's spec, and the tables."""
    import vl_convert
    from altair.utils.html import vl_version_for_vl_convert

    drawn = charts(data)
    specs = {
        chart_id: chart.to_dict() for chart_id, (_, chart) in drawn.items() if chart is not None
    }
    environment = Environment(
        loader=PackageLoader("report", "templates"), autoescape=select_autoescape()
    )
    return environment.get_template("report.html").render(
        data=data,
        source=source,
        generated_at=generated_at.strftime("%Y-%m-%d %H:%M UTC"),
        charts=[(chart_id, title, chart_id in specs) for chart_id, (title, _) in drawn.items()],
        # Escaped for a <script> block: no "</" can end it early.
        specs_json=json.dumps(specs).replace("</", "<\\/"),
        # vl-convert's stub makes `snippet` required; at run time it defaults to the whole bundle.
        vega_bundle=vl_convert.javascript_bundle(vl_version=vl_version_for_vl_convert()),  # type: ignore[call-arg]
        freshness=html_table(
            freshness_table(data.freshness, generated_at.date(), stale_after_days)
        ),
        quality=html_table(quality_table(data.quality)),
        quality_headline=quality_headline(data.quality),
        data_docs=data_docs,
        runs=html_table(data.runs),
        campaigns=html_table(data.campaigns),
        campaign_creators=html_table(data.campaign_creators),
        anomalies=html_table(data.anomalies),
        shortlists=[
            (platform, html_table(rows.drop("platform")))
            for platform, rows in _by_platform(data.shortlist)
        ],
        shortlist_tier=data.tier,
        shortlisted=SHORTLISTED,
        stale_after_days=stale_after_days,
        anomalies_listed=ANOMALIES_LISTED,
    )


def write_report(
    published: Path,
    out: Path,
    *,
    tier: str = "micro",
    start: date | None = None,
    end: date | None = None,
    stale_after_days: int = 3,
    data_docs: Path | None = None,
) -> Path:
    """Read the published marts, render the page, write it atomically; returns its path.

    `data_docs`: great-expectations' Data Docs index, linked from the quality section when it
    exists (a file:// link: the docs are a local site)."""
    data = read_report_data(published, tier=tier, start=start, end=end)
    page = render_html(
        data,
        source=str(published),
        stale_after_days=stale_after_days,
        generated_at=datetime.now(UTC),
        data_docs=data_docs.resolve().as_uri() if data_docs and data_docs.exists() else None,
    )
    out.parent.mkdir(parents=True, exist_ok=True)
    partial = out.with_name(f".{out.name}.partial")
    partial.write_text(page, encoding="utf-8")
    partial.replace(out)
    return out
