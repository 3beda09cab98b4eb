"""The cross-sell parameters (domain.md §6: support, confidence, lift)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from ..params import AreaParams


class Params(AreaParams):
    """Thresholds of the crosssell analysis (each field's description is its help)."""

    crosssell_item: Literal["product_id", "category"] = Field(
        "product_id", description="cross-sell items: product_id or category")
    crosssell_basket: Literal["order", "customer"] = Field(
        "order", description="cross-sell basket: order or customer")
    crosssell_min_support: float = Field(
        0.001, ge=0, le=1, description="rules need at least this share of baskets holding both items")
    crosssell_min_confidence: float = Field(
        0.05, ge=0, le=1, description="rules need at least this share of antecedent baskets holding the consequent")
    crosssell_min_lift: float = Field(1.0, ge=0, description="rules need at least this lift")
    crosssell_min_pair_baskets: int = Field(
        5, ge=1, description="rules need at least this many baskets holding both items")
    crosssell_top_n: int = Field(5, ge=1, description="cross-sell suggestions shown for the customer")
