"""The churn warning parameters (domain.md §6: churn window, features, risk threshold, call list)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from ..params import AreaParams


class Params(AreaParams):
    """Thresholds of the churn analysis (each field's description is its help)."""

    churn_window_days: int = Field(
        180, ge=1, description="a customer has churned when they buy nothing in this many days after the cut-off")
    churn_feature_months: int = Field(
        12, ge=1, description="churn features look back this many months; customers active in them are scored")
    churn_recency_days: int = Field(
        180, ge=1, description="baseline rule: at risk when the last purchase is more than this many days ago")
    churn_risk_min: float = Field(
        0.5, ge=0, le=1, description="customers at or above this churn probability are at risk")
    churn_value_share: float = Field(
        0.2, gt=0, le=1, description="call list: at-risk customers in this top share by value")
    churn_value_basis: Literal["spend_12m", "clv"] = Field(
        "spend_12m", description="call-list value: spend_12m (trailing 12-month revenue) or clv")
    churn_call_list_size: int = Field(50, ge=1, description="at most this many customers on the call list")
