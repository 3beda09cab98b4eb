"""The lifecycle parameters (domain.md §6: new, mature, at risk, churned; repeat rate)."""

from __future__ import annotations

from pydantic import Field, model_validator

from ..params import AreaParams


class Params(AreaParams):
    """Thresholds of the lifecycle analysis (each field's description is its help)."""

    lifecycle_new_days: int = Field(
        90, ge=1, description="new customer: first order fewer than this many days before as_of")
    lifecycle_at_risk_days: int = Field(
        180, ge=1, description="at risk: no order for this many days (or falling frequency)")
    lifecycle_churned_days: int = Field(365, ge=1, description="churned: no order for this many days")
    lifecycle_trend_days: int = Field(
        180, ge=1, description="falling frequency compares the orders of the last N days with the N days before")
    lifecycle_falling_ratio: float = Field(
        0.5, gt=0, le=1, description="falling frequency: recent orders at most this share of the earlier ones")
    lifecycle_repeat_days: int = Field(
        90, ge=1, description="new-customer repeat rate: a second purchase within this many days")

    @model_validator(mode="after")
    def _ordered(self):
        if self.lifecycle_at_risk_days > self.lifecycle_churned_days:
            raise ValueError(f"lifecycle_at_risk_days ({self.lifecycle_at_risk_days}) must not exceed "
                             f"lifecycle_churned_days ({self.lifecycle_churned_days})")
        return self
