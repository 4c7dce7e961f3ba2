"""Campaigns: the input contract, attribution, costs and brand mentions on hand-built fixtures.

Every expected number below is computed by hand in the comments beside it.
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import polars as pl
import pytest

from schemas.campaigns import documents_from_rows, normalise_campaigns
from transforms.campaigns import (
    POST_INPUT,
    brand_mentions,
    campaign_creators,
    campaign_posts,
    campaign_totals,
    sponsored_vs_organic,
)

GLOW = {
    "campaign_id": "glow",
    "brand": "GlowCo",
    "name": "Spring Glow",
    "start_date": "2026-03-01",
    "end_date": "2026-03-31",
    "currency": "usd",
    "brand_handles": ["@GlowCo"],
    "hashtags": ["#GlowSpring"],
    "creators": [
        {"platform": "instagram", "account_id": "A", "fee": 300},
        {
            "platform": "tiktok",
            "handle": "@bee",
            "fee": 50,
            "fee_basis": "per_post",
            "post_ids": ["b-old"],
        },
    ],
}
RIVAL = {
    "campaign_id": "rival",
    "brand": "Rival",
    "start_date": "2026-03-10",
    "end_date": "2026-03-20",
    "currency": "USD",
    "brand_handles": ["rival"],
    "hashtags": ["rivalday"],
    "rules": ["hashtags"],
    "creators": [{"platform": "instagram", "account_id": "A", "fee": 100}],
}


def staged(*documents: dict) -> tuple[pl.LazyFrame, pl.LazyFrame]:
    out = normalise_campaigns(("campaigns/c.yaml", n, d) for n, d in enumerate(documents, 1))
    assert out.rejected == []
    campaigns, creators = out.frames()
    # The handle resolves to account B (what read_campaign_creators.sql does through dim_account).
    creators = creators.with_columns(
        pl.when(pl.col("handle") == "bee")
        .then(pl.lit("B"))
        .otherwise("account_id")
        .alias("account_id")
    )
    return campaigns.lazy(), creators.lazy()


POST_COLUMNS = [
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
    "impressions",
    "interactions",
    "interactions_d7",
    "er_followers",
    "er_followers_lc_d7",
    "is_d7_pending",
    "hashtags",
    "mentions",
]
POSTS = [
    # A (instagram), in both campaigns' creators.
    (
        "instagram",
        "a1",
        "A",
        date(2026, 3, 5),
        False,
        100,
        10,
        5,
        5,
        2000,
        1500,
        None,
        120,
        120,
        0.05,
        0.04,
        False,
        ["glowspring"],
        [],
    ),
    (
        "instagram",
        "a2",
        "A",
        date(2026, 3, 15),
        True,
        200,
        20,
        10,
        10,
        4000,
        3000,
        None,
        240,
        240,
        0.07,
        0.06,
        False,
        ["rivalday"],
        ["glowco"],
    ),
    (
        "instagram",
        "a3",
        "A",
        date(2026, 4, 2),
        False,
        10,
        1,
        0,
        0,
        100,
        90,
        None,
        11,
        11,
        0.01,
        0.01,
        False,
        ["glowspring"],
        [],
    ),
    (
        "instagram",
        "a4",
        "A",
        date(2026, 3, 12),
        True,
        50,
        5,
        0,
        5,
        1000,
        800,
        None,
        60,
        60,
        0.03,
        0.02,
        False,
        [],
        [],
    ),
    # B (tiktok): an explicitly listed post from before the campaign, and a tag of the brand.
    (
        "tiktok",
        "b-old",
        "B",
        date(2026, 2, 20),
        False,
        300,
        30,
        20,
        10,
        10000,
        None,
        None,
        360,
        360,
        0.12,
        0.10,
        False,
        [],
        [],
    ),
    (
        "tiktok",
        "b1",
        "B",
        date(2026, 3, 8),
        False,
        150,
        15,
        10,
        5,
        5000,
        None,
        None,
        180,
        None,
        0.06,
        None,
        True,
        ["glowco"],
        [],
    ),
    # C uses the campaign hashtag but is not in the campaign.
    (
        "instagram",
        "c1",
        "C",
        date(2026, 3, 9),
        False,
        80,
        8,
        0,
        0,
        900,
        700,
        None,
        88,
        88,
        0.05,
        0.05,
        False,
        ["glowspring"],
        [],
    ),
]


def posts() -> pl.LazyFrame:
    # 7-day components are not used by the costs: shown, left null here.
    return (
        pl.LazyFrame(POSTS, schema={c: POST_INPUT[c] for c in POST_COLUMNS}, orient="row")
        .with_columns(
            pl.lit(None, pl.Int64).alias(c) for c in ("likes_d7", "comments_d7", "views_d7")
        )
        .select(POST_INPUT.names())
    )


EMV = {"likes": 0.1, "comments": 1.0, "views": 0.01}


def build(emv=None):
    campaigns, creators = staged(GLOW, RIVAL)
    attributed = campaign_posts(campaigns, creators, posts())
    per_creator = campaign_creators(campaigns, creators, attributed, emv or {})
    per_campaign = campaign_totals(campaigns, per_creator, attributed, emv or {})
    return [f.collect() for f in (attributed, per_creator, per_campaign)]


def test_each_rule_attributes_and_the_overlaps_resolve_as_defined():
    attributed, _, _ = build()
    got = sorted(
        attributed.select("campaign_id", "post_id", "attributed_by", "matched_rules").rows()
    )
    assert got == [
        ("glow", "a1", "hashtags", "hashtags"),
        # a2: mentions @glowco and is labelled paid; it is in the rival campaign too (its hashtag).
        ("glow", "a2", "mentions", "mentions,paid_partnership"),
        ("glow", "a4", "paid_partnership", "paid_partnership"),
        # Listed explicitly: counts although published before the campaign started.
        ("glow", "b-old", "post_ids", "post_ids"),
        # Tagging the brand as a hashtag is a mention of it.
        ("glow", "b1", "mentions", "mentions"),
        ("rival", "a2", "hashtags", "hashtags"),
    ]
    # Never: a3 (after end_date, though tagged), c1 (creator not in the campaign), a4 for rival
    # (rival attributes by hashtags only).


def test_creator_costs_cpe_cpm_and_emv_by_hand():
    _, per_creator, _ = build(EMV)
    rows = {(r["campaign_id"], r["account_id"]): r for r in per_creator.iter_rows(named=True)}
    a = rows[("glow", "A")]
    # a1, a2, a4: interactions 120 + 240 + 60 = 420; views 2000 + 4000 + 1000 = 7000.
    assert (a["posts"], a["mentions"], a["interactions"], a["views"], a["reach"]) == (
        3,
        1,
        420,
        7000,
        5300,
    )
    assert a["impressions"] is None and a["cpm_basis"] == "views"
    assert a["er_mean_d7"] == pytest.approx(0.04) and a["er_median_d7"] == pytest.approx(0.04)
    assert (a["fee"], a["currency"], a["cost_per_post"]) == (300.0, "USD", 100.0)
    assert a["cpe"] == pytest.approx(300 / 420)
    assert a["cpm"] == pytest.approx(300 / 7000 * 1000)
    # EMV: likes x 0.1 + comments x 1 + views x 0.01: 40 + 80 + 20.
    assert a["emv"] == pytest.approx(140.0)
    b = rows[("glow", "B")]
    # Per post: 50 x 2 posts. b1 is pending at 7 days: its ER is left out.
    assert (b["posts"], b["fee"], b["cost_per_post"], b["interactions"]) == (2, 100.0, 50.0, 540)
    assert b["handle"] == "bee" and b["reach"] is None
    assert b["er_mean_d7"] == pytest.approx(0.10)
    assert b["cpe"] == pytest.approx(100 / 540) and b["cpm"] == pytest.approx(100 / 15000 * 1000)
    assert b["emv"] == pytest.approx(160.0 + 80.0)
    rival = rows[("rival", "A")]
    assert (rival["posts"], rival["mentions"], rival["fee"]) == (1, 0, 100.0)
    assert rival["cpe"] == pytest.approx(100 / 240)


def test_campaign_totals_by_hand():
    _, _, per_campaign = build(EMV)
    glow = per_campaign.filter(pl.col("campaign_id") == "glow").row(0, named=True)
    assert (glow["creators"], glow["creators_posting"], glow["posts"], glow["mentions"]) == (
        2,
        2,
        5,
        2,
    )
    assert (glow["interactions"], glow["views"], glow["reach"]) == (960, 22000, 5300)
    # ER at 7 days of a1, a2, a4, b-old: 0.04, 0.06, 0.02, 0.10.
    assert glow["er_mean_d7"] == pytest.approx(0.055)
    assert glow["er_median_d7"] == pytest.approx(0.05)
    assert glow["fee_total"] == 400.0 and glow["cost_per_post"] == pytest.approx(80.0)
    assert glow["cpe"] == pytest.approx(400 / 960)
    assert glow["cpm"] == pytest.approx(400 / 22000 * 1000)
    assert glow["emv"] == pytest.approx(380.0)
    assert (glow["brand"], glow["currency"], glow["start_date"]) == (
        "GlowCo",
        "USD",
        date(2026, 3, 1),
    )


def test_cpm_divides_by_impressions_when_every_post_has_them_and_emv_is_off_unset():
    with_impressions = posts().with_columns(pl.col("views").mul(2).alias("impressions"))
    campaigns, creators = staged(RIVAL)
    attributed = campaign_posts(campaigns, creators, with_impressions)
    per_creator = campaign_creators(campaigns, creators, attributed, {})
    row = per_creator.collect().row(0, named=True)
    # a2: impressions 8000.
    assert (row["cpm_basis"], row["impressions"]) == ("impressions", 8000)
    assert row["cpm"] == pytest.approx(100 / 8000 * 1000)
    assert row["emv"] is None


def test_a_creator_without_posts_keeps_a_row_and_pays_a_per_creator_fee():
    quiet = RIVAL | {
        "campaign_id": "quiet",
        "creators": [{"platform": "youtube", "account_id": "Y", "fee": 80}],
    }
    campaigns, creators = staged(quiet)
    attributed = campaign_posts(campaigns, creators, posts())
    per_creator = campaign_creators(campaigns, creators, attributed, {}).collect()
    totals = campaign_totals(campaigns, per_creator.lazy(), attributed, {}).collect()
    row = per_creator.row(0, named=True)
    assert (row["posts"], row["fee"], row["cpe"], row["cost_per_post"]) == (0, 80.0, None, None)
    assert totals.select("posts", "creators", "creators_posting", "fee_total").row(0) == (
        0,
        1,
        0,
        80.0,
    )


def test_brand_mentions_and_sponsored_against_organic():
    mentions = brand_mentions(posts(), ["glowco", "rival"]).collect()
    assert sorted(
        mentions.select(
            "brand_handle",
            "account_id",
            "month",
            "posts",
            "sponsored_posts",
            "organic_posts",
            "er_median_d7",
        ).rows()
    ) == [
        ("glowco", "A", date(2026, 3, 1), 1, 1, 0, 0.06),
        ("glowco", "B", date(2026, 3, 1), 1, 0, 1, None),  # b1 still pending at 7 days
    ]
    split = (
        sponsored_vs_organic(posts())
        .collect()
        .filter((pl.col("account_id") == "A") & (pl.col("month") == date(2026, 3, 1)))
        .row(0, named=True)
    )
    # March for A: a1 organic (0.04); a2 (0.06) and a4 (0.02) sponsored, median 0.04.
    assert (split["posts"], split["sponsored_posts"], split["organic_posts"]) == (3, 2, 1)
    assert split["er_median_sponsored_d7"] == pytest.approx(0.04)
    assert split["er_median_organic_d7"] == pytest.approx(0.04)
    assert split["sponsored_to_organic_er"] == pytest.approx(1.0)


def test_mixed_currencies_refuse_the_campaign_with_the_reason():
    mixed = GLOW | {
        "creators": [
            {"platform": "instagram", "account_id": "A", "fee": 300, "currency": "USD"},
            {"platform": "tiktok", "account_id": "B", "fee": 40, "currency": "EUR"},
        ]
    }
    out = normalise_campaigns([("campaigns/c.yaml", 1, mixed)])
    assert out.campaigns == [] and out.creators == []
    (refused,) = out.rejected
    assert refused.rule == "mixed_currencies"
    assert "EUR and USD" in refused.reason and refused.row_number == 1


@pytest.mark.parametrize(
    ("change", "rule", "words"),
    [
        ({"end_date": "2026-02-01"}, "invalid_dates", "before start_date"),
        ({"start_date": "March 1"}, "invalid_value", "not a YYYY-MM-DD date"),
        ({"brand": None}, "missing_required", "'brand'"),
        ({"creators": []}, "missing_required", "at least one creator"),
        ({"rules": ["vibes"]}, "invalid_value", "unknown rule(s) vibes"),
        ({"currency": None}, "missing_required", "without a currency"),
    ],
)
def test_an_invalid_campaign_is_refused_whole_with_its_reason(change, rule, words):
    out = normalise_campaigns([("campaigns/c.yaml", 1, GLOW | change)])
    (refused,) = out.rejected
    assert (refused.rule, out.campaigns) == (rule, [])
    assert words in refused.reason


def test_a_bad_creator_is_refused_alone_and_a_repeated_id_names_its_first_file():
    bad = GLOW | {
        "creators": [
            {"platform": "instagram", "account_id": "A", "fee": 300},
            {"platform": "myspace", "account_id": "M"},
            {"platform": "tiktok", "fee": 10, "account_id": "B", "fee_basis": "per_like"},
            {"platform": "tiktok", "handle": "x", "fee": -5},
        ]
    }
    out = normalise_campaigns([("campaigns/a.yaml", 1, bad), ("campaigns/b.yaml", 1, GLOW)])
    assert [c["account_id"] for c in out.creators] == ["A"]
    assert [(r.source_file, r.row_number, r.rule) for r in out.rejected] == [
        ("campaigns/a.yaml", 1002, "unknown_platform"),
        ("campaigns/a.yaml", 1003, "invalid_value"),
        ("campaigns/a.yaml", 1004, "negative_count"),
        ("campaigns/b.yaml", 1, "duplicate_campaign"),
    ]
    assert "already defined in campaigns/a.yaml" in out.rejected[-1].reason


def test_csv_rows_group_into_campaigns_and_disagreeing_rows_are_refused():
    base = {
        "campaign_id": "glow",
        "brand": "GlowCo",
        "start_date": "2026-03-01",
        "end_date": "2026-03-31",
        "currency": "USD",
        "hashtags": "glowspring;glowco",
    }
    rows = [
        base | {"platform": "instagram", "account_id": "A", "fee": "1,200"},
        base
        | {
            "platform": "tiktok",
            "handle": "bee",
            "fee": "50",
            "fee_basis": "per_post",
            "post_ids": "b-old;b-2",
        },
        base | {"campaign_id": "odd", "platform": "instagram", "account_id": "A"},
        base
        | {"campaign_id": "odd", "end_date": "2026-04-30", "platform": "tiktok", "account_id": "B"},
    ]
    out = normalise_campaigns(
        ("campaigns/c.csv", n, d) for n, d in enumerate(documents_from_rows(rows), 1)
    )
    assert [c["campaign_id"] for c in out.campaigns] == ["glow"]
    assert out.campaigns[0]["hashtags"] == ["glowspring", "glowco"]
    assert [(c["fee"], c["post_ids"]) for c in out.creators] == [
        (1200.0, []),
        (50.0, ["b-old", "b-2"]),
    ]
    (refused,) = out.rejected
    assert (refused.rule, refused.reason) == (
        "conflicting_values",
        "the rows of campaign 'odd' disagree on end_date",
    )


# --- Through the warehouse: campaign files landed, ingested, rebuilt, changed, removed --------


def _land_exports(landing: Path) -> None:
    """Canonical exports of one Instagram creator, A: a follower snapshot a day, and posts."""
    days = [date(2026, 3, d) for d in range(1, 29)]
    followers = pl.DataFrame(
        {
            "platform": "instagram",
            "account_id": "A",
            "snapshot_date": [d.isoformat() for d in days],
            "captured_at": [f"{d.isoformat()}T06:00:00Z" for d in days],
            "followers": [5000 + 10 * i for i in range(len(days))],
            "handle": "ann",
        }
    )
    posts = pl.DataFrame(
        {
            "platform": "instagram",
            "post_id": ["p1", "p2", "p3"],
            "account_id": "A",
            "snapshot_date": "2026-03-27",
            "captured_at": "2026-03-27T06:00:00Z",
            "published_at": [
                "2026-03-02T12:00:00Z",
                "2026-03-10T12:00:00Z",
                "2026-03-20T12:00:00Z",
            ],
            "likes": [100, 200, 300],
            "comments": [10, 20, 30],
            "shares": [1, 2, 3],
            "saves": [1, 2, 3],
            "views": [1000, 2000, 3000],
            "hashtags": ["glowspring", "glowspring", "other"],
            "mentions": ["", "", "glowco"],
        }
    )
    (landing / "exports").mkdir(parents=True)
    followers.write_csv(landing / "exports" / "followers_2026-03-28.csv")
    posts.write_csv(landing / "exports" / "posts_2026-03-28.csv")


def _write_campaign(landing: Path, name: str, document: dict) -> None:
    import yaml

    (landing / "campaigns").mkdir(exist_ok=True)
    (landing / "campaigns" / name).write_text(yaml.safe_dump(document))


def test_campaign_files_load_rebuild_change_and_go(tmp_path, prefect_api):
    from flows.ingest import ingest
    from flows.transform import rebuild
    from tests.conftest import read_table
    from transforms.tiers import DEFAULT
    from warehouse.connect import connect
    from warehouse.publish import publish

    landing, warehouse = tmp_path / "landing", tmp_path / "w.duckdb"
    _land_exports(landing)
    glow = {
        "campaign_id": "glow",
        "brand": "GlowCo",
        "start_date": "2026-03-01",
        "end_date": "2026-03-31",
        "currency": "USD",
        "brand_handles": ["glowco"],
        "hashtags": ["glowspring"],
        "creators": [{"platform": "instagram", "handle": "ann", "fee": 660}],
    }
    _write_campaign(landing, "glow.yaml", glow)
    (landing / "campaigns" / "mixed.json").write_text(
        json.dumps(
            GLOW
            | {
                "campaign_id": "mixed",
                "creators": [
                    {"platform": "instagram", "account_id": "A", "fee": 1, "currency": "USD"},
                    {"platform": "tiktok", "account_id": "B", "fee": 1, "currency": "JPY"},
                ],
            }
        )
    )

    def night() -> tuple[object, dict[str, pl.DataFrame]]:
        summary = ingest(landing=landing, warehouse=warehouse)
        with connect(warehouse) as con:
            rebuild(con, "incremental", None, DEFAULT, 7, f"t-{summary.run_id}")
        # What readers get follows, though no account changed when only a definition did.
        state = publish(warehouse, tmp_path / "published")
        for mart in ("agg_campaign", "fct_campaign_posts", "agg_campaign_creators"):
            query = f"select * from marts.{mart} order by all"
            assert read_table(state, query).equals(read_table(warehouse, query)), mart
        return summary, {
            "campaigns": read_table(warehouse, "select * from marts.agg_campaign"),
            "posts": read_table(
                warehouse, "select * from marts.fct_campaign_posts order by post_id"
            ),
            "refused": read_table(
                warehouse, "select source_file, rule, reason from quarantine.rejected_rows"
            ),
        }

    _, marts = night()
    # The handle resolves to A; p1 and p2 carry #glowspring, p3 mentions @glowco.
    assert marts["posts"]["post_id"].to_list() == ["p1", "p2", "p3"]
    row = marts["campaigns"].row(0, named=True)
    # Interactions: 112 + 224 + 336 = 672; CPE = 660 / 672.
    assert (row["campaign_id"], row["posts"], row["interactions"]) == ("glow", 3, 672)
    assert row["cpe"] == pytest.approx(660 / 672)
    assert marts["refused"].rows() == [
        ("campaigns/mixed.json", "mixed_currencies", marts["refused"]["reason"][0])
    ]
    assert "JPY and USD" in marts["refused"]["reason"][0]

    summary, again = night()  # nothing changed: the campaign files are not read again
    assert (summary.files_loaded, summary.files_failed) == (0, 0)
    assert again["refused"].height == 1 and again["campaigns"].equals(marts["campaigns"])

    _write_campaign(landing, "glow.yaml", glow | {"end_date": "2026-03-15"})
    _, changed = night()
    assert changed["posts"]["post_id"].to_list() == ["p1", "p2"]
    # Both files were read again; only the changed one is a new manifest row.
    manifest = read_table(
        warehouse, "select path, count(*) as n from meta.ingested_files group by path order by path"
    )
    assert manifest.rows() == [("campaigns/glow.yaml", 2), ("campaigns/mixed.json", 1)] + [
        r for r in manifest.rows() if not r[0].startswith("campaigns/")
    ]
    assert changed["campaigns"]["interactions"].to_list() == [336]

    (landing / "campaigns" / "glow.yaml").unlink()
    _, gone = night()
    assert gone["campaigns"].height == 0 and gone["posts"].height == 0


def test_the_documented_example_campaign_loads_without_refusal():
    from ingestion.campaigns import read_campaigns
    from ingestion.discover import LandedFile, sha256_of

    example = Path(__file__).parents[1] / "docs" / "examples" / "campaign.yaml"
    landed = LandedFile(
        example, "campaigns/campaign.yaml", example.stat().st_size, sha256_of(example)
    )
    loaded = read_campaigns([landed])
    assert loaded.campaigns.rejected == []
    (campaign,) = loaded.campaigns.campaigns
    assert (campaign["campaign_id"], campaign["currency"], len(loaded.campaigns.creators)) == (
        "glow-spring-26",
        "USD",
        3,
    )


def test_hostile_campaign_files_fail_alone_with_a_reason_and_never_raise(tmp_path):
    from ingestion.campaigns import read_campaigns
    from ingestion.discover import discover

    folder = tmp_path / "campaigns"
    folder.mkdir()
    (folder / "scalar.yaml").write_text("just a sentence\n")
    (folder / "broken.json").write_text('{"campaign_id": "x", ')
    (folder / "binary.yaml").write_bytes(b"\xff\xfe\x00garbage")
    (folder / "typed.yaml").write_text(
        "campaign_id: 2026\nbrand: [a, b]\nstart_date: 2026-03-01\nend_date: 2026-03-31\n"
        "currency: usd\ncreators: [{platform: instagram, account_id: A}]\n"
    )
    (folder / "ok.yaml").write_text(
        "campaign_id: ok\nbrand: B\nstart_date: 2026-03-01 10:00:00\nend_date: 2026-03-31\ncurrency: EUR\n"
        "creators:\n  - {platform: tiktok, handle: '@Kai', fee: abc}\n  - {platform: tiktok, handle: kai}\n"
    )
    loaded = read_campaigns(discover(tmp_path)[0])
    outcomes = {o.path: o for o in loaded.outcomes}
    assert {p for p, o in outcomes.items() if o.status == "failed"} == {
        "campaigns/scalar.yaml",
        "campaigns/broken.json",
        "campaigns/binary.yaml",
    }
    assert all(o.error and len(o.error) < 300 for o in outcomes.values() if o.status == "failed")
    reasons = {(r.source_file, r.rule) for r in loaded.campaigns.rejected}
    # A list where text belongs is refused (not read as "['a', 'b']").
    (typed,) = [r for r in loaded.campaigns.rejected if r.source_file == "campaigns/typed.yaml"]
    assert (typed.rule, typed.reason) == (
        "invalid_value",
        "'brand' must be a single value, not a list or object",
    )
    assert ("campaigns/ok.yaml", "invalid_value") in reasons  # fee 'abc'
    (ok,) = loaded.campaigns.campaigns
    assert (ok["campaign_id"], ok["start_date"]) == ("ok", date(2026, 3, 1))
    assert [c["handle"] for c in loaded.campaigns.creators] == ["kai"]
