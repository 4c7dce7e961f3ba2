"""Tiny literal inputs for contract tests: records in, normalised frame out."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import polars as pl

from schemas import contract as c

FILE_TIME = datetime(2026, 3, 2, 3, 15, tzinfo=UTC)


def normalise_json(
    records: list[dict | str], contract: c.Contract, captured_at=FILE_TIME
) -> pl.DataFrame:
    """Normalise JSON records (dicts, or raw line text) as ingest would."""
    lines = [r if isinstance(r, str) else json.dumps(r) for r in records]
    frame = pl.LazyFrame({c.RAW_RECORD: lines}).with_row_index(c.ROW_NUMBER, offset=1)
    normalised = c.normalise(
        c.raw_from_json_lines(frame, contract), contract, captured_at=captured_at
    )
    return normalised.sort(c.ROW_NUMBER).collect()


def normalise_table(
    table: dict[str, list], contract: c.Contract, captured_at=FILE_TIME
) -> pl.DataFrame:
    """Normalise a table of columns (CSV read as text, or typed Parquet) as ingest would."""
    frame = pl.LazyFrame(table).with_row_index(c.ROW_NUMBER, offset=1)
    normalised = c.normalise(c.raw_from_columns(frame, contract), contract, captured_at=captured_at)
    return normalised.sort(c.ROW_NUMBER).collect()


def rules(frame: pl.DataFrame) -> list[str | None]:
    return frame[c.RULE].to_list()
