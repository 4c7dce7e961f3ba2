"""The reads and writes of a mart rebuild: scopes, spilled partition inputs, row swaps."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, replace
from datetime import date, timedelta
from pathlib import Path

import duckdb
import polars as pl
import pyarrow as pa
import pyarrow.compute as pc

from schemas.marts import (
    EARLIER_DAILY_INPUT,
    EARLIER_POSTS_INPUT,
    MARTS,
    PERIOD_DAILY_INPUT,
    PERIOD_POSTS_INPUT,
    SCORECARD_DAILY_INPUT,
    SCORECARD_POSTS_INPUT,
    SCORECARD_WINDOW_INPUT,
)
from schemas.tables import ACCOUNT_KEY
from warehouse.sql import frame, sql_literal, sql_text, table

FAR_PAST = date(1900, 1, 1)
# Which date column bounds each account-grain mart's rows from a scope's emit_from.
ACCOUNT_MART_DATES = {
    "fct_post_metrics": "published_date",
    "fct_account_daily": "date",
    "fct_tier_migrations": "migrated_on",
    "fct_engagement_weekly": "week_start",
}


def register_scope(
    con: duckdb.DuckDBPyConnection,
    scope: pl.DataFrame,
    *,
    recent_days: int,
    posts_days: int,
    lookup_days: int,
    last_day: date | None = None,
) -> None:
    """The accounts to rebuild, each with emit_from, chain_from and the first days its inputs
    are read from. `recent_days`: the marts' days read before chain_from (the anomaly window);
    `posts_days`: their posts before the emit week (the rolling ER); `lookup_days`: their days
    before emit_from that a rebuilt post's followers at publication are looked up in.

    `chain_from`: the first day of the account's follower-day chain rebuilt (pending_scope.sql),
    emit_from when the scope has no such column. The chain's inputs (staged follower days, the
    marts' window before it, the seed, the open spell, the as-of lookups) are read from it; the
    posts' from emit_from. A scope with its `partition_number` gets each account's
    ACCOUNT_NUMBER (1..n). `last_day`: the last staged day of every account (a lake worker sees
    only its buckets' and is given the flow's); read from staging when not given.
    """
    if last_day is None:
        last_day = last_staged_day(con, scope)
    if "chain_from" not in scope.columns:
        scope = scope.with_columns(pl.col("emit_from").alias("chain_from"))
    if "partition_number" in scope.columns and ACCOUNT_NUMBER not in scope.columns:
        # A scope split into partitions names each account by a number too, which its spilled
        # inputs carry (account_input_queries' `numbered`).
        scope = scope.with_columns(
            pl.int_range(1, pl.len() + 1, dtype=pl.Int32).alias(ACCOUNT_NUMBER)
        )
    con.register(
        "scope",
        scope.with_columns(
            (pl.col("chain_from") - pl.duration(days=recent_days)).alias("recent_from"),
            pl.col("emit_from").dt.truncate("1w").alias("emit_week"),
        )
        .with_columns(
            (pl.col("emit_week") - pl.duration(days=posts_days)).alias("posts_from"),
            # The marts' days read before chain_from: the anomaly window's, and those the
            # rebuilt posts' followers at publication and weeks' tiers read, which start before
            # it when the chain starts later than emit_from (read_earlier_daily.sql).
            pl.min_horizontal(
                "recent_from", pl.col("emit_from") - pl.duration(days=lookup_days)
            ).alias("earlier_from"),
            pl.lit(last_day or scope["emit_from"].max(), pl.Date).alias("last_day"),
        )
        .to_arrow(),
    )


def last_staged_day(con: duckdb.DuckDBPyConnection, scope: pl.DataFrame) -> date | None:
    """The last follower snapshot day staged on or after the scope's earliest emit_from."""
    ((last_day,),) = con.execute(
        # Bounded below so DuckDB reads only the recent row groups.
        "select max(snapshot_date) from staging.follower_snapshots where snapshot_date >= $1",
        [scope["emit_from"].min()],
    ).fetchall()
    return last_day


def days_read_per_scope_account(
    con: duckdb.DuckDBPyConnection, scope: pl.DataFrame, *, recent_days: int
) -> float:
    """The days of follower snapshots a rebuild of `scope` reads per account, on average: from
    emit_from - recent_days (not before the first staged day) to the last staged day. Account
    partitions are split by hash, so each holds about the average."""
    earliest = scope["emit_from"].min()
    if not isinstance(earliest, date):
        return 1.0
    ((first_day, last_day),) = con.execute(
        # Bounded below by the earliest day read, so that a night scans its recent row groups
        # only, not the whole history (the first staged day matters only before that bound).
        "select min(snapshot_date), max(snapshot_date) from staging.follower_snapshots "
        "where snapshot_date >= $1",
        [earliest - timedelta(days=recent_days)],
    ).fetchall()
    if first_day is None:
        return 1.0
    days = scope.select(
        (
            pl.lit(last_day, pl.Date)
            - pl.max_horizontal(
                pl.col("emit_from") - pl.duration(days=recent_days), pl.lit(first_day, pl.Date)
            )
        )
        .dt.total_days()
        .clip(lower_bound=0)
        .mean()
    ).item()
    return float(days) + 1


def days_read_per_account(con: duckdb.DuckDBPyConnection, read_from: date) -> float:
    """The days of fct_account_daily a read from `read_from` on spans (at most: per account)."""
    ((first_day, last_day),) = con.execute(
        "select min(date), max(date) from marts.fct_account_daily where date >= $1", [read_from]
    ).fetchall()
    return 1.0 if last_day is None else float((last_day - first_day).days + 1)


# The inputs of transforms.pipeline.AccountInputs, each a query on the registered scope.
ACCOUNT_INPUTS = (
    "follower_snapshots",
    "post_snapshots",
    "earlier_posts",
    "earlier_weeks",
    "earlier_daily",
    "seed",
    "current_spells",
    "accounts",
    "earlier_dim",
    "as_of_snapshots",
    "follower_changes",
)


def account_input_queries(
    as_of_windows: list[tuple[int, int]], *, numbered: bool = False
) -> dict[str, str]:
    """The SQL of each account input for the registered scope.

    `as_of_windows`: (days before emit_from, days before the last day) of each growth window's
    as-of lookups; numbers from the transforms' own constants. `numbered`: every row carries
    its account's ACCOUNT_NUMBER and partition_number first, from the scope's own columns (a
    scope registered with its partitions: register_scope), as spill_account_inputs spills them.
    """
    windows = " or ".join(
        f"(f.snapshot_date between s.chain_from - {int(start)} and s.last_day - {int(end)})"
        for start, end in as_of_windows
    )
    furthest = max(start for start, _ in as_of_windows)
    own = {
        # The daily rows' tier is the query's own (read from the first rebuilt week on).
        "earlier_daily": {
            "columns": ", ".join(f"m.{c}" for c in EARLIER_DAILY_INPUT if c != "tier")
        },
        "earlier_posts": {"columns": ", ".join(f"m.{c}" for c in EARLIER_POSTS_INPUT)},
        "as_of_snapshots": {"windows": windows, "furthest": str(int(furthest))},
    }
    numbers = CARRIED_NUMBERS if numbered else NO_NUMBERS
    return {
        name: sql_text("sql", f"read_{name}.sql").format(**numbers, **own.get(name, {}))
        for name in ACCOUNT_INPUTS
    }


# The partitioned spills name each account by a number (ACCOUNT_NUMBER) rather than its
# (platform, account_id) text: the inputs' millions of rows carried the key's text in every row,
# about half their bytes. A 200,000-creator night's scorecard window (19.6M daily rows): the
# spill 2.8 s and its read back 0.7 s, against 3.7-5.3 and 1.5-2.2 s with the text. Numbers are
# the spill's own (a temp table of the run); each partition's NUMBERS input gives its numbers'
# keys back: the account inputs are keyed again as they are read (the graph works on the key),
# the scorecard windows group on the number (10,000 accounts: 0.17 against 0.28 s) and get
# their key after (flows.transform.scorecard_windows).
ACCOUNT_NUMBER = "account_number"
# The spilled input giving each partition's account numbers their key.
NUMBERS = "numbers"
# The account inputs carry their rows' numbers from the scope they are joined to already
# ({numbers} in their queries; {latest_numbers} where read_seed.sql's last join reads them from
# its own CTE), where they were joined to the spill's numbers afterwards on the key's text: a
# second hash join of every row on two strings, a third of the queries' time (a
# 200,000-creator night's inputs: 3.4 s numbered by the join, 2.3 s unnumbered; the largest,
# the marts' 29 days before each chain, 1.24 s by the join and 0.41 s carried).
CARRIED_NUMBERS = {
    "numbers": f"s.{ACCOUNT_NUMBER}, s.partition_number,",
    "latest_numbers": f"l.{ACCOUNT_NUMBER}, l.partition_number,",
}
NO_NUMBERS = {"numbers": "", "latest_numbers": ""}


def spill_account_inputs(
    con: duckdb.DuckDBPyConnection,
    as_of_windows: list[tuple[int, int]],
    folder: Path,
    partitions: int,
) -> PartitionedInputs:
    """The registered scope's inputs split by its `partition_number` column (spill_partitions):
    one pass over each input's window for every partition, where reading them per partition
    scanned the window once per partition (a night of a million accounts: 200 times).

    Spilled numbered (_spill_numbered); PartitionedInputs.read gives the rows a key back, in
    each query's own columns: the account's stand-in (stand_in_keys), with NUMBERS to give the
    rows built their account_id."""
    inputs = account_input_queries(as_of_windows, numbered=True)
    # What each input's rows are read back as: its own columns (less the numbers), keyed.
    carried = (ACCOUNT_NUMBER, "partition_number")
    columns = {
        name: [c for c in con.sql(sql).columns if c not in carried] for name, sql in inputs.items()
    }
    spilled = _spill_numbered(
        con,
        f"select platform, account_id, partition_number, {ACCOUNT_NUMBER} from scope",
        inputs,
        folder,
        partitions,
        carried=True,
    )
    return replace(spilled, keyed=columns)


def _spill_numbered(
    con: duckdb.DuckDBPyConnection,
    accounts: str,
    queries: dict[str, str],
    folder: Path,
    partitions: int,
    by_key: dict[str, str] | None = None,
    bounded: dict[str, str] | None = None,
    *,
    accounts_numbered: bool = False,
    numbers_to: Path | None = None,
    with_keys: bool = True,
    carried: bool = False,
) -> PartitionedInputs:
    """spill_partitions of `queries` (rows with the account's key) with each account named by
    its ACCOUNT_NUMBER instead, and NUMBERS giving each partition's numbers their key.
    `accounts`: SQL of every account (platform, account_id) with its partition_number, numbered
    here for this spill (`accounts_numbered`: with its ACCOUNT_NUMBER already). `by_key`: queries spilled
    as they are (with their own partition_number). `bounded`: queries whose rows are kept only
    on or after their account's `window_from` (a column of `accounts`), by the date column
    named. `numbers_to`: a Parquet file to write the accounts' numbers and partitions to.
    `with_keys`: whether NUMBERS is spilled (rows read back with their numbers alone need not).
    `carried`: `queries` give each row its ACCOUNT_NUMBER and partition_number themselves
    (CARRIED_NUMBERS), those of `accounts`, numbered already: no join to the numbers."""
    numbering = (
        ""
        if accounts_numbered or carried
        else f", (row_number() over ())::integer as {ACCOUNT_NUMBER}"
    )
    con.execute(
        f"create or replace temp table spill_numbers as select *{numbering} from ({accounts})"
    )
    if numbers_to is not None:
        numbers_to.parent.mkdir(parents=True, exist_ok=True)
        con.execute(
            f"copy (select {ACCOUNT_NUMBER}, platform, account_id, partition_number "
            f"from spill_numbers) to {sql_literal(str(numbers_to))} (format parquet)"
        )
    bounded = bounded or {}
    if carried:
        if bounded:
            raise ValueError("queries carrying their numbers are bounded by their own SQL")
        numbered = {
            name: f"select * exclude (platform, account_id) from ({sql})"
            for name, sql in queries.items()
        }
    else:
        numbered = {
            name: f"select n.{ACCOUNT_NUMBER}, q.* exclude (platform, account_id), "
            f"n.partition_number from ({sql}) as q join spill_numbers as n "
            "on q.platform = n.platform and q.account_id = n.account_id"
            + (f" where q.{bounded[name]} >= n.window_from" if name in bounded else "")
            for name, sql in queries.items()
        }
    if with_keys:
        numbered[NUMBERS] = (
            f"select {ACCOUNT_NUMBER}, platform, account_id, partition_number from spill_numbers"
        )
    try:
        return spill_partitions(con, numbered | (by_key or {}), folder, partitions)
    finally:
        con.execute("drop table if exists spill_numbers")  # a million accounts' keys, spilled


# Rows of a spilled query's result split at a time: DuckDB streams the result in Arrow batches
# of this many rows, and only two batches (one fetched, one being split and written) are in
# Python's memory at once, on top of DuckDB's buffer pool. The million-creator runs, one each:
# batches of a million, full rebuild 988 s at 8,228 MB and night 205 s at 6,379 MB; of a
# quarter million, 1,030 s at 8,259 MB and 224 s at 6,204 MB (a 200,000-creator night: 36.4
# against 35.7 s, 2.85 GB peak either way). The smaller, for the night's lower peak.
SPILL_BATCH_ROWS = 250_000
# Arrow IPC buffers compressed with LZ4: a third of the uncompressed bytes on disk (a million
# creators' full rebuild spills every staged row) for about 1.2 s more per 20M rows written
# and read back than none (2.9 + 1.8 s against 2.0 + 1.5 s).
SPILL_COMPRESSION = "lz4"
# Rows fetched between writes: every partition's rows of these batches are written as one IPC
# batch per partition. A fetched batch splits into a piece per partition, and at a million
# creators (100 partitions) a piece was 2,500 rows: written one by one, the many small batches
# cost the spill and its read back about twice what pieces of ten thousand rows and more cost
# (200,000 creators x 100 days, the night's scorecard window split into 2,500-row pieces:
# 6.0-7.8 s to spill, 4.2-4.8 s to read back; gathered to 16,384 rows, 4.2 and 2.0 s; to
# 65,536, 4.1 and 1.4 s). Gathered by batches fetched, not by each partition's own count: a
# piece is a slice that keeps its whole batch alive, so a partition with few rows would hold
# every batch until the end. At most this many rows wait (0.2-0.3 GB at the spilled inputs'
# widths), besides the batches in flight.
SPILL_WAITING_ROWS = 2_000_000


@dataclass(frozen=True)
class PartitionedInputs:
    """Each input's rows split into `count` account partitions: spilled to Arrow IPC files under
    `folder` (one file per input and partition), or held in memory when there is one partition.

    One partition needs no split: writing its inputs out and reading them back cost a
    20,000-creator night 1.7 s of its 7 (each input read straight into Arrow took a third of
    its partitioned COPY, measured). Held inputs are what a single partition would read back.
    """

    count: int
    empty: dict[str, pl.DataFrame]
    folder: Path
    held: dict[str, pl.DataFrame] | None = None
    # Inputs spilled with their accounts numbered (ACCOUNT_NUMBER; the NUMBERS input gives each
    # partition's numbers their key), with their columns by key: `read` gives them keyed by
    # stand-ins (stand_in_keys), and NUMBERS as it is.
    keyed: dict[str, list[str]] | None = None
    # Inputs read from a set kept by earlier runs (KEPT_INPUTS), beside those spilled here.
    kept: KeptRows | None = None

    def read_ahead(self, con: duckdb.DuckDBPyConnection) -> Iterator[dict[str, pl.DataFrame]]:
        """Every partition's inputs in turn (`read`), the next one read in a thread while the
        caller works on this one: Arrow's file reads and decompression and Polars' joins
        release the GIL, and the partitions' compute left a core partly idle (a million
        creators' night read its partitions back for 16 s of a profiled 169). Two partitions'
        inputs are in memory at once, not one."""
        with ThreadPoolExecutor(max_workers=1) as reader:
            ahead = [reader.submit(self.read, con, 0)] if self.count else []
            for number in range(1, self.count + 1):
                current = ahead.pop().result()
                if number < self.count:
                    ahead.append(reader.submit(self.read, con, number))
                yield current

    def read(self, con: duckdb.DuckDBPyConnection, number: int) -> dict[str, pl.DataFrame]:
        """Partition `number`'s inputs (the empty frame for an input without rows in it)."""
        if self.held is not None:
            inputs = dict(self.held)
        elif self.kept is None:
            inputs = read_spilled_inputs(self.folder, number, self.empty)
        else:
            spilled = {n: e for n, e in self.empty.items() if n not in KEPT_INPUTS}
            inputs = read_spilled_inputs(self.folder, number, spilled)
            inputs |= self.kept.read(number, self.empty)
        if self.keyed is None:
            return inputs
        numbers = inputs.pop(NUMBERS)
        stand_ins = stand_in_keys(numbers.lazy())
        keyed = {
            name: keyed_rows(rows.lazy(), stand_ins, self.keyed[name]).collect()
            for name, rows in inputs.items()
        }
        return keyed | {NUMBERS: numbers}


# The account inputs are read keyed by (platform, the text of the account's number), a stand-in
# for its account_id, and their rows get the account_id back once built (flows.transform.
# build_partition_rows). The graph's joins, groupings and windows hash and compare the key's
# text in every row; Instagram's, YouTube's and TikTok's ids are 17 to 32 characters, beyond the
# 12 bytes Polars holds inline in a string view, where a number's text (at most 10 digits) is
# held inline.
STAND_IN = pl.col(ACCOUNT_NUMBER).cast(pl.String).alias("account_id")


def stand_in_keys(numbers: pl.LazyFrame) -> pl.LazyFrame:
    """A partition's NUMBERS with each account_id replaced by the text of its number."""
    return numbers.select(ACCOUNT_NUMBER, "platform", STAND_IN)


def with_stand_ins(rows: pl.DataFrame, numbers: pl.DataFrame) -> pl.DataFrame:
    """`rows` of the accounts of `numbers` (a partition's NUMBERS) with their stand-in keys."""
    return (
        rows.join(
            numbers.select(*ACCOUNT_KEY, ACCOUNT_NUMBER), on=ACCOUNT_KEY, maintain_order="left"
        )
        .with_columns(STAND_IN)
        .select(rows.columns)
    )


def with_account_ids(rows: pl.DataFrame, numbers: pl.DataFrame) -> pl.DataFrame:
    """`rows` keyed by stand-ins (stand_in_keys) with each account's own account_id back."""
    return (
        rows.with_columns(pl.col("account_id").cast(pl.Int32).alias(ACCOUNT_NUMBER))
        .drop("account_id")
        .join(
            numbers.select(ACCOUNT_NUMBER, "account_id"), on=ACCOUNT_NUMBER, maintain_order="left"
        )
        .select(rows.columns)
    )


def keyed_rows(
    rows: pl.LazyFrame, numbers: pl.LazyFrame, columns: Sequence[str] | None = None
) -> pl.LazyFrame:
    """Rows naming accounts by ACCOUNT_NUMBER with their key instead, from `numbers` (a
    partition's NUMBERS input): in `columns`, else the key first."""
    keyed = rows.join(numbers.select(ACCOUNT_NUMBER, *ACCOUNT_KEY), on=ACCOUNT_NUMBER)
    if columns is None:
        return keyed.select(*ACCOUNT_KEY, pl.exclude(ACCOUNT_NUMBER, *ACCOUNT_KEY))
    return keyed.select(columns)


def spill_partitions(
    con: duckdb.DuckDBPyConnection, queries: dict[str, str], folder: Path, partitions: int
) -> PartitionedInputs:
    """Each query's rows (with a `partition_number` column, 0..partitions-1) split by partition
    in one pass: written to folder/<name>/<partition>.arrow (read back with
    PartitionedInputs.read), or, for a single partition, read into memory.

    The result streams out of DuckDB in Arrow batches, each split by partition and appended to
    the partition's IPC file: no Parquet encoding (DuckDB's partitioned COPY spent most of its
    time there: a 200,000-creator x 100-day night's scorecard window, 19.6M daily rows, 4.7 s
    to write and 1.7 s to read back, against 2.9 s and 1.8 s as LZ4 IPC; its scan alone is
    0.3 s), and the types read back are exactly those DuckDB gave.
    """
    if partitions == 1:
        held = {
            name: table(con, f"select * exclude (partition_number) from ({sql})")
            for name, sql in queries.items()
        }
        return PartitionedInputs(1, {n: f.clear() for n, f in held.items()}, folder, held)
    empty = {}
    for name, sql in queries.items():
        reader = con.sql(sql).to_arrow_reader(SPILL_BATCH_ROWS)
        schema = reader.schema.remove(reader.schema.get_field_index("partition_number"))
        empty[name] = pl.DataFrame(schema.empty_table())
        _split_to_files(reader, schema, folder / name)
    return PartitionedInputs(partitions, empty, folder)


def _split_to_files(reader: pa.RecordBatchReader, schema: pa.Schema, folder: Path) -> None:
    """Each batch's rows appended to the IPC file of their partition_number (files opened as
    partitions appear; a partition without rows has none).

    A worker thread splits and writes while this one fetches the next batch from DuckDB: the
    fetch runs the query (the account inputs' joins and windows), and one after the other the
    spill was slower than the COPY it replaced (pyarrow's sort, take and compression release
    the GIL). Each partition's rows are written once SPILL_WAITING_ROWS have been fetched."""
    folder.mkdir(parents=True, exist_ok=True)
    options = pa.ipc.IpcWriteOptions(compression=SPILL_COMPRESSION)
    writers: dict[int, pa.ipc.RecordBatchFileWriter] = {}
    waiting: dict[int, list[pa.RecordBatch]] = {}

    def flush() -> None:
        for number, pieces in waiting.items():
            if number not in writers:
                writers[number] = pa.ipc.new_file(
                    folder / f"{number}.arrow", schema, options=options
                )
            # One batch of the gathered pieces (a copy of their rows: the slices let go of the
            # batches they were cut from).
            writers[number].write_batch(pa.concat_batches(pieces))
        waiting.clear()

    def write(batch: pa.RecordBatch, then_flush: bool) -> None:
        # Sorted by partition, each partition's rows are one slice (no copy beyond the sort).
        ordered = batch.take(pc.sort_indices(batch.column("partition_number")))
        offset = 0
        for run in pc.value_counts(ordered.column("partition_number")):
            number, rows = run["values"].as_py(), run["counts"].as_py()
            waiting.setdefault(number, []).append(
                ordered.slice(offset, rows).drop_columns(["partition_number"])
            )
            offset += rows
        if then_flush:
            flush()

    gathered = max(1, SPILL_WAITING_ROWS // SPILL_BATCH_ROWS)  # batches between writes
    try:
        with ThreadPoolExecutor(max_workers=1) as worker:
            # One batch written while the next is fetched: two in memory at most, besides the
            # pieces waiting to be written.
            pending: Future[None] | None = None
            for fetched, batch in enumerate(reader, start=1):
                if pending is not None:
                    pending.result()
                pending = worker.submit(write, batch, fetched % gathered == 0)
            if pending is not None:
                pending.result()
        flush()
    finally:
        for writer in writers.values():
            writer.close()


def read_spilled_inputs(
    folder: Path, partition: int, empty: dict[str, pl.DataFrame]
) -> dict[str, pl.DataFrame]:
    """One partition's inputs from spill_partitions."""
    inputs = {}
    for name, nothing in empty.items():
        rows = _read_arrow(folder / name / f"{partition}.arrow")
        inputs[name] = nothing if rows is None else rows
    return inputs


def _read_arrow(file: Path) -> pl.DataFrame | None:
    """A spilled IPC file's rows; None when there is no such file (a partition without rows)."""
    if not file.exists():
        return None
    with pa.OSFile(str(file)) as source:
        return pl.DataFrame(pa.ipc.open_file(source).read_all())


def spill_folder(con: duckdb.DuckDBPyConnection) -> Path:
    """Where a run's spilled inputs go: the connection's DuckDB temp directory when one was set,
    else the warehouse file's folder (they can be large, so not necessarily /tmp)."""
    database = _database_path(con)
    ((temp,),) = con.execute("select current_setting('temp_directory')").fetchall()
    return spill_folder_of(Path(database) if database else None, temp_directory_set(temp, database))


def _database_path(con: duckdb.DuckDBPyConnection) -> str | None:
    """The connection's warehouse file as DuckDB names it; None for an in-memory database."""
    ((database,),) = con.execute(
        "select path from duckdb_databases() where database_name = current_database()"
    ).fetchall()
    return database or None


def temp_directory_set(temp: str, database: str | None) -> Path | None:
    """The configured temp directory, or None where DuckDB shows its default (`<file>.tmp`)."""
    default = f"{database}.tmp" if database else ".tmp"
    return Path(temp) if temp and temp != default else None


def spill_folder_of(database: Path | None, temp_directory: Path | None) -> Path:
    """spill_folder for the warehouse file `database` (None: an in-memory database)."""
    if temp_directory is not None:
        return temp_directory
    return database.parent if database else Path(tempfile.gettempdir())


def replace_tiers(con: duckdb.DuckDBPyConnection, tiers: pl.DataFrame) -> None:
    """marts.dim_tier: the tiers of the scheme the marts are built with (a handful of rows)."""
    con.execute("delete from marts.dim_tier")
    _insert(con, "dim_tier", tiers)


def _insert(con: duckdb.DuckDBPyConnection, mart: str, rows: pl.DataFrame) -> None:
    columns = [c.name for c in next(m for m in MARTS if m.name == mart).columns]
    # Columns filled by a later step (er_vs_tier_median) go in as null.
    missing = [c for c in columns if c not in rows.columns]
    rows = rows.with_columns(pl.lit(None).alias(c) for c in missing)
    # Not through a registered view: one registered inside the rebuild's transaction keeps its
    # Arrow table alive until the commit (a full rebuild of a million accounts outgrew 20 GB).
    # Arrow's string views, as Polars holds them: the default export copies every string into
    # Arrow's plain layout first (4M rows of two string columns: 0.1 GB more, no faster).
    arrow = rows.select(columns).to_arrow(compat_level=pl.CompatLevel.newest())
    con.from_arrow(arrow).insert_into(f"marts.{mart}")


# Account-grain marts whose rows a rebuild of an account replaces (see rebuilt_rows).
ACCOUNT_MARTS = (*ACCOUNT_MART_DATES, "fct_tier_history", "dim_account")


# The marts of the follower-day chain: a rebuild replaces their rows from chain_from (the
# scope's first day of the chain rebuilt: pending_scope.sql), the others' from emit_from.
CHAIN_MARTS = ("fct_account_daily", "fct_tier_migrations", "fct_tier_history")


def rebuilt_rows(
    mart: str, first_day: date | None = None, *, chain: bool = False
) -> tuple[str, list | None]:
    """SQL condition on `m` (a mart row) and `s` (a scope row: platform, account_id, emit_from,
    and chain_from when `chain`): the rows a rebuild of `s` from emit_from replaces, and the
    condition's parameters. The incremental publish uses the same without `chain`: from
    emit_from, a chain mart's rows from the earliest day any of the account's rows changed (a
    day no later than chain_from: the rows between are copied as they are).

    `chain`: the chain marts' rows from chain_from, as the rebuild replaces them.
    `first_day`: a day no later than any scope row's emit_from (chain_from for a chain mart
    when `chain`). It selects the same rows, but bounds a dated mart's scan so DuckDB skips the
    row groups before it: without it every partition of a night would scan the marts' whole
    history.
    """
    same_account = "m.platform = s.platform and m.account_id = s.account_id"
    start = "s.chain_from" if chain and mart in CHAIN_MARTS else "s.emit_from"
    if mart == "dim_account":
        return same_account, None
    if mart == "fct_tier_history":  # the spell still open on the first day - 1 is rebuilt too
        return f"{same_account} and (m.valid_to is null or m.valid_to >= {start})", None
    if mart == "fct_engagement_weekly":
        condition = f"{same_account} and m.week_start >= date_trunc('week', {start})"
        bound = "date_trunc('week', $1::date)"
    else:
        condition = f"{same_account} and m.{ACCOUNT_MART_DATES[mart]} >= {start}"
        bound = "$1::date"
    if first_day is None:
        return condition, None
    return f"{condition} and m.{ACCOUNT_MART_DATES[mart]} >= {bound}", [first_day]


def delete_account_rows(con: duckdb.DuckDBPyConnection) -> None:
    """Delete the registered scope's rows from emit_from on (the chain marts' from chain_from),
    which its rebuild replaces (inside the caller's transaction, after its inputs are read: they
    include the marts' earlier rows)."""
    ((first_day, first_chain_day),) = con.execute(
        "select min(emit_from), min(chain_from) from scope"
    ).fetchall()
    for mart in ACCOUNT_MARTS:
        bound = first_chain_day if mart in CHAIN_MARTS else first_day
        condition, params = rebuilt_rows(mart, bound, chain=True)
        con.execute(f"delete from marts.{mart} as m using scope as s where {condition}", params)


def insert_account_rows(con: duckdb.DuckDBPyConnection, outputs: dict[str, pl.DataFrame]) -> None:
    """Add rebuilt rows to marts that hold none of their accounts' (a full rebuild emptied them).

    Dated marts get their rows in date order: a partition's row groups then span a few weeks
    each instead of the whole history, so the date-bounded reads of every later night skip
    the rest (DuckDB's min/max zonemaps). In account order each row group spans every day,
    and a night's reads grew with the history.
    """
    for mart, rows in outputs.items():
        day = ACCOUNT_MART_DATES.get(mart)
        _insert(con, mart, rows.sort(day) if day else rows)


def record_changes(
    con: duckdb.DuckDBPyConnection, run_id: str, everything: str | None, scope: pl.DataFrame
) -> None:
    """Log what this rebuild changed (inside its transaction), for an incremental publish."""
    ((sequence,),) = con.execute(
        "select coalesce(max(sequence), 0) + 1 from meta.mart_changes"
    ).fetchall()
    first_day = scope["emit_from"].min()
    con.execute(
        "insert into meta.mart_changes values ($1, $2, $3, $4, now())",
        [sequence, run_id, everything or "accounts", None if first_day == FAR_PAST else first_day],
    )
    if everything is None:
        con.register("changed", scope.select("platform", "account_id", "emit_from").to_arrow())
        con.execute(
            "insert into meta.mart_changed_accounts "
            "select $1, platform, account_id, emit_from from changed",
            [sequence],
        )
        con.unregister("changed")


def weeks_from(con: duckdb.DuckDBPyConnection, week: date) -> tuple[date | None, date | None]:
    """The first and last weeks with weekly rows from `week` on (a full rebuild starts at 1900)."""
    ((first, last),) = con.execute(
        "select min(week_start), max(week_start) from marts.fct_engagement_weekly "
        "where week_start >= $1",
        [week],
    ).fetchall()
    return first, last


def delete_weeks_after(con: duckdb.DuckDBPyConnection, week: date, *, inclusive: bool) -> None:
    """Weeks beyond the ones being rebuilt (none, or all from `week` when nothing is left)."""
    operator = ">=" if inclusive else ">"
    con.execute(f"delete from marts.fct_engagement_weekly where week_start {operator} $1", [week])


def weekly_between(con: duckdb.DuckDBPyConnection, start: date, end: date) -> pl.LazyFrame:
    return frame(
        con,
        "select * from marts.fct_engagement_weekly where week_start >= $1 and week_start < $2",
        [start, end],
    )


def replace_weeks(
    con: duckdb.DuckDBPyConnection, start: date, end: date, rows: pl.DataFrame
) -> None:
    con.execute(
        "delete from marts.fct_engagement_weekly where week_start >= $1 and week_start < $2",
        [start, end],
    )
    _insert(con, "fct_engagement_weekly", rows)


def months_from(con: duckdb.DuckDBPyConnection, month: date) -> tuple[date | None, date | None]:
    """The first and last months with a follower day or a post from `month` on."""
    ((first, last),) = con.execute(
        "with days as ("
        "select min(date) as first, max(date) as last from marts.fct_account_daily where date >= $1 "
        "union all select min(published_date), max(published_date) from marts.fct_post_metrics "
        "where published_date >= $1) "
        "select date_trunc('month', min(first))::date, date_trunc('month', max(last))::date from days",
        [month],
    ).fetchall()
    return first, last


def delete_months_after(con: duckdb.DuckDBPyConnection, month: date, *, inclusive: bool) -> None:
    operator = ">=" if inclusive else ">"
    for mart in PERIOD_MARTS:
        con.execute(f"delete from marts.{mart} where month {operator} $1", [month])


def spill_period_inputs(
    con: duckdb.DuckDBPyConnection,
    start: date,
    end: date,
    partition_accounts: int,
    folder: Path,
) -> PartitionedInputs:
    """What the monthly marts of [start, end) read, split into account partitions by hash in
    one pass (see spill_partitions): the daily rows, the posts published, each account's
    confirmed tier before `start` (the tier spell open then: tier history is one row per spell,
    so this does not grow with the days) and its category.

    About `partition_accounts` accounts per partition.
    """
    count = partition_count(con, partition_accounts)
    partition = _partition_number(count)
    # Literals, not parameters: spill_partitions takes each query as text alone. Dates and
    # integers only.
    first, last = sql_literal(start.isoformat()), sql_literal(end.isoformat())
    queries = {
        "daily": f"select {', '.join(PERIOD_DAILY_INPUT)}, {partition} "
        f"from marts.fct_account_daily where date >= {first}::date and date < {last}::date",
        "posts": f"select {', '.join(PERIOD_POSTS_INPUT)}, {partition} "
        "from marts.fct_post_metrics "
        f"where published_date >= {first}::date and published_date < {last}::date",
        **_month_accounts_queries(start, partition),
    }
    return spill_partitions(con, queries, folder, count)


def account_count(con: duckdb.DuckDBPyConnection) -> int:
    """Every account of the marts (dim_account)."""
    ((accounts,),) = con.execute("select count(*) from marts.dim_account").fetchall()
    return int(accounts)


def partition_count(con: duckdb.DuckDBPyConnection, partition_accounts: int) -> int:
    """Account partitions of about `partition_accounts` accounts each, over every account."""
    return max(1, -(-account_count(con) // partition_accounts))


def _partition_number(count: int) -> str:
    """The partition of an account among `count`: the same for every spill of the same count."""
    return f"(hash(platform, account_id) % {count})::integer as partition_number"


def _month_accounts_queries(start: date, partition: str) -> dict[str, str]:
    """What the monthly marts of a month from `start` read per account besides its rows: the
    confirmed tier before `start` and the category."""
    first = sql_literal(start.isoformat())
    return {
        "prior_tiers": "select platform, account_id, arg_max(tier, valid_from) as prior_tier, "
        f"{partition} from marts.fct_tier_history where valid_from < {first}::date group by all",
        "categories": f"select platform, account_id, category, {partition} from marts.dim_account",
    }


PERIOD_MARTS = ("agg_tier_transitions_monthly", "agg_tier_benchmarks")


def replace_months(
    con: duckdb.DuckDBPyConnection, start: date, end: date, outputs: dict[str, pl.DataFrame]
) -> None:
    for mart, rows in outputs.items():
        con.execute(f"delete from marts.{mart} where month >= $1 and month < $2", [start, end])
        _insert(con, mart, rows)


# --- Campaigns and brands (flows/transform.py: campaign step) -------------------------------

CAMPAIGN_MARTS = ("fct_campaign_posts", "agg_campaign_creators", "agg_campaign")
ACCOUNT_MONTH_MARTS = ("agg_brand_mentions", "agg_sponsored_monthly")


def campaign_definitions(con: duckdb.DuckDBPyConnection) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Staged campaigns, and their creators with each account resolved."""
    return (
        table(con, sql_text("sql", "read_campaigns.sql")),
        table(con, sql_text("sql", "read_campaign_creators.sql")),
    )


def campaign_builds(con: duckdb.DuckDBPyConnection) -> dict[str, str]:
    """Each campaign's build fingerprint as its mart rows were last built."""
    return dict(
        con.execute("select campaign_id, build_sha256 from meta.campaign_builds").fetchall()
    )


def posts_with_tags(
    con: duckdb.DuckDBPyConnection, wanted: pl.DataFrame, columns: Sequence[str] | None = None
) -> pl.DataFrame:
    """fct_post_metrics rows of `wanted` (platform, account_id, from_date) with their latest
    tags: every column of read_posts_with_tags.sql, or only `columns` (DuckDB then reads no
    other)."""
    sql = sql_text("sql", "read_posts_with_tags.sql")
    if columns is not None:
        sql = f"select {', '.join(columns)} from ({sql})"
    con.register("wanted", wanted.to_arrow())
    try:
        return table(con, sql)
    finally:
        con.unregister("wanted")


def month_posts(
    con: duckdb.DuckDBPyConnection,
    wanted: pl.DataFrame,
    before: date,
    brand_handles: Sequence[str] = (),
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """The posts of `wanted` (platform, account_id, from_date) published before `before` that
    agg_sponsored_monthly reads (read_month_posts.sql), and those of them naming one of
    `brand_handles` with their tags (read_brand_posts.sql: what agg_brand_mentions reads; none
    read without handles)."""
    con.register("wanted", wanted.to_arrow())
    try:
        posts = table(con, sql_text("sql", "read_month_posts.sql"), [before])
        brands = sql_text("sql", "read_brand_posts.sql")
        if brand_handles:
            named = table(con, brands, [list(brand_handles), before])
        else:
            named = table(con, brands + " limit 0", [[], before])
        return posts, named
    finally:
        con.unregister("wanted")


def replace_campaign_rows(
    con: duckdb.DuckDBPyConnection,
    campaign_ids: list[str],
    outputs: dict[str, pl.DataFrame],
    builds: dict[str, str],
    run_id: str,
) -> None:
    """Swap the rows of the given campaigns (gone ones too) and record what they were built from."""
    for mart in CAMPAIGN_MARTS:
        con.execute(
            f"delete from marts.{mart} where campaign_id in (select unnest($1::varchar[]))",
            [campaign_ids],
        )
        _insert(con, mart, outputs[mart])
    record_campaign_builds(con, campaign_ids, builds, run_id)


def record_campaign_builds(
    con: duckdb.DuckDBPyConnection, campaign_ids: list[str], builds: dict[str, str], run_id: str
) -> None:
    """What the given campaigns' rows were built from (gone campaigns: no row)."""
    con.execute(
        "delete from meta.campaign_builds where campaign_id in (select unnest($1::varchar[]))",
        [campaign_ids],
    )
    rows = [(c, sha, run_id) for c, sha in builds.items()]
    if rows:
        con.executemany("insert into meta.campaign_builds values (?, ?, ?)", rows)


def brand_handles_built(con: duckdb.DuckDBPyConnection) -> str | None:
    rows = con.execute("select handles_sha256 from meta.brand_handle_builds").fetchall()
    return rows[0][0] if rows else None


def replace_account_month_rows(
    con: duckdb.DuckDBPyConnection,
    wanted: pl.DataFrame | None,
    outputs: dict[str, pl.DataFrame],
    handles_sha256: str,
    run_id: str,
) -> None:
    """Swap the rows of the wanted accounts from their from_date's month (None: every row)."""
    for mart in ACCOUNT_MONTH_MARTS:
        if wanted is None:
            con.execute(f"delete from marts.{mart}")
        else:
            con.register("wanted", wanted.to_arrow())
            con.execute(
                f"delete from marts.{mart} as m using wanted as w where m.platform = w.platform "
                "and m.account_id = w.account_id and m.month >= date_trunc('month', w.from_date)"
            )
            con.unregister("wanted")
        _insert(con, mart, outputs[mart])
    record_brand_handles(con, handles_sha256, run_id)


def record_brand_handles(con: duckdb.DuckDBPyConnection, handles_sha256: str, run_id: str) -> None:
    con.execute("delete from meta.brand_handle_builds")
    con.execute("insert into meta.brand_handle_builds values (?, ?)", [handles_sha256, run_id])


# --- Creator scorecards (flows/transform.py: scorecard step) --------------------------------


def scorecard_rules_built(con: duckdb.DuckDBPyConnection) -> str | None:
    rows = con.execute("select rules from meta.scorecard_builds").fetchall()
    return rows[0][0] if rows else None


def _scorecard_queries(first: str, scored: str) -> dict[str, str]:
    """The scorecard inputs' SQL between two date literals: the daily rows from the first month
    scored (`scored`: "daily"), those before it from `first` with the window's columns only
    ("window_before": creator_windows' earlier_daily), the posts published from `first`
    ("posts") and before `scored` ("posts_before")."""
    return {
        "window_before": f"select {', '.join(SCORECARD_WINDOW_INPUT)} "
        f"from marts.fct_account_daily where date >= {first} and date < {scored}",
        "daily": f"select {', '.join(SCORECARD_DAILY_INPUT)} "
        f"from marts.fct_account_daily where date >= {scored}",
        "posts": f"select {', '.join(SCORECARD_POSTS_INPUT)} "
        f"from marts.fct_post_metrics where published_date >= {first}",
        "posts_before": f"select {', '.join(SCORECARD_POSTS_INPUT)} from marts.fct_post_metrics "
        f"where published_date >= {first} and published_date < {scored}",
    }


def scorecard_read_from(first_month: date, window_days: int) -> date:
    """The first day the scorecard windows of the months from `first_month` on can reach: a
    window of `window_days` ending on the month's first day."""
    return first_month - timedelta(days=window_days - 1)


def spill_scorecard_inputs(
    con: duckdb.DuckDBPyConnection,
    first_month: date,
    window_days: int,
    partition_accounts: int,
    folder: Path,
    *,
    month: date | None = None,
    kept: KeptRows | None = None,
) -> PartitionedInputs:
    """The daily and post mart rows the scorecard windows of the months from `first_month` on
    read, split into account partitions by hash in one pass: the daily rows from `first_month`
    ("daily"), those before it with the window's columns only ("window_before":
    creator_windows' earlier_daily) and the posts, the last two each account's from the start
    of its first window (scorecard_accounts.sql; never after `first_month`), every account's
    from scorecard_read_from at the earliest. Read back numbered (ACCOUNT_NUMBER; the windows
    group on it), with NUMBERS for their keys: numbered over dim_account, which has a row for
    every account the daily mart has (the account graph writes both for its scope).

    `month`: also what the monthly marts of the month from `month` read besides those rows
    (prior_tiers, categories, by their key; spill_period_inputs), whose rows are among these
    when `month` is `first_month`: one spill serves both (flows.transform.MonthReads).

    `kept`: the rows before `first_month` kept (KeptRows): only the rows from `first_month` on
    are read, in the kept rows' partitions and numbers, into `folder` (the set's tail_folder, for
    keep_scorecard_tail: _spill_beside_kept).
    """
    if kept is not None:
        return _spill_beside_kept(con, kept, folder, month)
    count = partition_count(con, partition_accounts)
    partition = _partition_number(count)
    first = _date_literal(scorecard_read_from(first_month, window_days))
    scored = _date_literal(first_month)
    queries = {
        name: sql
        for name, sql in _scorecard_queries(first, scored).items()
        if name in ("window_before", "daily", "posts")
    }
    month_queries = _month_accounts_queries(month, partition) if month is not None else None
    if first_month == FAR_PAST:
        # Every month (a full rebuild, new rules): every row, no per-account bound to find.
        accounts = (
            f"select platform, account_id, {partition}, {first} as window_from "
            "from marts.dim_account"
        )
    else:
        accounts = sql_text("sql", "scorecard_accounts.sql").format(
            first_month=scored, before=int(window_days) - 1, partition=partition, without=scored
        )
    return _spill_numbered(
        con,
        accounts,
        queries,
        folder,
        count,
        by_key=month_queries,
        bounded={"window_before": "date", "posts": "published_date"},
    )


# The scorecard windows' rows before their first month, kept between nights. A night's windows
# reach window_days back from each account's last day of the month: at a million creators about
# 80M daily rows and 65M posts before the month, unchanged by the night (it changes rows from
# its scope's first day, in the month), that were read from the marts, numbered, split and
# spilled again every night (14 of the monthly spill's 18 s). They are kept under
# <warehouse>.scorecard-rows/ as a set of chunks, each a range of days of every account's rows,
# split into the set's partitions and numbered as its accounts (numbers.parquet):
# - a keep (the first night without a valid set; a full rebuild, for the month of its last day)
#   spills a chunk per month from the marts (keep_scorecard_rows);
# - a night that reads a set keeps its own spill of the rows from the set's month on, its tail
#   (keep_scorecard_tail), and the first night of a later month makes that month's set of the
#   set's chunks its windows still reach and the tail, reading nothing before the month from
#   the marts (kept_scorecard_rows). Session 50 spilled a whole set from the marts on that
#   night: 14 s of a million creators' 133.
# meta.scorecard_row_sets names the valid set, meta.scorecard_row_chunks its chunks and
# meta.scorecard_row_tail the last night's tail. A rebuild that changes a daily or post row
# dated before a set's month deletes the set, and lowers the tail's valid_before to its first
# day changed, in its own transaction (forget_scorecard_rows_from): kept rows are read only
# while the marts hold exactly them. Folders no row names are removed whenever the rows change
# (a failed run's, a set's chunks its windows no longer reach).
KEPT_INPUTS = ("window_before", "posts_before")
# The inputs of a night's spill beside a set that its tail keeps (spill_scorecard_inputs').
TAIL_INPUTS = ("daily", "posts")
_KEPT_FOLDER = ".scorecard-rows"
_KEPT_NUMBERS = "numbers.parquet"
_KEPT_COMPLETE = "complete"
_TAIL_SUFFIX = ".tail"
# A month's set made from the one before keeps its partitions: once the accounts outgrow them
# by more than this, the set is spilled from the marts again, in partitions of today's size (a
# partition's memory follows its accounts).
KEPT_PARTITIONS_GROWTH = 1.25


@dataclass(frozen=True)
class KeptChunk:
    """Every account's kept rows of the days before `rows_before` in a range:
    folder/<input>/<partition>.arrow of its window input (window_before's columns, or a night's
    "daily" with more, of which the window's are read) and of its posts input. A night's tail
    holds rows from rows_before on too: they are cut when read."""

    folder: Path
    window_input: str
    posts_input: str
    rows_before: date


@dataclass(frozen=True)
class KeptRows:
    """A set of kept rows (keep_scorecard_rows, kept_scorecard_rows): its chunks, and the file
    of the accounts' numbers and partitions they were spilled in, for the windows of
    `window_days` from first_month on."""

    numbers: Path
    first_month: date
    window_days: int
    partitions: int
    chunks: tuple[KeptChunk, ...]

    def read(self, partition: int, empty: dict[str, pl.DataFrame]) -> dict[str, pl.DataFrame]:
        """Partition `partition`'s rows of KEPT_INPUTS from every chunk, in `empty`'s columns."""
        window_columns = empty["window_before"].columns
        windows, posts = [], []
        for chunk in self.chunks:
            rows = _read_arrow(chunk.folder / chunk.window_input / f"{partition}.arrow")
            if rows is not None and chunk.window_input != "window_before":
                rows = rows.filter(pl.col("date") < chunk.rows_before).select(window_columns)
            windows += [] if rows is None else [rows]
            rows = _read_arrow(chunk.folder / chunk.posts_input / f"{partition}.arrow")
            if rows is not None and chunk.posts_input != "posts_before":
                rows = rows.filter(pl.col("published_date") < chunk.rows_before)
            posts += [] if rows is None else [rows]
        return {
            "window_before": pl.concat(windows) if windows else empty["window_before"],
            "posts_before": pl.concat(posts) if posts else empty["posts_before"],
        }

    def tail_folder(self, run_id: str) -> Path:
        """Where run `run_id` spills its rows beside this set (kept as its tail afterwards)."""
        return self.numbers.parent.parent / (run_id + _TAIL_SUFFIX)


def kept_rows_folder(con: duckdb.DuckDBPyConnection) -> Path | None:
    """Where a warehouse file keeps scorecard rows (<file>.scorecard-rows beside it); None for an
    in-memory database, which keeps none (nothing of it outlives the process)."""
    database = _database_path(con)
    return Path(database + _KEPT_FOLDER) if database else None


def kept_scorecard_rows(
    con: duckdb.DuckDBPyConnection, first_month: date, window_days: int, partitions: int
) -> KeptRows | None:
    """The kept rows before `first_month` for windows of `window_days`: the valid set, when it
    is first_month's; first_month's set made of an earlier month's set and the last night's tail
    (recorded here, in the caller's transaction), when the tail still holds the marts' rows up
    to first_month; None otherwise (the caller keeps a set from the marts). `partitions`: how
    many the caller would spill in now (a set whose accounts outgrew its partitions is not made
    into the next month's)."""
    root = kept_rows_folder(con)
    sets = con.execute(
        "select first_month, window_days, partitions, numbers, duckdb_version "
        "from meta.scorecard_row_sets"
    ).fetchall()
    if root is None or len(sets) != 1:
        return None
    month, days, count, numbers, version = sets[0]
    # The partitions are by DuckDB's hash (_partition_number): another version may place an
    # account elsewhere than its kept rows.
    if days != window_days or version != duckdb.__version__ or month > first_month:
        return None
    chunks = tuple(
        KeptChunk(root / folder, window_input, posts_input, before)
        for folder, window_input, posts_input, before in con.execute(
            "select folder, window_input, posts_input, rows_before "
            "from meta.scorecard_row_chunks order by rows_before"
        ).fetchall()
    )
    made = month < first_month
    if made:
        tail = _tail_before(con, root, numbers, month, first_month)
        if tail is None or partitions > count * KEPT_PARTITIONS_GROWTH:
            return None
        reach = scorecard_read_from(first_month, window_days)
        chunks = (*(chunk for chunk in chunks if chunk.rows_before > reach), tail)
        numbers = tail.folder.name
    kept = KeptRows(root / numbers / _KEPT_NUMBERS, first_month, window_days, count, chunks)
    if not kept.numbers.exists() or not all((c.folder / _KEPT_COMPLETE).exists() for c in chunks):
        return None
    if made:
        _record_set(con, root, kept)
    return kept


def _tail_before(
    con: duckdb.DuckDBPyConnection, root: Path, set_numbers: str, set_month: date, month: date
) -> KeptChunk | None:
    """The last night's tail as a chunk of the rows before `month`: if it was spilled beside the
    set numbered `set_numbers` (of `set_month`) and no rebuild since changed a row before
    `month`."""
    tails = con.execute(
        "select folder, set_numbers, from_month, valid_before from meta.scorecard_row_tail"
    ).fetchall()
    if len(tails) != 1:
        return None
    folder, beside, from_month, valid_before = tails[0]
    if (beside, from_month) != (set_numbers, set_month):
        return None
    if valid_before is not None and valid_before < month:
        return None
    return KeptChunk(root / folder, *TAIL_INPUTS, month)


def _record_set(con: duckdb.DuckDBPyConnection, root: Path, kept: KeptRows) -> None:
    """Name `kept` as the valid set (a tail among its chunks is no longer a tail), and remove
    the folders no row names any more."""
    con.execute("delete from meta.scorecard_row_sets")
    con.execute("delete from meta.scorecard_row_chunks")
    con.execute(
        "insert into meta.scorecard_row_sets values (?, ?, ?, ?, ?)",
        [
            kept.first_month,
            kept.window_days,
            kept.partitions,
            kept.numbers.parent.name,
            duckdb.__version__,
        ],
    )
    for chunk in kept.chunks:
        con.execute(
            "insert into meta.scorecard_row_chunks values (?, ?, ?, ?)",
            [
                chunk.folder.relative_to(root).as_posix(),
                chunk.window_input,
                chunk.posts_input,
                chunk.rows_before,
            ],
        )
    con.execute(
        "delete from meta.scorecard_row_tail as t using meta.scorecard_row_chunks as c "
        "where c.folder = t.folder"
    )
    _sweep_kept(con, root)


def _sweep_kept(con: duckdb.DuckDBPyConnection, root: Path) -> None:
    """Remove what under `root` no meta row names (as this transaction has them: a run that
    fails afterwards leaves rows naming a folder removed, which is read as no set or tail): whole
    folders, and the chunks of a set's folder its windows no longer reach."""
    ((named,),) = con.execute(
        "select list(distinct folder) from ("
        "select numbers as folder from meta.scorecard_row_sets "
        "union all select folder from meta.scorecard_row_chunks "
        "union all select folder from meta.scorecard_row_tail)"
    ).fetchall()
    named = set(named or ())
    for entry in root.iterdir() if root.exists() else ():
        chunks = {n for n in named if n.startswith(entry.name + "/")}
        if entry.name not in named and not chunks:
            _remove(entry)
        elif chunks:  # a keep's folder of month chunks (and its numbers)
            for chunk in entry.iterdir():
                if chunk.is_dir() and f"{entry.name}/{chunk.name}" not in chunks:
                    _remove(chunk)


def _remove(entry: Path) -> None:
    if entry.is_dir() and not entry.is_symlink():
        shutil.rmtree(entry, ignore_errors=True)
    else:
        entry.unlink(missing_ok=True)


def keep_scorecard_rows(
    con: duckdb.DuckDBPyConnection,
    first_month: date,
    window_days: int,
    partition_accounts: int,
    run_id: str,
) -> KeptRows | None:
    """Spill the daily and post rows before `first_month` that the windows of `window_days` from
    it reach, now or on a later night of the month (scorecard_accounts.sql), into a new set of a
    chunk per month, and record it (the caller's transaction). None, keeping nothing, for an
    in-memory database or a single partition (its rows are read straight into memory, not
    spilled)."""
    forget_scorecard_rows(con)
    root = kept_rows_folder(con)
    count = partition_count(con, partition_accounts)
    if root is None:
        return None
    if count == 1:
        # The creators fit one partition now: nothing is kept, and the set forgotten above (from
        # nights of more partitions) is removed from disk rather than left for a later keep.
        _sweep_kept(con, root)
        return None
    folder = root / run_id
    _remove(folder)
    reach = scorecard_read_from(first_month, window_days)
    months = []
    start = reach.replace(day=1)
    while start < first_month:
        months.append(start)
        start = _next_month(start)
    queries = {}
    for month in months:
        of_month = _scorecard_queries(
            _date_literal(max(month, reach)), _date_literal(_next_month(month))
        )
        for name in KEPT_INPUTS:
            queries[f"{month:%Y-%m}/{name}"] = of_month[name]
    # From each account's first window as the marts have it now: the month's later nights only
    # add days, so its windows start there or later (staging never loses a day); an account
    # without a day in the month yet, from the first day any window reaches.
    accounts = sql_text("sql", "scorecard_accounts.sql").format(
        first_month=_date_literal(first_month),
        before=int(window_days) - 1,
        partition=_partition_number(count),
        without=_date_literal(reach),
    )
    _spill_numbered(
        con,
        accounts,
        queries,
        folder,
        count,
        bounded={
            name: "date" if name.endswith("window_before") else "published_date" for name in queries
        },
        numbers_to=folder / _KEPT_NUMBERS,
        with_keys=False,
    )
    chunks = tuple(
        KeptChunk(folder / f"{month:%Y-%m}", *KEPT_INPUTS, _next_month(month)) for month in months
    )
    for chunk in chunks:
        chunk.folder.mkdir(parents=True, exist_ok=True)
        (chunk.folder / _KEPT_COMPLETE).touch()
    kept = KeptRows(folder / _KEPT_NUMBERS, first_month, window_days, count, chunks)
    _record_set(con, root, kept)
    return kept


def keep_scorecard_tail(con: duckdb.DuckDBPyConnection, spilled: PartitionedInputs) -> None:
    """Keep a night's spill beside a set (spill_scorecard_inputs with `kept`, in the set's
    tail_folder) as the tail: its daily and post rows from the set's month on and the numbers
    they were spilled in; its other inputs are removed. The tail it replaces is removed."""
    kept = spilled.kept
    assert kept is not None, "a tail is kept of a spill beside a kept set"
    folder = spilled.folder
    for entry in folder.iterdir():
        if entry.name not in (*TAIL_INPUTS, _KEPT_NUMBERS):
            _remove(entry)
    (folder / _KEPT_COMPLETE).touch()
    con.execute("delete from meta.scorecard_row_tail")
    con.execute(
        "insert into meta.scorecard_row_tail values (?, ?, ?, null)",
        [folder.name, kept.numbers.parent.name, kept.first_month],
    )
    _sweep_kept(con, folder.parent)


def forget_scorecard_rows(con: duckdb.DuckDBPyConnection) -> None:
    for name in ("scorecard_row_sets", "scorecard_row_chunks", "scorecard_row_tail"):
        con.execute(f"delete from meta.{name}")


def forget_scorecard_rows_from(con: duckdb.DuckDBPyConnection, first_changed: date) -> None:
    """A rebuild that changes mart rows from `first_changed` on: a set of a later month holds
    rows it may change (its rows are those before its month), and the tail's rows from
    `first_changed` on are no longer the marts'."""
    con.execute("delete from meta.scorecard_row_sets where first_month > ?", [first_changed])
    ((sets,),) = con.execute("select count(*) from meta.scorecard_row_sets").fetchall()
    if not sets:
        forget_scorecard_rows(con)  # chunks and a tail are read only with their set
        return
    con.execute(
        "update meta.scorecard_row_tail set valid_before = least(coalesce(valid_before, $1), $1)",
        [first_changed],
    )


def _spill_beside_kept(
    con: duckdb.DuckDBPyConnection, kept: KeptRows, folder: Path, month: date | None
) -> PartitionedInputs:
    """spill_scorecard_inputs with the rows before the month kept: the daily and post rows from
    kept.first_month on, numbered as the kept rows are (accounts new since, after them, in the
    partitions of the same hash) into `folder`, with their numbers (a tail's,
    keep_scorecard_tail); read back with the kept rows (PartitionedInputs.kept)."""
    partition = _partition_number(kept.partitions)
    scored = _date_literal(kept.first_month)
    # The posts from the month's first day: those before it are kept.
    queries = {name: _scorecard_queries(scored, scored)[name] for name in TAIL_INPUTS}
    month_queries = _month_accounts_queries(month, partition) if month is not None else None
    numbers = sql_literal(str(kept.numbers))
    accounts = (
        f"with kept as (select * from read_parquet({numbers})) "
        f"select {ACCOUNT_NUMBER}, platform, account_id, partition_number from kept "
        f"union all select (select coalesce(max({ACCOUNT_NUMBER}), 0) from kept) "
        f"+ (row_number() over ())::integer, platform, account_id, {partition} "
        "from marts.dim_account as a where not exists (select 1 from kept as k "
        "where k.platform = a.platform and k.account_id = a.account_id)"
    )
    _remove(folder)
    spilled = _spill_numbered(
        con,
        accounts,
        queries,
        folder,
        kept.partitions,
        by_key=month_queries,
        accounts_numbered=True,
        numbers_to=folder / _KEPT_NUMBERS,
    )
    window_columns = [ACCOUNT_NUMBER, *(c for c in SCORECARD_WINDOW_INPUT if c not in ACCOUNT_KEY)]
    empty = {
        "window_before": spilled.empty["daily"].select(window_columns),
        "posts_before": spilled.empty["posts"],
    }
    return replace(spilled, empty=spilled.empty | empty, kept=kept)


def _date_literal(day: date) -> str:
    """A date as SQL text (spill_partitions takes text alone)."""
    return sql_literal(day.isoformat()) + "::date"


def _next_month(month: date) -> date:
    return (month.replace(day=1) + timedelta(days=32)).replace(day=1)


def scorecard_accounts(con: duckdb.DuckDBPyConnection) -> pl.DataFrame:
    """Every account's category, handle and display name (dim_account)."""
    return table(
        con, "select platform, account_id, category, handle, display_name from marts.dim_account"
    )


def replace_scorecards(
    con: duckdb.DuckDBPyConnection,
    first_month: date,
    monthly: pl.DataFrame,
    latest: pl.DataFrame,
    rules: str,
    run_id: str,
) -> None:
    """Swap the creator months from `first_month` on, and the scorecard rows of the accounts
    those months have (their latest month is among them); record the rules."""
    con.execute("delete from marts.fct_creator_monthly where month >= $1", [first_month])
    _insert(con, "fct_creator_monthly", monthly)
    con.register("rescored", latest.select("platform", "account_id").to_arrow())
    try:
        con.execute(
            "delete from marts.agg_creator_scorecard as m using rescored as r "
            "where m.platform = r.platform and m.account_id = r.account_id"
        )
    finally:
        con.unregister("rescored")
    # Rows of months rebuilt (when the rules changed: every row) that no account has any more.
    con.execute("delete from marts.agg_creator_scorecard where month >= $1", [first_month])
    _insert(con, "agg_creator_scorecard", latest)
    record_scorecard_rules(con, rules, run_id)


def record_scorecard_rules(con: duckdb.DuckDBPyConnection, rules: str, run_id: str) -> None:
    con.execute("delete from meta.scorecard_builds")
    con.execute("insert into meta.scorecard_builds values (?, ?)", [rules, run_id])
