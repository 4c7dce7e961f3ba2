"""Follower tiers: schemes (configuration), the raw daily tier and the confirmed tier."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import polars as pl

from schemas.tables import ACCOUNT_KEY
from transforms.frames import emitted_rows


@dataclass(frozen=True)
class TierScheme:
    """Named tiers with inclusive lower bounds on followers, smallest first."""

    name: str
    tiers: tuple[tuple[str, int], ...]

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(name for name, _ in self.tiers)


# Default: the scheme most brand briefs use.
DEFAULT = TierScheme(
    "default",
    (("emerging", 0), ("nano", 1_000), ("micro", 10_000), ("macro", 100_000), ("mega", 1_000_000)),
)
# A vendor split that separates small micro accounts from mid-tier ones.
FIVE_TIER = TierScheme(
    "five_tier",
    (
        ("emerging", 0),
        ("nano", 1_000),
        ("micro", 5_000),
        ("mid_tier", 20_000),
        ("macro", 100_000),
        ("mega", 1_000_000),
    ),
)
SCHEMES: dict[str, TierScheme] = {s.name: s for s in (DEFAULT, FIVE_TIER)}


def tier_of(followers: pl.Expr, scheme: TierScheme) -> pl.Expr:
    """The tier whose lower bound (inclusive) is the largest one not above `followers`."""
    expr = pl.lit(None, pl.String)
    for name, lower in scheme.tiers:
        expr = pl.when(followers >= lower).then(pl.lit(name)).otherwise(expr)
    return pl.when(followers.is_not_null()).then(expr)


def tier_rank(tier: pl.Expr, scheme: TierScheme) -> pl.Expr:
    """0 for the smallest tier, increasing upwards."""
    return tier.replace_strict(
        {name: i for i, name in enumerate(scheme.names)}, return_dtype=pl.Int32
    )


def confirm_tiers(
    daily: pl.LazyFrame,
    confirmation_days: int,
    *,
    seed: pl.LazyFrame | None = None,
    emit_from: date | pl.LazyFrame | None = None,
) -> pl.LazyFrame:
    """Adds `tier` (confirmed) and `entered_tier_on` (when the current raw tier began).

    Input grain: one row per (platform, account_id, snapshot_date) with `raw_tier`. An
    account's first tier needs no confirmation. A new raw tier becomes the confirmed tier on
    the first snapshot at least `confirmation_days` after the account entered it, so an account
    hovering around a bound keeps its tier.

    Incremental runs pass `emit_from` (a date, or a frame of platform, account_id, emit_from)
    and `seed`: each account's last mart row before emit_from (platform, account_id, date,
    raw_tier, tier, entered_tier_on). The state the rule carries (the confirmed tier and when
    the current raw tier began) comes from the seed, so no history beyond it is read, and rows
    from emit_from on equal a full computation. Rows before emit_from are not returned.
    """
    key = list(ACCOUNT_KEY)
    rows = daily.with_columns(
        pl.lit(False).alias("_is_seed"),
        pl.lit(None, pl.String).alias("_seed_tier"),
        pl.lit(None, pl.Date).alias("_seed_entered"),
    )
    if emit_from is not None:
        rows = emitted_rows(rows, emit_from, "snapshot_date")
    if seed is not None:
        seed_rows = seed.select(
            *key,
            pl.col("date").alias("snapshot_date"),
            "raw_tier",
            pl.lit(True).alias("_is_seed"),
            pl.col("tier").alias("_seed_tier"),
            pl.col("entered_tier_on").alias("_seed_entered"),
        )
        rows = pl.concat([seed_rows, rows], how="diagonal_relaxed")
    runs = rows.sort(*key, "snapshot_date").with_columns(
        (pl.col("raw_tier") != pl.col("raw_tier").shift())
        .fill_null(True)
        .cum_sum()
        .over(key)
        .alias("_run")
    )
    # A run that continues the seed's began when the seed says; a new run on its first day.
    entered = pl.coalesce("_seed_entered", "snapshot_date").first().over([*key, "_run"])
    runs = runs.with_columns(entered.alias("entered_tier_on"))
    held_days = (pl.col("snapshot_date") - pl.col("entered_tier_on")).dt.total_days()
    candidate = (
        pl.when(pl.col("_is_seed"))
        .then(pl.col("_seed_tier"))
        .when(held_days >= confirmation_days)
        .then(pl.col("raw_tier"))
    )
    first = pl.col("raw_tier").first().over(key)
    confirmed = candidate.forward_fill().over(key).fill_null(first)
    return (
        runs.with_columns(confirmed.alias("tier"))
        .filter(~pl.col("_is_seed"))
        .drop("_run", "_is_seed", "_seed_tier", "_seed_entered")
    )
