"""Flow `ingest`: load what landed into the warehouse's staging tables, batch by batch."""

from __future__ import annotations

from collections.abc import Callable, Generator
from concurrent.futures import ThreadPoolExecutor
from contextlib import closing
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path

import polars as pl
import pyarrow as pa

from flows import progress
from flows.engine import flow, markdown_artifact, run_logger, task
from flows.runs import recorded_run
from ingestion.batch import (
    FILE_SCHEMA,
    RAW_RECORD_MAX_CHARS,
    REJECTED_SCHEMA,
    FileOutcome,
    failed,
    prepare_batch,
    safe_message,
)
from ingestion.campaigns import CONTRACT as CAMPAIGN_CONTRACT
from ingestion.campaigns import is_campaign_file, read_campaigns
from ingestion.discover import LandedFile, discover
from ingestion.readers import location_keys, uncompressed_bytes
from schemas.registry import capture_time_from_name
from warehouse import meta
from warehouse.connect import NO_LIMITS, DuckDBLimits, checkpoint, connect
from warehouse.load import Batch, CampaignBatch, load_batch, replace_campaigns
from warehouse.meta import RunCounts, RunStatus
from warehouse.schema import apply_ddl

# A batch is one transaction: bounded so that memory stays flat however much has landed. Its
# budget counts the bytes files hold once read (a gzip or Parquet file holds 5-10 times its
# size). Two batches are held at once (`prepared_ahead`). Measured here on the ingest bench's
# files (3,000 creators x 60 days, 3 runs each): 48 MB peaks at 1.1 GB for CSV and JSON lines
# and 1.55 GB for Parquet; 64 MB took Parquet to 1.9-2.0 GB (dlt's peak on the same files:
# 1.8-1.9) for no clear gain in time; 32 MB cost CSV 15-40% more time (more batches, each a
# transaction and a dedup).
DEFAULT_BATCH_MEGABYTES = 48
# A file is read whole: bigger ones (or gzips inflating beyond this) fail cleanly.
DEFAULT_MAX_FILE_MEGABYTES = 1024


@dataclass
class IngestSummary:
    """What one ingest run did."""

    run_id: str
    files_seen: int = 0
    files_loaded: int = 0
    files_failed: int = 0
    files_duplicate: int = 0
    files_skipped: int = 0
    rows_read: int = 0
    rows_loaded: int = 0
    rows_quarantined: int = 0
    rows_count_hidden: int = 0
    batches: int = 0
    failures: list[tuple[str, str]] = field(default_factory=list)

    def add(self, outcomes: list[FileOutcome]) -> None:
        for o in outcomes:
            self.rows_read += o.rows_read
            self.rows_loaded += o.rows_loaded
            self.rows_quarantined += o.rows_quarantined
            self.rows_count_hidden += o.rows_count_hidden
            if o.status == "loaded":
                self.files_loaded += 1
            elif o.status == "duplicate":
                self.files_duplicate += 1
            else:
                self.files_failed += 1
                self.failures.append((o.path, o.error or ""))

    @property
    def status(self) -> RunStatus:
        return "completed_with_errors" if self.files_failed else "succeeded"

    def counts(self) -> RunCounts:
        return RunCounts(
            files_seen=self.files_seen,
            files_loaded=self.files_loaded,
            files_failed=self.files_failed,
            files_skipped=self.files_skipped + self.files_duplicate,
            rows_read=self.rows_read,
            rows_loaded=self.rows_loaded,
            rows_quarantined=self.rows_quarantined,
            rows_count_hidden=self.rows_count_hidden,
        )

    def markdown(self) -> str:
        lines = [
            f"# ingest run `{self.run_id}`",
            "",
            "| files seen | loaded | failed | duplicates | already ingested | rows read | rows loaded | rows quarantined |",
            "| --- | --- | --- | --- | --- | --- | --- | --- |",
            f"| {self.files_seen} | {self.files_loaded} | {self.files_failed} | {self.files_duplicate} | "
            f"{self.files_skipped} | {self.rows_read:,} | {self.rows_loaded:,} | {self.rows_quarantined:,} |",
        ]
        if self.failures:
            lines += [
                "",
                "## Files that could not be read",
                "",
                "| file | reason |",
                "| --- | --- |",
            ]
            lines += [f"| `{path}` | {reason} |" for path, reason in self.failures[:50]]
        return "\n".join(lines) + "\n"


@dataclass(frozen=True)
class IngestPlan:
    """Files to load in batches, and outcomes already known without reading (duplicates, refusals)."""

    batches: list[list[LandedFile]]
    known_outcomes: list[FileOutcome]
    files_seen: int
    files_skipped: int
    # The campaign definitions, read again as a whole when any file is new, changed or gone.
    campaign_files: list[LandedFile] = field(default_factory=list)
    campaigns_changed: bool = False
    # Of those, the (path, sha256) the manifest already records: read again, not recorded again.
    campaign_files_recorded: set[tuple[str, str]] = field(default_factory=set)


FileIdentity = tuple[str, datetime | None, tuple[tuple[str, str], ...]]


def file_identity(sha256: str, path: str) -> FileIdentity:
    """What makes two files the same export: their content, the capture time their names state
    and the `key=value` folders that say whose they are. A creator whose counts did not move
    saves byte-identical files on three days: each is that day's snapshot (its date comes from
    its name), not a copy of the first; two creators' identical video lists are two exports."""
    owner = tuple(location_keys(path).items())
    return sha256, capture_time_from_name(Path(path).name), owner


def plan_ingest(
    landing: Path, warehouse: Path, batch_megabytes: int, limits: DuckDBLimits = NO_LIMITS
) -> IngestPlan:
    """Which files are new (by path and content hash), grouped into batches."""
    found, refused = discover(landing)
    campaign_files = [f for f in found if is_campaign_file(f.relative)]
    files = [f for f in found if not is_campaign_file(f.relative)]
    with connect(warehouse, limits=limits) as con:
        apply_ddl(con)
        handled, loaded = meta.known_files(con)
        campaigns_read = meta.campaign_files(con)
    campaign_keys = {(f.relative, f.sha256) for f in campaign_files}
    campaigns_changed = campaign_keys != campaigns_read
    outcomes = [
        FileOutcome(r.relative, "", 0, "failed", error=r.reason)
        for r in refused
        if (r.relative, "") not in handled
    ]
    unhandled = [f for f in files if (f.relative, f.sha256) not in handled]
    # Identities only of the loaded files sharing content with a file not yet handled: a night
    # finds thousands of files already ingested and a few new ones.
    hashes = {f.sha256 for f in unhandled}
    loaded_paths: dict[FileIdentity, str] = {}
    for sha, path in loaded:
        if sha in hashes:
            loaded_paths.setdefault(file_identity(sha, path), path)
    new: list[LandedFile] = []
    seen_this_run: dict[FileIdentity, str] = {}
    skipped = len(files) - len(unhandled)
    for f in unhandled:
        identity = file_identity(f.sha256, f.relative)
        if f.bytes and (identity in loaded_paths or identity in seen_this_run):
            # (Empty files all share one hash: each is reported as empty, not as a duplicate.)
            original = loaded_paths.get(identity) or seen_this_run[identity]
            outcomes.append(
                failed(f, f"same content as {original}; not loaded twice", status="duplicate")
            )
        else:
            seen_this_run[identity] = f.relative
            new.append(f)
    if not campaigns_changed:
        skipped += len(campaign_files)
    return IngestPlan(
        _batches(new, batch_megabytes * 1024**2),
        outcomes,
        len(found) + len(refused),
        skipped,
        campaign_files,
        campaigns_changed,
        campaign_keys & handled,
    )


def _batches(files: list[LandedFile], max_bytes: int) -> list[list[LandedFile]]:
    batches: list[list[LandedFile]] = []
    current: list[LandedFile] = []
    size = 0
    for f in files:
        held = uncompressed_bytes(f.path, f.bytes)
        if current and size + held > max_bytes:
            batches.append(current)
            current, size = [], 0
        current.append(f)
        size += held
    if current:
        batches.append(current)
    return batches


def _nothing_follows() -> bool:
    return True


@dataclass(frozen=True)
class PreparedBatch:
    """A batch of files read and normalised (`prepare_batch`), ready for its transaction."""

    batch: Batch
    outcomes: list[FileOutcome]
    files: int
    # Whether the batch after this one is read (prepared_ahead; true when none follows).
    next_ready: Callable[[], bool] = field(default=_nothing_follows, compare=False, repr=False)


@task(name="load-batch")
def load_files(
    warehouse: Path,
    prepared: PreparedBatch,
    number: int,
    total: int,
    limits: DuckDBLimits = NO_LIMITS,
) -> tuple[list[FileOutcome], int]:
    """Load one batch of files, read and normalised, in one transaction: its files' outcomes
    and how many staged rows it replaced."""
    logger = run_logger()
    batch = prepared.batch
    # Logged before the transaction starts: operators (and the kill test) see which batch is in flight.
    if prepared.files:
        logger.info(
            f"loading batch {number}/{total}: {prepared.files} files, {batch.followers.num_rows + batch.posts.num_rows:,} rows"
        )
    with connect(warehouse, limits=limits) as con:
        replaced = load_batch(con, batch, datetime.now(UTC))
    for o in prepared.outcomes:
        if o.status == "failed":
            logger.warning("file failed: %s: %s", o.path, safe_message(o.error or ""))
    return prepared.outcomes, replaced


def prepare(
    files: list[LandedFile], run_id: str, known: list[FileOutcome], max_file_bytes: int
) -> PreparedBatch:
    batch, outcomes = prepare_batch(files, run_id, extra_outcomes=known, max_bytes=max_file_bytes)
    return PreparedBatch(batch, outcomes, len(files))


def prepared_ahead(
    batches: list[list[LandedFile]], run_id: str, known: list[FileOutcome], max_file_bytes: int
) -> Generator[PreparedBatch]:
    """The batches read and normalised, each next one while the caller writes the one before.

    Reading (Polars: parsing, hashing, JSON decoding, much of it one core) and writing (DuckDB's
    insert) each leave a core idle on a 2-core machine; one batch read ahead overlaps them.
    Both release the GIL while they work. At most two batches are held at once: the one being
    written and the next (the batch budget bounds each)."""
    if not batches:
        return
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="inflow-read") as reader:
        upcoming = reader.submit(prepare, batches[0], run_id, known, max_file_bytes)
        for following in [*batches[1:], None]:
            current = upcoming.result()
            if following is not None:
                upcoming = reader.submit(prepare, following, run_id, [], max_file_bytes)
                current = replace(current, next_ready=upcoming.done)
            try:
                yield current
            except GeneratorExit:
                upcoming.cancel()
                raise


@task(name="load-campaigns")
def load_campaign_files(
    warehouse: Path,
    files: list[LandedFile],
    run_id: str,
    recorded: set[tuple[str, str]],
    limits: DuckDBLimits = NO_LIMITS,
) -> tuple[list[FileOutcome], int]:
    """Read every campaign file and swap in their definitions (one transaction). Files the
    manifest already `recorded`, unchanged, add no manifest row. Returns the new manifest
    rows' outcomes and how many rows the swap deleted."""
    logger = run_logger()
    load = read_campaigns(files)
    campaigns, creators = load.campaigns.frames()
    hashes = {f.relative: f.sha256 for f in files}
    rejected = [
        {
            "source_file": r.source_file,
            "source_sha256": hashes[r.source_file],
            "row_number": r.row_number,
            "contract": CAMPAIGN_CONTRACT,
            "rule": r.rule,
            "reason": r.reason,
            "raw_record": r.raw_record[:RAW_RECORD_MAX_CHARS],
        }
        for r in load.campaigns.rejected
    ]
    new = [o for o in load.outcomes if (o.path, o.sha256) not in recorded]
    batch = CampaignBatch(
        run_id=run_id,
        campaigns=campaigns.to_arrow(),
        creators=creators.to_arrow(),
        rejected=pa.Table.from_pylist(rejected, schema=REJECTED_SCHEMA),
        files=pl.DataFrame([o.as_row() for o in new], schema=FILE_SCHEMA).to_arrow(),
        read=[(f.relative, f.sha256) for f in files],
    )
    with connect(warehouse, limits=limits) as con:
        deleted = replace_campaigns(con, batch, datetime.now(UTC))
    for r in load.campaigns.rejected:
        logger.warning("campaign refused: %s row %s: %s", r.source_file, r.row_number, r.reason)
    for o in new:
        if o.status == "failed":
            logger.warning("file failed: %s: %s", o.path, o.error)
    return new, deleted


@flow(name="ingest")
def ingest(
    landing: Path = Path("data/landing"),
    warehouse: Path = Path("data/inflow.duckdb"),
    batch_megabytes: int = DEFAULT_BATCH_MEGABYTES,
    max_file_megabytes: int = DEFAULT_MAX_FILE_MEGABYTES,
    duckdb_limits: DuckDBLimits = NO_LIMITS,
) -> IngestSummary:
    """Load every new or changed export file under `landing` into the warehouse."""
    # Held open for the run (keep_open): batches and the run's record append to the WAL,
    # checkpointed while the writer would wait for the reader (`checkpoint`) and at the end.
    with recorded_run(warehouse, "ingest", duckdb_limits, keep_open=True) as run:
        run_id = run.run_id
        plan = plan_ingest(landing, warehouse, batch_megabytes, duckdb_limits)
        summary = IngestSummary(
            run_id, files_seen=plan.files_seen, files_skipped=plan.files_skipped
        )
        known = plan.known_outcomes
        total_files = sum(len(b) for b in plan.batches)
        done = 0
        # Rows deleted since the last checkpoint (replaced snapshots, swapped campaigns): the
        # next checkpoint vacuums them (warehouse.connect.kept_open says why only then).
        deleted = 0
        progress.report("files", 0, total_files)
        # The reader is closed on the way out, also when a batch fails: it stops before the run ends.
        with closing(
            prepared_ahead(plan.batches, run_id, known, max_file_megabytes * 1024**2)
        ) as batches:
            for number, prepared in enumerate(batches, start=1):
                outcomes, replaced = load_files(
                    warehouse, prepared, number, len(plan.batches), duckdb_limits
                )
                deleted += replaced
                if not prepared.next_ready():
                    # The reader is still on the next batch: the writer checkpoints meanwhile
                    # instead of waiting, and the run's last checkpoint is left only the batches
                    # since (JSON lines, 1.93M rows: 122 MB of WAL, 1.3 s at the end, became
                    # 34 MB, 0.6 s; 13.7 -> 13.1 s and 1.04 -> 0.94 GB peak, alternating, 3 runs;
                    # CSV 8.4 -> 8.1 s). A writer that never waits never checkpoints midway.
                    checkpoint(warehouse, duckdb_limits, vacuum=deleted > 0)
                    deleted = 0
                known = []
                summary.add(outcomes)
                summary.batches += 1
                done += prepared.files
                progress.report("files", done, total_files)
                progress.report("rows read", summary.rows_read, None)
        if plan.campaigns_changed:
            outcomes, swapped = load_campaign_files(
                warehouse,
                plan.campaign_files,
                run_id,
                plan.campaign_files_recorded,
                duckdb_limits,
            )
            summary.add(outcomes)
            deleted += swapped
        if known:  # nothing new to read, but duplicates or refusals to record
            load_files(warehouse, prepare([], run_id, known, 0), 0, 0, duckdb_limits)
            summary.add(known)
        if deleted:
            # The run's last checkpoint (at its end) would skip the vacuum: this one takes it.
            checkpoint(warehouse, duckdb_limits, vacuum=True)
        run.status, run.counts = summary.status, summary.counts()
        run.message = (
            f"{summary.files_failed} file(s) could not be read" if summary.files_failed else ""
        )
    markdown_artifact(
        key="ingest-summary", markdown=summary.markdown(), description="inflow ingest run"
    )
    return summary
