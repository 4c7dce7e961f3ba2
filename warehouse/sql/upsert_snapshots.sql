-- Upsert one batch of snapshots into {table} on its natural key ({key}).
-- The latest capture wins; ties go to the larger source_sha256, then the later source_row, so
-- the outcome depends only on file contents, never on arrival order or file names.
-- $1, $2: the batch's first and last snapshot_date, so both joins read only that date range.
-- The winners are chosen on narrow columns (key, capture time, row identity): sorting the
-- whole rows, captions and all, cost 60% more time and memory. A row of the batch is
-- identified by (source_sha256, source_row): one file's content, one row of it. {dedup} is
-- the ranking below when the batch holds a key more than once, else empty (nothing to rank).
-- The winners' rows are then inserted (insert_snapshot_winners.sql, or insert_snapshots.sql
-- when every row of the batch won).
create or replace temp table winners as
select {key}, {owner}captured_at, source_sha256, source_row, {first_day} as first_day
from incoming_snapshots
{dedup};

delete from winners as w
using {table} as s
where s.snapshot_date between $1 and $2
  and {key_match}
  and (s.captured_at, s.source_sha256, s.source_row) >= (w.captured_at, w.source_sha256, w.source_row);

delete from {table} as s
using winners as w
where s.snapshot_date between $1 and $2
  and {key_match};
