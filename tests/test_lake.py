"""storage = "delta": marts on Delta Lake tables that Dask workers read and write (issue 23).

The acceptance test runs one sample landing (late days, re-exports and the generator's other
faults) night by night through the default path and through the lake on a local 2-worker Dask
cluster, and compares what readers get. The unit tests pin the storage bucket and the lake's
commits under concurrency and failure.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import threading
from datetime import date, timedelta
from pathlib import Path

import duckdb
import polars as pl
import pytest
from polars.testing import assert_frame_equal

from flows.nightly import nightly
from flows.transform import transform
from schemas.marts import MARTS
from tests.conftest import START, generated_landing, read_table
from warehouse import lake as lk
from warehouse.lake_publish import manifest_of, vacuum
from warehouse.publish import PUBLISHED_NAME, current_state, published_states, rollback

# --- the storage bucket ------------------------------------------------------------------------

# Computed outside Python from the definition (SHA-256 of "platform:account_id", its first
# 8 bytes as a big-endian unsigned integer, modulo N): `printf %s instagram:123 | sha256sum`
# starts d8f09518058aff68 = 15632158237007740776, which is 104 modulo 256 and 8 modulo 16.
# A change of hash moves every account's files: these must never change.
GOLDEN_BUCKETS = {
    ("instagram", "123", 256): 104,
    ("instagram", "123", 16): 8,
    ("tiktok", "7012345678901234567", 256): 156,  # fa328e58393de49c
    ("tiktok", "7012345678901234567", 16): 12,
    ("youtube", "UCBq7MKD9skfp2Me4ort7mQv", 256): 234,  # f10b892d63791cea
}


@pytest.mark.parametrize(("platform", "account_id", "buckets"), list(GOLDEN_BUCKETS))
def test_the_storage_bucket_is_the_specified_hash_in_python_and_in_duckdb(
    platform, account_id, buckets
):
    expected = GOLDEN_BUCKETS[(platform, account_id, buckets)]
    assert lk.account_bucket(platform, account_id, buckets) == expected
    ((in_sql,),) = duckdb.execute(
        f"select {lk.bucket_sql(buckets, '$1', '$2')}", [platform, account_id]
    ).fetchall()
    assert in_sql == expected


def test_buckets_spread_accounts_evenly():
    counts = [0] * 16
    for number in range(4_000):
        counts[lk.account_bucket("instagram", str(number), 16)] += 1
    assert min(counts) > 200 and max(counts) < 300  # 250 each on average


# --- commits: concurrency and failure -----------------------------------------------------------


def _daily_rows(accounts: list[str], day: date, followers: int) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "platform": ["instagram"] * len(accounts),
            "account_id": accounts,
            "date": [day] * len(accounts),
            "followers": [followers] * len(accounts),
        }
    )


def _accounts_in(bucket: int, buckets: int, count: int) -> list[str]:
    found = [
        str(n) for n in range(10_000) if lk.account_bucket("instagram", str(n), buckets) == bucket
    ]
    return found[:count]


@pytest.fixture
def lake(tmp_path):
    lake = lk.Lake(str(tmp_path / "lake"), buckets=8)
    lake.ensure(_staging_schemas())
    return lake


def _staging_schemas():
    from warehouse.schema import apply_ddl

    con = duckdb.connect()
    apply_ddl(con)
    return lk.staging_schemas(con)


def _replace_bucket(lake, bucket, followers, *, after_read=None, attempts=3):
    con = duckdb.connect()
    try:
        return lake.replace(
            con,
            lk.MART_TABLES["fct_account_daily"],
            _daily_rows(_accounts_in(bucket, lake.buckets, 3), date(2026, 1, 5), followers),
            where=f"account_bucket IN ({bucket})",
            after_read=after_read,
            attempts=attempts,
        )
    finally:
        con.close()


def _daily(lake) -> pl.DataFrame:
    return pl.read_delta(lake.uri(lk.MART_TABLES["fct_account_daily"]))


def test_concurrent_commits_to_disjoint_buckets_all_succeed(lake):
    errors: list[BaseException] = []

    def write(bucket):
        try:
            _replace_bucket(lake, bucket, 1_000 + bucket)
        except BaseException as error:  # reported below
            errors.append(error)

    threads = [threading.Thread(target=write, args=(b,)) for b in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    daily = _daily(lake)
    assert daily.height == 8 * 3
    assert sorted(daily.group_by("account_bucket").agg(pl.col("followers").max()).rows()) == [
        (b, 1_000 + b) for b in range(8)
    ]


def test_a_clash_on_one_bucket_is_retried_on_the_new_version(lake):
    _replace_bucket(lake, 2, 10)
    clashed = []

    def concurrent_writer():
        if not clashed:  # once: another writer commits the same bucket after our read
            clashed.append(True)
            _replace_bucket(lake, 2, 20)

    retries = _replace_bucket(lake, 2, 30, after_read=concurrent_writer)
    assert retries == 1
    assert _daily(lake)["followers"].to_list() == [30, 30, 30]


def test_a_clash_that_keeps_happening_fails_loudly(lake):
    _replace_bucket(lake, 2, 10)
    with pytest.raises(
        lk.LakeConflict, match=r"fct_account_daily: 2 commits .*account_bucket IN \(2\)"
    ):
        _replace_bucket(lake, 2, 30, after_read=lambda: _replace_bucket(lake, 2, 20), attempts=2)
    assert set(_daily(lake)["followers"]) == {20}  # the other writer's rows, whole


def test_a_failed_run_restores_every_table_it_committed_to(lake):
    _replace_bucket(lake, 1, 10)
    before = lake.versions()
    with pytest.raises(RuntimeError, match="injected"), lake.working_run("r1"):
        _replace_bucket(lake, 1, 99)
        _replace_bucket(lake, 3, 99)
        raise RuntimeError("injected")
    assert not lake.running()
    assert set(_daily(lake)["followers"]) == {10}
    assert _daily(lake).height == 3
    moved = {k for k, v in lake.versions().items() if v != before[k]}
    assert moved == {"marts.fct_account_daily"}  # restored: a new version equal to the old


def test_a_killed_run_is_restored_by_the_next(lake):
    _replace_bucket(lake, 1, 10)
    run = lake.working_run("killed")
    run.__enter__()  # the process dies inside: no exit, the marker stays
    _replace_bucket(lake, 1, 99)
    assert lake.running()
    with lake.working_run("next"):
        assert set(_daily(lake)["followers"]) == {10}


def test_a_lake_keeps_its_bucket_count(lake):
    with pytest.raises(lk.LakeError, match=r"created with 8 buckets.*lake_buckets = 8"):
        lk.Lake(lake.root, buckets=16).ensure(_staging_schemas())


# --- the acceptance run: three nights, both paths ------------------------------------------------

ACCOUNTS, DAYS = 200, 40
DATED = re.compile(r"(\d{4}-\d{2}-\d{2})")


def _night_of(relative: Path) -> int:
    """Night 1 brings every day but the last two, night 2 the next day and the late files,
    night 3 the last day; files without a date (owned analytics etc.) come on night 1."""
    if relative.parts[0] == "late":
        return 2
    found = DATED.search(str(relative))
    if not found:
        return 1
    day = (date.fromisoformat(found.group(1)) - START).days
    return max(1, day - (DAYS - 3) + 1)


def _land(source: Path, landing: Path, night: int) -> None:
    for path in source.rglob("*"):
        relative = path.relative_to(source)
        if path.is_file() and _night_of(relative) == night:
            target = landing / relative
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(path, target)


def _published_marts(published: Path) -> dict[str, pl.DataFrame]:
    return {
        m.name: read_table(published, f"select * from marts.{m.name}").sort(
            [c.name for c in m.columns]
        )
        for m in MARTS
    }


def _files_of(state: Path) -> set[str]:
    """The Parquet files a published state's views read (its manifest)."""
    return set(
        read_table(state, "select file from meta.lake_manifest where file is not null")["file"]
    )


def _assert_same(left: dict[str, pl.DataFrame], right: dict[str, pl.DataFrame]) -> None:
    for name, frame in left.items():
        assert_frame_equal(right[name], frame, check_exact=False, rel_tol=1e-9), name


@pytest.fixture(scope="module")
def cluster():
    from distributed import LocalCluster

    with LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
    ) as local:
        yield local


def test_three_nights_on_the_lake_publish_what_the_default_path_does(
    tmp_path_factory, cluster, monkeypatch
):
    from distributed import Client, get_task_stream

    monkeypatch.setenv("INFLOW_ORCHESTRATION", "direct")
    source = generated_landing(tmp_path_factory, accounts=ACCOUNTS, days=DAYS, seed=23, faults=True)
    root = tmp_path_factory.mktemp("paths")
    landing = root / "landing"
    default = {"warehouse": root / "d" / "w.duckdb", "published_dir": root / "d" / "published"}
    on_lake = {
        "warehouse": root / "l" / "w.duckdb",
        "published_dir": root / "l" / "published",
        "storage": "delta",
        "lake_path": str(root / "l" / "lake"),
        "lake_buckets": 16,
        "task_runner": "dask",
        "dask_address": cluster.scheduler_address,
        "dask_workers": 2,
        # Several partitions for 200 accounts, so that both workers commit concurrently.
        "partition_accounts": 30,
    }
    lake = lk.Lake(on_lake["lake_path"], 16)
    nights: list[dict[str, pl.DataFrame]] = []
    with Client(cluster.scheduler_address) as client:
        for night in (1, 2, 3):
            _land(source, landing, night)
            today = START + timedelta(days=DAYS - 3 + night)
            nightly(landing=landing, today=today, **default)
            with get_task_stream(client) as stream:
                summary = nightly(landing=landing, today=today, **on_lake)
            assert summary.accounts_rebuilt > 0
            workers = {r["worker"] for r in stream.data if "partition" in str(r["key"])}
            assert len(workers) == 2, "both workers should build and commit partitions"
            expected = _published_marts(default["published_dir"] / PUBLISHED_NAME)
            published = on_lake["published_dir"] / PUBLISHED_NAME
            got = _published_marts(published)
            assert expected["fct_account_daily"].height > 0
            _assert_same(expected, got)
            nights.append(expected)
            if night == 1:
                night_1_files = _files_of(published)
            # The published file holds views over the lake's files, no rows of its own.
            ((views,),) = (
                duckdb.connect(str(published), read_only=True)
                .execute("select count(*) from duckdb_views() where schema_name = 'marts'")
                .fetchall()
            )
            assert views == len(MARTS)

        # A rerun of the night (nothing new landed) changes nothing: no table moves.
        versions = lake.versions()
        nightly(landing=landing, today=today, **on_lake)
        assert lake.versions() == versions
        _assert_same(nights[-1], _published_marts(on_lake["published_dir"] / PUBLISHED_NAME))

    # keep = 3: the rerun's state and nights 2 and 3; the rerun's publish pruned night 1's
    # state and vacuumed the files only it read. Every kept state reads in full, each what its
    # night published, and all its files are there.
    states = published_states(on_lake["published_dir"])
    assert len(states) == 3
    assert manifest_of(states[1]) != manifest_of(states[0])  # night 3 moved the marts on
    assert manifest_of(states[2]) == manifest_of(states[1])  # the rerun moved nothing
    for state, expected in zip(states, [nights[1], nights[2], nights[2]], strict=True):
        _assert_same(expected, _published_marts(state))
    kept = set().union(*(_files_of(s) for s in states))
    assert all(Path(f).exists() for f in kept)
    only_night_1 = night_1_files - kept
    assert only_night_1, "night 2 and 3 replaced some of night 1's files"
    assert not any(Path(f).exists() for f in only_night_1)
    assert vacuum(lake, on_lake["published_dir"]) == 0  # nothing left to vacuum

    # Roll back twice: readers get night 2 again, and no data was copied for it.
    rollback(on_lake["published_dir"])
    rollback(on_lake["published_dir"])
    assert current_state(on_lake["published_dir"]) == states[0]
    vacuum(lake, on_lake["published_dir"])
    _assert_same(nights[1], _published_marts(on_lake["published_dir"] / PUBLISHED_NAME))
    assert all(Path(f).exists() for f in _files_of(states[0]))

    # The DuckDB 1.5 CLI (what a BI user has) reads the views file without any extension.
    cli = Path(sys.executable).parent / "duckdb"
    out = subprocess.run(
        [
            str(cli),
            "-readonly",
            str(on_lake["published_dir"] / PUBLISHED_NAME),
            "-csv",
            "-c",
            "select count(*) as n from marts.fct_account_daily",
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["n", str(nights[1]["fct_account_daily"].height)]


def test_a_transform_that_fails_midway_leaves_the_lake_and_its_views_as_they_were(
    tmp_path_factory, monkeypatch
):
    import flows.transform as transform_module
    from flows.ingest import ingest

    monkeypatch.setenv("INFLOW_ORCHESTRATION", "direct")
    landing = generated_landing(tmp_path_factory, accounts=60, days=20, seed=5)
    root = tmp_path_factory.mktemp("failing")
    warehouse = root / "w.duckdb"
    ingest(landing=landing, warehouse=warehouse)
    on_lake = {"storage": "delta", "lake_path": str(root / "lake"), "lake_buckets": 8}
    transform(warehouse=warehouse, partition_accounts=15, **on_lake)
    before = _published_marts(warehouse)  # the warehouse's views of the lake
    assert before["fct_account_daily"].height > 0

    # A full refresh empties every mart, the first partitions commit their buckets, then a
    # partition fails: every table goes back to where the run started.
    built = []
    real = transform_module.build_partition_rows

    def failing(*args, **kwargs):
        built.append(1)
        if len(built) == 3:
            raise RuntimeError("injected: a partition failed")
        return real(*args, **kwargs)

    monkeypatch.setattr(transform_module, "build_partition_rows", failing)
    with pytest.raises(RuntimeError, match="injected"):
        transform(warehouse=warehouse, full_refresh=True, partition_accounts=15, **on_lake)
    lake = lk.Lake(on_lake["lake_path"], 8)
    assert not lake.running()
    _assert_same(before, _published_marts(warehouse))
    for name, frame in before.items():  # the tables themselves, not only the views
        stored = pl.read_delta(lake.uri(lk.MART_TABLES[name]))
        assert stored.height == frame.height, name

    monkeypatch.setattr(transform_module, "build_partition_rows", real)
    transform(warehouse=warehouse, full_refresh=True, partition_accounts=15, **on_lake)
    _assert_same(before, _published_marts(warehouse))


def test_compaction_rewrites_closed_months_only_and_keeps_pinned_versions_readable(lake, tmp_path):
    from warehouse.connect import connect
    from warehouse.lake_publish import compact_months
    from warehouse.schema import apply_ddl

    spec = lk.MART_TABLES["fct_account_daily"]
    con = duckdb.connect()
    accounts = _accounts_in(1, lake.buckets, 3)
    for day in (date(2026, 1, 5), date(2026, 1, 6), date(2026, 2, 2), date(2026, 2, 3)):
        lake.append(con, spec, _daily_rows(accounts, day, day.day))  # a file per append
    before = lake.open(spec).version()
    files_before = lake.files(spec)
    rows_before = _daily(lake).sort("date", "account_id")
    assert len(files_before) == 4

    warehouse = tmp_path / "w.duckdb"
    with connect(warehouse) as wcon:
        apply_ddl(wcon)
    removed = compact_months(lake, warehouse, date(2026, 2, 1))

    assert removed["marts.fct_account_daily"] == 2  # January's two files, not February's
    after = lake.files(spec)
    assert len(after) == 3
    assert {f for f in files_before if "month=2026-02-01" in f} <= set(after)
    assert_frame_equal(_daily(lake).sort("date", "account_id"), rows_before)
    # The version a published state pinned still reads (its files are only vacuumed once no
    # kept state reads them), and the warehouse's views follow the compacted version.
    pinned = pl.from_arrow(lake.open(spec, before).to_pyarrow_table())
    assert pinned.height == rows_before.height
    assert (
        read_table(warehouse, "select count(*) as n from marts.fct_account_daily")["n"].item() == 12
    )


def test_the_commands_run_on_the_lake_as_configured(tmp_path_factory, monkeypatch):
    from typer.testing import CliRunner

    from cli.app import app

    runner = CliRunner()
    monkeypatch.setenv("INFLOW_ORCHESTRATION", "direct")
    landing = generated_landing(tmp_path_factory, accounts=30, days=40, seed=9)
    root = tmp_path_factory.mktemp("cli")
    monkeypatch.chdir(root)
    monkeypatch.setenv("INFLOW_LANDING", str(landing))

    # Without a lake the lake commands say so; a URL is refused in one line.
    vacuumed = runner.invoke(app, ["lake", "vacuum"])
    assert vacuumed.exit_code == 2 and 'storage is "duckdb"' in vacuumed.output
    (root / "inflow.toml").write_text('storage = "delta"\nlake_path = "s3://bucket/lake"\n')
    refused = runner.invoke(app, ["lake", "vacuum"])
    assert refused.exit_code == 2 and "object-store URLs are not supported" in refused.output

    (root / "inflow.toml").write_text('storage = "delta"\nlake_path = "lake"\nlake_buckets = 4\n')
    for command in (["ingest"], ["transform"], ["publish"]):
        result = runner.invoke(app, command)
        assert result.exit_code == 0, (command, result.output)
    assert (root / "lake" / "marts" / "fct_account_daily" / "_delta_log").is_dir()
    counted = runner.invoke(
        app, ["sql", "select count(*) as n from marts.fct_account_daily", "--format", "csv"]
    )
    assert counted.exit_code == 0, counted.output
    assert counted.output.split() == ["n", str(30 * 40)]

    compacted = runner.invoke(app, ["lake", "compact", "--before", "2026-02"])
    assert compacted.exit_code == 0, compacted.output
    assert "compacted the months before 2026-02" in compacted.output
    vacuumed = runner.invoke(app, ["lake", "vacuum"])
    assert vacuumed.exit_code == 0 and "vacuumed:" in vacuumed.output
    # The published state pins the pre-compaction files: vacuum kept them.
    again = runner.invoke(
        app, ["sql", "select count(*) as n from marts.fct_account_daily", "--format", "csv"]
    )
    assert again.output.split() == ["n", str(30 * 40)]
    # Readers' SQL may read the lake's files through the views, and nothing else.
    secret = root / "secret.csv"
    secret.write_text("a\n1\n")
    for statement, reason in {
        f"select * from read_csv('{secret}')": "disabled",
        f"copy marts.dim_account to '{root / 'lake' / 'leak.csv'}'": "only SELECT",
        "set enable_external_access = true": "only SELECT",
    }.items():
        result = runner.invoke(app, ["sql", statement])
        assert result.exit_code == 1 and reason in result.output, (statement, result.output)
    assert not (root / "lake" / "leak.csv").exists()

    # A lake keeps its bucket count: another one is refused in one line, nothing changed.
    versions = lk.Lake(str(root / "lake"), 4).versions()
    (root / "inflow.toml").write_text('storage = "delta"\nlake_path = "lake"\nlake_buckets = 8\n')
    refused = runner.invoke(app, ["transform", "--full-refresh"])
    assert refused.exit_code == 2, refused.output
    assert "created with 4 buckets" in refused.output and "Traceback" not in refused.output
    assert lk.Lake(str(root / "lake"), 4).versions() == versions
    (root / "inflow.toml").write_text('storage = "delta"\n')
    missing = runner.invoke(app, ["transform"])
    assert missing.exit_code == 2 and "needs lake_path" in missing.output


def test_switching_storage_back_and_forth_rebuilds_what_the_other_path_missed(
    tmp_path_factory, monkeypatch
):
    from flows.ingest import ingest

    monkeypatch.setenv("INFLOW_ORCHESTRATION", "direct")
    source = generated_landing(tmp_path_factory, accounts=30, days=DAYS, seed=17)
    root = tmp_path_factory.mktemp("switching")
    landing, reference_landing = root / "landing", root / "reference-landing"
    warehouse, reference = root / "w.duckdb", root / "reference.duckdb"
    on_lake = {"storage": "delta", "lake_path": str(root / "lake"), "lake_buckets": 4}
    # Night 1 on the lake, night 2 in the warehouse file, night 3 on the lake again: the lake
    # missed night 2 and must not build night 3 on top of its stale marts.
    for night, storage in ((1, on_lake), (2, {}), (3, on_lake)):
        _land(source, landing, night)
        ingest(landing=landing, warehouse=warehouse)
        transform(warehouse=warehouse, **storage)
    for night in (1, 2, 3):
        _land(source, reference_landing, night)
    ingest(landing=reference_landing, warehouse=reference)
    transform(warehouse=reference)
    _assert_same(_published_marts(reference), _published_marts(warehouse))
