"""Reusable Polars expressions: how interactions and engagement rates are computed, once."""

from __future__ import annotations

import polars as pl

INTERACTION_COMPONENTS: tuple[str, ...] = ("likes", "comments", "shares", "saves")
# The interaction counts each platform reports for a post, from its documented fields:
# Instagram like_count, comments_count and the insights `saved` and `shares`; TikTok like_count,
# comment_count, share_count and collect_count; YouTube likeCount and commentCount (no shares,
# no saves). A component the platform reports but the export lacks (likes hidden by the
# creator, Instagram media read without insights) makes the all-interactions sum unknown:
# summing the others would read as a poor creator, not as a missing number.
PLATFORM_COMPONENTS: dict[str, tuple[str, ...]] = {
    "instagram": INTERACTION_COMPONENTS,
    "tiktok": INTERACTION_COMPONENTS,
    "youtube": ("likes", "comments"),
}


def missing_component(suffix: str = "") -> pl.Expr:
    """The first interaction component (in INTERACTION_COMPONENTS order) that the post's
    platform reports but the row lacks, as `<component> not reported`; null when none is.

    `suffix`: read the columns `<component><suffix>` (e.g. `_d7`).
    """
    reasons = []
    for component in INTERACTION_COMPONENTS:
        reporting = [p for p, parts in PLATFORM_COMPONENTS.items() if component in parts]
        lacking = pl.col("platform").is_in(reporting) & pl.col(f"{component}{suffix}").is_null()
        reasons.append(pl.when(lacking).then(pl.lit(f"{component} not reported")))
    return pl.coalesce(reasons)


def interactions(suffix: str = "") -> pl.Expr:
    """likes + comments + shares + saves over the components the post's platform reports
    (PLATFORM_COMPONENTS); null when one of them is missing (`missing_component`)."""
    parts = [pl.col(f"{c}{suffix}") for c in INTERACTION_COMPONENTS]
    return pl.when(missing_component(suffix).is_null()).then(pl.sum_horizontal(parts))


def likes_and_comments(suffix: str = "") -> pl.Expr:
    """likes + comments: the basis of most published engagement benchmarks, reported on every
    platform; null when either is missing."""
    return pl.col(f"likes{suffix}") + pl.col(f"comments{suffix}")


def ratio(numerator: pl.Expr, denominator: pl.Expr) -> pl.Expr:
    """numerator / denominator, null when the denominator is null or not positive."""
    return pl.when(denominator > 0).then(numerator / denominator)
