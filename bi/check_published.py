"""Read the published warehouse from a separate BI environment (.venv-bi): the way a
dashboard or notebook user does, with their own DuckDB 1.x client, SQLAlchemy and ibis.

Run with that environment's Python: `.venv-bi/bin/python bi/check_published.py FILE`. Prints
one JSON object of what each client saw; tests/test_bi.py compares it with the marts.
It imports nothing of inflow: the BI environment does not have it.
"""

from __future__ import annotations

import json
import sys

import duckdb
import ibis
import sqlalchemy as sa


def main(path: str) -> None:
    seen: dict[str, object] = {"duckdb_version": duckdb.__version__}
    with duckdb.connect(path, read_only=True) as con:
        seen["mart_rows"] = dict(
            con.execute(
                "select table_name, estimated_size from duckdb_tables() "
                "where schema_name = 'marts' order by table_name"
            ).fetchall()
        )
        seen["dim_account_rows"] = con.execute("select count(*) from marts.dim_account").fetchall()[
            0
        ][0]

    engine = sa.create_engine(f"duckdb:///{path}?access_mode=read_only")
    inspector = sa.inspect(engine)
    columns = inspector.get_columns("dim_account", schema="marts")
    seen["dim_account_columns"] = [c["name"] for c in columns]
    seen["comments"] = sum(1 for c in columns if c.get("comment"))
    with engine.connect() as connection:
        # timestamptz comes back as an aware datetime: duckdb's driver needs pytz for it.
        started = connection.execute(sa.text("select max(started_at) from meta.runs")).scalar()
        seen["latest_run_tz"] = str(started.tzinfo) if started is not None else None
    try:
        sa.MetaData().reflect(engine, schema="marts")
        seen["metadata_reflect"] = "ok"
    except Exception as error:  # the limit the README documents: duckdb-engine's regclass query
        seen["metadata_reflect"] = f"{type(error).__name__}: {str(error).splitlines()[0][:160]}"
    engine.dispose()

    connection = ibis.duckdb.connect(path, read_only=True)
    seen["ibis_version"] = ibis.__version__
    seen["ibis_dim_account_rows"] = int(
        connection.table("dim_account", database="marts").count().execute()
    )
    connection.disconnect()
    print(json.dumps(seen))


if __name__ == "__main__":
    main(sys.argv[1])
