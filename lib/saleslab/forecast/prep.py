"""Pre-processing of monthly series before they are forecast (domain.md §9): gaps, zeros, runs of
zero months (a stock-out or a data gap), outliers (flagged, never deleted), short and new series,
and the STL decomposition shown by the stage.

Definitions used here:

- a **gap** is a month missing inside a series' span (no row, or y missing): it is inserted with
  y missing;
- a **zero run** is ``zero_run`` (3) or more consecutive months of zero or missing. It is a
  **data gap** (``data_gap``) when y is missing there, or when the frame's other series are mostly
  silent too in those months (at least half of the series present, this one and at least one
  other, are zero or missing: the source went quiet);
  otherwise it is a **stock-out** (``stock_out``: this series stopped while the others sold). Both
  are imputed for fitting (``y_fit``: linear between the neighbours, the value a season before
  when there is one), because the months do not show demand; a run that reaches the last month is
  kept as zeros (``ongoing``: the product may have stopped) and said;
- an **outlier** is a month whose robust remainder (y − rolling-median trend − mean seasonal
  effect of its month) lies more than ``outlier_z`` robust standard
  deviations (1.4826 × MAD) from the median remainder; it is flagged (``outlier``) and kept;
- a **short** series has fewer than ``min_seasons`` × ``season_length`` months: it is forecast with
  non-seasonal models and warned about; a **new** series starts after the frame's first month.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd

from ..errors import InsufficientData, InvalidArgument

#: Warning codes of :func:`prepare` (labels in :mod:`saleslab.forecast.labels`).
WARNINGS = ("warn_short_series", "warn_very_short_series", "warn_new_series", "warn_stock_out", "warn_data_gap",
            "warn_ongoing_zeros", "warn_outliers", "warn_gaps")


def check_long(df: pd.DataFrame) -> pd.DataFrame:
    """``df`` with columns unique_id (str), ds (month start, datetime), y (float), sorted; raises
    :class:`InvalidArgument` for a frame that is not a long frame of monthly series."""
    missing = {"unique_id", "ds", "y"} - set(df.columns)
    if missing:
        raise InvalidArgument(f"a long frame needs the columns unique_id, ds, y (missing: {', '.join(sorted(missing))})")
    out = df[["unique_id", "ds", "y"]].copy()
    out["unique_id"] = out["unique_id"].astype(str)
    out["ds"] = pd.to_datetime(out["ds"]).dt.to_period("M").dt.to_timestamp()
    out["y"] = pd.to_numeric(out["y"], errors="coerce").astype(float)
    if out.duplicated(["unique_id", "ds"]).any():
        raise InvalidArgument("a long frame has one row per unique_id and month (duplicates found)")
    if out.empty:
        raise InsufficientData("the frame has no rows", needed_for="forecasting")
    return out.sort_values(["unique_id", "ds"]).reset_index(drop=True)


def _runs(mask: np.ndarray) -> list[tuple[int, int]]:
    """(start, stop) of runs of True in ``mask`` (stop exclusive)."""
    out, i, n = [], 0, len(mask)
    while i < n:
        if mask[i]:
            j = i
            while j < n and mask[j]:
                j += 1
            out.append((i, j))
            i = j
        else:
            i += 1
    return out


def _impute(y: np.ndarray, bad: np.ndarray, season_length: int) -> np.ndarray:
    """Values for the ``bad`` months: the value a season before when known and good, else linear
    between the nearest good neighbours (the nearest good value at the ends)."""
    out = y.copy()
    good = ~bad & ~np.isnan(y)
    idx = np.arange(len(y))
    if good.sum() == 0:
        return np.zeros_like(y)
    lin = np.interp(idx, idx[good], y[good])
    for i in np.flatnonzero(bad | np.isnan(y)):
        j = i - season_length
        out[i] = y[j] if j >= 0 and good[j] else lin[i]
    return out


def robust_z(r: np.ndarray) -> np.ndarray:
    """(r − median) / (1.4826 × MAD); 0 where the MAD is 0."""
    med = np.nanmedian(r)
    mad = 1.4826 * np.nanmedian(np.abs(r - med))
    if not np.isfinite(mad) or mad <= 0:
        return np.zeros_like(r)
    return (r - med) / mad


def _remainder(y: np.ndarray, season_length: int, outlier_z: float = 3.5) -> np.ndarray:
    """A cheap remainder: y − trend (centred rolling median over a season + 1 months) − seasonal
    (mean of the detrended values of the same position in the season, when the series has two
    seasons). Two passes: months far out in the first pass do not enter the second pass's
    seasonal means (an outlier would otherwise push the same month of the other years away)."""
    s = pd.Series(y)
    w = max(season_length + 1, 5) if len(y) >= 2 * season_length else 5
    trend = s.rolling(w, center=True, min_periods=1).median()
    d = (s - trend).to_numpy()
    if not (season_length > 1 and len(y) >= 2 * season_length):
        return d
    pos = np.arange(len(y)) % season_length
    first = d - pd.Series(d).groupby(pos).transform("mean").to_numpy()
    far = np.abs(robust_z(first)) > outlier_z
    kept = pd.Series(np.where(far, np.nan, d))
    seas = kept.groupby(pos).transform("mean").to_numpy()
    med = pd.Series(d).groupby(pos).transform("median").to_numpy()
    return d - np.where(np.isnan(seas), med, seas)


def _frame_silent(zeros: pd.Series, present: pd.Series, months) -> float:
    """Mean share, over ``months``, of the frame's series present that are 0 / missing (the series
    itself included), counted only in months where at least one *other* series is silent too."""
    z = zeros.reindex(months).fillna(0).to_numpy()
    p = present.reindex(months).fillna(0).to_numpy()
    share = np.where((z >= 2) & (p > 0), z / np.where(p > 0, p, 1), 0.0)
    return float(share.mean())


def prepare(df: pd.DataFrame, season_length: int = 12, zero_run: int = 3, outlier_z: float = 3.5,
            min_seasons: int = 2, min_length: int = 4) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Clean a long frame for forecasting; nothing is deleted.

    Input: unique_id, ds (month start), y (other columns ignored).
    Returns ``(series, diagnostics)``:

    - series: unique_id, ds, y (as given, missing months inserted as NaN), y_fit (what the models
      fit: gaps and interior zero runs imputed), outlier (bool), zero_run ('' / stock_out /
      data_gap / ongoing);
    - diagnostics, one row per series: unique_id, n_obs, first_ds, last_ds, new_series,
      short_series, very_short (fewer than ``min_length`` months: mean forecast only), gaps,
      zero_runs, zero_run_kind, zero_run_months, outliers, outlier_months, nonpositive, warnings
      (comma-separated codes of :data:`WARNINGS`).
    """
    d = check_long(df)
    first_all = d["ds"].min()
    # per month: how many series are present and how many of them are 0 / missing (the source went quiet
    # when at least half of the series, another one among them, are silent together)
    z = d.assign(z=(d["y"].fillna(0) == 0)).groupby("ds")["z"]
    zeros, present = z.sum(), z.size()
    parts, diags = [], []
    for uid, g in d.groupby("unique_id", sort=True):
        months = pd.date_range(g["ds"].min(), g["ds"].max(), freq="MS")
        g = g.set_index("ds").reindex(months)
        y = g["y"].to_numpy(dtype=float)
        n = len(y)
        gaps = int(np.isnan(y).sum())
        zero = np.isnan(y) | (y == 0)
        kind = np.array([""] * n, dtype=object)
        bad = np.isnan(y).copy()
        runs_txt, kinds = [], []
        for a, b in _runs(zero):
            if b - a < zero_run:
                continue
            if b == n:
                k = "ongoing" if not np.isnan(y[a:b]).all() else "data_gap"
            elif np.isnan(y[a:b]).any() or _frame_silent(zeros, present, months[a:b]) >= 0.5:
                k = "data_gap"
            else:
                k = "stock_out"
            kind[a:b] = k
            if k != "ongoing":
                bad[a:b] = True
            kinds.append(k)
            runs_txt.append(f"{months[a]:%Y-%m}..{months[b - 1]:%Y-%m}")
        y_fit = _impute(y, bad, season_length) if bad.any() else y.copy()
        z = robust_z(_remainder(y_fit, season_length, outlier_z)) if n >= 5 else np.zeros(n)
        out = (np.abs(z) > outlier_z) & (kind == "")  # a zero run is explained already
        short = n < min_seasons * season_length
        very_short = n < min_length
        warn = []
        if very_short:
            warn.append("warn_very_short_series")
        elif short:
            warn.append("warn_short_series")
        if months[0] > first_all:
            warn.append("warn_new_series")
        warn += [f"warn_{k}" if k != "ongoing" else "warn_ongoing_zeros" for k in dict.fromkeys(kinds)]
        if out.any():
            warn.append("warn_outliers")
        if gaps:
            warn.append("warn_gaps")
        parts.append(pd.DataFrame({"unique_id": uid, "ds": months, "y": y, "y_fit": y_fit, "outlier": out,
                                   "zero_run": kind}))
        diags.append({
            "unique_id": uid, "n_obs": n, "first_ds": months[0], "last_ds": months[-1],
            "new_series": bool(months[0] > first_all), "short_series": bool(short), "very_short": bool(very_short),
            "gaps": gaps, "zero_runs": len(kinds), "zero_run_kind": ",".join(dict.fromkeys(kinds)),
            "zero_run_months": ", ".join(runs_txt), "outliers": int(out.sum()),
            "outlier_months": ", ".join(f"{m:%Y-%m}" for m in months[out]),
            "nonpositive": bool(np.nanmin(y_fit) <= 0), "warnings": ",".join(warn)})
    diag = pd.DataFrame(diags)
    for w in ("warn_short_series", "warn_very_short_series"):
        for uid in diag.loc[diag["warnings"].str.contains(w), "unique_id"]:
            warnings.warn(f"series {uid}: {'fewer than ' + str(min_length) + ' months: mean forecast' if 'very' in w else f'fewer than {min_seasons} seasons: non-seasonal models'}",
                          stacklevel=2)
    return pd.concat(parts, ignore_index=True), diag


def decompose(series: pd.DataFrame, unique_id: str = "total", season_length: int = 12) -> pd.DataFrame:
    """STL decomposition (robust, locally constant seasonal smoother; statsmodels) of one series of :func:`prepare` (its ``y_fit``), or
    of the stage's history table (``month`` for ``ds``).

    Returns: month (month start), observed, trend_component, seasonal_component, remainder, outlier,
    month_of_year (1..12). Raises
    :class:`InsufficientData` below two seasons.
    """
    from statsmodels.tsa.seasonal import STL

    g = series[series["unique_id"] == unique_id]
    g = g.rename(columns={"month": "ds"}).sort_values("ds")
    if len(g) < 2 * season_length + 1:
        raise InsufficientData(f"series {unique_id} has {len(g)} months; the decomposition needs {2 * season_length + 1}",
                               needed_for="seasonal decomposition")
    y = g["y_fit"].to_numpy(dtype=float)
    # a locally constant seasonal smoother over a wide window: with three or four cycles a linear one
    # passes through every point of a month's subseries and leaves no remainder at the ends
    win = max(7, 2 * (len(y) // season_length) + 1) | 1
    r = STL(y, period=season_length, seasonal=win, seasonal_deg=0, robust=True).fit()
    return pd.DataFrame({"month": g["ds"].to_numpy(), "observed": y, "trend_component": np.asarray(r.trend),
                         "seasonal_component": np.asarray(r.seasonal), "remainder": np.asarray(r.resid),
                         "outlier": g["outlier"].to_numpy(), "month_of_year": pd.DatetimeIndex(g["ds"]).month})


def seasonal_profile(dec: pd.DataFrame) -> pd.DataFrame:
    """Mean STL seasonal component per calendar month of :func:`decompose`, and as a share of the
    mean trend (``seasonal_index`` = seasonal / mean trend). Columns: month_of_year,
    seasonal_component, seasonal_index."""
    prof = dec.groupby("month_of_year", as_index=False)["seasonal_component"].mean()
    prof["seasonal_index"] = prof["seasonal_component"] / float(np.mean(dec["trend_component"]))
    return prof
