-- Mart rows from $1 on (the days the last runs can have changed).
with recent as (
    select platform, account_id, date, followers, followers_change, raw_tier
    from marts.fct_account_daily
    where date >= $1
)
select * from recent
