create table if not exists quarantine.rejected_rows (
    source_file varchar not null,
    source_sha256 varchar not null,
    row_number bigint not null,       -- 1-based record number: JSON line, CSV data row, Parquet row
    contract varchar not null,
    rule varchar not null,
    reason varchar not null,
    raw_record varchar,               -- the record as it arrived (capped at 64 KiB)
    run_id varchar not null,
    rejected_at timestamptz not null
);
comment on table quarantine.rejected_rows is 'Rows that broke their export contract, with the rule and a readable reason. Nothing is silently dropped.';
