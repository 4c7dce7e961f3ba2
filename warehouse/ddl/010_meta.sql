create table if not exists meta.runs (
    run_id varchar not null,
    flow varchar not null,
    started_at timestamptz not null,
    finished_at timestamptz,
    status varchar not null,          -- running | succeeded | completed_with_errors | failed | abandoned
    files_seen bigint,
    files_loaded bigint,
    files_failed bigint,
    files_skipped bigint,
    rows_read bigint,
    rows_loaded bigint,
    rows_quarantined bigint,
    message varchar
);
comment on table meta.runs is 'One row per flow run: outcome and counts.';

create table if not exists meta.ingested_files (
    path varchar not null,            -- relative to the landing folder
    sha256 varchar not null,
    bytes bigint not null,
    format varchar,                   -- csv | jsonl | parquet
    contract varchar,                 -- e.g. instagram.posts
    platform varchar,
    kind varchar,                     -- followers | posts
    rows_read bigint not null,
    rows_loaded bigint not null,
    rows_quarantined bigint not null,
    status varchar not null,          -- loaded | failed | duplicate
    error varchar,
    ignored_columns varchar[],
    run_id varchar not null,
    ingested_at timestamptz not null
);
comment on table meta.ingested_files is 'The manifest: every landed file seen, by path and content hash, and what became of it.';

comment on column meta.runs.run_id is 'Identifier of the run (a UUID).';
comment on column meta.runs.flow is 'The flow that ran: ingest, validate, transform, publish or nightly (a nightly run''s steps are runs of their own).';
comment on column meta.runs.started_at is 'When the run started (UTC).';
comment on column meta.runs.finished_at is 'When the run finished (UTC); null while running.';
comment on column meta.runs.status is 'running, succeeded, completed_with_errors (some files failed), failed or abandoned.';
comment on column meta.runs.files_seen is 'Files found in the landing folder.';
comment on column meta.runs.files_loaded is 'Files loaded in this run.';
comment on column meta.runs.files_failed is 'Files that could not be read (see quarantine).';
comment on column meta.runs.files_skipped is 'Files already loaded (same content hash) or duplicates.';
comment on column meta.runs.rows_read is 'Rows read from the files.';
comment on column meta.runs.rows_loaded is 'Rows that passed their contract and were upserted.';
comment on column meta.runs.rows_quarantined is 'Rows rejected by their contract, kept in quarantine.rejected_rows with the reason.';
comment on column meta.runs.message is 'Error or summary message, when there is one.';

create table if not exists meta.ddl_applied (
    fingerprint varchar not null
);
comment on table meta.ddl_applied is 'The fingerprint of the DDL last applied in full (warehouse.schema.apply_ddl): while it matches, a run skips re-running every CREATE ... IF NOT EXISTS.';
