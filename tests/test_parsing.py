"""Text parsers of the contracts, on literal values."""

from datetime import UTC, date, datetime

import polars as pl
import pytest

from schemas import parsing


def parse(parser, values):
    return pl.select(parser(pl.Series("v", values, dtype=pl.String))).to_series().to_list()


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1.2k", 1_200),
        ("3.3k", 3_300),
        ("3M", 3_000_000),
        ("475.8m", 475_800_000),
        ("1,234", 1_234),
        ("1,234,567", 1_234_567),
        ("12", 12),
        (" 41.2K ", 41_200),
        ("1.5B", 1_500_000_000),
        ("0", 0),
        # Ambiguous or not a count: rejected (null), never guessed.
        ("1,5k", None),
        ("1,23", None),
        ("1.2345k", None),
        ("12.5", None),
        ("NaN", None),
        ("k", None),
        ("-3k", None),
        ("", None),
        (None, None),
        ("3.3kk", None),
    ],
)
def test_abbreviated_count_is_exact_or_rejected(text, expected):
    assert parse(parsing.abbreviated_count, [text]) == [expected]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1.39%", 0.0139),
        ("4%", 0.04),
        ("0.5", 0.005),
        ("NaN%", None),
        ("inf%", None),
        ("%", None),
        ("abc%", None),
    ],
)
def test_percent(text, expected):
    (value,) = parse(parsing.percent, [text])
    assert value == pytest.approx(expected) if expected is not None else value is None


def test_integer_accepts_integral_json_floats_only():
    assert parse(parsing.integer, ["42", "42.0", "4.2e1", "42.5", "lots", "", " 7 "]) == [
        42,
        42,
        42,
        None,
        None,
        None,
        7,
    ]


def test_timestamps_in_every_offset_style_become_utc():
    values = [
        "2026-01-05T14:03:11+0000",
        "2026-01-05T14:03:11Z",
        "2026-01-05T16:03:11+02:00",
        "2026-01-05 14:03:11",
        "5 Jan",
    ]
    expected = datetime(2026, 1, 5, 14, 3, 11, tzinfo=UTC)
    assert parse(parsing.timestamp_utc, values) == [expected, expected, expected, expected, None]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # The common shape (the fast path) and the rows beside it that take the others.
        ("2026-01-05T14:03:11+00:00", datetime(2026, 1, 5, 14, 3, 11, tzinfo=UTC)),
        (" 2026-01-05T14:03:11Z ", datetime(2026, 1, 5, 14, 3, 11, tzinfo=UTC)),
        ("2026-01-05T14:03:11.250Z", datetime(2026, 1, 5, 14, 3, 11, 250000, tzinfo=UTC)),
        ("2026-01-05 14:03:11Z", datetime(2026, 1, 5, 14, 3, 11, tzinfo=UTC)),
        ("2026-01-05T14:03:11-0500", datetime(2026, 1, 5, 19, 3, 11, tzinfo=UTC)),
        ("2026-01-05T14:03:11.5", datetime(2026, 1, 5, 14, 3, 11, 500000, tzinfo=UTC)),
        # Of the common shape but no instant: every format refuses them.
        ("2026-02-30T00:00:00Z", None),
        ("2026-01-05T24:00:00Z", None),
        ("2026-01-05T14:03:11+0000junk", None),
        (None, None),
    ],
)
def test_timestamps_of_the_common_shape_and_beside_it(text, expected):
    # Mixed in one column with common-shape rows, as a file holds them.
    values = [text, "2026-01-05T14:03:11+0000", "2026-01-05T14:03:11Z"]
    common = datetime(2026, 1, 5, 14, 3, 11, tzinfo=UTC)
    assert parse(parsing.timestamp_utc, values) == [expected, common, common]


def test_epoch_seconds():
    assert parse(parsing.epoch_seconds_utc, ["1767225600", "soon"]) == [
        datetime(2026, 1, 1, tzinfo=UTC),
        None,
    ]


def test_dates_booleans_and_lists():
    assert parse(parsing.calendar_date, ["2026-02-28", "2026-02-30"]) == [date(2026, 2, 28), None]
    assert parse(parsing.boolean, ["true", "FALSE", "1", "no", "maybe"]) == [
        True,
        False,
        True,
        False,
        None,
    ]
    assert parse(parsing.string_list, ['["#a","b"]', "a;#b", "", None]) == [
        ["a", "b"],
        ["a", "b"],
        None,
        None,
    ]


def test_tags_in_caption_are_lowercased_without_sigil():
    out = pl.select(parsing.tags_in_text(pl.lit("Hi #Ad and #daily. with @Bob_1"), "#")).item()
    assert out.to_list() == ["ad", "daily"]


# Values of every shape each parser with a fast form meets: the fast form's own shape, its
# near misses, and the shapes only the full parser reads.
FAST_PATH_VALUES = {
    "abbreviated_count": [
        "1663",
        "0",
        "007",
        "1,234",
        "3.3k",
        " 12 ",
        "-5",
        "+5",
        "1.2345k",
        "99999999999999999999",
        "123456789012345678",
        "",
        None,
        "12.0",
    ],
    "timestamp": [
        "2026-01-05T14:03:11Z",
        "2026-01-05T14:03:11+0000",
        "2026-01-05T14:03:11+00:00",
        "2026-01-05T16:03:11+02:00",
        "2026-01-05 14:03:11Z",
        "2026-01-05T14:03:11.5Z",
        "2026-02-30T00:00:00Z",
        " 2026-01-05T14:03:11Z",
        "2026-01-05T14:03:11",
        "",
        None,
    ],
    "export_datetime": [
        "2026-01-05T14:03:11Z",
        "01/05/2026 14:30",
        "2026-01-05 14:30",
        "2026-13-05T14:03:11Z",
    ],
    "string_list": [
        "humor;daily",
        "a",
        "#x;@y",
        "a;;b",
        "a, b",
        '["a","b"]',
        "",
        None,
        "über;ça",
        "a; b",
        "a.b;c_d",
        ";a",
        "a;",
    ],
    "integer": [
        "42",
        "-3",
        " 42",
        "42.0",
        "4.2e1",
        "42.5",
        "abc",
        "",
        None,
        "99999999999999999999",
    ],
    "boolean": ["true", "0", "f", "TRUE", " yes", "No", "maybe", "", None],
}


@pytest.mark.parametrize("parser", sorted(parsing.FAST_PATHS))
def test_a_fast_form_then_its_parser_equals_the_parser_alone(parser):
    # How schemas.contract.normalise uses them: the fast form, then the parser on what it left.
    assert set(FAST_PATH_VALUES) == set(parsing.FAST_PATHS)
    values = pl.Series("v", FAST_PATH_VALUES[parser], dtype=pl.String)
    fast = parsing.FAST_PATHS[parser]
    full = parsing.PARSERS[parser]

    def staged(values: pl.Series) -> pl.Series:
        frame = pl.select(v=values).with_columns(fast(pl.col("v")).alias("fast"))
        rest = pl.when(pl.col("fast").is_null()).then(pl.col("v"))
        return frame.select(pl.coalesce(pl.col("fast"), parsing.rest_parsed(rest, parser)))["fast"]

    alone = pl.select(full(values)).to_series()
    assert alone.dtype == parsing.PARSED_TYPES[parser]
    assert staged(values).to_list() == alone.to_list()
    # The fast form reads some of these values itself, and leaves others to the parser.
    fast_only = pl.select(fast(values)).to_series()
    assert 0 < fast_only.null_count() < len(values)
    # Values the fast form reads whole leave the parser nothing (it is not run): the same.
    read = values.filter(fast_only.is_not_null())
    assert staged(read).to_list() == pl.select(full(read)).to_series().to_list()
    assert staged(read).dtype == alone.dtype


def test_a_parser_after_its_fast_form_runs_only_when_a_row_is_left(monkeypatch):
    # rest_parsed: the full parser's fixed price (regexes compiled, branches planned) is paid
    # only when the fast form left a row; a column it read whole needs nothing more.
    calls = []

    def counted(text: pl.Expr) -> pl.Expr:
        calls.append(1)
        return parsing.abbreviated_count(text)

    monkeypatch.setitem(parsing.PARSERS, "abbreviated_count", counted)

    def parsed(values: list[str | None]) -> list[int | None]:
        frame = pl.select(v=pl.Series(values, dtype=pl.String))
        fast = parsing.FAST_PATHS["abbreviated_count"](pl.col("v"))
        rest = pl.when(fast.is_null()).then(pl.col("v"))
        return frame.select(pl.coalesce(fast, parsing.rest_parsed(rest, "abbreviated_count")))[
            "v"
        ].to_list()

    assert parsed(["12", "1663", None]) == [12, 1663, None]
    assert calls == []
    assert parsed(["12", "3.3k", None]) == [12, 3300, None]
    assert calls == [1]
