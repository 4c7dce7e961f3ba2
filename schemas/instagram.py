"""Instagram Graph API exports: JSON lines of IG User and IG Media objects (with insights).

Capture time: a row's `captured_at` if present, else the file name's `YYYY-MM-DDTHHMMSSZ`
(or `YYYY-MM-DD`, read as midnight UTC); `snapshot_date` is the capture time's UTC date.
Metrics: `impressions`, `plays` and `video_views` are deprecated names of `views` (Meta merged
them into `views` in 2024-25); an absent metric is null, never 0.
"""

from __future__ import annotations

import polars as pl

from schemas.contract import Contract, Field

FOLLOWERS = Contract(
    format="instagram",
    kind="followers",
    platform="instagram",
    fields=(
        Field("account_id", "id", "string", required=True, doc="IG User id"),
        Field("handle", "username", "string"),
        Field("display_name", "name", "string"),
        Field("followers", "followers_count", "integer", required=True, non_negative=True),
        Field("following", "follows_count", "integer", non_negative=True),
        Field("posts_count", "media_count", "integer", non_negative=True),
        Field("category", "category", "string"),
        Field("captured_at", "captured_at", "timestamp"),
    ),
    signature=frozenset({"id", "username", "followers_count"}),
    snapshot_rule="captured_at field, else the file name's timestamp",
    doc="IG User objects: one follower snapshot per row.",
)

# IG media_type × media_product_type → canonical media type.
_MEDIA_TYPES = {"IMAGE": "image", "VIDEO": "video", "CAROUSEL_ALBUM": "carousel"}
_PRODUCT_TYPES = {"REELS": "reel", "STORY": "story"}


def _media_type(frame: pl.LazyFrame) -> pl.LazyFrame:
    product = (
        pl.col("media_product_type").str.to_uppercase().replace_strict(_PRODUCT_TYPES, default=None)
    )
    media = pl.col("media_type").str.to_uppercase()
    mapped = media.replace_strict(_MEDIA_TYPES, default=media.str.to_lowercase())
    return frame.with_columns(pl.coalesce(product, mapped).alias("media_type"))


POSTS = Contract(
    format="instagram",
    kind="posts",
    platform="instagram",
    fields=(
        Field("post_id", "id", "string", required=True, doc="IG Media id"),
        Field("account_id", "owner.id", "string", required=True, doc="IG User id of the owner"),
        Field("published_at", "timestamp", "timestamp", required=True),
        Field("media_type", "media_type", "string"),
        Field("media_product_type", "media_product_type", "string"),
        Field("likes", "like_count", "integer", non_negative=True),
        Field("comments", "comments_count", "integer", non_negative=True),
        Field("shares", "shares", "integer", non_negative=True),
        Field("saves", "saved", "integer", non_negative=True),
        Field(
            "views",
            "views",
            "integer",
            non_negative=True,
            aliases=("impressions", "plays", "video_views"),
            doc="deprecated aliases: impressions, plays, video_views",
        ),
        Field("reach", "reach", "integer", non_negative=True),
        Field("caption", "caption", "string"),
        Field("is_sponsored", "is_paid_partnership", "boolean"),
        Field("captured_at", "captured_at", "timestamp"),
    ),
    signature=frozenset({"id", "timestamp", "media_type"}),
    snapshot_rule="captured_at field, else the file name's timestamp",
    derive=_media_type,
    doc="IG Media objects with insights: one post snapshot per row.",
)
