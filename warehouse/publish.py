"""Publishing for readers: the marts copied into a fresh file, swapped in atomically.

The working warehouse is written by one process at a time and locked while it is; readers
(BI tools, ad hoc SQL, the DuckDB CLI) open the published file instead, read-only. A publish
builds `states/<stamp>.duckdb` from the working file (marts with their comments, and the run
and quality records `inflow status` reads), checkpoints and closes it, then points the
published path at it with a hard link and `os.replace`: a reader sees the old state or the
new one, never a mix, and readers holding the old file keep reading it. The last few states
stay on disk so that `rollback` can point the published path back at the previous one.

A state records the last mart change it includes (`meta.state_info`). When the working
warehouse's change log (`meta.mart_changes`, written by each transform run) covers everything
since then with account-scoped changes, the new state is a copy of the current one with just
those changes applied: the changed accounts' rows from their rebuilt day on, and the weeks and
months from the earliest changed day. A full refresh or backfill, a first publish or a missing
log falls back to copying every mart. Either way the result equals the working marts (a test
checks it night after night).

Once `keep` states exist, the oldest would be deleted by this publish. Instead of copying the
current state (a file as big as the marts: tens of GB at a million accounts, a cost that grows
with history every night) the publish brings that oldest state up to date in place, with the
changes logged since its own watermark, and swaps it in. A reader still holding it (its lock
stops the writer) makes the publish copy the current state as before.
"""

from __future__ import annotations

import os
import shutil
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal

import duckdb

from schemas.marts import MARTS
from warehouse.connect import NO_LIMITS, DuckDBLimits, connect, transaction
from warehouse.marts import (
    ACCOUNT_MARTS,
    CAMPAIGN_MARTS,
    PERIOD_MARTS,
    rebuilt_rows,
)
from warehouse.schema import apply_ddl, apply_mart_ddl
from warehouse.sql import sql_literal

PUBLISHED_NAME = "inflow.duckdb"
# How a published state was built: every mart copied, or the previous state plus the changes.
StateBuild = Literal["full", "incremental", "lake"]
STATES = "states"
# Tables readers get besides the marts (status, freshness and quality for dashboards).
READER_META = ("meta.runs", "meta.quality_results")


class StateDiverged(Exception):
    """An incremental state did not come out equal in size to the working marts."""


class StateInUse(Exception):
    """A reader holds the state this publish meant to bring up to date in place."""


class PublishRefused(Exception):
    """The latest validation found critical failures: the published state stays as it was."""


def critical_failures(con: duckdb.DuckDBPyConnection) -> list[tuple[str, str]]:
    """(suite, check) of the critical checks that failed in the latest validation run."""
    return con.execute(
        "with latest as (select run_id from meta.quality_results order by checked_at desc limit 1) "
        "select suite, check_name from meta.quality_results semi join latest using (run_id) "
        "where not success and severity = 'critical' order by all"
    ).fetchall()


def publish(
    working: Path, published_dir: Path, keep: int = 3, limits: DuckDBLimits = NO_LIMITS
) -> Path:
    """Publish the working warehouse's marts; refuses while the latest validation failed critically.

    Leftovers of a publish killed midway (`states/*.building`, their `.wal`) are removed first:
    callers hold the run lock (flows.runs.run_lock), so no other publish is building.
    """
    for leftover in (published_dir / STATES).glob("*.building*"):
        leftover.unlink(missing_ok=True)
    current = current_state(published_dir)
    with connect(working, limits=limits) as con:
        apply_ddl(con)  # a warehouse from an older version gets the change log tables
        failures = critical_failures(con)
        if failures:
            named = ", ".join(f"{suite}.{check}" for suite, check in failures)
            raise PublishRefused(f"critical quality failures block publishing: {named}")
        # Each kept state's watermark, read once: the current one may be brought up to date,
        # and the change log is kept back to the oldest (a rollback target).
        watermarks = {
            kept: state_watermark(kept, limits) for kept in published_states(published_dir)
        }
        base = None if current is None else _incremental_base(con, watermarks[current])
        # Marts unchanged since the current state (an idle night): the new state (fresh runs
        # and checks for readers) replaces the current one instead of adding a state, so idle
        # nights never push a real rollback point out of the `keep` kept.
        database = con.execute("select current_database()").fetchall()[0][0]
        same_marts = current is not None and watermarks[current] == _latest_change(con, database)
        spare = None if same_marts else _spare_state(list(watermarks), current, keep)
        spare_base = None if spare is None else _incremental_base(con, watermarks[spare])
        _prune_change_log(con, list(watermarks.values()))
        con.execute("checkpoint")
    states = published_dir / STATES
    states.mkdir(parents=True, exist_ok=True)
    state = states / f"{datetime.now(UTC).strftime('%Y%m%dT%H%M%S%fZ')}.duckdb"
    built = False
    if spare is not None and spare_base is not None:
        try:
            recycle_state(spare, spare_base, working, state, limits)
            built = True
        except (StateInUse, StateDiverged):
            pass  # copy the current state instead
    if not built and current is not None and base is not None:
        try:
            build_state_from(current, base, working, state, limits)
            built = True
        except StateDiverged:
            same_marts = False  # e.g. marts edited by hand: they changed after all
    if not built:
        build_state(working, state, limits)
    _point_published_at(state, published_dir)
    if same_marts and built and current is not None:
        current.unlink()  # readers holding it keep reading it; it was no rollback point
    _prune(states, keep)
    return state


def _spare_state(states: list[Path], current: Path | None, keep: int) -> Path | None:
    """The oldest kept state when this publish would delete it (never the current one)."""
    if len(states) < keep or not states or states[0] == current:
        return None
    return states[0]


def state_watermark(state: Path, limits: DuckDBLimits = NO_LIMITS) -> tuple[int, str | None] | None:
    """(sequence, transform run) of the last mart change a published state includes.

    None when the state does not say (a state published before change logs existed).
    """
    with connect(state, read_only=True, limits=limits) as con:
        found = con.execute(
            "select count(*) from duckdb_tables() where schema_name = 'meta' "
            "and table_name = 'state_info'"
        ).fetchall()[0][0]
        if not found:
            return None
        row: tuple[int, str | None] = con.execute(
            "select watermark, watermark_run_id from meta.state_info"
        ).fetchall()[0]
        return row


def _incremental_base(
    con: duckdb.DuckDBPyConnection, recorded: tuple[int, str | None] | None
) -> int | None:
    """The current state's watermark when the change log can bring it up to date, else None."""
    if recorded is None:
        return None
    watermark, run_id = recorded
    # The log must be this warehouse's: the change the state ends with is still in it.
    if (
        watermark
        and con.execute(
            "select count(*) from meta.mart_changes where sequence = $1 and transform_run_id = $2",
            [watermark, run_id],
        ).fetchall()[0][0]
        != 1
    ):
        return None
    ((oldest_logged, everything),) = con.execute(
        "select min(sequence), count(*) filter (where scope = 'all' and sequence > $1) "
        "from meta.mart_changes",
        [watermark],
    ).fetchall()
    # The log must still hold every change after the watermark (it is pruned behind the states).
    complete = oldest_logged is None or oldest_logged <= watermark + 1
    return watermark if complete and not everything else None


def _prune_change_log(
    con: duckdb.DuckDBPyConnection, recorded: list[tuple[int, str | None] | None]
) -> None:
    # Keep what any kept state (a rollback target) still needs to be brought up to date.
    sequences = [watermark[0] for watermark in recorded if watermark is not None]
    if not recorded or len(sequences) < len(recorded):
        return
    oldest = min(sequences)
    con.execute("delete from meta.mart_changed_accounts where sequence <= $1", [oldest])
    con.execute("delete from meta.mart_changes where sequence < $1", [oldest])


def _latest_change(con: duckdb.DuckDBPyConnection, database: str) -> tuple[int, str | None]:
    latest = con.execute(
        f"select sequence, transform_run_id from {database}.meta.mart_changes "
        "order by sequence desc limit 1"
    ).fetchall()
    return latest[0] if latest else (0, None)


def build_state(working: Path, state: Path, limits: DuckDBLimits = NO_LIMITS) -> None:
    """A new file with the working warehouse's marts and reader tables, descriptions included."""
    building = state.with_suffix(".building")
    building.unlink(missing_ok=True)
    with connect(building, limits=limits) as con:
        con.execute("create schema if not exists meta")
        apply_mart_ddl(con)  # tables and their COMMENT ON descriptions
        con.execute(f"attach {sql_literal(working.resolve().as_posix())} as working (read_only)")
        with transaction(con):
            for mart in MARTS:
                con.execute(
                    f"insert into marts.{mart.name} select * from working.marts.{mart.name}"
                )
            for table in READER_META:
                con.execute(f"create table {table} as select * from working.{table}")
                _copy_comments(con, table)
            _write_state_info(con, _latest_change(con, "working"), "full")
        con.execute("detach working")
        con.execute("checkpoint")
    os.replace(building, state)


def build_state_from(
    current: Path, watermark: int, working: Path, state: Path, limits: DuckDBLimits = NO_LIMITS
) -> None:
    """A copy of the current state with the mart changes logged after `watermark` applied."""
    building = state.with_suffix(".building")
    building.unlink(missing_ok=True)
    shutil.copyfile(current, building)
    try:
        _catch_up(connect(building, limits=limits), watermark, working)
    except BaseException:
        building.unlink(missing_ok=True)
        raise
    os.replace(building, state)


def recycle_state(
    old: Path, watermark: int, working: Path, state: Path, limits: DuckDBLimits = NO_LIMITS
) -> None:
    """`old` (a state no reader should need: the publish would delete it) brought up to date in
    place with the changes logged after its `watermark`, and renamed to `state`.

    Raises StateInUse, leaving `old` as it was, when a reader holds it open.
    """
    building = state.with_suffix(".building")
    building.unlink(missing_ok=True)
    os.replace(old, building)  # a reader that holds it open keeps reading it
    try:
        con = connect(building, limits=limits)
    except duckdb.IOException as error:
        os.replace(building, old)
        if "lock" in str(error).lower():
            raise StateInUse(f"{old.name} is open in another process") from error
        raise
    try:
        _catch_up(con, watermark, working)
    except BaseException:
        # Its transaction rolled back: it is the old state still, but it was due for deletion.
        building.unlink(missing_ok=True)
        raise
    os.replace(building, state)


def _catch_up(con: duckdb.DuckDBPyConnection, watermark: int, working: Path) -> None:
    """Apply the mart changes logged after `watermark` to the state open on `con` (one
    transaction, checked against the working marts' sizes), checkpoint and close it."""
    with con:
        con.execute(f"attach {sql_literal(working.resolve().as_posix())} as working (read_only)")
        with transaction(con):
            ((first_day,),) = con.execute(
                "select min(first_day) from working.meta.mart_changes where sequence > $1",
                [watermark],
            ).fetchall()
            con.execute(
                "create temp table scope as select platform, account_id, min(emit_from) as emit_from "
                "from working.meta.mart_changed_accounts where sequence > $1 group by all",
                [watermark],
            )
            if first_day is not None:
                _apply_account_changes(con, first_day)
                _apply_period_changes(con, first_day)
            _apply_campaign_changes(con)
            for table in READER_META:
                con.execute(f"delete from {table}")
                con.execute(f"insert into {table} select * from working.{table}")
            _write_state_info(con, _latest_change(con, "working"), "incremental")
            # A cheap check that the state plus the logged changes is the working marts: row
            # counts of every mart (a change made outside a transform run would not be in the log).
            for mart in MARTS:
                ((new, old),) = con.execute(
                    f"select (select count(*) from marts.{mart.name}), "
                    f"(select count(*) from working.marts.{mart.name})"
                ).fetchall()
                if new != old:
                    raise StateDiverged(f"marts.{mart.name}: {new} rows, working has {old}")
        con.execute("detach working")
        con.execute("checkpoint")


def _apply_account_changes(con: duckdb.DuckDBPyConnection, first_day) -> None:
    # The rows the rebuilds replaced: each changed account's from its earliest rebuilt day
    # (emit_from; the follower-day marts were rebuilt from chain_from, no earlier, and their
    # rows between are copied as they are). (Weekly rows are replaced whole from the earliest
    # changed week: _apply_period_changes.)
    for mart in ACCOUNT_MARTS:
        if mart == "fct_engagement_weekly":
            continue
        changed, params = rebuilt_rows(mart, first_day)
        con.execute(f"delete from marts.{mart} as m using scope as s where {changed}", params)
        con.execute(
            f"insert into marts.{mart} select m.* from working.marts.{mart} as m "
            f"semi join scope as s on {changed}",
            params,
        )


# Small marts copied whole on every incremental publish: the campaigns' (a campaign changes with
# its definition, not only with its creators' accounts) and the brand mentions (rows that name a
# brand's handle only; recounted for every account when the handles change).
WHOLE_MARTS = (*CAMPAIGN_MARTS, "agg_brand_mentions")


def _apply_campaign_changes(con: duckdb.DuckDBPyConnection) -> None:
    for mart in WHOLE_MARTS:
        con.execute(f"delete from marts.{mart}")
        con.execute(f"insert into marts.{mart} select * from working.marts.{mart}")
    # Sponsored against organic: per account and month, rebuilt from each changed account's
    # first rebuilt month.
    con.execute(
        "delete from marts.agg_sponsored_monthly as m using scope as s where m.platform = "
        "s.platform and m.account_id = s.account_id and m.month >= date_trunc('month', s.emit_from)"
    )
    con.execute(
        "insert into marts.agg_sponsored_monthly select m.* from working.marts.agg_sponsored_monthly "
        "as m semi join scope as s on m.platform = s.platform and m.account_id = s.account_id "
        "and m.month >= date_trunc('month', s.emit_from)"
    )


def _apply_period_changes(con: duckdb.DuckDBPyConnection, first_day) -> None:
    # Tier medians of every account of the changed weeks; every month from the changed one.
    weeks = "week_start >= date_trunc('week', $1::date)"
    con.execute(f"delete from marts.fct_engagement_weekly where {weeks}", [first_day])
    con.execute(
        f"insert into marts.fct_engagement_weekly "
        f"select * from working.marts.fct_engagement_weekly where {weeks}",
        [first_day],
    )
    for mart in (*PERIOD_MARTS, "fct_creator_monthly"):
        months = "month >= date_trunc('month', $1::date)"
        con.execute(f"delete from marts.{mart} where {months}", [first_day])
        con.execute(
            f"insert into marts.{mart} select * from working.marts.{mart} where {months}",
            [first_day],
        )
    # A scorecard is its account's latest creator month: every account with a rebuilt month
    # (peers are compared per month, so all of them) gets its row anew.
    month = "month >= date_trunc('month', $1::date)"
    con.execute(
        "delete from marts.agg_creator_scorecard as m using working.marts.agg_creator_scorecard "
        f"as w where w.{month} and m.platform = w.platform and m.account_id = w.account_id",
        [first_day],
    )
    con.execute(f"delete from marts.agg_creator_scorecard where {month}", [first_day])
    con.execute(
        f"insert into marts.agg_creator_scorecard select * from "
        f"working.marts.agg_creator_scorecard where {month}",
        [first_day],
    )


STATE_INFO_COLUMNS = {
    "watermark": "Sequence of the last transform run whose changes this state includes.",
    "watermark_run_id": "That transform run.",
    "built": "full (every mart copied) or incremental (the previous state plus the changes).",
    "published_at": "When this state was built (UTC).",
}


def _write_state_info(
    con: duckdb.DuckDBPyConnection, watermark: tuple[int, str | None], built: StateBuild
) -> None:
    con.execute(
        "create table if not exists meta.state_info "
        "(watermark bigint, watermark_run_id varchar, built varchar, published_at timestamptz)"
    )
    con.execute("delete from meta.state_info")
    con.execute("insert into meta.state_info values ($1, $2, $3, now())", [*watermark, built])
    con.execute(
        "comment on table meta.state_info is 'How this published state was built (full copy or "
        "incremental) and the last mart change it includes.'"
    )
    for column, text in STATE_INFO_COLUMNS.items():
        con.execute(f"comment on column meta.state_info.{column} is {sql_literal(text)}")


def _copy_comments(con: duckdb.DuckDBPyConnection, table: str) -> None:
    # CREATE TABLE AS drops descriptions: carry the working table's over for BI tools.
    schema, name = table.split(".")
    for (comment,) in con.execute(
        "select comment from duckdb_tables() where database_name = 'working' "
        "and schema_name = $1 and table_name = $2 and comment is not null",
        [schema, name],
    ).fetchall():
        con.execute(f"comment on table {table} is {sql_literal(comment)}")
    for column, comment in con.execute(
        "select column_name, comment from duckdb_columns() where database_name = 'working' "
        "and schema_name = $1 and table_name = $2 and comment is not null",
        [schema, name],
    ).fetchall():
        con.execute(f'comment on column {table}."{column}" is {sql_literal(comment)}')


def _point_published_at(state: Path, published_dir: Path) -> None:
    # A hard link under a temporary name, then an atomic rename over the published path.
    link = published_dir / f".{PUBLISHED_NAME}.next"
    link.unlink(missing_ok=True)
    os.link(state, link)
    os.replace(link, published_dir / PUBLISHED_NAME)


def published_states(published_dir: Path) -> list[Path]:
    """The kept states, oldest first."""
    return sorted((published_dir / STATES).glob("*.duckdb"))


def current_state(published_dir: Path) -> Path | None:
    published = published_dir / PUBLISHED_NAME
    if not published.exists():
        return None
    inode = published.stat().st_ino
    return next((s for s in published_states(published_dir) if s.stat().st_ino == inode), None)


def rollback(published_dir: Path) -> Path:
    """Point the published path at the state before the current one; returns it."""
    states = published_states(published_dir)
    current = current_state(published_dir)
    if current is None or states.index(current) == 0:
        raise ValueError("no earlier published state to roll back to")
    previous = states[states.index(current) - 1]
    _point_published_at(previous, published_dir)
    # The rolled-back state is dropped, so that the next rollback goes further back.
    current.unlink()
    return previous


def _prune(states: Path, keep: int) -> None:
    # Readers holding an old state keep reading it: unlinking does not close their file.
    for old in sorted(states.glob("*.duckdb"))[:-keep]:
        old.unlink()
