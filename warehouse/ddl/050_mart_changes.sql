-- What each transform run changed in the marts, so that publishing can apply just that to a
-- copy of the previous published state instead of copying every mart every night.
create table if not exists meta.mart_changes (
    sequence bigint not null,          -- increasing per transform run that changed the marts
    transform_run_id varchar not null,
    scope varchar not null,            -- accounts (the rows below) | all (full refresh, backfill)
    first_day date,                    -- earliest day changed: weeks and months from here on
    changed_at timestamptz not null
);
comment on table meta.mart_changes is 'Transform runs that changed the marts, in order: what an incremental publish applies.';

create table if not exists meta.mart_changed_accounts (
    sequence bigint not null,
    platform varchar not null,
    account_id varchar not null,
    emit_from date not null            -- the account's rows from this day on were rebuilt
);
comment on table meta.mart_changed_accounts is 'Per transform run: the accounts rebuilt and from which day.';
