"""Publishing: a fresh file swapped in for readers, refused on critical quality failures."""

from __future__ import annotations

import shutil
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest

from flows.validate import quality_frames, record, run_suites
from tests.conftest import START, built_warehouse, generated_landing, read_table
from warehouse import publish as pub
from warehouse.connect import connect

DAYS = 30
TODAY = START + timedelta(days=DAYS - 1)


@pytest.fixture(scope="module")
def built(tmp_path_factory, prefect_api) -> Path:
    return built_warehouse(tmp_path_factory, accounts=40, days=DAYS, seed=8)[1]


def _validate(warehouse: Path, plant: str | None = None) -> None:
    con = connect(warehouse)
    try:
        if plant:
            con.execute(plant)
        frames = quality_frames(con, TODAY)
        record(con, run_suites(frames, warehouse.parent, 3, f"v{len(plant or '')}"), frames)
    finally:
        con.close()


def _marts_changed(warehouse: Path) -> None:
    """Record a transform run that changed every mart (as a full refresh does): the next
    publish has new marts to show."""
    con = connect(warehouse)
    try:
        con.execute(
            "insert into meta.mart_changes select coalesce(max(sequence), 0) + 1, "
            "'test-' || (coalesce(max(sequence), 0) + 1), 'all', null, now() from meta.mart_changes"
        )
    finally:
        con.close()


def _rows(path: Path, table: str = "marts.fct_account_daily") -> int:
    return read_table(path, f"select count(*) as n from {table}")["n"].item()


def test_publish_then_refuse_on_a_critical_failure_keeping_the_previous_state(built, tmp_path):
    working = tmp_path / "w.duckdb"
    shutil.copy(built, working)
    published_dir = tmp_path / "published"
    _validate(working)
    first = pub.publish(working, published_dir)
    readers_path = published_dir / pub.PUBLISHED_NAME
    assert _rows(readers_path) == _rows(working) > 0
    comments = read_table(
        readers_path,
        "select count(*) as n from duckdb_columns() where schema_name = 'marts' and comment is null",
    )
    assert comments["n"].item() == 0

    # A reader holding the published file keeps its snapshot while a new state is swapped in.
    reader = connect(readers_path, read_only=True)
    before = reader.execute("select count(*) from marts.fct_account_daily").fetchall()
    _validate(
        working, "delete from marts.fct_account_daily where followers > 100000"
    )  # warning only
    second = pub.publish(working, published_dir)
    assert second != first and pub.current_state(published_dir) == second
    assert reader.execute("select count(*) from marts.fct_account_daily").fetchall() == before
    reader.close()
    assert _rows(readers_path) == _rows(working) < before[0][0]

    # A critical failure: publishing is refused, the published state is untouched.
    _validate(working, "update marts.fct_post_metrics set er_followers = -1")
    with pytest.raises(pub.PublishRefused, match=r"fct_post_metrics\.er_not_negative"):
        pub.publish(working, published_dir)
    assert pub.current_state(published_dir) == second
    assert _rows(readers_path, "marts.fct_post_metrics") > 0
    assert (
        read_table(readers_path, "select min(er_followers) as m from marts.fct_post_metrics")[
            "m"
        ].item()
        >= 0
    )

    # Rollback points readers at the state before.
    assert pub.rollback(published_dir) == first
    assert _rows(readers_path) == before[0][0]
    with pytest.raises(ValueError, match="no earlier"):
        pub.rollback(published_dir)


def test_published_file_opens_in_the_duckdb_1x_cli(built, tmp_path):
    working = tmp_path / "w.duckdb"
    shutil.copy(built, working)
    _validate(working)
    pub.publish(working, tmp_path / "published")
    cli = Path(sys.executable).parent / "duckdb"
    out = subprocess.run(
        [
            str(cli),
            "-readonly",
            str(tmp_path / "published" / pub.PUBLISHED_NAME),
            "-csv",
            "-c",
            "select count(*) > 0 as ok from marts.dim_account",
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["ok", "true"]


def test_only_the_last_states_are_kept(built, tmp_path):
    working = tmp_path / "w.duckdb"
    shutil.copy(built, working)
    _validate(working)
    for _ in range(4):
        _marts_changed(working)
        pub.publish(working, tmp_path / "published", keep=2)
    states = pub.published_states(tmp_path / "published")
    assert len(states) == 2 and pub.current_state(tmp_path / "published") == states[-1]


def test_idle_publishes_replace_the_current_state_and_keep_the_rollback_points(built, tmp_path):
    """Three publishes with nothing new in the marts (idle nights) used to push every real
    rollback point out (keep = 3); now each replaces the current state, with fresh runs."""
    working = tmp_path / "w.duckdb"
    shutil.copy(built, working)
    published_dir = tmp_path / "published"
    _validate(working)
    for _ in range(3):
        _marts_changed(working)
        pub.publish(working, published_dir, keep=3)
    rollback_points = pub.published_states(published_dir)[:-1]
    for _ in range(3):
        state = pub.publish(working, published_dir, keep=3)
        assert pub.current_state(published_dir) == state
    states = pub.published_states(published_dir)
    assert states[:-1] == rollback_points and len(states) == 3
    # A publish killed while building leaves files that the next publish clears.
    leftover = published_dir / "states" / "20260101T000000000000Z.building"
    (published_dir / "states" / "20260101T000000000000Z.building.wal").write_bytes(b"x")
    leftover.write_bytes(b"partial")
    pub.publish(working, published_dir, keep=3)
    assert list((published_dir / "states").glob("*.building*")) == []


def test_cli_publish_and_rollback(built, tmp_path):
    from typer.testing import CliRunner

    from cli.app import app

    working = tmp_path / "w.duckdb"
    shutil.copy(built, working)
    runner = CliRunner(
        env={"INFLOW_PUBLISHED": str(tmp_path / "published"), "INFLOW_WAREHOUSE": str(working)}
    )
    assert runner.invoke(app, ["rollback"]).exit_code == 1  # nothing published yet
    _validate(working)
    for _ in range(2):
        _marts_changed(working)
        result = runner.invoke(app, ["publish"])
        assert result.exit_code == 0, result.output
    assert runner.invoke(app, ["rollback"]).exit_code == 0
    _validate(working, "update marts.fct_post_metrics set er_followers = -1")
    refused = runner.invoke(app, ["publish"])
    assert refused.exit_code == 1
    assert "not published" in refused.output and "er_not_negative" in refused.output


def test_inflow_sql_reads_the_published_marts_and_refuses_everything_else(built, tmp_path):
    import json

    from typer.testing import CliRunner

    from cli.app import app

    working = tmp_path / "w.duckdb"
    shutil.copy(built, working)
    _validate(working)
    pub.publish(working, tmp_path / "published")
    runner = CliRunner(env={"INFLOW_PUBLISHED": str(tmp_path / "published")})
    query = "select count(*) as accounts from marts.dim_account"
    as_csv = runner.invoke(app, ["sql", query, "--format", "csv"])
    assert as_csv.exit_code == 0 and as_csv.output.split() == ["accounts", "40"]
    as_json = runner.invoke(app, ["sql", query, "--format", "json"])
    assert json.loads(as_json.output) == [{"accounts": 40}]
    # Formats are case-insensitive; a table shows NULL as NULL and fits the terminal's width.
    assert runner.invoke(app, ["sql", query, "--format", "CSV"]).output == as_csv.output
    nulls = runner.invoke(
        app,
        [
            "sql",
            "select 1 as n, null::varchar as missing, '' as blank, 'x' || repeat('y', 200) as long",
        ],
        env={"COLUMNS": "60"},
    )
    assert nulls.exit_code == 0, nulls.output
    assert "NULL" in nulls.output
    assert max(len(line) for line in nulls.output.splitlines()) <= 60
    assert "y" * 40 in nulls.output.replace("│", "").replace(" ", "").replace("\n", "")
    out = tmp_path / "out.csv"
    assert runner.invoke(app, ["sql", query, "--format", "csv", "--out", str(out)]).exit_code == 0
    assert out.read_text().split() == ["accounts", "40"]
    secret = tmp_path / "secret.csv"
    secret.write_text("a\n1\n")
    refused = {
        "insert into marts.dim_account select * from marts.dim_account": "read-only",
        "create table marts.x as select 1": "read-only",
        "drop table marts.dim_account": "read-only",
        f"select * from read_csv('{secret}')": "disabled",
        f"copy marts.dim_account to '{tmp_path / 'leak.csv'}'": "disabled",
        f"attach '{working}' as w": "disabled",
        "set enable_external_access = true": "configuration",
    }
    for statement, reason in refused.items():
        result = runner.invoke(app, ["sql", statement])
        assert result.exit_code == 1, statement
        assert reason in result.output, (statement, result.output)
    assert not (tmp_path / "leak.csv").exists()
    assert _rows(tmp_path / "published" / pub.PUBLISHED_NAME, "marts.dim_account") == 40


def test_status_during_a_run_falls_back_to_the_published_state(built, tmp_path):

    from typer.testing import CliRunner

    from cli.app import app

    working = tmp_path / "w.duckdb"
    shutil.copy(built, working)
    _validate(working)
    pub.publish(working, tmp_path / "published")
    holder = subprocess.Popen(  # another process writing: holds DuckDB's file lock
        [
            sys.executable,
            "-c",
            f"import duckdb, time; c = duckdb.connect({str(working)!r}); print('held', flush=True); time.sleep(60)",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "held"
        runner = CliRunner(env={"INFLOW_PUBLISHED": str(tmp_path / "published"), "COLUMNS": "250"})
        result = runner.invoke(app, ["status", "--warehouse", str(working)])
        assert result.exit_code == 0, result.output
        assert "showing the last published state" in result.output and "last runs" in result.output
    finally:
        holder.kill()
        holder.wait()


def _state_built(path: Path) -> str:
    return read_table(path, "select built from meta.state_info")["built"].item()


def _assert_published_equals_working(published: Path, working: Path) -> None:
    from polars.testing import assert_frame_equal

    from schemas.marts import MARTS
    from tests.test_ingest import content

    for mart in MARTS:
        (
            assert_frame_equal(
                content(published, f"marts.{mart.name}"), content(working, f"marts.{mart.name}")
            ),
            mart.name,
        )


def _hold_open(state: Path) -> subprocess.Popen:
    """Another process holding `state` open read-only (a BI tool still on an old state)."""
    reader = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import duckdb, sys\n"
            f"con = duckdb.connect({str(state)!r}, read_only=True)\n"
            "print('open', flush=True)\n"
            "for query in sys.stdin: print(con.execute(query).fetchall()[0][0], flush=True)\n",
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert reader.stdout is not None and reader.stdout.readline().strip() == "open"
    return reader


def test_incremental_publish_night_after_night_equals_the_working_marts(
    tmp_path_factory, prefect_api
):
    from flows.ingest import ingest
    from flows.transform import transform

    generated = generated_landing(tmp_path_factory, accounts=50, days=12, seed=9)
    root = tmp_path_factory.mktemp("nights")
    landing, working, published_dir = root / "landing", root / "w.duckdb", root / "published"
    landing.mkdir()
    readers_path = published_dir / pub.PUBLISHED_NAME
    late_day = (START + timedelta(days=4)).isoformat()  # tiktok's day 5 arrives on night 9

    def land(night: int) -> None:
        day = (START + timedelta(days=night - 1)).isoformat()
        for folder in generated.glob(f"*/{day}"):
            if not (folder.parent.name == "tiktok" and day == late_day):
                shutil.copytree(folder, landing / folder.parent.name / day)
        if night == 9:
            shutil.copytree(generated / "tiktok" / late_day, landing / "tiktok" / late_day)

    for night in range(1, 13):
        land(night)
        ingest(landing=landing, warehouse=working)
        transform(warehouse=working)
        kept = pub.published_states(published_dir)
        oldest = kept[0].stat().st_ino if kept else None
        if night == 11:
            # A reader still holds the oldest state: it cannot be written, the current is copied.
            held_rows = _rows(kept[0])
            held = _hold_open(kept[0])
        pub.publish(working, published_dir, keep=3)
        assert _state_built(readers_path) == ("full" if night == 1 else "incremental")
        _assert_published_equals_working(readers_path, working)
        # From the fourth night the state due for deletion is brought up to date in place,
        # not the current one copied: the new state is the oldest one's file.
        recycled = readers_path.stat().st_ino == oldest
        assert recycled == (night >= 4 and night != 11), night
        assert len(pub.published_states(published_dir)) == min(night, 3)
        if night == 11:
            # The reader's state was deleted, not written: it still reads what it read.
            assert held.stdin is not None
            held.stdin.write("select count(*) from marts.fct_account_daily\n")
            held.stdin.close()
            assert int(held.stdout.read().split()[-1]) == held_rows
            assert held.wait(timeout=30) == 0

    # The change log is pruned behind the kept states: it does not grow with the nights.
    assert read_table(working, "select count(*) as n from meta.mart_changes")["n"].item() <= 4

    # After a rollback the next publish starts from the older state and still catches up.
    pub.rollback(published_dir)
    pub.publish(working, published_dir, keep=3)
    assert _state_built(readers_path) == "incremental"
    _assert_published_equals_working(readers_path, working)

    # A full refresh changes everything: the next state is a full copy.
    transform(warehouse=working, full_refresh=True)
    pub.publish(working, published_dir, keep=3)
    assert _state_built(readers_path) == "full"
    _assert_published_equals_working(readers_path, working)

    # Marts edited outside a transform run: the size check falls back to a full copy.
    con = connect(working)
    con.execute("delete from marts.fct_account_daily where platform = 'youtube'")
    con.close()
    pub.publish(working, published_dir, keep=3)
    assert _state_built(readers_path) == "full"
    _assert_published_equals_working(readers_path, working)
