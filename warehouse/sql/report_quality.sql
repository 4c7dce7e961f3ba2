-- The latest validation run: checks per severity, how many passed, and the failed ones by name.
with latest as (
    select run_id, max(checked_at) as checked_at from meta.quality_results
    group by run_id order by checked_at desc limit 1
)
select q.severity, count(*) as checks, count(*) filter (where q.success) as passed,
       string_agg(q.suite || '.' || q.check_name, ', ' order by q.suite, q.check_name)
           filter (where not q.success) as failed_checks,
       any_value(l.checked_at) as checked_at
from meta.quality_results as q
join latest as l using (run_id)
group by q.severity
order by q.severity
