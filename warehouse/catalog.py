"""docs/marts.md, generated from the published warehouse's own catalog (`COMMENT ON` text).

What BI tools show is what the catalog holds, so the reference is read from there rather
than written by hand: `python -m warehouse.catalog > docs/marts.md` publishes an empty
warehouse into a temporary folder and documents every table a reader of the published file
sees; `--published FILE` documents an existing published file instead.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

import duckdb

from warehouse.connect import connect
from warehouse.schema import apply_ddl

CATALOG_TABLES = """
select schema_name, table_name, comment
from duckdb_tables() where database_name = current_database()
order by schema_name = 'meta', schema_name, table_name
"""
CATALOG_COLUMNS = """
select column_name, data_type, comment from duckdb_columns()
where database_name = current_database() and schema_name = $1 and table_name = $2
order by column_index
"""

HEADER = [
    "# Warehouse reference: the published marts",
    "",
    "Generated from the published warehouse's catalog (`python -m warehouse.catalog > docs/marts.md`):",
    "every table and column description below is the `COMMENT ON` text BI tools show. Readers",
    "open `data/published/inflow.duckdb` read-only (see the README: BI tools). Definitions are",
    "written once, in `schemas/marts.py`.",
    "",
]


def catalog_markdown(con: duckdb.DuckDBPyConnection) -> str:
    lines = list(HEADER)
    for schema, name, comment in con.execute(CATALOG_TABLES).fetchall():
        lines += [f"## {schema}.{name}", "", comment or "(no description)", ""]
        lines += ["| column | type | description |", "| --- | --- | --- |"]
        for column, data_type, description in con.execute(
            CATALOG_COLUMNS, [schema, name]
        ).fetchall():
            lines.append(f"| `{column}` | {data_type.lower()} | {description or ''} |")
        lines.append("")
    return "\n".join(lines)


def published_catalog_markdown() -> str:
    """The reference for the published file's layout, built from an empty warehouse."""
    from warehouse.publish import build_state

    with tempfile.TemporaryDirectory() as folder:
        working = Path(folder) / "working.duckdb"
        with connect(working) as con:
            apply_ddl(con)
        state = Path(folder) / "state.duckdb"
        build_state(working, state)
        with connect(state, read_only=True) as con:
            return catalog_markdown(con)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--published", type=Path, help="document this published file")
    args = parser.parse_args(argv)
    if args.published:
        with connect(args.published, read_only=True) as con:
            sys.stdout.write(catalog_markdown(con))
    else:
        sys.stdout.write(published_catalog_markdown())


if __name__ == "__main__":
    main()
