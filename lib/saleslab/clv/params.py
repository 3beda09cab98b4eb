"""The customer value parameters (domain.md §6: CLV horizon 3–12 months, discount, hold-out check)."""

from __future__ import annotations

from pydantic import Field

from ..params import AreaParams


class Params(AreaParams):
    """Thresholds of the clv analysis (each field's description is its help)."""

    clv_horizon_months: int = Field(12, ge=3, le=12, description="CLV horizon in months (3-12)")
    clv_annual_discount: float = Field(0.10, ge=0, lt=1, description="yearly discount rate of CLV, applied monthly")
    clv_holdout_months: int = Field(6, ge=1, description="months before as_of held out to check the purchase model")
