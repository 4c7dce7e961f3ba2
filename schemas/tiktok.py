"""TikTok API exports: JSON lines of user info and video objects.

Counts are integers. Accounts are keyed by `open_id`; exports from tools without API access
carry only `username`, which then serves as the key (a rename then reads as a new account).
The video list API is per user, so exporters add the owner's `open_id` (or `username`) to each
video. Capture time: `captured_at` if present, else the file name's timestamp.
"""

from __future__ import annotations

import polars as pl

from schemas.contract import Contract, Field

FOLLOWERS = Contract(
    format="tiktok",
    kind="followers",
    platform="tiktok",
    fields=(
        Field("account_id", "open_id", "string", required=True, aliases=("username",)),
        Field("handle", "username", "string"),
        Field("display_name", "display_name", "string"),
        Field("followers", "follower_count", "integer", required=True, non_negative=True),
        Field("following", "following_count", "integer", non_negative=True),
        Field("posts_count", "video_count", "integer", non_negative=True),
        Field("captured_at", "captured_at", "timestamp"),
    ),
    signature=frozenset({"follower_count"}),
    snapshot_rule="captured_at field, else the file name's timestamp",
    doc="TikTok user info: one follower snapshot per row.",
)

POSTS = Contract(
    format="tiktok",
    kind="posts",
    platform="tiktok",
    fields=(
        Field("post_id", "id", "string", required=True),
        Field("account_id", "open_id", "string", required=True, aliases=("username",)),
        Field("published_at", "create_time", "epoch_seconds", required=True),
        Field("likes", "like_count", "integer", non_negative=True),
        Field("comments", "comment_count", "integer", non_negative=True),
        Field("shares", "share_count", "integer", non_negative=True),
        Field("saves", "collect_count", "integer", non_negative=True),
        Field("views", "view_count", "integer", non_negative=True, aliases=("play_count",)),
        Field("caption", "video_description", "string", aliases=("title",)),
        Field("captured_at", "captured_at", "timestamp"),
    ),
    signature=frozenset({"id", "create_time"}),
    snapshot_rule="captured_at field, else the file name's timestamp",
    derive=lambda frame: frame.with_columns(pl.lit("video").alias("media_type")),
    doc="TikTok video objects: one post snapshot per row.",
)
