-- Merge the batch's account attributes into staging.accounts: each attribute is its latest
-- non-null value, first/last capture times span everything seen.
create or replace temp table merged_accounts as
with incoming as (
    select platform, account_id, handle, display_name, category, followers_hidden,
           captured_at as first_captured_at, captured_at as last_captured_at, $1 as ingest_run_id
    from incoming_accounts
),
touched as (
    select a.platform, a.account_id, a.handle, a.display_name, a.category, a.followers_hidden,
           a.first_captured_at, a.last_captured_at, a.ingest_run_id
    from staging.accounts as a
    semi join incoming as i on a.platform = i.platform and a.account_id = i.account_id
),
combined as (
    select * from touched
    union all
    select * from incoming
),
merged as (
    select
        platform,
        account_id,
        arg_max(handle, last_captured_at) filter (where handle is not null) as handle,
        arg_max(display_name, last_captured_at) filter (where display_name is not null) as display_name,
        arg_max(category, last_captured_at) filter (where category is not null) as category,
        arg_max(followers_hidden, last_captured_at) filter (where followers_hidden is not null)
            as followers_hidden,
        min(first_captured_at) as first_captured_at,
        max(last_captured_at) as last_captured_at,
        arg_max(ingest_run_id, last_captured_at) as ingest_run_id
    from combined
    group by platform, account_id
)
select * from merged;

-- Updated in place, new accounts inserted: deleting and inserting the touched rows left the
-- deleted ones in the file until a checkpoint vacuumed them (an ingest's checkpoints skip
-- DuckDB's vacuum unless the run replaced snapshots: warehouse.connect.checkpoint). A million
-- accounts, 30% touched: 0.29 s against 0.67 s with the vacuum, the file 19 MB against 31.
merge into staging.accounts as a
using merged_accounts as m
on a.platform = m.platform and a.account_id = m.account_id
when matched then update set
    handle = m.handle,
    display_name = m.display_name,
    category = m.category,
    followers_hidden = m.followers_hidden,
    first_captured_at = m.first_captured_at,
    last_captured_at = m.last_captured_at,
    ingest_run_id = m.ingest_run_id
when not matched then insert by name;
