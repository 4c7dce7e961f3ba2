"""Tiny literal inputs built from the contracts: export records in, normalised frames out;
canonical and mart rows typed by their contract, never retyped by hand."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import polars as pl
import pyarrow as pa

from schemas import contract as c
from schemas.marts import Mart

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
    table: dict[str, list], contract: c.Contract, captured_at=FILE_TIME, now=None
) -> pl.DataFrame:
    """Normalise a table of columns (CSV read as text, or typed Parquet) as ingest would."""
    frame = pl.LazyFrame(table).with_row_index(c.ROW_NUMBER, offset=1)
    normalised = c.normalise(
        c.raw_from_columns(frame, contract), contract, captured_at=captured_at, now=now
    )
    return normalised.sort(c.ROW_NUMBER).collect()


def rules(frame: pl.DataFrame) -> list[str | None]:
    return frame[c.RULE].to_list()


def contract_schema(contract: pa.Schema | Mart, columns: list[str] | None = None) -> pl.Schema:
    """The Polars schema of a canonical table (an Arrow schema) or a mart, or of some of its
    columns in the order given."""
    whole = (
        contract.schema()
        if isinstance(contract, Mart)
        else pl.Schema(pl.from_arrow(contract.empty_table()).schema)
    )
    return whole if columns is None else pl.Schema((name, whole[name]) for name in columns)


def contract_frame(
    contract: pa.Schema | Mart, rows: list[dict], columns: list[str] | None = None
) -> pl.DataFrame:
    """Literal rows typed by their contract (all its columns, or `columns`)."""
    return pl.DataFrame(rows, schema=contract_schema(contract, columns), orient="row")
