"""Turn a batch of landed files into the canonical Arrow tables one warehouse load writes."""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl
import pyarrow as pa

from flows.discover import LandedFile
from flows.readers import DEFAULT_MAX_BYTES, FileRejected, read_export
from schemas import registry
from schemas.contract import RAW_RECORD, REASON, ROW_NUMBER, RULE, normalise
from schemas.tables import ACCOUNT, FOLLOWER_SNAPSHOT, POST_SNAPSHOT
from warehouse.load import Batch

RAW_RECORD_MAX_CHARS = 65_536
ERROR_MAX_CHARS = 300
LINEAGE = ("source_file", "source_sha256", "source_row", "ingest_run_id")


@dataclass
class FileOutcome:
    """What became of one file: a row of meta.ingested_files."""

    path: str
    sha256: str
    bytes: int
    status: str
    format: str | None = None
    contract: str | None = None
    platform: str | None = None
    kind: str | None = None
    rows_read: int = 0
    rows_loaded: int = 0
    rows_quarantined: int = 0
    error: str | None = None
    ignored_columns: tuple[str, ...] = ()

    def as_row(self) -> dict:
        row = dict(self.__dict__)
        row["ignored_columns"] = list(self.ignored_columns)
        return row


def safe_message(text: str) -> str:
    """Error text fit for logs and the manifest: one line, bounded (rows carry personal data)."""
    line = " ".join(str(text).split())
    return line if len(line) <= ERROR_MAX_CHARS else line[: ERROR_MAX_CHARS - 1] + "…"


def failed(file: LandedFile, reason: str, status: str = "failed") -> FileOutcome:
    return FileOutcome(file.relative, file.sha256, file.bytes, status, error=safe_message(reason))


def _normalised(
    file: LandedFile, run_id: str, max_bytes: int
) -> tuple[FileOutcome, pl.DataFrame | None]:
    try:
        raw = read_export(file.path, max_bytes=max_bytes)
        captured = registry.capture_time_from_name(file.path.name)
        rows = (
            normalise(raw.rows, raw.contract, captured_at=captured)
            .with_columns(
                pl.lit(file.relative).alias("source_file"),
                pl.lit(file.sha256).alias("source_sha256"),
                pl.col(ROW_NUMBER).cast(pl.Int64).alias("source_row"),
                pl.lit(run_id).alias("ingest_run_id"),
            )
            .collect()
        )
    except FileRejected as error:
        return failed(file, str(error)), None
    except (pl.exceptions.PolarsError, ValueError, MemoryError) as error:
        return failed(file, f"cannot parse the file: {type(error).__name__}"), None
    rejected = int(rows[RULE].is_not_null().sum())
    outcome = FileOutcome(
        file.relative,
        file.sha256,
        file.bytes,
        "loaded",
        format=raw.file_format,
        contract=raw.contract.name,
        platform=raw.contract.platform,
        kind=raw.contract.kind,
        rows_read=rows.height,
        rows_loaded=rows.height - rejected,
        rows_quarantined=rejected,
        ignored_columns=raw.ignored_columns,
    )
    return outcome, rows.with_columns(pl.lit(raw.contract.name).alias("contract"))


def _to_arrow(frames: list[pl.DataFrame], schema: pa.Schema, lineage: bool = True) -> pa.Table:
    columns = list(schema.names) + (list(LINEAGE) if lineage else [])
    if not frames:
        empty = pl.DataFrame(schema=pl.from_arrow(schema.empty_table()).schema)
        lineage_types = {"source_row": pl.Int64}
        if lineage:
            empty = empty.with_columns(
                pl.lit(None, lineage_types.get(c, pl.String)).alias(c) for c in LINEAGE
            )
        return empty.select(columns).to_arrow()
    return pl.concat([f.select(columns) for f in frames], how="vertical_relaxed").to_arrow()


def prepare_batch(
    files: list[LandedFile],
    run_id: str,
    *,
    extra_outcomes: list[FileOutcome] = (),
    max_bytes: int = DEFAULT_MAX_BYTES,
) -> tuple[Batch, list[FileOutcome]]:
    """Read, normalise and split a batch of files; a file that cannot be read fails alone."""
    outcomes = list(extra_outcomes)
    followers: list[pl.DataFrame] = []
    posts: list[pl.DataFrame] = []
    rejected: list[pl.DataFrame] = []
    for file in files:
        outcome, rows = _normalised(file, run_id, max_bytes)
        outcomes.append(outcome)
        if rows is None:
            continue
        good = rows.filter(pl.col(RULE).is_null())
        (followers if outcome.kind == "followers" else posts).append(good)
        bad = rows.filter(pl.col(RULE).is_not_null())
        if bad.height:
            rejected.append(
                bad.select(
                    "source_file",
                    "source_sha256",
                    pl.col("source_row").alias("row_number"),
                    "contract",
                    pl.col(RULE).alias("rule"),
                    pl.col(REASON).alias("reason"),
                    pl.col(RAW_RECORD).str.slice(0, RAW_RECORD_MAX_CHARS).alias("raw_record"),
                )
            )
    follower_rows = _to_arrow(followers, FOLLOWER_SNAPSHOT)
    account_rows = (
        pl.concat([f.select(ACCOUNT.names) for f in followers], how="vertical_relaxed").to_arrow()
        if followers
        else ACCOUNT.empty_table()
    )
    rejected_rows = (
        pl.concat(rejected).to_arrow()
        if rejected
        else pa.table(
            {
                "source_file": pa.array([], pa.string()),
                "source_sha256": pa.array([], pa.string()),
                "row_number": pa.array([], pa.int64()),
                "contract": pa.array([], pa.string()),
                "rule": pa.array([], pa.string()),
                "reason": pa.array([], pa.string()),
                "raw_record": pa.array([], pa.string()),
            }
        )
    )
    file_rows = pl.DataFrame([o.as_row() for o in outcomes], schema=_FILE_SCHEMA).to_arrow()
    batch = Batch(
        run_id=run_id,
        followers=follower_rows,
        posts=_to_arrow(posts, POST_SNAPSHOT),
        accounts=account_rows,
        rejected=rejected_rows,
        files=file_rows,
    )
    return batch, outcomes


_FILE_SCHEMA = {
    "path": pl.String,
    "sha256": pl.String,
    "bytes": pl.Int64,
    "status": pl.String,
    "format": pl.String,
    "contract": pl.String,
    "platform": pl.String,
    "kind": pl.String,
    "rows_read": pl.Int64,
    "rows_loaded": pl.Int64,
    "rows_quarantined": pl.Int64,
    "error": pl.String,
    "ignored_columns": pl.List(pl.String),
}
