-- The scorecard windows' rows before their first month, kept between nights (issue 22,
-- warehouse.marts.keep_scorecard_rows): the daily and post mart rows of the days before
-- first_month that its windows reach, spilled by run_id into <warehouse>.scorecard-rows/
-- <run_id>/ and read by the next nights instead of the marts. At most one row: the set that is
-- valid. A rebuild that changes a mart row dated before first_month deletes it in its own
-- transaction, so a rolled-back run never leaves a row that names rows it changed.
create table if not exists meta.scorecard_rows (
    first_month date not null,
    window_days integer not null,
    partitions integer not null,
    run_id varchar not null,
    duckdb_version varchar not null
);
comment on table meta.scorecard_rows is 'The mart rows before first_month kept on disk for the scorecard windows of the next nights (<warehouse>.scorecard-rows/<run_id>).';
