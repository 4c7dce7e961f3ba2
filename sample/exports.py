"""Shape simulated snapshots as each export format looks, and serialise them to bytes.

Every function returns a Polars frame in the export's own layout (nested structs become nested
JSON objects); `serialise` turns a frame into the bytes of a CSV, JSON lines or Parquet file,
gzipped deterministically (mtime 0) when asked.
"""

from __future__ import annotations

import gzip
import io
import json
from datetime import date

import polars as pl

from schemas.canonical import POST_METRICS


def _rfc3339(column: str, instagram_style: bool = False) -> pl.Expr:
    # Instagram writes "+0000"; YouTube and the canonical format write "Z".
    fmt = "%Y-%m-%dT%H:%M:%S+0000" if instagram_style else "%Y-%m-%dT%H:%M:%SZ"
    return pl.col(column).dt.strftime(fmt)


def _round_3_significant(column: str) -> pl.Expr:
    """YouTube's public subscriber count: 3 significant digits (exact below 1,000)."""
    value = pl.col(column)
    magnitude = value.cast(pl.Float64).log10().floor().cast(pl.Int64)
    unit = pl.lit(10, pl.Int64).pow((magnitude - 2).clip(lower_bound=0))
    return ((value + unit // 2) // unit * unit).cast(pl.Int64)


def instagram_users(followers: pl.DataFrame) -> pl.DataFrame:
    return followers.select(
        pl.col("account_id").alias("id"),
        pl.col("handle").alias("username"),
        pl.col("display_name").alias("name"),
        pl.col("followers").alias("followers_count"),
        pl.col("following").alias("follows_count"),
        pl.col("posts_count").alias("media_count"),
    )


def instagram_media(posts: pl.DataFrame, views_name: str = "views") -> pl.DataFrame:
    """IG Media with insights; older exports name the views of a video `plays` (retired in
    2025) and carry `impressions` beside them."""
    return posts.select(
        pl.col("post_id").alias("id"),
        pl.struct(pl.col("account_id").alias("id")).alias("owner"),
        pl.col("handle").alias("username"),
        _rfc3339("published_at", instagram_style=True).alias("timestamp"),
        pl.when(pl.col("media_type") == "REELS")
        .then(pl.lit("VIDEO"))
        .otherwise(pl.col("media_type"))
        .alias("media_type"),
        pl.when(pl.col("media_type") == "REELS")
        .then(pl.lit("REELS"))
        .otherwise(pl.lit("FEED"))
        .alias("media_product_type"),
        pl.col("likes").alias("like_count"),
        pl.col("comments").alias("comments_count"),
        pl.col("saves").alias("saved"),
        pl.col("shares"),
        pl.col("reach"),
        pl.col("views").alias(views_name),
        # Exports of that time also carried impressions (times shown, so at least the views).
        *([] if views_name == "views" else [(pl.col("views") * 5 // 4).alias("impressions")]),
        pl.col("caption"),
        pl.col("is_sponsored").alias("is_paid_partnership"),
    )


def tiktok_users(followers: pl.DataFrame) -> pl.DataFrame:
    return followers.select(
        pl.col("account_id").alias("open_id"),
        pl.col("handle").alias("username"),
        pl.col("display_name"),
        pl.col("followers").alias("follower_count"),
        pl.col("following").alias("following_count"),
        (pl.col("followers") * 7).alias("likes_count"),
        pl.col("posts_count").alias("video_count"),
    )


def tiktok_videos(posts: pl.DataFrame) -> pl.DataFrame:
    return posts.select(
        pl.col("post_id").alias("id"),
        pl.col("account_id").alias("open_id"),
        pl.col("published_at").dt.epoch("s").alias("create_time"),
        pl.col("caption").alias("video_description"),
        pl.col("likes").alias("like_count"),
        pl.col("comments").alias("comment_count"),
        pl.col("shares").alias("share_count"),
        pl.col("views").alias("view_count"),
        pl.col("saves").alias("collect_count"),
    )


def youtube_channels(followers: pl.DataFrame) -> pl.DataFrame:
    hidden = pl.col("is_subscribers_hidden")
    return followers.select(
        pl.lit("youtube#channel").alias("kind"),
        pl.col("account_id").alias("id"),
        pl.struct(
            pl.col("display_name").alias("title"),
            ("@" + pl.col("handle")).alias("customUrl"),
        ).alias("snippet"),
        pl.struct(
            (pl.col("followers") * 40).cast(pl.String).alias("viewCount"),
            pl.when(~hidden)
            .then(_round_3_significant("followers").cast(pl.String))
            .alias("subscriberCount"),
            hidden.alias("hiddenSubscriberCount"),
            pl.col("posts_count").cast(pl.String).alias("videoCount"),
        ).alias("statistics"),
    )


def youtube_videos(posts: pl.DataFrame) -> pl.DataFrame:
    return posts.select(
        pl.lit("youtube#video").alias("kind"),
        pl.col("post_id").alias("id"),
        pl.struct(
            pl.col("account_id").alias("channelId"),
            _rfc3339("published_at").alias("publishedAt"),
            pl.col("caption").str.split(" #").list.first().alias("title"),
            pl.col("caption").alias("description"),
        ).alias("snippet"),
        pl.struct(
            pl.col("views").cast(pl.String).alias("viewCount"),
            pl.col("likes").cast(pl.String).alias("likeCount"),
            pl.col("comments").cast(pl.String).alias("commentCount"),
        ).alias("statistics"),
    )


def _canonical_media_type() -> pl.Expr:
    """The simulated IG media type (IMAGE, CAROUSEL_ALBUM, REELS ...) as canonical text."""
    return (
        pl.col("media_type")
        .str.to_lowercase()
        .replace({"carousel_album": "carousel", "reels": "reel"})
    )


def canonical_followers(followers: pl.DataFrame) -> pl.DataFrame:
    return followers.select(
        "platform",
        "account_id",
        pl.col("snapshot_date").cast(pl.String),
        _rfc3339("captured_at").alias("captured_at"),
        pl.when(~pl.col("is_subscribers_hidden")).then(pl.col("followers")).alias("followers"),
        pl.col("is_subscribers_hidden").alias("followers_hidden"),
        "following",
        "posts_count",
        "handle",
        "display_name",
        "category",
    )


def canonical_posts(posts: pl.DataFrame, lists_as_text: bool) -> pl.DataFrame:
    hashtags = pl.col("caption").str.extract_all(r"#\w+").list.eval(pl.element().str.slice(1))
    mentions = pl.col("caption").str.extract_all(r"@\w+").list.eval(pl.element().str.slice(1))
    if lists_as_text:
        hashtags, mentions = hashtags.list.join(";"), mentions.list.join(";")
    return posts.select(
        "platform",
        "post_id",
        "account_id",
        pl.col("snapshot_date").cast(pl.String),
        _rfc3339("captured_at").alias("captured_at"),
        _rfc3339("published_at").alias("published_at"),
        _canonical_media_type(),
        *POST_METRICS,
        "caption",
        hashtags.alias("hashtags"),
        mentions.alias("mentions"),
        "is_sponsored",
    )


def abbreviate(column: str, lowercase_suffix: pl.Expr) -> pl.Expr:
    """How creator tools print counts: 1,234 below 10K, then 12.3k, 475.8m (one decimal)."""
    value = pl.col(column)
    thousands = (value.cast(pl.Float64) / 1_000).round(1)
    millions = (value.cast(pl.Float64) / 1_000_000).round(1)
    m_suffix = pl.when(lowercase_suffix).then(pl.lit("m")).otherwise(pl.lit("M"))
    with_commas = value.cast(pl.String).str.replace(r"(\d)(\d{3})$", "$1,$2")
    return (
        pl.when(value < 10_000)
        .then(with_commas)
        .when(value < 1_000_000)
        .then(pl.format("{}k", thousands))
        .otherwise(pl.format("{}{}", millions, m_suffix))
    )


def creator_tool(followers: pl.DataFrame, snapshot: date) -> pl.DataFrame:
    """A creator tool's account list: abbreviated numbers and a percentage engagement rate."""
    odd_row = pl.int_range(pl.len()) % 2 == 1
    return followers.with_columns(
        (pl.col("followers") * pl.col("er_estimate") * 0.86)
        .round(0)
        .cast(pl.Int64)
        .alias("avg_likes"),
        (pl.col("followers") * pl.col("er_estimate") * 0.04)
        .round(0)
        .cast(pl.Int64)
        .alias("avg_comments"),
    ).select(
        pl.col("account_id").alias("user_id"),
        pl.col("handle").alias("username"),
        "platform",
        pl.col("display_name").alias("full_name"),
        "category",
        abbreviate("followers", odd_row).alias("followers"),
        abbreviate("following", odd_row).alias("following"),
        abbreviate("posts_count", odd_row).alias("posts"),
        abbreviate("avg_likes", odd_row).alias("avg_likes"),
        abbreviate("avg_comments", odd_row).alias("avg_comments"),
        pl.format("{}%", (pl.col("er_estimate") * 100).round(2)).alias("engagement_rate"),
        pl.lit(snapshot.isoformat()).alias("date"),
    )


def serialise(
    frame: pl.DataFrame, file_format: str, gzipped: bool = False, bom: bool = False
) -> bytes:
    """The bytes of a CSV, JSON lines ("jsonl") or Parquet file of `frame`."""
    buffer = io.BytesIO()
    if file_format == "csv":
        frame.write_csv(buffer)
    elif file_format == "jsonl":
        frame.write_ndjson(buffer)
    elif file_format == "parquet":
        frame.write_parquet(buffer, compression="zstd", statistics=True)
    else:
        raise ValueError(f"unknown file format {file_format!r}")
    data = buffer.getvalue()
    if bom:
        data = b"\xef\xbb\xbf" + data
    return gzip.compress(data, mtime=0) if gzipped else data


# --- API responses as saved, and owned-account downloads (README: Supported exports) --------

# The Graph API and YouTube return at most 50 records per page by default here.
PAGE_SIZE = 50
_TIKTOK_OK = {"code": "ok", "message": "", "log_id": "202601010000000000000000000000"}


def _present(value: object) -> object:
    """A record as an API writes it: absent fields are left out, not null."""
    if isinstance(value, dict):
        return {k: _present(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_present(v) for v in value]
    return value


def _lines(documents: list[dict]) -> bytes:
    return "".join(json.dumps(d, ensure_ascii=False) + "\n" for d in documents).encode()


def _pages(records: list[dict]) -> list[list[dict]]:
    return [records[i : i + PAGE_SIZE] for i in range(0, len(records), PAGE_SIZE)] or [[]]


def instagram_discovery_responses(users: pl.DataFrame) -> bytes:
    """One `business_discovery` response per creator (how agencies read accounts they do not
    own), one per line; the outer id is the agency's own account."""
    return _lines(
        [{"business_discovery": _present(r), "id": "17841400999999999"} for r in users.to_dicts()]
    )


_INSIGHTS = ("reach", "saved", "shares", "views", "plays", "impressions")


def instagram_media_pages(media: pl.DataFrame) -> bytes:
    """The media edge as returned: pages of `{"data": [...], "paging": ...}`, one per line,
    each medium's insights nested as the insights edge writes them."""
    pages = []
    for number, page in enumerate(_pages(media.to_dicts())):
        data = []
        for raw in page:
            record = dict(_present(raw))  # type: ignore[call-overload]
            metrics = [
                {"name": k, "period": "lifetime", "values": [{"value": record.pop(k)}]}
                for k in _INSIGHTS
                if k in record and record[k] is not None
            ]
            for k in _INSIGHTS:
                record.pop(k, None)
            data.append({**record, "insights": {"data": metrics}})
        pages.append(
            {"data": data, "paging": {"cursors": {"before": f"b{number}", "after": f"a{number}"}}}
        )
    return _lines(pages)


def tiktok_user_responses(users: pl.DataFrame) -> bytes:
    """One `/v2/user/info/` response per creator, one per line."""
    return _lines([{"data": {"user": _present(r)}, "error": _TIKTOK_OK} for r in users.to_dicts()])


def tiktok_video_list(videos: pl.DataFrame) -> bytes:
    """One creator's `/v2/video/list/` response: its videos carry no owner (the request had it)."""
    records = [_present(r) for r in videos.drop("open_id").to_dicts()]
    return _lines(
        [{"data": {"videos": records, "cursor": 0, "has_more": False}, "error": _TIKTOK_OK}]
    )


def youtube_list_responses(items: pl.DataFrame, kind: str) -> bytes:
    """`channelListResponse` / `videoListResponse` pages, one per line."""
    return _lines(
        [
            {
                "kind": f"youtube#{kind}ListResponse",
                "etag": f"page{number}",
                "pageInfo": {"totalResults": items.height, "resultsPerPage": PAGE_SIZE},
                "items": [_present(r) for r in page],
            }
            for number, page in enumerate(_pages(items.to_dicts()))
        ]
    )


def meta_business_suite_posts(posts: pl.DataFrame) -> pl.DataFrame:
    """An account's Meta Business Suite post export (month-first wall-clock publish times)."""
    post_type = _canonical_media_type()
    return posts.select(
        pl.col("post_id").alias("Post ID"),
        pl.col("account_id").alias("Account ID"),
        pl.col("handle").alias("Account username"),
        pl.col("handle").alias("Account name"),
        pl.col("caption").alias("Description"),
        pl.lit("").alias("Duration (sec)"),
        pl.col("published_at").dt.strftime("%m/%d/%Y %H:%M").alias("Publish time"),
        pl.format("https://www.instagram.com/p/{}/", pl.col("post_id")).alias("Permalink"),
        pl.format("IG {}", post_type).alias("Post type"),
        pl.lit("").alias("Data comment"),
        pl.lit("Lifetime").alias("Date"),
        pl.col("views").alias("Views"),
        pl.col("reach").alias("Reach"),
        pl.col("likes").alias("Likes"),
        pl.col("shares").alias("Shares"),
        pl.lit(0).alias("Follows"),
        pl.col("comments").alias("Comments"),
        pl.col("saves").alias("Saves"),
    )


def tiktok_studio_content(posts: pl.DataFrame) -> pl.DataFrame:
    """A creator's TikTok Studio content download."""
    return posts.select(
        pl.col("caption").str.split(" #").list.first().alias("Video title"),
        pl.format("https://www.tiktok.com/@{}/video/{}", pl.col("handle"), pl.col("post_id")).alias(
            "Video link"
        ),
        pl.col("published_at").dt.strftime("%Y-%m-%d %H:%M:%S").alias("Post time"),
        pl.col("likes").alias("Total likes"),
        pl.col("comments").alias("Total comments"),
        pl.col("shares").alias("Total shares"),
        pl.col("views").alias("Total views"),
    )


def tiktok_studio_followers(days: pl.DataFrame) -> pl.DataFrame:
    """A creator's TikTok Studio followers download: one exact count per day."""
    return days.sort("snapshot_date").select(
        pl.col("snapshot_date").cast(pl.String).alias("Date"),
        pl.col("followers").alias("Followers"),
        pl.col("followers").diff().fill_null(0).alias("Difference in followers from previous day"),
    )


def youtube_reporting_channel_basic(changes: pl.DataFrame) -> pl.DataFrame:
    """`channel_basic_a2`: each channel-day split over two videos (the report's grain is finer
    than a day), with the report's other columns zero."""
    halves = []
    for video, share in (("vid00000001", 0), ("vid00000002", 1)):
        halves.append(
            changes.select(
                pl.col("snapshot_date").dt.strftime("%Y%m%d").alias("date"),
                pl.col("account_id").alias("channel_id"),
                pl.lit(video).alias("video_id"),
                pl.lit("on_demand").alias("live_or_on_demand"),
                pl.lit("unsubscribed").alias("subscribed_status"),
                pl.lit("US").alias("country_code"),
                pl.lit(0).alias("views"),
                (pl.col("gained") // 2 + share * (pl.col("gained") % 2)).alias(
                    "subscribers_gained"
                ),
                (pl.col("lost") // 2 + share * (pl.col("lost") % 2)).alias("subscribers_lost"),
            )
        )
    return pl.concat(halves).sort("date", "channel_id", "video_id")


def youtube_studio_table(changes: pl.DataFrame) -> pl.DataFrame:
    """YouTube Studio's Table data export by Date, under its Total row."""
    rows = changes.sort("snapshot_date").select(
        pl.col("snapshot_date").cast(pl.String).alias("Date"),
        pl.col("gained").alias("Subscribers gained"),
        pl.col("lost").alias("Subscribers lost"),
        (pl.col("gained") - pl.col("lost")).alias("Subscribers"),
    )
    total = rows.select(pl.lit("Total").alias("Date"), *(pl.col(c).sum() for c in rows.columns[1:]))
    return pl.concat([total, rows])
