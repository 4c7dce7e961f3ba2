-- Touched accounts of ingest runs both transformed and validated are needed by neither step
-- again: without pruning the table grows by every account every night (a million rows a
-- night at a million accounts) and every lookup of pending runs scans all of it.
delete from meta.touched_accounts
where run_id in (select run_id from meta.transformed_runs)
  and run_id in (select run_id from meta.validated_runs)
