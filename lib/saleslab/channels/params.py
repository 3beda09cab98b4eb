"""The channels stage's parameters (domain.md §5: ROI < 1.2 flags a channel, collection < 60 % a distributor)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from ..params import AreaParams


class Params(AreaParams):
    """Thresholds of the channel analysis."""

    roi_min: float = Field(1.2, gt=0, description="channels below this ROI (revenue / channel cost) are flagged for review")
    collection_min: float = Field(0.6, ge=0, le=1, description="distributors collecting less than this share of "
                                  "invoices due are flagged for closure review")
    leads_channel: Literal["online", "retail", "direct", "distribution"] = Field(
        "direct", description="channel whose conversion is measured on CRM leads (won leads / leads)")
