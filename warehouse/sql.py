"""Running SQL: packaged .sql files, multi-statement scripts, literals, results as Polars frames."""

from __future__ import annotations

from importlib import resources

import duckdb
import polars as pl


def sql_text(folder: str, name: str) -> str:
    """The text of a packaged .sql file."""
    return resources.files("warehouse").joinpath(folder, name).read_text()


def sql_literal(text: str) -> str:
    """A SQL string literal (quotes doubled), for text DuckDB takes no parameters for:
    COMMENT ON, ATTACH and COPY paths."""
    return "'" + text.replace("'", "''") + "'"


def run_script(
    con: duckdb.DuckDBPyConnection, script: str, params: list | None = None
) -> list[tuple]:
    """Run a multi-statement .sql text; statements that use $n placeholders get `params`.
    Returns the last statement's rows (a DELETE's: how many rows it deleted)."""
    code = "\n".join(line for line in script.splitlines() if not line.strip().startswith("--"))
    rows: list[tuple] = []
    for statement in (s.strip() for s in code.split(";\n")):
        if statement:
            rows = con.execute(
                statement, params if params and "$" in statement else None
            ).fetchall()
    return rows


def frame(con: duckdb.DuckDBPyConnection, sql: str, params: list | None = None) -> pl.LazyFrame:
    """A query's result as a Polars LazyFrame (materialised: the connection moves on)."""
    return table(con, sql, params).lazy()


def table(con: duckdb.DuckDBPyConnection, sql: str, params: list | None = None) -> pl.DataFrame:
    """A query's result as a Polars DataFrame (via Arrow; duckdb 2.0 has no .pl() on execute)."""
    return pl.DataFrame(con.sql(sql, params=params or None).to_arrow_table())
