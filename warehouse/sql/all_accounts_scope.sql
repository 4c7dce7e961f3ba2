-- Every account with follower or post snapshots, from the first day ($1).
with accounts as (
    select distinct platform, account_id from staging.follower_snapshots
    union
    select distinct platform, account_id from staging.post_snapshots
)
select platform, account_id, $1::date as emit_from from accounts
