"""YouTube Data API exports: JSON lines of `channels` and `videos` resources.

`statistics` values are strings ("12300") and are parsed as integers. Public subscriber counts
are rounded to 3 significant digits, so every YouTube follower snapshot is flagged
`is_followers_rounded`. A channel with `hiddenSubscriberCount` has no count to record: its row
keeps the channel's attributes (handle, title) in staging.accounts, makes no follower snapshot,
and is counted as a hidden count, not a rejected row (nothing is wrong with it). Capture time:
`captured_at` if present, else the file name's timestamp.
"""

from __future__ import annotations

import polars as pl

from schemas.contract import Contract, Field

FOLLOWERS = Contract(
    format="youtube",
    kind="followers",
    platform="youtube",
    is_followers_rounded=True,
    fields=(
        Field("account_id", "id", "string", required=True, doc="channel id (UC...)"),
        Field("handle", "snippet.customUrl", "string"),
        Field("display_name", "snippet.title", "string"),
        Field(
            "followers", "statistics.subscriberCount", "integer", required=True, non_negative=True
        ),
        Field("posts_count", "statistics.videoCount", "integer", non_negative=True),
        Field("followers_hidden", "statistics.hiddenSubscriberCount", "boolean"),
        Field("captured_at", "captured_at", "timestamp"),
    ),
    signature=frozenset({"kind", "id", "statistics"}),
    signature_values={"kind": "youtube#channel"},
    snapshot_rule="captured_at field, else the file name's timestamp",
    derive=lambda frame: frame.with_columns(pl.col("handle").str.strip_chars_start("@")),
    where="YouTube Data API v3 channels.list (part=snippet,statistics), saved as returned",
    doc="YouTube channel resources: one follower snapshot per row.",
)

POSTS = Contract(
    format="youtube",
    kind="posts",
    platform="youtube",
    fields=(
        Field("post_id", "id", "string", required=True, doc="video id"),
        Field("account_id", "snippet.channelId", "string", required=True),
        Field("published_at", "snippet.publishedAt", "timestamp", required=True),
        Field("caption", "snippet.description", "string"),
        Field("likes", "statistics.likeCount", "integer", non_negative=True),
        Field("comments", "statistics.commentCount", "integer", non_negative=True),
        Field("views", "statistics.viewCount", "integer", non_negative=True),
        Field("captured_at", "captured_at", "timestamp"),
    ),
    signature=frozenset({"kind", "id", "statistics"}),
    signature_values={"kind": "youtube#video"},
    snapshot_rule="captured_at field, else the file name's timestamp",
    derive=lambda frame: frame.with_columns(pl.lit("video").alias("media_type")),
    where="YouTube Data API v3 videos.list (part=snippet,statistics), saved as returned",
    doc="YouTube video resources: one post snapshot per row.",
)
