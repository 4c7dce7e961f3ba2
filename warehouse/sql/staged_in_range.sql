-- Whether {table} holds any row of the batch's platforms ($3) dated between $1 and $2 (the
-- batch's first and last snapshot_date). Every natural key of a snapshot table holds platform and
-- snapshot_date: when no staged row does, none shares a key with the batch, and the upsert's
-- two deletes (upsert_snapshots.sql) would find nothing. The dates prune by row group (zone maps).
select exists (
    select 1
    from {table}
    where snapshot_date between $1 and $2
      and list_contains($3, platform)
)
