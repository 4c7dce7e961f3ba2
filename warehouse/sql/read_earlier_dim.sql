with source as (
    select {numbers} d.*
    from marts.dim_account as d
    join scope as s on d.platform = s.platform and d.account_id = s.account_id
)
select * from source
