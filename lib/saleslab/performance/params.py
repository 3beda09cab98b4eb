"""The performance stage's parameters (domain.md §3: anomalies, biggest movements)."""

from __future__ import annotations

from pydantic import Field

from ..params import AreaParams


class Params(AreaParams):
    """Thresholds of the performance analysis (each field's description is its help)."""

    anomaly_threshold: float = Field(
        0.2, gt=0, description="flag a month / segment whose revenue deviates from its expected level by more than this (0.2: ±20 %)")
    top_movements: int = Field(3, ge=1, description="number of biggest movements (segment changes) in the headline")
