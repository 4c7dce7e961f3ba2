-- Every account (dim_account) with its partition_number and the first day its scorecard
-- windows from {first_month} on read (window_from): each window ends on the account's last
-- follower day of a month (transforms.scorecard.creator_windows) and starts window_days - 1
-- days before, so the earliest starts {before} days before the last day of its first month
-- with a follower day. Rows before it are never in a window: a night on the Nth of a month
-- read N - 1 days per account that no window holds (a million creators on the 10th: 9 days of
-- 99), and an account without a follower day since {first_month} 90 days for no window.
-- Never after {first_month}: the monthly marts read that month's rows from the same spill.
-- {without}: the window_from of an account without a follower day since {first_month}: the
-- month's first day for a night's own reads; the first day any window reaches for rows kept for
-- the month's later nights (warehouse.marts.keep_scorecard_rows: a day may come).
-- Text, not parameters: warehouse.marts fills in date literals and the partition expression.
with ends as (
    select platform, account_id, max(date) as as_of_date
    from marts.fct_account_daily
    where date >= {first_month}
    group by platform, account_id, date_trunc('month', date)
),
starts as (
    select platform, account_id, min(as_of_date) - {before} as window_from
    from ends
    group by platform, account_id
)
select platform, account_id, {partition},
    least(coalesce(s.window_from, {without}), {first_month}) as window_from
from marts.dim_account as a
left join starts as s using (platform, account_id)
