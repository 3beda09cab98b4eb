"""The products stage's parameters (domain.md §4: stars, slow movers, BCG, ABC)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from ..params import AreaParams


class Params(AreaParams):
    """Thresholds of the products analysis (each field's description is its help)."""

    star_volume_quantile: float = Field(
        0.8, ge=0, le=1, description="star product: volume at or above this quantile of products that sold")
    star_margin_quantile: float = Field(
        0.8, ge=0, le=1, description="star product: gross margin at or above this quantile")
    slow_volume_quantile: float = Field(
        0.25, ge=0, le=1, description="slow mover: volume at or below this quantile of products in stock")
    slow_stock_quantile: float = Field(
        0.5, ge=0, le=1, description="slow mover: average stock at or above this quantile of products in stock")
    bcg_share_basis: Literal["relative", "category"] = Field(
        "relative", description="BCG share: relative (vs largest product of the category) or category (share of category revenue)")
    bcg_share_threshold: float = Field(0.5, gt=0, description="BCG: high market share from this value")
    bcg_growth_threshold: float = Field(0.1, description="BCG: high growth from this year-over-year revenue growth")
    abc_a_share: float = Field(0.8, gt=0, lt=1, description="ABC class A: products making the first 80 % of revenue")
    abc_b_share: float = Field(0.15, gt=0, lt=1, description="ABC class B: products making the next 15 % of revenue")
    product_top_n: int = Field(10, ge=1, description="products shown in the top and bottom bars")
    inventory_days_cap: float = Field(
        3650, gt=0, description="days of inventory beyond this (at the period's sales pace) are not meaningful: "
                                "shown empty with the reason")
    sell_through_months: int = Field(
        1, ge=0, description="sell-through (动销率) over the last this many months of the period (0: the whole "
                             "period)")

    @model_validator(mode="after")
    def _consistent(self):
        if self.abc_a_share + self.abc_b_share >= 1:
            raise ValueError(f"abc_a_share + abc_b_share must be below 1 so that class C exists "
                             f"(they add up to {self.abc_a_share + self.abc_b_share:g})")
        return self
