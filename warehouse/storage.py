"""Where the marts are stored: the storage interface of a rebuild, in DuckDB or on Delta Lake.

A rebuild (flows/transform.py) reads its inputs with the SQL of warehouse/sql through the
warehouse connection in both cases: with `storage = "delta"` the warehouse's `marts` schema
holds views over the lake's current table versions (warehouse/lake.py), so every read is the
same query. What differs is writing, which goes through a MartStore:

- `prepare`: make the marts writable here; True when every mart must be rebuilt.
- the cross-account writes the flow makes (tiers, weeks, months, campaigns, scorecards);
- the account-grain rows come from partitions: DuckDBMarts has the flow insert them (one
  writer), LakeMarts has each partition's worker commit its own buckets (flows/transform.py).

DuckDBMarts is the module warehouse.marts as it always was; LakeMarts commits to Delta and then
points the warehouse's view of the mart at the new version.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Protocol

import duckdb
import polars as pl

from schemas.marts import MARTS
from warehouse import lake as lk
from warehouse import marts as wm
from warehouse.lake import CONTRACTS
from warehouse.schema import apply_mart_ddl, recreate_marts
from warehouse.sql import table


class MartStore(Protocol):
    """The writes of a rebuild (see the module's docstring); `con` is the warehouse's."""

    @property
    def lake(self) -> lk.Lake | None: ...

    def prepare(self, con: duckdb.DuckDBPyConnection, full: bool) -> bool: ...

    def reset_marts(self, con: duckdb.DuckDBPyConnection) -> None: ...

    def replace_tiers(self, con: duckdb.DuckDBPyConnection, tiers: pl.DataFrame) -> None: ...

    def delete_weeks_after(
        self, con: duckdb.DuckDBPyConnection, week: date, *, inclusive: bool
    ) -> None: ...

    def replace_weeks(
        self, con: duckdb.DuckDBPyConnection, start: date, end: date, rows: pl.DataFrame
    ) -> None: ...

    def delete_months_after(
        self, con: duckdb.DuckDBPyConnection, month: date, *, inclusive: bool
    ) -> None: ...

    def replace_months(
        self,
        con: duckdb.DuckDBPyConnection,
        start: date,
        end: date,
        outputs: dict[str, pl.DataFrame],
    ) -> None: ...

    def replace_campaign_rows(
        self,
        con: duckdb.DuckDBPyConnection,
        campaign_ids: list[str],
        outputs: dict[str, pl.DataFrame],
        builds: dict[str, str],
        run_id: str,
    ) -> None: ...

    def replace_account_month_rows(
        self,
        con: duckdb.DuckDBPyConnection,
        wanted: pl.DataFrame | None,
        outputs: dict[str, pl.DataFrame],
        handles_sha256: str,
        run_id: str,
    ) -> None: ...

    def replace_scorecards(
        self,
        con: duckdb.DuckDBPyConnection,
        first_month: date,
        monthly: pl.DataFrame,
        latest: pl.DataFrame,
        rules: str,
        run_id: str,
    ) -> None: ...


class DuckDBMarts:
    """The marts as tables in the warehouse file (the default)."""

    @property
    def lake(self) -> lk.Lake | None:
        return None

    def prepare(self, con: duckdb.DuckDBPyConnection, full: bool) -> bool:
        """Marts left as lake views (the warehouse ran with storage = "delta" before) become
        tables again, empty: every mart is rebuilt."""
        views = [
            name
            for (name,) in con.execute(
                "select view_name from duckdb_views() where database_name = current_database() "
                "and schema_name = 'marts'"
            ).fetchall()
        ]
        for name in views:
            con.execute(f"drop view marts.{name}")
        if views:
            apply_mart_ddl(con)
        return bool(views)

    def reset_marts(self, con: duckdb.DuckDBPyConnection) -> None:
        recreate_marts(con)

    def replace_tiers(self, con, tiers):
        wm.replace_tiers(con, tiers)

    def delete_weeks_after(self, con, week, *, inclusive):
        wm.delete_weeks_after(con, week, inclusive=inclusive)

    def replace_weeks(self, con, start, end, rows):
        wm.replace_weeks(con, start, end, rows)

    def delete_months_after(self, con, month, *, inclusive):
        wm.delete_months_after(con, month, inclusive=inclusive)

    def replace_months(self, con, start, end, outputs):
        wm.replace_months(con, start, end, outputs)

    def replace_campaign_rows(self, con, campaign_ids, outputs, builds, run_id):
        wm.replace_campaign_rows(con, campaign_ids, outputs, builds, run_id)

    def replace_account_month_rows(self, con, wanted, outputs, handles_sha256, run_id):
        wm.replace_account_month_rows(con, wanted, outputs, handles_sha256, run_id)

    def replace_scorecards(self, con, first_month, monthly, latest, rules, run_id):
        wm.replace_scorecards(con, first_month, monthly, latest, rules, run_id)


def _as_text(frame: pl.DataFrame) -> pl.DataFrame:
    """Rows as text in a fixed order: equal whatever integer widths each side carries."""
    return frame.cast(pl.String).sort(frame.columns)


def _day(value: date) -> str:
    return f"DATE '{value.isoformat()}'"


def _month(value: date) -> str:
    """A month partition value as Delta's predicates and DuckDB both read it."""
    return f"'{value.replace(day=1).isoformat()}'"


class LakeMarts:
    """The marts as Delta tables (warehouse/lake.py); the warehouse file holds views of them.

    Each write replaces whole partitions in one commit (Lake.replace) with the same rows the
    DuckDB delete and insert would leave, then repoints the mart's view. The merge SQL runs on
    an in-memory DuckDB of its own, not inside the warehouse's transaction (a registered Arrow
    table there is kept until the commit).
    """

    def __init__(self, lake: lk.Lake) -> None:
        self._lake = lake

    @property
    def lake(self) -> lk.Lake:
        return self._lake

    def _replace(
        self,
        con: duckdb.DuckDBPyConnection,
        mart: str,
        rows: pl.DataFrame | None,
        *,
        where: str | None,
        drop: str = "true",
        registered: dict[str, pl.DataFrame] | None = None,
    ) -> None:
        merge = duckdb.connect()
        merge.execute("SET TimeZone = 'UTC'")
        for name, relation in (registered or {}).items():
            merge.register(name, relation.to_arrow())
        try:
            self._lake.replace(merge, lk.MART_TABLES[mart], rows, where=where, drop=drop)
        finally:
            merge.close()
        lk.point_views(con, self._lake, [mart])

    def prepare(self, con: duckdb.DuckDBPyConnection, full: bool) -> bool:
        """Create the lake's tables (a new lake: every mart is built), bridge the staging rows
        loaded since the last run (all of them for a new lake or a full rebuild) and point the
        warehouse's marts at the lake."""
        created = self._lake.ensure(lk.staging_schemas(con))
        # The lake's marts are those of the last transform that finished on it: when the
        # warehouse's last transform is another one (it ran with storage = "duckdb" since),
        # the lake missed its changes and is rebuilt whole.
        latest = con.execute(
            "select run_id from meta.runs where flow = 'transform' "
            "and status in ('succeeded', 'completed_with_errors') "
            "order by started_at desc limit 1"
        ).fetchall()
        stale = bool(latest) and latest[0][0] != self._lake.last_build()
        lk.bridge_staging(con, self._lake, everything=created or stale or full)
        lk.point_views(con, self._lake)
        return created or stale

    def reset_marts(self, con: duckdb.DuckDBPyConnection) -> None:
        for mart in MARTS:
            self._replace(con, mart.name, None, where=None)

    def replace_tiers(self, con, tiers):
        # Every run states the tiers; unchanged, they are not committed again, so that a night
        # with nothing new leaves every table at its version (a publish then pins the same).
        columns = [c.name for c in CONTRACTS["dim_tier"].columns]
        current = table(con, "select * from marts.dim_tier").select(columns)
        if _as_text(current).equals(_as_text(tiers.select(columns))):
            return
        self._replace(con, "dim_tier", tiers, where=None)

    def delete_weeks_after(self, con, week, *, inclusive):
        operator = ">=" if inclusive else ">"
        self._replace(
            con,
            "fct_engagement_weekly",
            None,
            where=f"month >= {_month(week)}",
            drop=f"m.week_start {operator} {_day(week)}",
        )

    def replace_weeks(self, con, start, end, rows):
        last = end - timedelta(days=1)
        self._replace(
            con,
            "fct_engagement_weekly",
            rows,
            where=f"month >= {_month(start)} AND month <= {_month(last)}",
            drop=f"m.week_start >= {_day(start)} and m.week_start < {_day(end)}",
        )

    def delete_months_after(self, con, month, *, inclusive):
        operator = ">=" if inclusive else ">"
        for mart in wm.PERIOD_MARTS:
            self._replace(con, mart, None, where=f"month {operator} {_month(month)}")

    def replace_months(self, con, start, end, outputs):
        for mart, rows in outputs.items():
            self._replace(
                con, mart, rows, where=f"month >= {_month(start)} AND month < {_month(end)}"
            )

    def replace_campaign_rows(self, con, campaign_ids, outputs, builds, run_id):
        chosen = pl.DataFrame({"campaign_id": campaign_ids}, schema={"campaign_id": pl.String})
        for mart in wm.CAMPAIGN_MARTS:
            self._replace(
                con,
                mart,
                outputs[mart],
                where=None,
                drop="m.campaign_id in (select campaign_id from _chosen)",
                registered={"_chosen": chosen},
            )
        wm.record_campaign_builds(con, campaign_ids, builds, run_id)

    def replace_account_month_rows(self, con, wanted, outputs, handles_sha256, run_id):
        for mart in wm.ACCOUNT_MONTH_MARTS:
            if wanted is None:
                self._replace(con, mart, outputs[mart], where=None)
                continue
            first = wanted["from_date"].min()
            where = None if not isinstance(first, date) else f"month >= {_month(first)}"
            self._replace(
                con,
                mart,
                outputs[mart],
                where=where,
                drop="exists (select 1 from _wanted as w where m.platform = w.platform and "
                "m.account_id = w.account_id and m.month >= date_trunc('month', w.from_date))",
                registered={"_wanted": wanted},
            )
        wm.record_brand_handles(con, handles_sha256, run_id)

    def replace_scorecards(self, con, first_month, monthly, latest, rules, run_id):
        self._replace(con, "fct_creator_monthly", monthly, where=f"month >= {_month(first_month)}")
        self._replace(
            con,
            "agg_creator_scorecard",
            latest,
            where=None,
            drop=f"m.month >= {_day(first_month)} or exists (select 1 from _rescored as r "
            "where m.platform = r.platform and m.account_id = r.account_id)",
            registered={"_rescored": latest.select("platform", "account_id")},
        )
        wm.record_scorecard_rules(con, rules, run_id)


DUCKDB = DuckDBMarts()


def store_for(lake: lk.Lake | None) -> MartStore:
    """The store of a run: the lake's when one is configured, else the warehouse file's."""
    return DUCKDB if lake is None else LakeMarts(lake)
