-- The ten latest runs of every flow, newest first, with the counts each flow records.
with last_runs as (
    select flow, left(run_id, 8) as run, status, started_at, finished_at,
           round(epoch(finished_at - started_at), 1) as seconds,
           files_loaded, files_failed, rows_loaded, rows_quarantined,
           accounts_rebuilt, checks, checks_failed, published_state, message
    from meta.runs
    order by started_at desc
    limit 10
)
select * from last_runs
