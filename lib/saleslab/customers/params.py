"""The customer segmentation parameters (domain.md §6: RFM window, tiers, rule tags, value matrix, clusters)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator, model_validator

from ..params import AreaParams

#: The four tier-share fields, in tier order; their values add up to 1.
TIER_SHARES = ("tier_high_share", "tier_potential_share", "tier_basic_share", "tier_churn_share")
#: Named cuts of the value matrix (besides a quantile in (0, 1)).
VALUE_SPLITS = ("median", "mean")


class Params(AreaParams):
    """Thresholds of the customers analysis (each field's description is its help)."""

    rfm_window_months: int = Field(12, ge=1, le=60, description="RFM window: the months ending at as_of")
    rfm_threshold: Literal["mean", "score3"] = Field(
        "mean", description="an RFM score is high when above its mean (\"mean\") or at least 3 (\"score3\")")
    tier_high_share: float = Field(
        0.15, ge=0, le=1, description="share of customers in the high-value tier (highest revenue)")
    tier_potential_share: float = Field(
        0.30, ge=0, le=1, description="share of customers in the potential tier (next by revenue)")
    tier_basic_share: float = Field(
        0.40, ge=0, le=1, description="share of customers in the basic tier; the four tier shares add up to 1")
    tier_churn_share: float = Field(
        0.15, ge=0, le=1, description="share of customers in the churn-risk tier (longest since last purchase)")
    tag_high_value_min: float = Field(
        100000.0, ge=0, description="high-value tag: purchases in the last 12 months at least this, CNY")
    tag_repeat_min: int = Field(
        3, ge=1, description="high-value tag: at least this many repeat purchases in the last 12 months")
    tag_followups_min: int = Field(
        2, ge=1, description="potential tag: at least this many follow-ups in the recent months and no order")
    tag_recent_months: int = Field(3, ge=1, description="potential tag: how many months count as recent")
    tag_rising_min: float = Field(
        0.2, description="potential tag: last 12 months at least this much above the 12 months before")
    tag_no_followup_months: int = Field(
        6, ge=1, description="churn-risk tag: CRM customers not followed up for this many months")
    tag_active_days: int = Field(
        90, ge=1, le=730, description="churn-risk tag: a customer who bought within this many days and is growing is not "
                              "at risk for lack of follow-ups")
    tag_active_growth_min: float = Field(
        0.0, ge=-1, description="churn-risk tag: growing means the last 12 months at least (1 + this) × the 12 months before")
    tag_decline_min: float = Field(
        0.5, gt=0, le=1, description="churn-risk tag: last 12 months down by at least this share year over year")
    value_split: str = Field(
        "median", description="value matrix high/low cut: median, mean or a quantile such as 0.75")
    value_potential: Literal["clv", "growth"] = Field(
        "clv", description="value matrix potential value: clv (predicted CLV) or growth (revenue change YoY)")
    cluster_k_min: int = Field(2, ge=2, description="smallest number of clusters tried")
    cluster_k_max: int = Field(8, ge=2, description="largest number of clusters tried (the best silhouette wins)")
    cluster_seed: int = Field(7, description="random seed of k-means and of the silhouette sample")

    @field_validator("value_split")
    @classmethod
    def _split(cls, v: str) -> str:
        if v in VALUE_SPLITS:
            return v
        try:
            q = float(v)
        except ValueError:
            q = -1.0
        if not 0 < q < 1:
            raise ValueError("must be median, mean or a quantile in (0, 1) such as 0.75")
        return v

    @model_validator(mode="after")
    def _consistent(self):
        total = sum(getattr(self, k) for k in TIER_SHARES)
        if abs(total - 1) > 1e-6:
            raise ValueError(f"{' + '.join(TIER_SHARES)} must add up to 1 (they add up to {total:g})")
        if self.cluster_k_max < self.cluster_k_min:
            raise ValueError(f"cluster_k_max ({self.cluster_k_max}) must be at least cluster_k_min "
                             f"({self.cluster_k_min})")
        return self
