-- The latest runs of each flow (ingest, validate, transform, publish, nightly). A run still
-- running when this state was published (the nightly run and the publish itself) says so.
select flow,
       case when status = 'running' then 'running when published' else status end as status,
       started_at, finished_at,
       round(epoch(finished_at - started_at), 1) as seconds,
       rows_loaded, rows_quarantined, files_failed, accounts_rebuilt, checks, checks_failed,
       message
from meta.runs
qualify row_number() over (partition by flow order by started_at desc) <= 3
order by started_at desc
