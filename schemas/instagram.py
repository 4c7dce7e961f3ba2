"""Instagram Graph API exports: JSON lines of IG User and IG Media objects (with insights).

Capture time: a row's `captured_at` if present, else the file name's `YYYY-MM-DDTHHMMSSZ`
(or `YYYY-MM-DD`, read as midnight UTC); `snapshot_date` is the capture time's UTC date.
Shapes: IG User and IG Media objects as JSON lines, or saved as the Graph API returns them (the
`{"data": [...], "paging": ...}` edge, `business_discovery` for creators the user does not own,
insights nested as `insights.data[].values[].value`: schemas/envelopes.py).

Metrics (Meta retired `impressions`, `plays` and `video_views` for `views` in 2025):
- `impressions` counted times shown (a post seen twice counts twice, images included); it is
  not `views` and stays its own column, so old exports never inflate views.
- `plays` (Reels: plays started) and `video_views` (videos: views of 3 seconds or more) are the
  pre-2025 counts of the same act `views` counts for video (plays of it; `views` adds replays),
  so they stand in for `views` where no `views` is exported, an approximation stated here.
An absent metric is null, never 0.
"""

from __future__ import annotations

import polars as pl

from schemas.contract import ROUNDED, Contract, Field

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
        ROUNDED,
    ),
    signature=frozenset({"id", "username", "followers_count"}),
    where="Instagram Graph API IG User (fields=id,username,followers_count,...) or "
    "business_discovery, saved as returned",
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
        Field(
            "account_id",
            "owner.id",
            "string",
            required=True,
            # The media edge of one's own account omits `owner` unless it was requested: the
            # account then comes from the file's location (`ig_user_id=` folder or request file).
            aliases=("ig_user_id",),
            doc="IG User id of the owner",
        ),
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
            aliases=("plays", "video_views"),
            doc="retired stand-ins: plays, video_views (see the module's note)",
        ),
        Field("reach", "reach", "integer", non_negative=True),
        Field("impressions", "impressions", "integer", non_negative=True),
        Field("caption", "caption", "string"),
        Field("is_sponsored", "is_paid_partnership", "boolean"),
        Field("captured_at", "captured_at", "timestamp"),
    ),
    signature=frozenset({"id", "timestamp", "media_type"}),
    alt_signatures=(frozenset({"id", "timestamp", "like_count", "comments_count"}),),
    owner_key="ig_user_id",
    where="Instagram Graph API IG Media with insights (/{ig-user-id}/media, or a "
    "business_discovery media edge), saved as returned",
    snapshot_rule="captured_at field, else the file name's timestamp",
    derive=_media_type,
    doc="IG Media objects with insights: one post snapshot per row.",
)
