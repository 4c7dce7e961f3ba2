with recent as (
    select p.platform, p.post_id, p.account_id, p.published_date, p.er_followers, p.views, p.interactions,
           d.account_id is not null as account_in_dim_account
    from marts.fct_post_metrics as p
    left join marts.dim_account as d on p.platform = d.platform and p.account_id = d.account_id
    where p.published_date >= $1
)
select * from recent
