-- What each ingest run changed, so that a transform rebuilds only those accounts, from the
-- first day the new rows can affect (a follower snapshot's day, a post's publication day).
create table if not exists meta.touched_accounts (
    run_id varchar not null,
    platform varchar not null,
    account_id varchar not null,
    first_affected_date date not null
);
comment on table meta.touched_accounts is 'Per ingest run: the accounts whose staged rows changed and the first day affected.';

create table if not exists meta.transformed_runs (
    run_id varchar not null,          -- an ingest run whose changes the marts include
    transform_run_id varchar not null,
    transformed_at timestamptz not null
);
comment on table meta.transformed_runs is 'Ingest runs already reflected in the marts.';

create table if not exists meta.quality_results (
    run_id varchar not null,
    suite varchar not null,
    check_name varchar not null,
    expectation varchar not null,
    severity varchar not null,        -- critical | warning
    success boolean not null,
    unexpected_count bigint,
    observed varchar,
    checked_at timestamptz not null
);
comment on table meta.quality_results is 'Every expectation evaluated by a validation run: critical failures block publishing, warnings are shown.';

create table if not exists meta.validated_runs (
    run_id varchar not null,          -- an ingest run whose staged rows were validated
    validation_run_id varchar not null
);

create table if not exists meta.mart_row_counts (
    run_id varchar not null,
    mart varchar not null,
    "rows" bigint not null,
    counted_at timestamptz not null
);

comment on column meta.quality_results.run_id is 'The validation run.';
comment on column meta.quality_results.suite is 'Suite: the table or stage validated (e.g. follower_snapshots, fct_account_daily).';
comment on column meta.quality_results.check_name is 'The check, named as in `inflow validate` output.';
comment on column meta.quality_results.expectation is 'The great-expectations expectation type behind the check.';
comment on column meta.quality_results.severity is 'critical (blocks publishing) or warning (shown, does not block).';
comment on column meta.quality_results.success is 'True when the check passed.';
comment on column meta.quality_results.unexpected_count is 'Rows that failed the check, where it counts rows.';
comment on column meta.quality_results.observed is 'The observed value or a sample of failing values.';
comment on column meta.quality_results.checked_at is 'When the check ran (UTC).';
