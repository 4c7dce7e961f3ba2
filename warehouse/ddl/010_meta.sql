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
