with source as (
    select m.*
    from marts.fct_account_daily as m
    join scope as s on m.platform = s.platform and m.account_id = s.account_id
    where m.date >= s.read_from and m.date < s.emit_from
)
select * from source
