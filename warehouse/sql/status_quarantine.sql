with by_rule as (
    select 'row' as level, rule, count(*) as count from quarantine.rejected_rows group by rule
),
by_file as (
    select 'file' as level, 'failed: ' || coalesce(split_part(error, ':', 1), '?') as rule, count(*) as count
    from meta.ingested_files where status = 'failed' group by 2
)
select * from by_rule union all select * from by_file order by level, count desc
