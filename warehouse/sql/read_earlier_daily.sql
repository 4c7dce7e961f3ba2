-- The placeholder in braces before the first column: each row's account number and partition,
-- from its scope row, when the inputs are spilled; nothing otherwise (warehouse.marts.CARRIED_NUMBERS).
with bounds as (
    select min(earlier_from) as first_day from scope
),
source as (
    -- The tier only from the first rebuilt week on, where the weeks' tiers are read: a night
    -- read a tier's text for 29 days per account and used one to seven of them. dim_account's
    -- tier_latest, for an account whose last day is older than that week, falls back on its
    -- earlier dim_account row, built from that same last day.
    select {numbers} {columns}, case when m.date >= s.emit_week then m.tier end as tier
    from marts.fct_account_daily as m
    join scope as s on m.platform = s.platform and m.account_id = s.account_id
    where m.date >= (select first_day from bounds)
      and m.date >= s.earlier_from and m.date < s.chain_from
)
select * from source
