"""A deterministic simulation of creators, their audiences and their posts (numpy, no I/O).

The world it simulates is stated in numbers here so that tests can check the output against
them: follower counts log-normal across tiers, daily growth with drift, noise, viral jumps and
purges, some accounts hovering at a tier boundary, posts at platform-typical rates whose metrics
grow after publication and saturate, engagement rates that fall with tier.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import numpy as np
import polars as pl

from schemas.tables import CATEGORIES

# Share of accounts per platform (Instagram dominates creator marketing budgets).
PLATFORM_WEIGHTS = {"instagram": 0.5, "tiktok": 0.3, "youtube": 0.2}
# log10(followers) ~ Normal(4.2, 0.8): about 7% emerging, 33% nano, 45% micro, 14% macro, 1% mega.
LOG10_FOLLOWERS_MEAN = 4.2
LOG10_FOLLOWERS_SD = 0.8
TIER_BOUNDARIES = (1_000, 10_000, 100_000, 1_000_000)
# The brands sponsored posts work for (handles, lowercase): the sample campaigns' brands.
BRANDS = ("glowco", "fitfuel", "snackbox")
HOVER_SHARE = 0.06  # accounts placed within ±3% of a tier boundary, with no drift
VIRAL_JUMP_PROBABILITY = 0.002  # per account-day: +10% to +45% followers
PURGE_PROBABILITY = 0.0008  # per account-day: -5% to -25% (platform removes fake followers)
POSTS_PER_DAY = {"instagram": 0.7, "tiktok": 1.1, "youtube": 0.3}
# Mean engagement rate (interactions / followers) by tier: emerging, nano, micro, macro, mega.
# Instagram: ~8% nano, ~4% micro, ~2.4% macro, ~1.5% mega; TikTok higher; YouTube lower.
ER_BY_TIER = {
    "instagram": (0.09, 0.075, 0.040, 0.024, 0.015),
    "tiktok": (0.16, 0.14, 0.11, 0.075, 0.05),
    "youtube": (0.06, 0.05, 0.035, 0.022, 0.014),
}
# Share of interactions per component: likes, comments, shares, saves (None: not reported).
INTERACTION_MIX = {
    "instagram": (0.86, 0.04, 0.04, 0.06),
    "tiktok": (0.85, 0.04, 0.05, 0.06),
    "youtube": (0.93, 0.07, None, None),
}
# Hours for a post to reach 63% of its final metrics.
SATURATION_HOURS = {"instagram": 30.0, "tiktok": 48.0, "youtube": 72.0}
CAPTURE_TIME = {"instagram": (3, 15, 0), "tiktok": (3, 40, 0), "youtube": (4, 5, 0)}
SPONSORED_SHARE = 0.08
PLATFORMS_ALL: tuple[str, ...] = tuple(PLATFORM_WEIGHTS)
VIRAL_POST_SHARE = 0.03


@dataclass(frozen=True)
class World:
    """The simulated truth: accounts, their daily follower counts, posts and post snapshots."""

    accounts: pl.DataFrame
    followers: pl.DataFrame
    posts: pl.DataFrame
    post_snapshots: pl.DataFrame
    start: date
    days: int


def capture_instant(platform: str, day: date) -> datetime:
    """When the nightly export of a platform is taken on a given day (UTC)."""
    hour, minute, second = CAPTURE_TIME[platform]
    return datetime(day.year, day.month, day.day, hour, minute, second, tzinfo=UTC)


def tier_index(followers: np.ndarray) -> np.ndarray:
    """0 emerging, 1 nano, 2 micro, 3 macro, 4 mega (lower bounds inclusive)."""
    return np.searchsorted(np.array(TIER_BOUNDARIES), followers, side="right")


def simulate(
    accounts: int,
    days: int,
    *,
    seed: int,
    start: date,
    platforms: tuple[str, ...] = tuple(PLATFORM_WEIGHTS),
    post_window_days: int = 14,
) -> World:
    """Simulate `accounts` creators over `days` days, deterministically from `seed`."""
    rng = np.random.default_rng(seed)
    account_frame = _accounts(rng, accounts, platforms)
    followers = _followers(rng, account_frame, days)
    posts = _posts(rng, account_frame, followers, days, start)
    snapshots = _post_snapshots(posts, days, start, post_window_days)
    follower_frame = _follower_frame(account_frame, followers, days, start)
    return World(account_frame, follower_frame, posts, snapshots, start, days)


def simulate_chunks(
    accounts: int,
    days: int,
    *,
    seed: int,
    start: date,
    platforms: tuple[str, ...] = tuple(PLATFORM_WEIGHTS),
    post_window_days: int = 14,
    chunk_days: int = 7,
    account_block: int | None = None,
) -> Iterator[World]:
    """The same model `chunk_days` at a time, so memory follows a chunk, not the whole period.

    Each yielded World holds the chunk's follower days, the posts published in it and the post
    snapshots captured in it (of posts published up to `post_window_days` earlier). Follower
    levels carry over between chunks. Each chunk draws from its own random stream (seeded by
    `seed` and its number): deterministic for the same arguments, with the same accounts and
    day-one followers as `simulate`, but not draw for draw equal to it after that.

    `account_block`: simulate at most this many accounts together, so memory follows
    block x chunk rather than accounts x chunk (a week of a million accounts outgrew 18 GB).
    Each chunk then comes as one World per block, in date order; a consumer that writes one
    file per day (the landing writer) needs the whole chunk at once and passes None.
    """
    rng = np.random.default_rng(seed)
    account_frame = _accounts(rng, accounts, platforms)
    size = account_block or max(accounts, 1)
    blocks = [
        _AccountBlock(account_frame.slice(first, size), first) for first in range(0, accounts, size)
    ]
    posts_so_far = 0
    for number, first in enumerate(range(0, days, chunk_days)):
        count = min(chunk_days, days - first)
        chunk_start = start + timedelta(days=first)
        for block_number, block in enumerate(blocks):
            stream = [seed, number] if len(blocks) == 1 else [seed, number, block_number]
            chunk_rng = np.random.default_rng(stream)
            followers, block.level = _follower_path(
                chunk_rng, block.accounts, count, block.level, first == 0
            )
            posts = _posts(
                chunk_rng, block.accounts, followers, count, chunk_start, first_index=posts_so_far
            ).with_columns(pl.col("day_index") + first)
            posts_so_far += posts.height
            candidates = posts if block.tracked is None else pl.concat([block.tracked, posts])
            snapshots = _post_snapshots(candidates, first + count, start, post_window_days).filter(
                pl.col("snapshot_day_index") >= first
            )
            block.tracked = candidates.filter(
                pl.col("day_index") >= first + count - post_window_days
            )
            follower_frame = _follower_frame(block.accounts, followers, count, chunk_start, first)
            yield block.world(follower_frame, posts, snapshots, chunk_start, count)


class _AccountBlock:
    """Accounts simulated together: their follower levels and their posts still tracked.

    Inside a block accounts are indexed from 0 (the simulation indexes arrays with it); the
    Worlds it yields carry the accounts' index in the whole simulation.
    """

    def __init__(self, accounts: pl.DataFrame, offset: int) -> None:
        self.offset = offset
        self.accounts = accounts.with_columns(pl.col("account_index") - offset)
        self.level = accounts["start_followers"].to_numpy().astype(np.float64)
        self.tracked: pl.DataFrame | None = None  # posts still young enough to be captured again

    def world(
        self,
        followers: pl.DataFrame,
        posts: pl.DataFrame,
        snapshots: pl.DataFrame,
        start: date,
        days: int,
    ) -> World:
        index = pl.col("account_index") + self.offset
        return World(
            self.accounts.with_columns(index),
            followers.with_columns(index),
            posts.with_columns(index),
            snapshots.with_columns(index),
            start,
            days,
        )


_ADJECTIVES = np.array(
    [
        "sunny",
        "urban",
        "wild",
        "cosy",
        "bold",
        "tiny",
        "happy",
        "lazy",
        "brave",
        "calm",
        "vivid",
        "witty",
        "salty",
        "sweet",
        "zen",
        "retro",
    ]
)
_NOUNS = np.array(
    [
        "chef",
        "lens",
        "trail",
        "glow",
        "nest",
        "pixel",
        "spoon",
        "atlas",
        "loop",
        "bloom",
        "craft",
        "mood",
        "fox",
        "wave",
    ]
)
_ID_ALPHABET = np.array(list("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"))


def _random_ids(rng: np.random.Generator, count: int, length: int, prefix: str) -> np.ndarray:
    chars = _ID_ALPHABET[rng.integers(0, len(_ID_ALPHABET), size=(count, length))]
    return np.char.add(prefix, np.ascontiguousarray(chars).view(f"<U{length}").ravel())


def _accounts(rng: np.random.Generator, n: int, platforms: tuple[str, ...]) -> pl.DataFrame:
    weights = np.array([PLATFORM_WEIGHTS[p] for p in platforms])
    platform = np.array(platforms)[rng.choice(len(platforms), size=n, p=weights / weights.sum())]
    index = np.arange(n)
    handle = np.char.add(
        np.char.add(
            np.char.add(_ADJECTIVES[rng.integers(0, len(_ADJECTIVES), n)], "_"),
            _NOUNS[rng.integers(0, len(_NOUNS), n)],
        ),
        index.astype(str),
    )
    open_ids = _random_ids(rng, n, 32, "")
    channel_ids = _random_ids(rng, n, 22, "UC")
    account_id = np.where(
        platform == "instagram",
        (17841400000000000 + index).astype(str),
        np.where(platform == "tiktok", open_ids, channel_ids),
    )
    log10_start = rng.normal(LOG10_FOLLOWERS_MEAN, LOG10_FOLLOWERS_SD, n).clip(1.5, 8.0)
    hover = rng.random(n) < HOVER_SHARE
    boundary = np.array(TIER_BOUNDARIES[1:])[rng.integers(0, 3, n)]
    start_followers = np.where(hover, boundary * rng.uniform(0.97, 1.03, n), 10**log10_start)
    drift = np.where(hover, 0.0, rng.normal(0.0015, 0.003, n))
    noise = np.where(hover, 0.006, rng.uniform(0.002, 0.008, n))
    return pl.DataFrame(
        {
            "account_index": index,
            "platform": platform,
            "account_id": account_id,
            "handle": handle,
            "display_name": np.char.title(np.char.replace(handle, "_", " ")),
            "category": np.array(CATEGORIES)[rng.integers(0, len(CATEGORIES), n)],
            "start_followers": start_followers,
            "following_base": np.round(10 ** rng.normal(2.7, 0.4, n)).astype(np.int64),
            "drift": drift,
            "noise": noise,
            "is_hovering": hover,
            "activity": rng.lognormal(0.0, 0.4, n),
            "is_subscribers_hidden": (platform == "youtube") & (rng.random(n) < 0.01),
        }
    )


def _followers(rng: np.random.Generator, accounts: pl.DataFrame, days: int) -> np.ndarray:
    """followers[account, day] as int64."""
    start = accounts["start_followers"].to_numpy().astype(np.float64)
    return _follower_path(rng, accounts, days, start, True)[0]


def _follower_path(
    rng: np.random.Generator,
    accounts: pl.DataFrame,
    days: int,
    level: np.ndarray,
    first_day_is_start: bool,
) -> tuple[np.ndarray, np.ndarray]:
    """followers[account, day] from each account's `level` the day before, and the last level."""
    n = accounts.height
    drift = accounts["drift"].to_numpy()[:, None]
    noise = accounts["noise"].to_numpy()[:, None]
    log_returns = drift + noise * rng.standard_normal((n, days))
    jumps = rng.random((n, days)) < VIRAL_JUMP_PROBABILITY
    purges = rng.random((n, days)) < PURGE_PROBABILITY
    log_returns += np.where(jumps, np.log1p(rng.uniform(0.10, 0.45, (n, days))), 0.0)
    log_returns += np.where(purges, np.log1p(-rng.uniform(0.05, 0.25, (n, days))), 0.0)
    if first_day_is_start:
        log_returns[:, 0] = 0.0
    path = level[:, None] * np.exp(np.cumsum(log_returns, axis=1))
    return np.maximum(np.round(path), 0).astype(np.int64), path[:, -1]


def _follower_frame(
    accounts: pl.DataFrame, followers: np.ndarray, days: int, start: date, first_day: int = 0
) -> pl.DataFrame:
    n = accounts.height
    relative_day = np.tile(np.arange(days), n)
    day_index = relative_day + first_day
    account_index = np.repeat(np.arange(n), days)
    following = accounts["following_base"].to_numpy()[account_index] + (day_index // 9)
    posts_so_far = np.repeat(np.arange(n) % 50 + 20, days) + day_index // 2
    return pl.DataFrame(
        {
            "account_index": account_index,
            "day_index": day_index,
            "snapshot_date": pl.date_range(
                start, start + timedelta(days=days - 1), eager=True
            ).to_numpy()[relative_day],
            "followers": followers.ravel(),
            "following": following.astype(np.int64),
            "posts_count": posts_so_far.astype(np.int64),
        }
    ).join(accounts.select("account_index", "platform", "account_id"), on="account_index")


def _posts(
    rng: np.random.Generator,
    accounts: pl.DataFrame,
    followers: np.ndarray,
    days: int,
    start: date,
    first_index: int = 0,
) -> pl.DataFrame:
    platform = accounts["platform"].to_numpy().astype(str)
    rate = np.array([POSTS_PER_DAY[p] for p in platform]) * accounts["activity"].to_numpy()
    counts = rng.poisson(rate[:, None], size=(accounts.height, days))
    account_index, day_index = np.nonzero(counts)
    repeats = counts[account_index, day_index]
    account_index = np.repeat(account_index, repeats)
    day_index = np.repeat(day_index, repeats)
    p = account_index.size
    post_platform = platform[account_index]
    seconds = rng.integers(6 * 3600, 23 * 3600, p)
    start_instant = datetime(start.year, start.month, start.day, tzinfo=UTC)
    published_at = (
        np.datetime64(start_instant.replace(tzinfo=None), "s")
        + day_index.astype("timedelta64[D]")
        + seconds.astype("timedelta64[s]")
    ).astype("datetime64[us]")
    followers_at_publish = followers[account_index, day_index]
    names = sorted(ER_BY_TIER)
    platform_code = np.searchsorted(np.array(names), post_platform)
    er_table = np.array([ER_BY_TIER[name] for name in names])
    mix_table = np.array(
        [[np.nan if c is None else c for c in INTERACTION_MIX[name]] for name in names]
    )
    base_er = er_table[platform_code, tier_index(followers_at_publish)]
    viral = rng.random(p) < VIRAL_POST_SHARE
    er = base_er * rng.lognormal(-0.1, 0.45, p) * np.where(viral, 4.0, 1.0)
    interactions = er * np.maximum(followers_at_publish, 50)
    components = interactions[:, None] * mix_table[platform_code] * rng.uniform(0.8, 1.2, (p, 4))
    reach = (
        np.maximum(followers_at_publish, 50) * rng.uniform(0.15, 0.5, p) * np.where(viral, 3.0, 1.0)
    )
    views = np.where(
        post_platform == "tiktok",
        interactions / rng.uniform(0.06, 0.15, p),
        reach * rng.uniform(1.2, 2.0, p),
    )
    # Views run well above interactions on every platform (most viewers do not interact).
    views = np.maximum(views, interactions * rng.uniform(5, 12, p))
    media_type = np.where(
        post_platform == "instagram",
        np.array(["IMAGE", "VIDEO", "CAROUSEL_ALBUM", "REELS"])[
            rng.choice(4, p, p=[0.35, 0.1, 0.25, 0.3])
        ],
        "VIDEO",
    )
    post_index = first_index + np.arange(p)
    post_ids = np.where(
        post_platform == "instagram",
        (18000000000000000 + post_index).astype(str),
        np.where(
            post_platform == "tiktok",
            (7300000000000000000 + post_index).astype(str),
            _random_ids(rng, p, 11, ""),
        ),
    )
    sponsored = rng.random(p) < SPONSORED_SHARE
    categories = accounts["category"].to_numpy().astype(str)[account_index]
    topic = np.char.lower(categories)
    phrase = np.array(
        ["New drop", "Weekend vibes", "Try this", "Behind the scenes", "My routine", "Quick tip"]
    )[rng.integers(0, 6, p)]
    caption = np.char.add(np.char.add(phrase, " #"), topic)
    # Sponsored posts work for a brand: a third carry its collab hashtag and handle, a third
    # only its handle, a third only the #ad label, so that each campaign attribution rule is the
    # first to match some posts. Now and then an organic post mentions a brand too (what
    # agg_brand_mentions counts). Brand and variant follow the post's index, not new random
    # draws, so every other simulated value stays as it was.
    brand = np.array(BRANDS)[post_index % len(BRANDS)]
    variant = (post_index // len(BRANDS)) % 3
    tagged = np.char.add(" #ad @", brand)
    paid = np.where(
        variant == 0,
        np.char.add(np.char.add(tagged, " #"), np.char.add(brand, "collab")),
        np.where(variant == 1, tagged, " #ad"),
    )
    organic = np.where(post_index % 17 == 0, np.char.add(" #daily @", brand), " #daily")
    caption = np.char.add(caption, np.where(sponsored, paid, organic))
    return (
        pl.DataFrame(
            {
                "post_index": post_index,
                "account_index": account_index,
                "platform": post_platform,
                "post_id": post_ids,
                "day_index": day_index,
                "published_at": published_at,
                "media_type": media_type,
                "final_likes": components[:, 0],
                "final_comments": components[:, 1],
                "final_shares": components[:, 2],
                "final_saves": components[:, 3],
                "final_views": views,
                "final_reach": np.where(post_platform == "instagram", reach, np.nan),
                "caption": caption,
                "is_sponsored": sponsored,
            },
            nan_to_null=True,
        )
        .with_columns(pl.col("published_at").dt.replace_time_zone("UTC"))
        .join(accounts.select("account_index", "account_id"), on="account_index")
        .sort("post_index")
    )


def _post_snapshots(posts: pl.DataFrame, days: int, start: date, window: int) -> pl.DataFrame:
    """One row per post and capture day while the post is at most `window` days old."""
    offsets = pl.DataFrame({"age_days": np.arange(window + 1, dtype=np.int64)})
    capture_offset = {
        p: timedelta(hours=h, minutes=m, seconds=s) for p, (h, m, s) in CAPTURE_TIME.items()
    }
    frame = (
        posts.join(offsets, how="cross")
        .with_columns((pl.col("day_index") + pl.col("age_days")).alias("snapshot_day_index"))
        .filter(pl.col("snapshot_day_index") < days)
        .with_columns(
            (
                pl.lit(datetime(start.year, start.month, start.day, tzinfo=UTC))
                + pl.duration(days=pl.col("snapshot_day_index"))
                + pl.col("platform").replace_strict(capture_offset, return_dtype=pl.Duration("us"))
            ).alias("captured_at")
        )
        .filter(pl.col("captured_at") >= pl.col("published_at"))
    )
    hours = (pl.col("captured_at") - pl.col("published_at")).dt.total_seconds() / 3600
    saturation = pl.col("platform").replace_strict(SATURATION_HOURS, return_dtype=pl.Float64)
    share = 1 - (-hours / saturation).exp()
    return (
        frame.with_columns(
            [
                (pl.col(f"final_{m}") * share).floor().cast(pl.Int64).alias(m)
                for m in ("likes", "comments", "shares", "saves", "views", "reach")
            ]
            + [pl.col("captured_at").dt.date().alias("snapshot_date")]
        )
        .select(
            "post_index",
            "account_index",
            "platform",
            "post_id",
            "account_id",
            "snapshot_day_index",
            "snapshot_date",
            "captured_at",
            "published_at",
            "media_type",
            "likes",
            "comments",
            "shares",
            "saves",
            "views",
            "reach",
            "caption",
            "is_sponsored",
        )
        .sort("snapshot_day_index", "post_index")
    )
