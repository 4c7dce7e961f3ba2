with bounds as (
    select min(earlier_from) as first_day from scope
),
source as (
    select {columns}
    from marts.fct_account_daily as m
    join scope as s on m.platform = s.platform and m.account_id = s.account_id
    where m.date >= (select first_day from bounds)
      and m.date >= s.earlier_from and m.date < s.chain_from
)
select * from source
