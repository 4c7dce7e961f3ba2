-- Campaign creators with their account: the id given, else the known account whose latest
-- handle is the one given (on the creator's platform; the most recently seen when two share it).
with handles as (
    select platform, account_id, lower(handle) as handle
    from marts.dim_account
    where handle is not null
    qualify row_number() over (partition by platform, lower(handle) order by last_seen desc nulls last) = 1
)
select c.campaign_id, c.platform, coalesce(c.account_id, h.account_id) as account_id, c.handle,
       c.fee, c.fee_basis, c.post_ids
from staging.campaign_creators as c
left join handles as h on c.account_id is null and h.platform = c.platform and h.handle = c.handle
