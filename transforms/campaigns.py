"""Campaigns and brands: which posts a campaign delivered, what they did, what they cost.

Pure functions over LazyFrames; the definitions of every column are in schemas/marts.py.

Attribution (a post and a campaign): `post_ids` when the post's id is listed for a creator of the
campaign (any date); for posts a creator of the campaign published between start_date and
end_date (both included, UTC days): `hashtags` when the post carries one of the campaign's
hashtags, `mentions` when it mentions or tags (as a hashtag) one of the brand's handles,
`paid_partnership` when it is labelled sponsored. Only the rules the campaign enables apply; the
first that matches, in that order, is `attributed_by`. A post can belong to two campaigns.

Cost metrics follow their industry definitions: cost per engagement = cost / engagements
(interactions), CPM = cost / impressions x 1000 (views when impressions are not known for every
post; IAB's definition of CPM is per thousand impressions), earned media value = the sum of each
action times a per-action value the user sets (an estimate: there is no standard value; off
when unset).
"""

from __future__ import annotations

from collections.abc import Mapping

import polars as pl

from schemas.marts import (
    AGG_BRAND_MENTIONS,
    AGG_CAMPAIGN,
    AGG_CAMPAIGN_CREATORS,
    AGG_SPONSORED_MONTHLY,
    FCT_CAMPAIGN_POSTS,
    FCT_POST_METRICS,
)

# What the campaign transforms read per post (warehouse/sql/read_posts_with_tags.sql):
# fct_post_metrics columns and the latest snapshot's impressions, hashtags and mentions.
POST_INPUT = pl.Schema(
    {
        **{
            c: FCT_POST_METRICS.schema()[c]
            for c in (
                "platform",
                "post_id",
                "account_id",
                "published_date",
                "is_sponsored",
                "likes",
                "comments",
                "shares",
                "saves",
                "views",
                "reach",
                "interactions",
                "likes_d7",
                "comments_d7",
                "views_d7",
                "interactions_d7",
                "er_followers",
                "er_followers_lc_d7",
                "is_d7_pending",
            )
        },
        "impressions": pl.Int64(),
        "hashtags": pl.List(pl.String()),
        "mentions": pl.List(pl.String()),
    }
)

# What sponsored_vs_organic reads of POST_INPUT (warehouse/sql/read_month_posts.sql), and
# brand_mentions (read_brand_posts.sql): every post of the scope's months is read for the
# first, so no other column is (0.20-0.27 s against 0.14-0.15 s for 450,000 posts of a
# 20,000-creator night); the second reads only the posts naming a brand, with their tags.
MONTH_POST_INPUT = (
    "platform",
    "account_id",
    "published_date",
    "is_sponsored",
    "is_d7_pending",
    "er_followers_lc_d7",
)
BRAND_POST_INPUT = (*MONTH_POST_INPUT, "hashtags", "mentions")

# Actions an earned-media value can price, as fct_post_metrics names them.
EMV_ACTIONS = ("likes", "comments", "shares", "saves", "views")
RULE_ORDER = ("post_ids", "hashtags", "mentions", "paid_partnership")
KEY = ["platform", "account_id"]


def _any_shared(left: str, right: str) -> pl.Expr:
    return pl.col(left).list.set_intersection(pl.col(right)).list.len().fill_null(0) > 0


def campaign_posts(
    campaigns: pl.LazyFrame, creators: pl.LazyFrame, posts: pl.LazyFrame
) -> pl.LazyFrame:
    """fct_campaign_posts: one row per campaign and attributed post.

    campaigns: staging.campaigns; creators: staging.campaign_creators with account_id resolved;
    posts: fct_post_metrics rows of the creators' accounts with the latest snapshot's hashtags,
    mentions and impressions.
    """
    pairs = (
        creators.filter(pl.col("account_id").is_not_null())
        .select("campaign_id", *KEY, "post_ids")
        .join(
            campaigns.select(
                "campaign_id", "start_date", "end_date", "brand_handles", "hashtags", "rules"
            ).rename({"hashtags": "campaign_hashtags"}),
            on="campaign_id",
        )
        .join(posts, on=KEY)
    )
    within = pl.col("published_date").is_between(pl.col("start_date"), pl.col("end_date"))

    def enabled(rule: str) -> pl.Expr:
        return pl.col("rules").list.contains(rule)

    tagged = _any_shared("mentions", "brand_handles") | _any_shared("hashtags", "brand_handles")
    matched = {
        "post_ids": enabled("post_ids") & pl.col("post_ids").list.contains(pl.col("post_id")),
        "hashtags": enabled("hashtags") & within & _any_shared("hashtags", "campaign_hashtags"),
        "mentions": enabled("mentions") & within & tagged,
        "paid_partnership": enabled("paid_partnership") & within & pl.col("is_sponsored"),
    }
    flags = [m.fill_null(False).alias(f"_by_{rule}") for rule, m in matched.items()]
    first = pl.lit(None, pl.String)
    for rule in reversed(RULE_ORDER):
        first = pl.when(pl.col(f"_by_{rule}")).then(pl.lit(rule)).otherwise(first)
    rows = (
        pairs.with_columns(*flags, tagged.fill_null(False).alias("mentions_brand"))
        .filter(pl.any_horizontal(f"_by_{r}" for r in RULE_ORDER))
        .with_columns(
            first.alias("attributed_by"),
            pl.concat_str(
                [pl.when(pl.col(f"_by_{r}")).then(pl.lit(r)) for r in RULE_ORDER],
                separator=",",
                ignore_nulls=True,
            ).alias("matched_rules"),
        )
        # A creator listed twice (by id and by handle) attributes each post once.
        .unique(subset=["campaign_id", "platform", "post_id"], keep="first", maintain_order=True)
    )
    return FCT_CAMPAIGN_POSTS.conform(rows)


def _known_sum(column: str) -> pl.Expr:
    """The sum of the known values; null when none is known (not a fake 0)."""
    return pl.when(pl.col(column).count() > 0).then(pl.col(column).sum())


def _emv(values: Mapping[str, float]) -> pl.Expr:
    """Per post: sum of action x value over the priced actions a platform reports (an action
    it does not report adds nothing); null when no value is set."""
    priced = [(a, v) for a, v in values.items() if a in EMV_ACTIONS and v]
    if not priced:
        return pl.lit(None, pl.Float64)
    return pl.sum_horizontal(pl.col(a).fill_null(0) * v for a, v in priced).cast(pl.Float64)


def _totals() -> list[pl.Expr]:
    """The sums and ER statistics every campaign aggregate shows, over attributed posts."""
    comparable = pl.col("er_followers_lc_d7").filter(~pl.col("is_d7_pending"))
    every = pl.len()
    return [
        every.cast(pl.Int64).alias("posts"),
        pl.col("mentions_brand").sum().cast(pl.Int64).alias("mentions"),
        _known_sum("reach").alias("reach"),
        _known_sum("views").alias("views"),
        _known_sum("impressions").alias("impressions"),
        _known_sum("interactions").alias("interactions"),
        comparable.mean().alias("er_mean_d7"),
        comparable.median().alias("er_median_d7"),
        # CPM's audience: impressions when every post has them, else views when every post has
        # them; a partial sum would make a campaign look cheaper than it was.
        pl.when(pl.col("impressions").count() == every)
        .then(pl.lit("impressions"))
        .when(pl.col("views").count() == every)
        .then(pl.lit("views"))
        .alias("cpm_basis"),
        _known_sum("_emv").alias("emv"),
    ]


def _costs(fee: str) -> list[pl.Expr]:
    per_thousand = (
        pl.when(pl.col("cpm_basis") == "impressions")
        .then(pl.col("impressions"))
        .when(pl.col("cpm_basis") == "views")
        .then(pl.col("views"))
    )
    return [
        pl.when(pl.col("posts") > 0).then(pl.col(fee) / pl.col("posts")).alias("cost_per_post"),
        pl.when(pl.col("interactions") > 0).then(pl.col(fee) / pl.col("interactions")).alias("cpe"),
        pl.when(per_thousand > 0).then(pl.col(fee) / per_thousand * 1000).alias("cpm"),
    ]


def _priced(posts: pl.LazyFrame, emv_values: Mapping[str, float]) -> pl.LazyFrame:
    return posts.with_columns(_emv(emv_values).alias("_emv"))


def campaign_creators(
    campaigns: pl.LazyFrame,
    creators: pl.LazyFrame,
    attributed: pl.LazyFrame,
    emv_values: Mapping[str, float],
) -> pl.LazyFrame:
    """agg_campaign_creators: one row per campaign and listed creator, posts or none."""
    totals = _priced(attributed, emv_values).group_by("campaign_id", *KEY).agg(_totals())
    listed = creators.unique(subset=["campaign_id", "platform", "account_id", "handle"]).join(
        campaigns.select("campaign_id", "currency"), on="campaign_id"
    )
    rows = (
        listed.join(totals, on=["campaign_id", *KEY], how="left", nulls_equal=False)
        .with_columns(
            pl.col("posts").fill_null(0),
            pl.col("mentions").fill_null(0),
            pl.when(pl.col("fee_basis") == "per_post")
            .then(pl.col("fee") * pl.col("posts").fill_null(0))
            .otherwise(pl.col("fee"))
            .alias("fee"),
        )
        .with_columns(_costs("fee"))
    )
    return AGG_CAMPAIGN_CREATORS.conform(rows)


def campaign_totals(
    campaigns: pl.LazyFrame,
    creator_rows: pl.LazyFrame,
    attributed: pl.LazyFrame,
    emv_values: Mapping[str, float],
) -> pl.LazyFrame:
    """agg_campaign: one row per campaign (its posts counted once however many rules matched)."""
    totals = (
        _priced(attributed, emv_values)
        .group_by("campaign_id")
        .agg(*_totals(), pl.struct(*KEY).n_unique().cast(pl.Int64).alias("creators_posting"))
    )
    fees = creator_rows.group_by("campaign_id").agg(
        pl.len().cast(pl.Int64).alias("creators"),
        _known_sum("fee").alias("fee_total"),
    )
    rows = (
        campaigns.join(fees, on="campaign_id", how="left")
        .join(totals, on="campaign_id", how="left")
        .with_columns(
            pl.col("posts").fill_null(0),
            pl.col("mentions").fill_null(0),
            pl.col("creators").fill_null(0),
            pl.col("creators_posting").fill_null(0),
        )
        .with_columns(_costs("fee_total"))
    )
    return AGG_CAMPAIGN.conform(rows)


def brand_mentions(posts: pl.LazyFrame, handles: list[str]) -> pl.LazyFrame:
    """agg_brand_mentions: per brand handle, creator and month, the posts that mention or tag it.

    posts: fct_post_metrics rows with the latest hashtags and mentions; handles: the brands'
    handles (lowercase, no '@').
    """
    wanted = pl.lit(pl.Series([handles], dtype=pl.List(pl.String))).first()
    empty = pl.lit(pl.Series([[]], dtype=pl.List(pl.String))).first()
    named = pl.concat_list(
        pl.col("mentions").fill_null(empty), pl.col("hashtags").fill_null(empty)
    ).list.unique(maintain_order=True)
    rows = (
        posts.with_columns(named.list.set_intersection(wanted).alias("brand_handle"))
        .explode("brand_handle")
        .filter(pl.col("brand_handle").is_not_null())
        .with_columns(pl.col("published_date").dt.truncate("1mo").alias("month"))
        .group_by("brand_handle", *KEY, "month")
        .agg(_split_by_sponsorship())
    )
    return AGG_BRAND_MENTIONS.conform(rows)


def _split_by_sponsorship() -> list[pl.Expr]:
    comparable = ~pl.col("is_d7_pending") & pl.col("er_followers_lc_d7").is_not_null()
    sponsored = pl.col("is_sponsored").fill_null(False)
    organic = pl.col("is_sponsored") == False  # noqa: E712 (null: unknown, neither)
    return [
        pl.len().cast(pl.Int64).alias("posts"),
        sponsored.sum().cast(pl.Int64).alias("sponsored_posts"),
        organic.sum().cast(pl.Int64).alias("organic_posts"),
        pl.col("er_followers_lc_d7").filter(comparable).median().alias("er_median_d7"),
        pl.col("er_followers_lc_d7")
        .filter(comparable & sponsored)
        .median()
        .alias("er_median_sponsored_d7"),
        pl.col("er_followers_lc_d7")
        .filter(comparable & organic.fill_null(False))
        .median()
        .alias("er_median_organic_d7"),
    ]


def sponsored_vs_organic(posts: pl.LazyFrame) -> pl.LazyFrame:
    """agg_sponsored_monthly: per creator and month, sponsored posts' ER against organic ones'."""
    rows = (
        posts.with_columns(pl.col("published_date").dt.truncate("1mo").alias("month"))
        .group_by(*KEY, "month")
        .agg(_split_by_sponsorship())
        .with_columns(
            pl.when(pl.col("er_median_organic_d7") > 0)
            .then(pl.col("er_median_sponsored_d7") / pl.col("er_median_organic_d7"))
            .alias("sponsored_to_organic_er")
        )
    )
    return AGG_SPONSORED_MONTHLY.conform(rows)
