"""Read one landed export file into raw text rows and the contract it belongs to.

Format and kind are detected from content (gzip and Parquet magic bytes, the first JSON record
or the CSV header), not from the file name. Everything is read as text so that a wrong type in
one row rejects that row, not the file; the contract then parses it (schemas/contract.py).
"""

from __future__ import annotations

import csv
import gc
import gzip
import hashlib
import io
import json
import zlib
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
import orjson
import polars as pl
import pyarrow as pa
from isal import isal_zlib

from schemas import envelopes, registry
from schemas.contract import (
    RAW_RECORD,
    ROW_NUMBER,
    Contract,
    is_json_object,
    json_schema,
    raw_from_columns,
    raw_from_json_lines,
    raw_from_json_records,
    records_as_json,
)

GZIP_MAGIC = b"\x1f\x8b"
PARQUET_MAGIC = b"PAR1"
# XLSX is a zip archive (TikTok Studio's downloads).
ZIP_MAGIC = b"PK\x03\x04"
# Saved beside a response, `<file name>` + this suffix: what the request asked for (the owner
# of a TikTok video list, a Studio export's channel). Not an export itself (discover skips it).
REQUEST_SUFFIX = ".request.json"
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


class OwnerUnknown(FileRejected):
    """The export does not say whose account it is, nor does its location: it is read again
    next run, when a request file or a renamed folder may say (its content will not change)."""


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
    # JSON lines read whole by Polars' NDJSON reader (`_ndjson_rows`): the file's bytes, to
    # find a rejected row's line (`rows` then carries no `_raw`).
    lines: bytes | None = None

    def raw_records(self, row_numbers: list[int]) -> pl.DataFrame:
        """`_row_number` and `_raw` for the given rows (JSON lines: the line itself)."""
        if self.table is not None:
            return records_as_json(self.table, row_numbers)
        if self.lines is not None:
            lines = _split_lines(self.lines, len(self.lines) + 1)
            return (
                pl.DataFrame({RAW_RECORD: lines})
                .with_row_index(ROW_NUMBER, offset=1)
                .filter(pl.col(ROW_NUMBER).is_in(row_numbers))
            )
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


def uncompressed_bytes(path: Path, size: int) -> int:
    """About how many bytes the file holds once read (what a batch's memory follows), from its
    header or trailer, without reading it: a gzip's trailer (ISIZE: the last member's size
    modulo 4 GiB), a Parquet footer's uncompressed column sizes; else its `size` on disk.
    A file whose header or footer cannot be read counts its size: reading it will say why."""
    try:
        with path.open("rb") as handle:
            head = handle.read(4)
            if head[:2] == GZIP_MAGIC and size >= 18:
                handle.seek(-4, io.SEEK_END)
                return max(size, int.from_bytes(handle.read(4), "little"))
            if head == b"PAR1":
                import pyarrow.parquet as pq

                footer = pq.read_metadata(handle)
                return max(
                    size,
                    sum(footer.row_group(i).total_byte_size for i in range(footer.num_row_groups)),
                )
    except (OSError, ValueError):
        pass
    return size


# ISA-L's error class (isal's stubs declare it an instance: `error: Exception`).
_ISAL_ERROR: type[Exception] = isal_zlib.error  # type: ignore[assignment]


def _gunzip(handle: io.BufferedReader, max_bytes: int, digest) -> bytes:
    # Streamed with a cap: a small gzip can inflate to gigabytes. ISA-L's inflate (isal, the
    # zlib API) is three times zlib's speed here: 0.24-0.30 s against 0.75-0.78 s for the 357
    # gzipped JSON lines files of the ingest bench (61 MB to 543 MB), read on the critical path.
    inflater = isal_zlib.decompressobj(wbits=31)
    out = io.BytesIO()
    try:
        while chunk := handle.read(1 << 20):
            digest.update(chunk)
            out.write(inflater.decompress(chunk, max_bytes + 1 - out.tell()))
            if out.tell() > max_bytes or inflater.unconsumed_tail:
                raise FileRejected(f"gzip inflates beyond the {max_bytes:,}-byte limit")
            while inflater.eof and inflater.unused_data:
                # Concatenated gzip members are valid gzip.
                rest = inflater.unused_data
                inflater = isal_zlib.decompressobj(wbits=31)
                out.write(inflater.decompress(rest, max_bytes + 1 - out.tell()))
    except _ISAL_ERROR as error:
        # A damaged stream (a flipped byte, a wrong checksum): ISA-L's own words, e.g.
        # "Incorrect checksum found".
        raise FileRejected(f"gzip stream is damaged ({str(error).split(' ', 2)[-1]})") from None
    if not inflater.eof:
        raise FileRejected("gzip stream is truncated (the file was cut short)")
    return out.getvalue()


def read_exports(
    path: Path,
    *,
    max_bytes: int = DEFAULT_MAX_BYTES,
    max_line_bytes: int = DEFAULT_MAX_LINE_BYTES,
    expected_sha256: str | None = None,
    context: Mapping[str, str] | None = None,
) -> list[RawExport]:
    """Detect and read one export file: one RawExport per contract it holds (an Instagram
    business_discovery response holds an account and its media; every other file one).

    `context`: values the file's location states (`file_context`), used where the records lack
    the field. Raises FileRejected when the file cannot be used (FileChanged when it no longer
    has `expected_sha256`).
    """
    try:
        data = read_bytes(path, max_bytes, expected_sha256)
    except (OSError, EOFError, zlib.error, gzip.BadGzipFile) as error:
        raise FileRejected(f"cannot read file: {type(error).__name__}") from None
    if data.startswith(UTF8_BOM):
        data = data[len(UTF8_BOM) :]
    if not data.strip():
        raise FileRejected("file is empty")
    context = dict(context or {})
    if data.startswith(PARQUET_MAGIC):
        exports = [_read_parquet(data, context)]
    elif data.startswith(ZIP_MAGIC):
        exports = [_read_xlsx(data, context)]
    elif data.lstrip()[:1] in (b"{", b"["):
        exports = _read_json(data, max_line_bytes, context)
    else:
        exports = [_read_csv(data, max_line_bytes, context)]
    return [_with_context(e, context) for e in exports]


def read_export(path: Path, **options: Any) -> RawExport:
    """The one export a file holds (see `read_exports`)."""
    exports = read_exports(path, **options)
    if len(exports) != 1:
        raise FileRejected(f"the file holds {len(exports)} exports, not one")
    return exports[0]


def location_keys(relative: str) -> dict[str, str]:
    """The `key=value` folders on the way to a file (`tiktok/open_id=abc123/...`), in order."""
    keys: dict[str, str] = {}
    for folder in Path(relative).parts[:-1]:
        key, sep, value = folder.partition("=")
        if sep and key.strip() and value.strip():
            keys[key.strip()] = value.strip()
    return keys


def file_context(path: Path, relative: str) -> dict[str, str]:
    """What a file's location says about its records, for fields the records lack.

    Two documented conventions (README, "Whose export is it?"): folders named `key=value` on
    the way to the file (`tiktok/open_id=abc123/video_list_2026-01-05.json`), and a request
    file saved beside it, `<file name>.request.json`, holding a JSON object such as
    `{"open_id": "abc123"}`; the request file wins over the folders. A request file that is not
    a JSON object of plain values fails the export with that reason.
    """
    context = location_keys(relative)
    request = path.with_name(path.name + REQUEST_SUFFIX)
    if request.is_file():
        try:
            saved = json.loads(request.read_text(encoding="utf-8"))
        except (OSError, ValueError, UnicodeDecodeError):
            raise FileRejected(f"{request.name} is not readable JSON") from None
        if not isinstance(saved, dict):
            raise FileRejected(f"{request.name} is not a JSON object")
        for key, value in saved.items():
            if isinstance(value, dict | list):
                continue  # request parameters such as `fields` lists; not record values
            context[str(key)] = (
                ""
                if value is None
                else str(value).lower()
                if isinstance(value, bool)
                else str(value)
            )
    return context


def _with_context(export: RawExport, context: Mapping[str, str]) -> RawExport:
    """The export's text columns with the context's values where a record has none."""
    wanted = {p: v for p, v in context.items() if p in export.contract.source_paths}
    if not wanted:
        return export
    columns = set(export.rows.collect_schema().names())
    rows = export.rows.with_columns(
        (
            pl.coalesce(pl.col(p), pl.lit(v, pl.String)) if p in columns else pl.lit(v, pl.String)
        ).alias(p)
        for p, v in wanted.items()
    )
    return replace(export, rows=rows)


def _decode(data: bytes) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as error:
        raise FileRejected(f"file is not UTF-8 text (byte {error.start})") from None


# The first lines of a file, split in Python: the export's shape, its first record and its
# sample of keys. The rest are found by `_split_lines`.
_HEAD_LINES = 1000
# `_split_lines`: a line's text is referenced by its start in one of the file's buffers, each
# starting at a multiple of this (Arrow's views hold 32-bit offsets).
_VIEW_BUFFER_BYTES = 1 << 30


def _read_json(data: bytes, max_line_bytes: int, context: Mapping[str, str]) -> list[RawExport]:
    """JSON lines of records (the fast path), or saved API responses: one pretty-printed
    document, a list of records, or one response per line."""
    _decode(data)  # refused unless UTF-8; the lines are read from the bytes themselves
    head = _head_lines(data)
    first = _parse_value(head[0])
    if first is None or isinstance(first, list):
        # Not a whole JSON value per line: a pretty-printed document (or a broken file).
        with _no_cyclic_gc():
            document = _parse_value(data)
            if document is not None:
                return _read_responses([document], context)
    elif envelopes.is_envelope(first):
        lines = data.split(b"\n")
        if not lines[-1].strip():
            lines.pop()
        responses = []
        with _no_cyclic_gc():
            for number, line in enumerate(lines, start=1):
                if not line.strip():
                    continue
                response = _parse_value(line)
                if response is None:
                    raise FileRejected(f"line {number} is not a complete JSON response")
                responses.append(response)
            return _read_responses(responses, context)
    return [_read_json_lines(data, head, max_line_bytes, context)]


def _head_lines(data: bytes) -> list[bytes]:
    """`data.split(b"\n", _HEAD_LINES)[:_HEAD_LINES]` without copying the rest of the file: that
    split ends with everything after the last cut as one more bytes object, a copy of most of
    the file (the ingest bench's 543 MB of JSON lines: 0.15 s split so, 0.09 s by prefix). A
    prefix is split instead, four times longer until it holds the lines or is the whole file."""
    window = 1 << 19
    while True:
        lines = data[:window].split(b"\n", _HEAD_LINES)
        if len(lines) > _HEAD_LINES or window >= len(data):
            return lines[:_HEAD_LINES]
        window *= 4


def _parse_value(text: bytes) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        return None


@contextmanager
def _no_cyclic_gc() -> Iterator[None]:
    """Python's cyclic garbage collector paused while a saved response becomes objects: JSON
    holds no cycles, yet the collector runs again and again as millions of dicts are made (a
    response of 106,000 media records: its parse 2.6 s with it, 0.7 s without)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _read_responses(responses: list[Any], context: Mapping[str, str]) -> list[RawExport]:
    """The records of saved responses, one export per contract; records numbered in file order."""
    parts: list[envelopes.Part] = []
    try:
        for response in responses:
            parts += envelopes.unwrap(response)
    except envelopes.ResponseError as error:
        raise FileRejected(str(error)) from None
    grouped: dict[str, tuple[Contract, list[tuple[int, dict]]]] = {}
    number = 0
    detected: dict[Any, Contract] = {}
    for part in parts:
        for record in part.records:
            number += 1
            contract = part.contract or _detect_record(record, detected)
            grouped.setdefault(contract.name, (contract, []))[1].append((number, record))
    if not grouped:
        raise FileRejected("the saved response holds no records")
    exports = []
    for contract, records in grouped.values():
        keys = set(context) | {k for _, r in records[:1000] for k in r}
        _check_required(contract, keys)
        frame = pl.LazyFrame(
            {
                ROW_NUMBER: pl.Series([n for n, _ in records], dtype=pl.UInt32),
                RAW_RECORD: [json.dumps(r, ensure_ascii=False) for _, r in records],
            }
        )
        rows = _decoded(frame, contract)
        ignored = tuple(
            sorted(keys - set(context) - {p.split(".", 1)[0] for p in contract.source_paths})
        )
        exports.append(RawExport(contract, rows.lazy(), len(records), "json", ignored))
    return exports


def _detect_record(record: dict, detected: dict[Any, Contract]) -> Contract:
    """`_detect` of a saved response's record, once per shape: what a contract is detected by
    (its keys, and the values of the keys some contracts name: registry.SIGNATURE_VALUE_KEYS).
    Detecting each of 106,000 media records of one response took 1.7 s of its 7."""
    shape = (frozenset(record), tuple(record.get(k) for k in registry.SIGNATURE_VALUE_KEYS))
    try:
        contract = detected.get(shape)
    except TypeError:  # a signature key holding a list or an object: detected on its own
        return _detect(record.keys(), record)
    if contract is None:
        contract = detected[shape] = _detect(record.keys(), record)
    return contract


def _read_json_lines(
    data: bytes, head: list[bytes], max_line_bytes: int, context: Mapping[str, str]
) -> RawExport:
    """`head`: the file's first lines (at most _HEAD_LINES), for its first record and keys."""
    # Refuses a line over the limit; a file within it cannot hold one (not split here).
    records = _split_lines(data, max_line_bytes) if len(data) > max_line_bytes else None
    first = _first_record(head)
    if first is None:
        raise FileRejected("no line of the file is a JSON object")
    contract = _detect(first.keys(), first)
    sample_keys = _sample_keys(head)
    _check_required(contract, sample_keys | set(context))
    ignored = tuple(sorted(sample_keys - {p.split(".", 1)[0] for p in contract.source_paths}))
    read = _ndjson_rows(data, contract)
    if read is not None:
        return RawExport(contract, read.lazy(), read.height, "jsonl", ignored, lines=data)
    if records is None:
        records = _split_lines(data, max_line_bytes)
    frame = pl.LazyFrame({RAW_RECORD: records}).with_row_index(ROW_NUMBER, offset=1)
    rows = _decoded(frame, contract)
    return RawExport(contract, rows.lazy(), len(records), "jsonl", ignored)


def _ndjson_rows(data: bytes, contract: Contract) -> pl.DataFrame | None:
    """`raw_from_json_lines` of the file's lines as Polars' NDJSON reader reads them from the
    bytes (no `_raw`: RawExport.raw_records finds a rejected row's line), or None when that
    reader cannot give what the lines' own decode (`_decoded`) would.

    It reads the file in parallel, without splitting it into lines first: the ingest bench's
    357 files (1.93M lines) in 1.9 s against 3.0 s split and decoded. Its text of every value
    is the decode's (numbers, booleans, escapes, a duplicate key's first value), except that it
    skips blank lines (rows would no longer be their lines: told by the count of lines) and
    writes an object or an array where the contract reads text as JSON of its own spacing
    (`{"x": 1}`, where the lines' path gives `{"x":1}`). Those are told from the bytes: no `[`
    at all, and no `{` beyond one per record and one per nested path's object read (checking
    the text of every value took 0.4-1.2 s); a brace within text also leaves the file to the
    lines' path, as does any line that is not a whole JSON object or a value that does not
    fit the struct of a nested path (the reader fails). The lines' path then says what is
    wrong with which line."""
    raw = np.frombuffer(data, np.uint8)
    # numpy's count, not bytes.count (a byte at a time: 0.5 s for the bench's 543 MB, twice).
    tail = data[data.rfind(b"\n") + 1 :]
    lines = int(np.count_nonzero(raw == ord("\n"))) + (1 if tail.strip() else 0)
    if b"[" in data:  # an array anywhere (not what these contracts read): the lines' path
        return None
    try:
        records = pl.read_ndjson(data, schema=json_schema(contract))
    except pl.exceptions.PolarsError:
        return None
    # Every `{` opens a record (one per line) or a nested path's object (the non-null structs):
    # any other is an object where text is read, or a brace within text.
    objects = records.height + sum(_objects(records[c]) for c in records.columns)
    if records.height != lines or int(np.count_nonzero(raw == ord("{"))) != objects:
        return None
    return raw_from_json_records(records, contract)


def _objects(column: pl.Series) -> int:
    """How many JSON objects a decoded column holds: its non-null structs, nested ones too."""
    if not isinstance(column.dtype, pl.Struct):
        return 0
    inner = column.struct.unnest()
    return column.len() - column.null_count() + sum(_objects(inner[c]) for c in inner.columns)


def _split_lines(data: bytes, max_line_bytes: int) -> pl.Series:
    """The file's lines as text, without their `\\n` or `\\r\\n`; a last line that is only
    whitespace (what a closing newline leaves) is no line. Refuses a line over `max_line_bytes`.

    Each line is an Arrow string view into `data` itself (its length and its start, or its text
    when it is at most 12 bytes): nothing is copied. Splitting the text in Polars and stripping
    each line's `\\r` copied every line twice: 0.70-1.27 s for the ingest bench's 357 JSON lines
    files (543 MB, 1.93M lines), against 0.33-0.38 s (the file's bytes must be UTF-8: checked first).
    """
    raw = np.frombuffer(data, np.uint8)
    breaks = np.flatnonzero(raw == ord("\n"))
    starts = np.concatenate(([0], breaks + 1))
    ends = np.append(breaks, len(data))
    if not data[starts[-1] :].strip():
        starts, ends = starts[:-1], ends[:-1]
    lengths = ends - starts
    if len(lengths) and lengths.max() > max_line_bytes:
        longest = int(lengths.max())
        raise FileRejected(f"a line of {longest:,} bytes exceeds the {max_line_bytes:,}-byte limit")
    carriage = np.zeros(len(ends), bool)
    filled = lengths > 0
    carriage[filled] = raw[ends[filled] - 1] == ord("\r")
    lengths -= carriage
    # Arrow's binary view layout: 16 bytes per value, its length (int32) then either its text
    # (at most 12 bytes) or its first 4 bytes, its buffer's index and its offset there (int32s).
    views = np.zeros((len(starts), 4), np.int32)
    views[:, 0] = lengths
    text = np.concatenate([raw, np.zeros(12, np.uint8)])[starts[:, None] + np.arange(12)]
    text[np.arange(12) >= lengths[:, None]] = 0
    views.view(np.uint8)[:, 4:] = text
    long = lengths > 12
    views[long, 2] = starts[long] // _VIEW_BUFFER_BYTES
    views[long, 3] = starts[long] % _VIEW_BUFFER_BYTES
    # Buffer k holds every line starting in [k, k+1) x _VIEW_BUFFER_BYTES, to the line's end.
    reach = int(lengths.max()) + 2 if len(lengths) else 0
    whole = memoryview(data)
    buffers = [
        pa.py_buffer(whole[at : at + _VIEW_BUFFER_BYTES + reach])
        for at in range(0, max(len(data), 1), _VIEW_BUFFER_BYTES)
    ]
    lines = pa.Array.from_buffers(
        pa.string_view(), len(starts), [None, pa.py_buffer(views), *buffers]
    )
    return pl.Series(RAW_RECORD, lines)


def _decoded(frame: pl.LazyFrame, contract: Contract) -> pl.DataFrame:
    """`raw_from_json_lines`: one parse per record. Per field, a saved response's 106,000 media
    records took 1.8 s; parsed once, 0.2 s.

    The parse of every record fails as a whole when one is malformed: the lines that are not a
    JSON object (one more parse each, to tell) go per field and the rest are still parsed once
    (a file of 16,000 media with one broken line: 0.08 s against 0.45 s all per field). Only
    when the objects themselves fail (one holds an object where the contract reads text) does
    every record go per field."""
    try:
        return raw_from_json_lines(frame, contract, decode_whole=True).collect()
    except pl.exceptions.PolarsError:
        pass
    marked = frame.with_columns(is_json_object(pl.col(RAW_RECORD)).alias("_object")).collect()
    objects = marked.filter("_object").drop("_object").lazy()
    others = marked.filter(~pl.col("_object")).drop("_object").lazy()
    try:
        parsed = raw_from_json_lines(objects, contract, decode_whole=True).collect()
    except pl.exceptions.PolarsError:
        return raw_from_json_lines(frame, contract).collect()
    broken = raw_from_json_lines(others, contract).collect()
    return pl.concat([parsed, broken]).sort(ROW_NUMBER)


def _sample_keys(lines: list[bytes]) -> set[str]:
    """The keys of the first lines' records (what the contract needs, and the columns it
    ignores); lines that are not JSON objects are skipped (they are quarantined later).

    orjson parses them (Python's json took 1.5 s for the ingest bench's 357 files, Polars'
    schema inference 0.9 s, orjson 0.37-0.49 s); a line orjson refuses is parsed again by
    Python's json, which reads a few things orjson does not (NaN, Infinity), as the record's
    one parse does."""
    keys: set[str] = set()
    for line in lines:
        try:
            record = orjson.loads(line)
        except orjson.JSONDecodeError:
            record = _parse_value(line)
        if isinstance(record, dict):
            keys.update(record)
    return keys


def _parse_object(line: bytes) -> dict | None:
    value = _parse_value(line)
    return value if isinstance(value, dict) else None


def _first_record(lines: list[bytes]) -> dict | None:
    return next((r for r in map(_parse_object, lines[:100]) if r is not None), None)


def _read_csv(data: bytes, max_line_bytes: int, context: Mapping[str, str]) -> RawExport:
    _decode(data)
    if max(len(line) for line in data.split(b"\n", 1000)[:1000]) > max_line_bytes:
        raise FileRejected(f"a line exceeds the {max_line_bytes:,}-byte limit")
    _refuse_duplicate_columns(data)
    try:
        table = pl.read_csv(io.BytesIO(data), infer_schema=False)
    except pl.exceptions.PolarsError as error:
        raise FileRejected(f"not a readable CSV: {type(error).__name__}") from None
    return _from_table(table, "csv", context)


def _refuse_duplicate_columns(data: bytes) -> None:
    """A header naming a column twice (`followers,followers`) is ambiguous: which one holds the
    count? Polars would rename the second and the first would silently win."""
    header = next(csv.reader(io.StringIO(data.split(b"\n", 1)[0].decode("utf-8"))), [])
    seen: set[str] = set()
    for name in (h.strip() for h in header):
        if name in seen:
            raise FileRejected(f"column '{name}' appears twice in the header: ambiguous")
        seen.add(name)


def _read_parquet(data: bytes, context: Mapping[str, str]) -> RawExport:
    try:
        table = pl.read_parquet(io.BytesIO(data))
    except pl.exceptions.PolarsError as error:
        raise FileRejected(f"not a readable Parquet file: {type(error).__name__}") from None
    return _from_table(table, "parquet", context)


def _read_xlsx(data: bytes, context: Mapping[str, str]) -> RawExport:
    """The first sheet of a workbook, every cell as text (calamine, through fastexcel)."""
    try:
        table = pl.read_excel(io.BytesIO(data), engine="calamine", infer_schema_length=0)
    except Exception as error:  # fastexcel raises its own error types for a broken workbook
        raise FileRejected(f"not a readable XLSX workbook: {type(error).__name__}") from None
    return _from_table(table.cast(pl.String), "xlsx", context)


def _from_table(table: pl.DataFrame, file_format: str, context: Mapping[str, str]) -> RawExport:
    stripped = [c.strip() for c in table.columns]
    twice = sorted({c for c in stripped if stripped.count(c) > 1})
    if twice:
        raise FileRejected(f"column '{twice[0]}' appears twice: ambiguous")
    table = table.rename(dict(zip(table.columns, stripped, strict=True)))
    contract = _detect(table.columns, None)
    _check_required(contract, [*table.columns, *context])
    if contract.summary_rows is not None:
        table = table.filter(~contract.summary_rows().fill_null(False))
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
    if not missing:
        return
    owner = next((f for f in contract.fields if f.name == "account_id"), None)
    if contract.owner_key and owner is not None and owner.source in missing:
        # A video list or a Studio download does not say whose it is: the request did.
        key = contract.owner_key
        raise OwnerUnknown(
            f"{contract.name}: the export does not say whose account it is (no "
            f"{' or '.join(owner.sources)}): save it under a folder named {key}=<id> or beside "
            f'a <file name>{REQUEST_SUFFIX} holding {{"{key}": "<id>"}}; read again next run'
        )
    raise FileRejected(f"{contract.name}: missing required column(s): {', '.join(missing)}")
