with source as (
    select d.*
    from marts.dim_account as d
    semi join scope as s on d.platform = s.platform and d.account_id = s.account_id
)
select * from source
