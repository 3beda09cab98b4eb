"""The figures the forecasting stage's narrative states (computed here, worded in :mod:`story`).

- next period = the first ``months`` forecast months (3: the next quarter) of the total;
  value = Σ coherent forecasts; its 80 % range = Σ of the monthly 80 % bounds (errors taken as
  moving together: a conservative range);
- last year = Σ actual of the same calendar months one year earlier (None when the history
  does not reach back); growth = value / last year − 1;
- driver = the member of ``level`` (default region) whose forecast minus its own last-year
  figure is largest (the biggest contribution to the growth, 元 or units).
"""

from __future__ import annotations

import numpy as np
import pandas as pd


def outlook(history: pd.DataFrame, forecast: pd.DataFrame, months: int = 3, level: str = "region") -> dict:
    """Figures of the narrative from the stage's ``history`` and ``forecast`` tables
    (:func:`saleslab.forecast.hierarchy.hierarchy_forecast`).

    Returns: months, value, lo_80, hi_80, last_year, growth, driver, driver_delta, level, first, last.
    """
    fc = forecast.sort_values("month")
    horizon = sorted(fc["month"].unique())[:months]
    tot = fc[(fc["unique_id"] == "total") & fc["month"].isin(horizon)]
    ly_months = [pd.Timestamp(m) - pd.DateOffset(years=1) for m in horizon]
    hist = history[history["month"].isin(ly_months)]

    def last_year(uid):
        h = hist[hist["unique_id"] == uid]
        return float(h["y"].sum()) if len(h) == len(ly_months) else None

    ly = last_year("total")
    value = round(float(tot["forecast"].sum()), 2)
    out = {"months": len(horizon), "value": value, "lo_80": round(float(tot["lo_80"].sum()), 2),
           "hi_80": round(float(tot["hi_80"].sum()), 2), "last_year": ly,
           "growth": (value / ly - 1) if ly else None, "level": level, "driver": None, "driver_delta": None,
           "first": pd.Timestamp(horizon[0]), "last": pd.Timestamp(horizon[-1])}
    deltas = {}
    for uid, g in fc[(fc["level"] == level) & fc["month"].isin(horizon)].groupby("unique_id"):
        b = last_year(uid)
        if b is not None:
            deltas[uid] = float(g["forecast"].sum()) - b
    if deltas:
        up = max(deltas, key=lambda k: (deltas[k], k)) if (out["growth"] or 0) >= 0 else min(deltas, key=lambda k: (deltas[k], k))
        out["driver"] = up.split("/", 1)[1]
        out["driver_delta"] = round(deltas[up], 2)
    return out


def season_extremes(profile: pd.DataFrame, peaks: int = 2) -> dict:
    """The calendar months with the lowest seasonal effect (the lowest two) and the highest
    ``peaks`` of :func:`saleslab.forecast.prep.seasonal_profile`: {"low": [m..], "peaks": [m..]}."""
    p = profile.sort_values(["seasonal_component", "month_of_year"])
    return {"low": [int(m) for m in p["month_of_year"].head(2)],
            "peaks": [int(m) for m in p["month_of_year"].tail(peaks)[::-1]]}


def backtest_summary(backtest: pd.DataFrame, total_id: str = "total") -> dict:
    """Total's chosen model and MASE against seasonal naive, how many series beat seasonal naive,
    and the achieved coverage over every series' held-out months (weighted by months)."""
    t = backtest[backtest["unique_id"] == total_id].iloc[0]
    w = backtest["test_months"].to_numpy(dtype=float)
    return {"model": t["model"], "mase": float(t["mase"]), "naive": float(t["mase_seasonal_naive"]),
            "beat": int((backtest["relative_mase"] < 1).sum()), "series": int(len(backtest)),
            "coverage_80": float(np.average(backtest["coverage_80"], weights=w)),
            "coverage_95": float(np.average(backtest["coverage_95"], weights=w))}
