-- The latest validation run's failed checks (critical ones block publishing).
with latest as (
    select run_id from meta.quality_results order by checked_at desc limit 1
),
failed as (
    select q.severity, q.suite, q.check_name, q.unexpected_count, q.observed, q.checked_at
    from meta.quality_results as q
    semi join latest as l on q.run_id = l.run_id
    where not q.success
)
select * from failed order by severity, suite, check_name
