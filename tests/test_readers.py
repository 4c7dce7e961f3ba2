"""Reading landed files safely: size limits, encodings, compression, symlinks, detection."""

from __future__ import annotations

import gzip
import json
import os

import polars as pl
import pytest

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
    with pytest.raises(FileRejected, match="line of"):
        read_export(big, max_bytes=8 * MB, max_line_bytes=MB)


def test_concatenated_gzip_members_are_read_whole(tmp_path):
    path = tmp_path / "two.jsonl.gz"
    path.write_bytes(gzip.compress(b"a\n", mtime=0) + gzip.compress(b"b\n", mtime=0))
    assert read_bytes(path) == b"a\nb\n"


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
