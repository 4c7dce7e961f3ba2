"""How an export format is described and normalised to the canonical schema.

A `Contract` lists the fields of one export kind (followers or posts) of one format: where each
value is found in the export (a column name or a dotted JSON path), how its text is parsed,
whether it is required, and which deprecated names still map to it. `normalise` applies a
contract to raw text columns and returns canonical rows plus, for every row that breaks the
contract, the rule and a readable reason; nothing is dropped.

Policies shared by every contract:
- unknown extra columns/keys are ignored (and reported per file by ingest), so a platform
  adding a field never breaks a load;
- a required field that no record of a file carries rejects the whole file;
- a required value missing in one row, a value that does not parse, or a negative count
  rejects that row only.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import polars as pl

from schemas import parsing
from schemas.tables import CANONICAL_BY_KIND, PLATFORM_LAUNCH, Kind, polars_schema

ROW_NUMBER = "_row_number"
RAW_RECORD = "_raw"
RULE = "_rule"
# The canonical column saying the platform hides the follower count (false when not said).
HIDDEN = "followers_hidden"
REASON = "_reason"
MALFORMED = "_malformed"
# Optional input column: the capture time each row's file name states (for a frame of many files).
FILE_CAPTURED_AT = "_file_captured_at"

_REASON_VALUE_CHARS = 40


@dataclass(frozen=True)
class Field:
    """One canonical column and where an export keeps it."""

    name: str
    source: str
    parser: str
    required: bool = False
    aliases: tuple[str, ...] = ()
    non_negative: bool = False
    doc: str = ""

    @property
    def sources(self) -> tuple[str, ...]:
        return (self.source, *self.aliases)


@dataclass(frozen=True)
class RowRule:
    """A format-specific row check: rows where `broken` is true are rejected with `reason`."""

    rule: str
    broken: Callable[[], pl.Expr]
    reason: str
    # Checked before the field checks, when it explains them (a hidden count is not "missing").
    first: bool = False


@dataclass(frozen=True)
class Contract:
    """The contract of one export kind of one format."""

    format: str
    kind: Kind
    fields: tuple[Field, ...]
    # Keys that identify this contract in a record or header (all must be present) ...
    signature: frozenset[str]
    # ... and, for self-describing records (YouTube's "kind"), the values they must hold.
    signature_values: Mapping[str, str] = field(default_factory=dict)
    # Other key sets that identify it too (a scraper's camelCase names of the same record).
    alt_signatures: tuple[frozenset[str], ...] = ()
    platform: str | None = None
    is_followers_rounded: bool = False
    # Where the capture time and snapshot date come from, in words, for the docs.
    snapshot_rule: str = ""
    row_rules: tuple[RowRule, ...] = ()
    # Rows that summarise the others (YouTube Studio's "Total"): not records, dropped unread.
    summary_rows: Callable[[], pl.Expr] | None = None
    # Where a user gets this export, for the README's table of supported exports.
    where: str = ""
    # The export may not name its account (a video list answers a request for one user): the
    # owner then comes from the file's location under this key, a `key=value` folder or a
    # request file (ingestion.readers.file_context); it is one of account_id's sources.
    owner_key: str = ""
    # Format-specific derivations on parsed columns (media type mapping, caption tags, ...).
    derive: Callable[[pl.LazyFrame], pl.LazyFrame] | None = None
    doc: str = ""

    @property
    def name(self) -> str:
        return f"{self.format}.{self.kind}"

    @property
    def source_paths(self) -> tuple[str, ...]:
        """Every source path this contract reads, aliases included, in a stable order."""
        return tuple(dict.fromkeys(p for f in self.fields for p in f.sources))

    def matches(self, keys: Iterable[str], record: Mapping[str, Any] | None = None) -> bool:
        """True when a header's or record's top-level keys identify this contract."""
        present = set(keys)
        if not any(s <= present for s in (self.signature, *self.alt_signatures)):
            return False
        record = record or {}
        return all(record.get(k) == v for k, v in self.signature_values.items())

    def missing_required(self, keys: Iterable[str]) -> list[str]:
        """Required fields that none of the given source paths provide (a file-level error)."""
        present = set(keys)
        return [
            f.source
            for f in self.fields
            if f.required and not any(_path_present(p, present) for p in f.sources)
        ]


def _path_present(path: str, keys: set[str]) -> bool:
    # A dotted JSON path is present when its top-level key is; the leaf is checked per row.
    return path in keys or path.split(".", 1)[0] in keys


def normalise(
    raw: pl.LazyFrame,
    contract: Contract,
    *,
    captured_at: datetime | None = None,
    carry: Sequence[str] = (),
    now: datetime | None = None,
) -> pl.LazyFrame:
    """One row per raw record: the canonical columns plus `_rule`/`_reason` (null when valid).

    `now` (default: the current UTC time) bounds the dates a row may state: a snapshot of a day
    after tomorrow, or before its platform existed, is rejected here with its reason, not
    staged (a staged 9999-12-31 would fail the critical quality checks of every later run).

    Input: `_row_number` and one column per source path of the contract (a path the file lacks
    may be absent), String or a type `parsing.typed` takes for the fields reading it; optionally `_raw` (kept), `_malformed` and `_file_captured_at`.
    `captured_at` (or the `_file_captured_at` column, for a frame of several files) is the
    capture time read from the file name, used where the records do not carry one. `carry`
    names input columns passed through unchanged (lineage).
    """
    canonical = polars_schema(CANONICAL_BY_KIND[contract.kind])
    schema = raw.collect_schema()
    present = set(schema.names())
    # A typed column read by a field parsed from text (another of its sources is text) is
    # written as text for it.
    text = {
        p: (
            pl.lit(None, pl.String)
            if p not in present
            else pl.col(p)
            if schema[p] == pl.String
            else _as_text(pl.col(p), schema[p])
        )
        for p in contract.source_paths
    }
    typed = _typed_fields(contract, schema)

    def source_text(f: Field) -> pl.Expr:
        return pl.coalesce([text[p] for p in f.sources])

    def parse(f: Field) -> pl.Expr:
        if f.name in typed:  # already its type (raw_from_columns kept it): no text in between
            return pl.coalesce([convert(pl.col(p)) for p, convert in typed[f.name].items()])
        text = pl.col(_text(f))
        if f.parser in parsing.FAST_PATHS:  # the rest of the rows, after the fast form's column
            rest = pl.when(pl.col(_fast(f)).is_null()).then(text)
            return pl.coalesce(pl.col(_fast(f)), parsing.rest_parsed(rest, f.parser))
        return parsing.PARSERS[f.parser](text)

    if MALFORMED not in present:
        raw = raw.with_columns(pl.lit(False).alias(MALFORMED))
    texts = raw.with_columns(
        source_text(f).alias(_text(f)) for f in contract.fields if f.name not in typed
    )
    texts = texts.with_columns(
        parsing.FAST_PATHS[f.parser](pl.col(_text(f))).alias(_fast(f))
        for f in contract.fields
        if f.name not in typed and f.parser in parsing.FAST_PATHS
    )
    parsed = texts.with_columns(parse(f).alias(f.name) for f in contract.fields)
    # The values as parsed, before the context fills gaps (a snapshot_date of 0000-00-00 must
    # fail as invalid, not be replaced by the capture day).
    parsed = parsed.with_columns(
        pl.col(f.name).alias(_parsed(f)) for f in contract.fields if f.name in CONTEXT_FILLED
    )
    file_time = pl.lit(captured_at, pl.Datetime("us", "UTC"))
    if FILE_CAPTURED_AT in present:
        file_time = pl.coalesce(pl.col(FILE_CAPTURED_AT), file_time)
    parsed = parsed.pipe(_fill_context, contract, file_time, frozenset(typed))
    if contract.derive is not None:
        parsed = parsed.pipe(contract.derive)
    checks = _row_checks(contract, now or datetime.now(UTC), frozenset(typed))
    # The first check that fires names the row's rule and reason. The rule is cheap (booleans
    # and literals) and computed for every row; the readable reason formats text, so it is
    # computed for the rejected rows only.
    rule = pl.coalesce(pl.when(broken).then(pl.lit(name)) for broken, name, _ in checks)
    reason = pl.coalesce(pl.when(broken).then(why) for broken, _, why in checks)
    available = set(parsed.collect_schema().names())
    columns = [
        (pl.col(name) if name in available else pl.lit(None)).cast(dtype).alias(name)
        for name, dtype in canonical.items()
    ]
    kept = [pl.col(c) for c in carry if c in present]
    # The raw record only matters for a rejected row (quarantine keeps it): a valid row's is
    # null, so the JSON lines' text is not carried through every valid row.
    raw_record: list[pl.Expr] = [pl.col(RAW_RECORD)] if RAW_RECORD in present else []
    no_raw_record = [pl.lit(None, pl.String).alias(RAW_RECORD)] if raw_record else []
    checked = parsed.with_columns(rule.cast(pl.String).alias(RULE))
    valid = checked.filter(pl.col(RULE).is_null()).select(
        pl.col(ROW_NUMBER),
        *columns,
        *kept,
        *no_raw_record,
        RULE,
        pl.lit(None, pl.String).alias(REASON),
    )
    rejected = checked.filter(pl.col(RULE).is_not_null()).select(
        pl.col(ROW_NUMBER),
        *columns,
        *kept,
        *raw_record,
        RULE,
        reason.cast(pl.String).alias(REASON),
    )
    return pl.concat([valid, rejected])


def _typed_fields(
    contract: Contract, schema: pl.Schema
) -> dict[str, dict[str, Callable[[pl.Expr], pl.Expr]]]:
    """The fields whose present sources are all typed columns their parser takes as they are
    (parsing.typed), with each source's conversion: they are parsed without text."""
    found: dict[str, dict[str, Callable[[pl.Expr], pl.Expr]]] = {}
    for f in contract.fields:
        converts = {p: parsing.typed(f.parser, schema[p]) for p in f.sources if p in schema}
        if converts and all(c is not None for c in converts.values()):
            found[f.name] = {p: c for p, c in converts.items() if c is not None}
    return found


def _text(f: Field) -> str:
    return f"_text_{f.name}"


def _fast(f: Field) -> str:
    return f"_fast_{f.name}"


# Columns the file's context fills where a row lacks them (_fill_context): their validity is
# judged on the value as parsed, before the filling.
CONTEXT_FILLED = frozenset({"snapshot_date", "captured_at"})


def _parsed(f: Field) -> str:
    return f"_parsed_{f.name}"


def _fill_context(
    frame: pl.LazyFrame, contract: Contract, file_time: pl.Expr, typed: frozenset[str]
) -> pl.LazyFrame:
    """Platform, capture time and snapshot date from the contract and file where rows lack them."""
    names = {f.name for f in contract.fields}
    exprs: list[pl.Expr] = []
    if "platform" not in names:
        exprs.append(pl.lit(contract.platform, pl.String).alias("platform"))
    else:
        exprs.append(pl.col("platform").str.to_lowercase())
    captured = (
        pl.coalesce(pl.col("captured_at"), file_time) if "captured_at" in names else file_time
    )
    exprs.append(captured.alias("captured_at"))
    frame = frame.with_columns(exprs)
    snapshot = pl.col("captured_at").dt.date()
    if "snapshot_date" in names:
        snapshot = pl.coalesce(pl.col("snapshot_date"), snapshot)
    # A capture known only by its date is taken as that day's start, so that any exact capture
    # of the same day wins the natural-key tie.
    frame = frame.with_columns(snapshot.alias("snapshot_date")).with_columns(
        pl.coalesce(
            pl.col("captured_at"),
            pl.col("snapshot_date").cast(pl.Datetime("us")).dt.replace_time_zone("UTC"),
        ).alias("captured_at")
    )
    if contract.kind == "followers":
        frame = frame.with_columns(_rounded(contract, names, typed).alias("is_followers_rounded"))
        # A hidden count is unknown, whatever number the export shows in its place.
        hidden = pl.col(HIDDEN) if HIDDEN in names else pl.lit(None)
        frame = frame.with_columns(hidden.cast(pl.Boolean).fill_null(False).alias(HIDDEN))
        frame = frame.with_columns(
            pl.when(~pl.col(HIDDEN)).then(pl.col("followers")).alias("followers")
        )
    if contract.kind == "posts":
        frame = frame.pipe(_fill_post_text_fields, names)
    return frame


SPONSORED_TAGS = ("ad", "sponsored", "paidpartnership", "partner", "werbung")


def _fill_post_text_fields(frame: pl.LazyFrame, names: set[str]) -> pl.LazyFrame:
    """Hashtags, mentions and the sponsored flag from the caption where the export lacks them."""
    caption = pl.col("caption") if "caption" in names else pl.lit(None, pl.String)

    def tags(column: str, sigil: str) -> pl.Expr:
        if column not in names:
            return parsing.tags_in_text(caption, sigil)
        given = pl.col(column).list.eval(pl.element().str.to_lowercase())
        # The caption is scanned only for rows whose export has no list.
        return pl.coalesce(given, parsing.tags_in_text(parsing.unless(given, caption), sigil))

    frame = frame.with_columns(
        tags("hashtags", "#").alias("hashtags"), tags("mentions", "@").alias("mentions")
    )
    # Sponsored when either source says so: the paid-partnership label, or an #ad-style
    # hashtag. A creator who tags #ad without setting the label (or an export whose label field
    # is false by default) still discloses a paid post. Unknown only when neither is known.
    tagged = pl.col("hashtags").list.eval(pl.element().is_in(SPONSORED_TAGS)).list.any()
    sponsored = tagged
    if "is_sponsored" in names:
        label = pl.col("is_sponsored")
        sponsored = (label | tagged).fill_null(pl.coalesce(label, tagged))
    return frame.with_columns(sponsored.alias("is_sponsored"))


# A follower count as a source shows it rounded: "12.3k", "1.2M", "50.5K".
_ABBREVIATED_COUNT = r"(?i)[kmb]\s*$|\.\d"
# The optional column (or `key=value` folder, or request-file key) that declares a source's
# counts rounded: web-scraped counts, a tool that rounds without saying so.
ROUNDED = Field(
    "is_followers_rounded",
    "is_followers_rounded",
    "boolean",
    doc="declares the source's follower counts rounded (true/false)",
)


def _rounded(contract: Contract, names: set[str], typed: frozenset[str]) -> pl.Expr:
    """Rounded when the contract says so (YouTube), the row or its source declares it, or the
    count is written abbreviated (a creator tool's 12.3k, a scraper's 50.5K; a typed count
    never is)."""
    rounded = pl.lit(contract.is_followers_rounded)
    if "is_followers_rounded" in names:
        rounded = rounded | pl.col("is_followers_rounded").fill_null(False)
    followers = next((f for f in contract.fields if f.name == "followers"), None)
    if (
        followers is not None
        and followers.parser == "abbreviated_count"
        and followers.name not in typed
    ):
        shown = pl.col(_text(followers)).str.strip_chars().str.contains(_ABBREVIATED_COUNT)
        rounded = rounded | shown.fill_null(False)
    return rounded


def _hidden(contract: Contract, f: Field) -> pl.Expr:
    """True on rows whose value of `f` is a follower count the platform hides."""
    if contract.kind == "followers" and f.name == "followers":
        return pl.col(HIDDEN)
    return pl.lit(False)


def _row_checks(
    contract: Contract, now: datetime, typed: frozenset[str] = frozenset()
) -> list[tuple[pl.Expr, str, pl.Expr]]:
    """(broken, rule, reason) per check, in the order they are reported (first wins). A typed
    field (`typed`) is missing when its value is null and never invalid: its type is the
    parser's."""
    checks: list[tuple[pl.Expr, str, pl.Expr]] = [
        (pl.col(MALFORMED), "malformed_record", pl.lit("the record is not a complete JSON object"))
    ]
    checks += [(r.broken(), r.rule, pl.lit(r.reason)) for r in contract.row_rules if r.first]
    for f in contract.fields:
        # A count the platform hides is neither missing nor invalid: the row's other fields are
        # checked as usual, its follower count not at all.
        counted = ~_hidden(contract, f)
        if f.name in typed:
            value = pl.col(_parsed(f) if f.name in CONTEXT_FILLED else f.name)
            if f.required:
                checks.append(
                    (
                        value.is_null() & counted,
                        "missing_required",
                        pl.lit(f"required field '{f.source}' is missing or empty"),
                    )
                )
            checks += _negative_check(f, counted)
            continue
        text = pl.col(_text(f))
        shown = text.str.slice(0, _REASON_VALUE_CHARS)
        value = pl.col(_parsed(f) if f.name in CONTEXT_FILLED else f.name)
        # Every parser reads blank text as absent, so a parsed value means the text was not
        # blank: only the rows without a value are looked at (trimming every text of every
        # field was a third of normalising a file of posts).
        blank = pl.when(value.is_null()).then(text).str.strip_chars() == ""
        if f.required:
            checks.append(
                (
                    value.is_null() & (text.is_null() | blank) & counted,
                    "missing_required",
                    pl.lit(f"required field '{f.source}' is missing or empty"),
                )
            )
        checks.append(
            (
                value.is_null() & text.is_not_null() & ~blank & counted,
                "invalid_value",
                pl.format(
                    "'{}' = '{}' is not {}",
                    pl.lit(f.source),
                    shown,
                    pl.lit(parsing.EXPECTED[f.parser]),
                ),
            )
        )
        checks += _negative_check(f, counted)
    checks.append(
        (
            pl.col("captured_at").is_null(),
            "missing_capture_time",
            pl.lit("no capture time in the record or the file name"),
        )
    )
    checks += _date_checks(contract, now)
    if contract.kind == "posts":
        checks.append(
            (
                pl.col("published_at") > pl.col("captured_at"),
                "published_after_capture",
                pl.lit("the post is published after the snapshot was captured"),
            )
        )
    checks += [(r.broken(), r.rule, pl.lit(r.reason)) for r in contract.row_rules if not r.first]
    return checks


def _negative_check(f: Field, counted: pl.Expr) -> list[tuple[pl.Expr, str, pl.Expr]]:
    if not f.non_negative:
        return []
    return [
        (
            (pl.col(f.name) < 0) & counted,
            "negative_count",
            pl.format(
                "'{}' = {} is negative: counts are never below 0",
                pl.lit(f.source),
                pl.col(f.name),
            ),
        )
    ]


# A snapshot may be dated up to a day after the UTC day it is read (exporters ahead of UTC);
# anything later has not happened yet.
FUTURE_TOLERANCE = timedelta(days=1)


def _date_checks(contract: Contract, now: datetime) -> list[tuple[pl.Expr, str, pl.Expr]]:
    """Dates that cannot be true: in the future, or before the platform existed."""
    latest = (now + FUTURE_TOLERANCE).date()
    launch = pl.col("platform").replace_strict(PLATFORM_LAUNCH, default=None, return_dtype=pl.Date)
    checks = [
        (
            (pl.col("snapshot_date") > latest) | (pl.col("captured_at") > now + FUTURE_TOLERANCE),
            "date_in_future",
            pl.format(
                "snapshot_date {} / captured_at {} is in the future (read on {} UTC)",
                pl.col("snapshot_date"),
                pl.col("captured_at").dt.strftime("%Y-%m-%dT%H:%M:%SZ"),
                pl.lit(now.date().isoformat()),
            ),
        ),
        (
            pl.col("snapshot_date") < launch,
            "before_platform_launch",
            pl.format(
                "snapshot_date {} is before {} launched ({})",
                pl.col("snapshot_date"),
                pl.col("platform"),
                launch,
            ),
        ),
    ]
    if contract.kind == "posts":
        checks.append(
            (
                pl.col("published_at").dt.date() < launch,
                "before_platform_launch",
                pl.format(
                    "published_at {} is before {} launched ({})",
                    pl.col("published_at").dt.date(),
                    pl.col("platform"),
                    launch,
                ),
            )
        )
    return checks


def raw_from_json_lines(
    lines: pl.LazyFrame, contract: Contract, *, decode_whole: bool = False
) -> pl.LazyFrame:
    """One row per JSON line: `_row_number`, `_raw`, `_malformed` and each source path as text.

    Input: `_row_number` and `_raw` (the line). Values of any JSON type come out as their text
    (`12`, `"12"` -> "12"); a line that is not a whole JSON object is marked malformed.
    `decode_whole` parses each line once into a struct of text leaves (fast), which fails as a
    whole when any line is malformed or holds an object where text is expected; the default
    extracts each path separately and never fails.
    """
    if decode_whole:
        record = pl.col(RAW_RECORD).str.json_decode(_json_struct(contract.source_paths))
        return lines.with_columns(
            [_struct_path(record, p).alias(p) for p in contract.source_paths]
            + [pl.lit(False).alias(MALFORMED)]
        )
    return lines.with_columns(
        [
            pl.col(RAW_RECORD).str.json_path_match(_json_path(p)).alias(p)
            for p in contract.source_paths
        ]
        + [(~is_json_object(pl.col(RAW_RECORD))).alias(MALFORMED)]
    )


def json_schema(contract: Contract) -> pl.Schema:
    """What a JSON reader decodes a record into for `raw_from_json_records`: the top-level keys
    of the contract's source paths, text leaves, nested paths as structs (the struct
    `raw_from_json_lines` decodes each line into)."""
    return pl.Schema(_json_struct(contract.source_paths).to_schema())


def raw_from_json_records(records: pl.DataFrame, contract: Contract) -> pl.DataFrame:
    """`raw_from_json_lines` but `_raw`, of a file's records decoded by a JSON reader into
    `json_schema(contract)`, one row per line in order: `_row_number` (the line), `_malformed`
    (false: a reader that decoded every line found none) and each source path as text."""
    top = {p: p.split(".", 1)[0] for p in contract.source_paths}
    return records.with_row_index(ROW_NUMBER, offset=1).select(
        ROW_NUMBER,
        *[
            _struct_path(pl.col(top[p]), p.split(".", 1)[1]).alias(p) if "." in p else pl.col(p)
            for p in contract.source_paths
        ],
        pl.lit(False).alias(MALFORMED),
    )


def is_json_object(line: pl.Expr) -> pl.Expr:
    """Whether a line of text is one whole JSON object (what a JSON lines record must be)."""
    root = line.str.json_path_match("$")
    return root.is_not_null() & root.str.starts_with("{")


def _json_struct(paths: Iterable[str]) -> pl.Struct:
    # Nested dicts of JSON paths; a leaf (None) is read as text.
    tree: dict[str, Any] = {}
    for path in paths:
        node = tree
        *parents, leaf = path.split(".")
        for part in parents:
            node = node.setdefault(part, {})
        node.setdefault(leaf, None)

    def build(node: dict[str, Any]) -> pl.Struct:
        return pl.Struct({k: (pl.String if v is None else build(v)) for k, v in node.items()})

    return build(tree)


def _struct_path(record: pl.Expr, path: str) -> pl.Expr:
    for part in path.split("."):
        record = record.struct.field(part)
    return record


def _json_path(path: str) -> str:
    return "$" + "".join(
        f"['{part}']" if not part.isidentifier() else f".{part}" for part in path.split(".")
    )


def raw_from_columns(table: pl.LazyFrame, contract: Contract) -> pl.LazyFrame:
    """One row per table row (CSV, Parquet): `_row_number` and each source column, as text
    unless its type is one its fields' parsers take as it is (`parsing.typed`: whole numbers,
    instants, dates, booleans), which normalise then parses without text.

    Other lists become ';'-separated text and instants ISO 8601 in UTC, so that typed Parquet
    and all-text CSV normalise the same way. The raw record is not built here (it costs as much as
    the parse): `records_as_json` builds it for the few rows that are rejected.
    """
    schema = table.collect_schema()
    wanted = [p for p in contract.source_paths if p in schema]
    # A column every field reading it takes typed stays typed (normalise parses it without
    # text); any other becomes text.
    keep = {
        p
        for p in wanted
        if all(
            parsing.typed(f.parser, schema[p]) is not None
            for f in contract.fields
            if p in f.sources
        )
    }
    return table.select(
        ROW_NUMBER,
        *[(pl.col(n) if n in keep else _as_text(pl.col(n), schema[n])).alias(n) for n in wanted],
    )


def records_as_json(table: pl.DataFrame, row_numbers: Sequence[int]) -> pl.DataFrame:
    """`_row_number` and `_raw` (the row as a JSON object of its text) for the given rows."""
    rows = table.filter(pl.col(ROW_NUMBER).is_in(list(row_numbers)))
    originals = [n for n in rows.columns if n != ROW_NUMBER]
    as_text = [_as_text(pl.col(n), rows.schema[n]).alias(n) for n in originals]
    return rows.select(ROW_NUMBER, pl.struct(as_text).struct.json_encode().alias(RAW_RECORD))


def _as_text(column: pl.Expr, dtype: pl.DataType) -> pl.Expr:
    if isinstance(dtype, pl.List | pl.Array):
        return column.cast(pl.List(pl.String)).list.join(";")
    if isinstance(dtype, pl.Datetime):
        zoned = column.dt.convert_time_zone("UTC") if dtype.time_zone else column
        return zoned.dt.strftime("%Y-%m-%dT%H:%M:%S%.fZ")
    if isinstance(dtype, pl.Struct):
        return column.struct.json_encode()
    return column.cast(pl.String)
