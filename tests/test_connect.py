"""DuckDB connections: limits passed in (never read from the environment), one transaction idiom."""

import os

import duckdb
import pytest

from warehouse import connect as wc
from warehouse.marts import spill_folder


def _setting(con, name: str) -> str:
    return con.execute("select current_setting($1)::varchar", [name]).fetchall()[0][0]


def test_limits_passed_in_apply_to_the_connection(tmp_path):
    limits = wc.DuckDBLimits(memory_limit="512MB", threads=1, temp_directory=tmp_path / "spill")
    with wc.connect(tmp_path / "w.duckdb", limits=limits) as con:
        assert _setting(con, "threads") == "1"
        assert _setting(con, "memory_limit") in {"488.2 MiB", "512.0 MB", "488.2MiB"}
        assert _setting(con, "temp_directory").endswith("spill")
    with wc.connect(tmp_path / "w.duckdb") as con:
        assert _setting(con, "threads") == str(os.cpu_count())


def test_the_environment_sets_no_limit_by_itself(tmp_path, monkeypatch):
    """Settings read INFLOW_DUCKDB_*; the connection takes only what it is given."""
    monkeypatch.setenv("INFLOW_DUCKDB_THREADS", "1")
    with wc.connect(tmp_path / "w.duckdb") as con:
        assert _setting(con, "threads") == str(os.cpu_count())
    from flows.settings import Settings

    assert Settings().duckdb_limits() == wc.DuckDBLimits(threads=1)


def test_the_spill_folder_follows_the_connections_temp_directory(tmp_path):
    with wc.connect(tmp_path / "w.duckdb") as con:
        assert spill_folder(con) == tmp_path
    limits = wc.DuckDBLimits(temp_directory=tmp_path / "elsewhere")
    with wc.connect(tmp_path / "w.duckdb", limits=limits) as con:
        assert spill_folder(con) == tmp_path / "elsewhere"


def test_a_transaction_commits_its_block_or_nothing(tmp_path):
    with wc.connect(tmp_path / "w.duckdb") as con:
        con.execute("create table t (x integer)")
        with wc.transaction(con):
            con.execute("insert into t values (1)")
        with pytest.raises(RuntimeError), wc.transaction(con):
            con.execute("insert into t values (2)")
            raise RuntimeError("a failed step")
        with pytest.raises(duckdb.Error), wc.transaction(con):
            con.execute("insert into t values (3)")
            con.execute("insert into t values ('not a number')")
        assert con.execute("select list(x) from t").fetchall() == [([1],)]
        # The connection is usable after a rollback.
        with wc.transaction(con):
            con.execute("insert into t values (4)")
        assert con.execute("select list(x order by x) from t").fetchall() == [([1, 4],)]


def test_the_nightly_flow_opens_every_connection_with_its_duckdb_limits(
    tmp_path_factory, prefect_api, monkeypatch
):
    """What a deployment's parameters do: prefect.yaml sets duckdb_memory_limit for the night."""
    from flows.nightly import nightly
    from tests.conftest import generated_landing

    opened: list[dict] = []
    real_connect = wc.duckdb.connect

    def recording_connect(database, *args, config=None, **kwargs):
        opened.append(dict(config or {}))
        return real_connect(database, *args, config=config, **kwargs)

    monkeypatch.setattr(wc.duckdb, "connect", recording_connect)
    landing = generated_landing(tmp_path_factory, accounts=40, days=10, seed=8)
    root = tmp_path_factory.mktemp("limited")
    nightly(
        landing=landing,
        warehouse=root / "w.duckdb",
        published_dir=root / "published",
        duckdb_memory_limit="300MB",
        duckdb_threads=1,
    )
    pipeline = [config for config in opened if "preserve_insertion_order" in config]
    assert len(pipeline) >= 4  # ingest, validate, transform, publish at least
    assert all(c["memory_limit"] == "300MB" and c["threads"] == "1" for c in pipeline)


def test_the_ddl_runs_in_full_once_per_version_of_it(tmp_path):
    """apply_ddl keeps the fingerprint of the DDL it applied: while it matches, nothing runs
    (every command used to pay 0.3 s for ~50 idempotent scripts); an older fingerprint (a new
    inflow version) applies everything again, creating what is missing."""
    from warehouse.schema import apply_ddl, ddl_fingerprint

    def tables(con) -> set[str]:
        listed = con.execute("select schema_name || '.' || table_name from duckdb_tables()")
        return {name for (name,) in listed.fetchall()}

    with wc.connect(tmp_path / "w.duckdb") as con:
        apply_ddl(con)
        assert con.execute("select * from meta.ddl_applied").fetchall() == [(ddl_fingerprint(),)]
        created = tables(con)
        assert {"meta.runs", "meta.ingested_files", "marts.dim_account"} <= created
        con.execute("drop table meta.ingested_files")
        apply_ddl(con)  # the same version: skipped, so the dropped table stays dropped
        assert "meta.ingested_files" not in tables(con)
        con.execute("update meta.ddl_applied set fingerprint = 'an older inflow'")
        apply_ddl(con)
        assert tables(con) == created
        assert con.execute("select * from meta.ddl_applied").fetchall() == [(ddl_fingerprint(),)]


def test_the_ddl_applies_in_full_or_not_at_all(tmp_path, monkeypatch):
    """One transaction: a failure midway (here the marts' DDL, after every hand-written file ran)
    leaves no schema half made, and the next run applies everything."""
    from warehouse import schema

    def broken(con):
        raise duckdb.Error("the disk is full")

    with wc.connect(tmp_path / "w.duckdb") as con:
        monkeypatch.setattr(schema, "apply_mart_ddl", broken)
        with pytest.raises(duckdb.Error, match="disk is full"):
            schema.apply_ddl(con)
        listed = con.execute("select count(*) from duckdb_tables()").fetchone()
        assert listed == (0,)
        monkeypatch.undo()
        schema.apply_ddl(con)
        found = con.execute("select schema_name || '.' || table_name from duckdb_tables()")
        assert {"meta.runs", "marts.dim_account"} <= {name for (name,) in found.fetchall()}


def _row_groups(con, table: str) -> tuple[int, int]:
    """(row groups, rows stored: deleted ones too) of a table, from DuckDB's storage info."""
    ((groups, stored),) = con.execute(
        "select count(distinct row_group_id), "
        "sum(count) filter (where column_id = 0 and segment_type <> 'VALIDITY') "
        "from pragma_storage_info($1)",
        [table],
    ).fetchall()
    return groups, stored


def test_a_kept_open_database_vacuums_only_when_a_checkpoint_asks(tmp_path):
    # kept_open: each appended batch's part-full row group stays as written (a vacuum would
    # merge them at every checkpoint: rewriting the table's tail again and again); a checkpoint
    # asked to vacuum reclaims deleted rows; the setting outlives neither.
    path = tmp_path / "w.duckdb"
    with wc.connect(path) as con:
        con.execute("create table t (k bigint, v varchar)")
    with wc.kept_open(path):
        for batch in range(4):
            with wc.connect(path) as con:
                con.execute(
                    "insert into t select range, 'x' || range from range($1, $2)",
                    [batch * 5000, (batch + 1) * 5000],
                )
            wc.checkpoint(path)
        with wc.connect(path) as con:
            # DuckDB's default vacuum left one or two row groups of these four batches.
            assert _row_groups(con, "t") == (4, 20_000)
            con.execute("delete from t where k % 2 = 0")
        wc.checkpoint(path, vacuum=True)
        with wc.connect(path) as con:
            groups, stored = _row_groups(con, "t")
            assert groups < 4 and stored < 20_000
            assert con.execute("select count(*) from t").fetchall() == [(10_000,)]
            assert _setting(con, "max_vacuum_tasks") == "0"  # put back for the run's others
    with wc.connect(path) as con:
        assert _setting(con, "max_vacuum_tasks") == "100"  # DuckDB's default again
