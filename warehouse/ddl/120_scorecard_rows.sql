-- The scorecard windows' rows before their first month, kept between nights (issue 22,
-- warehouse.marts.KeptRows): the daily and post mart rows of the days before first_month that
-- its windows reach, in folders under <warehouse>.scorecard-rows/ read by the next nights
-- instead of the marts. The rows name what is valid; a rebuild changes them in its own
-- transaction, so a rolled-back run never leaves a row that names rows it changed.
--
-- Session 50 kept one folder per set (meta.scorecard_rows); a set is now made of chunks, each
-- month's rows spilled once (the previous table's set is made again by the next night).
drop table if exists meta.scorecard_rows;

-- At most one row: the set that is valid. A rebuild that changes a mart row dated before
-- first_month deletes it (with its chunks).
create table if not exists meta.scorecard_row_sets (
    first_month date not null,
    window_days integer not null,
    partitions integer not null,
    numbers varchar not null,
    duckdb_version varchar not null
);
comment on table meta.scorecard_row_sets is 'The mart rows before first_month kept on disk for the scorecard windows of the next nights: its chunks (meta.scorecard_row_chunks), its creators numbered in <warehouse>.scorecard-rows/<numbers>/numbers.parquet.';

-- The valid set's chunks: every creator's rows of the days before rows_before (a month's, or
-- a night's rows from its set's month), split into the set's partitions.
create table if not exists meta.scorecard_row_chunks (
    folder varchar not null,
    window_input varchar not null,
    posts_input varchar not null,
    rows_before date not null
);
comment on table meta.scorecard_row_chunks is 'The chunks of the kept scorecard rows: <warehouse>.scorecard-rows/<folder>/<input>/<partition>.arrow, rows before rows_before.';

-- At most one row: the daily and post rows from from_month on that the last night spilled
-- beside the set numbered set_numbers, kept so that the first night of a later month makes its
-- set from them and the set's chunks instead of reading the marts. valid_before: the rows
-- before it are still the marts' (null: all of them); lowered by every rebuild that changes
-- rows from a day.
create table if not exists meta.scorecard_row_tail (
    folder varchar not null,
    set_numbers varchar not null,
    from_month date not null,
    valid_before date
);
comment on table meta.scorecard_row_tail is 'The last night''s daily and post rows from from_month on (<warehouse>.scorecard-rows/<folder>), still the marts'' before valid_before (null: all): the next month''s kept set is made from them.';
