"""The team stage's parameters (domain.md §8: reward tier from 120 %, coaching list up to 60 % of target)."""

from __future__ import annotations

from pydantic import Field, model_validator

from ..params import AreaParams


class Params(AreaParams):
    """Thresholds of the team analysis (each field's description is its help)."""

    reward_min: float = Field(
        1.2, gt=0, description="reps at or above this achievement rate (actual / target) enter the reward tier")
    coaching_max: float = Field(
        0.6, ge=0, description="reps at or below this achievement rate go on the coaching list")

    @model_validator(mode="after")
    def _consistent(self):
        if self.coaching_max >= self.reward_min:
            raise ValueError(f"coaching_max ({self.coaching_max:g}) must be below reward_min ({self.reward_min:g})")
        return self
