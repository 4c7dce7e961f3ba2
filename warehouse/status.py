"""Read-only views of the warehouse for `inflow status` and `inflow quarantine`."""

from __future__ import annotations

from pathlib import Path

from warehouse.connect import connect
from warehouse.sql import sql_text

Section = tuple[list[str], list[tuple]]


def _query(con, sql: str, params: list | None = None) -> Section:
    cursor = con.execute(sql, params or [])
    columns = [d[0] for d in cursor.description]
    return columns, cursor.fetchall()


STATUS_SECTIONS = ("last runs", "freshness", "row counts", "quarantine", "quality")
# What the published file can tell while a run holds the working warehouse.
PUBLISHED_SECTIONS = ("last runs", "quality")


def _section_sql(name: str) -> str:
    if name == "quality":  # the failed checks among each suite's latest (meta.quality_results)
        return f"select * exclude (passed) from ({sql_text('sql', 'latest_checks.sql')}) where not passed"
    return sql_text("sql", f"status_{name.replace(' ', '_')}.sql")


def overview(warehouse: Path, sections: tuple[str, ...] = STATUS_SECTIONS) -> dict[str, Section]:
    """Sections of `inflow status`, each (columns, rows)."""
    with connect(warehouse, read_only=True) as con:
        return {name: _query(con, _section_sql(name)) for name in sections}


def is_locked(error: Exception) -> bool:
    """True when DuckDB refused a file because another process holds it."""
    return "lock" in str(error).lower()


def quarantine(warehouse: Path, file: str | None, limit: int) -> dict[str, Section]:
    with connect(warehouse, read_only=True) as con:
        return {
            "files that failed": _query(
                con,
                "select path, error, run_id, ingested_at from meta.ingested_files "
                "where status = 'failed' and ($1 is null or path = $1) order by ingested_at, path",
                [file],
            ),
            "rejected rows": _query(
                con,
                "select source_file, row_number, rule, reason, left(raw_record, 120) as raw_record "
                "from quarantine.rejected_rows where ($1 is null or source_file = $1) "
                "order by source_file, row_number limit $2",
                [file, limit],
            ),
        }


def headlines(warehouse: Path) -> dict[str, Section]:
    """The demo's headline numbers, from the marts."""
    # The top risers across platforms are within each platform's top 5 the report draws: the
    # report's query, cut to the overall top 5, so the two never disagree.
    risers = (
        f"select * from ({sql_text('sql', 'report_risers_growth.sql')}) "
        "order by growth_rate_30d desc, handle limit 5"
    )
    with connect(warehouse, read_only=True) as con:
        return {
            "accounts per tier": _query(con, sql_text("sql", "headline_accounts_per_tier.sql")),
            "migrations": _query(con, sql_text("sql", "headline_migrations.sql")),
            "top risers micro": _query(con, risers, ["micro"]),
            "top engagement micro": _query(
                con, sql_text("sql", "headline_top_engagement_micro.sql")
            ),
        }
