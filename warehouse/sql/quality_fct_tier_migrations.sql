-- Each migration must start a spell of to_tier and end one of from_tier on migrated_on.
with recent as (
    select * from marts.fct_tier_migrations where migrated_on >= $1
),
checked as (
    select r.platform, r.account_id, r.migrated_on,
           exists (select 1 from marts.fct_tier_history h
                   where h.platform = r.platform and h.account_id = r.account_id
                     and h.tier = r.to_tier and h.valid_from = r.migrated_on)
           and exists (select 1 from marts.fct_tier_history h
                   where h.platform = r.platform and h.account_id = r.account_id
                     and h.tier = r.from_tier and h.valid_to = r.migrated_on) as ends_and_starts_tier_spells
    from recent as r
)
select * from checked
