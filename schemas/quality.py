"""Data-quality suites as code: each check's table, rule, severity and the reason it exists.

`critical` checks stop publishing (the run exits non-zero, naming the suite and the check);
`warning` checks are recorded and shown but do not block. The suites are built into
great-expectations objects at run time (`build_suite`), so the repository keeps only this
file, not great-expectations' generated configuration.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Final, Literal

from schemas import tables

if TYPE_CHECKING:
    from great_expectations import ExpectationSuite

# A check's severity: a failed critical check blocks publishing, a failed warning is shown.
Severity = Literal["critical", "warning"]
CRITICAL: Final = "critical"
WARNING: Final = "warning"

# No snapshot can predate the platform (ingest rejects such rows; the check stays as a guard).
PLATFORM_LAUNCH = tables.PLATFORM_LAUNCH
# A day's follower change beyond half the audience is implausible but possible (a purge, a
# viral day): a warning, never a rejection.
MAX_DAILY_CHANGE_SHARE = 0.5
# interactions / followers above 1 happens on viral posts of small accounts; more than 1% of
# posts above it suggests broken follower counts.
ER_WARNING_BOUND = 1.0
ER_WARNING_MOSTLY = 0.99
# Mart row counts between runs: shrinking to half or more than doubling is worth a look.
ROW_COUNT_RATIO = (0.5, 2.0)
DEFAULT_FRESHNESS_DAYS = 3


@dataclass(frozen=True)
class Check:
    """One expectation: its great-expectations type, arguments, severity and why."""

    name: str
    expectation: str
    kwargs: dict[str, Any]
    severity: Severity
    why: str
    # How a failure reads after the names it concerns: `{unexpected}` failing rows, `{worst}`
    # the largest failing value (e.g. "stale (246 days)").
    failure: str = "{unexpected} unexpected"


@dataclass(frozen=True)
class Suite:
    """A batch's checks. `concerns`: the column whose values name what a failure is about
    (the platforms for snapshots and marts, the mart for row counts), so a message says
    "freshness: instagram, tiktok stale (246 days)" rather than "2 unexpected"."""

    name: str
    table: str
    checks: tuple[Check, ...] = field(default_factory=tuple)
    concerns: str = "platform"

    @property
    def stage(self) -> str:
        """staging (the new batch, and freshness) or marts."""
        return "staging" if self.table.startswith("staging.") else "marts"


def failure_line(check: Check, concerns: list[str], unexpected: int | None, worst: Any) -> str:
    """One failed check as a person reads it: what it concerns, then how it failed."""
    named = ", ".join(concerns) if concerns else "rows"
    return f"{named} " + check.failure.format(unexpected=unexpected or 0, worst=worst)


def _not_null(columns: list[str]) -> list[Check]:
    return [
        Check(
            f"{c}_not_null",
            "ExpectColumnValuesToNotBeNull",
            {"column": c},
            CRITICAL,
            "keys and required values",
        )
        for c in columns
    ]


def _unique(columns: list[str]) -> Check:
    return Check(
        "key_unique",
        "ExpectCompoundColumnsToBeUnique",
        {"column_list": columns},
        CRITICAL,
        "one row per natural key",
    )


def _non_negative(columns: list[str], severity: Severity = CRITICAL) -> list[Check]:
    return [
        Check(
            f"{c}_not_negative",
            "ExpectColumnValuesToBeBetween",
            {"column": c, "min_value": 0},
            severity,
            "counts are never negative",
        )
        for c in columns
    ]


def _dates(column: str) -> list[Check]:
    return [
        Check(
            f"{column}_not_in_future",
            "ExpectColumnPairValuesAToBeGreaterThanB",
            {"column_A": "validation_date", "column_B": column, "or_equal": True},
            CRITICAL,
            "a snapshot cannot describe a day that has not happened",
        ),
        Check(
            f"{column}_not_before_platform",
            "ExpectColumnPairValuesAToBeGreaterThanB",
            {"column_A": column, "column_B": "platform_launch_date", "or_equal": True},
            CRITICAL,
            "no snapshot predates its platform",
        ),
    ]


def _at_least_views(severity: Severity = WARNING) -> Check:
    return Check(
        "interactions_at_most_views",
        "ExpectColumnPairValuesAToBeGreaterThanB",
        {
            "column_A": "views",
            "column_B": "interactions",
            "or_equal": True,
            "ignore_row_if": "either_value_is_missing",
        },
        severity,
        "more interactions than views usually means mixed-up metrics",
    )


FOLLOWER_SNAPSHOTS = Suite(
    "staging_follower_snapshots",
    "staging.follower_snapshots",
    (
        *_not_null(["platform", "account_id", "snapshot_date", "followers"]),
        _unique(["platform", "account_id", "snapshot_date"]),
        *_non_negative(["followers", "following"]),
        *_dates("snapshot_date"),
    ),
)

POST_SNAPSHOTS = Suite(
    "staging_post_snapshots",
    "staging.post_snapshots",
    (
        *_not_null(["platform", "post_id", "account_id", "snapshot_date", "published_at"]),
        _unique(["platform", "post_id", "snapshot_date"]),
        *_non_negative(["likes", "comments", "shares", "saves", "views", "reach"]),
        *_dates("snapshot_date"),
        Check(
            "published_before_capture",
            "ExpectColumnPairValuesAToBeGreaterThanB",
            {"column_A": "captured_at", "column_B": "published_at", "or_equal": True},
            CRITICAL,
            "a snapshot cannot precede its post",
        ),
        _at_least_views(),
    ),
)

FOLLOWER_CHANGES = Suite(
    "staging_follower_changes",
    "staging.follower_changes",
    (
        *_not_null(
            ["platform", "account_id", "snapshot_date", "followers_gained", "followers_lost"]
        ),
        _unique(["platform", "account_id", "snapshot_date"]),
        *_non_negative(["followers_gained", "followers_lost"]),
        *_dates("snapshot_date"),
    ),
)

ACCOUNT_DAILY = Suite(
    "fct_account_daily",
    "marts.fct_account_daily",
    (
        _unique(["platform", "account_id", "date"]),
        *_non_negative(["followers"]),
        Check(
            "tier_matches_followers",
            "ExpectColumnPairValuesToBeEqual",
            {"column_A": "raw_tier", "column_B": "tier_by_followers"},
            CRITICAL,
            "raw_tier must follow the active tier scheme",
        ),
        Check(
            "daily_change_plausible",
            "ExpectColumnValuesToBeBetween",
            {"column": "change_share_of_followers", "max_value": MAX_DAILY_CHANGE_SHARE},
            WARNING,
            f"a day's change beyond {MAX_DAILY_CHANGE_SHARE:.0%} of the audience",
        ),
    ),
)

POST_METRICS = Suite(
    "fct_post_metrics",
    "marts.fct_post_metrics",
    (
        _unique(["platform", "post_id"]),
        Check(
            "er_not_negative",
            "ExpectColumnValuesToBeBetween",
            {"column": "er_followers", "min_value": 0},
            CRITICAL,
            "rates are never negative",
        ),
        Check(
            "er_within_bound",
            "ExpectColumnValuesToBeBetween",
            {"column": "er_followers", "max_value": ER_WARNING_BOUND, "mostly": ER_WARNING_MOSTLY},
            WARNING,
            "engagement above 100% of followers on many posts",
        ),
        Check(
            "account_exists",
            "ExpectColumnValuesToBeInSet",
            {"column": "account_in_dim_account", "value_set": [True]},
            CRITICAL,
            "every post's account is in dim_account",
        ),
        _at_least_views(),
    ),
)

CAMPAIGNS = Suite(
    "agg_campaign_creators",
    "marts.agg_campaign_creators",
    (
        _unique(["campaign_id", "platform", "account_id", "handle"]),
        *_non_negative(["fee", "posts", "interactions"]),
        Check(
            "cpe_not_negative",
            "ExpectColumnValuesToBeBetween",
            {"column": "cpe", "min_value": 0},
            CRITICAL,
            "a cost per engagement is never negative",
        ),
        Check(
            "creator_known",
            "ExpectColumnValuesToNotBeNull",
            {"column": "account_id", "mostly": 0.9},
            WARNING,
            "a campaign creator whose handle matches no known account has no posts",
        ),
    ),
    concerns="campaign_id",
)

SCORECARDS = Suite(
    "agg_creator_scorecard",
    "marts.agg_creator_scorecard",
    (
        _unique(["platform", "account_id"]),
        *(
            Check(
                f"{column}_within_0_100",
                "ExpectColumnValuesToBeBetween",
                {"column": column, "min_value": 0, "max_value": 100},
                CRITICAL,
                "a percentile is between 0 and 100",
            )
            for column in (
                "er_percentile_category",
                "er_percentile_tier",
                "growth_percentile_category",
                "growth_percentile_tier",
            )
        ),
        *(
            Check(
                f"{column}_within_0_1",
                "ExpectColumnValuesToBeBetween",
                {"column": column, "min_value": 0, "max_value": 1},
                CRITICAL,
                "a share of days or weeks is between 0 and 1",
            )
            for column in ("coverage", "consistency")
        ),
        Check(
            "flags_explained",
            "ExpectColumnValuesToBeInSet",
            {"column": "flags_explained", "value_set": [True]},
            CRITICAL,
            "every fired flag comes with its reason, and no reason without a flag",
        ),
    ),
)

TIER_MIGRATIONS = Suite(
    "fct_tier_migrations",
    "marts.fct_tier_migrations",
    (
        Check(
            "spells_exist",
            "ExpectColumnValuesToBeInSet",
            {"column": "ends_and_starts_tier_spells", "value_set": [True]},
            CRITICAL,
            "every migration ends one tier spell and starts the next",
        ),
    ),
)

FRESHNESS = Suite(
    "freshness",
    "staging.follower_snapshots",
    (
        Check(
            "latest_snapshot_recent",
            "ExpectColumnValuesToBeBetween",
            {"column": "age_days", "max_value": DEFAULT_FRESHNESS_DAYS},
            WARNING,
            "each platform's latest follower snapshot is recent",
            failure="stale ({worst} days)",
        ),
    ),
)

ROW_COUNTS = Suite(
    "mart_row_counts",
    "marts",
    (
        Check(
            "marts_not_empty",
            "ExpectColumnValuesToBeBetween",
            {"column": "required_rows", "min_value": 1},
            CRITICAL,
            "a mart emptied by a run (one that had rows, or one every follower snapshot fills)",
        ),
        Check(
            "row_counts_move_plausibly",
            "ExpectColumnValuesToBeBetween",
            {"column": "ratio", "min_value": ROW_COUNT_RATIO[0], "max_value": ROW_COUNT_RATIO[1]},
            WARNING,
            "row counts halved or more than doubled since the previous validation",
        ),
    ),
    concerns="mart",
)

SUITES: tuple[Suite, ...] = (
    FOLLOWER_SNAPSHOTS,
    POST_SNAPSHOTS,
    FOLLOWER_CHANGES,
    ACCOUNT_DAILY,
    POST_METRICS,
    CAMPAIGNS,
    SCORECARDS,
    TIER_MIGRATIONS,
    FRESHNESS,
    ROW_COUNTS,
)


def with_freshness(days: int) -> Suite:
    """The freshness suite with a configured maximum age."""
    check = FRESHNESS.checks[0]
    return Suite(
        FRESHNESS.name,
        FRESHNESS.table,
        (
            Check(
                check.name,
                check.expectation,
                {**check.kwargs, "max_value": days},
                check.severity,
                check.why,
                check.failure,
            ),
        ),
    )


def build_suite(suite: Suite) -> ExpectationSuite:
    """The great-expectations ExpectationSuite of a suite (each check's name and severity in meta)."""
    import great_expectations as gx

    built = gx.ExpectationSuite(name=suite.name)
    for check in suite.checks:
        expectation = getattr(gx.expectations, check.expectation)(
            **check.kwargs, meta={"check": check.name, "severity": check.severity, "why": check.why}
        )
        built.add_expectation(expectation)
    return built
