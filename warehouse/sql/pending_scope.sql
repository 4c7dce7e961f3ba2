-- Accounts changed by ingest runs the marts do not include yet, from their first affected day.
with pending_runs as (
    select distinct run_id from meta.touched_accounts
    where run_id not in (select run_id from meta.transformed_runs)
),
touched as (
    select t.platform, t.account_id, min(t.first_affected_date) as emit_from
    from meta.touched_accounts as t
    semi join pending_runs as p on t.run_id = p.run_id
    group by t.platform, t.account_id
)
select * from touched
