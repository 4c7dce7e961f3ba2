"""The account dimension: one row per creator with its latest attributes, followers and tier."""

from __future__ import annotations

import polars as pl

from schemas.marts import DIM_ACCOUNT
from schemas.tables import ACCOUNT_KEY


def dim_account(
    accounts: pl.LazyFrame, daily: pl.LazyFrame, keys: pl.LazyFrame | None = None
) -> pl.LazyFrame:
    """One row per account: attributes, first and last snapshot day, latest followers and tier.

    `keys` lists the accounts to describe (default: those in `daily`); an account known only
    from its posts (a YouTube channel hiding its count) still gets a row, without followers.
    """
    key = list(ACCOUNT_KEY)
    latest = (
        daily.sort(*key, "date")
        .group_by(key)
        .agg(
            pl.col("date").first().alias("first_seen"),
            pl.col("date").last().alias("last_seen"),
            pl.col("followers").last().alias("followers_latest"),
            pl.col("tier").last().alias("tier_latest"),
        )
    )
    if keys is not None:
        latest = keys.select(key).unique().join(latest, on=key, how="left")
    return (
        latest.join(accounts.select(*key, "handle", "display_name", "category"), on=key, how="left")
        .sort(*key)
        .pipe(DIM_ACCOUNT.conform)
    )
