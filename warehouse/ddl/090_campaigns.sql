-- Campaigns (issue 19): the definitions users land under campaigns/ (schemas/campaigns.py),
-- replaced as a whole whenever a campaign file is new, changed or gone.
create table if not exists staging.campaigns (
    campaign_id varchar not null,
    brand varchar not null,
    name varchar,
    start_date date not null,
    end_date date not null,
    currency varchar,
    brand_handles varchar[],
    hashtags varchar[],
    rules varchar[],
    definition_sha256 varchar not null,
    source_file varchar not null,
    ingest_run_id varchar not null
);
comment on table staging.campaigns is 'One row per campaign as its file defines it (the valid ones; refusals are in quarantine.rejected_rows).';

create table if not exists staging.campaign_creators (
    campaign_id varchar not null,
    platform varchar not null,
    account_id varchar,
    handle varchar,
    fee double,
    fee_basis varchar not null,
    post_ids varchar[],
    source_file varchar not null,
    source_row bigint not null,
    ingest_run_id varchar not null
);
comment on table staging.campaign_creators is 'One row per campaign and creator: the account (id, or handle resolved through dim_account), the fee in the campaign''s currency and its basis (per_creator or per_post), explicit post ids.';

-- The definition and settings each campaign's mart rows were built from: a night rebuilds the
-- campaigns whose definition (or the EMV values) changed and those whose creators' posts did.
create table if not exists meta.campaign_builds (
    campaign_id varchar not null,
    build_sha256 varchar not null,
    transform_run_id varchar not null
);
-- The brand handles agg_brand_mentions was built for: when they change, every account's
-- mentions are recounted.
create table if not exists meta.brand_handle_builds (
    handles_sha256 varchar not null,
    transform_run_id varchar not null
);
-- The campaign files (path, content hash) the staged campaigns were read from: ingest reads
-- them all again when the landing folder's set differs (a file new, changed or gone).
create table if not exists meta.campaign_files (
    path varchar not null,
    sha256 varchar not null
);
