"""Flow `ingest` on generated landing folders, checked against the simulated truth."""

from __future__ import annotations

import json
import shutil
from datetime import timedelta
from pathlib import Path

import polars as pl
import pytest

from flows.ingest import ingest
from sample import exports
from sample import simulate as sim
from sample.landing import MANIFEST_DIR, generate_landing
from tests.conftest import START, read_table

ACCOUNTS, DAYS, SEED = 40, 16, 5
STAGING = ("staging.follower_snapshots", "staging.post_snapshots", "staging.accounts")
RUN_SPECIFIC = ("ingest_run_id", "run_id", "ingested_at", "rejected_at")


@pytest.fixture(scope="module")
def landing(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("landing")
    generate_landing(
        out,
        accounts=ACCOUNTS,
        days=DAYS,
        seed=SEED,
        start=START,
        platforms=sim.PLATFORMS_ALL,
        faults=True,
    )
    return out


@pytest.fixture(scope="module")
def ingested(landing, tmp_path_factory, prefect_api) -> tuple[Path, object]:
    warehouse = tmp_path_factory.mktemp("wh") / "w.duckdb"
    summary = ingest(landing=landing, warehouse=warehouse)
    return warehouse, summary


def manifest(landing: Path) -> dict:
    return json.loads((landing / MANIFEST_DIR / "manifest.json").read_text())


def content(warehouse: Path, table: str) -> pl.DataFrame:
    """A table's rows, run-specific columns left out, in a stable order."""
    frame = read_table(warehouse, f"select * from {table}")
    frame = frame.drop([c for c in RUN_SPECIFIC if c in frame.columns])
    return frame.sort([c for c, t in frame.schema.items() if not isinstance(t, pl.List)])


def test_every_good_row_lands_once_with_the_true_values(landing, ingested):
    warehouse, _ = ingested
    world = sim.simulate(ACCOUNTS, DAYS, seed=SEED, start=START)
    faults = {f["kind"]: f for f in manifest(landing)["faults"]}
    hidden = world.accounts.filter("is_subscribers_hidden")["account_id"].to_list()
    negative = manifest(landing)["files"]
    negative_file = next(f for f in negative if f["path"] == faults["negative_counts"]["path"])
    staged = read_table(
        warehouse,
        "select account_id, snapshot_date, followers, source_file from staging.follower_snapshots",
    )
    assert staged.select(pl.struct("account_id", "snapshot_date").is_unique().all()).item()

    truth = world.followers.filter(~pl.col("account_id").is_in(hidden)).select(
        "account_id", "snapshot_date", "followers", "platform", "account_index", "day_index"
    )
    # The two negative-count rows are quarantined; that day of those accounts is missing.
    negative_day = START + timedelta(days=4)
    negative_platform = faults["negative_counts"]["path"].split("/")[0]
    day_rows = truth.filter(
        (pl.col("platform") == negative_platform) & (pl.col("snapshot_date") == negative_day)
    ).sort("account_index")
    missing = {
        (day_rows["account_id"][r["row"] - 1], negative_day) for r in negative_file["bad_rows"]
    }
    expected_keys = {
        (a, d) for a, d in truth.select("account_id", "snapshot_date").iter_rows()
    } - missing
    assert set(staged.select("account_id", "snapshot_date").iter_rows()) == expected_keys

    # Values: the simulated truth (YouTube's API rounds to 3 significant digits), except the
    # day re-exported in the evening (+1 + row % 50).
    reexport_day = START + timedelta(days=2)
    reexport_platform = faults["reexport"]["path"].split("/")[0]
    joined = staged.join(truth, on=["account_id", "snapshot_date"], suffix="_true").with_columns(
        pl.when(pl.col("source_file").str.contains("youtube_channels_"))
        .then(exports._round_3_significant("followers_true"))
        .otherwise(pl.col("followers_true"))
        .alias("followers_true")
    )
    is_reexport = (pl.col("platform") == reexport_platform) & (
        pl.col("snapshot_date") == reexport_day
    )
    assert (
        joined.filter(~is_reexport)
        .select((pl.col("followers") == pl.col("followers_true")).all())
        .item()
    )
    changed = joined.filter(is_reexport)
    assert changed.height > 0 and (changed["followers"] > changed["followers_true"]).all()


def test_every_bad_row_is_quarantined_with_a_reason(landing, ingested):
    warehouse, _ = ingested
    expected = {
        (f["path"], b["row"], b["rule"])
        for f in manifest(landing)["files"]
        if f["expect"] == "load"
        for b in f["bad_rows"]
    }
    rejected = read_table(
        warehouse,
        "select source_file, row_number, rule, reason, raw_record from quarantine.rejected_rows",
    )
    assert set(rejected.select("source_file", "row_number", "rule").iter_rows()) == expected
    assert rejected.height == len(expected)
    assert rejected.select((pl.col("reason").str.len_chars() > 10).all()).item()
    assert rejected.select(pl.col("raw_record").is_not_null().all()).item()


def test_files_that_cannot_be_read_are_recorded_failed_and_the_rest_loads(landing, ingested):
    warehouse, summary = ingested
    files = read_table(
        warehouse,
        "select path, status, error, rows_read, rows_loaded, rows_quarantined from meta.ingested_files",
    )
    expected_fail = {f["path"] for f in manifest(landing)["files"] if f["expect"] == "fail"}
    failed = files.filter(pl.col("status") == "failed")
    assert set(failed["path"]) == expected_fail
    assert failed.select(pl.col("error").str.len_chars() > 0).to_series().all()
    duplicates = files.filter(pl.col("status") == "duplicate")
    assert set(duplicates["path"]) == {
        f["path"] for f in manifest(landing)["files"] if f["expect"] == "duplicate"
    }
    assert summary.files_failed == len(expected_fail) and summary.status == "completed_with_errors"
    # read = loaded + quarantined, per file and in total.
    assert files.select(
        (pl.col("rows_read") == pl.col("rows_loaded") + pl.col("rows_quarantined")).all()
    ).item()
    loaded = files.filter(pl.col("status") == "loaded")
    rows_by_path = {f["path"]: f["rows"] for f in manifest(landing)["files"]}
    assert all(rows_by_path[p] == n for p, n in loaded.select("path", "rows_read").iter_rows())
    unknown = read_table(
        warehouse,
        "select ignored_columns from meta.ingested_files where path like '%canonical_instagram_followers_2026-01-10%'",
    )
    assert unknown["ignored_columns"].to_list() == [["favourite_emoji", "internal_note"]]


def test_ingesting_again_changes_nothing(ingested, landing):
    warehouse, _ = ingested
    before = {
        t: content(warehouse, t)
        for t in (*STAGING, "quarantine.rejected_rows", "meta.ingested_files")
    }
    summary = ingest(landing=landing, warehouse=warehouse)
    assert summary.files_loaded == 0 and summary.rows_read == 0
    assert summary.files_skipped == summary.files_seen
    for table, frame in before.items():
        assert content(warehouse, table).equals(frame), table
    runs = read_table(warehouse, "select status from meta.runs order by started_at")
    assert runs["status"].to_list() == ["completed_with_errors", "succeeded"]


def test_late_files_merge_as_if_they_had_come_in_order(landing, ingested, tmp_path):
    warehouse_all, _ = ingested
    staged = tmp_path / "landing"
    shutil.copytree(landing, staged, ignore=shutil.ignore_patterns("late"))
    warehouse = tmp_path / "w.duckdb"
    ingest(landing=staged, warehouse=warehouse)
    shutil.copytree(landing / "late", staged / "late")
    summary = ingest(landing=staged, warehouse=warehouse)
    assert summary.files_loaded == len(list((landing / "late").rglob("*.*")))
    for table in STAGING:
        drop = ["first_captured_at"] if table == "staging.accounts" else []
        assert (
            content(warehouse, table).drop(drop).equals(content(warehouse_all, table).drop(drop))
        ), table


def test_a_renamed_copy_is_not_loaded_twice_and_a_changed_file_is(landing, ingested, tmp_path):
    staged = tmp_path / "landing"
    some = sorted((landing / "tiktok").rglob("tiktok_users_*.jsonl"))[0]
    (staged / "a").mkdir(parents=True)
    shutil.copy(some, staged / "a" / some.name)
    warehouse = tmp_path / "w.duckdb"
    first = ingest(landing=staged, warehouse=warehouse)
    assert first.files_loaded == 1
    shutil.copy(some, staged / "a" / ("copy_" + some.name))
    second = ingest(landing=staged, warehouse=warehouse)
    assert (second.files_loaded, second.files_duplicate) == (0, 1)
    # Same path, new content (an export overwritten in place): loaded, and its values win.
    text = (staged / "a" / some.name).read_text().replace('"follower_count":', '"follower_count":1')
    (staged / "a" / some.name).write_text(text)
    third = ingest(landing=staged, warehouse=warehouse)
    assert third.files_loaded == 1
    counts = read_table(
        warehouse,
        "select count(*) as n, count(distinct account_id) as k from staging.follower_snapshots",
    )
    assert counts["n"].item() == counts["k"].item()  # one row per key still


def test_the_run_leaves_a_markdown_summary_artifact(ingested):
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterKey

    _, summary = ingested
    with get_client(sync_client=True) as client:
        artifacts = client.read_artifacts(
            artifact_filter=ArtifactFilter(key=ArtifactFilterKey(any_=["ingest-summary"]))
        )
    (artifact,) = [a for a in artifacts if str(a.flow_run_id) == summary.run_id]
    assert artifact.type == "markdown"
    assert "Files that could not be read" in artifact.data
    assert f"{summary.rows_quarantined:,}" in artifact.data


def test_cli_ingest_exits_1_naming_unreadable_files_and_status_shows_the_run(tmp_path, prefect_api):
    from typer.testing import CliRunner

    from cli.app import app

    landing = tmp_path / "landing"
    landing.mkdir()
    (landing / "ig_users_2026-03-02T031500Z.jsonl").write_text(
        '{"id": "1", "username": "a", "followers_count": 12}\n{"id": "2", "username": "b", "followers_count": -4}\n'
    )
    (landing / "broken_2026-03-02.jsonl").write_text("")
    warehouse = tmp_path / "w.duckdb"
    runner = CliRunner()
    result = runner.invoke(
        app, ["ingest", "--landing", str(landing), "--warehouse", str(warehouse)]
    )
    assert result.exit_code == 1
    assert "broken_2026-03-02.jsonl: file is empty" in result.output
    assert "1 loaded, 1 failed" in result.output
    status = runner.invoke(app, ["status", "--warehouse", str(warehouse)], env={"COLUMNS": "250"})
    assert status.exit_code == 0
    assert "completed_with_errors" in status.output and "negative_count" in status.output, (
        status.output
    )
    quarantined = runner.invoke(app, ["quarantine", "--warehouse", str(warehouse)])
    assert "is negative" in quarantined.output and "file is empty" in quarantined.output
    missing = runner.invoke(
        app, ["ingest", "--landing", str(tmp_path / "nowhere"), "--warehouse", str(warehouse)]
    )
    assert missing.exit_code == 2


def test_cli_ingest_applies_the_configured_file_size_limit(tmp_path, prefect_api):
    from typer.testing import CliRunner

    from cli.app import app

    landing = tmp_path / "landing"
    landing.mkdir()
    line = '{"id": "1", "username": "a", "followers_count": 12, "name": "' + "x" * 2_000 + '"}\n'
    (landing / "ig_users_2026-03-02T031500Z.jsonl").write_text(line * 600)  # about 1.2 MB
    runner = CliRunner(env={"INFLOW_MAX_FILE_MEGABYTES": "1"})
    result = runner.invoke(
        app, ["ingest", "--landing", str(landing), "--warehouse", str(tmp_path / "w.duckdb")]
    )
    assert result.exit_code == 1
    assert "larger than the 1,048,576-byte limit" in result.output


def test_a_batch_counts_the_bytes_files_hold_once_read(tmp_path):
    """Memory follows the rows read, not the bytes on disk: a gzip counts its inflated size
    (its trailer), a Parquet file its columns' uncompressed size (its footer), a broken
    header its size on disk; batches are cut on those."""
    import gzip

    import pyarrow.parquet as pq

    from flows.ingest import _batches
    from ingestion.discover import discover
    from ingestion.readers import uncompressed_bytes

    landing = tmp_path / "landing"
    landing.mkdir()
    text = (
        "platform,account_id,snapshot_date,followers\n" + "instagram,1,2026-01-01,5\n" * 40_000
    ).encode()
    (landing / "a.csv.gz").write_bytes(gzip.compress(text))
    frame = pl.DataFrame(
        {"account_id": [str(n % 7) for n in range(200_000)], "followers": range(200_000)}
    )
    frame.write_parquet(landing / "b.parquet", compression="zstd")
    (landing / "c.csv").write_bytes(text[:1000])
    (landing / "d.parquet").write_bytes(b"PAR1 not really")
    files = {f.relative: f for f in discover(landing)[0]}
    held = {name: uncompressed_bytes(f.path, f.bytes) for name, f in files.items()}
    assert held["a.csv.gz"] == len(text) > 50 * files["a.csv.gz"].bytes
    footer = pq.read_metadata(landing / "b.parquet")  # two row groups: both count
    columns = sum(footer.row_group(i).total_byte_size for i in range(footer.num_row_groups))
    assert footer.num_row_groups == 2
    assert held["b.parquet"] == columns > 2 * files["b.parquet"].bytes
    assert held["c.csv"] == 1000
    assert held["d.parquet"] == files["d.parquet"].bytes  # unreadable footer: its size
    # A budget the gzip alone exceeds once inflated: it gets a batch of its own.
    batches = _batches([files["a.csv.gz"], files["c.csv"]], max_bytes=len(text) // 2)
    assert [[f.relative for f in b] for b in batches] == [["a.csv.gz"], ["c.csv"]]
    assert len(_batches([files["a.csv.gz"], files["c.csv"]], max_bytes=2 * len(text))) == 1


def test_the_next_batch_is_read_while_the_current_one_is_written(monkeypatch):
    # prepared_ahead: batch N+1 is read (in a thread) while the caller holds batch N, the
    # known outcomes go with the first batch only, and a caller that stops (a batch failed)
    # reads nothing further.
    import threading
    from contextlib import closing

    import flows.ingest as flow_module

    calls: list[tuple[list[str], list[str]]] = []
    second_started = threading.Event()

    def fake_prepare_batch(files, run_id, *, extra_outcomes=(), max_bytes=0):
        calls.append((list(files), [o.path for o in extra_outcomes]))
        if files == ["b2"]:
            second_started.set()
        return f"batch of {files[0]}", list(extra_outcomes)

    monkeypatch.setattr(flow_module, "prepare_batch", fake_prepare_batch)
    known = [flow_module.FileOutcome("dup.csv", "", 0, "duplicate")]
    batches = [["b1"], ["b2"], ["b3"], ["b4"]]
    with closing(flow_module.prepared_ahead(batches, "run", known, 1)) as prepared:
        first = next(prepared)
        # Still holding the first batch: the second is already being read.
        assert second_started.wait(timeout=10)
        assert (first.batch, first.files, [o.path for o in first.outcomes]) == (
            "batch of b1",
            1,
            ["dup.csv"],
        )
        second = next(prepared)
        assert (second.batch, second.outcomes) == ("batch of b2", [])
    # Closed after two: the third was submitted ahead (cancelled if not yet started), the
    # fourth never.
    read = [files for files, _ in calls]
    assert read[:2] == [["b1"], ["b2"]] and read[2:] in ([], [["b3"]])
    assert [extra for _, extra in calls][:2] == [["dup.csv"], []]


def test_an_ingest_records_its_end_before_its_one_checkpoint(tmp_path, monkeypatch):
    # recorded_run(keep_open=True): the run's record is finished while the database is still
    # held open, so that write only appends to the WAL and the one checkpoint at the end takes
    # it along (recorded after, it reopened the database and checkpointed it again).
    import flows.runs as runs
    from warehouse.connect import connect

    warehouse = tmp_path / "w.duckdb"
    wal = Path(f"{warehouse}.wal")
    seen: list[bool] = []
    finish = runs._finish

    def finish_and_look(*args, **kwargs):
        finish(*args, **kwargs)
        seen.append(wal.exists())

    monkeypatch.setattr(runs, "_finish", finish_and_look)
    landing = tmp_path / "landing"
    landing.mkdir()
    (landing / "a.csv").write_text(
        "platform,account_id,snapshot_date,captured_at,followers\n"
        "instagram,1,2026-01-01,2026-01-01T03:00:00Z,12000\n"
    )
    summary = ingest(landing=landing, warehouse=warehouse)
    assert summary.rows_loaded == 1
    assert seen == [True]  # the record's commit went to the WAL, not a checkpoint of its own
    assert not wal.exists()  # and the run's one checkpoint took it along
    with connect(warehouse, read_only=True) as con:
        assert con.execute("select status, files_loaded from meta.runs").fetchall() == [
            ("succeeded", 1)
        ]


def test_next_ready_says_whether_the_following_batch_is_read(monkeypatch):
    # prepared_ahead: each batch tells whether the one after it is read yet (the flow
    # checkpoints instead of waiting when it is not); the last batch has none to wait for.
    import threading
    from contextlib import closing

    import flows.ingest as flow_module

    release = threading.Event()

    def fake_prepare_batch(files, run_id, *, extra_outcomes=(), max_bytes=0):
        if files == ["b2"]:
            assert release.wait(timeout=10)
        return f"batch of {files[0]}", list(extra_outcomes)

    monkeypatch.setattr(flow_module, "prepare_batch", fake_prepare_batch)
    with closing(flow_module.prepared_ahead([["b1"], ["b2"]], "run", [], 1)) as prepared:
        first = next(prepared)
        assert not first.next_ready()  # b2 is still being read
        release.set()
        second = next(prepared)
        assert first.next_ready()
        assert second.next_ready()  # nothing follows


@pytest.mark.parametrize("slower", ["reader", "writer"])
def test_the_writer_checkpoints_while_it_waits_for_the_reader(tmp_path, monkeypatch, slower):
    # A writer with nothing to write (the next batch still being read) checkpoints meanwhile,
    # so that the run's last checkpoint is left only what came since; a writer that never
    # waits never does. Either way every row lands.
    import time

    import flows.ingest as flow_module

    landing = tmp_path / "landing"
    landing.mkdir()
    for day in (1, 2, 3):
        (landing / f"followers_{day}.csv").write_text(
            "platform,account_id,snapshot_date,captured_at,followers\n"
            f"instagram,1,2026-01-0{day},2026-01-0{day}T03:00:00Z,1200{day}\n"
        )
    checkpoints: list[int] = []
    real_checkpoint, real_prepare, real_load = (
        flow_module.checkpoint,
        flow_module.prepare_batch,
        flow_module.load_batch,
    )

    def counted_checkpoint(warehouse, limits, vacuum=False):
        assert not vacuum  # appends only: nothing to vacuum
        checkpoints.append(len(loaded))
        real_checkpoint(warehouse, limits, vacuum=vacuum)

    def prepare_batch(files, *args, **kwargs):
        if slower == "reader" and "followers_1.csv" not in files[0].relative:
            time.sleep(1.0)
        return real_prepare(files, *args, **kwargs)

    loaded: list[int] = []

    def load_batch(con, batch, now):
        if slower == "writer":
            time.sleep(1.0)
        replaced = real_load(con, batch, now)
        loaded.append(batch.followers.num_rows)
        return replaced

    monkeypatch.setattr(flow_module, "checkpoint", counted_checkpoint)
    monkeypatch.setattr(flow_module, "prepare_batch", prepare_batch)
    monkeypatch.setattr(flow_module, "load_batch", load_batch)
    warehouse = tmp_path / "w.duckdb"
    summary = ingest(landing=landing, warehouse=warehouse, batch_megabytes=0)
    assert summary.batches == 3 and summary.rows_loaded == 3
    # After the first and second batches the reader was still busy; never after the last.
    assert checkpoints == ([1, 2] if slower == "reader" else [])
    assert read_table(warehouse, "select followers from staging.follower_snapshots order by 1")[
        "followers"
    ].to_list() == [12001, 12002, 12003]


def _vacuums_asked(monkeypatch) -> list[bool]:
    """The flow's checkpoints, each still run, recorded as whether it was asked to vacuum."""
    import flows.ingest as flow_module

    asked: list[bool] = []
    real_checkpoint = flow_module.checkpoint

    def checkpoint(warehouse, limits, vacuum=False):
        asked.append(vacuum)
        real_checkpoint(warehouse, limits, vacuum=vacuum)

    monkeypatch.setattr(flow_module, "checkpoint", checkpoint)
    return asked


def _follower_csv(path: Path, accounts: range, day: int, hour: int, followers: int) -> None:
    path.write_text(
        "platform,account_id,snapshot_date,captured_at,followers\n"
        + "".join(
            f"instagram,{a},2026-01-0{day},2026-01-0{day}T{hour:02}:00:00Z,{followers + a}\n"
            for a in accounts
        )
    )


@pytest.mark.parametrize("replaced_in", ["the last batch", "a batch the writer waits after"])
def test_an_ingest_that_replaces_staged_rows_vacuums_them(tmp_path, monkeypatch, replaced_in):
    # An ingest's checkpoints skip DuckDB's vacuum (warehouse.connect.kept_open), except the
    # first after a batch replaced staged snapshots: the replaced rows leave the file, whether
    # the run's last checkpoint or one taken while the writer waits for the reader follows.
    import time

    import flows.ingest as flow_module
    from warehouse.connect import connect

    warehouse = tmp_path / "w.duckdb"
    first, second = tmp_path / "first", tmp_path / "second"
    first.mkdir()
    second.mkdir()
    _follower_csv(first / "a.csv", range(1000), day=1, hour=3, followers=12000)
    ingest(landing=first, warehouse=warehouse)
    # Later captures of the same day for half the accounts: they replace 500 staged rows.
    _follower_csv(second / "a_later.csv", range(0, 1000, 2), day=1, hour=9, followers=13000)
    if replaced_in == "a batch the writer waits after":
        _follower_csv(second / "b_next_day.csv", range(1000), day=2, hour=3, followers=14000)
    vacuumed = _vacuums_asked(monkeypatch)
    real_prepare = flow_module.prepare_batch

    def prepare_batch(files, *args, **kwargs):
        if "b_next_day" in files[0].relative:
            time.sleep(1.0)  # the writer checkpoints while it waits
        return real_prepare(files, *args, **kwargs)

    monkeypatch.setattr(flow_module, "prepare_batch", prepare_batch)
    ingest(landing=second, warehouse=warehouse, batch_megabytes=0)
    assert vacuumed == [True]
    with connect(warehouse, read_only=True) as con:
        staged = con.execute(
            "select count(*), count(*) filter (where followers >= 13000 and followers < 14000) "
            "from staging.follower_snapshots where snapshot_date = '2026-01-01'"
        ).fetchall()
        assert staged == [(1000, 500)]
        ((stored,),) = con.execute(
            "select sum(count) from pragma_storage_info('staging.follower_snapshots') "
            "where column_id = 0 and segment_type <> 'VALIDITY'"
        ).fetchall()
    # Without the vacuum the 500 replaced rows stay stored beside the 500 that replaced them.
    live = 1000 if replaced_in == "the last batch" else 2000
    assert stored == live


def test_a_campaign_swap_that_deletes_rows_asks_for_a_vacuum(tmp_path, monkeypatch):
    # Campaign definitions are swapped whole: a changed file deletes the staged ones, so the
    # run's last checkpoint vacuums; the first load deletes nothing and appends only.
    import yaml

    from tests.test_campaigns import GLOW

    landing, warehouse = tmp_path / "landing", tmp_path / "w.duckdb"
    (landing / "campaigns").mkdir(parents=True)
    vacuumed = _vacuums_asked(monkeypatch)
    for end_date, expected in (("2026-03-31", []), ("2026-04-15", [True])):
        (landing / "campaigns" / "glow.yaml").write_text(
            yaml.safe_dump(GLOW | {"end_date": end_date})
        )
        vacuumed.clear()
        ingest(landing=landing, warehouse=warehouse)
        assert vacuumed == expected
    assert read_table(warehouse, "select end_date::varchar as d from staging.campaigns")[
        "d"
    ].to_list() == ["2026-04-15"]
