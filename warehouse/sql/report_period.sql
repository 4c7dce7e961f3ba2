-- The days the published marts cover: the report's default period ends on the last one.
select min(date) as first_day, max(date) as last_day from marts.fct_account_daily
