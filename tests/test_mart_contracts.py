"""Every transform's output is its mart's contract: the same columns, in order, with its types.

Checked on the graph the flows run (`transforms.pipeline`), from empty inputs typed by the
contracts they are read from: no data is needed to compare schemas.
"""

from __future__ import annotations

from datetime import date

import polars as pl
import pytest

from schemas import marts
from schemas.campaigns import CAMPAIGN_SCHEMA, CREATOR_SCHEMA
from schemas.tables import FOLLOWER_SNAPSHOT, POST_SNAPSHOT
from tests.factories import contract_schema
from transforms.campaigns import (
    BRAND_POST_INPUT,
    MONTH_POST_INPUT,
    POST_INPUT,
    brand_mentions,
    campaign_creators,
    campaign_posts,
    campaign_totals,
    sponsored_vs_organic,
)
from transforms.engagement import RELATIVE_TO_TIER, weekly_engagement
from transforms.pipeline import (
    AccountInputs,
    account_period_rows,
    build_account_marts,
    build_period_marts,
    with_tier_medians,
)
from transforms.scorecard import ScorecardRules, creator_windows, latest_scorecard, scored_creators
from transforms.tiers import DEFAULT, tier_dimension


def _empty(contract, columns=None) -> pl.LazyFrame:
    return pl.LazyFrame(schema=contract_schema(contract, columns))


def _account_outputs() -> dict[str, pl.LazyFrame]:
    snapshot_columns = ["platform", "account_id", "snapshot_date", "followers", "following"]
    followers = _empty(FOLLOWER_SNAPSHOT, [*snapshot_columns, "is_followers_rounded"])
    inputs = AccountInputs(
        follower_snapshots=followers,
        as_of_snapshots=followers,
        seed=_empty(marts.FCT_ACCOUNT_DAILY),
        post_snapshots=_empty(POST_SNAPSHOT),
        earlier_posts=_empty(marts.FCT_POST_METRICS),
        earlier_daily=_empty(marts.FCT_ACCOUNT_DAILY),
        current_spells=_empty(marts.FCT_TIER_HISTORY),
        accounts=_empty(
            marts.DIM_ACCOUNT,
            ["platform", "account_id", "handle", "display_name", "category", "followers_hidden"],
        ),
        earlier_dim=_empty(marts.DIM_ACCOUNT),
    )
    scope = pl.LazyFrame(
        schema={"platform": pl.String, "account_id": pl.String, "emit_from": pl.Date}
    )
    return build_account_marts(inputs, scope, DEFAULT, 7)


def _period_outputs() -> dict[str, pl.LazyFrame]:
    prior_tiers = pl.LazyFrame(
        schema={"platform": pl.String, "account_id": pl.String, "prior_tier": pl.String}
    )
    pieces = account_period_rows(
        # Read with only the columns the flow reads for them.
        _empty(marts.FCT_ACCOUNT_DAILY, list(marts.PERIOD_DAILY_INPUT)),
        _empty(marts.FCT_POST_METRICS, list(marts.PERIOD_POSTS_INPUT)),
        prior_tiers,
        _empty(marts.DIM_ACCOUNT, ["platform", "account_id", "category"]),
        date(2026, 1, 1),
    )
    return build_period_marts(**pieces)


def _campaign_outputs() -> dict[str, pl.LazyFrame]:
    """From empty inputs typed as the campaign flow reads them (read_posts_with_tags.sql)."""
    campaigns = pl.LazyFrame(schema=CAMPAIGN_SCHEMA)
    creators = pl.LazyFrame(schema=CREATOR_SCHEMA)
    posts = pl.LazyFrame(schema=POST_INPUT)
    attributed = campaign_posts(campaigns, creators, posts)
    per_creator = campaign_creators(campaigns, creators, attributed, {"likes": 1.0})
    return {
        "fct_campaign_posts": attributed,
        "agg_campaign_creators": per_creator,
        "agg_campaign": campaign_totals(campaigns, per_creator, attributed, {"likes": 1.0}),
        # Read with only the columns the flow reads for them.
        "agg_brand_mentions": brand_mentions(posts.select(BRAND_POST_INPUT), ["brand"]),
        "agg_sponsored_monthly": sponsored_vs_organic(posts.select(MONTH_POST_INPUT)),
    }


def _scorecard_outputs() -> dict[str, pl.LazyFrame]:
    """From empty inputs typed as warehouse.marts.spill_scorecard_inputs reads them."""
    rules = ScorecardRules()
    windows = creator_windows(
        _empty(marts.FCT_ACCOUNT_DAILY, list(marts.SCORECARD_DAILY_INPUT)),
        _empty(marts.FCT_POST_METRICS, list(marts.SCORECARD_POSTS_INPUT)),
        date(2026, 1, 1),
        rules,
    )
    accounts = _empty(
        marts.DIM_ACCOUNT, ["platform", "account_id", "category", "handle", "display_name"]
    )
    monthly = scored_creators(windows, accounts, rules)
    return {
        "fct_creator_monthly": monthly,
        "agg_creator_scorecard": latest_scorecard(monthly, accounts),
    }


def _all_outputs() -> dict[str, pl.LazyFrame]:
    return (
        _account_outputs()
        | _period_outputs()
        | _campaign_outputs()
        | _scorecard_outputs()
        | {"dim_tier": tier_dimension(DEFAULT)}
    )


def test_every_mart_has_a_transform_checked_here():
    assert set(_all_outputs()) == set(marts.BY_NAME)


@pytest.mark.parametrize("mart", sorted(marts.BY_NAME))
def test_the_transform_output_is_the_contract(mart):
    outputs = _all_outputs()
    expected = marts.BY_NAME[mart].schema(
        without=RELATIVE_TO_TIER if mart == "fct_engagement_weekly" else ()
    )
    assert outputs[mart].collect_schema() == expected


def test_weekly_rows_with_tier_medians_are_the_whole_contract():
    weekly = weekly_engagement(_empty(marts.FCT_POST_METRICS), _empty(marts.FCT_ACCOUNT_DAILY))
    assert with_tier_medians(weekly).collect_schema() == marts.FCT_ENGAGEMENT_WEEKLY.schema()


def test_a_transform_missing_a_contract_column_fails():
    """What the contract check catches: a transform that forgot a column."""
    frame = pl.LazyFrame(schema=marts.FCT_TIER_HISTORY.schema(without=("followers_first",)))
    with pytest.raises(pl.exceptions.ColumnNotFoundError):
        marts.FCT_TIER_HISTORY.conform(frame).collect_schema()


def test_mart_types_follow_their_sql_types():
    """The Polars types the contract promises are what DuckDB returns for its SQL types."""
    import duckdb

    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    for mart in marts.MARTS:
        columns = ", ".join(f"null::{c.sql_type} as {c.name}" for c in mart.columns)
        read = pl.from_arrow(con.sql(f"select {columns}").to_arrow_table())
        assert read.schema == mart.schema(), mart.name
