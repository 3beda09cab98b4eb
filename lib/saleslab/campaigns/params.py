"""The campaign stage's parameters (domain.md §10: visits, click-through, conversion, lift vs a baseline or control;
§5: ROI < 1.2 flags for review)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from ..params import AreaParams


class Params(AreaParams):
    """Thresholds of the campaign-effect analysis (each field's description is its help)."""

    campaign_level: float = Field(
        95.0, ge=50, lt=100, description="confidence level (%) of the intervals of incremental revenue and ROI")
    campaign_pre_weeks: int = Field(
        8, ge=3, le=52, description="weeks before a campaign's start that form its pre period (baseline)")
    campaign_min_clusters: int = Field(
        5, ge=2, description="fewest treated and control regions for cluster-robust errors; fewer: difference series")
    campaign_conversion_base: Literal["visits", "clicks"] = Field(
        "visits", description="conversion rate: conversions / visits (visits) or conversions / clicks (clicks)")
    campaign_roi_min: float = Field(
        1.2, gt=0, description="campaigns whose incremental ROI (incremental revenue / spend) is below this are flagged")
    campaign_its_trend: bool = Field(
        True, description="the interrupted-time-series baseline of a nationwide campaign has a trend (else a level only)")
    campaign_exclude_outliers: bool = Field(
        True, description="leave order lines flagged as outliers by the cleaning layer out of the weekly revenue")
