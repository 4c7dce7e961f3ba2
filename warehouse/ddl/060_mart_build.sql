-- What the marts were built with: the tier scheme and confirmation period (marts never mix two)
-- and the version of the mart contracts (a new version rebuilds every mart).
create table if not exists meta.mart_build (
    tier_scheme varchar not null,
    tier_bounds varchar not null,      -- JSON: {tier: inclusive lower bound}, smallest first
    confirmation_days integer not null,
    contract_version varchar not null, -- from the mart contracts' columns and types
    transform_run_id varchar not null,
    built_at timestamptz not null
);
comment on table meta.mart_build is 'The definitions the marts were last fully built with: a run under another tier scheme or confirmation period refuses until `inflow transform --full-refresh`.';
