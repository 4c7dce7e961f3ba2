-- The placeholder in braces before the first column: each row's account number and partition,
-- from its scope row, when the inputs are spilled; nothing otherwise (warehouse.marts.CARRIED_NUMBERS).
-- A join, not a semi join: the scope's row gives the numbers (one row per account there).
with source as (
    select {numbers} d.*
    from marts.dim_account as d
    join scope as s on d.platform = s.platform and d.account_id = s.account_id
)
select * from source
