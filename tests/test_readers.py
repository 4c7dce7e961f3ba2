"""Reading landed files safely: size limits, encodings, compression, symlinks, detection."""

from __future__ import annotations

import gzip
import json
import os
from pathlib import Path

import polars as pl
import pyarrow as pa
import pytest

from ingestion import readers
from ingestion.batch import safe_message
from ingestion.discover import discover
from ingestion.readers import FileRejected, read_bytes, read_export
from schemas import instagram
from schemas.contract import RAW_RECORD, ROW_NUMBER, raw_from_json_lines
from tests.test_contracts import IG_MEDIA

MB = 1024**2


def test_gzip_bomb_fails_cleanly_at_the_limit(tmp_path):
    bomb = tmp_path / "bomb.jsonl.gz"
    with gzip.open(bomb, "wb", compresslevel=9) as handle:
        for _ in range(64):
            handle.write(b"\0" * MB)
    assert bomb.stat().st_size < MB // 8
    with pytest.raises(FileRejected, match="inflates beyond"):
        read_bytes(bomb, max_bytes=16 * MB)


def test_oversized_plain_file_and_long_line_fail_cleanly(tmp_path):
    big = tmp_path / "big.jsonl"
    big.write_bytes(b'{"id": "' + b"x" * (3 * MB) + b'"}\n')
    with pytest.raises(FileRejected, match="limit"):
        read_export(big, max_bytes=2 * MB)
    with pytest.raises(FileRejected, match="a line of 3,145,738 bytes exceeds"):
        read_export(big, max_bytes=8 * MB, max_line_bytes=MB)


def test_concatenated_gzip_members_are_read_whole(tmp_path):
    path = tmp_path / "two.jsonl.gz"
    path.write_bytes(gzip.compress(b"a\n", mtime=0) + gzip.compress(b"b\n", mtime=0))
    assert read_bytes(path) == b"a\nb\n"


@pytest.mark.parametrize(
    ("damage", "reason"),
    [
        (lambda b: b[: len(b) // 2] + bytes([b[len(b) // 2] ^ 0xFF]) + b[len(b) // 2 + 1 :], ""),
        (lambda b: b[:-8] + bytes([b[-8] ^ 0xFF]) + b[-7:], "Incorrect checksum"),
    ],
    ids=["flipped-byte", "wrong-checksum"],
)
def test_damaged_gzip_is_a_file_error_with_its_reason(tmp_path, damage, reason):
    """ISA-L raises its own error type, not zlib's: a damaged stream must still be one clear
    line for the file (the raw error would escape `read_exports`' handling)."""
    path = tmp_path / "damaged.jsonl.gz"
    good = gzip.compress((json.dumps(IG_MEDIA) + "\n").encode() * 200, mtime=0)
    path.write_bytes(damage(good))
    with pytest.raises(FileRejected, match=f"gzip stream is damaged \\(.*{reason}"):
        read_export(path)


def test_truncated_gzip_and_wrong_encoding_are_file_errors(tmp_path):
    cut = tmp_path / "cut.jsonl.gz"
    cut.write_bytes(gzip.compress((json.dumps(IG_MEDIA) + "\n").encode() * 200, mtime=0)[:300])
    with pytest.raises(FileRejected, match="truncated"):
        read_export(cut)
    latin = tmp_path / "latin.csv"
    latin.write_bytes("username,followers\nJos\xe9,1\n".encode("latin-1"))
    with pytest.raises(FileRejected, match="not UTF-8"):
        read_export(latin)
    other = tmp_path / "other.csv"
    other.write_text("a,b\n1,2\n")
    with pytest.raises(FileRejected, match="unrecognised"):
        read_export(other)


def test_detection_ignores_the_file_name(tmp_path):
    misleading = tmp_path / "creator_tool_export.csv"
    misleading.write_text(json.dumps(IG_MEDIA) + "\n")
    assert read_export(misleading).contract.name == "instagram.posts"


def test_bom_csv_reads_like_any_csv(tmp_path):
    path = tmp_path / "bom.csv"
    path.write_bytes(b"\xef\xbb\xbfuser_id,username,platform,followers\n1,a,tiktok,3.3k\n")
    raw = read_export(path)
    assert raw.contract.name == "creator_csv.followers" and raw.row_count == 1


def test_fast_and_safe_json_paths_agree():
    lines = [
        json.dumps(IG_MEDIA),
        json.dumps(IG_MEDIA | {"like_count": "lots", "owner": None}),
        json.dumps({"id": "1"}),
    ]
    frame = pl.LazyFrame({RAW_RECORD: lines}).with_row_index(ROW_NUMBER, offset=1)
    fast = raw_from_json_lines(frame, instagram.POSTS, decode_whole=True).collect()
    safe = raw_from_json_lines(frame, instagram.POSTS).collect()
    assert fast.equals(safe)


def test_broken_lines_alone_go_per_field_and_every_row_is_as_per_field(monkeypatch):
    """readers._decoded: one broken line no longer sends a whole file per field (5x slower):
    the lines that are not objects go per field, the objects are parsed once, in file order.
    An object the one-parse path refuses (an object where text is read) sends every line per
    field, as before."""
    import ingestion.readers as readers

    per_field: list[int] = []
    real = readers.raw_from_json_lines

    def spy(lines, contract, *, decode_whole=False):
        if not decode_whole:
            per_field.append(lines.collect().height)
        return real(lines, contract, decode_whole=decode_whole)

    monkeypatch.setattr(readers, "raw_from_json_lines", spy)
    good = [json.dumps(IG_MEDIA | {"id": str(n)}) for n in range(6)]
    lines = [good[0], '{"id": "broken', good[1], "[1, 2]", good[2], "", "42", *good[3:]]
    frame = pl.LazyFrame({RAW_RECORD: lines}).with_row_index(ROW_NUMBER, offset=1)
    rows = readers._decoded(frame, instagram.POSTS)
    assert per_field == [4]  # the four lines that are not objects, and only those
    assert rows.equals(real(frame, instagram.POSTS).collect())
    assert rows[ROW_NUMBER].to_list() == list(range(1, len(lines) + 1))
    assert (
        rows["_malformed"].to_list() == [False, True, False, True, False, True, True] + [False] * 3
    )
    per_field.clear()
    nested = json.dumps(IG_MEDIA | {"caption": {"text": "an object where text is read"}})
    frame = pl.LazyFrame({RAW_RECORD: [*lines, nested]}).with_row_index(ROW_NUMBER, offset=1)
    rows = readers._decoded(frame, instagram.POSTS)
    assert per_field == [len(lines) + 1]
    assert rows.equals(real(frame, instagram.POSTS).collect())


def _lines_by_python(data: bytes) -> list[str]:
    """What `_split_lines` must return, the plain way: split on \\n, the closing whitespace-only
    line dropped, each line's one trailing \\r removed."""
    lines = data.decode().split("\n")
    if not lines[-1].strip():
        lines.pop()
    return [line.removesuffix("\r") for line in lines]


SPLIT_CASES = [
    b"",
    b"\n",
    b"\n\n",
    b"  \r\n",
    b"a",
    b"a\r\n\r\n",
    b"\r\r\n\r",
    b"exactly12byt\n13 bytes here\n" + b"x" * 11 + b"\r\n",
    '{"caption": "caf\u00e9 \u2615 #t\u00e9"}\r\n{"id": "1"}\n   \n{}'.encode(),
    b'{"id": "1"}\n{"id": "2"}\n \t ',
]


@pytest.mark.parametrize("buffer_bytes", [1 << 30, 16, 5])
def test_lines_are_split_as_python_splits_them(monkeypatch, buffer_bytes):
    """readers._split_lines builds Arrow string views into the file's bytes by hand (lengths,
    inline text up to 12 bytes, buffer and offset beyond): every line must be the text Python's
    split gives, also when the views span several buffers (patched small here: lines cross
    their boundaries) and on random files of short, long, blank and CRLF lines."""
    import random

    import ingestion.readers as readers

    monkeypatch.setattr(readers, "_VIEW_BUFFER_BYTES", buffer_bytes)
    built: list[pa.Array] = []

    class ValidatedArrow:
        """pyarrow, whose hand-built arrays are kept for full validation: Polars reads a view
        past its buffer's end without a word when the memory beyond happens to be mapped."""

        def __getattr__(self, name):
            return getattr(pa, name)

        class Array:
            @staticmethod
            def from_buffers(*args, **kwargs):
                built.append(pa.Array.from_buffers(*args, **kwargs))
                return built[-1]

    monkeypatch.setattr(readers, "pa", ValidatedArrow())
    pieces = ["", " ", "\r", "\u00e9", "ab", "{}", "x" * 11, "y" * 12, "z" * 13, "w" * 40]
    generated = random.Random(buffer_bytes)
    cases = SPLIT_CASES + [
        "\n".join(
            "".join(generated.choices(pieces, k=generated.randint(0, 4)))
            for _ in range(generated.randint(1, 60))
        ).encode()
        for _ in range(200)
    ]
    for data in cases:
        lines = readers._split_lines(data, max_line_bytes=MB)
        assert lines.name == RAW_RECORD
        assert lines.to_list() == _lines_by_python(data), data
        built.pop().validate(full=True)  # every view inside its buffer, every text UTF-8


def test_a_line_over_the_limit_is_measured_with_its_carriage_return():
    import ingestion.readers as readers

    data = b'{"id": "1"}\r\n' + b"x" * 20 + b"\r\n"
    assert readers._split_lines(data, max_line_bytes=21).to_list() == ['{"id": "1"}', "x" * 20]
    with pytest.raises(FileRejected, match="a line of 21 bytes exceeds the 20-byte limit"):
        readers._split_lines(data, max_line_bytes=20)


def test_sampled_keys_are_those_of_the_lines_that_are_objects():
    """The key sample (required fields, ignored columns) is parsed by orjson, and again by
    Python's json where orjson refuses a line: NaN is JSON to Python, so that record counts;
    lines that are not objects, blank or broken, are skipped."""
    import ingestion.readers as readers

    lines = [
        b'{"id": "1", "like_count": 3}\r',
        b"",
        b'{"id": "2", "extra": [1, {"deep": 2}]}',
        b'{"broken": ',
        b"[1, 2]",
        b'"text"',
        b'{"nan_count": NaN}',
    ]
    assert readers._sample_keys(lines) == {"id", "like_count", "extra", "nan_count"}


def test_ignored_columns_come_from_the_first_thousand_lines(tmp_path):
    """A key first seen on line 1,000 is named as ignored; one first seen on line 1,001 is not
    (the sample is the file's first 1,000 lines, `_HEAD_LINES`)."""
    records = [IG_MEDIA | {"id": str(n)} for n in range(1, 1002)]
    records[999] = records[999] | {"on_line_1000": 1}
    records[1000] = records[1000] | {"on_line_1001": 1}
    path = tmp_path / "media.jsonl"
    path.write_text("".join(json.dumps(r) + "\r\n" for r in records))
    export = read_export(path)
    assert export.row_count == 1001
    assert "on_line_1000" in export.ignored_columns
    assert "on_line_1001" not in export.ignored_columns
    # Each row's raw record is its line (what quarantine keeps of a rejected row).
    lines = export.raw_records(list(range(1, 1002))).sort(ROW_NUMBER)
    assert lines[RAW_RECORD].to_list() == [json.dumps(r) for r in records]


@pytest.mark.parametrize("line_bytes", [0, 5, 600, 3000])
@pytest.mark.parametrize("lines", [1, 999, 1000, 1001, 4000])
def test_the_head_of_a_file_is_its_first_thousand_lines(line_bytes, lines):
    # _head_lines splits a prefix, not the file (whose split copies the rest): the same lines,
    # whether the thousand fit in its first window (512 KiB), need more, or are the file.
    for end in (b"", b"\n", b"\r\n"):
        data = b"\n".join(b"%d:" % n + b"x" * line_bytes for n in range(lines)) + end
        assert readers._head_lines(data) == data.split(b"\n", 1000)[:1000]
    assert readers._head_lines(b"") == [b""]
    # The thousandth line runs past the first window: the window's last piece is not a line.
    data = b"short\n" * 999 + b"long" * 200_000 + b"\nafter\n"
    assert readers._head_lines(data) == data.split(b"\n", 1000)[:1000]


def test_symlinks_out_of_the_landing_folder_are_refused(tmp_path):
    landing, outside = tmp_path / "landing", tmp_path / "secret"
    landing.mkdir()
    outside.mkdir()
    (outside / "passwords.csv").write_text("user,password\n")
    (landing / "real.csv").write_text("x\n")
    os.symlink(outside / "passwords.csv", landing / "innocent.csv")
    os.symlink(outside, landing / "folder")
    os.symlink(landing / "real.csv", landing / "alias.csv")
    (landing / "_generator").mkdir()
    (landing / "_generator" / "manifest.json").write_text("{}")
    found, refused = discover(landing)
    assert sorted(f.relative for f in found) == ["alias.csv", "real.csv"]
    assert [r.relative for r in refused] == ["innocent.csv"]


def test_error_messages_are_one_bounded_line():
    duckdb_like = (
        "Invalid Input Error: CSV Error on Line: 7\nOriginal Line: " + "jane.doe@example.com," * 500
    )
    message = safe_message(duckdb_like)
    assert "\n" not in message and len(message) <= 300


def test_a_header_naming_a_column_twice_fails_the_file(tmp_path):
    header = "platform,account_id,snapshot_date,captured_at,followers"
    twice = tmp_path / "twice.csv"
    twice.write_text(f"{header},followers\ninstagram,1,2026-03-01,2026-03-01T03:00:00Z,10,99999\n")
    with pytest.raises(FileRejected, match="'followers' appears twice"):
        read_export(twice)
    spaced = tmp_path / "spaced.csv"  # the same name once padded: still the same column
    spaced.write_text(f"{header}, followers\ninstagram,1,2026-03-01,2026-03-01T03:00:00Z,10,9\n")
    with pytest.raises(FileRejected, match="appears twice"):
        read_export(spaced)


def test_a_file_rewritten_after_it_was_found_is_not_recorded_under_its_old_hash(
    tmp_path, monkeypatch, prefect_api
):
    """The fault for real: the file's bytes change between discovery (hash taken) and reading.
    It fails without a hash, so neither content counts as ingested: the next run loads what
    the file holds, and the original copied back later loads too."""
    import flows.ingest as ingest_flow
    from tests.conftest import read_table

    landing = tmp_path / "landing"
    landing.mkdir()
    header = "platform,account_id,snapshot_date,captured_at,followers\n"
    original = header + "instagram,1,2026-03-01,2026-03-01T04:00:00Z,100\n"
    rewritten = header + "instagram,1,2026-03-01,2026-03-01T03:00:00Z,555\n"
    export = landing / "followers_2026-03-01.csv"
    export.write_text(original)
    found = ingest_flow.discover

    def discover_then_rewrite(root):
        files, refused = found(root)
        export.write_text(rewritten)  # another process saves over it meanwhile
        return files, refused

    warehouse = tmp_path / "w.duckdb"
    monkeypatch.setattr(ingest_flow, "discover", discover_then_rewrite)
    first = ingest_flow.ingest(landing=landing, warehouse=warehouse)
    assert (first.files_loaded, first.files_failed) == (0, 1)
    assert "changed while it was being read" in first.failures[0][1]
    monkeypatch.setattr(ingest_flow, "discover", found)
    second = ingest_flow.ingest(landing=landing, warehouse=warehouse)
    assert second.files_loaded == 1
    export.write_text(original)  # the original copied back: new to the warehouse, loaded
    third = ingest_flow.ingest(landing=landing, warehouse=warehouse)
    assert third.files_loaded == 1
    followers = read_table(warehouse, "select followers from staging.follower_snapshots")
    # Both contents loaded; the day's later capture (the original's, 04:00) is the snapshot.
    assert followers["followers"].to_list() == [100]


UNPRIVILEGED = 65534  # nobody: root reads any file whatever its mode, so the test drops to it


def test_paths_that_cannot_be_read_are_each_refused_with_a_reason_and_the_rest_is_found(
    tmp_path,
):
    """Real faults: a symlink loop, a dangling symlink, a FIFO, a file and a folder the
    process may not read. Each used to raise (a traceback, nothing loaded) or vanish."""
    import json
    import shutil
    import tempfile

    base = Path(tempfile.mkdtemp(prefix="inflow-perm-"))  # pytest's tmp dirs are root-only
    try:
        landing = base / "landing"
        landing.mkdir()
        (landing / "good.csv").write_text("x\n")
        os.symlink(landing / "loop_b.csv", landing / "loop_a.csv")
        os.symlink(landing / "loop_a.csv", landing / "loop_b.csv")
        os.symlink(landing / "gone.csv", landing / "dangling.csv")
        os.mkfifo(landing / "pipe.csv")
        (landing / "secret.csv").write_text("x\n")
        (landing / "secret.csv").chmod(0o000)
        (landing / "closed").mkdir()
        (landing / "closed" / "inside.csv").write_text("x\n")
        (landing / "closed").chmod(0o000)
        for path in (base, landing):
            path.chmod(0o755)
        (landing / "good.csv").chmod(0o644)
        assert (landing / "secret.csv").stat().st_mode & 0o777 == 0  # mode bits, as root
        # A forked child drops to nobody and runs discover: the interpreter and modules are
        # already loaded (the checkout need not be readable by nobody), and discover uses no
        # Polars threads (which do not survive fork).
        read_end, write_end = os.pipe()
        child = os.fork()
        if child == 0:  # pragma: no cover (the child reports through the pipe)
            try:
                os.setgid(UNPRIVILEGED)
                os.setuid(UNPRIVILEGED)
                found, refused = discover(landing)
                result = [[f.relative for f in found], [[r.relative, r.reason] for r in refused]]
                os.write(write_end, json.dumps(result).encode())
            except BaseException as error:
                os.write(write_end, json.dumps({"error": repr(error)}).encode())
            finally:
                os._exit(0)
        os.close(write_end)
        with os.fdopen(read_end) as pipe:
            output = pipe.read()
        os.waitpid(child, 0)
        reported = json.loads(output)
        assert "error" not in reported, reported
        found, refused = reported
        assert found == ["good.csv"]
        assert dict(refused) == {
            "closed": "cannot list the folder: permission denied",
            "dangling.csv": "dangling symlink: its target does not exist",
            "loop_a.csv": "symlink loop; not read",
            "loop_b.csv": "symlink loop; not read",
            "pipe.csv": "not a regular file (a FIFO, socket or device); not read",
            "secret.csv": "cannot read the file: permission denied",
        }
    finally:
        (base / "landing" / "closed").chmod(0o755)
        shutil.rmtree(base)


def _line(record: dict) -> bytes:
    return json.dumps(record).encode()


# Files of Instagram media lines, each with what Polars' NDJSON reader (readers._ndjson_rows)
# reads as the lines' own decode does, or must leave to it.
NDJSON_FILES = {
    "plain, CRLF, no final newline": b"\r\n".join(
        _line(IG_MEDIA | {"id": str(n), "like_count": n}) for n in range(5)
    ),
    "numbers and text in every JSON form": b"\n".join(
        [
            _line(IG_MEDIA | {"like_count": 1.5, "reach": 1e3, "views": 99999999999999999999}),
            _line(IG_MEDIA | {"like_count": "12", "saved": True, "shares": None}),
            b'{"id": "1", "owner": {"id": "2"}, "caption": "caf\\u00e9 \\"q\\"", "id": "3"}',
            _line({k: v for k, v in IG_MEDIA.items() if k != "owner"}),
            _line(IG_MEDIA | {"owner": None}),
            _line(IG_MEDIA | {"owner": {}}),
        ]
    )
    + b"\n",
    "a blank line between records": _line(IG_MEDIA) + b"\n\n" + _line(IG_MEDIA) + b"\n",
    "a line of spaces": _line(IG_MEDIA) + b"\n   \n" + _line(IG_MEDIA) + b"\n",
    "an object where text is read": _line(IG_MEDIA | {"caption": {"text": "hi"}}) + b"\n",
    "an array where text is read": _line(IG_MEDIA | {"media_type": ["VIDEO"]}) + b"\n",
    "a caption that starts like JSON": _line(IG_MEDIA | {"caption": "[AD] {new} drop"}) + b"\n",
    "a brace within text": _line(IG_MEDIA | {"caption": "{new} drop"}) + b"\n",
    "an object where a nested path's text is": _line(IG_MEDIA | {"owner": {"id": {"n": 1}}})
    + b"\n",
    "text where a nested path's object is": _line(IG_MEDIA | {"owner": "17841"}) + b"\n",
    "a line that is not an object": _line(IG_MEDIA) + b"\n[1, 2]\n" + _line(IG_MEDIA) + b"\n",
    "a cut line": _line(IG_MEDIA) + b'\n{"id": "7", "like_c\n' + _line(IG_MEDIA) + b"\n",
}


@pytest.mark.parametrize("name", sorted(NDJSON_FILES))
def test_json_lines_read_whole_are_the_lines_own_decode(tmp_path, name):
    """readers._ndjson_rows: Polars' NDJSON reader over the file's bytes gives every row, row
    number and text the decode of the split lines gives, or leaves the file to it; a row's raw
    record is still its line."""
    from ingestion import readers

    data = NDJSON_FILES[name]
    path = tmp_path / "media.jsonl"
    path.write_bytes(data)
    export = read_export(path)
    lines = readers._split_lines(data, len(data) + 1)
    frame = pl.LazyFrame({RAW_RECORD: lines}).with_row_index(ROW_NUMBER, offset=1)
    expected = readers._decoded(frame, instagram.POSTS)
    got = export.rows.collect()
    assert export.row_count == len(lines)
    assert got.drop(RAW_RECORD, strict=False).equals(expected.drop(RAW_RECORD))
    numbers = list(range(1, len(lines) + 1))
    raw = export.raw_records(numbers).sort(ROW_NUMBER)
    assert raw[RAW_RECORD].to_list() == lines.to_list()
    whole = readers._ndjson_rows(data, instagram.POSTS)
    # Read whole where nothing told it apart; else left to the lines' path.
    assert (whole is not None) == (
        name in {"plain, CRLF, no final newline", "numbers and text in every JSON form"}
    )
