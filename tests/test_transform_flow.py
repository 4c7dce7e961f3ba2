"""Flow `transform` on generated exports: plausible marts, comments, incremental after late files."""

from __future__ import annotations

import shutil
import time
from datetime import timedelta
from pathlib import Path

import duckdb
import polars as pl
import pyarrow as pa
import pytest
from polars.testing import assert_frame_equal

from flows.ingest import ingest
from flows.transform import detached, transform
from schemas.marts import MARTS
from tests.conftest import built_warehouse, read_table
from tests.test_ingest import content
from transforms.scorecard import KEY, creator_windows
from warehouse.connect import connect
from warehouse.sql import table

ACCOUNTS, DAYS, SEED = 400, 45, 21


@pytest.fixture(scope="module")
def built(tmp_path_factory, prefect_api) -> tuple[Path, Path]:
    return built_warehouse(tmp_path_factory, accounts=ACCOUNTS, days=DAYS, seed=SEED, faults=True)


def test_every_mart_and_column_is_described_in_the_warehouse(built):
    _, warehouse = built
    comments = read_table(
        warehouse,
        "select table_name, column_name, comment from duckdb_columns() where schema_name = 'marts'",
    )
    for mart in MARTS:
        described = dict(
            comments.filter(pl.col("table_name") == mart.name)
            .select("column_name", "comment")
            .rows()
        )
        assert list(described) == mart.column_names
        assert all(described.values()), mart.name
    tables = read_table(
        warehouse, "select table_name, comment from duckdb_tables() where schema_name = 'marts'"
    )
    assert tables.filter(pl.col("comment").is_null()).height == 0


def test_marts_are_plausible_against_the_generator_bands(built):
    _, warehouse = built
    tiers = read_table(
        warehouse, "select tier_latest as tier, count(*) as n from marts.dim_account group by all"
    )
    share = {t: n / tiers["n"].sum() for t, n in tiers.rows()}
    # Generator: about 7% emerging, 33% nano, 45% micro, 14% macro, 1% mega (+ drift).
    assert (
        0.30 < share["micro"] < 0.60 and 0.20 < share["nano"] < 0.45 and share.get("mega", 0) < 0.06
    )
    er = read_table(
        warehouse,
        "select platform, d.tier_latest as tier, median(er_followers) as er from marts.fct_post_metrics p "
        "join marts.dim_account d using (platform, account_id) where p.er_followers is not null group by all",
    )
    ig = dict(er.filter(pl.col("platform") == "instagram").select("tier", "er").rows())
    # Reference: Instagram micro 3-8%, macro about 2.4%; ER falls with tier. Latest snapshots
    # hold the saturated values, so medians sit near the generator's means.
    assert 0.025 < ig["micro"] < 0.07
    assert ig["nano"] > ig["micro"] > ig["macro"]
    migrations = read_table(warehouse, "select count(*) as n from marts.fct_tier_migrations")[
        "n"
    ].item()
    assert migrations > 0
    keys = read_table(
        warehouse,
        "select count(*) as n, count(distinct (platform, account_id, date)) as k from marts.fct_account_daily",
    )
    assert keys["n"].item() == keys["k"].item()
    orphans = read_table(
        warehouse,
        "select count(*) as n from marts.fct_post_metrics p anti join marts.dim_account d using (platform, account_id)",
    )
    assert orphans["n"].item() == 0


def test_transitions_shares_add_to_one(built):
    _, warehouse = built
    sums = read_table(
        warehouse,
        "select platform, month, from_tier, sum(share_of_from_tier) as s from marts.agg_tier_transitions_monthly group by all",
    )
    assert ((sums["s"] - 1).abs() < 1e-9).all()


def test_late_files_then_incremental_equals_full_refresh(built, tmp_path, monkeypatch):
    landing, _ = built
    # Small account partitions and one week per median block: the rebuild runs in parts.
    monkeypatch.setattr("flows.transform.WEEKS_PER_BLOCK", 1)
    staged = tmp_path / "landing"
    shutil.copytree(landing, staged, ignore=shutil.ignore_patterns("late"))
    warehouse = tmp_path / "w.duckdb"
    ingest(landing=staged, warehouse=warehouse)
    first = transform(warehouse=warehouse, partition_accounts=37)
    assert first.mode == "incremental" and first.accounts > 0
    shutil.copytree(landing / "late", staged / "late")
    ingest(landing=staged, warehouse=warehouse)
    late = transform(warehouse=warehouse, partition_accounts=37)
    # Only the late platform's accounts are rebuilt, from the late day on.
    assert 0 < late.accounts < first.accounts
    incremental = {m.name: content(warehouse, f"marts.{m.name}") for m in MARTS}
    assert transform(warehouse=warehouse).accounts == 0  # nothing new: nothing rebuilt
    monkeypatch.setattr("flows.transform.WEEKS_PER_BLOCK", 1000)
    transform(warehouse=warehouse, full_refresh=True)
    for mart in MARTS:
        # Equal up to floating-point summation order (means over differently ordered rows).
        assert_frame_equal(
            content(warehouse, f"marts.{mart.name}"),
            incremental[mart.name],
            check_exact=False,
            rel_tol=1e-9,
        )


def test_cli_transform_and_backfill(built, tmp_path):
    from typer.testing import CliRunner

    from cli.app import app

    _, warehouse = built
    copy = tmp_path / "w.duckdb"
    shutil.copy(warehouse, copy)
    before = content(copy, "marts.fct_account_daily")
    runner = CliRunner()
    result = runner.invoke(app, ["backfill", "--from", "2026-01-20", "--warehouse", str(copy)])
    assert result.exit_code == 0, result.output
    assert "transform (backfill)" in result.output
    assert content(copy, "marts.fct_account_daily").equals(before)  # same data, same marts
    # Another tier scheme through configuration: a backfill would mix two schemes, so it is
    # refused with one line naming the command that rebuilds every mart, and changes nothing.
    result = runner.invoke(
        app,
        ["backfill", "--from", "2026-01-20", "--warehouse", str(copy)],
        env={"INFLOW_TIER_SCHEME": "five_tier"},
    )
    assert result.exit_code == 2, result.output
    assert "inflow transform --full-refresh" in result.output
    assert content(copy, "marts.fct_account_daily").equals(before)
    assert (
        runner.invoke(
            app,
            ["backfill", "--from", "2026-02-01", "--to", "2026-01-01", "--warehouse", str(copy)],
        ).exit_code
        == 2
    )
    full = runner.invoke(
        app,
        ["transform", "--full-refresh", "--warehouse", str(copy)],
        env={"INFLOW_TIER_SCHEME": "five_tier"},
    )
    assert full.exit_code == 0 and "transform (full)" in full.output
    tiers = read_table(copy, "select distinct tier from marts.fct_account_daily")["tier"]
    assert "mid_tier" in tiers.to_list() and "macro" in tiers.to_list()
    order = read_table(copy, "select tier from marts.dim_tier order by tier_rank")["tier"]
    assert order.to_list() == ["emerging", "nano", "micro", "mid_tier", "macro", "mega"]
    # Now built with five_tier: the default scheme is refused until a full refresh.
    again = runner.invoke(app, ["transform", "--warehouse", str(copy)])
    assert again.exit_code == 2 and "'five_tier'" in again.output


def test_a_day_of_many_accounts_under_a_scheme_the_user_defines(tmp_path_factory, prefect_api):
    """Every raw tier of a custom scheme, against bounds computed here (not by the code)."""
    from tests.conftest import generated_landing

    landing = generated_landing(tmp_path_factory, accounts=260, days=1, seed=31)
    warehouse = tmp_path_factory.mktemp("custom") / "w.duckdb"
    ingest(landing=landing, warehouse=warehouse)
    bounds = {"tiny": 500, "small": 4_000, "medium": 25_000, "large": 250_000}
    transform(warehouse=warehouse, tier_scheme="mine", tier_schemes={"mine": bounds})
    daily = read_table(warehouse, "select followers, raw_tier, tier from marts.fct_account_daily")
    assert daily.height >= 200

    def expected(followers: int) -> str:
        if followers < 500:
            return "below_tiny"
        if followers < 4_000:
            return "tiny"
        if followers < 25_000:
            return "small"
        if followers < 250_000:
            return "medium"
        return "large"

    assert [expected(f) for f in daily["followers"]] == daily["raw_tier"].to_list()
    assert daily["tier"].to_list() == daily["raw_tier"].to_list()  # one day: first tiers
    assert {"below_tiny", "tiny", "small", "medium", "large"} <= set(daily["raw_tier"])
    dim = read_table(
        warehouse, "select tier, tier_rank, lower_bound, upper_bound from marts.dim_tier order by 2"
    )
    assert dim.rows() == [
        ("below_tiny", 0, 0, 500),
        ("tiny", 1, 500, 4_000),
        ("small", 2, 4_000, 25_000),
        ("medium", 3, 25_000, 250_000),
        ("large", 4, 250_000, None),
    ]
    built = read_table(warehouse, "select tier_scheme, tier_bounds from meta.mart_build")
    recorded = '{"below_tiny": 0, "tiny": 500, "small": 4000, "medium": 25000, "large": 250000}'
    assert built.rows() == [("mine", recorded)]


@pytest.mark.parametrize("partition_accounts", [None, 37])
def test_monthly_marts_built_month_by_month_equal_one_pass_over_all_months(
    built, tmp_path, partition_accounts
):
    """The rebuild computes the monthly marts a month at a time, and within a month one account
    partition at a time, to bound memory: the medians and shares still cover every account."""
    from transforms.pipeline import account_period_rows, build_period_marts

    _, warehouse = built
    if partition_accounts is not None:
        warehouse = tmp_path / "w.duckdb"
        shutil.copy(built[1], warehouse)
        transform(warehouse=warehouse, full_refresh=True, partition_accounts=partition_accounts)
        accounts = read_table(warehouse, "select count(*) as n from marts.dim_account")["n"][0]
        assert accounts > 3 * partition_accounts, "several partitions per month"
    daily = read_table(
        warehouse,
        "select platform, account_id, date, followers, tier, growth_rate_30d from marts.fct_account_daily",
    )
    posts = read_table(
        warehouse,
        "select platform, account_id, published_date, er_followers_lc_d7, er_views_lc_d7 "
        "from marts.fct_post_metrics",
    )
    categories = read_table(
        warehouse, "select platform, account_id, category from marts.dim_account"
    )
    first_month = daily["date"].min().replace(day=1)
    # One pass over every month: no tier before the first month.
    no_prior = pl.LazyFrame(
        schema={"platform": pl.String, "account_id": pl.String, "prior_tier": pl.String}
    )
    one_pass = build_period_marts(
        **account_period_rows(daily.lazy(), posts.lazy(), no_prior, categories.lazy(), first_month)
    )
    for name, expected in one_pass.items():
        stored = read_table(warehouse, f"select * from marts.{name}")
        assert stored["month"].n_unique() >= 2, "the fixture must span several months"
        assert_frame_equal(
            stored,
            expected.collect().select(stored.columns),
            check_row_order=False,
            check_dtypes=False,
            check_exact=False,
            rel_tol=1e-9,
        )


def test_a_rebuild_writes_each_partitions_rows_in_date_order(built, tmp_path):
    """Nights read the marts by date: a full rebuild must not lay them out by account, or every
    row group spans the whole history and no read can skip any."""
    warehouse = tmp_path / "w.duckdb"
    shutil.copy(built[1], warehouse)
    transform(warehouse=warehouse, full_refresh=True, partition_accounts=37)
    partitions = -(
        -read_table(warehouse, "select count(*) as n from marts.dim_account")["n"][0] // 37
    )
    for mart, day in (("fct_account_daily", "date"), ("fct_post_metrics", "published_date")):
        # Going back in time along the stored order happens once per partition at most.
        backwards = read_table(
            warehouse,
            f"select count(*) as n from (select {day} < lag({day}) over (order by rowid) as back "
            f"from marts.{mart}) where back",
        )["n"][0]
        accounts = read_table(
            warehouse, f"select count(distinct account_id) as n from marts.{mart}"
        )
        assert backwards < partitions < accounts["n"][0] / 10, mart


def _night_inputs_spilled(con, max_accounts: int, folder: Path):
    """Every account of the warehouse in a night's scope, from different days as a night after
    late files has them, cut into partitions of `max_accounts`: the partitions and their account
    inputs spilled in one pass (the scope registered numbered)."""
    from datetime import date

    from flows.transform import SCOPE_WINDOWS, partitions
    from transforms.growth import as_of_windows
    from warehouse import marts as wm

    scope = table(con, "select platform, account_id from marts.dim_account").with_columns(
        pl.when(pl.col("account_id").hash(seed=1) % 3 == 0)
        .then(pl.lit(date(2026, 2, 1)))
        .otherwise(pl.lit(date(2026, 2, 10)))
        .alias("emit_from")
    )
    parts = partitions(scope, max_accounts)
    numbered = pl.concat(
        p.with_columns(pl.lit(n, pl.Int32).alias("partition_number")) for n, p in enumerate(parts)
    )
    wm.register_scope(con, numbered, **SCOPE_WINDOWS)
    return parts, wm.spill_account_inputs(con, as_of_windows(), folder, len(parts))


@pytest.mark.parametrize(("max_accounts", "expected_parts"), [(90, 5), (10**6, 1)])
def test_inputs_read_in_one_pass_equal_each_partitions_own_reads(
    built, tmp_path, max_accounts, expected_parts
):
    """The inputs of every partition, split in one pass (spilled to Parquet, or held in memory
    when there is one partition), are exactly what reading per partition returns."""
    from flows.transform import SCOPE_WINDOWS
    from transforms.growth import as_of_windows
    from warehouse import marts as wm
    from warehouse.connect import connect
    from warehouse.sql import table

    _, warehouse = built
    copy = tmp_path / "w.duckdb"
    shutil.copy(warehouse, copy)
    con = connect(copy)
    try:
        parts, split = _night_inputs_spilled(con, max_accounts, tmp_path / "spill")
        register = SCOPE_WINDOWS
        queries = wm.account_input_queries(as_of_windows())
        assert len(parts) == expected_parts
        # Spilled to disk for several partitions; one partition's inputs never touch it.
        assert (tmp_path / "spill").exists() == (expected_parts > 1)
        checked = 0
        for number, part in enumerate(parts):
            spilled = split.read(con, number)
            numbers = spilled[wm.NUMBERS]
            wm.register_scope(con, part, **register)
            for name, sql in queries.items():
                own = table(con, sql)
                # Read keyed by each account's stand-in: its number's text, which gives the
                # account_id back.
                assert (spilled[name]["account_id"].str.len_chars().max() or 0) <= 10
                assert set(spilled[name]["account_id"]) <= set(
                    numbers[wm.ACCOUNT_NUMBER].cast(pl.String)
                )
                assert_frame_equal(
                    wm.with_account_ids(spilled[name], numbers), own, check_row_order=False
                )
                checked += own.height
        assert checked > 10_000
        assert {name for name, frame in split.empty.items() if frame.height == 0} == {
            *queries,
            wm.NUMBERS,
        }
        # What is spilled names accounts by number, not by the key's text.
        for name in queries:
            assert wm.ACCOUNT_NUMBER in split.empty[name].columns
            assert not {"platform", "account_id"} & set(split.empty[name].columns)
    finally:
        con.close()


def test_a_partition_built_on_stand_in_keys_gives_the_rows_its_own_keys_give(built, tmp_path):
    """The account partitions are built on a short stand-in for each account_id (its number's
    text) and their rows get the account_id back: the same rows, mart by mart, as the graph
    builds from the same inputs keyed by the accounts' own ids."""
    from flows.transform import build_partition_rows
    from transforms.pipeline import PartitionInputs
    from transforms.tiers import DEFAULT
    from warehouse import marts as wm

    _, warehouse = built
    copy = tmp_path / "w.duckdb"
    shutil.copy(warehouse, copy)
    con = connect(copy)
    try:
        parts, split = _night_inputs_spilled(con, 90, tmp_path / "spill")
        read = split.read(con, 1)
    finally:
        con.close()
    numbers = read[wm.NUMBERS]
    own_keys = {n: wm.with_account_ids(f, numbers) for n, f in read.items() if n != wm.NUMBERS}
    assert (read["earlier_daily"]["account_id"].str.len_chars().max() or 0) <= 10
    stand_ins = build_partition_rows(PartitionInputs(**read), parts[1], DEFAULT, 7)
    own = build_partition_rows(PartitionInputs(**own_keys), parts[1], DEFAULT, 7)
    assert stand_ins.keys() == own.keys()
    for mart, rows in own.items():
        assert_frame_equal(stand_ins[mart], rows, check_row_order=False)
        assert set(stand_ins[mart]["account_id"]) <= set(parts[1]["account_id"]), mart
    assert own["fct_account_daily"].height > 100 and own["fct_post_metrics"].height > 100


def test_a_failed_rebuild_removes_its_spilled_inputs_and_keeps_the_marts(built, tmp_path):
    from flows.transform import rebuild
    from transforms.tiers import DEFAULT
    from warehouse.connect import connect

    _, warehouse = built
    copy = tmp_path / "w.duckdb"
    shutil.copy(warehouse, copy)
    before = content(copy, "marts.fct_account_daily")

    def fails_on_the_third_partition(jobs, scheme, confirmation_days):
        from flows.transform import compute_in_process

        for number, done in enumerate(compute_in_process(jobs, scheme, confirmation_days)):
            if number == 2:
                raise RuntimeError("worker lost")
            yield done

    con = connect(copy)
    try:
        with pytest.raises(RuntimeError, match="worker lost"):
            rebuild(
                con,
                "full",
                None,
                DEFAULT,
                7,
                "failing",
                compute=fails_on_the_third_partition,
                partition_accounts=100,
            )
    finally:
        con.close()
    assert not list(tmp_path.glob("inflow-*"))
    assert content(copy, "marts.fct_account_daily").equals(before)


def test_a_partitioned_spill_streams_its_rows_and_reads_back_each_partitions_own(
    tmp_path, monkeypatch
):
    """The spill splits a query's rows batch by batch (never the whole result in memory: each
    partition's rows are written every SPILL_WAITING_ROWS fetched, gathered from those batches,
    not in the ~1,000 rows each batch holds of it, nor held to the end, even for a partition
    with a row in a few batches only) and a partition reads back exactly its rows, with the
    types DuckDB gives; a partition without rows reads as the typed empty frame."""
    import warehouse.marts as wm
    from warehouse.connect import DuckDBLimits, connect

    monkeypatch.setattr(wm, "SPILL_BATCH_ROWS", 100_000)
    monkeypatch.setattr(wm, "SPILL_WAITING_ROWS", 300_000)  # written every 3 batches
    con = connect(tmp_path / "w.duckdb", limits=DuckDBLimits(memory_limit="256MB", threads=2))
    try:
        con.execute(
            "create table t as select i % 100000 as account_id, i as likes, "
            "'post-' || i as post_id, [i, i + 1] as tags, date '2025-01-01' + (i % 30)::int as day, "
            # Partition 98 has a row every 50,000 (20 rows over the 10 batches); 99 has none.
            "(case when i % 50000 = 7 then 98 else hash(i % 100000) % 98 end)::integer "
            "as partition_number from range(1000000) r(i)"
        )
        spilled = wm.spill_partitions(con, {"t": "select * from t"}, tmp_path / "spill", 100)
        expected = table(
            con, "select * exclude (partition_number) from t where partition_number = 7"
        )

        def pieces(number: int) -> list[int]:
            file = pa.ipc.open_file(str(tmp_path / "spill" / "t" / f"{number}.arrow"))
            return [file.get_batch(i).num_rows for i in range(file.num_record_batches)]

        part = spilled.read(con, 7)["t"]
        nothing = spilled.read(con, 99)["t"]
        total = sum(spilled.read(con, n)["t"].height for n in range(100))
    finally:
        con.close()
    # Streamed (written as the batches came, not the partition's ~10,200 rows at the end), and
    # gathered: each piece but the last holds three batches' rows of it (about 970 each;
    # DuckDB may cut a batch short, 1,900 at the least).
    assert len(pieces(7)) in (4, 5)  # 10 batches, or 11-12 when DuckDB cuts some short
    assert all(1_900 <= rows <= 3_300 for rows in pieces(7)[:-1])
    # The sparse partition is written as the others are: its few rows did not keep every batch
    # they were cut from until the end.
    assert len(pieces(98)) == len(pieces(7)) and sum(pieces(98)) == 20
    assert part.height > 5_000
    assert part.schema == expected.schema
    assert_frame_equal(part.sort("likes"), expected.sort("likes"))
    assert nothing.height == 0 and nothing.schema == expected.schema
    assert total == 1_000_000


def test_spilled_partitions_are_read_ahead_in_order_one_ahead_at_most(tmp_path):
    """PartitionedInputs.read_ahead: every partition once, in order, each equal to its own
    `read`; the next one is read while the caller still holds the current one (partition 1's
    read starts before the caller asks for it), and never two ahead."""
    import threading

    import warehouse.marts as wm

    con = connect(":memory:")
    con.execute(
        "create table t as select i as n, (i % 4)::integer as partition_number from range(40) r(i)"
    )
    spilled = wm.spill_partitions(con, {"t": "select * from t"}, tmp_path / "spill", 4)
    own = [spilled.read(con, number)["t"] for number in range(4)]
    started: list[int] = []
    reading = {number: threading.Event() for number in range(4)}

    class Watched(wm.PartitionedInputs):
        def read(self, con, number):
            started.append(number)
            reading[number].set()
            return super().read(con, number)

    watched = Watched(spilled.count, spilled.empty, spilled.folder)
    got = []
    for position, inputs in enumerate(watched.read_ahead(con)):
        if position + 1 < 4:
            # Not asked for yet: read ahead while this one is held.
            assert reading[position + 1].wait(timeout=10)
        assert started == list(range(min(position + 2, 4)))
        got.append(inputs["t"])
    con.close()
    assert len(got) == 4
    for mine, theirs in zip(got, own, strict=True):
        assert_frame_equal(mine, theirs)
    assert [frame["n"].min() for frame in got] == [0, 1, 2, 3]


def test_a_channel_hiding_its_count_keeps_its_attributes_and_says_why_it_has_no_tier(
    tmp_path, prefect_api
):
    """YouTube Data API channel resources as documented (statistics values are strings;
    `hiddenSubscriberCount` true leaves no usable subscriberCount): the hidden channel is no
    rejected row, keeps its handle and posts, and its tier is unknown with the reason."""
    import json

    from transforms.accounts import HIDDEN_REASON

    folder = tmp_path / "landing" / "youtube"
    folder.mkdir(parents=True)

    def channel(channel_id: str, handle: str, statistics: dict) -> dict:
        return {
            "kind": "youtube#channel",
            "etag": "x",
            "id": channel_id,
            "snippet": {"title": handle.title(), "customUrl": f"@{handle}"},
            "statistics": statistics,
        }

    visible = {
        "viewCount": "90000",
        "subscriberCount": "12300",
        "hiddenSubscriberCount": False,
        "videoCount": "40",
    }
    hidden = {"viewCount": "5000", "hiddenSubscriberCount": True, "videoCount": "7"}
    for day in (1, 2, 3):
        views = {"viewCount": str(90000 + day)}  # a day's export differs from the last
        lines = [
            channel("UCvisible", "shown", visible | views),
            channel("UChidden", "hidden", hidden | views),
        ]
        (folder / f"channels_2026-03-0{day}T040000Z.jsonl").write_text(
            "\n".join(json.dumps(line) for line in lines) + "\n"
        )
    video = {
        "kind": "youtube#video",
        "id": "vid1",
        "snippet": {"channelId": "UChidden", "publishedAt": "2026-03-01T10:00:00Z", "title": "t"},
        "statistics": {"viewCount": "1000", "likeCount": "50", "commentCount": "5"},
    }
    (folder / "videos_2026-03-03T040000Z.jsonl").write_text(json.dumps(video) + "\n")
    warehouse = tmp_path / "w.duckdb"
    summary = ingest(landing=tmp_path / "landing", warehouse=warehouse)
    assert (summary.rows_read, summary.rows_loaded, summary.rows_quarantined) == (7, 4, 0)
    assert summary.rows_count_hidden == 3
    assert (
        read_table(warehouse, "select count(*) as n from quarantine.rejected_rows")["n"].item() == 0
    )
    transform(warehouse=warehouse)
    dim = read_table(
        warehouse,
        "select account_id, handle, followers_latest, tier_latest, followers_hidden, "
        "tier_unknown_reason from marts.dim_account order by account_id",
    )
    assert dim.rows() == [
        ("UChidden", "hidden", None, None, True, HIDDEN_REASON),
        ("UCvisible", "shown", 12300, "micro", False, None),
    ]
    posts = read_table(warehouse, "select account_id, likes from marts.fct_post_metrics")
    assert posts.rows() == [("UChidden", 50)]
    runs = read_table(warehouse, "select rows_count_hidden from meta.runs where flow = 'ingest'")
    assert runs["rows_count_hidden"].to_list() == [3]


def test_a_warehouse_an_older_version_built_upgrades_in_place(built, tmp_path):
    """Marts with the columns of an older contract, meta tables without the newer columns:
    every flow still opens it, and the next transform rebuilds the marts to this contract."""
    landing, original = built
    warehouse = tmp_path / "w.duckdb"
    shutil.copy(original, warehouse)
    con = connect(warehouse)
    con.execute("alter table marts.dim_account drop column tier_unknown_reason")
    con.execute("alter table meta.runs drop column rows_count_hidden")
    con.execute("alter table staging.accounts drop column followers_hidden")
    con.execute("update meta.mart_build set contract_version = 'older'")
    # An older version recorded an older DDL fingerprint (or, before it kept one, none).
    con.execute("drop table meta.ddl_applied")
    con.close()
    ingest(landing=landing, warehouse=warehouse)  # applies the DDL: no error on old columns
    summary = transform(warehouse=warehouse)
    assert summary.mode == "full"  # a new contract version rebuilds every mart
    columns = read_table(
        warehouse,
        "select column_name from information_schema.columns where table_name = 'dim_account'",
    )["column_name"].to_list()
    assert columns[-2:] == ["followers_hidden", "tier_unknown_reason"]
    # Rows staged by the older version never said whether a count was hidden: unknown, null.
    upgraded = content(warehouse, "marts.dim_account")
    assert upgraded["followers_hidden"].null_count() == upgraded.height
    assert_frame_equal(
        upgraded.drop("followers_hidden"),
        content(original, "marts.dim_account").drop("followers_hidden"),
    )


def test_unset_partition_accounts_sizes_partitions_by_the_days_read(built, tmp_path, monkeypatch):
    """Without partition_accounts, a partition holds the accounts whose inputs add up to
    PARTITION_ACCOUNT_DAYS: a full rebuild reads every day, so it gets fewer accounts per
    partition than a night; either way the marts are the same."""
    import flows.transform as ft

    sizes: list[int] = []
    split = ft.partitions

    def recorded(scope: pl.DataFrame, max_accounts: int) -> list[pl.DataFrame]:
        sizes.append(max_accounts)
        return split(scope, max_accounts)

    monkeypatch.setattr(ft, "partitions", recorded)
    # 400 accounts x 45 days: at 4,500 account-days, about 100 accounts per partition.
    monkeypatch.setattr(ft, "PARTITION_ACCOUNT_DAYS", 4_500)
    _, warehouse = built
    copy = tmp_path / "w.duckdb"
    shutil.copy(warehouse, copy)
    transform(warehouse=copy, full_refresh=True)
    # The account partitions are split first; the account-month marts then split their
    # accounts into blocks of a fixed size (MONTH_POSTS_ACCOUNTS), not by the days read.
    assert 90 <= sizes[0] <= 110, sizes
    assert sizes[1:] == [ft.MONTH_POSTS_ACCOUNTS], sizes
    for mart in MARTS:
        assert_frame_equal(
            content(copy, f"marts.{mart.name}"),
            content(warehouse, f"marts.{mart.name}"),
            check_exact=False,
            rel_tol=1e-9,
        )


def test_accounts_per_partition_follows_the_setting_or_the_days_read(monkeypatch):
    import flows.transform as ft

    monkeypatch.setattr(ft, "PARTITION_ACCOUNT_DAYS", 1_000_000)
    assert ft.accounts_per_partition(37, 200) == 37  # set: used as is
    assert ft.accounts_per_partition(None, 200) == 5_000
    assert ft.accounts_per_partition(None, 30) == 33_333
    assert ft.accounts_per_partition(None, 0) == 1_000_000  # never a division by zero
    assert ft.accounts_per_partition(None, 10**7) == 1  # never an empty partition


def test_the_seed_is_each_accounts_last_mart_row_before_emit_from():
    """read_seed.sql: the last fct_account_daily row before emit_from, whether within the recent
    window or long before it (an account silent for months), none for an account without one;
    rows on or after emit_from never. Checked against the plain rule in Polars."""
    from datetime import date, timedelta

    from flows.transform import SCOPE_WINDOWS
    from schemas.marts import FCT_ACCOUNT_DAILY
    from tests.factories import contract_frame
    from transforms.growth import as_of_windows
    from warehouse import marts as wm
    from warehouse.schema import apply_ddl
    from warehouse.sql import table

    emit_from = date(2026, 6, 1)
    days = {
        "recent": [emit_from - timedelta(days=d) for d in (40, 20, 3, 1)] + [emit_from],
        "silent": [emit_from - timedelta(days=d) for d in (200, 120)] + [emit_from],
        "gap": [emit_from - timedelta(days=d) for d in (95, 30)],
        "new": [emit_from, emit_from + timedelta(days=1)],
    }
    rows = [
        {
            "platform": "instagram",
            "account_id": account,
            "date": day,
            "followers": 10_000 + number,
            "following": number,
            "is_followers_rounded": number % 2 == 0,
            "raw_tier": "micro",
            "tier": "micro",
            "entered_tier_on": day - timedelta(days=number),
            "raw_tier_snapshots": number + 1,
            "followers_before_tier": 9_000 + number,
        }
        for account, dates in days.items()
        for number, day in enumerate(dates)
    ]
    daily = contract_frame(FCT_ACCOUNT_DAILY, rows)
    con = connect(":memory:")
    try:
        apply_ddl(con)
        con.register("rows", daily.to_arrow())
        con.execute("insert into marts.fct_account_daily by name select * from rows")
        scope = pl.DataFrame(
            {"platform": ["instagram"] * 4, "account_id": list(days), "emit_from": [emit_from] * 4}
        )
        wm.register_scope(con, scope, **SCOPE_WINDOWS, last_day=emit_from)
        seed = table(con, wm.account_input_queries(as_of_windows())["seed"])
    finally:
        con.close()
    expected = (
        daily.filter(pl.col("date") < emit_from)
        .sort("date")
        .group_by("platform", "account_id")
        .agg(pl.all().last())
        .select(seed.columns)
    )
    assert_frame_equal(seed, expected, check_row_order=False, check_dtypes=False)
    assert dict(zip(seed["account_id"], seed["date"], strict=True)) == {
        "recent": emit_from - timedelta(days=1),
        "silent": emit_from - timedelta(days=120),
        "gap": emit_from - timedelta(days=30),
    }


def test_the_scorecards_take_the_windows_the_monthly_marts_computed(built, tmp_path):
    """MonthReads.windows (the monthly marts' pass computed them) are taken by the scorecards,
    not left on the MonthReads, which lives to the end of the rebuild: a night's million
    windows stayed in memory to its peak. Scored the same as windows computed anew."""
    import flows.transform as ft

    warehouse = tmp_path / "w.duckdb"
    shutil.copy(built[1], warehouse)
    con = connect(warehouse)
    rules = ft.ScorecardRules()
    ((last,),) = con.execute("select max(date) from marts.fct_account_daily").fetchall()
    first_month = last.replace(day=1)
    scope = table(
        con,
        "select platform, account_id, ?::date as emit_from from marts.dim_account",
        [first_month],
    )

    def scored(month_reads):
        con.execute("begin")
        try:
            ft.rebuild_scorecards(
                con,
                scope,
                full=False,
                run_id="t",
                rules=rules,
                partition_accounts=None,
                month_reads=month_reads,
            )
            return table(
                con,
                "select * from marts.fct_creator_monthly where month >= ? order by all",
                [first_month],
            )
        finally:
            con.execute("rollback")

    reads = ft.MonthReads.of_month(tmp_path / "spill", first_month, rules, None)
    reads.windows = [ft.scorecard_windows(reads.inputs(con).read(con, 0), first_month, rules)]
    taken = scored(reads)
    assert reads.windows is None
    anew = scored(None)
    con.close()
    assert taken.height and taken["month"].unique().to_list() == [first_month]
    assert_frame_equal(taken, anew)


def _february_reads_of_ten_accounts():
    """An in-memory warehouse of 10 accounts with a daily row each from January 3 to March 1
    (58 days), and the MonthReads of February's rebuild with a 30-day scorecard window."""
    from datetime import date

    import flows.transform as ft
    from warehouse.schema import apply_ddl

    con = connect(":memory:")
    apply_ddl(con)
    con.execute(
        "insert into marts.dim_account (platform, account_id) "
        "select 'instagram', 'a' || i from range(10) r(i)"
    )
    con.execute(
        "insert into marts.fct_account_daily (platform, account_id, date) "
        "select 'instagram', 'a' || i, date '2026-01-03' + d::integer "
        "from range(10) r(i), range(58) s(d)"
    )
    reads = ft.MonthReads.of_month(
        Path("unused"), date(2026, 2, 1), ft.ScorecardRules(window_days=30), None
    )
    return con, reads


@pytest.mark.parametrize(("account_days", "served"), [(400, False), (600, True), (250, True)])
def test_the_monthly_marts_take_the_scorecards_rows_unless_reading_the_month_alone_is_cheaper(
    monkeypatch, account_days, served
):
    """MonthReads: the first month's monthly marts read the scorecards' spill of the window
    (58 days here) when it is held in memory (one partition) or when the month alone would be
    split too; not when the window is split and the month alone would be read in one query.
    10 accounts: 400 account-days per partition split the window in 2 and the month (28 days)
    not; 600 hold both; 250 split both."""
    from datetime import date

    import flows.transform as ft

    monkeypatch.setattr(ft, "PARTITION_ACCOUNT_DAYS", account_days)
    monkeypatch.setattr(ft, "WINDOW_HELD_ACCOUNT_DAYS", 0)  # the split rule, not the held one
    con, reads = _february_reads_of_ten_accounts()
    # A 30-day scorecard window: read from January 3.
    assert reads.read_from == date(2026, 1, 3)
    assert reads.serves(con, date(2026, 2, 1), date(2026, 3, 1)) is served
    # Only the first month: the window's tier spells and categories are that month's.
    assert not reads.serves(con, date(2026, 3, 1), date(2026, 4, 1))
    con.close()


@pytest.mark.parametrize(
    ("accounts", "days", "setting", "expected"),
    [
        (10, 58, None, 10),  # 580 account-days: held whole
        (10, 60, None, 10),  # 600: at the bound, still held
        (11, 60, None, 16),  # 660: split by PARTITION_ACCOUNT_DAYS (1,000 // 60 accounts)
        (10, 58, 3, 3),  # partition_accounts set: always taken as it is
    ],
)
def test_a_small_scorecard_window_is_held_whole(monkeypatch, accounts, days, setting, expected):
    """window_accounts_per_partition: every account in one partition while the window is at
    most WINDOW_HELD_ACCOUNT_DAYS account-days and no partition size is set; beyond it, the
    accounts PARTITION_ACCOUNT_DAYS allows."""
    import flows.transform as ft

    monkeypatch.setattr(ft, "PARTITION_ACCOUNT_DAYS", 1_000)
    monkeypatch.setattr(ft, "WINDOW_HELD_ACCOUNT_DAYS", 600)
    assert ft.window_accounts_per_partition(setting, days, accounts) == expected


def test_the_monthly_marts_compute_a_held_windows_scorecards_in_their_pass(monkeypatch):
    """A window split where the month alone is not (the case the split rule does not serve) is
    held whole when small: one partition, so the monthly marts take its rows (MonthReads.serves)
    and compute its windows in their pass."""
    from datetime import date

    import flows.transform as ft
    from warehouse import marts as wm

    monkeypatch.setattr(ft, "PARTITION_ACCOUNT_DAYS", 400)  # splits the window, not the month
    con, reads = _february_reads_of_ten_accounts()
    assert reads.serves(con, date(2026, 2, 1), date(2026, 3, 1))
    assert wm.partition_count(con, reads._per_partition(con)) == 1
    con.close()


@pytest.mark.parametrize("partition_accounts", [10, 1])
def test_the_scorecards_read_each_account_from_its_first_window_only(partition_accounts, tmp_path):
    """spill_scorecard_inputs from February with a 30-day window: each account's rows from its
    first window's start (its last follower day of February less 29 days, or of March when it
    has none in February), never after February 1 (the monthly marts read that month from the
    same spill), the days before February with the window's columns only; the windows equal
    those computed from every row. Held in one partition and split into four alike."""
    from datetime import date

    import flows.transform as ft
    import warehouse.marts as wm
    from schemas.marts import (
        SCORECARD_DAILY_INPUT,
        SCORECARD_POSTS_INPUT,
        SCORECARD_WINDOW_INPUT,
    )
    from warehouse.schema import apply_ddl

    con = connect(":memory:")
    apply_ddl(con)
    # Each account's follower days from December 1 to its last day, a post every third day.
    last_days = {
        "tenth": date(2026, 2, 10),  # its February window from January 12
        # Its February window from January 30 (its March window, from February 19, is later).
        "whole": date(2026, 3, 20),
        "march": date(2026, 3, 5),  # no day in February: its March window from February 4
        "dormant": date(2026, 1, 20),  # no window since February
    }
    for account, last in last_days.items():
        con.execute(
            "insert into marts.dim_account (platform, account_id) values ('instagram', ?)",
            [account],
        )
        con.execute(
            "insert into marts.fct_account_daily (platform, account_id, date, followers, "
            "following, followers_change, days_since_previous_snapshot, tier) "
            "select 'instagram', $1, d, 20000 + 10 * (d - date '2025-12-01'), 300, 10, 1, 'micro' "
            "from (select r::date as d from range(date '2025-12-01', $2::date + 1, interval 1 day) "
            "as t(r))",
            [account, last],
        )
    con.execute(
        "insert into marts.fct_post_metrics (platform, account_id, post_id, published_date, "
        "is_sponsored, is_d7_pending, likes_d7, comments_d7, er_followers_lc_d7) "
        "select platform, account_id, account_id || date, date, false, false, 100, 5, 0.01 "
        "from marts.fct_account_daily where (date - date '2025-12-01') % 3 = 0"
    )
    # Its posts of February stay (exported without follower days): the monthly marts read them.
    con.execute(
        "delete from marts.fct_account_daily where account_id = 'march' and date >= '2026-02-01' "
        "and date < '2026-03-01'"
    )
    rules = ft.ScorecardRules(window_days=30)
    first_month = date(2026, 2, 1)
    spilled = wm.spill_scorecard_inputs(
        con, first_month, rules.window_days, partition_accounts, tmp_path / "spill"
    )
    assert spilled.count == (1 if partition_accounts == 10 else 4)
    read: dict[str, list[pl.DataFrame]] = {"window_before": [], "daily": [], "posts": []}
    windows = []
    for number in range(spilled.count):
        inputs = spilled.read(con, number)
        for name, rows in read.items():
            rows.append(wm.keyed_rows(inputs[name].lazy(), inputs[wm.NUMBERS].lazy()).collect())
        windows += ft.scorecard_windows(inputs, first_month, rules)
    dated = {"window_before": "date", "daily": "date", "posts": "published_date"}
    spans = {
        name: {
            account: (first, last)
            for account, first, last in pl.concat(rows)
            .group_by("account_id")
            .agg(pl.col(dated[name]).min().alias("first"), pl.col(dated[name]).max().alias("last"))
            .rows()
        }
        for name, rows in read.items()
    }
    # The days before February with the window's columns only, from each window's start;
    # January 12 and 30 are post days (42 and 60 days after December 1), and February 2.
    assert spans["window_before"] == {
        "tenth": (date(2026, 1, 12), date(2026, 1, 31)),
        "whole": (date(2026, 1, 30), date(2026, 1, 31)),
    }
    assert pl.concat(read["window_before"]).columns == list(SCORECARD_WINDOW_INPUT)
    assert spans["daily"] == {
        "tenth": (first_month, date(2026, 2, 10)),
        "whole": (first_month, date(2026, 3, 20)),
        "march": (date(2026, 3, 1), date(2026, 3, 5)),
    }
    assert pl.concat(read["daily"]).columns == list(SCORECARD_DAILY_INPUT)
    assert {account: first for account, (first, _) in spans["posts"].items()} == {
        "tenth": date(2026, 1, 12),
        "whole": date(2026, 1, 30),
        "march": date(2026, 2, 2),
    }
    daily = table(con, f"select {', '.join(SCORECARD_DAILY_INPUT)} from marts.fct_account_daily")
    posts = table(con, f"select {', '.join(SCORECARD_POSTS_INPUT)} from marts.fct_post_metrics")
    con.close()
    by_key = creator_windows(daily.lazy(), posts.lazy(), first_month, rules).collect()
    assert sorted(by_key.select("account_id", "month").rows()) == [
        ("march", date(2026, 3, 1)),
        ("tenth", first_month),
        ("whole", first_month),
        ("whole", date(2026, 3, 1)),
    ]
    assert_frame_equal(pl.concat(windows).sort(*KEY, "month"), by_key.sort(*KEY, "month"))


def _string_bytes(frame: pl.DataFrame, column: str) -> int:
    """The bytes of the buffers behind a string column (Polars' views and the data they point
    into), as Arrow sees them without a copy."""
    column_ = frame.to_arrow(compat_level=pl.CompatLevel.newest())[column]
    return sum(b.size for chunk in column_.chunks for b in chunk.buffers() if b is not None)


def test_a_kept_frame_holds_its_own_strings_not_those_of_the_frame_it_came_from():
    # The leak `detached` stops: rows kept from a partition (a filter, a join) point into the
    # partition's string buffers, so 100 partitions' few kept rows held all their inputs.
    whole = pl.DataFrame({"account_id": [f"instagram-account-{n:08d}" for n in range(200_000)]})
    few = whole.filter(pl.col("account_id").str.ends_with("00000"))
    assert few.height == 2
    assert _string_bytes(few, "account_id") > 4_000_000  # still the whole column's strings
    kept = detached(few)
    assert_frame_equal(kept, few)
    assert _string_bytes(kept, "account_id") < 1_000


def test_the_scorecard_windows_from_numbered_rows_are_each_accounts_own(built, tmp_path):
    """The scorecards' spill names accounts by number, with no key text in its daily and post
    rows; each partition's windows get their key back from that partition's numbers and equal
    the windows computed by key from the marts' rows. A partition's windows come as a frame per
    month (scored and let go a month at a time)."""
    import flows.transform as ft
    import warehouse.marts as wm
    from schemas.marts import SCORECARD_DAILY_INPUT, SCORECARD_POSTS_INPUT

    warehouse = tmp_path / "w.duckdb"
    shutil.copy(built[1], warehouse)
    con = connect(warehouse, read_only=True)
    rules = ft.ScorecardRules()
    spilled = wm.spill_scorecard_inputs(
        con, wm.FAR_PAST, rules.window_days, ACCOUNTS // 3, tmp_path / "spill"
    )
    assert spilled.count >= 3
    pieces = []
    for number in range(spilled.count):
        inputs = spilled.read(con, number)
        for rows in ("daily", "posts"):
            assert wm.ACCOUNT_NUMBER in inputs[rows].columns
            assert not {"platform", "account_id"} & set(inputs[rows].columns)
        assert inputs[wm.NUMBERS][wm.ACCOUNT_NUMBER].is_unique().all()
        own = ft.scorecard_windows(inputs, wm.FAR_PAST, rules)
        assert len(own) > 1
        assert [piece["month"].n_unique() for piece in own] == [1] * len(own)
        assert len({piece["month"][0] for piece in own}) == len(own)
        pieces += own
    daily = table(con, f"select {', '.join(SCORECARD_DAILY_INPUT)} from marts.fct_account_daily")
    posts = table(con, f"select {', '.join(SCORECARD_POSTS_INPUT)} from marts.fct_post_metrics")
    con.close()
    windows = pl.concat(pieces)
    assert windows.height and daily.height >= 20 * windows.height
    by_key = creator_windows(daily.lazy(), posts.lazy(), wm.FAR_PAST, rules).collect()
    assert_frame_equal(windows.sort(*KEY, "month"), by_key.sort(*KEY, "month"))


def _backfill_in_partitions(warehouse: Path, run_id: str):
    """A backfill of the warehouse's last 10 days, its 400 accounts in partitions of at most
    150 (three); its TransformSummary."""
    import flows.transform as ft
    from transforms.tiers import DEFAULT

    con = connect(warehouse)
    try:
        ((last,),) = con.execute("select max(date) from marts.fct_account_daily").fetchall()
        return ft.rebuild(
            con, "backfill", last - timedelta(days=10), DEFAULT, 7, run_id, partition_accounts=150
        )
    finally:
        con.close()


def test_a_rebuild_times_each_of_its_steps_apart(built, tmp_path, monkeypatch):
    """TransformSummary.steps: every step a backfill runs on the warehouse file, in order, none
    counted twice. The inserts are slowed by a second each for real: the partitions' step,
    timed around the same loop, does not hold those seconds; the inserts' step holds what the
    loop waited for them (the last insert's whole second at least: nothing is built beside
    it)."""
    import flows.transform as ft
    import warehouse.marts as wm

    warehouse = tmp_path / "w.duckdb"
    shutil.copy(built[1], warehouse)
    insert = wm.insert_account_rows
    calls = []

    def slow_insert(con, outputs):
        calls.append(len(outputs))
        time.sleep(1.0)
        insert(con, outputs)

    monkeypatch.setattr(wm, "insert_account_rows", slow_insert)
    summary = _backfill_in_partitions(warehouse, "steps")
    assert len(calls) == 3  # 400 accounts in partitions of at most 150
    # Every step but the full rebuild's own (the rows kept for the nights after it).
    assert list(summary.steps) == [s for s in ft.STEPS if s != "scorecard rows kept"]
    assert all(seconds >= 0 for seconds in summary.steps.values())
    assert sum(summary.steps.values()) <= summary.seconds + 0.05
    inserted = summary.steps["account rows inserted"]
    assert inserted >= 1.0
    assert inserted + summary.steps["account partitions read and built"] >= 3.0
    assert summary.steps["account partitions read and built"] < 3.0


def test_a_partitions_rows_are_inserted_while_the_next_partition_is_built(
    built, tmp_path, monkeypatch
):
    """Each insert (but the last) runs while the next partition is built: an insert waits for
    the next build to start, which it could never see if the flow inserted and built in turn
    (the wait's timeout says so), and the marts hold the same rows as without the overlap."""
    import flows.transform as ft
    import warehouse.marts as wm

    warehouse = tmp_path / "w.duckdb"
    shutil.copy(built[1], warehouse)
    insert, build = wm.insert_account_rows, ft.build_partition_rows
    builds_started: list[int] = []  # one entry per build begun (appends are atomic)
    overlapped: list[bool] = []

    def building(*args, **kwargs):
        builds_started.append(len(builds_started))
        return build(*args, **kwargs)

    def inserting(con, outputs):
        number = len(overlapped)
        if number + 1 < 3:  # the next build's start, seen while this insert runs
            overlapped.append(_next_build_started(builds_started, number + 1))
        else:
            overlapped.append(False)
        insert(con, outputs)

    monkeypatch.setattr(ft, "build_partition_rows", building)
    monkeypatch.setattr(wm, "insert_account_rows", inserting)
    _backfill_in_partitions(warehouse, "x")
    assert overlapped == [True, True, False]  # 400 accounts in partitions of at most 150
    assert content(warehouse, "marts.fct_account_daily").equals(
        content(built[1], "marts.fct_account_daily")
    )


def _next_build_started(started: list, number: int, timeout: float = 20.0) -> bool:
    """Whether build `number` (0-based) starts within `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if len(started) > number:
            return True
        time.sleep(0.01)
    return False


@pytest.mark.parametrize("failing", [2, 3])
def test_a_failed_insert_fails_the_rebuild_and_keeps_the_marts(
    built, tmp_path, monkeypatch, failing
):
    """An insert failing in its thread (for real: DuckDB refuses a row of the wrong type) fails
    the rebuild, and nothing of it is kept: one with a partition built after it, and the last
    (nothing after it asks for its result but the loop's end)."""
    import warehouse.marts as wm

    warehouse = tmp_path / "w.duckdb"
    shutil.copy(built[1], warehouse)
    before = content(warehouse, "marts.fct_account_daily")
    insert, calls = wm.insert_account_rows, []

    def breaks_one(con, outputs):
        calls.append(1)
        if len(calls) == failing:
            daily = outputs["fct_account_daily"]
            outputs = outputs | {
                "fct_account_daily": daily.with_columns(pl.lit("not a day").alias("date"))
            }
        insert(con, outputs)

    monkeypatch.setattr(wm, "insert_account_rows", breaks_one)
    with pytest.raises(duckdb.ConversionException):
        _backfill_in_partitions(warehouse, "x")
    assert not list(tmp_path.glob("inflow-*"))
    assert content(warehouse, "marts.fct_account_daily").equals(before)
