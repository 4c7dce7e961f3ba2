-- Every campaign creator row (campaigns are few: all of them, every validation).
select campaign_id, platform, account_id, handle, fee, posts, interactions, cpe
from marts.agg_campaign_creators
