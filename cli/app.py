"""The `inflow` command line (Typer): the public surface of the pipeline."""

from __future__ import annotations

import os
import shutil
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import polars as pl
import typer
from pydantic import ValidationError
from rich.console import Console
from rich.markup import escape
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)

from flows.engine import ENV_ORCHESTRATION
from flows.settings import Settings
from ingestion.batch import safe_message
from schemas.tables import PLATFORMS

app = typer.Typer(
    name="inflow",
    help="Influencer social metrics: export files -> DuckDB history -> marts.",
    no_args_is_help=True,
    # Typer's --install-completion / --show-completion (bash, zsh, fish, PowerShell).
    add_completion=True,
    # Click's plain help: flags read `--faults`, not `--faults <bool>` (Typer's rich panels
    # print a type for every option), and the text wraps to the terminal.
    rich_markup_mode=None,
)
# Soft wrap: an error is one line however narrow the terminal (a pipe gets 80 columns).
console = Console(stderr=True, soft_wrap=True)

EXIT_FAILED = 1
EXIT_USAGE = 2


def _print_version(value: bool) -> None:
    if value:
        from importlib.metadata import version

        typer.echo(f"inflow {version('inflow')}")
        raise typer.Exit()


# Commands that run Prefect flows: without a Prefect API, each starts a temporary server.
FLOW_COMMANDS = {"ingest", "transform", "backfill", "validate", "publish", "run", "demo"}


@app.callback()
def main(
    ctx: typer.Context,
    verbose: Annotated[
        bool,
        typer.Option(
            "--verbose",
            "-v",
            help="also show the flows' logs (and Prefect's, when it runs them)",
        ),
    ] = False,
    show_version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_print_version, is_eager=True, help="print the version and exit"
        ),
    ] = False,
) -> None:
    """Influencer social metrics: export files -> DuckDB history -> marts."""
    # Quiet by default: the terminal shows inflow's own lines, the flows' warnings and errors.
    # Only the console handler is raised: with a Prefect API configured, the UI still gets
    # every INFO log of every flow and task run. Prefect configures logging when it is
    # imported, from the variable (PREFECT_LOGGING_<path in its logging.yml>) set here, which
    # processes started from this one inherit; a user's own setting wins.
    if ctx.invoked_subcommand in FLOW_COMMANDS and not os.environ.get("PREFECT_API_URL"):
        from cli.watchdog import guard_children

        guard_children()  # a `kill -9` must not leave a temporary server or Dask workers running
    _show_run_logs(verbose)


def _show_run_logs(verbose: bool) -> None:
    """Flow logs on stderr: warnings, everything with -v. A flow run directly logs to the
    `inflow` logger (flows.engine), one run through Prefect to Prefect's loggers."""
    import logging

    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(
        logging.Formatter(
            "%(asctime)s.%(msecs)03d | %(levelname)-7s | %(name)s - %(message)s", "%H:%M:%S"
        )
    )
    inflow_logs = logging.getLogger("inflow")
    inflow_logs.handlers[:] = [handler]
    inflow_logs.setLevel(logging.INFO if verbose else logging.WARNING)
    inflow_logs.propagate = False
    setting = "PREFECT_LOGGING_HANDLERS_CONSOLE_LEVEL"
    if verbose:  # -v wins over a quiet setting inherited from the environment
        os.environ.pop(setting, None)
        level = logging.NOTSET
    elif setting in os.environ:
        return
    else:
        os.environ[setting] = "WARNING"
        level = logging.WARNING
    # Prefect reads the variable when it configures logging on import; if something imported
    # it already (a test, a plugin), its console handler is set here too.
    if "prefect.logging.handlers" in sys.modules:
        from prefect.logging.handlers import PrefectConsoleHandler

        for prefect_handler in logging.getLogger().handlers:
            if isinstance(prefect_handler, PrefectConsoleHandler):
                prefect_handler.setLevel(level)


def load_settings(**overrides: Any) -> Settings:
    """Settings with flag overrides; a bad value exits 2 with the field named."""
    try:
        settings = Settings(**{k: v for k, v in overrides.items() if v is not None})
    except ValidationError as error:
        for problem in error.errors():
            field = ".".join(str(p) for p in problem["loc"])
            message = str(problem["msg"]).removeprefix("Value error, ")
            console.print(
                f"[red]configuration error[/red]: {field + ': ' if field else ''}{escape(message)}"
            )
        raise typer.Exit(EXIT_USAGE) from None
    # flows.engine reads it (a flow can be started without Settings); a user's variable was
    # already read into the settings, so this only adds inflow.toml's value.
    os.environ[ENV_ORCHESTRATION] = settings.orchestration
    return settings


def _stdout_console() -> Console:
    # $COLUMNS, else the terminal's width; piped output gets 200 columns so that tables are
    # not crushed into the usual fallback of 80.
    if os.environ.get("COLUMNS", "").isdigit():
        return Console(width=int(os.environ["COLUMNS"]))
    return Console(width=shutil.get_terminal_size().columns if sys.stdout.isatty() else 200)


def _progress() -> Progress:
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        disable=not sys.stderr.isatty(),
    )


class OutputFormat(StrEnum):
    """What `inflow sql` writes: a table for people, CSV or JSON for programs."""

    table = "table"
    csv = "csv"
    json = "json"


class ExportFormat(StrEnum):
    parquet = "parquet"


def _parse_platforms(value: str) -> tuple[str, ...]:
    chosen = tuple(p.strip().lower() for p in value.split(",") if p.strip())
    unknown = [p for p in chosen if p not in PLATFORMS]
    if unknown or not chosen:
        raise typer.BadParameter(f"platforms must be among {', '.join(PLATFORMS)}; got {value!r}")
    return chosen


@app.command()
def generate(
    out: Annotated[Path, typer.Option(help="folder to write the export files into")],
    accounts: Annotated[int, typer.Option(min=1, help="number of creators")] = 200,
    days: Annotated[int, typer.Option(min=1, help="days of daily exports")] = 60,
    platforms: Annotated[str, typer.Option(help="comma-separated platforms")] = ",".join(PLATFORMS),
    seed: Annotated[int, typer.Option(help="random seed: same seed, same bytes")] = 1,
    start: Annotated[str, typer.Option(help="first day, YYYY-MM-DD")] = "2026-01-01",
    faults: Annotated[
        bool, typer.Option("--faults", help="also write the bad inputs real folders get")
    ] = False,
    stream: Annotated[
        bool,
        typer.Option("--stream", help="simulate a week at a time: any size, bounded memory"),
    ] = False,
) -> None:
    """Write realistic export files in every supported format (deterministic from --seed)."""
    from sample.landing import generate_landing

    try:
        first_day = date.fromisoformat(start)
    except ValueError:
        raise typer.BadParameter(f"--start must be YYYY-MM-DD, got {start!r}") from None
    chosen = _parse_platforms(platforms)
    with _progress() as progress:
        task = progress.add_task("writing exports", total=None)
        try:
            summary = generate_landing(
                out,
                accounts=accounts,
                days=days,
                seed=seed,
                start=first_day,
                platforms=chosen,
                faults=faults,
                stream=stream,
                progress=lambda done, total: progress.update(task, completed=done, total=total),
            )
        except ValueError as error:
            console.print(f"[red]error[/red]: {error}")
            raise typer.Exit(EXIT_USAGE) from None
    typer.echo(
        f"wrote {summary.files} files, {summary.snapshot_rows:,} snapshot rows, "
        f"{summary.bytes / 1e6:.1f} MB to {summary.out} in {summary.seconds:.1f} s"
    )
    if summary.faults:
        typer.echo(f"planted faults: {', '.join(summary.faults)}")


def _report_progress(progress: Progress):
    from flows import progress as hook

    tasks: dict[str, TaskID] = {}

    def listener(step: str, done: int, total: int | None) -> None:
        if step not in tasks:
            tasks[step] = progress.add_task(step, total=total)
        progress.update(tasks[step], completed=done, total=total)

    hook.listen(listener)


def _run_ingest(settings: Settings):
    """The ingest flow with the settings' limits, behind a progress bar."""
    from flows.ingest import ingest as ingest_flow

    with _progress() as progress, _not_locked():
        _report_progress(progress)
        return ingest_flow(
            landing=settings.landing,
            warehouse=settings.warehouse,
            batch_megabytes=settings.batch_megabytes,
            max_file_megabytes=settings.max_file_megabytes,
            duckdb_limits=settings.duckdb_limits(),
        )


def _settings_with_landing(landing: Path | None, warehouse: Path | None) -> Settings:
    """Settings for a command that reads the landing folder; exits 2 when it is missing."""
    settings = load_settings(landing=landing, warehouse=warehouse)
    if not settings.landing.is_dir():
        console.print(f"[red]error[/red]: landing folder {settings.landing} does not exist")
        raise typer.Exit(EXIT_USAGE)
    return settings


@app.command()
def ingest(
    landing: Annotated[Path | None, typer.Option(help="landing folder (default: settings)")] = None,
    warehouse: Annotated[
        Path | None, typer.Option(help="warehouse file (default: settings)")
    ] = None,
) -> None:
    """Load new or changed export files into the warehouse staging tables."""
    settings = _settings_with_landing(landing, warehouse)
    summary = _run_ingest(settings)
    typer.echo(
        f"files: {summary.files_loaded} loaded, {summary.files_failed} failed, {summary.files_duplicate} duplicate, "
        f"{summary.files_skipped} already ingested; rows: {summary.rows_loaded:,} loaded, "
        f"{summary.rows_quarantined:,} quarantined"
        + (
            f", {summary.rows_count_hidden:,} with a hidden follower count (attributes kept)"
            if summary.rows_count_hidden
            else ""
        )
    )
    for path, reason in summary.failures:
        typer.echo(f"  failed: {path}: {reason}")
    if summary.files_failed:
        console.print("[yellow]some files could not be read[/yellow]: see `inflow quarantine`")
        raise typer.Exit(EXIT_FAILED)


def _transform_flow(settings: Settings):
    """The transform flow on the configured task runner (local, or Dask)."""
    from flows.runners import configured_transform

    return configured_transform(settings.task_runner, settings.dask_address, settings.dask_workers)


@app.command()
def transform(
    warehouse: Annotated[
        Path | None, typer.Option(help="warehouse file (default: settings)")
    ] = None,
    full_refresh: Annotated[
        bool, typer.Option("--full-refresh", help="rebuild every mart from scratch")
    ] = False,
) -> None:
    """Rebuild the marts for what new ingest runs changed (or everything with --full-refresh)."""
    settings = load_settings(warehouse=warehouse)
    _require_warehouse(settings.warehouse)
    transform_flow, in_flight = _transform_flow(settings)
    with _not_locked(), _definitions_checked():
        summary = transform_flow(
            full_refresh=full_refresh,
            partitions_in_flight=in_flight,
            **settings.transform_parameters(),
        )
    typer.echo(_transform_line(summary))


@contextmanager
def _not_locked() -> Iterator[None]:
    """Another process holds the warehouse's run lock (a run, an ingest): exit 1 at once."""
    from flows.runs import RunLocked

    try:
        yield
    except RunLocked as locked:
        console.print(f"[yellow]not started[/yellow]: {escape(str(locked))}")
        raise typer.Exit(EXIT_FAILED) from None


@contextmanager
def _current_published_state() -> Iterator[None]:
    """A published state written before a mart existed (inflow upgraded, no run since) lacks
    it: exit 2 saying so, not a traceback. The next run publishes every mart."""
    import duckdb

    try:
        yield
    except duckdb.CatalogException as error:
        missing = safe_message(str(error)).splitlines()[0]
        console.print(
            "[red]error[/red]: the published state lacks what this inflow reads (written by an "
            f"older version?): {escape(missing)}; run `inflow run` or `inflow publish` to "
            "publish every mart"
        )
        raise typer.Exit(EXIT_USAGE) from None


@contextmanager
def _definitions_checked() -> Iterator[None]:
    """A rebuild refused because the marts were built under other definitions: exit 2. The
    lake (storage = "delta") refusing as configured: exit 2; commits that kept clashing with
    another writer: exit 1. Either way its tables were restored: nothing changed."""
    from flows.transform import DefinitionsChanged
    from warehouse.lake import LakeConflict, LakeError

    try:
        yield
    except DefinitionsChanged as changed:
        console.print(f"[red]not rebuilt[/red]: {escape(str(changed))}")
        raise typer.Exit(EXIT_USAGE) from None
    except LakeError as error:
        console.print(f"[red]not rebuilt[/red]: {escape(str(error))}; nothing was changed")
        raise typer.Exit(EXIT_FAILED if isinstance(error, LakeConflict) else EXIT_USAGE) from None


def _parse_date(value: str, flag: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise typer.BadParameter(f"{flag} must be a date, YYYY-MM-DD (got {value!r})") from None


@app.command()
def backfill(
    from_date: Annotated[str, typer.Option("--from", help="first day to recompute, YYYY-MM-DD")],
    to_date: Annotated[
        str | None, typer.Option("--to", help="last day of the range, YYYY-MM-DD")
    ] = None,
    warehouse: Annotated[
        Path | None, typer.Option(help="warehouse file (default: settings)")
    ] = None,
) -> None:
    """Recompute every account's mart rows from --from on (e.g. after late or corrected data).

    Tiers and growth windows carry state forward, so rows after --to depend on the range too:
    they are recomputed as well. --to only checks that the range is well formed. A new tier
    scheme or confirmation period needs `inflow transform --full-refresh` instead.
    """
    settings = load_settings(warehouse=warehouse)
    _require_warehouse(settings.warehouse)
    first = _parse_date(from_date, "--from")
    last = _parse_date(to_date, "--to") if to_date else None
    if last and last < first:
        raise typer.BadParameter("--to is before --from")
    transform_flow, in_flight = _transform_flow(settings)
    with _not_locked(), _definitions_checked():
        summary = transform_flow(
            backfill_from=first, partitions_in_flight=in_flight, **settings.transform_parameters()
        )
    typer.echo(_transform_line(summary))


def _print_sections(sections: dict[str, tuple[list[str], list[tuple]]]) -> None:
    """Each (columns, rows) section as a table on standard output."""
    from rich.table import Table

    out = _stdout_console()
    for title, (columns, rows) in sections.items():
        table = Table(title=title)
        for column in columns:
            table.add_column(column, overflow="fold")
        for row in rows:
            # NULL shown as such (dimmed), never as an empty cell that reads like "".
            table.add_row(
                *[
                    "[dim]NULL[/dim]"
                    if v is None
                    else escape(f"{v:.4f}" if isinstance(v, float) else str(v))
                    for v in row
                ]
            )
        out.print(table)


def _transform_line(summary) -> str:
    written = ", ".join(f"{name} {count:,}" for name, count in summary.rows.items())
    return f"transform ({summary.mode}): {summary.accounts:,} accounts rebuilt in {summary.seconds} s; rows: {written or 'none'}"


def _require_warehouse(path: Path) -> None:
    if not path.exists():
        console.print(f"[red]error[/red]: no warehouse at {path}; run `inflow ingest` first")
        raise typer.Exit(EXIT_USAGE)


@app.command()
def validate(
    warehouse: Annotated[
        Path | None, typer.Option(help="warehouse file (default: settings)")
    ] = None,
    all_marts: Annotated[
        bool, typer.Option("--all", help="validate whole marts, not the recent days")
    ] = False,
) -> None:
    """Run the data-quality suites; exit 1 naming each critical failure."""
    settings = load_settings(warehouse=warehouse)
    _require_warehouse(settings.warehouse)
    from flows.validate import validate as validate_flow

    with _not_locked():
        summary = validate_flow(
            warehouse=settings.warehouse,
            freshness_days=settings.freshness_days,
            whole_marts=all_marts,
            duckdb_limits=settings.duckdb_limits(),
        )
    typer.echo(
        f"quality: {len(summary.results)} checks, {len(summary.critical_failures)} critical failures, "
        f"{len(summary.warnings)} warnings"
    )
    for failure in summary.warnings:
        typer.echo(f"  warning: {failure.line()}")
    typer.echo(f"data docs: {summary.data_docs}")
    if summary.critical_failures:
        for failure in summary.critical_failures:
            console.print(f"[red]critical[/red]: {escape(failure.line())}")
        raise typer.Exit(EXIT_FAILED)


@app.command()
def publish(
    warehouse: Annotated[
        Path | None, typer.Option(help="warehouse file (default: settings)")
    ] = None,
) -> None:
    """Publish the marts for readers; refused (exit 1) while a critical quality check fails."""
    settings = load_settings(warehouse=warehouse)
    _require_warehouse(settings.warehouse)
    from flows.publish import publish as publish_flow
    from warehouse.lake import LakeError
    from warehouse.publish import PUBLISHED_NAME, PublishRefused

    try:
        with _not_locked():
            publish_flow(**settings.publish_parameters())
    except LakeError as error:
        console.print(f"[red]not published[/red]: {escape(str(error))}")
        raise typer.Exit(EXIT_FAILED) from None
    except PublishRefused as refused:
        console.print(
            f"[red]not published[/red]: {refused}; the previous published state stays readable"
        )
        raise typer.Exit(EXIT_FAILED) from None
    typer.echo(f"published: {(settings.published / PUBLISHED_NAME).resolve()}")


@app.command()
def rollback() -> None:
    """Make the previous published state the current one."""
    settings = load_settings()
    from flows.runs import run_lock
    from warehouse.publish import PUBLISHED_NAME
    from warehouse.publish import rollback as roll_back

    try:
        # Under the run lock: a publish must not swap states while the pointer moves back.
        with _not_locked(), run_lock(settings.warehouse):
            state = roll_back(settings.published)
    except ValueError as error:
        console.print(f"[red]error[/red]: {error}")
        raise typer.Exit(EXIT_FAILED) from None
    typer.echo(
        f"rolled back: {(settings.published / PUBLISHED_NAME).resolve()} is now {state.name}"
    )


@app.command()
def sql(
    query: Annotated[str, typer.Argument(help="one read-only SQL query")],
    output_format: Annotated[
        OutputFormat, typer.Option("--format", case_sensitive=False, help="table, csv or json")
    ] = OutputFormat.table,
    out: Annotated[Path | None, typer.Option(help="write the result to this file")] = None,
) -> None:
    """Read-only ad hoc SQL on the published marts (writes, DDL, files, URLs and ATTACH refused)."""
    import duckdb

    from warehouse.connect import connect_for_readers, lake_root_of, only_reads

    with connect_for_readers(_published_or_exit(load_settings())) as con:
        try:
            if lake_root_of(con) is not None and not only_reads(query):
                # A lake state's connection may read (so COPY could write) the lake's folder.
                console.print(
                    "[red]query refused or failed[/red]: only SELECT queries on a state "
                    "published from the lake (its files are readable, nothing may be written)"
                )
                raise typer.Exit(EXIT_FAILED)
            result = pl.DataFrame(con.sql(query).to_arrow_table()) if query.strip() else None
        except duckdb.Error as error:
            console.print(f"[red]query refused or failed[/red]: {safe_message(str(error))}")
            raise typer.Exit(EXIT_FAILED) from None
    if result is None:
        raise typer.BadParameter("empty query")
    _emit(result, output_format, out)


def _emit(result: pl.DataFrame, output_format: OutputFormat, out: Path | None) -> None:
    """A result as a table, CSV or JSON, on standard output or in `out` (a table goes there
    as CSV: a file is for programs)."""
    text = (
        result.write_csv()
        if output_format == "csv"
        else result.write_json()
        if output_format == "json"
        else None
    )
    if out is not None:
        out.write_text(text if text is not None else result.write_csv())
        typer.echo(f"{result.height} rows written to {out}")
    elif text is not None:
        typer.echo(text, nl=False)
    else:
        _print_sections({"": (result.columns, result.rows())})


def _published_or_exit(settings: Settings) -> Path:
    """The published warehouse file; exits 2 with what to do when nothing is published yet."""
    from warehouse.publish import PUBLISHED_NAME

    published = settings.published / PUBLISHED_NAME
    if not published.exists():
        console.print(
            f"[red]error[/red]: nothing published at {published}; run `inflow run` or "
            "`inflow publish` (or `make demo`)"
        )
        raise typer.Exit(EXIT_USAGE)
    return published


@app.command()
def report(
    out: Annotated[Path | None, typer.Option(help="HTML file to write (default: settings)")] = None,
    tier: Annotated[str, typer.Option(help="tier whose top risers are shown")] = "micro",
    period_from: Annotated[
        str | None,
        typer.Option("--from", help="migration period start, YYYY-MM-DD (default: 90 days back)"),
    ] = None,
    period_to: Annotated[
        str | None,
        typer.Option("--to", help="migration period end, YYYY-MM-DD (default: the latest day)"),
    ] = None,
) -> None:
    """A self-contained HTML dashboard (works offline) from the published marts."""
    from report.render import write_report
    from warehouse.report import NothingToReport

    settings = load_settings(report=out)
    published = _published_or_exit(settings)
    with _current_published_state():
        try:
            written = write_report(
                published,
                settings.report,
                tier=tier,
                start=_parse_date(period_from, "--from") if period_from else None,
                end=_parse_date(period_to, "--to") if period_to else None,
                stale_after_days=settings.freshness_days,
                data_docs=settings.data_docs,
            )
        except NothingToReport as error:
            console.print(f"[red]error[/red]: {error}")
            raise typer.Exit(EXIT_USAGE) from None
    typer.echo(f"report: {written.resolve()} ({written.stat().st_size / 1e6:.1f} MB)")


@app.command()
def campaign(
    campaign_id: Annotated[str, typer.Argument(help="the campaign's id (its campaign file's)")],
) -> None:
    """One campaign's KPIs and its creators, cheapest engagement first (published marts)."""
    from warehouse.report import campaign_kpis

    with _current_published_state():
        kpis, creators, known = campaign_kpis(_published_or_exit(load_settings()), campaign_id)
    if kpis.is_empty():
        listed = ", ".join(known) if known else "none yet (land campaign files under campaigns/)"
        console.print(f"[red]error[/red]: unknown campaign {campaign_id!r}; known: {listed}")
        raise typer.Exit(EXIT_USAGE)
    row = kpis.row(0, named=True)
    _print_sections(
        {
            f"campaign {campaign_id}": (["kpi", "value"], list(row.items())),
            "creators (cheapest engagement first)": (creators.columns, creators.rows()),
        }
    )


@app.command()
def shortlist(
    platform: Annotated[str, typer.Option(help="instagram, tiktok or youtube")],
    tier: Annotated[str, typer.Option(help="a tier of the scheme the marts are built with")],
    category: Annotated[
        str | None, typer.Option(help="content category (percentiles then within it)")
    ] = None,
    min_er_percentile: Annotated[
        float | None, typer.Option(min=0, max=100, help="only creators at or above this")
    ] = None,
    max_flags: Annotated[
        int | None, typer.Option(min=0, help="only creators with at most this many flags")
    ] = None,
    limit: Annotated[int, typer.Option(min=1, help="creators listed")] = 20,
    output_format: Annotated[
        OutputFormat, typer.Option("--format", case_sensitive=False, help="table, csv or json")
    ] = OutputFormat.table,
    out: Annotated[Path | None, typer.Option(help="write the list to this file")] = None,
) -> None:
    """Creators of a platform and tier ranked by ER percentile, growth and flags beside
    (agg_creator_scorecard in the published marts; README: Choosing creators)."""
    from warehouse.report import SHORTLIST_TABLE, ShortlistRequest, UnknownChoice
    from warehouse.report import shortlist as ranked

    request = ShortlistRequest(platform, tier, category, min_er_percentile, max_flags, limit)
    with _current_published_state():
        try:
            result = ranked(_published_or_exit(load_settings()), request)
        except UnknownChoice as error:
            console.print(f"[red]error[/red]: {error}")
            raise typer.Exit(EXIT_USAGE) from None
    if out is None and output_format == "table":
        if result.is_empty():
            typer.echo(f"no {platform} {tier} creator matches")
            return
        result = result.select(SHORTLIST_TABLE)
    _emit(result, output_format, out)


@app.command()
def export(
    out: Annotated[Path, typer.Option(help="folder to write the Parquet files into")],
    output_format: Annotated[
        ExportFormat, typer.Option("--format", case_sensitive=False, help="parquet")
    ] = ExportFormat.parquet,
) -> None:
    """Write the published marts as Parquet (big facts Hive-partitioned by platform and year)."""
    from warehouse.export import export_marts

    published = _published_or_exit(load_settings())
    rows = export_marts(published, out)
    for mart, count in rows.items():
        typer.echo(f"{mart}: {count:,} rows")
    typer.echo(f"exported to {out.resolve()}")


def _run_nightly(settings: Settings):
    """The nightly flow with the settings; exits 1 with a clear message when locked or blocked."""
    from flows.nightly import QualityBlocked, nightly
    from flows.runs import RunLocked

    try:
        with _definitions_checked():
            return nightly(**settings.nightly_parameters())
    except RunLocked as locked:
        console.print(f"[yellow]not started[/yellow]: {locked}")
        raise typer.Exit(EXIT_FAILED) from None
    except QualityBlocked as blocked:
        console.print(
            f"[red]run failed[/red]: {blocked}; the previous published state stays readable"
        )
        raise typer.Exit(EXIT_FAILED) from None


@app.command()
def run(
    landing: Annotated[Path | None, typer.Option(help="landing folder (default: settings)")] = None,
    warehouse: Annotated[
        Path | None, typer.Option(help="warehouse file (default: settings)")
    ] = None,
) -> None:
    """One nightly run: ingest -> validate -> transform -> validate -> publish."""
    settings = _settings_with_landing(landing, warehouse)
    summary = _run_nightly(settings)
    typer.echo(
        f"nightly: {summary.files_loaded} files loaded ({summary.files_failed} failed), {summary.rows_loaded:,} rows, "
        f"{summary.rows_quarantined:,} quarantined; {summary.accounts_rebuilt:,} accounts rebuilt; "
        f"{summary.checks} checks, {summary.warnings} warnings; published {summary.published}"
    )
    for line in summary.warning_lines:
        typer.echo(f"  warning: {line}")
    if summary.files_failed:
        raise typer.Exit(EXIT_FAILED)


@app.command()
def serve(
    cron: Annotated[str, typer.Option(help="when the nightly run starts (UTC)")] = "30 4 * * *",
) -> None:
    """Run the nightly schedule locally (Prefect serve): no server or work pool to set up."""
    settings = load_settings()
    from flows.deployments import nightly

    typer.echo(
        f"serving the nightly run at '{cron}' UTC on {settings.landing} -> {settings.published}; Ctrl-C stops"
    )
    nightly.serve(
        name="inflow-nightly",
        cron=cron,
        # Stored by Prefect as JSON: paths as text.
        parameters={
            name: str(value) if isinstance(value, Path) else value
            for name, value in settings.nightly_parameters().items()
        },
    )


@app.command()
def status(
    warehouse: Annotated[
        Path | None, typer.Option(help="warehouse file (default: settings)")
    ] = None,
) -> None:
    """Last runs, row counts, freshness per platform and quarantine counts."""
    from warehouse import status as warehouse_status

    settings = load_settings(warehouse=warehouse)
    _require_warehouse(settings.warehouse)
    import duckdb

    from warehouse.publish import PUBLISHED_NAME

    try:
        _print_sections(warehouse_status.overview(settings.warehouse))
    except duckdb.IOException as error:
        published = settings.published / PUBLISHED_NAME
        if not warehouse_status.is_locked(error) or not published.exists():
            raise
        # A run holds the working warehouse: show what the last published state records.
        typer.echo(
            f"a run is writing {settings.warehouse}; showing the last published state ({published})"
        )
        _print_sections(warehouse_status.overview(published, warehouse_status.PUBLISHED_SECTIONS))
    docs = settings.data_docs
    typer.echo(
        f"data docs: {docs.resolve() if docs.exists() else 'not built yet (run `inflow validate`)'}"
    )


@app.command()
def quarantine(
    file: Annotated[
        str | None, typer.Option("--file", help="only rows of this file (path as listed)")
    ] = None,
    limit: Annotated[int, typer.Option(min=1)] = 50,
    warehouse: Annotated[
        Path | None, typer.Option(help="warehouse file (default: settings)")
    ] = None,
) -> None:
    """List files that failed and rows rejected by their contracts, with the reason."""
    from warehouse import status as warehouse_status

    settings = load_settings(warehouse=warehouse)
    _require_warehouse(settings.warehouse)
    _print_sections(warehouse_status.quarantine(settings.warehouse, file, limit))


lake_app = typer.Typer(
    help='The Delta Lake of storage = "delta": vacuum and compaction.', no_args_is_help=True
)
app.add_typer(lake_app, name="lake")


def _configured_lake(settings: Settings):
    from warehouse.lake import lake_of

    try:
        lake = lake_of(settings.storage, settings.lake_path, settings.lake_buckets)
    except ValueError as error:
        console.print(f"[red]error[/red]: {escape(str(error))}")
        raise typer.Exit(EXIT_USAGE) from None
    if lake is None:
        console.print(
            '[red]error[/red]: storage is "duckdb": there is no lake (README: Beyond one machine)'
        )
        raise typer.Exit(EXIT_USAGE)
    return lake


@lake_app.command("vacuum")
def lake_vacuum() -> None:
    """Delete the lake's data files that no kept published state and no current version reads."""
    settings = load_settings()
    lake = _configured_lake(settings)
    from flows.runs import run_lock
    from warehouse.lake_publish import vacuum

    with _not_locked(), run_lock(settings.warehouse):
        removed = vacuum(lake, settings.published)
    typer.echo(f"vacuumed: {removed} data files removed from {lake.root}")


@lake_app.command("compact")
def lake_compact(
    before: Annotated[
        str, typer.Option(help="compact the months before this one (YYYY-MM): closed months")
    ],
) -> None:
    """Rewrite the closed months' partitions into few large files (a new version per table)."""
    settings = load_settings()
    lake = _configured_lake(settings)
    first = _parse_date(f"{before}-01" if len(before) == 7 else before, "--before").replace(day=1)
    from flows.runs import run_lock
    from warehouse.lake_publish import compact_months

    with _not_locked(), run_lock(settings.warehouse):
        removed = compact_months(lake, settings.warehouse, first)
    typer.echo(
        f"compacted the months before {first:%Y-%m}: {sum(removed.values())} files rewritten "
        "(published states keep reading theirs until `inflow lake vacuum`)"
    )


@app.command()
def demo(
    accounts: Annotated[int, typer.Option(min=1)] = 300,
    days: Annotated[int, typer.Option(min=12)] = 90,
    seed: Annotated[int, typer.Option()] = 7,
) -> None:
    """Generate sample exports (faults included), run the nightly pipeline, show the headlines."""
    settings = load_settings()
    generate(out=settings.landing, accounts=accounts, days=days, seed=seed, faults=True)
    summary = _run_nightly(settings)
    typer.echo(
        f"ingested {summary.files_loaded} files: {summary.rows_loaded:,} rows loaded, "
        f"{summary.rows_quarantined:,} rows quarantined, {summary.files_failed} unreadable files recorded"
    )
    if summary.files_failed:
        typer.echo("(the sample data plants unreadable files on purpose: see `inflow quarantine`)")
    typer.echo(f"transform (incremental): {summary.accounts_rebuilt:,} accounts rebuilt")
    typer.echo(
        f"quality: {summary.checks} checks, 0 critical failures, {summary.warnings} warnings "
        "(the sample data is dated in the past: freshness warns)"
    )
    for line in summary.warning_lines:
        typer.echo(f"  warning: {line}")
    from warehouse.publish import PUBLISHED_NAME
    from warehouse.status import headlines

    typer.echo(f"published for readers: {(settings.published / PUBLISHED_NAME).resolve()}")
    _print_sections(headlines(settings.warehouse))
    from report.render import write_report

    report_file = write_report(
        settings.published / PUBLISHED_NAME,
        settings.report,
        stale_after_days=settings.freshness_days,
        data_docs=settings.data_docs,
    )
    typer.echo(f"report: {report_file.resolve()} (open it in a browser; works offline)")
    typer.echo(f"data docs: {summary.data_docs}")
    typer.echo(f"working warehouse: {settings.warehouse.resolve()}")
    typer.echo(
        'next: `.venv/bin/inflow sql "select * from marts.dim_account limit 5"`, `.venv/bin/inflow status`'
    )


if __name__ == "__main__":
    app()
