-- Every flow run is recorded in meta.runs (not only ingest), with the counts that flow has;
-- every failed check says what it concerns. `add column if not exists`: a warehouse built by
-- an older inflow gains the columns in place, its history kept.
alter table meta.runs add column if not exists accounts_rebuilt bigint;
alter table meta.runs add column if not exists checks bigint;
alter table meta.runs add column if not exists checks_failed bigint;
alter table meta.runs add column if not exists published_state varchar;
comment on column meta.runs.accounts_rebuilt is 'transform: accounts whose mart rows were rebuilt.';
comment on column meta.runs.checks is 'validate: checks evaluated (nightly: both validations).';
comment on column meta.runs.checks_failed is 'validate: checks that failed, critical or warning.';
comment on column meta.runs.published_state is 'publish: the state file readers now open.';

alter table meta.quality_results add column if not exists concerns varchar;
alter table meta.quality_results add column if not exists message varchar;
comment on column meta.quality_results.concerns is 'For a failed check: the platforms (or marts) its failing rows belong to.';
comment on column meta.quality_results.message is 'For a failed check: one line saying what failed, e.g. "instagram, tiktok stale (246 days)".';
alter table meta.quality_results add column if not exists stage varchar;
comment on column meta.quality_results.stage is 'staging (the new batch, and freshness) or marts.';

-- A platform that hides an account's follower count (YouTube's hiddenSubscriberCount) gives
-- rows that are not wrong: the account's attributes are kept, no snapshot is made, and the
-- rows are counted apart from rejected ones.
alter table meta.runs add column if not exists rows_count_hidden bigint;
alter table meta.ingested_files add column if not exists rows_count_hidden bigint;
alter table staging.accounts add column if not exists followers_hidden boolean;
comment on column meta.runs.rows_count_hidden is 'Rows whose platform hides the follower count: the account''s attributes kept, no snapshot, not rejected.';
comment on column meta.ingested_files.rows_count_hidden is 'Rows whose platform hides the follower count: the account''s attributes kept, no snapshot, not rejected.';
comment on column staging.accounts.followers_hidden is 'True when the latest export of the account says the platform hides its follower count.';

-- The process that ran it: a run left `running` by a process that is gone is marked abandoned
-- by the next run of its flow, never one the same process is still running.
alter table meta.runs add column if not exists pid bigint;
comment on column meta.runs.pid is 'Process id of the run (on the machine that ran it).';
