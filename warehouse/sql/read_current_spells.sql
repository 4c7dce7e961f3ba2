-- The placeholder in braces before the first column: each row's account number and partition,
-- from its scope row, when the inputs are spilled; nothing otherwise (warehouse.marts.CARRIED_NUMBERS).
-- The spell still open on the day before chain_from: the rebuild continues or ends it.
with source as (
    select {numbers} h.*
    from marts.fct_tier_history as h
    join scope as s on h.platform = s.platform and h.account_id = s.account_id
    where h.valid_from < s.chain_from and (h.valid_to is null or h.valid_to >= s.chain_from)
)
select * from source
