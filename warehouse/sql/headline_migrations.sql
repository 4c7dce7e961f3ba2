with migrations as (
    select platform, from_tier, to_tier, direction, count(*) as migrations,
           min(migrated_on) as first, max(migrated_on) as last
    from marts.fct_tier_migrations
    group by all
)
select * from migrations order by migrations desc limit 12
