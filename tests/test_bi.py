"""BI connectivity: SQLAlchemy (duckdb-engine) on the published file, the generated reference,
and the Parquet export."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import duckdb
import polars as pl
import pytest
import sqlalchemy as sa
from polars.testing import assert_frame_equal

from schemas.marts import MARTS
from warehouse.catalog import catalog_markdown, published_catalog_markdown
from warehouse.connect import connect
from warehouse.export import MANIFEST, PARTITIONED_BY_YEAR, export_marts

DOCS = Path(__file__).parents[1] / "docs" / "marts.md"

# The kind of query a dashboard tile runs: accounts and median growth per tier on the latest day.
DASHBOARD_QUERY = """
select d.platform, d.tier, count(*) as accounts, median(d.growth_rate_30d) as growth_median
from marts.fct_account_daily as d
join marts.dim_account as a using (platform, account_id)
where d.date = a.last_seen
group by d.platform, d.tier
order by d.platform, d.tier
"""


pytestmark = pytest.mark.xdist_group("published_marts")


@pytest.fixture
def published(published_marts) -> Path:
    return published_marts


def sqlalchemy_url(published: Path) -> str:
    # The URL documented in the README for Superset-style tools.
    return f"duckdb:///{published.resolve()}?access_mode=read_only"


def test_sqlalchemy_reflects_every_mart_with_its_column_comments(published):
    engine = sa.create_engine(sqlalchemy_url(published))
    inspector = sa.inspect(engine)
    assert set(inspector.get_table_names(schema="marts")) == {m.name for m in MARTS}
    for mart in MARTS:
        columns = inspector.get_columns(mart.name, schema="marts")
        assert [c["name"] for c in columns] == mart.column_names
        assert [c["comment"] for c in columns] == [c.description for c in mart.columns]
        comment = inspector.get_table_comment(mart.name, schema="marts")["text"]
        assert comment.startswith(mart.description), mart.name
    engine.dispose()


def test_a_dashboard_query_through_sqlalchemy_matches_duckdb(published):
    engine = sa.create_engine(sqlalchemy_url(published))
    with engine.connect() as connection:
        result = connection.execute(sa.text(DASHBOARD_QUERY))
        through_sqlalchemy = pl.DataFrame(
            [tuple(row) for row in result], schema=list(result.keys()), orient="row"
        )
    engine.dispose()
    con = connect(published, read_only=True)
    direct = pl.from_arrow(con.sql(DASHBOARD_QUERY).to_arrow_table())
    con.close()
    assert through_sqlalchemy.height > 0
    assert through_sqlalchemy["accounts"].sum() == 150
    assert_frame_equal(through_sqlalchemy, direct, check_dtypes=False)


def test_the_sqlalchemy_url_is_read_only(published):
    engine = sa.create_engine(sqlalchemy_url(published))
    with engine.connect() as connection, pytest.raises(sa.exc.DBAPIError, match="read-only"):
        connection.execute(sa.text("delete from marts.dim_account"))
    engine.dispose()


def test_docs_marts_is_generated_from_the_published_catalog(published):
    expected = DOCS.read_text()
    assert published_catalog_markdown() == expected
    # A real published file documents exactly the same: the reference does not depend on data.
    con = connect(published, read_only=True)
    try:
        assert catalog_markdown(con) == expected
    finally:
        con.close()
    for mart in MARTS:
        assert f"## marts.{mart.name}\n" in expected
    # Every column of every table a reader sees has a description.
    assert not [line for line in expected.splitlines() if line.endswith("|  |")]


def test_export_writes_every_mart_as_parquet_with_hive_partitions(published, tmp_path):
    out = tmp_path / "export"
    rows = export_marts(published, out)
    con = connect(published, read_only=True)
    parquet_reader = duckdb.connect()
    parquet_reader.execute("set TimeZone = 'UTC'")
    try:
        for mart in MARTS:
            files = f"{(out / mart.name).as_posix()}/**/*.parquet"
            exported = pl.from_arrow(
                parquet_reader.sql(
                    f"select * from read_parquet('{files}', hive_partitioning = true)"
                ).to_arrow_table()
            )
            original = pl.from_arrow(con.sql(f"select * from marts.{mart.name}").to_arrow_table())
            assert exported.height == original.height == rows[mart.name], mart.name
            if mart.name in PARTITIONED_BY_YEAR:
                date_column = PARTITIONED_BY_YEAR[mart.name]
                assert (exported["year"] == exported[date_column].dt.year()).all()
                exported = exported.drop("year")
                assert (out / mart.name / "platform=tiktok").is_dir()
            assert_frame_equal(exported.select(original.columns), original, check_row_order=False)
    finally:
        con.close()
        parquet_reader.close()
    assert (out / MANIFEST).exists()


def test_export_again_replaces_the_previous_export(published, tmp_path):
    out = tmp_path / "export"
    first = export_marts(published, out)
    second = export_marts(published, out)
    assert first == second
    counted = duckdb.sql(
        f"select count(*) from read_parquet('{(out / 'fct_account_daily').as_posix()}/**/*.parquet')"
    ).fetchall()[0][0]
    assert counted == first["fct_account_daily"]
    assert sorted(p.name for p in out.iterdir()) == sorted([MANIFEST, *(m.name for m in MARTS)])


def test_cli_export_refuses_other_formats(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "cli.app", "export", "--format", "csv", "--out", str(tmp_path)],
        capture_output=True,
        text=True,
        cwd=tmp_path,
    )
    assert result.returncode == 2
    assert "'csv' is not one of 'parquet'" in result.stderr


BI_PYTHON = Path(__file__).parents[1] / ".venv-bi" / "bin" / "python"


def test_a_separate_bi_environment_reads_the_published_file(published):
    """The README's BI recipe, installed apart (`make bi-env`: DuckDB 1.5, duckdb-engine 0.17,
    SQLAlchemy 2.0, pytz, ibis 12): each client reads the file inflow published with DuckDB
    2.0, and MetaData.reflect() fails as the README says (duckdb-engine's limit, not 2.0's)."""
    import json

    assert BI_PYTHON.exists(), "the BI environment is missing: `make test` builds it (make bi-env)"
    run = subprocess.run(
        [
            str(BI_PYTHON),
            str(Path(__file__).parents[1] / "bi" / "check_published.py"),
            str(published),
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert run.returncode == 0, run.stderr[-2000:]
    seen = json.loads(run.stdout)
    assert seen["duckdb_version"].startswith("1.5.") and seen["ibis_version"].startswith("12.")
    with connect(published, read_only=True) as con:
        rows = dict(
            con.execute(
                "select table_name, estimated_size from duckdb_tables() where schema_name = 'marts'"
            ).fetchall()
        )
        accounts = con.execute("select count(*) from marts.dim_account").fetchall()[0][0]
    assert seen["mart_rows"] == rows and set(rows) == {m.name for m in MARTS}
    assert seen["dim_account_rows"] == seen["ibis_dim_account_rows"] == accounts
    dim = next(m for m in MARTS if m.name == "dim_account")
    assert seen["dim_account_columns"] == [c.name for c in dim.columns]
    assert seen["comments"] == len(dim.columns)
    assert seen["latest_run_tz"] in {"UTC", "Etc/UTC"}
    assert "REGCLASS" in seen["metadata_reflect"].upper()
