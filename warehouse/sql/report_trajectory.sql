-- Followers and median ER by month (fct_creator_monthly) of the creators $1 names
-- ('platform:account_id': the top of the report's shortlist).
select s.platform, coalesce(s.handle, s.account_id) as creator, m.month, m.followers, m.er_median
from marts.fct_creator_monthly as m
join marts.agg_creator_scorecard as s using (platform, account_id)
where s.platform || ':' || s.account_id in (select unnest($1::varchar[]))
order by s.platform, creator, m.month
