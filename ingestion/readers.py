"""Read one landed export file into raw text rows and the contract it belongs to.

Format and kind are detected from content (gzip and Parquet magic bytes, the first JSON record
or the CSV header), not from the file name. Everything is read as text so that a wrong type in
one row rejects that row, not the file; the contract then parses it (schemas/contract.py).
"""

from __future__ import annotations

import csv
import gzip
import hashlib
import io
import json
import zlib
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from schemas import registry
from schemas.contract import (
    RAW_RECORD,
    ROW_NUMBER,
    Contract,
    raw_from_columns,
    raw_from_json_lines,
    records_as_json,
)

GZIP_MAGIC = b"\x1f\x8b"
PARQUET_MAGIC = b"PAR1"
UTF8_BOM = b"\xef\xbb\xbf"
# Decompressed size above which a file is refused: a file is read whole into memory, so this
# bounds memory per file (a gzip bomb, a 500 MB single line) whatever lands.
DEFAULT_MAX_BYTES = 1024**3
# A single line longer than this is not an export record.
DEFAULT_MAX_LINE_BYTES = 16 * 1024**2


class FileRejected(Exception):
    """The file as a whole cannot be read; the message says why (never quoting its rows)."""


class FileChanged(FileRejected):
    """The file's content is no longer what was found: nothing of it is recorded as read."""


@dataclass(frozen=True)
class RawExport:
    """A file's rows as text, ready for `schemas.contract.normalise`."""

    contract: Contract
    rows: pl.LazyFrame
    row_count: int
    file_format: str
    ignored_columns: tuple[str, ...]
    # CSV and Parquet: the table as read, to rebuild the raw record of a rejected row.
    table: pl.DataFrame | None = None

    def raw_records(self, row_numbers: list[int]) -> pl.DataFrame:
        """`_row_number` and `_raw` for the given rows (JSON lines: the line itself)."""
        if self.table is not None:
            return records_as_json(self.table, row_numbers)
        return (
            self.rows.filter(pl.col(ROW_NUMBER).is_in(row_numbers))
            .select(ROW_NUMBER, RAW_RECORD)
            .collect()
        )


def read_bytes(
    path: Path, max_bytes: int = DEFAULT_MAX_BYTES, expected_sha256: str | None = None
) -> bytes:
    """The file's content, gunzipped when gzipped, refusing more than `max_bytes`.

    `expected_sha256`: the hash the file had when it was found. The bytes read are hashed as
    they are read, and a file rewritten in between is refused: its rows must never be recorded
    under the hash of content they did not come from (the old content, copied back later,
    would count as already ingested and never load).
    """
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        head = handle.read(2)
        handle.seek(0)
        if head != GZIP_MAGIC:
            data = handle.read(max_bytes + 1)
            digest.update(data)
            if len(data) > max_bytes:
                raise FileRejected(f"file is larger than the {max_bytes:,}-byte limit")
        else:
            data = _gunzip(handle, max_bytes, digest)
    if expected_sha256 is not None and digest.hexdigest() != expected_sha256:
        raise FileChanged("the file changed while it was being read; it is read again next run")
    return data


def _gunzip(handle: io.BufferedReader, max_bytes: int, digest) -> bytes:
    # Streamed with a cap: a small gzip can inflate to gigabytes.
    inflater = zlib.decompressobj(wbits=31)
    out = io.BytesIO()
    while chunk := handle.read(1 << 20):
        digest.update(chunk)
        out.write(inflater.decompress(chunk, max_bytes + 1 - out.tell()))
        if out.tell() > max_bytes or inflater.unconsumed_tail:
            raise FileRejected(f"gzip inflates beyond the {max_bytes:,}-byte limit")
        while inflater.eof and inflater.unused_data:
            # Concatenated gzip members are valid gzip.
            rest = inflater.unused_data
            inflater = zlib.decompressobj(wbits=31)
            out.write(inflater.decompress(rest, max_bytes + 1 - out.tell()))
    if not inflater.eof:
        raise FileRejected("gzip stream is truncated (the file was cut short)")
    return out.getvalue()


def read_export(
    path: Path,
    *,
    max_bytes: int = DEFAULT_MAX_BYTES,
    max_line_bytes: int = DEFAULT_MAX_LINE_BYTES,
    expected_sha256: str | None = None,
) -> RawExport:
    """Detect and read one export file; raises FileRejected when the file cannot be used
    (FileChanged when it no longer has `expected_sha256`)."""
    try:
        data = read_bytes(path, max_bytes, expected_sha256)
    except (OSError, EOFError, zlib.error, gzip.BadGzipFile) as error:
        raise FileRejected(f"cannot read file: {type(error).__name__}") from None
    if data.startswith(UTF8_BOM):
        data = data[len(UTF8_BOM) :]
    if not data.strip():
        raise FileRejected("file is empty")
    if data.startswith(PARQUET_MAGIC):
        return _read_parquet(data)
    if data.lstrip()[:1] == b"{":
        return _read_json_lines(data, max_line_bytes)
    return _read_csv(data, max_line_bytes)


def _decode(data: bytes) -> None:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as error:
        raise FileRejected(f"file is not UTF-8 text (byte {error.start})") from None


def _read_json_lines(data: bytes, max_line_bytes: int) -> RawExport:
    _decode(data)
    lines = data.split(b"\n")
    if lines and not lines[-1].strip():
        lines.pop()
    longest = max(len(line) for line in lines)
    if longest > max_line_bytes:
        raise FileRejected(f"a line of {longest:,} bytes exceeds the {max_line_bytes:,}-byte limit")
    first = _first_record(lines)
    if first is None:
        raise FileRejected("no line of the file is a JSON object")
    contract = _detect(first.keys(), first)
    sample_keys: set[str] = set()
    for line in lines[:1000]:
        record = _parse_object(line)
        if record is not None:
            sample_keys |= record.keys()
    _check_required(contract, sample_keys)
    text = pl.Series(
        RAW_RECORD, [line.decode("utf-8").rstrip("\r") for line in lines], dtype=pl.String
    )
    frame = pl.LazyFrame({RAW_RECORD: text}).with_row_index(ROW_NUMBER, offset=1)
    try:
        # One parse per line; falls back to per-field extraction when any line is malformed.
        rows = raw_from_json_lines(frame, contract, decode_whole=True).collect()
    except pl.exceptions.PolarsError:
        rows = raw_from_json_lines(frame, contract).collect()
    ignored = tuple(sorted(sample_keys - {p.split(".", 1)[0] for p in contract.source_paths}))
    return RawExport(contract, rows.lazy(), len(lines), "jsonl", ignored)


def _parse_object(line: bytes) -> dict | None:
    try:
        value = json.loads(line)
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


def _first_record(lines: list[bytes]) -> dict | None:
    return next((r for r in map(_parse_object, lines[:100]) if r is not None), None)


def _read_csv(data: bytes, max_line_bytes: int) -> RawExport:
    _decode(data)
    if max(len(line) for line in data.split(b"\n", 1000)[:1000]) > max_line_bytes:
        raise FileRejected(f"a line exceeds the {max_line_bytes:,}-byte limit")
    _refuse_duplicate_columns(data)
    try:
        table = pl.read_csv(io.BytesIO(data), infer_schema=False)
    except pl.exceptions.PolarsError as error:
        raise FileRejected(f"not a readable CSV: {type(error).__name__}") from None
    return _from_table(table, "csv")


def _refuse_duplicate_columns(data: bytes) -> None:
    """A header naming a column twice (`followers,followers`) is ambiguous: which one holds the
    count? Polars would rename the second and the first would silently win."""
    header = next(csv.reader(io.StringIO(data.split(b"\n", 1)[0].decode("utf-8"))), [])
    seen: set[str] = set()
    for name in (h.strip() for h in header):
        if name in seen:
            raise FileRejected(f"column '{name}' appears twice in the header: ambiguous")
        seen.add(name)


def _read_parquet(data: bytes) -> RawExport:
    try:
        table = pl.read_parquet(io.BytesIO(data))
    except pl.exceptions.PolarsError as error:
        raise FileRejected(f"not a readable Parquet file: {type(error).__name__}") from None
    return _from_table(table, "parquet")


def _from_table(table: pl.DataFrame, file_format: str) -> RawExport:
    stripped = [c.strip() for c in table.columns]
    twice = sorted({c for c in stripped if stripped.count(c) > 1})
    if twice:
        raise FileRejected(f"column '{twice[0]}' appears twice: ambiguous")
    table = table.rename(dict(zip(table.columns, stripped, strict=True)))
    contract = _detect(table.columns, None)
    _check_required(contract, table.columns)
    ignored = tuple(sorted(set(table.columns) - set(contract.source_paths)))
    table = table.with_row_index(ROW_NUMBER, offset=1)
    rows = raw_from_columns(table.lazy(), contract)
    return RawExport(contract, rows, table.height, file_format, ignored, table=table)


def _detect(keys, record) -> Contract:
    contract = registry.detect(keys, record)
    if contract is None:
        shown = ", ".join(sorted(keys)[:12])
        raise FileRejected(f"unrecognised export: no contract matches the fields ({shown})")
    return contract


def _check_required(contract: Contract, keys) -> None:
    missing = contract.missing_required(keys)
    if missing:
        raise FileRejected(f"{contract.name}: missing required column(s): {', '.join(missing)}")
