-- The batch's winners (upsert_snapshots.sql) into {table}: a row of the batch is identified by
-- (source_sha256, source_row).
insert into {table} by name
select i.*
from incoming_snapshots as i
semi join winners as w
    on i.source_sha256 = w.source_sha256 and i.source_row = w.source_row
