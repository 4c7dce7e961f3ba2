"""Warehouse DDL, applied in the order listed: this list is the warehouse's build graph."""

from __future__ import annotations

from importlib import resources

import duckdb

DDL_FILES: tuple[str, ...] = (
    "001_schemas.sql",
    "010_meta.sql",
    "020_staging.sql",
    "030_quarantine.sql",
    "040_transform_meta.sql",
    "050_mart_changes.sql",
)


def sql_text(folder: str, name: str) -> str:
    """The text of a packaged .sql file."""
    return resources.files("warehouse").joinpath(folder, name).read_text()


def apply_ddl(con: duckdb.DuckDBPyConnection) -> None:
    """Create every schema and table that does not exist yet (idempotent)."""
    for name in DDL_FILES:
        run_script(con, sql_text("ddl", name))
    # The marts' DDL is generated from their contracts (schemas/marts.py), comments included.
    from warehouse.marts import apply_mart_ddl

    apply_mart_ddl(con)


def sql_literal(text: str) -> str:
    """A SQL string literal (quotes doubled), for text DuckDB takes no parameters for:
    COMMENT ON, ATTACH and COPY paths."""
    return "'" + text.replace("'", "''") + "'"


def run_script(con: duckdb.DuckDBPyConnection, script: str, params: list | None = None) -> None:
    """Run a multi-statement .sql text; statements that use $n placeholders get `params`."""
    code = "\n".join(line for line in script.splitlines() if not line.strip().startswith("--"))
    for statement in (s.strip() for s in code.split(";\n")):
        if statement:
            con.execute(statement, params if params and "$" in statement else None)
