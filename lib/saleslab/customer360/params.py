"""The customer 360° page's parameters."""

from __future__ import annotations

from pydantic import Field

from ..params import AreaParams


class Params(AreaParams):
    """Thresholds of the customer360 analysis (each field's description is its help)."""

    customer_id: str = Field(
        "", description="customer shown on the 360° page; empty: the top customer by revenue in the period")
    c360_trend_min_months: int = Field(
        3, ge=2, description="the customer's monthly trend is drawn from this many months on; fewer: one sentence")
    c360_clv_top_share: float = Field(
        0.2, gt=0, le=1, description="next action: a customer whose CLV is in this top share of customers is high value")
