"""Warehouse DDL, applied in the order listed: this list is the warehouse's build graph.

The marts' tables and their descriptions (`COMMENT ON`) are generated from their contracts in
`schemas/marts.py`, after the hand-written DDL files.
"""

from __future__ import annotations

import functools
import hashlib

import duckdb

from schemas.marts import MARTS, Mart
from warehouse.connect import transaction
from warehouse.sql import run_script, sql_literal, sql_text

DDL_FILES: tuple[str, ...] = (
    "001_schemas.sql",
    "010_meta.sql",
    "020_staging.sql",
    "030_quarantine.sql",
    "040_transform_meta.sql",
    "050_mart_changes.sql",
    "060_mart_build.sql",
    "070_run_details.sql",
    "080_owned_exports.sql",
    "090_campaigns.sql",
    "100_scorecards.sql",
    "110_lake.sql",
    "120_scorecard_rows.sql",
)


@functools.cache
def ddl_fingerprint() -> str:
    """A fingerprint of every DDL statement this version of inflow applies."""
    texts = [sql_text("ddl", name) for name in DDL_FILES] + [mart_ddl(m) for m in MARTS]
    return hashlib.sha256("\n".join(texts).encode()).hexdigest()


def apply_ddl(con: duckdb.DuckDBPyConnection) -> None:
    """Create every schema and table that does not exist yet (idempotent).

    Running the ~50 scripts costs 0.3 s, which every command paid (twice for an ingest): the
    fingerprint of the DDL last applied in full is kept, and while it matches this version's
    nothing is run. A new version (or an edited DDL file) applies everything once, in one
    transaction: all of it or none (a run killed midway leaves no half-made schema), and one
    commit instead of one per statement (0.17-0.20 s against 0.28-0.32 s for a new warehouse:
    the first ingest's start). Callers hold no transaction of their own.
    """
    fingerprint = ddl_fingerprint()
    if _applied_fingerprint(con) == fingerprint:
        return
    with transaction(con):
        for name in DDL_FILES:
            run_script(con, sql_text("ddl", name))
        # The marts' DDL is generated from their contracts (schemas/marts.py), comments included.
        apply_mart_ddl(con)
        con.execute("delete from meta.ddl_applied")
        con.execute("insert into meta.ddl_applied values (?)", [fingerprint])


def _applied_fingerprint(con: duckdb.DuckDBPyConnection) -> str | None:
    """The fingerprint of the DDL last applied in full; none for a new warehouse, or one from
    before meta.ddl_applied existed (checked first: DuckDB binds a missing table as an error)."""
    exists = con.execute(
        "select count(*) from duckdb_tables() "
        "where database_name = current_database() "
        "and schema_name = 'meta' and table_name = 'ddl_applied'"
    ).fetchone()
    if not exists or not exists[0]:
        return None
    row = con.execute("select max(fingerprint) from meta.ddl_applied").fetchone()
    return row[0] if row else None


def mart_ddl(mart: Mart) -> str:
    columns = ",\n    ".join(f"{c.name} {c.sql_type}" for c in mart.columns)
    lines = [f"create table if not exists marts.{mart.name} (\n    {columns}\n);"]
    return "\n".join(lines + [f"{c};" for c in mart_comments(mart)])


def mart_comments(mart: Mart, relation: str | None = None) -> list[str]:
    """A mart's COMMENT ON statements (its description and grain, each column's), on
    `relation` (default marts.<name>: a table, or the lake's view of the same name)."""
    target = relation or f"marts.{mart.name}"
    return [
        f"comment on table {target} is "
        f"{sql_literal(mart.description + ' Grain: ' + mart.grain + '.')}",
        *(
            f"comment on column {target}.{c.name} is {sql_literal(c.description)}"
            for c in mart.columns
        ),
    ]


def contract_version() -> str:
    """A short fingerprint of every mart's columns and types: when it changes (a new inflow
    version), marts built under the old one are rebuilt, never mixed."""
    text = ";".join(f"{m.name}:{c.name} {c.sql_type}" for m in MARTS for c in m.columns)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def recreate_marts(con: duckdb.DuckDBPyConnection) -> None:
    """Drop and create every mart from its contract (inside a full rebuild's transaction)."""
    for mart in MARTS:
        con.execute(f"drop table if exists marts.{mart.name}")
    apply_mart_ddl(con)


def apply_mart_ddl(con: duckdb.DuckDBPyConnection) -> None:
    """Create the marts with their descriptions (table and column comments).

    A mart an older inflow built with other columns is left as it is: its columns cannot take
    this version's comments, and the next transform rebuilds every mart when the contract
    version changed (flows.transform), so nothing reads it mixed.
    """
    con.execute("create schema if not exists marts")
    existing: dict[str, list[str]] = {}
    for name, column in con.execute(
        "select table_name, column_name from information_schema.columns "
        "where table_schema = 'marts' and table_catalog = current_database() "
        "order by table_name, ordinal_position"
    ).fetchall():
        existing.setdefault(name, []).append(column)
    for mart in MARTS:
        if mart.name in existing and existing[mart.name] != [c.name for c in mart.columns]:
            continue
        run_script(con, mart_ddl(mart) + "\n")
