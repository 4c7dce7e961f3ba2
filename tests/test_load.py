"""warehouse.load on literal rows: natural-key upserts, tie-breaks, accounts merge, atomicity."""

from __future__ import annotations

from datetime import UTC, date, datetime

import polars as pl
import pyarrow as pa
import pytest

from ingestion.batch import FILE_SCHEMA, REJECTED_SCHEMA
from schemas.tables import ACCOUNT, STAGED_FOLLOWER_SNAPSHOT, STAGED_POST_SNAPSHOT
from tests.conftest import read_table
from tests.factories import contract_frame
from warehouse.connect import connect
from warehouse.load import Batch, load_batch
from warehouse.schema import apply_ddl

NOW = datetime(2026, 3, 3, tzinfo=UTC)
DAY = date(2026, 3, 2)


def follower_rows(*rows: dict) -> pa.Table:
    base = {
        "platform": "instagram",
        "account_id": "a1",
        "snapshot_date": DAY,
        "captured_at": datetime(2026, 3, 2, 3, tzinfo=UTC),
        "followers": 100,
        "following": None,
        "posts_count": None,
        "is_followers_rounded": False,
        "source_file": "f.jsonl",
        "source_sha256": "aa",
        "source_row": 1,
        "ingest_run_id": "r1",
    }
    return contract_frame(STAGED_FOLLOWER_SNAPSHOT, [base | r for r in rows]).to_arrow()


REJECTED = REJECTED_SCHEMA.empty_table()
FILES = pl.DataFrame(schema=FILE_SCHEMA).to_arrow()


def batch(
    followers: pa.Table | None = None, accounts: pa.Table | None = None, run_id: str = "r1"
) -> Batch:
    return Batch(
        run_id=run_id,
        followers=followers if followers is not None else STAGED_FOLLOWER_SNAPSHOT.empty_table(),
        posts=STAGED_POST_SNAPSHOT.empty_table(),
        accounts=accounts if accounts is not None else ACCOUNT.empty_table(),
        rejected=REJECTED,
        files=FILES,
    )


@pytest.fixture
def warehouse(tmp_path):
    path = tmp_path / "w.duckdb"
    con = connect(path)
    apply_ddl(con)
    yield path, con
    con.close()


def followers_in(con) -> list[tuple]:
    return con.execute(
        "select account_id, snapshot_date, followers, source_file from staging.follower_snapshots order by all"
    ).fetchall()


def test_latest_capture_wins_whatever_the_arrival_order(warehouse):
    _, con = warehouse
    evening = {
        "captured_at": datetime(2026, 3, 2, 22, tzinfo=UTC),
        "followers": 120,
        "source_file": "evening",
        "source_sha256": "bb",
    }
    load_batch(con, batch(follower_rows(evening)), NOW)
    load_batch(
        con, batch(follower_rows({"source_file": "morning"})), NOW
    )  # older capture arrives late
    assert followers_in(con) == [("a1", DAY, 120, "evening")]
    load_batch(
        con,
        batch(
            follower_rows(
                {
                    "captured_at": datetime(2026, 3, 2, 23, tzinfo=UTC),
                    "followers": 130,
                    "source_file": "night",
                }
            )
        ),
        NOW,
    )
    assert followers_in(con) == [("a1", DAY, 130, "night")]


def test_ties_are_broken_by_content_hash_then_row(warehouse):
    _, con = warehouse
    # Same key, same capture time, different files: the larger sha256 wins, in either order.
    load_batch(
        con, batch(follower_rows({"source_sha256": "b", "followers": 2, "source_file": "B"})), NOW
    )
    load_batch(
        con, batch(follower_rows({"source_sha256": "a", "followers": 1, "source_file": "A"})), NOW
    )
    assert followers_in(con) == [("a1", DAY, 2, "B")]
    # Within one batch: the later row of the same file wins.
    load_batch(
        con,
        batch(
            follower_rows(
                {"account_id": "a2", "source_row": 1, "followers": 10},
                {"account_id": "a2", "source_row": 2, "followers": 11},
            )
        ),
        NOW,
    )
    assert ("a2", DAY, 11, "f.jsonl") in followers_in(con)


def post_rows(*rows: dict) -> pa.Table:
    base = {
        "platform": "tiktok",
        "post_id": "p1",
        "account_id": "a1",
        "snapshot_date": DAY,
        "captured_at": datetime(2026, 3, 2, 3, tzinfo=UTC),
        "published_at": datetime(2026, 2, 20, 12, tzinfo=UTC),
        "likes": 10,
        "source_file": "v.jsonl",
        "source_sha256": "aa",
        "source_row": 1,
        "ingest_run_id": "r1",
    }
    return contract_frame(STAGED_POST_SNAPSHOT, [base | r for r in rows]).to_arrow()


def test_posts_upsert_with_and_without_repeated_keys_and_record_what_they_touched(warehouse):
    """A batch whose keys are unique skips the ranking (incoming_snapshots_summary.sql); one
    that repeats a key ranks it. Either way the touched accounts name the post's owner from
    its publication day (a post's key does not hold the account)."""
    _, con = warehouse
    posts = batch()
    unique = post_rows({}, {"post_id": "p2", "account_id": "a2", "likes": 5})
    load_batch(con, Batch(**(posts.__dict__ | {"posts": unique})), NOW)
    repeated = post_rows(
        {"likes": 11, "source_row": 1},
        {"likes": 12, "source_row": 2, "captured_at": datetime(2026, 3, 2, 9, tzinfo=UTC)},
        {"likes": 13, "source_row": 3, "captured_at": datetime(2026, 3, 2, 6, tzinfo=UTC)},
    )
    load_batch(con, Batch(**(posts.__dict__ | {"posts": repeated, "run_id": "r2"})), NOW)
    assert con.execute(
        "select post_id, account_id, likes, source_row from staging.post_snapshots order by all"
    ).fetchall() == [("p1", "a1", 12, 2), ("p2", "a2", 5, 1)]
    assert con.execute(
        "select run_id, account_id, first_affected_date from meta.touched_accounts order by all"
    ).fetchall() == [
        ("r1", "a1", date(2026, 2, 20)),
        ("r1", "a2", date(2026, 2, 20)),
        ("r2", "a1", date(2026, 2, 20)),
    ]
    # An older capture of p1 in a batch of its own loses to the staged row: nothing changes.
    older = post_rows({"likes": 1, "captured_at": datetime(2026, 3, 2, 1, tzinfo=UTC)})
    load_batch(con, Batch(**(posts.__dict__ | {"posts": older, "run_id": "r3"})), NOW)
    assert con.execute(
        "select likes from staging.post_snapshots where post_id = 'p1'"
    ).fetchall() == [(12,)]
    assert con.execute(
        "select count(*) from meta.touched_accounts where run_id = 'r3'"
    ).fetchall() == [(0,)]


def test_reloading_the_same_rows_changes_nothing(warehouse):
    _, con = warehouse
    rows = follower_rows(
        {"account_id": "a1"}, {"account_id": "a2", "snapshot_date": date(2026, 3, 1)}
    )
    load_batch(con, batch(rows), NOW)
    before = followers_in(con)
    load_batch(con, batch(rows, run_id="r2"), NOW)
    assert followers_in(con) == before
    assert con.execute(
        "select distinct ingest_run_id from staging.follower_snapshots"
    ).fetchall() == [("r1",)]


def test_accounts_keep_the_latest_non_null_attributes(warehouse):
    _, con = warehouse

    def accounts(day: tuple[int, int], **values):
        base = {
            "platform": "instagram",
            "account_id": "a1",
            "handle": None,
            "display_name": None,
            "category": None,
            "followers_hidden": None,
            "captured_at": datetime(2026, *day, tzinfo=UTC),
        }
        return contract_frame(ACCOUNT, [base | values]).to_arrow()

    loads = [
        ("r1", (3, 1), {"handle": "old", "display_name": "Old", "category": "Food"}),
        ("r2", (3, 2), {"handle": "new", "display_name": "New", "followers_hidden": True}),
        # An older capture loses every attribute, but moves the first capture back.
        ("r3", (2, 1), {"handle": "older", "display_name": "Older", "category": "Travel"}),
        ("r4", (3, 3), {"category": "Beauty", "followers_hidden": False}),
    ]
    for run_id, day, values in loads:
        load_batch(con, batch(accounts=accounts(day, **values), run_id=run_id), NOW)
        if run_id == "r2":  # a second account, new in a later batch
            load_batch(
                con, batch(accounts=accounts(day, account_id="a2", handle="b"), run_id="r2"), NOW
            )
    rows = con.execute(
        "select account_id, handle, display_name, category, followers_hidden, "
        "first_captured_at, last_captured_at, ingest_run_id from staging.accounts order by 1"
    ).fetchall()
    first, latest = datetime(2026, 2, 1, tzinfo=UTC), datetime(2026, 3, 3, tzinfo=UTC)
    second = datetime(2026, 3, 2, tzinfo=UTC)
    assert rows == [
        ("a1", "new", "New", "Beauty", False, first, latest, "r4"),
        ("a2", "b", None, None, None, second, second, "r2"),
    ]


def test_a_failing_batch_writes_nothing(warehouse):
    _, con = warehouse
    load_batch(con, batch(follower_rows({"account_id": "kept"})), NOW)
    bad_files = pa.table({"path": ["x"], "sha256": [None]})  # sha256 is NOT NULL: fails at the end
    broken = batch(follower_rows({"account_id": "a9"}))
    broken = Batch(
        broken.run_id, broken.followers, broken.posts, broken.accounts, broken.rejected, bad_files
    )
    with pytest.raises(Exception, match=r"NOT NULL|Constraint"):
        load_batch(con, broken, NOW)
    assert [r[0] for r in followers_in(con)] == ["kept"]


def test_file_opens_in_the_duckdb_1x_cli(warehouse):
    import subprocess
    import sys
    from pathlib import Path

    path, con = warehouse
    load_batch(con, batch(follower_rows({})), NOW)
    con.close()
    cli = Path(sys.executable).parent / "duckdb"  # PyPI duckdb-cli 1.5, installed by make install
    assert cli.exists()
    out = subprocess.run(
        [
            str(cli),
            "-readonly",
            str(path),
            "-csv",
            "-c",
            "select followers from staging.follower_snapshots",
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["followers", "100"]
    assert read_table(path, "select count(*) as n from staging.follower_snapshots")["n"].item() == 1
