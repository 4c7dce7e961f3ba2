-- Creator scorecards (issue 20): the rules (window and flag thresholds, inflow.toml
-- [scorecard]) fct_creator_monthly and agg_creator_scorecard were built with. When they
-- change, every month is rebuilt: a month of old rules beside months of new ones would mix
-- two definitions of a flag.
create table if not exists meta.scorecard_builds (
    rules varchar not null,
    transform_run_id varchar not null
);
comment on table meta.scorecard_builds is 'The scorecard rules (JSON) the scorecard marts were last built with.';
