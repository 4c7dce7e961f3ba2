-- Upsert one batch of snapshots into {table} on its natural key ({key}).
-- The latest capture wins; ties go to the larger source_sha256, then the later source_row, so
-- the outcome depends only on file contents, never on arrival order or file names.
-- $1, $2: the batch's first and last snapshot_date, so both joins read only that date range.
create or replace temp table winners as
with incoming as (
    select * from incoming_snapshots
),
deduplicated as (
    select *
    from incoming
    qualify row_number() over (
        partition by {key}
        order by captured_at desc, source_sha256 desc, source_row desc
    ) = 1
)
select * from deduplicated;

delete from winners as w
using {table} as s
where s.snapshot_date between $1 and $2
  and {key_match}
  and (s.captured_at, s.source_sha256, s.source_row) >= (w.captured_at, w.source_sha256, w.source_row);

delete from {table} as s
using winners as w
where s.snapshot_date between $1 and $2
  and {key_match};

insert into {table} by name select * from winners;
