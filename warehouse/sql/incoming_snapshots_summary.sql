-- A batch of snapshots before its upsert: its first and last snapshot_date (both joins of the
-- upsert read only that range) and how many natural keys ({key}) it holds more than once
-- (none in a batch without re-exports: then the upsert skips ranking the batch's rows), and its
-- platforms (staged_in_range.sql).
select
    min(snapshot_date),
    max(snapshot_date),
    (
        select count(*)
        from (select {key} from incoming_snapshots group by all having count(*) > 1)
    ),
    list(distinct platform)
from incoming_snapshots
