"""Polars expressions that parse raw export text into typed values; a failed parse is null.

Every parser takes a String expression and returns a typed expression that is null where the
text is absent *or* unparseable; the contract compares the two to tell "missing" from "bad".
"""

from __future__ import annotations

from collections.abc import Callable

import polars as pl

# Creator tools abbreviate counts: 3.3k, 475.8m, 1.2B. Thousands separators are commas in
# groups of three ("1,234,567"). A comma followed by anything else ("1,5k") is a decimal comma
# or a typo: ambiguous, so rejected rather than guessed.
_ABBREVIATED = r"^([0-9]{1,3}(?:,[0-9]{3})+|[0-9]+)(?:\.([0-9]+))?([kKmMbB]?)$"
_SUFFIX_POWER = {"": 0, "k": 3, "K": 3, "m": 6, "M": 6, "b": 9, "B": 9}
_MAX_FRACTION_DIGITS = 9


def _clean(text: pl.Expr) -> pl.Expr:
    """Trim whitespace; empty text counts as absent."""
    stripped = text.str.strip_chars()
    return pl.when(stripped.str.len_chars() > 0).then(stripped)


def unless(parsed: pl.Expr, text: pl.Expr) -> pl.Expr:
    """`text` where the fast parse failed, null elsewhere.

    Polars evaluates every branch on the whole column, so slow fallbacks run on this mostly
    null column: the common, well-formed value costs one fast parse.
    """
    return pl.when(parsed.is_null()).then(text)


def _plain_integer(text: pl.Expr) -> pl.Expr:
    """`integer` of the text Int64 reads as it is ("42"), null otherwise."""
    return text.cast(pl.Int64, strict=False)


def integer(text: pl.Expr) -> pl.Expr:
    """Whole numbers: "42", "42.0" and "4.2e1" (JSON writers emit floats) but not "42.5"."""
    fast = _plain_integer(text)
    cleaned = _clean(unless(fast, text))
    as_float = cleaned.cast(pl.Float64, strict=False)
    integral_float = (
        pl.when(as_float.is_finite() & (as_float == as_float.round(0)) & (as_float.abs() < 2**53))
        .then(as_float)
        .cast(pl.Int64)
    )
    return pl.coalesce(fast, cleaned.cast(pl.Int64, strict=False), integral_float)


def decimal(text: pl.Expr) -> pl.Expr:
    """Finite floating-point numbers; NaN and infinities are not values."""
    as_float = _clean(text).cast(pl.Float64, strict=False)
    return pl.when(as_float.is_finite()).then(as_float)


def abbreviated_count(text: pl.Expr) -> pl.Expr:
    """Exact whole counts from creator-tool text: "3.3k" -> 3300, "1,234" -> 1234, "3M".

    Parsed with integer arithmetic (no float rounding); a value that is not a whole number
    after scaling ("1.2345k") is rejected as ambiguous.
    """
    cleaned = _clean(text)
    parts = cleaned.str.extract_groups(_ABBREVIATED)
    whole = parts.struct.field("1").str.replace_all(",", "").cast(pl.Int64, strict=False)
    fraction = parts.struct.field("2").fill_null("")
    fraction_digits = fraction.str.len_chars().cast(pl.Int64)
    power = parts.struct.field("3").replace_strict(_SUFFIX_POWER, return_dtype=pl.Int64, default=0)
    fraction_value = (
        pl.when(fraction_digits > 0).then(fraction.cast(pl.Int64, strict=False)).otherwise(0)
    )
    numerator = whole * pl.lit(10, pl.Int64).pow(fraction_digits) + fraction_value
    scale_up = power - fraction_digits
    divisor = pl.lit(10, pl.Int64).pow((-scale_up).clip(lower_bound=0))
    value = (
        pl.when(scale_up >= 0)
        .then(numerator * pl.lit(10, pl.Int64).pow(scale_up.clip(lower_bound=0)))
        .when(numerator % divisor == 0)
        .then(numerator // divisor)
    )
    # A comma-grouped number must not also carry a suffix-less fraction of more digits than
    # makes sense; and "1,234" with a suffix ("1,234k") is unusual but unambiguous: accepted.
    return pl.when(
        parts.struct.field("1").is_not_null() & (fraction_digits <= _MAX_FRACTION_DIGITS)
    ).then(value)


def _plain_count(text: pl.Expr) -> pl.Expr:
    """`abbreviated_count` of plain digits ("1663": what API responses hold), null otherwise."""
    return pl.when(text.str.contains(r"^[0-9]{1,18}$")).then(text.cast(pl.Int64, strict=False))


def percent(text: pl.Expr) -> pl.Expr:
    """A rate from "1.39%" (or "1.39") as a fraction: 0.0139. "NaN%" is not a value."""
    cleaned = _clean(text)
    number = cleaned.str.strip_suffix("%").str.strip_chars()
    return decimal(number) / 100


# The shape nearly every export writes: second precision, UTC as "Z", "+0000" or "+00:00".
_UTC_SUFFIXES = ("Z", "+0000", "+00:00")


def _utc_common_shape(text: pl.Expr) -> pl.Expr:
    """`timestamp_utc` of the common shape, told apart by cheap string tests (not by a failed
    parse) and parsed by one fixed format; null for every other value. A value of that shape
    this rejects (month 13) is one every other format of `timestamp_utc` rejects too."""
    common = (text.str.slice(19).is_in(_UTC_SUFFIXES)) & (text.str.slice(10, 1) == "T")
    return (
        pl.when(common)
        .then(text.str.head(19))
        .str.to_datetime("%Y-%m-%dT%H:%M:%S", strict=False, time_unit="us")
        .dt.replace_time_zone("UTC")
    )


def timestamp_utc(text: pl.Expr) -> pl.Expr:
    """RFC 3339 / ISO 8601 instants ("...Z", "+0000", "+00:00") as UTC; naive text is read as UTC."""
    utc = pl.Datetime("us", "UTC")
    fast = _utc_common_shape(text)
    # Every other shape (offsets, fractions, a space for the T, naive text) on the rows the fast
    # path left null. Each parse below is written on a mostly null column, so it costs little
    # there even though Polars computes it once per reference (see FAST_PATHS).
    rest = _clean(unless(fast, text))
    offset = rest.str.to_datetime("%Y-%m-%dT%H:%M:%S%z", strict=False).cast(utc)
    cleaned = unless(offset, rest).str.replace(r"Z$", "+00:00").str.replace("T", " ", literal=True)
    with_zone = cleaned.str.to_datetime("%Y-%m-%d %H:%M:%S%.f%z", strict=False, time_zone="UTC")
    naive = cleaned.str.to_datetime("%Y-%m-%d %H:%M:%S%.f", strict=False).dt.replace_time_zone(
        "UTC"
    )
    return pl.coalesce(fast, offset, with_zone.cast(utc), naive.cast(utc))


def epoch_seconds_utc(text: pl.Expr) -> pl.Expr:
    """Unix epoch seconds (TikTok's create_time) as a UTC instant."""
    seconds = integer(text)
    return pl.from_epoch(seconds, time_unit="s").dt.replace_time_zone("UTC").dt.cast_time_unit("us")


def calendar_date(text: pl.Expr) -> pl.Expr:
    """ISO dates, YYYY-MM-DD."""
    return _clean(text).str.to_date("%Y-%m-%d", strict=False)


# Day formats owned-account downloads write: ISO, the Reporting API's 20260105, US month-first
# (Meta Business Suite), and spelled-out months (YouTube Studio: "Jan 5, 2026").
_DAY_FORMATS = ("%Y-%m-%d", "%Y%m%d", "%m/%d/%Y", "%b %d, %Y", "%B %d, %Y")


def loose_date(text: pl.Expr) -> pl.Expr:
    """A calendar day in any of the formats above (a day-first 05/01/2026 is not one of them:
    ambiguous, so a month above 12 fails rather than being guessed)."""
    # A spreadsheet's date cell reads as its midnight ("2026-01-05 00:00:00").
    cleaned = _clean(text).str.replace(r"[ T]00:00:00(\.0+)?$", "")
    return pl.coalesce(cleaned.str.to_date(f, strict=False) for f in _DAY_FORMATS)


def export_datetime(text: pl.Expr) -> pl.Expr:
    """An RFC 3339 instant, or a download's wall-clock time ("01/05/2026 14:30",
    "2026-01-05 14:30:00") read as UTC: these files do not state their time zone (README)."""
    cleaned = _clean(text)
    wall = pl.coalesce(
        cleaned.str.to_datetime(f, strict=False, time_unit="us")
        for f in ("%m/%d/%Y %H:%M", "%m/%d/%Y %H:%M:%S", "%Y-%m-%d %H:%M")
    )
    return pl.coalesce(
        timestamp_utc(text), wall.dt.replace_time_zone("UTC").dt.cast_time_unit("us")
    )


_TIKTOK_VIDEO_URL = r"tiktok\.com/@([\w.]+)/video/(\d+)"


def tiktok_video_id(text: pl.Expr) -> pl.Expr:
    """A video's id from its link (https://www.tiktok.com/@user/video/7321...), or the id itself."""
    cleaned = _clean(text)
    return pl.coalesce(
        cleaned.str.extract(_TIKTOK_VIDEO_URL, 2),
        pl.when(cleaned.str.contains(r"^\d+$")).then(cleaned),
    )


def tiktok_owner(text: pl.Expr) -> pl.Expr:
    """The username in a video link (`@user`), or the text itself (an open_id, a username)."""
    cleaned = _clean(text)
    return pl.coalesce(
        cleaned.str.extract(_TIKTOK_VIDEO_URL, 1),
        pl.when(~cleaned.str.contains("tiktok.com")).then(cleaned.str.strip_chars_start("@")),
    )


_BOOLEAN_WORDS = {
    "true": True,
    "1": True,
    "yes": True,
    "y": True,
    "t": True,
    "false": False,
    "0": False,
    "no": False,
    "n": False,
    "f": False,
}


def _boolean_word(text: pl.Expr) -> pl.Expr:
    """`boolean` of the words as they are written ("true", "0"), null otherwise."""
    return text.replace_strict(_BOOLEAN_WORDS, default=None, return_dtype=pl.Boolean)


def boolean(text: pl.Expr) -> pl.Expr:
    """true/false, 1/0, yes/no in any case."""
    fast = _boolean_word(text)
    slow = (
        _clean(unless(fast, text))
        .str.to_lowercase()
        .replace_strict(_BOOLEAN_WORDS, default=None, return_dtype=pl.Boolean)
    )
    return pl.coalesce(fast, slow)


def string(text: pl.Expr) -> pl.Expr:
    """Text as given, trimmed; empty is absent."""
    return _clean(text)


def string_list(text: pl.Expr) -> pl.Expr:
    """A list from a JSON array of words ('["a","b"]') or ';'-, ','- or space-separated text.

    Tags and handles hold no quotes, commas or spaces, so brackets and quotes are dropped and
    the rest split, which also survives a list that a writer did not quote.
    """
    words = (
        _clean(text)
        .str.replace_all(r'[\[\]"]', " ")
        .str.replace_all(r"[;,\s]+", " ")
        .str.strip_chars()
    )
    items = pl.when(words.str.len_chars() > 0).then(words.str.split(" "))
    return items.list.eval(
        pl.element().str.strip_chars_start("#@").filter(pl.element().str.len_chars() > 0)
    )


def _plain_list(text: pl.Expr) -> pl.Expr:
    """`string_list` of words joined by ';' ("humor;daily": creator tools' CSVs), null otherwise."""
    return pl.when(text.str.contains(r"^[\w.]+(?:;[\w.]+)*$")).then(text.str.split(";"))


def tags_in_text(text: pl.Expr, sigil: str) -> pl.Expr:
    """Hashtags ('#') or mentions ('@') found in a caption, without the sigil, lowercased."""
    return text.str.extract_all(sigil + r"[\w.]+").list.eval(
        pl.element().str.strip_chars_start(sigil).str.strip_chars_end(".").str.to_lowercase()
    )


PARSERS = {
    "integer": integer,
    "decimal": decimal,
    "abbreviated_count": abbreviated_count,
    "percent": percent,
    "timestamp": timestamp_utc,
    "epoch_seconds": epoch_seconds_utc,
    "date": calendar_date,
    "loose_date": loose_date,
    "export_datetime": export_datetime,
    "tiktok_video_id": tiktok_video_id,
    "tiktok_owner": tiktok_owner,
    "boolean": boolean,
    "string": string,
    "string_list": string_list,
}


# Cheap forms of some parsers for the values most rows hold, each giving the parser's value or
# null. Polars does not share a subexpression repeated inside one expression, so a parser that
# refers to its own intermediate results several times (abbreviated_count: its regex groups
# about fifteen times) computes them that often: 1 s per count column of 468,000 TikTok
# videos. `schemas.contract.normalise` computes these first, in a column of their own, and
# hands the parser only the rows they left null: 0.03 s for the same column.
FAST_PATHS: dict[str, Callable[[pl.Expr], pl.Expr]] = {
    "abbreviated_count": _plain_count,
    "timestamp": _utc_common_shape,
    "export_datetime": _utc_common_shape,
    "string_list": _plain_list,
    "integer": _plain_integer,
    "boolean": _boolean_word,
}
# What each parser with a fast form returns (`rest_parsed` must say it before it runs).
PARSED_TYPES: dict[str, pl.DataType] = {
    "abbreviated_count": pl.Int64(),
    "timestamp": pl.Datetime("us", "UTC"),
    "export_datetime": pl.Datetime("us", "UTC"),
    "string_list": pl.List(pl.String()),
    "integer": pl.Int64(),
    "boolean": pl.Boolean(),
}


def rest_parsed(rest: pl.Expr, parser: str) -> pl.Expr:
    """`PARSERS[parser]` of `rest`, the rows its fast form left (null where that read the
    value), computed only when a row is left.

    A parser costs a fixed price per column and query whatever its rows hold (its regexes and
    formats compiled, its branches planned): abbreviated_count 3.5 ms, timestamp 1.8 ms,
    integer 0.55 ms on one row. On the columns its fast form had read whole, that bought a
    column of nulls: 140 ms of every batch's normalising (the six contracts of the ingest
    bench's JSON lines, planned and run on one row each), 1.7 s of the bench's 12 batches;
    63 ms with the parsers run only where a row is left. The check is a null count, in Python
    (a UDF of Polars) over the whole column: declared elementwise, Polars called it once per
    chunk of a batch's concatenated files (191 calls for 20 files, 35 ms a column)."""
    dtype = PARSED_TYPES[parser]

    def parse(values: pl.Series) -> pl.Series:
        if values.null_count() == values.len():
            return pl.Series(values.name, [], dtype).extend_constant(None, values.len())
        return values.to_frame().select(PARSERS[parser](pl.col(values.name))).to_series()

    return rest.map_batches(parse, return_dtype=dtype)


def typed(parser: str, dtype: pl.DataType) -> Callable[[pl.Expr], pl.Expr] | None:
    """How a column already of `dtype` (a Parquet file's typed column) becomes what `parser`
    makes of text, or None when it must go through text. A typed source never round-trips
    through text: 4.4 GB for 45 MB of Parquet said what that cost. Only types whose every
    value the parser would accept: a whole-number column for counts (not UInt64, which can
    exceed Int64), a datetime for an instant (naive read as UTC, as naive text is), a date for
    a date, a boolean for a boolean. A float count goes through text: 42.5 is not a count."""
    utc = pl.Datetime("us", "UTC")
    if parser in ("integer", "abbreviated_count") and dtype.is_integer() and dtype != pl.UInt64:
        return lambda column: column.cast(pl.Int64)
    if parser == "timestamp" and isinstance(dtype, pl.Datetime):
        if dtype.time_zone:
            return lambda column: column.dt.convert_time_zone("UTC").cast(utc)
        return lambda column: column.dt.replace_time_zone("UTC").cast(utc)
    if (parser == "date" and dtype == pl.Date) or (parser == "boolean" and dtype == pl.Boolean):
        return lambda column: column
    return None


# What a failed parse is called in a rejection reason.
EXPECTED = {
    "integer": "a whole number",
    "decimal": "a finite number",
    "abbreviated_count": "an exact count such as 1234, 1,234, 3.3k or 3M",
    "percent": "a percentage such as 1.39%",
    "timestamp": "an RFC 3339 timestamp",
    "epoch_seconds": "epoch seconds",
    "date": "a YYYY-MM-DD date",
    "loose_date": "a date (2026-01-05, 20260105, 01/05/2026 or Jan 5, 2026)",
    "export_datetime": "a date and time such as 2026-01-05T14:30:00Z or 01/05/2026 14:30",
    "tiktok_video_id": "a TikTok video link or id",
    "tiktok_owner": "a TikTok username, open_id or video link",
    "boolean": "true or false",
    "string": "text",
    "string_list": "a list",
}
