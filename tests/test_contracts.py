"""Every export contract: valid and invalid rows, aliases, detection, file-level checks."""

from datetime import UTC, date, datetime

import polars as pl
import pytest

from schemas import canonical, creator_csv, instagram, registry, tiktok, youtube
from schemas import contract as c
from schemas.contract import REASON
from schemas.tables import CANONICAL_BY_KIND, polars_schema
from tests.factories import FILE_TIME, normalise_json, normalise_table, rules

IG_MEDIA = {
    "id": "18001",
    "owner": {"id": "17841"},
    "username": "sunny_chef",
    "timestamp": "2026-03-01T12:00:00+0000",
    "media_type": "VIDEO",
    "media_product_type": "REELS",
    "like_count": 900,
    "comments_count": 40,
    "saved": 35,
    "shares": 25,
    "reach": 12000,
    "views": 20000,
    "caption": "Try this #Food @brand",
    "is_paid_partnership": False,
}


@pytest.mark.parametrize("contract", registry.CONTRACTS, ids=lambda c: c.name)
def test_every_contract_outputs_the_canonical_schema(contract):
    out = normalise_json([{}], contract)
    expected = polars_schema(CANONICAL_BY_KIND[contract.kind])
    assert [(n, d) for n, d in out.schema.items() if not n.startswith("_")] == list(
        expected.items()
    )


def test_instagram_media_valid_row():
    out = normalise_json([IG_MEDIA], instagram.POSTS)
    row = out.row(0, named=True)
    assert row["_rule"] is None
    assert row["platform"] == "instagram"
    assert row["post_id"] == "18001" and row["account_id"] == "17841"
    assert row["published_at"] == datetime(2026, 3, 1, 12, tzinfo=UTC)
    assert row["captured_at"] == FILE_TIME and row["snapshot_date"] == date(2026, 3, 2)
    assert row["media_type"] == "reel"
    assert (
        row["likes"],
        row["comments"],
        row["saves"],
        row["shares"],
        row["reach"],
        row["views"],
    ) == (
        900,
        40,
        35,
        25,
        12000,
        20000,
    )
    assert row["hashtags"] == ["food"] and row["mentions"] == ["brand"]
    assert row["is_sponsored"] is False  # no label, no #ad-style tag


@pytest.mark.parametrize("alias", ["plays", "video_views"])
def test_instagram_retired_video_counts_stand_in_for_views(alias):
    record = {k: v for k, v in IG_MEDIA.items() if k != "views"} | {alias: 777}
    assert normalise_json([record], instagram.POSTS)["views"].to_list() == [777]


def test_instagram_impressions_stay_their_own_measure_never_views():
    """Impressions count every time a post is shown: merged into views they would inflate it."""
    without_views = {k: v for k, v in IG_MEDIA.items() if k != "views"} | {"impressions": 900}
    row = normalise_json([without_views], instagram.POSTS).row(0, named=True)
    assert (row["views"], row["impressions"]) == (None, 900)
    both = IG_MEDIA | {"impressions": 900}
    row = normalise_json([both], instagram.POSTS).row(0, named=True)
    assert (row["views"], row["impressions"]) == (IG_MEDIA["views"], 900)


def test_instagram_absent_metric_is_null_not_zero():
    record = {k: v for k, v in IG_MEDIA.items() if k not in {"saved", "shares", "views"}}
    row = normalise_json([record], instagram.POSTS).row(0, named=True)
    assert (row["saves"], row["shares"], row["views"], row["_rule"]) == (None, None, None, None)


@pytest.mark.parametrize(
    ("label", "caption", "sponsored"),
    [
        (False, "Loving it #ad", True),  # the tag discloses it though the label says no
        (True, "Loving it", True),  # the label alone
        (False, "Loving it #adventure", False),  # a tag that only starts like one
        (False, "Loving it", False),
    ],
)
def test_a_post_is_sponsored_when_either_the_label_or_a_tag_says_so(label, caption, sponsored):
    record = IG_MEDIA | {"is_paid_partnership": label, "caption": caption}
    assert normalise_json([record], instagram.POSTS)["is_sponsored"].to_list() == [sponsored]


def test_sponsored_from_hashtag_when_no_label():
    record = {k: v for k, v in IG_MEDIA.items() if k != "is_paid_partnership"} | {
        "caption": "Loving it #AD"
    }
    assert normalise_json([record], instagram.POSTS)["is_sponsored"].to_list() == [True]


@pytest.mark.parametrize(
    ("change", "rule"),
    [
        ({"like_count": "lots"}, "invalid_value"),
        ({"like_count": -3}, "negative_count"),
        ({"owner": None}, "missing_required"),
        ({"timestamp": "yesterday"}, "invalid_value"),
        ({"timestamp": "2026-03-05T00:00:00Z"}, "published_after_capture"),
    ],
)
def test_instagram_media_invalid_rows(change, rule):
    out = normalise_json([IG_MEDIA, IG_MEDIA | change], instagram.POSTS)
    assert rules(out) == [None, rule]
    assert out[REASON][1]  # a readable reason accompanies every rule


def test_malformed_json_line_is_rejected_not_fatal():
    out = normalise_json([IG_MEDIA, '{"id": "18002", "timest', "[1, 2]"], instagram.POSTS)
    assert rules(out) == [None, "malformed_record", "malformed_record"]


def test_reason_truncates_long_values():
    out = normalise_json([IG_MEDIA | {"like_count": "x" * 500}], instagram.POSTS)
    assert len(out[REASON][0]) < 120


def test_instagram_users():
    user = {
        "id": "17841",
        "username": "sunny_chef",
        "name": "Sunny",
        "followers_count": 15300,
        "follows_count": 310,
        "media_count": 88,
    }
    row = normalise_json([user], instagram.FOLLOWERS).row(0, named=True)
    assert (
        row["account_id"],
        row["handle"],
        row["followers"],
        row["following"],
        row["posts_count"],
    ) == (
        "17841",
        "sunny_chef",
        15300,
        310,
        88,
    )
    assert row["is_followers_rounded"] is False
    assert rules(normalise_json([user | {"followers_count": None}], instagram.FOLLOWERS)) == [
        "missing_required"
    ]


def test_tiktok_users_and_videos():
    user = {
        "open_id": "abc",
        "username": "tok",
        "follower_count": 52000,
        "following_count": 12,
        "likes_count": 9,
        "video_count": 40,
    }
    assert normalise_json([user], tiktok.FOLLOWERS)["account_id"].to_list() == ["abc"]
    # Without open_id the username is the key (documented).
    no_id = {k: v for k, v in user.items() if k != "open_id"}
    assert normalise_json([no_id], tiktok.FOLLOWERS)["account_id"].to_list() == ["tok"]
    video = {
        "id": "73",
        "open_id": "abc",
        "create_time": 1772366400,
        "like_count": 10,
        "comment_count": 2,
        "share_count": 1,
        "view_count": 300,
        "collect_count": 4,
        "video_description": "hello #fyp",
    }
    row = normalise_json([video], tiktok.POSTS).row(0, named=True)
    assert row["published_at"] == datetime(2026, 3, 1, 12, tzinfo=UTC)
    assert (
        row["likes"],
        row["comments"],
        row["shares"],
        row["saves"],
        row["views"],
        row["reach"],
    ) == (10, 2, 1, 4, 300, None)
    assert row["media_type"] == "video" and row["hashtags"] == ["fyp"]
    assert rules(normalise_json([video | {"create_time": "noon"}], tiktok.POSTS)) == [
        "invalid_value"
    ]


def test_youtube_string_statistics_rounded_and_hidden():
    channel = {
        "kind": "youtube#channel",
        "id": "UC1",
        "snippet": {"title": "Chan", "customUrl": "@chan"},
        "statistics": {
            "subscriberCount": "12300",
            "videoCount": "50",
            "hiddenSubscriberCount": False,
        },
    }
    hidden = channel | {"statistics": {"hiddenSubscriberCount": True, "videoCount": "5"}}
    out = normalise_json(
        [channel, hidden, channel | {"statistics": {"subscriberCount": "12k"}}], youtube.FOLLOWERS
    )
    assert out["followers"].to_list()[0] == 12300
    assert out["handle"].to_list()[0] == "chan"
    assert out["is_followers_rounded"].to_list()[0] is True
    # A hidden count is no bad row: valid, marked hidden, its count unknown (not 0).
    assert rules(out) == [None, None, "invalid_value"]
    assert out["followers_hidden"].to_list()[:2] == [False, True]
    assert out["followers"].to_list()[1] is None
    video = {
        "kind": "youtube#video",
        "id": "v1",
        "snippet": {"channelId": "UC1", "publishedAt": "2026-03-01T10:00:00Z"},
        "statistics": {"viewCount": "1000", "likeCount": "50", "commentCount": "5"},
    }
    row = normalise_json([video], youtube.POSTS).row(0, named=True)
    assert (row["account_id"], row["views"], row["likes"], row["comments"], row["shares"]) == (
        "UC1",
        1000,
        50,
        5,
        None,
    )


def test_creator_csv_abbreviations_and_rounding_flag():
    table = {
        "user_id": ["1", "2", "3", "4"],
        "username": ["@a", "b", "c", "d"],
        "platform": ["instagram", "tiktok", "instagram", "instagram"],
        "followers": ["3.3k", "1,234", "475.8m", "1,5k"],
        "avg_likes": ["120", "1.2k", "3M", "5"],
        "engagement_rate": ["1.39%", "NaN%", "2%", "1%"],
    }
    out = normalise_table(
        table, creator_csv.FOLLOWERS, captured_at=datetime(2026, 3, 2, tzinfo=UTC)
    )
    assert out["followers"].to_list() == [3300, 1234, 475_800_000, None]
    assert out["handle"].to_list()[0] == "a"
    assert out["is_followers_rounded"].to_list()[:3] == [True, False, True]
    # "NaN%" makes row 2 suspect as a whole (shifted columns); "1,5k" is ambiguous.
    assert rules(out) == [None, "invalid_value", None, "invalid_value"]


def test_creator_csv_row_values():
    table = {
        "user_id": ["9"],
        "username": ["x"],
        "platform": ["youtube"],
        "followers": ["475.8m"],
        "posts": ["1,234"],
        "date": ["2026-02-27"],
    }
    row = normalise_table(table, creator_csv.FOLLOWERS, captured_at=None).row(0, named=True)
    assert row["followers"] == 475_800_000 and row["posts_count"] == 1234
    assert row["snapshot_date"] == date(2026, 2, 27)
    # Known only by its date: the capture is taken as that day's start.
    assert row["captured_at"] == datetime(2026, 2, 27, tzinfo=UTC)
    assert row["_rule"] is None


def test_canonical_csv_text_and_parquet_types_normalise_alike():
    text = {
        "platform": ["instagram"],
        "post_id": ["p1"],
        "account_id": ["a1"],
        "snapshot_date": ["2026-03-02"],
        "captured_at": ["2026-03-02T03:15:00Z"],
        "published_at": ["2026-03-01T10:00:00Z"],
        "media_type": ["image"],
        "likes": ["5"],
        "comments": [""],
        "hashtags": ["ad;summer"],
        "is_sponsored": [""],
    }
    typed = {
        "platform": ["instagram"],
        "post_id": ["p1"],
        "account_id": ["a1"],
        "snapshot_date": [date(2026, 3, 2)],
        "captured_at": [datetime(2026, 3, 2, 3, 15, tzinfo=UTC)],
        "published_at": [datetime(2026, 3, 1, 10, tzinfo=UTC)],
        "media_type": ["image"],
        "likes": [5],
        "comments": pl.Series([None], dtype=pl.Int64),
        "hashtags": [["ad", "summer"]],
        "is_sponsored": pl.Series([None], dtype=pl.Boolean),
    }
    from_text = normalise_table(text, canonical.POSTS).drop("_raw", strict=False)
    from_typed = normalise_table(typed, canonical.POSTS).drop("_raw", strict=False)
    assert from_text.equals(from_typed)
    row = from_text.row(0, named=True)
    assert row["comments"] is None and row["is_sponsored"] is True and row["_rule"] is None


def test_typed_columns_are_parsed_without_text_and_checked_all_the_same():
    """A Parquet file's typed columns stay typed (no text round trip: parsing.typed) and meet
    the same checks: a negative count, a missing required count; a float count and a UInt64
    go through text as before (2.5 is not a count). Instants: naive is UTC, zoned converted."""
    from zoneinfo import ZoneInfo

    typed = {
        "platform": ["instagram"] * 4,
        "account_id": ["a1", "a2", "a3", "a4"],
        "snapshot_date": [date(2026, 3, 2)] * 4,
        "captured_at": pl.Series([datetime(2026, 3, 2, 5, tzinfo=ZoneInfo("Europe/Berlin"))] * 4),
        "followers": pl.Series([12_000, -3, None, 40], dtype=pl.Int32),
        "following": pl.Series([7, 8, 9, 10], dtype=pl.UInt64),
        "posts_count": pl.Series([3.0, 4.0, 5.0, 2.5], dtype=pl.Float64),
        "followers_hidden": pl.Series([False, False, False, False], dtype=pl.Boolean),
    }
    frame = pl.LazyFrame(typed).with_row_index(c.ROW_NUMBER, offset=1)
    raw = c.raw_from_columns(frame, canonical.FOLLOWERS).collect_schema()
    assert raw["followers"] == pl.Int32 and raw["snapshot_date"] == pl.Date
    assert isinstance(raw["captured_at"], pl.Datetime) and raw["followers_hidden"] == pl.Boolean
    assert raw["following"] == pl.String and raw["posts_count"] == pl.String  # through text
    rows = normalise_table(typed, canonical.FOLLOWERS)
    assert rules(rows) == [None, "negative_count", "missing_required", "invalid_value"]
    assert rows["_reason"].to_list()[1:] == [
        "'followers' = -3 is negative: counts are never below 0",
        "required field 'followers' is missing or empty",
        "'posts_count' = '2.5' is not a whole number",
    ]
    first = rows.row(0, named=True)
    assert first["followers"] == 12_000 and first["following"] == 7 and first["posts_count"] == 3
    assert first["captured_at"] == datetime(2026, 3, 2, 4, tzinfo=UTC)  # 05:00 in Berlin
    assert first["is_followers_rounded"] is False
    naive = typed | {"captured_at": pl.Series([datetime(2026, 3, 2, 5)] * 4)}
    assert normalise_table(naive, canonical.FOLLOWERS)["captured_at"][0] == datetime(
        2026, 3, 2, 5, tzinfo=UTC
    )


def test_canonical_rejects_unknown_platform():
    table = {
        "platform": ["myspace"],
        "account_id": ["a"],
        "snapshot_date": ["2026-03-02"],
        "captured_at": ["2026-03-02T01:00:00Z"],
        "followers": ["10"],
    }
    assert rules(normalise_table(table, canonical.FOLLOWERS)) == ["unknown_platform"]


@pytest.mark.parametrize("blank", ["", "   ", "\t"])
def test_a_blank_required_value_is_quarantined_not_staged(blank):
    table = {
        "platform": ["instagram", "instagram"],
        "account_id": [blank, "a"],
        "snapshot_date": ["2026-03-02", "2026-03-02"],
        "captured_at": ["2026-03-02T01:00:00Z", "2026-03-02T01:00:00Z"],
        "followers": ["10", "10"],
    }
    out = normalise_table(table, canonical.FOLLOWERS)
    assert rules(out) == ["missing_required", None]
    assert "account_id" in out["_reason"][0]


def test_missing_required_column_is_a_file_error():
    assert canonical.FOLLOWERS.missing_required(
        ["platform", "snapshot_date", "captured_at", "followers"]
    ) == ["account_id"]
    assert (
        canonical.FOLLOWERS.missing_required(
            ["platform", "account_id", "snapshot_date", "captured_at", "followers", "extra"]
        )
        == []
    )
    assert instagram.POSTS.missing_required(["id", "timestamp", "owner"]) == []


@pytest.mark.parametrize(
    ("keys", "record", "expected"),
    [
        (["id", "username", "followers_count"], None, "instagram.followers"),
        (["id", "timestamp", "media_type", "like_count"], None, "instagram.posts"),
        (["open_id", "follower_count"], None, "tiktok.followers"),
        (["id", "create_time", "like_count"], None, "tiktok.posts"),
        (["kind", "id", "statistics"], {"kind": "youtube#channel"}, "youtube.followers"),
        (["kind", "id", "statistics"], {"kind": "youtube#video"}, "youtube.posts"),
        (["platform", "account_id", "snapshot_date", "followers"], None, "canonical.followers"),
        (["platform", "post_id", "account_id", "snapshot_date"], None, "canonical.posts"),
        (["\ufeffuser_id", "username", "followers"], None, "creator_csv.followers"),
        (["username", "followers", "engagement_rate"], None, "creator_csv.followers"),
        (["foo", "bar"], None, None),
    ],
)
def test_detect_by_content(keys, record, expected):
    keys = [k.lstrip("\ufeff") for k in keys]
    found = registry.detect(keys, record)
    assert (found.name if found else None) == expected


def test_capture_time_from_file_name():
    assert registry.capture_time_from_name("ig_media_2026-01-05T031500Z.jsonl.gz") == datetime(
        2026, 1, 5, 3, 15, tzinfo=UTC
    )
    assert registry.capture_time_from_name("creator_tiktok_2026-01-05.csv") == datetime(
        2026, 1, 5, tzinfo=UTC
    )
    assert registry.capture_time_from_name("export.csv") is None
    assert registry.capture_time_from_name("x_2026-02-30.csv") is None


def test_each_rule_gives_its_reason_and_the_bounds_are_inclusive():
    """The reasons quarantine.rejected_rows shows, per rule; 0 followers and a post published at
    the very moment of its capture are valid (the bounds are not off by one)."""
    followers = normalise_table(
        {
            "platform": ["instagram"] * 4,
            "account_id": ["a"] * 4,
            "snapshot_date": ["2026-03-02"] * 4,
            "captured_at": [
                "2026-03-02T01:00:00Z",
                "2026-03-02T01:00:00Z",
                "",
                "2026-03-02T01:00:00Z",
            ],
            "followers": ["-5", "0", "10", "lots"],
        },
        canonical.FOLLOWERS,
        captured_at=None,
    )
    assert followers.select(c.RULE, c.REASON).rows() == [
        ("negative_count", "'followers' = -5 is negative: counts are never below 0"),
        (None, None),
        ("missing_required", "required field 'captured_at' is missing or empty"),
        ("invalid_value", "'followers' = 'lots' is not a whole number"),
    ]
    posts = normalise_table(
        {
            "platform": ["instagram"] * 2,
            "post_id": ["same_moment", "later"],
            "account_id": ["a"] * 2,
            "snapshot_date": ["2026-03-02"] * 2,
            "captured_at": ["2026-03-02T01:00:00Z"] * 2,
            "published_at": ["2026-03-02T01:00:00Z", "2026-03-02T02:00:00Z"],
        },
        canonical.POSTS,
    )
    assert posts.select(c.RULE, c.REASON).rows() == [
        (None, None),
        ("published_after_capture", "the post is published after the snapshot was captured"),
    ]
    cut = normalise_json(['{"id": "1", "timestamp"'], instagram.POSTS)
    assert cut.select(c.RULE, c.REASON).rows() == [
        ("malformed_record", "the record is not a complete JSON object")
    ]
    no_time = normalise_json([IG_MEDIA], instagram.POSTS, captured_at=None)
    assert no_time.select(c.RULE, c.REASON).rows() == [
        ("missing_capture_time", "no capture time in the record or the file name")
    ]


def test_a_rejected_rows_raw_record_is_its_text_as_json():
    table = pl.DataFrame(
        {
            c.ROW_NUMBER: [1, 2, 3],
            "name": ["a", "b", "c"],
            "n": [1, None, 3],
            "tags": [["x", "y"], [], None],
            "at": [datetime(2026, 3, 2, 1, 2, 3, tzinfo=UTC)] * 3,
            "s": [{"k": 1}, {"k": 2}, {"k": 3}],
        }
    )
    assert c.records_as_json(table, [1, 3]).rows() == [
        (1, '{"name":"a","n":"1","tags":"x;y","at":"2026-03-02T01:02:03Z","s":"{\\"k\\":1}"}'),
        (3, '{"name":"c","n":"3","tags":null,"at":"2026-03-02T01:02:03Z","s":"{\\"k\\":3}"}'),
    ]


def test_dates_that_cannot_be_true_are_rejected_at_ingest_with_their_reason():
    """Poison rows used to be staged and then fail the critical checks of every later run."""
    from datetime import UTC, datetime

    from schemas import canonical

    now = datetime(2026, 12, 2, 9, 0, tzinfo=UTC)
    dates = ["9999-12-31", "2001-01-01", "2026-12-03", "2026-12-04", "0000-00-00", "2026-11-30"]
    out = normalise_table(
        {
            "platform": ["tiktok"] * len(dates),
            "account_id": ["1"] * len(dates),
            "snapshot_date": dates,
            "captured_at": ["2026-11-30T03:00:00Z"] * len(dates),
            "followers": ["10"] * len(dates),
        },
        canonical.FOLLOWERS,
        now=now,
    )
    assert rules(out) == [
        "date_in_future",
        "before_platform_launch",
        None,  # tomorrow (UTC): a zone ahead of UTC may already be there
        "date_in_future",
        "invalid_value",  # not replaced by the capture day
        None,
    ]
    reasons = out["_reason"].to_list()
    assert reasons[1] == "snapshot_date 2001-01-01 is before tiktok launched (2017-09-01)"
    assert reasons[0].startswith("snapshot_date 9999-12-31 / captured_at 2026-11-30T03:00:00Z")
    assert "'snapshot_date' = '0000-00-00' is not" in reasons[4]
    captured_later = normalise_table(
        {
            "platform": ["instagram"],
            "account_id": ["1"],
            "snapshot_date": ["2026-12-01"],
            "captured_at": ["2027-01-01T00:00:00Z"],
            "followers": ["10"],
        },
        canonical.FOLLOWERS,
        now=now,
    )
    assert rules(captured_later) == ["date_in_future"]
