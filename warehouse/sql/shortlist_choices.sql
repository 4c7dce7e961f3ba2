-- What a shortlist can be asked for: the platforms and categories with a scorecard.
select distinct platform, category from marts.agg_creator_scorecard order by all
