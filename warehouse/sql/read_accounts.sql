with source as (
    select {numbers} a.platform, a.account_id, a.handle, a.display_name, a.category, a.followers_hidden
    from staging.accounts as a
    join scope as s on a.platform = s.platform and a.account_id = s.account_id
)
select * from source
