"""The canonical export format: CSV, JSON lines or Parquet whose columns are the canonical ones.

It is what `inflow generate` writes besides the platforms' own formats, and what any other
source can be converted to. `snapshot_date` and `captured_at` are columns (both required).
Lists (hashtags, mentions) are arrays in JSON lines and Parquet, ';'-separated text in CSV.
"""

from __future__ import annotations

import polars as pl

from schemas.contract import Contract, Field, RowRule
from schemas.tables import PLATFORMS

POST_METRICS: tuple[str, ...] = ("likes", "comments", "shares", "saves", "views", "reach")

KNOWN_PLATFORM = RowRule(
    rule="unknown_platform",
    broken=lambda: pl.col("platform").is_not_null() & ~pl.col("platform").is_in(PLATFORMS),
    reason=f"platform is not one of {', '.join(PLATFORMS)}",
)

FOLLOWERS = Contract(
    format="canonical",
    kind="followers",
    fields=(
        Field("platform", "platform", "string", required=True, doc="instagram, tiktok or youtube"),
        Field("account_id", "account_id", "string", required=True, doc="the platform's account id"),
        Field("snapshot_date", "snapshot_date", "date", required=True, doc="UTC day described"),
        Field("captured_at", "captured_at", "timestamp", required=True, doc="export time, UTC"),
        Field("followers", "followers", "integer", required=True, non_negative=True),
        Field("following", "following", "integer", non_negative=True),
        Field("posts_count", "posts_count", "integer", non_negative=True),
        Field("is_followers_rounded", "is_followers_rounded", "boolean"),
        Field("handle", "handle", "string"),
        Field("display_name", "display_name", "string"),
        Field("category", "category", "string"),
        Field(
            "followers_hidden",
            "followers_hidden",
            "boolean",
            doc="true when the platform hides the count: followers empty, attributes kept",
        ),
    ),
    signature=frozenset({"platform", "snapshot_date", "followers"}),
    snapshot_rule="columns snapshot_date and captured_at",
    row_rules=(KNOWN_PLATFORM,),
    derive=lambda frame: frame.with_columns(pl.col("is_followers_rounded").fill_null(False)),
    where="inflow's own format (and the generator's); any pipeline that writes the canonical columns",
    doc="Follower snapshots with the canonical columns.",
)

POSTS = Contract(
    format="canonical",
    kind="posts",
    fields=(
        Field("platform", "platform", "string", required=True),
        Field("post_id", "post_id", "string", required=True),
        Field("account_id", "account_id", "string", required=True),
        Field("snapshot_date", "snapshot_date", "date", required=True),
        Field("captured_at", "captured_at", "timestamp", required=True),
        Field("published_at", "published_at", "timestamp", required=True),
        Field("media_type", "media_type", "string"),
        *(Field(m, m, "integer", non_negative=True) for m in POST_METRICS),
        Field("caption", "caption", "string"),
        Field("hashtags", "hashtags", "string_list"),
        Field("mentions", "mentions", "string_list"),
        Field("is_sponsored", "is_sponsored", "boolean"),
    ),
    signature=frozenset({"platform", "post_id", "snapshot_date"}),
    snapshot_rule="columns snapshot_date and captured_at",
    row_rules=(KNOWN_PLATFORM,),
    where="inflow's own format (and the generator's); any pipeline that writes the canonical columns",
    doc="Post snapshots with the canonical columns.",
)
