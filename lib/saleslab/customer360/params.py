"""The customer 360° page's parameters."""

from __future__ import annotations

from pydantic import Field

from ..params import AreaParams


class Params(AreaParams):
    """Thresholds of the customer360 analysis (each field's description is its help)."""

    customer_id: str = Field(
        "", description="customer shown on the 360° page; empty: the top customer by revenue in the period")
