-- Every account with follower or post snapshots, or known from its attributes only (a
-- channel hiding its count), from the first day ($1), follower-day chain and all.
with accounts as (
    select distinct platform, account_id from staging.follower_snapshots
    union
    select distinct platform, account_id from staging.post_snapshots
    union
    select platform, account_id from staging.accounts
)
select platform, account_id, $1::date as emit_from, $1::date as chain_from from accounts
