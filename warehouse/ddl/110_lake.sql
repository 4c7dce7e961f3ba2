-- Delta Lake storage (issue 23, warehouse/lake.py): the ingest runs whose staging rows the
-- transform has copied into the lake; the others are bridged by the next transform.
create table if not exists meta.lake_bridged_runs (
    run_id varchar not null,
    bridged_at timestamptz not null
);
comment on table meta.lake_bridged_runs is 'Ingest runs whose staging rows are in the Delta Lake tables (storage = "delta").';
