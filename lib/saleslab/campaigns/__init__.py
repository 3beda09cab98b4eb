"""Campaigns (营销活动, domain.md §10): funnel counts, attributed revenue (association) and
incremental revenue against a counterfactual (effect), with intervals, ROI and a placebo check."""

from .effects import (  # noqa: F401
    EFFECTS, campaign_effects, campaign_metrics, campaign_totals, campaign_weekly, featured_campaign, placebo_checks,
)
from .lift import estimate_lift, placebo_lift  # noqa: F401
from .params import Params  # noqa: F401
