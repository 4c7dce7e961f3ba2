-- Every staged campaign definition.
select campaign_id, brand, name, start_date, end_date, currency, brand_handles, hashtags, rules,
       definition_sha256
from staging.campaigns
