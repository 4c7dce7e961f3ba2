-- Posts already in the mart that the rebuilt rows look back on (weekly rolling ER and trend).
with bounds as (
    select min(posts_from) as first_day from scope
),
source as (
    select {columns}
    from marts.fct_post_metrics as m
    join scope as s on m.platform = s.platform and m.account_id = s.account_id
    where m.published_date >= (select first_day from bounds)
      and m.published_date >= s.posts_from and m.published_date < s.emit_from
)
select * from source
