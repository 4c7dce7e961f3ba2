-- Accounts per confirmed tier each week (Monday start), by each account's last snapshot of the week.
-- Weekly points keep the page small over years of history and smooth missing days.
with account_weeks as (
    select platform, account_id, date_trunc('week', date)::date as week_start, arg_max(tier, date) as tier
    from marts.fct_account_daily
    where tier is not null
    group by all
)
select platform, week_start, tier, count(*) as accounts
from account_weeks
group by all
order by all
