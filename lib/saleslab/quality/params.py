"""The data-quality stage's parameters (domain.md §2: coverage ≥ 98 %, cleaning accuracy ≥ 99 %)."""

from __future__ import annotations

from pydantic import Field

from ..params import AreaParams


class Params(AreaParams):
    """Thresholds of the quality analysis (each field's description is its help)."""

    coverage_target: float = Field(
        0.98, ge=0, le=1, description="data coverage target: share of order lines with known customer, product, region, channel")
    accuracy_target: float = Field(
        0.99, ge=0, le=1, description="cleaning accuracy target (scored only when truth_dir is given)")
    outliers_top: int = Field(20, ge=1, description="flagged outlier lines listed for review, highest score first")
    review_rows: int = Field(
        200, ge=1, description="at most this many customer look-alike pairs and merged orders listed")
    dq_trend_min_ingests: int = Field(
        3, ge=2, description="the quality trend is drawn from this many ingests on; fewer: one sentence instead")
    truth_dir: str = Field(
        "", description="answer key folder (the demo's truth/) to score the cleaning against; empty: not scored")
