-- The ten latest runs of every flow, newest first: each flow's own counts in one readable
-- column, so the table fits a terminal.
with last_runs as (
    select flow, left(run_id, 8) as run, status,
           strftime(started_at at time zone 'UTC', '%Y-%m-%d %H:%M:%S') as started_utc,
           round(epoch(finished_at - started_at), 1) as seconds,
           concat_ws('; ',
               case when files_loaded is not null or files_failed is not null then
                   format('files: {} loaded, {} failed', coalesce(files_loaded, 0), coalesce(files_failed, 0)) end,
               case when rows_loaded is not null then
                   format('rows: {} loaded, {} quarantined', rows_loaded, coalesce(rows_quarantined, 0))
                   || case when rows_count_hidden > 0 then format(', {} hidden counts', rows_count_hidden) else '' end end,
               case when accounts_rebuilt is not null then format('{} accounts rebuilt', accounts_rebuilt) end,
               case when checks is not null then format('{} checks, {} failed', checks, coalesce(checks_failed, 0)) end,
               case when published_state is not null then 'published ' || published_state end
           ) as counts,
           message
    from meta.runs
    order by started_at desc
    limit 10
)
select * from last_runs
