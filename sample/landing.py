"""Write a simulated world as the landing folder a real agency would have, faults included.

Layout: `<out>/<platform>/<YYYY-MM-DD>/<export>_<YYYY-MM-DDTHHMMSSZ>.<ext>` for the nightly API
or canonical exports, `<out>/creator-tool/` for the weekly creator-tool CSVs, and with faults
`<out>/late/` (files that arrive after later days), `<out>/<platform>/resent/` (duplicates) and
`<out>/<platform>/partial/` (a truncated upload). `<out>/_generator/manifest.json` records every
file, its expected outcome and every planted fault, so that tests can check ingest against it;
ingest skips folders whose name starts with `_`.
"""

from __future__ import annotations

import gzip
import json
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl
import yaml  # type: ignore[import-untyped]

from sample import exports
from sample.simulate import (
    BRANDS,
    ER_BY_TIER,
    World,
    capture_instant,
    simulate,
    simulate_chunks,
    tier_index,
)

MANIFEST_DIR = "_generator"

# Each (platform, day) nightly export is written in one of these, in rotation, so that every
# format and compression turns up: (format family, file format, gzipped).
FORMAT_ROTATION: tuple[tuple[str, str, bool], ...] = (
    ("native", "jsonl", False),
    ("native", "jsonl", True),
    ("canonical", "csv", False),
    ("native", "jsonl", True),
    ("canonical", "parquet", False),
    # API responses as saved: the records inside each platform's envelope (README).
    ("envelope", "json", False),
    ("canonical", "jsonl", True),
    ("canonical", "csv", True),
)
NATIVE_STEMS = {
    ("instagram", "followers"): "instagram_users",
    ("instagram", "posts"): "instagram_media",
    ("tiktok", "followers"): "tiktok_users",
    ("tiktok", "posts"): "tiktok_videos",
    ("youtube", "followers"): "youtube_channels",
    ("youtube", "posts"): "youtube_videos",
}
CREATOR_TOOL_WEEKDAY = 6  # day index % 7: a weekly creator-tool export per platform
# Instagram files of the first third of the period name views `plays` and carry `impressions`
# (both retired by Meta in 2025).
DEPRECATED_VIEWS_SHARE = 1 / 3
# Owned-account downloads (Meta Business Suite, TikTok Studio, YouTube Reporting and Studio)
# come weekly, from this day on: the week they restate is clear of the planted faults' days.
OWNED_FROM_DAY = 13
FAULT_KINDS = (
    "duplicate_file",
    "reexport",
    "late_file",
    "wrong_types",
    "malformed_record",
    "negative_counts",
    "missing_required_column",
    "truncated_gzip",
    "empty_file",
    "utf8_bom",
    "unknown_extra_columns",
)


@dataclass
class ExportFile:
    """One written file and what ingesting it should do."""

    path: str
    platform: str
    kind: str
    format: str
    gzipped: bool
    rows: int
    expect: str = "load"  # load | fail | duplicate
    bad_rows: list[dict] = field(default_factory=list)
    # Rows of channels hiding their count: attributes kept, no snapshot, not rejected.
    hidden_rows: int = 0
    note: str = ""


@dataclass
class Fault:
    kind: str
    path: str
    description: str


@dataclass
class GenerationSummary:
    out: str
    files: int
    snapshot_rows: int
    bytes: int
    seconds: float
    faults: list[str]


def _ts(instant: datetime) -> str:
    return instant.strftime("%Y-%m-%dT%H%M%SZ")


class _Writer:
    """Collects files and the manifest; the only part that touches the file system."""

    def __init__(self, out: Path) -> None:
        self.out = out
        self.files: list[ExportFile] = []
        self.faults: list[Fault] = []
        self.bytes = 0

    def write(self, relative: str, data: bytes, record: ExportFile) -> None:
        target = self.out / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
        self.bytes += len(data)
        record.path = relative
        self.files.append(record)

    def manifest(self, parameters: dict) -> None:
        target = self.out / MANIFEST_DIR / "manifest.json"
        target.parent.mkdir(parents=True, exist_ok=True)
        body = {
            "parameters": parameters,
            "files": [asdict(f) for f in self.files],
            "faults": [asdict(f) for f in self.faults],
        }
        target.write_text(json.dumps(body, indent=1, sort_keys=True, default=str) + "\n")


def generate_landing(
    out: Path,
    *,
    accounts: int,
    days: int,
    seed: int,
    start: date,
    platforms: tuple[str, ...],
    faults: bool = False,
    post_window_days: int = 14,
    progress: Callable[[int, int], None] | None = None,
    rotation: tuple[tuple[str, str, bool], ...] = FORMAT_ROTATION,
    stream: bool = False,
) -> GenerationSummary:
    """Simulate and write a landing folder; returns what was written.

    `stream`: simulate a week at a time (`simulate_chunks`), so memory follows a week and
    any period fits; the faults need the whole simulation at once, so not with `faults`.
    """
    if stream and faults:
        raise ValueError(
            "faults are planted from the whole simulation: generate them without stream"
        )
    began = time.perf_counter()
    options: dict[str, Any] = {"seed": seed, "start": start, "platforms": platforms}
    worlds = (
        simulate_chunks(accounts, days, post_window_days=post_window_days, **options)
        if stream
        else [simulate(accounts, days, post_window_days=post_window_days, **options)]
    )
    writer = _Writer(out)
    steps = len(platforms) * days
    written = 0
    for world in worlds:
        plan = _FaultPlan(world, platforms) if faults else None
        followers_by_day = _followers_with_attributes(world).partition_by(
            ["platform", "day_index"], as_dict=True
        )
        posts_by_day = _posts_with_handles(world).partition_by(
            ["platform", "snapshot_day_index"], as_dict=True
        )
        empty_posts = _posts_with_handles(world).clear()
        first = (world.start - start).days
        for day_index in range(first, first + world.days):
            for platform in platforms:
                written += 1
                day = start + timedelta(days=day_index)
                followers = followers_by_day.get((platform, day_index))
                if followers is None:
                    continue
                posts = posts_by_day.get((platform, day_index), empty_posts)
                _write_nightly(
                    writer, platform, day_index, day, followers, posts, days, plan, rotation
                )
                if day_index % 7 == CREATOR_TOOL_WEEKDAY and rotation == FORMAT_ROTATION:
                    _write_creator_tool(writer, platform, day, followers)
                    if day_index >= OWNED_FROM_DAY:
                        _write_owned(writer, platform, day_index, followers_by_day, posts)
                if progress:
                    progress(written, steps)
        if plan:
            plan.write_extra_files(writer, followers_by_day, posts_by_day)
        if not stream and rotation == FORMAT_ROTATION:
            _write_campaigns(writer, world)
    parameters = {
        "accounts": accounts,
        "days": days,
        "seed": seed,
        "start": start.isoformat(),
        "platforms": list(platforms),
        "faults": faults,
        "post_window_days": post_window_days,
        "stream": stream,
    }
    writer.manifest(parameters)
    return GenerationSummary(
        out=str(out),
        files=len(writer.files),
        snapshot_rows=sum(f.rows for f in writer.files if f.expect == "load"),
        bytes=writer.bytes,
        seconds=round(time.perf_counter() - began, 2),
        faults=sorted({f.kind for f in writer.faults}),
    )


def _followers_with_attributes(world: World) -> pl.DataFrame:
    followers = world.followers.join(
        world.accounts.select(
            "account_index", "handle", "display_name", "category", "is_subscribers_hidden"
        ),
        on="account_index",
    )
    names = sorted(ER_BY_TIER)
    er_table = np.array([ER_BY_TIER[n] for n in names])
    code = np.searchsorted(np.array(names), followers["platform"].to_numpy().astype(str))
    er_estimate = er_table[code, tier_index(followers["followers"].to_numpy())]
    return followers.with_columns(pl.Series("er_estimate", er_estimate)).sort(
        "day_index", "account_index"
    )


def _posts_with_handles(world: World) -> pl.DataFrame:
    return world.post_snapshots.join(
        world.accounts.select("account_index", "handle"), on="account_index"
    ).sort("snapshot_day_index", "post_index")


def _native_frame(platform: str, kind: str, frame: pl.DataFrame, views_name: str) -> pl.DataFrame:
    if platform == "instagram":
        return (
            exports.instagram_users(frame)
            if kind == "followers"
            else exports.instagram_media(frame, views_name)
        )
    if platform == "tiktok":
        return exports.tiktok_users(frame) if kind == "followers" else exports.tiktok_videos(frame)
    return exports.youtube_channels(frame) if kind == "followers" else exports.youtube_videos(frame)


def _hidden_rows(platform: str, kind: str, frame: pl.DataFrame) -> int:
    """Rows of YouTube channels that hide their count (hiddenSubscriberCount, or the canonical
    followers_hidden column): no snapshot, not rejected."""
    if platform != "youtube" or kind != "followers":
        return 0
    return int(frame["is_subscribers_hidden"].sum())


def _write_nightly(
    writer: _Writer,
    platform: str,
    day_index: int,
    day: date,
    followers: pl.DataFrame,
    posts: pl.DataFrame,
    days: int,
    plan: _FaultPlan | None,
    rotation: tuple[tuple[str, str, bool], ...],
) -> None:
    captured = capture_instant(platform, day)
    family, file_format, gzipped = rotation[
        (day_index + 3 * _platform_offset(platform)) % len(rotation)
    ]
    views_name = "plays" if day_index < days * DEPRECATED_VIEWS_SHARE else "views"
    followers = followers.with_columns(pl.lit(captured).alias("captured_at"))
    for kind, frame in (("followers", followers), ("posts", posts)):
        spec = _FileSpec(platform, kind, family, file_format, gzipped, captured, frame, views_name)
        if plan:
            spec = plan.adjust(spec, day_index)
        # An export with nothing in it is not written (an empty file is one of the faults).
        if not spec.frame.height:
            continue
        if spec.family == "envelope" and (platform, kind) == ("tiktok", "posts"):
            _write_video_lists(writer, spec)
        else:
            _write_spec(writer, spec)


def _platform_offset(platform: str) -> int:
    return {"instagram": 0, "tiktok": 1, "youtube": 2}[platform]


@dataclass
class _FileSpec:
    platform: str
    kind: str
    family: str
    file_format: str
    gzipped: bool
    captured: datetime
    frame: pl.DataFrame
    views_name: str = "views"
    folder: str = ""
    bom: bool = False
    bad_rows: list[dict] = field(default_factory=list)
    mutate_text: Callable[[bytes], bytes] | None = None
    shape: Callable[[pl.DataFrame], pl.DataFrame] | None = None
    expect: str = "load"
    note: str = ""

    def relative_path(self) -> str:
        stem = (
            NATIVE_STEMS[(self.platform, self.kind)]
            if self.family in ("native", "envelope")
            else f"canonical_{self.platform}_{self.kind}"
        )
        extension = self.file_format + (".gz" if self.gzipped else "")
        folder = self.folder or f"{self.platform}/{self.captured.date().isoformat()}"
        return f"{folder}/{stem}_{_ts(self.captured)}.{extension}"

    def shaped(self) -> pl.DataFrame:
        if self.family in ("native", "envelope"):
            frame = _native_frame(self.platform, self.kind, self.frame, self.views_name)
        elif self.kind == "followers":
            frame = exports.canonical_followers(self.frame)
        else:
            frame = exports.canonical_posts(self.frame, lists_as_text=self.file_format == "csv")
        return self.shape(frame) if self.shape else frame


def _envelope_bytes(platform: str, kind: str, frame: pl.DataFrame) -> bytes:
    """The native records inside the envelope the platform's API returns them in."""
    if platform == "instagram":
        if kind == "followers":
            return exports.instagram_discovery_responses(frame)
        return exports.instagram_media_pages(frame)
    if platform == "tiktok":
        return exports.tiktok_user_responses(frame)
    return exports.youtube_list_responses(frame, "channel" if kind == "followers" else "video")


def _write_video_lists(writer: _Writer, spec: _FileSpec) -> None:
    """TikTok video lists are per creator and name no owner: one file per creator, under a
    folder `open_id=<id>` that says whose it is (README: Whose export is it?)."""
    videos = exports.tiktok_videos(spec.frame)
    folder = spec.folder or f"{spec.platform}/{spec.captured.date().isoformat()}"
    for (owner,), own in videos.partition_by("open_id", as_dict=True, maintain_order=True).items():
        record = ExportFile(
            path="",
            platform=spec.platform,
            kind=spec.kind,
            format="envelope.json",
            gzipped=False,
            rows=own.height,
            note=spec.note,
        )
        writer.write(
            f"{folder}/open_id={owner}/tiktok_video_list_{_ts(spec.captured)}.json",
            exports.tiktok_video_list(own),
            record,
        )


def _write_spec(writer: _Writer, spec: _FileSpec) -> ExportFile:
    frame = spec.shaped()
    if spec.family == "envelope":
        data = _envelope_bytes(spec.platform, spec.kind, frame)
    else:
        data = exports.serialise(frame, spec.file_format, bom=spec.bom)
    if spec.mutate_text:
        data = spec.mutate_text(data)
    if spec.gzipped:
        data = gzip.compress(data, mtime=0)
    record = ExportFile(
        path="",
        platform=spec.platform,
        kind=spec.kind,
        format=spec.family,
        gzipped=spec.gzipped,
        rows=frame.height,
        expect=spec.expect,
        bad_rows=spec.bad_rows,
        hidden_rows=_hidden_rows(spec.platform, spec.kind, spec.frame),
        note=spec.note,
    )
    record.format = f"{record.format}.{spec.file_format}"
    writer.write(spec.relative_path(), data, record)
    return record


def _write_creator_tool(writer: _Writer, platform: str, day: date, followers: pl.DataFrame) -> None:
    # Creator tools cannot see hidden subscriber counts either, so they list no such channel.
    frame = exports.creator_tool(followers.filter(~pl.col("is_subscribers_hidden")), day)
    record = ExportFile(
        path="",
        platform=platform,
        kind="followers",
        format="creator_csv.csv",
        gzipped=False,
        rows=frame.height,
    )
    writer.write(
        f"creator-tool/creator_{platform}_{day.isoformat()}.csv",
        exports.serialise(frame, "csv"),
        record,
    )


def _write_owned(
    writer: _Writer,
    platform: str,
    day_index: int,
    followers_by_day: dict,
    posts: pl.DataFrame,
) -> None:
    """A week of owned-account downloads: what the first creator of each platform (and every
    YouTube channel's Reporting API job) saves for its own account."""
    keys = [(platform, d) for d in range(day_index - 7, day_index + 1)]
    if any(k not in followers_by_day for k in keys):
        return  # the week straddles a streamed chunk: skipped, not half-written
    followers: pl.DataFrame = pl.concat([followers_by_day[k] for k in keys])
    day = str(followers["snapshot_date"].max())
    owner = (
        followers.filter(pl.col("day_index") == day_index).sort("account_index").row(0, named=True)
    )

    def write(relative: str, kind: str, fmt: str, frame: pl.DataFrame, rows: int) -> None:
        record = ExportFile(
            path="", platform=platform, kind=kind, format=fmt, gzipped=False, rows=rows
        )
        writer.write(relative, exports.serialise(frame, "csv"), record)

    own_posts = posts.filter(pl.col("account_index") == owner["account_index"])
    if platform == "instagram" and own_posts.height:
        frame = exports.meta_business_suite_posts(own_posts)
        write(
            f"owned/meta_business_suite/{owner['handle']}/posts_{day}.csv",
            "posts",
            "meta_business_suite.csv",
            frame,
            frame.height,
        )
    if platform == "tiktok":
        folder = f"owned/tiktok_studio/open_id={owner['account_id']}"
        if own_posts.height:
            frame = exports.tiktok_studio_content(own_posts)
            write(f"{folder}/content_{day}.csv", "posts", "tiktok_studio.csv", frame, frame.height)
        own_days = followers.filter(
            (pl.col("account_index") == owner["account_index"])
            & (pl.col("day_index") > day_index - 7)
        )
        frame = exports.tiktok_studio_followers(own_days)
        write(
            f"{folder}/followers_{day}.csv", "followers", "tiktok_studio.csv", frame, frame.height
        )
    if platform == "youtube":
        # Exact daily gains and losses whose difference is the true change; churn (follows and
        # unfollows that cancel out) differs by channel and day.
        changes = (
            followers.sort("account_index", "day_index")
            .with_columns(pl.col("followers").diff().over("account_index").alias("change"))
            .filter(pl.col("day_index") > day_index - 7)
            .with_columns(
                ((pl.col("account_index") * 7 + pl.col("day_index")) % 5 + 1).alias("churn")
            )
            .with_columns(
                (pl.col("change").clip(lower_bound=0) + pl.col("churn")).alias("gained"),
                ((-pl.col("change")).clip(lower_bound=0) + pl.col("churn")).alias("lost"),
            )
        )
        frame = exports.youtube_reporting_channel_basic(changes)
        write(
            f"owned/youtube_reporting/channel_basic_a2_{day}.csv",
            "follower_changes",
            "youtube_reporting.csv",
            frame,
            frame.height,
        )
        own = changes.filter(pl.col("account_index") == owner["account_index"])
        frame = exports.youtube_studio_table(own)
        write(
            f"owned/youtube_studio/channel_id={owner['account_id']}/Table data_{day}.csv",
            "follower_changes",
            "youtube_studio.csv",
            frame,
            own.height,
        )


# The sample campaigns: one per brand, as YAML, CSV and JSON (README: Campaigns).
CAMPAIGN_FORMATS = ("yaml", "csv", "json")
CAMPAIGN_CREATORS = 6


def _write_campaigns(writer: _Writer, world: World) -> None:
    """A campaign per brand over the middle of the period: creators who posted for the brand
    then (fees in a currency per campaign, one paid per post, one named by handle, one post
    listed by id from before the start), and, left out, other creators posting for the brand."""
    posts = (
        world.post_snapshots.join(
            world.accounts.select("account_index", "handle"), on="account_index"
        )
        .unique("post_id", keep="first")
        .with_columns(pl.col("published_at").dt.date().alias("published_date"))
    )
    first = world.start + timedelta(days=world.days // 4)
    last = world.start + timedelta(days=world.days * 3 // 4)
    for number, brand in enumerate(BRANDS):
        tagged = posts.filter(pl.col("caption").str.contains(f"@{brand}", literal=True))
        during = tagged.filter(
            pl.col("published_date").is_between(first, last) & pl.col("is_sponsored")
        )
        creators = (
            during.group_by("platform", "account_id", "handle")
            .agg(
                pl.col("post_id").sort().first().alias("post_id"),
                pl.col("account_index").first(),
            )
            .sort("account_index")
            .head(CAMPAIGN_CREATORS)
        )
        if creators.is_empty():
            continue
        before = tagged.filter(
            (pl.col("published_date") < first)
            & pl.col("account_id").is_in(creators["account_id"].implode())
        ).sort("post_id")
        currency = ("USD", "EUR", "GBP")[number]
        entries = []
        for position, row in enumerate(creators.iter_rows(named=True)):
            entry: dict[str, Any] = {"platform": row["platform"], "fee": 40 + 35 * position}
            if position == 1:
                entry["handle"] = row["handle"]  # resolved through dim_account
            else:
                entry["account_id"] = row["account_id"]
            if position == 2:
                entry |= {"fee": 12, "fee_basis": "per_post"}
            own_before = before.filter(pl.col("account_id") == row["account_id"])
            if own_before.height:
                entry["post_ids"] = [own_before["post_id"][0]]
            entries.append(entry)
        campaign = {
            "campaign_id": f"{brand}-collab",
            "brand": brand.capitalize(),
            "name": f"{brand.capitalize()} creator collab",
            "start_date": first.isoformat(),
            "end_date": last.isoformat(),
            "currency": currency,
            "brand_handles": [brand],
            "hashtags": [f"{brand}collab"],
            "creators": entries,
        }
        fmt = CAMPAIGN_FORMATS[number % len(CAMPAIGN_FORMATS)]
        record = ExportFile(
            path="",
            platform="+".join(sorted({e["platform"] for e in entries})),
            kind="campaigns",
            format=f"campaigns.{fmt}",
            gzipped=False,
            rows=1 + len(entries),
        )
        writer.write(f"campaigns/{brand}.{fmt}", _campaign_bytes(campaign, fmt), record)


def _campaign_bytes(campaign: dict[str, Any], fmt: str) -> bytes:
    if fmt == "json":
        return (json.dumps(campaign, indent=2) + "\n").encode()
    if fmt == "yaml":
        return yaml.safe_dump(campaign, sort_keys=False, allow_unicode=True).encode()
    rows = [
        {k: v for k, v in campaign.items() if k != "creators"}
        | {
            "brand_handles": ";".join(campaign["brand_handles"]),
            "hashtags": ";".join(campaign["hashtags"]),
            "account_id": c.get("account_id", ""),
            "handle": c.get("handle", ""),
            "platform": c["platform"],
            "fee": c["fee"],
            "fee_basis": c.get("fee_basis", ""),
            "post_ids": ";".join(c.get("post_ids", [])),
        }
        for c in campaign["creators"]
    ]
    return exports.serialise(pl.DataFrame(rows), "csv")


class _FaultPlan:
    """Where each planted fault goes: fixed, early days of the first platforms, so runs repeat."""

    def __init__(self, world: World, platforms: tuple[str, ...]) -> None:
        if world.days < 12:
            raise ValueError("--faults needs at least 12 days to place every fault")
        self.world = world
        self.p0 = platforms[0]
        self.p1 = platforms[1 % len(platforms)]
        self.p2 = platforms[2 % len(platforms)]
        self.late_day = world.days - 3

    def adjust(self, spec: _FileSpec, day_index: int) -> _FileSpec:
        key = (spec.platform, spec.kind, day_index)
        if key == (self.p0, "posts", 3):
            return self._wrong_types(spec)
        if key == (self.p1, "followers", 4):
            return self._negative_counts(spec)
        if key == (self.p2, "followers", 8):
            spec.family, spec.file_format, spec.gzipped, spec.bom = "canonical", "csv", False, True
            spec.note = "utf8_bom: loads like any CSV"
            self._fault("utf8_bom", spec, "a canonical CSV starting with a UTF-8 byte-order mark")
        if key == (self.p0, "followers", 9):
            spec.family, spec.file_format, spec.gzipped = "canonical", "csv", False
            spec.shape = lambda f: f.with_columns(
                pl.lit("🙂").alias("favourite_emoji"), pl.lit("check later").alias("internal_note")
            )
            spec.note = "unknown_extra_columns: ignored"
            self._fault("unknown_extra_columns", spec, "a canonical CSV with two extra columns")
        if spec.platform == self.p0 and day_index == self.late_day:
            spec.folder = f"late/{spec.platform}/{spec.captured.date().isoformat()}"
            spec.note = "late_file: ingest after the later days"
            self._fault("late_file", spec, "a day's export that arrives after later days")
        return spec

    def _fault(self, kind: str, spec: _FileSpec, description: str) -> None:
        self.pending = getattr(self, "pending", [])
        self.pending.append((kind, spec, description))

    def _wrong_types(self, spec: _FileSpec) -> _FileSpec:
        spec.family, spec.file_format, spec.gzipped = "native", "jsonl", False
        rows = [r for r in (2, 5) if r <= spec.frame.height]
        like_field = {"instagram": "like_count", "tiktok": "like_count", "youtube": "statistics"}[
            spec.platform
        ]

        def break_types(frame: pl.DataFrame) -> pl.DataFrame:
            if like_field == "statistics":
                broken = pl.col("statistics").struct.with_fields(pl.lit("lots").alias("likeCount"))
                return frame.with_columns(
                    pl.when(pl.int_range(pl.len()).is_in([r - 1 for r in rows]))
                    .then(broken)
                    .otherwise(pl.col("statistics"))
                )
            return frame.with_columns(
                pl.when(pl.int_range(pl.len()).is_in([r - 1 for r in rows]))
                .then(pl.lit("lots"))
                .otherwise(pl.col(like_field).cast(pl.String))
                .alias(like_field)
            )

        spec.shape = break_types
        spec.bad_rows = [{"row": r, "rule": "invalid_value"} for r in rows]
        malformed_row = 7 if spec.frame.height >= 7 else None
        if malformed_row:
            spec.bad_rows.append({"row": malformed_row, "rule": "malformed_record"})
            spec.mutate_text = lambda data: _truncate_line(data, malformed_row)
        spec.note = "wrong_types and malformed_record rows"
        self._fault("wrong_types", spec, f"rows {rows}: like count 'lots'")
        if malformed_row:
            self._fault("malformed_record", spec, f"row {malformed_row}: a JSON line cut short")
        return spec

    def _negative_counts(self, spec: _FileSpec) -> _FileSpec:
        spec.family, spec.file_format, spec.gzipped = "canonical", "csv", False
        rows = [r for r in (1, 3) if r <= spec.frame.height]
        spec.frame = spec.frame.with_columns(
            pl.when(pl.int_range(pl.len()).is_in([r - 1 for r in rows]))
            .then(-pl.col("followers") - 1)
            .otherwise(pl.col("followers"))
            .alias("followers")
        )
        spec.bad_rows = [{"row": r, "rule": "negative_count"} for r in rows]
        spec.note = "negative_counts rows"
        self._fault("negative_counts", spec, f"rows {rows}: negative follower counts")
        return spec

    def write_extra_files(
        self, writer: _Writer, followers_by_day: dict, posts_by_day: dict
    ) -> None:
        """Faults that are files of their own, plus the records of in-place ones."""
        start = self.world.start
        for kind, spec, description in getattr(self, "pending", []):
            writer.faults.append(Fault(kind, spec.relative_path(), description))

        # duplicate_file: the same bytes again under another folder.
        original = next(f for f in writer.files if f.platform == self.p0 and f.kind == "followers")
        duplicate = f"{self.p0}/resent/{Path(original.path).name}"
        data = (writer.out / original.path).read_bytes()
        writer.write(
            duplicate,
            data,
            ExportFile(
                "",
                self.p0,
                "followers",
                original.format,
                original.gzipped,
                original.rows,
                expect="duplicate",
                note=f"same bytes as {original.path}",
            ),
        )
        writer.faults.append(
            Fault("duplicate_file", duplicate, f"a byte-identical copy of {original.path}")
        )

        # reexport: day 2 of p1 exported again that evening with changed follower counts.
        day = start + timedelta(days=2)
        frame = followers_by_day[(self.p1, 2)]
        captured = capture_instant(self.p1, day) + timedelta(hours=20)
        changed = frame.with_columns(
            (pl.col("followers") + 1 + pl.int_range(pl.len()) % 50).alias("followers"),
            pl.lit(captured).alias("captured_at"),
        )
        spec = _FileSpec(
            self.p1,
            "followers",
            "native",
            "jsonl",
            False,
            captured,
            changed,
            note="reexport: wins over the morning export",
        )
        record = _write_spec(writer, spec)
        writer.faults.append(
            Fault("reexport", record.path, "day 2 re-exported in the evening with changed counts")
        )

        # missing_required_column: a canonical CSV without account_id: the whole file fails.
        day = start + timedelta(days=5)
        captured = capture_instant(self.p2, day) + timedelta(hours=1)
        spec = _FileSpec(
            self.p2,
            "followers",
            "canonical",
            "csv",
            False,
            captured,
            followers_by_day[(self.p2, 5)].with_columns(pl.lit(captured).alias("captured_at")),
            shape=lambda f: f.drop("account_id"),
            expect="fail",
            note="missing_required_column: account_id",
        )
        record = _write_spec(writer, spec)
        writer.faults.append(
            Fault("missing_required_column", record.path, "canonical followers without account_id")
        )

        # truncated_gzip: a partial upload of day 6 of p0's posts.
        day = start + timedelta(days=6)
        captured = capture_instant(self.p0, day)
        posts = posts_by_day[(self.p0, 6)]
        spec = _FileSpec(
            self.p0, "posts", "native", "jsonl", False, captured, posts, folder=f"{self.p0}/partial"
        )
        payload = exports.serialise(spec.shaped(), "jsonl", gzipped=True)
        cut = payload[: max(20, len(payload) * 6 // 10)]
        path = spec.relative_path() + ".gz"
        writer.write(
            path,
            cut,
            ExportFile(
                "", self.p0, "posts", "native.jsonl", True, 0, expect="fail", note="truncated_gzip"
            ),
        )
        writer.faults.append(Fault("truncated_gzip", path, "a gzip cut at 60% of its bytes"))

        # empty_file: a zero-byte export.
        day = start + timedelta(days=7)
        path = f"{self.p1}/{day.isoformat()}/{NATIVE_STEMS[(self.p1, 'posts')]}_{_ts(capture_instant(self.p1, day) + timedelta(hours=2))}.jsonl"
        writer.write(
            path,
            b"",
            ExportFile(
                "", self.p1, "posts", "native.jsonl", False, 0, expect="fail", note="empty_file"
            ),
        )
        writer.faults.append(Fault("empty_file", path, "a zero-byte file"))


def _truncate_line(data: bytes, row: int) -> bytes:
    lines = data.split(b"\n")
    line = lines[row - 1]
    lines[row - 1] = line[: max(1, len(line) // 2)]
    return b"\n".join(lines)
