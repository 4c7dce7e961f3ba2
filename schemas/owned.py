"""Owned-account downloads: what creators and brands get from the apps for their own accounts.

Column names follow the platforms' documentation and the files their tools write:

- Meta Business Suite, Insights > Content > Export (CSV), Instagram posts: `Post ID, Account ID,
  Account username, Account name, Description, Duration (sec), Publish time, Permalink, Post
  type, Data comment, Date, Views, Reach, Likes, Shares, Follows, Comments, Saves`. Publish time
  is month-first wall-clock time (`01/05/2026 14:30`) in the Business Suite's time zone, which
  the file does not state: it is read as UTC (a post can land on the neighbouring day).
  `Follows` (follows from the post) has no canonical column and is ignored.
- TikTok Studio, Analytics > Download data (CSV or XLSX): the content file `Video title, Video
  link, Post time, Total likes, Total comments, Total shares, Total views`, and the followers
  file `Date, Followers, Difference in followers from previous day`. The video link names the
  creator (`tiktok.com/@user/video/<id>`); the followers file names no one, so its owner comes
  from the file's location (`open_id=` or `username=` folder, or a request file; README).
- YouTube Reporting API, report type `channel_basic_a2` (CSV): `date` (YYYYMMDD), `channel_id`,
  `video_id`, `live_or_on_demand`, `subscribed_status`, `country_code`, ..., `subscribers_gained`,
  `subscribers_lost`, ...: one row per video, day and audience slice, summed per channel and day.
- YouTube Studio, Analytics > Advanced mode > Export (the "Table data.csv" of a Date table with
  `Subscribers gained` and `Subscribers lost` added): `Date, Subscribers gained, Subscribers
  lost, ...` under a first `Total` row (a summary, skipped). The channel comes from the file's
  location (`channel_id=` folder or request file).

Daily gains and losses are exact (the owner's analytics count every follow and unfollow), so
they make follower changes (staging.follower_changes), preferred over a rounded public count's
difference for growth (schemas/marts.py: fct_account_daily).
"""

from __future__ import annotations

import polars as pl

from schemas.contract import Contract, Field

# Meta Business Suite's post types (Instagram rows) -> canonical media types.
_META_POST_TYPES = {
    "ig reel": "reel",
    "ig image": "image",
    "ig carousel": "carousel",
    "ig story": "story",
    "ig video": "video",
}


def _meta_media_type(frame: pl.LazyFrame) -> pl.LazyFrame:
    kind = pl.col("media_type").str.strip_chars().str.to_lowercase()
    mapped = kind.replace_strict(_META_POST_TYPES, default=None, return_dtype=pl.String)
    return frame.with_columns(pl.coalesce(mapped, kind).alias("media_type"))


META_BUSINESS_SUITE_POSTS = Contract(
    format="meta_business_suite",
    kind="posts",
    platform="instagram",
    fields=(
        Field("post_id", "Post ID", "string", required=True),
        Field(
            "account_id",
            "Account ID",
            "string",
            required=True,
            aliases=("account_id", "Account username"),
            doc="the IG account id; the username where an export has no id",
        ),
        Field("published_at", "Publish time", "export_datetime", required=True),
        Field("media_type", "Post type", "string"),
        Field("caption", "Description", "string"),
        Field("views", "Views", "abbreviated_count", non_negative=True),
        Field("reach", "Reach", "abbreviated_count", non_negative=True),
        Field("likes", "Likes", "abbreviated_count", non_negative=True),
        Field("shares", "Shares", "abbreviated_count", non_negative=True),
        Field("comments", "Comments", "abbreviated_count", non_negative=True),
        Field("saves", "Saves", "abbreviated_count", non_negative=True),
    ),
    signature=frozenset({"Post ID", "Publish time", "Permalink"}),
    snapshot_rule="the file name's date (the export's day); publish time read as UTC",
    derive=_meta_media_type,
    where="Meta Business Suite > Insights > Content > Export data (CSV), Instagram posts",
    doc="Meta Business Suite post export: one post snapshot per row.",
)

TIKTOK_STUDIO_CONTENT = Contract(
    format="tiktok_studio",
    kind="posts",
    platform="tiktok",
    fields=(
        Field("post_id", "Video link", "tiktok_video_id", required=True),
        Field(
            "account_id",
            "open_id",
            "tiktok_owner",
            required=True,
            aliases=("username", "Video link"),
            doc="open_id from the file's location, else the @user of the video link",
        ),
        Field("published_at", "Post time", "export_datetime", required=True),
        Field("caption", "Video title", "string"),
        Field("likes", "Total likes", "abbreviated_count", non_negative=True),
        Field("comments", "Total comments", "abbreviated_count", non_negative=True),
        Field("shares", "Total shares", "abbreviated_count", non_negative=True),
        Field("views", "Total views", "abbreviated_count", non_negative=True),
    ),
    signature=frozenset({"Video link", "Post time"}),
    snapshot_rule="the file name's date (the download's day); post time read as UTC",
    derive=lambda frame: frame.with_columns(pl.lit("video").alias("media_type")),
    where="TikTok Studio > Analytics > Content > Download data (CSV or XLSX)",
    doc="TikTok Studio content download: one post snapshot per row.",
)

TIKTOK_STUDIO_FOLLOWERS = Contract(
    format="tiktok_studio",
    kind="followers",
    platform="tiktok",
    fields=(
        Field("account_id", "open_id", "string", required=True, aliases=("username",)),
        Field("handle", "username", "string"),
        Field("snapshot_date", "Date", "loose_date", required=True),
        Field("followers", "Followers", "abbreviated_count", required=True, non_negative=True),
    ),
    signature=frozenset({"Date", "Followers"}),
    snapshot_rule="the Date column; owner from the file's location",
    owner_key="open_id",
    where="TikTok Studio > Analytics > Followers > Download data (CSV or XLSX)",
    doc="TikTok Studio followers download: one exact follower snapshot per day.",
)

YOUTUBE_REPORTING_CHANNEL_BASIC = Contract(
    format="youtube_reporting",
    kind="follower_changes",
    platform="youtube",
    fields=(
        Field("account_id", "channel_id", "string", required=True),
        Field("snapshot_date", "date", "loose_date", required=True),
        Field(
            "followers_gained", "subscribers_gained", "integer", required=True, non_negative=True
        ),
        Field("followers_lost", "subscribers_lost", "integer", required=True, non_negative=True),
    ),
    signature=frozenset({"channel_id", "subscribers_gained", "subscribers_lost"}),
    snapshot_rule="the date column; rows summed per channel and day",
    where="YouTube Reporting API, report type channel_basic_a2 (CSV)",
    doc="YouTube channel_basic_a2: exact daily subscribers gained and lost.",
)

YOUTUBE_STUDIO_TABLE = Contract(
    format="youtube_studio",
    kind="follower_changes",
    platform="youtube",
    fields=(
        Field("account_id", "channel_id", "string", required=True),
        Field("snapshot_date", "Date", "loose_date", required=True),
        Field(
            "followers_gained", "Subscribers gained", "integer", required=True, non_negative=True
        ),
        Field("followers_lost", "Subscribers lost", "integer", required=True, non_negative=True),
    ),
    signature=frozenset({"Date", "Subscribers gained", "Subscribers lost"}),
    snapshot_rule="the Date column; channel from the file's location; the Total row skipped",
    owner_key="channel_id",
    summary_rows=lambda: pl.col("Date").str.strip_chars().str.to_lowercase() == "total",
    where="YouTube Studio > Analytics > Advanced mode > Export (Table data.csv, by Date, "
    "with Subscribers gained and Subscribers lost)",
    doc="YouTube Studio table export: exact daily subscribers gained and lost.",
)

CONTRACTS = (
    META_BUSINESS_SUITE_POSTS,
    TIKTOK_STUDIO_CONTENT,
    TIKTOK_STUDIO_FOLLOWERS,
    YOUTUBE_REPORTING_CHANNEL_BASIC,
    YOUTUBE_STUDIO_TABLE,
)
