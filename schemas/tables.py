"""The canonical tables: the Arrow schemas every export format normalises to."""

from __future__ import annotations

from datetime import date
from typing import Literal

import polars as pl
import pyarrow as pa

PLATFORMS: tuple[str, ...] = ("instagram", "tiktok", "youtube")
# What an export holds: follower snapshots (with the account's attributes), post snapshots, or
# an owner's exact daily follower gains and losses (YouTube Analytics reports).
Kind = Literal["followers", "posts", "follower_changes"]

# Dates are UTC everywhere; timestamps carry the zone so no reader can mistake them for local.
UTC_TIMESTAMP = pa.timestamp("us", tz="UTC")

FOLLOWER_SNAPSHOT = pa.schema(
    [
        pa.field("platform", pa.string(), nullable=False),
        pa.field("account_id", pa.string(), nullable=False),
        pa.field("snapshot_date", pa.date32(), nullable=False),
        pa.field("captured_at", UTC_TIMESTAMP, nullable=False),
        pa.field("followers", pa.int64(), nullable=False),
        pa.field("following", pa.int64()),
        pa.field("posts_count", pa.int64()),
        # YouTube rounds public subscriber counts to 3 significant digits and creator tools
        # abbreviate (12.3k): such counts are flagged so growth and anomaly rules can discount them.
        pa.field("is_followers_rounded", pa.bool_(), nullable=False),
    ],
    metadata={"grain": "one row per (platform, account_id, snapshot_date)"},
)

POST_SNAPSHOT = pa.schema(
    [
        pa.field("platform", pa.string(), nullable=False),
        pa.field("post_id", pa.string(), nullable=False),
        pa.field("account_id", pa.string(), nullable=False),
        pa.field("snapshot_date", pa.date32(), nullable=False),
        pa.field("captured_at", UTC_TIMESTAMP, nullable=False),
        pa.field("published_at", UTC_TIMESTAMP, nullable=False),
        pa.field("media_type", pa.string()),
        # A metric the platform does not report is null, never a fake 0.
        pa.field("likes", pa.int64()),
        pa.field("comments", pa.int64()),
        pa.field("shares", pa.int64()),
        pa.field("saves", pa.int64()),
        pa.field("views", pa.int64()),
        pa.field("reach", pa.int64()),
        # Instagram's retired `impressions` (times shown, a post seen twice counting twice):
        # not the same measure as `views`, so never merged into it; null where not exported.
        pa.field("impressions", pa.int64()),
        pa.field("caption", pa.string()),
        pa.field("hashtags", pa.list_(pa.string())),
        pa.field("mentions", pa.list_(pa.string())),
        pa.field("is_sponsored", pa.bool_()),
    ],
    metadata={"grain": "one row per (platform, post_id, snapshot_date)"},
)

# Exact daily gains and losses as the platform counts them for the account's owner (YouTube
# Analytics' subscribersGained / subscribersLost): unlike public counts, never rounded.
FOLLOWER_CHANGE = pa.schema(
    [
        pa.field("platform", pa.string(), nullable=False),
        pa.field("account_id", pa.string(), nullable=False),
        # The day the follows and unfollows happened (named like the snapshots' day so that one
        # upsert and one set of date checks serve every staged table).
        pa.field("snapshot_date", pa.date32(), nullable=False),
        pa.field("captured_at", UTC_TIMESTAMP, nullable=False),
        pa.field("followers_gained", pa.int64(), nullable=False),
        pa.field("followers_lost", pa.int64(), nullable=False),
    ],
    metadata={"grain": "one row per (platform, account_id, snapshot_date)"},
)

ACCOUNT = pa.schema(
    [
        pa.field("platform", pa.string(), nullable=False),
        pa.field("account_id", pa.string(), nullable=False),
        pa.field("handle", pa.string()),
        pa.field("display_name", pa.string()),
        pa.field("category", pa.string()),
        # The platform hides the follower count (YouTube's hiddenSubscriberCount): such a row
        # carries the account's attributes and no snapshot.
        pa.field("followers_hidden", pa.bool_()),
        pa.field("captured_at", UTC_TIMESTAMP, nullable=False),
    ],
    metadata={"grain": "one row per (platform, account_id): the latest known attributes"},
)

# Where every staged row came from: the file, its content hash, the row in it, the ingest run.
LINEAGE = pa.schema(
    [
        pa.field("source_file", pa.string()),
        pa.field("source_sha256", pa.string()),
        pa.field("source_row", pa.int64()),
        pa.field("ingest_run_id", pa.string()),
    ]
)

# The staging tables' rows: a snapshot and its lineage.
STAGED_FOLLOWER_SNAPSHOT = pa.unify_schemas([FOLLOWER_SNAPSHOT, LINEAGE])
STAGED_POST_SNAPSHOT = pa.unify_schemas([POST_SNAPSHOT, LINEAGE])
STAGED_FOLLOWER_CHANGE = pa.unify_schemas([FOLLOWER_CHANGE, LINEAGE])

# Natural keys: when a key arrives twice the latest capture wins (see warehouse/).
FOLLOWER_SNAPSHOT_KEY: tuple[str, ...] = ("platform", "account_id", "snapshot_date")
POST_SNAPSHOT_KEY: tuple[str, ...] = ("platform", "post_id", "snapshot_date")
ACCOUNT_KEY: tuple[str, ...] = ("platform", "account_id")

# No snapshot can predate its platform: Instagram launched 2010-10-06, TikTok (as musical.ly's
# successor, internationally) 2017-09-01, YouTube 2005-02-14.
PLATFORM_LAUNCH = {
    "instagram": date(2010, 10, 6),
    "tiktok": date(2017, 9, 1),
    "youtube": date(2005, 2, 14),
}

# What a follower-kind export row carries beyond the snapshot: the account's attributes.
FOLLOWER_BATCH = pa.schema(
    list(FOLLOWER_SNAPSHOT)
    + [ACCOUNT.field(n) for n in ("handle", "display_name", "category", "followers_hidden")]
)

CANONICAL_BY_KIND: dict[Kind, pa.Schema] = {
    "followers": FOLLOWER_BATCH,
    "posts": POST_SNAPSHOT,
    "follower_changes": FOLLOWER_CHANGE,
}

CATEGORIES: tuple[str, ...] = (
    "Beauty",
    "Food",
    "Lifestyle",
    "Fitness",
    "Travel",
    "Humor",
    "Parenting",
    "DIY",
    "Fashion",
    "Tech",
)


def polars_schema(schema: pa.Schema) -> pl.Schema:
    """The Polars schema of an Arrow contract (one source of truth for both)."""
    return pl.DataFrame(schema.empty_table()).schema
