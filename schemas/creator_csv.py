"""Creator-tool CSV exports: `user_id, username, platform, followers, avg_likes, ...`.

Influencer tools abbreviate numbers (`3.3k`, `475.8m`, `1,234`, `1.39%`). They are parsed
exactly with integer arithmetic; an ambiguous value (`1,5k`, `1.2345k`, `NaN%`) rejects the row.
A row whose tool-computed averages do not parse is rejected too: a garbled number usually means
shifted columns, and then the follower count beside it cannot be trusted either. The averages
themselves are not loaded (inflow computes its own from posts).

`user_id` is required: a username alone cannot tie a row to an account reliably (handles are
renamed and reused). An abbreviated follower count is flagged `is_followers_rounded`.
Snapshot date: a `date` column if present, else the file name's `YYYY-MM-DD`; capture time: the
file name's `THHMMSSZ` if present, else midnight UTC of that date (so an exact API export of the
same day, captured later, wins).
"""

from __future__ import annotations

import polars as pl

from schemas.canonical import KNOWN_PLATFORM
from schemas.contract import ROUNDED, Contract, Field

FOLLOWERS = Contract(
    format="creator_csv",
    kind="followers",
    fields=(
        Field("account_id", "user_id", "string", required=True),
        Field("handle", "username", "string", required=True),
        Field("platform", "platform", "string", required=True),
        Field("display_name", "full_name", "string"),
        Field("category", "category", "string"),
        Field("followers", "followers", "abbreviated_count", required=True, non_negative=True),
        Field("following", "following", "abbreviated_count", non_negative=True),
        Field("posts_count", "posts", "abbreviated_count", non_negative=True),
        Field("avg_likes", "avg_likes", "abbreviated_count"),
        Field("avg_comments", "avg_comments", "abbreviated_count"),
        Field("engagement_rate", "engagement_rate", "percent"),
        Field("snapshot_date", "date", "date"),
        ROUNDED,
    ),
    signature=frozenset({"username", "followers"}),
    snapshot_rule="date column, else the file name's date; capture time from the file name",
    row_rules=(KNOWN_PLATFORM,),
    # "12.3k" and "1.2M" are flagged rounded (schemas.contract: abbreviated counts); "12,345"
    # and "12345" are exact.
    derive=lambda frame: frame.with_columns(pl.col("handle").str.strip_chars_start("@")),
    where="influencer-discovery tools' creator lists (CSV), abbreviated numbers included",
    doc="Creator-tool account exports: one follower snapshot per row.",
)
