-- Latest follower day and latest post per platform in the published marts.
with accounts as (
    select platform, count(*) as accounts, max(last_seen) as latest_follower_day
    from marts.dim_account group by platform
),
posts as (
    select platform, count(*) as posts, max(published_date) as latest_post_day
    from marts.fct_post_metrics group by platform
)
select platform, accounts, latest_follower_day, posts, latest_post_day
from accounts full outer join posts using (platform)
order by platform
