"""Real exports as people save them (tests/fixtures/exports, written from the platforms' docs):
API responses in their envelopes, owned-account downloads, scraper names, rounded counts."""

from __future__ import annotations

import json
import shutil
from datetime import UTC, date, datetime
from pathlib import Path

import duckdb
import polars as pl
import pytest

from flows.ingest import plan_ingest
from ingestion.batch import FileOutcome, prepare_batch
from ingestion.discover import LandedFile, discover
from warehouse.connect import connect
from warehouse.load import load_batch
from warehouse.schema import apply_ddl

FIXTURES = Path(__file__).parent / "fixtures" / "exports"
NOW = datetime(2026, 3, 5, tzinfo=UTC)


def land(folder: Path, *relative: str) -> Path:
    """A landing folder holding the given fixture files at their relative paths."""
    for name in relative:
        target = folder / name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(FIXTURES / name, target)
    return folder


def prepared(folder: Path) -> tuple[dict[str, pl.DataFrame], dict[str, FileOutcome]]:
    files, _ = discover(folder)
    batch, outcomes = prepare_batch(files, "run-1")
    tables = {
        "followers": pl.from_arrow(batch.followers),
        "posts": pl.from_arrow(batch.posts),
        "changes": pl.from_arrow(batch.follower_changes),
        "accounts": pl.from_arrow(batch.accounts),
        "rejected": pl.from_arrow(batch.rejected),
    }
    return tables, {o.path: o for o in outcomes}


def rows(frame: pl.DataFrame, *columns: str) -> list[tuple]:
    return sorted(frame.select(columns).iter_rows())


def test_a_tiktok_user_info_response_loads_the_user(tmp_path):
    tables, outcomes = prepared(land(tmp_path, "tiktok/user_info_2026-03-01.json"))
    assert outcomes["tiktok/user_info_2026-03-01.json"].contract == "tiktok.followers"
    assert rows(
        tables["followers"],
        "account_id",
        "snapshot_date",
        "followers",
        "following",
        "posts_count",
        "is_followers_rounded",
    ) == [("-000Ab3xYz9", date(2026, 3, 1), 48210, 312, 211, False)]
    # Real creator text survives: the emoji display name.
    assert tables["accounts"]["display_name"].to_list() == ["Ana Bakes 🍰"]


def test_a_tiktok_video_list_takes_its_owner_from_the_folder(tmp_path):
    name = "tiktok/open_id=-000Ab3xYz9/video_list_2026-03-01.json"
    tables, outcomes = prepared(land(tmp_path, name))
    assert outcomes[name].status == "loaded"
    assert rows(
        tables["posts"],
        "post_id",
        "account_id",
        "published_at",
        "likes",
        "comments",
        "shares",
        "views",
        "is_sponsored",
    ) == [
        # 19-digit ids stay text; 1772150400 s = 2026-02-27T00:00Z.
        (
            "7342000000000000001",
            "-000Ab3xYz9",
            datetime(2026, 2, 27, tzinfo=UTC),
            5120,
            88,
            41,
            90110,
            False,
        ),
        (
            "7342000000000000002",
            "-000Ab3xYz9",
            datetime(2026, 2, 28, tzinfo=UTC),
            2300,
            120,
            9,
            40000,
            True,  # #ad in the description
        ),
    ]


def test_a_request_file_beside_a_video_list_names_its_owner(tmp_path):
    name = "tiktok/video_list_no_owner_2026-03-01.json"
    land(tmp_path, name)
    (tmp_path / (name + ".request.json")).write_text(
        json.dumps({"open_id": "-000Zz", "fields": ["id", "like_count"], "max_count": 20})
    )
    tables, outcomes = prepared(tmp_path)
    # The request file is context, not an export of its own.
    assert set(outcomes) == {name}
    assert rows(tables["posts"], "post_id", "account_id") == [("7342000000000000009", "-000Zz")]


def test_a_video_list_with_no_owner_fails_with_how_to_name_it_and_loads_once_named(tmp_path):
    landing, warehouse = tmp_path / "landing", tmp_path / "w.duckdb"
    name = "tiktok/video_list_no_owner_2026-03-01.json"
    land(landing, name)

    def night() -> list[FileOutcome]:
        plan = plan_ingest(landing, warehouse, 64)
        files = [f for b in plan.batches for f in b]
        batch, outcomes = prepare_batch(
            files, f"run-{len(files)}", extra_outcomes=plan.known_outcomes
        )
        with connect(warehouse) as con:
            load_batch(con, batch, NOW)
        return outcomes

    (first,) = night()
    assert first.status == "failed"
    assert "does not say whose account it is" in (first.error or "")
    assert "open_id=<id>" in (first.error or "")
    # Recorded without its hash: the next run reads it again (its content will not change).
    assert first.sha256 == ""
    (landing / (name + ".request.json")).write_text('{"open_id": "-000Zz"}')
    (second,) = night()
    assert (second.status, second.rows_loaded) == ("loaded", 1)
    assert night() == []  # loaded now: not read again


@pytest.mark.parametrize(
    ("name", "message"),
    [
        (
            "tiktok/video_list_error_2026-03-01.json",
            "API error access_token_invalid: The access token is invalid or not found in the "
            "request. (log id 20260301083003ERR)",
        ),
        (
            "instagram/token_error_2026-03-01.json",
            "API error 190: Error validating access token: Session has expired",
        ),
        (
            "youtube/quota_error_2026-03-01.json",
            "API error 403: The request cannot be completed because you have exceeded your quota.",
        ),
    ],
)
def test_a_saved_error_response_fails_the_file_with_the_platforms_message(tmp_path, name, message):
    tables, outcomes = prepared(land(tmp_path, name))
    assert outcomes[name].status == "failed"
    assert message in (outcomes[name].error or "")
    assert all(t.height == 0 for k, t in tables.items() if k != "accounts")


def test_a_tiktok_error_on_one_response_line_fails_the_whole_file(tmp_path):
    ok = (FIXTURES / "tiktok/open_id=-000Ab3xYz9/video_list_2026-03-01.json").read_text().strip()
    error = json.dumps(
        {"data": {}, "error": {"code": "rate_limit_exceeded", "message": "Too many requests"}}
    )
    path = tmp_path / "open_id=x" / "video_list_2026-03-01.jsonl"
    path.parent.mkdir()
    path.write_text(ok + "\n" + error + "\n")
    _, outcomes = prepared(tmp_path)
    outcome = outcomes["open_id=x/video_list_2026-03-01.jsonl"]
    assert (outcome.status, outcome.rows_loaded) == ("failed", 0)
    assert "rate_limit_exceeded: Too many requests" in (outcome.error or "")


def test_one_response_per_line_loads_every_page(tmp_path):
    page = json.loads(
        (FIXTURES / "tiktok/open_id=-000Ab3xYz9/video_list_2026-03-01.json").read_text()
    )
    second = json.loads(json.dumps(page))
    second["data"]["videos"] = [dict(page["data"]["videos"][0], id="7342000000000000003")]
    path = tmp_path / "open_id=x" / "video_list_2026-03-01.jsonl"
    path.parent.mkdir()
    path.write_text(json.dumps(page) + "\n" + json.dumps(second) + "\n")
    tables, _ = prepared(tmp_path)
    assert tables["posts"]["post_id"].sort().to_list() == [
        "7342000000000000001",
        "7342000000000000002",
        "7342000000000000003",
    ]


def test_instagram_media_with_nested_insights_load_every_metric(tmp_path):
    tables, _ = prepared(land(tmp_path, "instagram/media_2026-03-01.json"))
    assert rows(
        tables["posts"],
        "post_id",
        "account_id",
        "media_type",
        "likes",
        "comments",
        "reach",
        "saves",
        "shares",
        "views",
        "impressions",
    ) == [
        (
            "17900000000000001",
            "17841400000000001",
            "carousel",
            1534,
            47,
            20110,
            212,
            36,
            30400,
            None,
        ),
        # An older reel: reach as total_value, views from the retired `plays`, and impressions
        # kept as its own measure, never as views.
        ("17900000000000002", "17841400000000001", "reel", 800, 12, 9000, None, None, 12000, 15000),
    ]
    caption = tables["posts"].filter(pl.col("post_id") == "17900000000000001")["caption"][0]
    assert caption == "Spring nails 💅\n#nailart #ad with @polishco"  # multi-line kept


def test_instagram_business_discovery_loads_the_creator_and_its_media(tmp_path):
    name = "instagram/business_discovery_2026-03-01.json"
    tables, outcomes = prepared(land(tmp_path, name))
    outcome = outcomes[name]
    assert (outcome.contract, outcome.rows_read, outcome.rows_loaded) == (
        "instagram.followers+instagram.posts",
        3,
        3,
    )
    # The discovered creator, not the requesting account (the envelope's outer id).
    assert rows(tables["followers"], "account_id", "followers", "following", "posts_count") == [
        ("17841400000000777", 23870, 410, 388)
    ]
    assert tables["accounts"]["handle"].to_list() == ["mia.moves"]
    assert rows(tables["posts"], "post_id", "account_id", "likes", "comments", "published_at") == [
        (
            "17900000000000701",
            "17841400000000777",
            1020,
            33,
            datetime(2026, 2, 25, 7, 30, tzinfo=UTC),
        ),
        (
            "17900000000000702",
            "17841400000000777",
            640,
            18,
            datetime(2026, 2, 20, 7, 30, tzinfo=UTC),
        ),
    ]


def test_youtube_list_responses_load_their_items(tmp_path):
    tables, _ = prepared(
        land(tmp_path, "youtube/channels_2026-03-01.json", "youtube/videos_2026-03-01.json")
    )
    assert rows(
        tables["followers"], "account_id", "followers", "posts_count", "is_followers_rounded"
    ) == [("UCa1b2c3d4e5f6g7h8i9j0kL", 31200, 154, True)]
    # The hidden count: attributes kept, no snapshot.
    assert rows(tables["accounts"], "account_id", "handle", "followers_hidden") == [
        ("UCa1b2c3d4e5f6g7h8i9j0kL", "leofixes", False),
        ("UCzz9y8x7w6v5u4t3s2r1q0p", "quiet", True),
    ]
    assert rows(tables["posts"], "post_id", "account_id", "likes", "comments", "views") == [
        ("dQw4w9WgXcQ", "UCa1b2c3d4e5f6g7h8i9j0kL", 902, 77, 18300)
    ]


def test_records_of_one_shape_but_another_kind_each_find_their_contract(tmp_path):
    # YouTube's channel and video items have the same keys; only `kind` tells them apart.
    # Saved together as one JSON list (a merged export), each still finds its own contract:
    # the reader detects a contract once per record shape, and `kind` is part of the shape.
    channels = json.loads((FIXTURES / "youtube/channels_2026-03-01.json").read_text())
    videos = json.loads((FIXTURES / "youtube/videos_2026-03-01.json").read_text())
    items = [videos["items"][0], *channels["items"], videos["items"][0]]
    assert len({frozenset(i) for i in items}) == 1
    path = tmp_path / "youtube" / "merged_2026-03-01.json"
    path.parent.mkdir()
    path.write_text(json.dumps(items))
    tables, outcomes = prepared(tmp_path)
    assert outcomes["youtube/merged_2026-03-01.json"].contract == "youtube.posts+youtube.followers"
    assert rows(tables["posts"], "post_id", "source_row") == [
        ("dQw4w9WgXcQ", 1),
        ("dQw4w9WgXcQ", 4),
    ]
    assert rows(tables["followers"], "account_id", "source_row") == [
        ("UCa1b2c3d4e5f6g7h8i9j0kL", 2)  # the other channel hides its count: no snapshot
    ]
    assert rows(tables["accounts"], "account_id") == [
        ("UCa1b2c3d4e5f6g7h8i9j0kL",),
        ("UCzz9y8x7w6v5u4t3s2r1q0p",),
    ]


def test_scraper_names_map_through_the_aliases_and_abbreviated_counts_are_rounded(tmp_path):
    tables, _ = prepared(
        land(
            tmp_path,
            "tiktok/scraped_videos_2026-03-02.jsonl",
            "tiktok/scraped_profiles_2026-03-02.jsonl",
        )
    )
    assert rows(
        tables["posts"], "post_id", "account_id", "likes", "comments", "shares", "saves", "views"
    ) == [("7342000000000000001", "ana.bakes", 5200, 90, 43, 310, 91000)]
    assert rows(tables["followers"], "account_id", "followers", "is_followers_rounded") == [
        ("ana.bakes", 48300, True),  # "48.3K" as the web page shows it
        ("kai.lifts", 15077, False),
    ]


def test_a_source_declared_rounded_flags_its_counts(tmp_path):
    target = tmp_path / "scraped" / "is_followers_rounded=true" / "profiles_2026-03-02.jsonl"
    target.parent.mkdir(parents=True)
    target.write_text('{"uniqueId": "kai.lifts", "followerCount": 15100}\n')
    tables, _ = prepared(tmp_path)
    assert rows(tables["followers"], "account_id", "followers", "is_followers_rounded") == [
        ("kai.lifts", 15100, True)
    ]


def test_meta_business_suite_posts_load(tmp_path):
    name = "owned/meta_business_suite_posts_2026-03-01.csv"
    tables, outcomes = prepared(land(tmp_path, name))
    assert outcomes[name].contract == "meta_business_suite.posts"
    assert rows(
        tables["posts"],
        "post_id",
        "account_id",
        "published_at",
        "media_type",
        "views",
        "reach",
        "likes",
        "shares",
        "comments",
        "saves",
        "is_sponsored",
    ) == [
        (
            "17900000000000001",
            "17841400000000001",
            datetime(2026, 2, 26, 18, 4, tzinfo=UTC),
            "carousel",
            30400,
            20110,
            1534,
            36,
            47,
            212,
            True,
        ),
        (
            "17900000000000003",
            "17841400000000001",
            datetime(2026, 2, 28, 9, 15, tzinfo=UTC),
            "reel",
            12800,  # "12,800"
            9950,
            610,
            14,
            22,
            40,
            False,
        ),
    ]
    assert "Follows" in outcomes[name].ignored_columns


def test_tiktok_studio_content_names_its_creator_in_the_video_link(tmp_path):
    tables, _ = prepared(land(tmp_path, "owned/tiktok_studio_content_2026-03-03.csv"))
    assert rows(
        tables["posts"], "post_id", "account_id", "likes", "comments", "shares", "views"
    ) == [
        ("7342000000000000001", "ana.bakes", 5310, 91, 44, 93500),
        ("7342000000000000002", "ana.bakes", 2410, 125, 9, 41200),
    ]


def write_xlsx(path: Path, header: list[str], body: list[list[object]]) -> None:
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.append(header)
    for line in body:
        sheet.append(line)
    path.parent.mkdir(parents=True, exist_ok=True)
    book.save(path)


def test_tiktok_studio_followers_load_from_csv_and_xlsx_alike(tmp_path):
    name = "tiktok_studio/username=ana.bakes/followers_2026-03-02.csv"
    csv_tables, _ = prepared(land(tmp_path / "csv", name))
    expected = [
        ("ana.bakes", date(2026, 2, 27), 48150, False),
        ("ana.bakes", date(2026, 2, 28), 48210, False),
        ("ana.bakes", date(2026, 3, 1), 48300, False),
    ]
    columns = ("account_id", "snapshot_date", "followers", "is_followers_rounded")
    assert rows(csv_tables["followers"], *columns) == expected
    # The same download as a workbook: a date cell and number cells, not text.
    write_xlsx(
        tmp_path / "xlsx" / "username=ana.bakes" / "followers_2026-03-02.xlsx",
        ["Date", "Followers", "Difference in followers from previous day"],
        [[date(2026, 2, 27), 48150, 35], ["2026-02-28", 48210, 60], ["2026-03-01", 48300, 90]],
    )
    xlsx_tables, outcomes = prepared(tmp_path / "xlsx")
    assert outcomes["username=ana.bakes/followers_2026-03-02.xlsx"].format == "xlsx"
    assert rows(xlsx_tables["followers"], *columns) == expected


def test_youtube_reporting_rows_are_summed_per_channel_and_day(tmp_path):
    tables, _ = prepared(land(tmp_path, "owned/channel_basic_a2_2026-03-03.csv"))
    # 2026-03-01: gained 14 + 25 + 2, lost 3 + 1 + 4 over three video / audience rows.
    assert rows(
        tables["changes"], "account_id", "snapshot_date", "followers_gained", "followers_lost"
    ) == [
        ("UCa1b2c3d4e5f6g7h8i9j0kL", date(2026, 3, 1), 41, 8),
        ("UCa1b2c3d4e5f6g7h8i9j0kL", date(2026, 3, 2), 30, 6),
    ]


def test_youtube_studio_table_skips_its_total_row_and_takes_the_channel_from_the_folder(tmp_path):
    name = "youtube_studio/channel_id=UCa1b2c3d4e5f6g7h8i9j0kL/Table data_2026-03-01.csv"
    tables, outcomes = prepared(land(tmp_path, name))
    assert (outcomes[name].rows_read, outcomes[name].rows_quarantined) == (2, 0)
    assert rows(
        tables["changes"], "account_id", "snapshot_date", "followers_gained", "followers_lost"
    ) == [
        ("UCa1b2c3d4e5f6g7h8i9j0kL", date(2026, 2, 27), 40, 8),
        ("UCa1b2c3d4e5f6g7h8i9j0kL", date(2026, 2, 28), 55, 12),
    ]


def test_a_later_report_of_a_day_replaces_the_earlier_one_in_staging(tmp_path):
    warehouse = tmp_path / "w.duckdb"
    header = "date,channel_id,video_id,subscribers_gained,subscribers_lost\n"
    first = tmp_path / "a" / "channel_basic_a2_2026-03-02.csv"
    later = tmp_path / "b" / "channel_basic_a2_2026-03-04.csv"  # YouTube restates a day
    first.parent.mkdir()
    later.parent.mkdir()
    first.write_text(header + "20260301,UC1,v1,10,1\n20260301,UC1,v2,5,0\n")
    later.write_text(header + "20260301,UC1,v1,12,1\n")
    with connect(warehouse) as con:
        apply_ddl(con)
    for folder in (tmp_path / "b", tmp_path / "a"):  # arrival order does not matter
        files, _ = discover(folder)
        batch, _ = prepare_batch(files, folder.name)
        with connect(warehouse) as con:
            load_batch(con, batch, NOW)
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        staged = con.execute(
            "select account_id, snapshot_date, followers_gained, followers_lost from staging.follower_changes"
        ).fetchall()
        touched = con.execute(
            "select distinct first_affected_date from meta.touched_accounts"
        ).fetchall()
    finally:
        con.close()
    assert staged == [("UC1", date(2026, 3, 1), 12, 1)]
    assert touched == [(date(2026, 3, 1),)]


def landed(folder: Path) -> list[LandedFile]:
    return discover(folder)[0]


def test_a_byte_identical_file_of_another_day_is_that_days_snapshot(tmp_path):
    """A creator whose counts did not move saves the same bytes three days running."""
    landing, warehouse = tmp_path / "landing", tmp_path / "w.duckdb"
    body = (FIXTURES / "tiktok/user_info_2026-03-01.json").read_bytes()
    for day in ("2026-03-01", "2026-03-02", "2026-03-03"):
        (landing / "tiktok").mkdir(parents=True, exist_ok=True)
        (landing / "tiktok" / f"user_info_{day}.json").write_bytes(body)
    # A renamed copy of the same day stays a duplicate.
    (landing / "uploads").mkdir()
    (landing / "uploads" / "user_info_2026-03-02 (1).json").write_bytes(body)
    plan = plan_ingest(landing, warehouse, 64)
    files = [f for b in plan.batches for f in b]
    assert sorted(f.relative for f in files) == [
        "tiktok/user_info_2026-03-01.json",
        "tiktok/user_info_2026-03-02.json",
        "tiktok/user_info_2026-03-03.json",
    ]
    (duplicate,) = plan.known_outcomes
    assert (duplicate.path, duplicate.status) == (
        "uploads/user_info_2026-03-02 (1).json",
        "duplicate",
    )
    assert "tiktok/user_info_2026-03-02.json" in (duplicate.error or "")
    batch, _ = prepare_batch(files, "run-1")
    assert sorted(pl.from_arrow(batch.followers)["snapshot_date"].to_list()) == [
        date(2026, 3, 1),
        date(2026, 3, 2),
        date(2026, 3, 3),
    ]


def test_the_readme_lists_every_supported_export_as_the_contracts_say():
    from schemas.registry import CONTRACTS, supported_exports

    readme = (Path(__file__).parents[1] / "README.md").read_text()
    start = readme.index("<!-- supported-exports:start -->\n") + len(
        "<!-- supported-exports:start -->\n"
    )
    assert readme[start : readme.index("<!-- supported-exports:end -->")] == supported_exports()
    # Every contract says where a user gets it.
    assert all(c.where for c in CONTRACTS)


def test_an_instagram_media_edge_without_owner_takes_it_from_the_folder(tmp_path):
    media = json.loads((FIXTURES / "instagram/media_2026-03-01.json").read_text())
    for record in media["data"]:
        del record["owner"]  # the own-account edge returns no owner unless asked for
    placed = tmp_path / "ig_user_id=17841400000000042" / "media_2026-03-01.json"
    unplaced = tmp_path / "unplaced" / "media_2026-03-01.json"
    for path in (placed, unplaced):
        path.parent.mkdir()
        path.write_text(json.dumps(media, indent=2))
    tables, outcomes = prepared(tmp_path)
    assert set(tables["posts"]["account_id"]) == {"17841400000000042"}
    assert "folder named ig_user_id=<id>" in (
        outcomes["unplaced/media_2026-03-01.json"].error or ""
    )


def test_identical_downloads_of_two_creators_are_two_exports(tmp_path):
    """The owner comes from the folder: the same bytes under another owner are another export."""
    name = "tiktok_studio/username=ana.bakes/followers_2026-03-02.csv"
    land(tmp_path / "landing", name)
    twin = tmp_path / "landing" / "tiktok_studio" / "username=ana.twin" / "followers_2026-03-02.csv"
    twin.parent.mkdir()
    shutil.copyfile(FIXTURES / name, twin)
    plan = plan_ingest(tmp_path / "landing", tmp_path / "w.duckdb", 64)
    assert plan.known_outcomes == []
    assert len([f for b in plan.batches for f in b]) == 2


def test_a_batchs_text_reaches_the_writer_as_string_views_and_loads_as_its_text(tmp_path):
    # ingestion.batch._to_arrow: Polars' own string views, not copied into large strings.
    import pyarrow as pa

    files, _ = discover(land(tmp_path, "instagram/media_2026-03-01.json"))
    batch, _ = prepare_batch(files, "run-1")
    assert batch.posts.schema.field("caption").type == pa.string_view()
    assert batch.posts.schema.field("hashtags").type.value_type == pa.string_view()
    expected = sorted(
        pl.from_arrow(batch.posts).select("post_id", "caption", "hashtags").iter_rows()
    )
    with connect(tmp_path / "w.duckdb") as con:
        apply_ddl(con)
        load_batch(con, batch, datetime.now(UTC))
        loaded = con.execute(
            "select post_id, caption, hashtags from staging.post_snapshots order by all"
        ).fetchall()
    assert [(p, c, list(h) if h is not None else None) for p, c, h in loaded] == [
        (p, c, list(h) if h is not None else None) for p, c, h in expected
    ]
    assert len(loaded) == batch.posts.num_rows > 0
