-- Canonical, deduplicated snapshots. No PRIMARY KEY: measured here, upserts with a key ran
-- about 3x slower and doubled the file; uniqueness is kept by the loader (delete + insert in one
-- transaction) and checked by tests and quality suites.
create table if not exists staging.follower_snapshots (
    platform varchar not null,
    account_id varchar not null,
    snapshot_date date not null,
    captured_at timestamptz not null,
    followers bigint not null,
    following bigint,
    posts_count bigint,
    is_followers_rounded boolean not null,
    source_file varchar not null,
    source_sha256 varchar not null,
    source_row bigint not null,
    ingest_run_id varchar not null
);
comment on table staging.follower_snapshots is 'One row per (platform, account_id, snapshot_date): the latest capture wins.';

create table if not exists staging.post_snapshots (
    platform varchar not null,
    post_id varchar not null,
    account_id varchar not null,
    snapshot_date date not null,
    captured_at timestamptz not null,
    published_at timestamptz not null,
    media_type varchar,
    likes bigint,
    comments bigint,
    shares bigint,
    saves bigint,
    views bigint,
    reach bigint,
    caption varchar,
    hashtags varchar[],
    mentions varchar[],
    is_sponsored boolean,
    source_file varchar not null,
    source_sha256 varchar not null,
    source_row bigint not null,
    ingest_run_id varchar not null
);
comment on table staging.post_snapshots is 'One row per (platform, post_id, snapshot_date): the latest capture wins.';

create table if not exists staging.accounts (
    platform varchar not null,
    account_id varchar not null,
    handle varchar,
    display_name varchar,
    category varchar,
    first_captured_at timestamptz not null,
    last_captured_at timestamptz not null,
    ingest_run_id varchar not null
);
comment on table staging.accounts is 'One row per (platform, account_id): each attribute is its latest non-null value.';
