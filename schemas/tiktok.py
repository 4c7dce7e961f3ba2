"""TikTok exports: user info and video objects, from the API or from scrapers.

Shapes: the Display API's `/v2/user/info/` and `/v2/video/list/` objects (saved bare, as JSON
lines, or in their response envelope: schemas/envelopes.py), and the camelCase objects web
scrapers save (`diggCount`, `playCount`, `commentCount`, `shareCount`, `collectCount`,
`followerCount`, `createTime`, `authorMeta.name`): the same measures under other names, mapped
through the aliases below.

Accounts are keyed by `open_id`; exports without API access carry only the username
(`username`, a scraper's `uniqueId` / `authorMeta.name`), which then serves as the key (a rename
then reads as a new account). The video list API is per user and its videos carry no owner: it
comes from the file's location (a folder `open_id=<id>` or a `<file>.request.json`; README).
Counts a scraper read off the web page can be abbreviated ("50.5K"): they are parsed exactly
and flagged rounded. Capture time: `captured_at` if present, else the file name's timestamp.
"""

from __future__ import annotations

import polars as pl

from schemas.contract import ROUNDED, Contract, Field

FOLLOWERS = Contract(
    format="tiktok",
    kind="followers",
    platform="tiktok",
    fields=(
        Field(
            "account_id",
            "open_id",
            "string",
            required=True,
            aliases=("username", "uniqueId", "user.uniqueId"),
        ),
        Field("handle", "username", "string", aliases=("uniqueId", "user.uniqueId")),
        Field("display_name", "display_name", "string", aliases=("nickname", "user.nickname")),
        Field(
            "followers",
            "follower_count",
            "abbreviated_count",
            required=True,
            non_negative=True,
            aliases=("followerCount", "stats.followerCount"),
        ),
        Field(
            "following",
            "following_count",
            "abbreviated_count",
            non_negative=True,
            aliases=("followingCount", "stats.followingCount"),
        ),
        Field(
            "posts_count",
            "video_count",
            "abbreviated_count",
            non_negative=True,
            aliases=("videoCount", "stats.videoCount"),
        ),
        Field("captured_at", "captured_at", "timestamp"),
        ROUNDED,
    ),
    signature=frozenset({"follower_count"}),
    alt_signatures=(frozenset({"followerCount"}), frozenset({"user", "stats"})),
    where="TikTok Display API /v2/user/info/ (saved as returned), or a profile scraper",
    snapshot_rule="captured_at field, else the file name's timestamp",
    doc="TikTok user info: one follower snapshot per row.",
)

POSTS = Contract(
    format="tiktok",
    kind="posts",
    platform="tiktok",
    fields=(
        Field("post_id", "id", "string", required=True),
        Field(
            "account_id",
            "open_id",
            "string",
            required=True,
            aliases=("username", "authorMeta.name", "author.uniqueId"),
        ),
        Field(
            "published_at",
            "create_time",
            "epoch_seconds",
            required=True,
            aliases=("createTime",),
        ),
        Field(
            "likes", "like_count", "abbreviated_count", non_negative=True, aliases=("diggCount",)
        ),
        Field(
            "comments",
            "comment_count",
            "abbreviated_count",
            non_negative=True,
            aliases=("commentCount",),
        ),
        Field(
            "shares", "share_count", "abbreviated_count", non_negative=True, aliases=("shareCount",)
        ),
        Field(
            "saves",
            "collect_count",
            "abbreviated_count",
            non_negative=True,
            # Research API: favorites_count; scrapers: collectCount (a "favorite" is a save).
            aliases=("favorites_count", "collectCount"),
        ),
        Field(
            "views",
            "view_count",
            "abbreviated_count",
            non_negative=True,
            aliases=("play_count", "playCount"),
        ),
        Field("caption", "video_description", "string", aliases=("title", "text", "desc")),
        Field("captured_at", "captured_at", "timestamp"),
    ),
    signature=frozenset({"id", "create_time"}),
    alt_signatures=(frozenset({"id", "createTime"}),),
    owner_key="open_id",
    where="TikTok Display API /v2/video/list/ or Research API video query (saved as returned), "
    "or a video scraper",
    snapshot_rule="captured_at field, else the file name's timestamp",
    derive=lambda frame: frame.with_columns(pl.lit("video").alias("media_type")),
    doc="TikTok video objects: one post snapshot per row.",
)
