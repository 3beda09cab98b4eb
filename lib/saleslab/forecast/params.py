"""The forecasting stage's parameters (domain.md §9: 3–6 months ahead, back-tested, with intervals)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from ..params import AreaParams


class Params(AreaParams):
    """Thresholds of the forecasting analysis (each field's description is its help)."""

    forecast_horizon: int = Field(6, ge=1, le=12, description="months forecast ahead (domain.md: 3-6)")
    forecast_windows: int = Field(3, ge=1, le=12, description="rolling-origin back-test windows used to choose a model per series")
    forecast_step: int = Field(1, ge=1, le=12, description="months between two back-test origins")
    forecast_season_length: int = Field(12, ge=1, le=52, description="periods in one season (12 for monthly data)")
    forecast_measure: Literal["revenue", "volume"] = Field("revenue", description="what is forecast: revenue (元) or volume (units)")
    forecast_ensemble_size: int = Field(3, ge=1, le=5, description="an ensemble averages the best this many models; kept when it back-tests better")
    forecast_outlier_z: float = Field(3.5, gt=0, description="a month is flagged an outlier when its remainder (y − trend − season) is this many robust SDs from the median (flagged, not deleted)")
    forecast_zero_run: int = Field(3, ge=2, description="this many months of zero in a row are a stock-out or a data gap (detected and said which)")
    forecast_min_seasons: int = Field(2, ge=1, description="a series with fewer seasons than this falls back to non-seasonal models (with a warning)")
    forecast_mlp_lags: int = Field(12, ge=2, le=36, description="lags fed to the neural-network challenger")
