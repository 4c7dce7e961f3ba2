with source as (
    select m.*
    from marts.fct_post_metrics as m
    join scope as s on m.platform = s.platform and m.account_id = s.account_id
    where m.published_date >= s.read_from and m.published_date < s.emit_from
)
select * from source
