-- Every check of each suite's latest validation, staging and marts: a nightly run validates
-- the staged batch and the marts in two runs, and a run with nothing new staged skips the
-- staging suites, so "the latest run" alone would hide the other stage's failures (a stale
-- platform). Failed checks first, each naming what it concerns.
with latest as (
    select suite, arg_max(run_id, checked_at) as run_id
    from meta.quality_results
    group by suite
)
select coalesce(q.stage, 'marts') as stage, q.suite, q.check_name, q.severity,
       q.success as passed, q.concerns, q.message, q.checked_at
from meta.quality_results as q
semi join latest as l on q.suite = l.suite and q.run_id = l.run_id
order by q.success, q.severity, q.stage desc, q.suite, q.check_name
