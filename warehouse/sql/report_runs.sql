-- The latest runs of each flow.
select flow, status, started_at, finished_at, rows_loaded, rows_quarantined, files_failed
from meta.runs
qualify row_number() over (partition by flow order by started_at desc) <= 3
order by started_at desc
