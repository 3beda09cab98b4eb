"""Rolling-origin back-test, automatic model choice and calibrated intervals (domain.md §9).

Definitions used here (long frames ``unique_id, ds, y``, monthly, month-start ``ds``):

- **back-test**: ``n_windows`` origins ``step`` months apart, the last one h months before a
  series' end; at each origin every model forecasts the next h months from the data before it;
- per series and model over all held-out months: MAE = mean |e|, RMSE = √mean e², MAPE = mean
  |e| / |y| over months with y ≠ 0, bias = mean(forecast − y), MASE = MAE / scale where scale =
  the in-sample MAE of the seasonal naive forecast (y_t − y_{t−m}) over the months before the
  first origin (lag 1 when the series has fewer than m + 2 such months);
- **choice**: per series the model (or the mean of its best ``ensemble_size`` models, when that
  back-tests better) with the lowest MASE — never the in-sample fit;
- **intervals** (split conformal on the back-test): the chosen model's errors divided by the
  series' scale are pooled over the series of the frame per horizon step (over all steps when
  fewer than 20 per step); the interval at level L is forecast ± q_L × scale, q_L the
  ⌈(n + 1)·L⌉-th smallest |e| / scale (the largest when that rank exceeds n), never narrower than
  an earlier step's; the lower bound is cut at 0 for a series that was never negative;
- **achieved coverage**: the share of held-out months inside the interval when the quantiles
  are computed from the other windows only (cross-fitted, so the coverage is not the
  calibration's own);
- **short series** (fewer than ``min_seasons`` seasons) use the non-seasonal variants; a series
  too short for its back-test gets the mean of its months (``model`` = ``mean_fallback``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ..errors import InsufficientData
from . import models as M
from .prep import check_long, prepare

LEVELS = (80, 95)
BASELINE = "seasonal_naive"


@dataclass
class Result:
    """What :func:`run` found: the forecast (``forecast``), the back-test metrics per series and
    model (``metrics``), the chosen model per series (``choice``), the back-test forecasts
    (``cv``), the pre-processing diagnostics and cleaned series, the conformal quantiles."""

    forecast: pd.DataFrame
    metrics: pd.DataFrame
    choice: pd.DataFrame
    cv: pd.DataFrame
    diagnostics: pd.DataFrame
    series: pd.DataFrame
    quantiles: dict = field(default_factory=dict)
    scales: dict = field(default_factory=dict)


def _need(h: int, n_windows: int, step: int) -> int:
    return h + (n_windows - 1) * step


def mase_scale(y: np.ndarray, season_length: int) -> float:
    """In-sample MAE of the seasonal naive (lag m; lag 1 when fewer than m + 2 months); when that
    is 0 (an exactly repeating series), 10 % of the mean |y| (1 for an all-zero series)."""
    y = np.asarray(y, dtype=float)
    lag = season_length if len(y) >= season_length + 2 else 1
    d = np.abs(y[lag:] - y[:-lag]) if len(y) > lag else np.array([])
    s = float(np.nanmean(d)) if len(d) else float("nan")
    if not np.isfinite(s) or s <= 0:
        s = float(np.nanmean(np.abs(y))) * 0.1 if len(y) and np.nanmean(np.abs(y)) > 0 else 1.0
    return s


def _horizon_step(cv: pd.DataFrame) -> pd.Series:
    return cv.groupby(["unique_id", "cutoff"])["ds"].rank(method="first").astype(int)


def _conformal_q(a: np.ndarray, level: float) -> float:
    a = np.sort(np.abs(a[np.isfinite(a)]))
    n = len(a)
    if n == 0:
        return float("nan")
    k = math.ceil((n + 1) * level / 100.0)
    return float(a[min(k, n) - 1])


def quantiles(scaled: pd.DataFrame, h: int, levels=LEVELS, min_per_step: int = 20) -> dict:
    """{level: array (h) of q} from scaled errors (columns step, e); monotone in the step."""
    out = {}
    for lv in levels:
        per = scaled.groupby("step")["e"].apply(lambda s: s.to_numpy())
        allq = _conformal_q(scaled["e"].to_numpy(), lv)
        q = []
        for k in range(1, h + 1):
            a = per.get(k, np.array([]))
            q.append(_conformal_q(a, lv) if len(a) >= min_per_step else allq)
        q = np.maximum.accumulate(np.nan_to_num(np.asarray(q, dtype=float), nan=allq))
        out[lv] = q
    return out


def _scaled_errors(cv: pd.DataFrame, col: str, scales: dict) -> pd.DataFrame:
    d = cv[["unique_id", "cutoff", "step", "y", col]].dropna()
    return pd.DataFrame({"unique_id": d["unique_id"], "cutoff": d["cutoff"], "step": d["step"],
                         "e": (d["y"] - d[col]) / d["unique_id"].map(scales)})


def coverage(cv: pd.DataFrame, col: str, scales: dict, h: int, levels=LEVELS) -> pd.DataFrame:
    """Cross-fitted coverage per series of model ``col``'s conformal intervals: unique_id,
    coverage_80, coverage_95 (quantiles from the other windows; from all windows when there is one)."""
    se = _scaled_errors(cv, col, scales)
    cuts = sorted(se["cutoff"].unique())
    hits = []
    for c in cuts:
        test = se[se["cutoff"] == c]
        train = se[se["cutoff"] != c] if len(cuts) > 1 else se
        q = quantiles(train, h, levels)
        row = test[["unique_id"]].copy()
        for lv in levels:
            row[f"coverage_{lv}"] = (np.abs(test["e"].to_numpy()) <= q[lv][test["step"].to_numpy() - 1]).astype(float)
        hits.append(row)
    if not hits:
        return pd.DataFrame(columns=["unique_id"] + [f"coverage_{lv}" for lv in levels])
    return pd.concat(hits).groupby("unique_id", as_index=False).mean()


def _metrics(cv: pd.DataFrame, cols, scales: dict) -> pd.DataFrame:
    rows = []
    for col in cols:
        d = cv[["unique_id", "y", col]].dropna()
        if d.empty:
            continue
        e = d[col] - d["y"]
        g = pd.DataFrame({"unique_id": d["unique_id"], "ae": e.abs(), "se": e ** 2, "e": e,
                          "ape": (e.abs() / d["y"].abs()).where(d["y"] != 0)})
        a = g.groupby("unique_id").agg(mae=("ae", "mean"), mse=("se", "mean"), mape=("ape", "mean"), bias=("e", "mean"),
                                       n=("e", "size")).reset_index()
        a["rmse"] = np.sqrt(a.pop("mse"))
        a["mase"] = a["mae"] / a["unique_id"].map(scales)
        a["model"] = col
        rows.append(a)
    return pd.concat(rows, ignore_index=True) if rows else pd.DataFrame(
        columns=["unique_id", "mae", "mape", "bias", "n", "rmse", "mase", "model"])


def _groups(diag: pd.DataFrame, h: int, n_windows: int, step: int, season_length: int):
    """Series ids by treatment: seasonal, short (non-seasonal), fallback (too short to back-test)."""
    need = _need(h, n_windows, step)
    seasonal, short, fallback = [], [], []
    for r in diag.itertuples():
        train0 = r.n_obs - need
        if r.very_short or train0 < 4:
            fallback.append(r.unique_id)
        elif r.short_series or train0 < season_length + 2:
            short.append(r.unique_id)
        else:
            seasonal.append(r.unique_id)
    return seasonal, short, fallback


def _fit_frame(series: pd.DataFrame, ids) -> pd.DataFrame:
    d = series[series["unique_id"].isin(ids)]
    return d[["unique_id", "ds"]].assign(y=d["y_fit"].to_numpy())


def _cv_all(fit: pd.DataFrame, seasonal, short, h, n_windows, step, season_length, lags, models, n_jobs):
    """Back-test forecasts (cv) and final forecasts (long: unique_id, ds, component, value) of every model."""
    stats = [m for m in models if m in M.STATS_MODELS]
    parts, finals = [], []
    for ids, is_seasonal in ((seasonal, True), (short, False)):
        if ids:
            cv, fin = M.stats_run(fit[fit["unique_id"].isin(ids)], stats, h, n_windows, step, season_length,
                                  is_seasonal, n_jobs)
            parts.append(cv)
            finals.append(fin.melt(id_vars=["unique_id", "ds"], var_name="component", value_name="value"))
    cv = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=["unique_id", "ds", "cutoff", "y"])
    if "mlp" in models and (seasonal or short):
        net = M.mlp_cv(fit[fit["unique_id"].isin(seasonal + short)], h, n_windows, step, lags)
        if len(net):
            cv = cv.merge(net, on=["unique_id", "ds", "cutoff"], how="left")
    fin = pd.concat(finals, ignore_index=True) if finals else pd.DataFrame(columns=["unique_id", "ds", "component", "value"])
    return cv, fin


def backtest(df: pd.DataFrame, h: int, n_windows: int | None = None, season_length: int = 12, step: int | None = None,
             models=M.ALL_MODELS, lags: int = 12, n_jobs: int = 1, min_seasons: int = 2, ensemble_size: int = 3,
             levels=LEVELS) -> pd.DataFrame:
    """Per series and model: MAE, RMSE, MAPE, MASE, bias and the 80 % / 95 % conformal coverage
    over ``n_windows`` rolling origins (see the module's definitions); the ensembles of the best
    2.. ``ensemble_size`` models are rows too (``model`` = ``ensemble(a+b)``).

    Input: unique_id, ds (month start), y. Returns: unique_id, model, n (held-out months), mae,
    rmse, mape, mase, bias, coverage_80, coverage_95, chosen (the model :func:`auto_forecast`
    uses for the series), relative_mase (mase / the seasonal naive's).
    """
    return run(df, h, season_length, levels, n_windows=n_windows, step=step, models=models, lags=lags, n_jobs=n_jobs,
               min_seasons=min_seasons, ensemble_size=ensemble_size, final=False).metrics


def _ensembles(cv: pd.DataFrame, met: pd.DataFrame, k_max: int) -> tuple[pd.DataFrame, pd.DataFrame, dict]:
    """Add per series the mean of its best 2..k_max models (by MASE) as column ``ensemble`` variants."""
    comps: dict[tuple[str, str], list[str]] = {}
    extra = []
    base = met[~met["model"].str.startswith("ensemble")]
    for uid, g in base.groupby("unique_id"):
        ranked = list(g.sort_values(["mase", "model"])["model"])
        for k in range(2, min(k_max, len(ranked)) + 1):
            names = sorted(ranked[:k])
            comps[(uid, f"ensemble({'+'.join(names)})")] = names
    if not comps:
        return cv, met, comps
    cv = cv.copy()
    for (uid, name), names in comps.items():
        m = cv["unique_id"] == uid
        if name not in cv.columns:
            cv[name] = np.nan
        cv.loc[m, name] = cv.loc[m, names].mean(axis=1, skipna=False)
        extra.append(name)
    return cv, met, comps


def default_windows(lengths, h: int, season_length: int, n_windows: int | None, step: int | None) -> tuple[int, int]:
    """The back-test's windows and step when not given: 4 windows h months apart when the median
    series leaves three seasons before the first origin (the back-test then spans 4·h months,
    not h + 2), else 3 windows one month apart."""
    if n_windows is not None and step is not None:
        return int(n_windows), int(step)
    med = float(np.median(np.asarray(lengths, dtype=float))) if len(lengths) else 0.0
    if med - 4 * h >= 3 * season_length:
        return (n_windows or 4), (step or h)
    return (n_windows or 3), (step or 1)


def run(df: pd.DataFrame, h: int, season_length: int = 12, level=LEVELS, n_windows: int | None = 3,
        step: int | None = 1,
        models=M.ALL_MODELS, lags: int = 12, n_jobs: int = 1, min_seasons: int = 2, ensemble_size: int = 3,
        zero_run: int = 3, outlier_z: float = 3.5, final: bool = True) -> Result:
    """Prepare, back-test, choose and (``final``) forecast every series of ``df``: the engine
    behind :func:`auto_forecast` and :func:`backtest` (see the module's definitions)."""
    levels = tuple(int(x) for x in level)
    series, diag = prepare(check_long(df), season_length, zero_run, outlier_z, min_seasons)
    n_windows, step = default_windows(diag["n_obs"], h, season_length, n_windows, step)
    models = tuple(models)
    if BASELINE not in models:
        models = (BASELINE,) + models
    seasonal, short, fallback = _groups(diag, h, n_windows, step, season_length)
    fit = _fit_frame(series, seasonal + short + fallback)
    need = _need(h, n_windows, step)
    scales = {}
    for uid, g in fit.groupby("unique_id"):
        y = g["y"].to_numpy(dtype=float)
        scales[uid] = mase_scale(y[: max(len(y) - need, 2)], season_length)
    cv, stats_final = _cv_all(fit, seasonal, short, h, n_windows, step, season_length, lags, models, n_jobs)
    if len(cv):
        cv["step"] = _horizon_step(cv)
    cols = [c for c in cv.columns if c in M.ALL_MODELS]
    met = _metrics(cv, cols, scales)
    comps: dict = {}
    if ensemble_size >= 2 and len(met):
        cv, met, comps = _ensembles(cv, met, ensemble_size)
        ens_cols = sorted({name for (_, name) in comps})
        met_e = []
        for name in ens_cols:
            uids = [u for (u, n) in comps if n == name]
            met_e.append(_metrics(cv[cv["unique_id"].isin(uids)], [name], scales))
        if met_e:
            met = pd.concat([met] + met_e, ignore_index=True)
    # choice: lowest MASE (ties: the simpler name first)
    choice_rows = []
    for uid in seasonal + short:
        g = met[met["unique_id"] == uid].dropna(subset=["mase"])
        if g.empty:
            choice_rows.append({"unique_id": uid, "model": BASELINE, "components": [BASELINE]})
            continue
        best = g.sort_values(["mase", "model"]).iloc[0]["model"]
        choice_rows.append({"unique_id": uid, "model": best, "components": comps.get((uid, best), [best])})
    for uid in fallback:
        choice_rows.append({"unique_id": uid, "model": "mean_fallback", "components": []})
    choice = pd.DataFrame(choice_rows, columns=["unique_id", "model", "components"])
    # coverage per series and model (cross-fitted), conformal quantiles of the chosen models
    cov_parts = []
    for col in sorted(met["model"].unique()) if len(met) else []:
        c = coverage(cv, col, scales, h, levels)
        c["model"] = col
        cov_parts.append(c)
    if cov_parts:
        met = met.merge(pd.concat(cov_parts, ignore_index=True), on=["unique_id", "model"], how="left")
    else:
        for lv in levels:
            met[f"coverage_{lv}"] = np.nan
    chosen = dict(zip(choice["unique_id"], choice["model"]))
    met["chosen"] = met["model"] == met["unique_id"].map(chosen)
    base = met[met["model"] == BASELINE].set_index("unique_id")["mase"]
    met["relative_mase"] = met["mase"] / met["unique_id"].map(base)
    cv_chosen = cv.assign(chosen=np.nan)
    for uid, name in chosen.items():
        if name in cv_chosen.columns:
            m = cv_chosen["unique_id"] == uid
            cv_chosen.loc[m, "chosen"] = cv_chosen.loc[m, name]
    q = quantiles(_scaled_errors(cv_chosen, "chosen", scales), h, levels) if len(cv_chosen.dropna(subset=["chosen"])) else {}
    met = met.sort_values(["unique_id", "mase", "model"]).reset_index(drop=True)
    fc = _final(fit, series, choice, seasonal, short, fallback, h, lags, q, scales, levels, stats_final) \
        if final else pd.DataFrame()
    return Result(fc, met, choice, cv_chosen, diag, series, q, scales)


def _final(fit, series, choice, seasonal, short, fallback, h, lags, q, scales, levels, stats_final):
    comp = dict(zip(choice["unique_id"], choice["components"]))
    parts = [stats_final]
    use = [u for u in seasonal + short if "mlp" in comp[u]]
    if use:
        f = M.mlp_forecast(fit[fit["unique_id"].isin(seasonal + short)], h, lags)
        f = f[f["unique_id"].isin(use)]
        parts.append(f.melt(id_vars=["unique_id", "ds"], var_name="component", value_name="value"))
    long = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=["unique_id", "ds", "component", "value"])
    long = long[[c in comp.get(u, []) for u, c in zip(long["unique_id"], long["component"])]]
    fc = long.groupby(["unique_id", "ds"], as_index=False)["value"].mean().rename(columns={"value": "forecast"})
    # series too short to back-test: the mean of their months, intervals from their spread
    fb_rows = []
    for uid in fallback:
        g = fit[fit["unique_id"] == uid]
        y = g["y"].to_numpy(dtype=float)
        ds = pd.date_range(g["ds"].max(), periods=h + 1, freq="MS")[1:]
        fb_rows.append(pd.DataFrame({"unique_id": uid, "ds": ds, "forecast": float(np.nanmean(y))}))
    if fb_rows:
        fc = pd.concat([fc] + fb_rows, ignore_index=True)
    fc["step"] = fc.groupby("unique_id")["ds"].rank(method="first").astype(int)
    never_negative = series.groupby("unique_id")["y_fit"].min() >= 0
    for lv in levels:
        qq = q.get(lv)
        width = []
        for uid, k in zip(fc["unique_id"], fc["step"]):
            if uid in fallback or qq is None:
                y = fit.loc[fit["unique_id"] == uid, "y"].to_numpy(dtype=float)
                sd = float(np.nanstd(y, ddof=1)) if len(y) > 1 else abs(float(np.nanmean(y)))
                width.append({80: 1.2816, 95: 1.96}.get(lv, 1.96) * sd * math.sqrt(1 + 1 / max(len(y), 1)))
            else:
                width.append(qq[k - 1] * scales[uid])
        width = np.asarray(width)
        lo = fc["forecast"].to_numpy() - width
        nn = fc["unique_id"].map(never_negative).fillna(False).to_numpy(dtype=bool)
        fc[f"lo_{lv}"] = np.where(nn, np.maximum(lo, 0.0), lo)
        fc[f"hi_{lv}"] = fc["forecast"].to_numpy() + width
    fc["model"] = fc["unique_id"].map(dict(zip(choice["unique_id"], choice["model"])))
    cols = ["unique_id", "ds", "forecast"] + [f"{b}_{lv}" for lv in levels for b in ("lo", "hi")] + ["model"]
    return fc[cols].sort_values(["unique_id", "ds"]).reset_index(drop=True)


def auto_forecast(df: pd.DataFrame, h: int, season_length: int = 12, level=LEVELS, n_windows: int | None = None,
                  step: int | None = None,
                  models=M.ALL_MODELS, lags: int = 12, n_jobs: int = 1, min_seasons: int = 2,
                  ensemble_size: int = 3) -> pd.DataFrame:
    """Forecast every series of ``df`` h months ahead with the model its back-test chose.

    Input: unique_id, ds (month start), y — positive or not, with gaps, zeros, late starts.
    Returns one row per series and future month: unique_id, ds, forecast, lo_80, hi_80, lo_95,
    hi_95 (conformal, calibrated on the back-test), model (the chosen model's name: one of
    seasonal_naive, ets, arima, theta, mlp, ``ensemble(a+b..)`` or mean_fallback). The
    back-test itself is :func:`backtest`; both come from :func:`run`. Without ``n_windows`` /
    ``step`` the back-test's windows are :func:`default_windows` (4 windows h apart on long series,
    3 windows a month apart on short ones).
    """
    if h < 1:
        raise InsufficientData("the horizon must be at least one month", needed_for="forecasting")
    return run(df, h, season_length, level, n_windows=n_windows, step=step, models=models, lags=lags, n_jobs=n_jobs,
               min_seasons=min_seasons, ensemble_size=ensemble_size).forecast
