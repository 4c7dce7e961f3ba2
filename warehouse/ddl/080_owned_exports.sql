-- Real exports (issue 17): Instagram's retired `impressions` kept apart from `views`, and the
-- exact daily follower gains and losses of owned-account analytics (YouTube Reporting API,
-- YouTube Studio). `if not exists`: an older warehouse gains them in place, its history kept.
alter table staging.post_snapshots add column if not exists impressions bigint;
comment on column staging.post_snapshots.impressions is 'Instagram impressions (times shown; retired by Meta in 2025), where an export still carries it. Not views.';

create table if not exists staging.follower_changes (
    platform varchar not null,
    account_id varchar not null,
    snapshot_date date not null,
    captured_at timestamptz not null,
    followers_gained bigint not null,
    followers_lost bigint not null,
    source_file varchar not null,
    source_sha256 varchar not null,
    source_row bigint not null,
    ingest_run_id varchar not null
);
comment on table staging.follower_changes is 'One row per (platform, account_id, snapshot_date): followers gained and lost that day as the owner''s analytics count them (exact, unlike public counts); the latest report wins.';
comment on column staging.follower_changes.snapshot_date is 'The day the follows and unfollows happened (UTC date as the report states it).';
comment on column staging.follower_changes.source_row is 'The first row of the file summed into this day (a report has a row per video, country and more).';
