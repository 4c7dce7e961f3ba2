-- The placeholder in braces before the first column: each row's account number and partition,
-- from its scope row, when the inputs are spilled; nothing otherwise (warehouse.marts.CARRIED_NUMBERS).
-- A join, not a semi join: the scope's row gives the numbers (one row per account there).
with source as (
    select {numbers} a.platform, a.account_id, a.handle, a.display_name, a.category, a.followers_hidden
    from staging.accounts as a
    join scope as s on a.platform = s.platform and a.account_id = s.account_id
)
select * from source
