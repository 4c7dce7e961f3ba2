"""Transactional loads into the warehouse: one batch of files = one DuckDB transaction."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

import duckdb
import pyarrow as pa

from schemas.tables import FOLLOWER_SNAPSHOT_KEY, POST_SNAPSHOT_KEY, STAGED_FOLLOWER_CHANGE
from warehouse.connect import transaction
from warehouse.sql import run_script, sql_text

SNAPSHOT_TABLES = {
    "followers": ("staging.follower_snapshots", FOLLOWER_SNAPSHOT_KEY),
    "posts": ("staging.post_snapshots", POST_SNAPSHOT_KEY),
    # Same key shape: (platform, account_id, the day of the gains).
    "follower_changes": ("staging.follower_changes", FOLLOWER_SNAPSHOT_KEY),
}
# The first mart day a changed row can affect: a follower snapshot its own day; a post
# snapshot its post's publication day (posts_published, followers_at_publish, weekly ER).
# Exact gains change the account's first snapshot day on or after their own day.
FIRST_AFFECTED_DAY = {
    "followers": "snapshot_date",
    "posts": "cast(published_at as date)",
    "follower_changes": "snapshot_date",
}


@dataclass(frozen=True)
class Batch:
    """Everything one batch of files writes: snapshots with lineage, accounts, rejects, manifest."""

    run_id: str
    followers: pa.Table
    posts: pa.Table
    accounts: pa.Table
    rejected: pa.Table
    files: pa.Table
    follower_changes: pa.Table = field(default_factory=STAGED_FOLLOWER_CHANGE.empty_table)


def _upsert_sql(kind: str, deduplicate: bool) -> str:
    table, key = SNAPSHOT_TABLES[kind]
    ranked = (
        f"qualify row_number() over (partition by {', '.join(key)} "
        "order by captured_at desc, source_sha256 desc, source_row desc) = 1"
    )
    return sql_text("sql", "upsert_snapshots.sql").format(
        table=table,
        dedup=ranked if deduplicate else "",
        key=", ".join(key),
        key_match=" and ".join(f"s.{k} = w.{k}" for k in key),
        first_day=FIRST_AFFECTED_DAY[kind],
        # touched_accounts needs the account (a post's key is the post's).
        owner="" if "account_id" in key else "account_id, ",
    )


def _upsert_snapshots(
    con: duckdb.DuckDBPyConnection, kind: str, rows: pa.Table, run_id: str
) -> int:
    """Upsert a batch's snapshots of one kind; returns how many staged rows they replaced."""
    if rows.num_rows == 0:
        return 0
    table, key = SNAPSHOT_TABLES[kind]
    con.register("incoming_snapshots", rows)
    summary = sql_text("sql", "incoming_snapshots_summary.sql")
    # fetchall, not fetchone: duckdb 2.0 keeps a half-read result open and refuses the next call.
    ((first, last, repeated_keys, platforms),) = con.execute(
        summary.format(key=", ".join(key))
    ).fetchall()
    ((overlapping,),) = con.execute(
        sql_text("sql", "staged_in_range.sql").format(table=table), [first, last, platforms]
    ).fetchall()
    if repeated_keys == 0 and not overlapping:
        # Every row of the batch wins and replaces nothing (a first load of new days, a night's
        # new day): no winners to choose, no staged rows to delete. Choosing them anyway cost
        # the ingest bench's JSON lines 0.8 s of the writer's 5.3 s (1.75M post snapshots).
        con.execute(sql_text("sql", "insert_snapshots.sql").format(table=table))
        source = "incoming_snapshots"
        first_day = FIRST_AFFECTED_DAY[kind]
        replaced = 0
    else:
        # The script's last statement deletes the staged rows the winners replace.
        ((replaced,),) = run_script(
            con, _upsert_sql(kind, deduplicate=repeated_keys > 0), [first, last]
        )
        ((winners,),) = con.execute("select count(*) from winners").fetchall()
        # Winners are rows of the batch, one per (source_sha256, source_row): as many as the
        # batch has rows means every row won.
        insert = (
            "insert_snapshots.sql" if winners == rows.num_rows else "insert_snapshot_winners.sql"
        )
        con.execute(sql_text("sql", insert).format(table=table))
        source, first_day = "winners", "first_day"
    con.execute(
        "insert into meta.touched_accounts "
        f"select $1, platform, account_id, min({first_day}) from {source} group by all",
        [run_id],
    )
    con.unregister("incoming_snapshots")
    return replaced


def load_batch(con: duckdb.DuckDBPyConnection, batch: Batch, now: datetime) -> int:
    """Write a batch in one transaction: all of it, or (on any error or kill) none of it.

    Returns how many staged snapshots its rows replaced (deleted): the rows a checkpoint's
    vacuum reclaims (warehouse.connect.checkpoint). Accounts are updated in place."""
    with transaction(con):
        replaced = sum(
            _upsert_snapshots(con, kind, rows, batch.run_id)
            for kind, rows in (
                ("followers", batch.followers),
                ("posts", batch.posts),
                ("follower_changes", batch.follower_changes),
            )
        )
        if batch.accounts.num_rows:
            con.register("incoming_accounts", batch.accounts)
            run_script(con, sql_text("sql", "upsert_accounts.sql"), [batch.run_id])
            # A hidden count makes no snapshot, yet the account's dimension row changes (its
            # handle, that its count is hidden): the next transform rebuilds it.
            con.execute(
                "insert into meta.touched_accounts select $1, platform, account_id, "
                "min(captured_at)::date from incoming_accounts where followers_hidden group by all",
                [batch.run_id],
            )
            con.unregister("incoming_accounts")
        # The manifest rows commit with the data: a file is "loaded" only once its rows are.
        _record_outcomes(con, batch.rejected, batch.files, batch.run_id, now)
    return replaced


@dataclass(frozen=True)
class CampaignBatch:
    """Every campaign definition (they are replaced as a whole), refusals and manifest rows."""

    run_id: str
    campaigns: pa.Table
    creators: pa.Table
    rejected: pa.Table
    files: pa.Table
    # Every campaign file read, (path, sha256): what the next ingest compares the folder with.
    read: list[tuple[str, str]]


def replace_campaigns(con: duckdb.DuckDBPyConnection, batch: CampaignBatch, now: datetime) -> int:
    """Swap in the campaign definitions in one transaction, with their refusals and manifest.
    Returns how many rows it deleted (what a checkpoint's vacuum reclaims)."""
    with transaction(con):
        deleted = 0
        for statement in (
            "delete from staging.campaigns",
            "delete from staging.campaign_creators",
            # The refusals are the current definitions' too: every file is read again.
            "delete from quarantine.rejected_rows where contract = 'campaigns'",
            "delete from meta.campaign_files",
        ):
            ((count,),) = con.execute(statement).fetchall()
            deleted += count
        if batch.read:
            con.executemany("insert into meta.campaign_files values (?, ?)", batch.read)
        for table, rows in (
            ("staging.campaigns", batch.campaigns),
            ("staging.campaign_creators", batch.creators),
        ):
            con.register("incoming", rows)
            con.execute(
                f"insert into {table} by name select *, $1 as ingest_run_id from incoming",
                [batch.run_id],
            )
            con.unregister("incoming")
        _record_outcomes(con, batch.rejected, batch.files, batch.run_id, now)
    return deleted


def _record_outcomes(
    con: duckdb.DuckDBPyConnection, rejected: pa.Table, files: pa.Table, run_id: str, now: datetime
) -> None:
    """Quarantined rows and manifest rows of a load (inside its transaction)."""
    for table, rows, stamp in (
        ("quarantine.rejected_rows", rejected, "rejected_at"),
        ("meta.ingested_files", files, "ingested_at"),
    ):
        con.register("incoming_outcomes", rows)
        con.execute(
            f"insert into {table} by name "
            f"select *, $1 as run_id, $2 as {stamp} from incoming_outcomes",
            [run_id, now],
        )
        con.unregister("incoming_outcomes")
