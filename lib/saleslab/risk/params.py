"""The risk stage's parameters (domain.md §10: bad-debt rate ≤ 2 %, inventory turnover alert at a 3 %
deviation; §5: distributors collecting < 60 % are flagged). Every threshold of the stage is here."""

from __future__ import annotations

from pydantic import Field, field_validator, model_validator

from ..errors import InvalidArgument
from ..params import AreaParams


def parse_ageing_edges(edges: str) -> tuple[int, ...]:
    """Ageing bucket upper edges in days past due (``"30,60,90"``): strictly increasing whole days ≥ 0."""
    parts = [e.strip() for e in str(edges).replace("，", ",").split(",") if e.strip()]
    try:
        out = tuple(int(p) for p in parts)
    except ValueError:
        raise InvalidArgument(f"ageing edges must be whole days, got {edges!r}") from None
    if not out or out[0] < 0 or any(b <= a for a, b in zip(out, out[1:])):
        raise InvalidArgument(f"ageing edges must be strictly increasing whole days ≥ 0, got {edges!r}")
    return out


class Params(AreaParams):
    """Thresholds of the risk analysis (each field's description is its help)."""

    # receivables
    risk_ageing_edges: str = Field(
        "30,60,90", description="ageing buckets' upper edges in days past due (0-30, 31-60, 61-90, >90)")
    risk_open_item_min: float = Field(
        1.0, ge=0, description="an invoice is open when at least this much (元) of it is unpaid; smaller remnants are ignored")
    risk_bad_debt_days: int = Field(
        180, ge=1, description="an invoice more than this many days past due and still unpaid is bad debt")
    risk_bad_debt_target: float = Field(
        0.02, ge=0, le=1, description="bad-debt rate target (bad debt / invoiced amount of the mature invoices)")
    risk_distributor_collection_min: float = Field(
        0.6, ge=0, le=1, description="a distributor collecting less than this share of its invoices raises a high alert")
    risk_distributor_collection_watch: float = Field(
        0.8, ge=0, le=1, description="a distributor collecting less than this share (but not below the minimum) raises a medium alert")
    # credit rating: points per factor, grade from the total
    risk_unpaid_share_low: float = Field(
        0.05, ge=0, le=1, description="credit: unpaid share of invoiced above this scores 1 point")
    risk_unpaid_share_high: float = Field(
        0.2, ge=0, le=1, description="credit: unpaid share of invoiced above this scores 2 points")
    risk_late_share_low: float = Field(
        0.5, ge=0, le=1, description="credit: share of invoiced not paid by its due date above this scores 1 point")
    risk_late_share_high: float = Field(
        0.75, ge=0, le=1, description="credit: share of invoiced not paid by its due date above this scores 2 points")
    risk_overdue_days_low: int = Field(
        30, ge=0, description="credit: days overdue (outstanding-weighted, open invoices) above this scores 1 point")
    risk_overdue_days_high: int = Field(
        90, ge=0, description="credit: days overdue (outstanding-weighted, open invoices) above this scores 2 points")
    risk_exposure_low: float = Field(
        50000.0, ge=0, description="credit: exposure (outstanding past due, 元) above this scores 1 point")
    risk_exposure_high: float = Field(
        300000.0, ge=0, description="credit: exposure (outstanding past due, 元) above this scores 2 points")
    risk_grade_a_max: int = Field(1, ge=0, description="credit grade A (low risk) up to this many points")
    risk_grade_b_max: int = Field(3, ge=0, description="credit grade B up to this many points")
    risk_grade_c_max: int = Field(5, ge=0, description="credit grade C up to this many points; more is grade D (high risk)")
    # inventory turnover watch
    risk_turnover_window_days: int = Field(
        30, ge=1, description="turnover at an observation: cost of goods sold over this many days to it / average stock in them")
    risk_turnover_baseline_days: int = Field(
        90, ge=1, description="expected turnover: mean turnover of the observations in this many days before")
    risk_turnover_baseline_min: int = Field(
        2, ge=1, description="observations the expected turnover needs at least (fewer: not judged)")
    risk_turnover_deviation_max: float = Field(
        0.03, gt=0, description="turnover deviating from its expected level by more than this share raises an alert")
    risk_turnover_deviation_high: float = Field(
        0.1, gt=0, description="turnover deviating by more than this share raises a high (not medium) alert")
    # concentration
    risk_top_n: int = Field(10, ge=1, description="concentration: share of revenue of the top this-many customers")
    risk_top_share_max: float = Field(
        0.5, ge=0, le=1, description="concentration: top-N customers' share of a channel above this raises a medium alert")
    risk_hhi_max: float = Field(
        0.15, ge=0, le=1, description="concentration: HHI (0-1) above this raises a medium alert")
    risk_hhi_high: float = Field(
        0.25, ge=0, le=1, description="concentration: HHI (0-1) above this raises a high alert")

    @field_validator("risk_ageing_edges")
    @classmethod
    def _edges(cls, v):
        parse_ageing_edges(v)
        return v

    @model_validator(mode="after")
    def _consistent(self):
        pairs = [("risk_unpaid_share_low", "risk_unpaid_share_high"), ("risk_late_share_low", "risk_late_share_high"),
                 ("risk_overdue_days_low", "risk_overdue_days_high"), ("risk_exposure_low", "risk_exposure_high"),
                 ("risk_grade_a_max", "risk_grade_b_max"), ("risk_grade_b_max", "risk_grade_c_max"),
                 ("risk_distributor_collection_min", "risk_distributor_collection_watch"),
                 ("risk_turnover_deviation_max", "risk_turnover_deviation_high"), ("risk_hhi_max", "risk_hhi_high")]
        for lo, hi in pairs:
            if getattr(self, lo) > getattr(self, hi):
                raise ValueError(f"{lo} ({getattr(self, lo):g}) must not be above {hi} ({getattr(self, hi):g})")
        return self

    @property
    def ageing_edges(self) -> tuple[int, ...]:
        return parse_ageing_edges(self.risk_ageing_edges)
