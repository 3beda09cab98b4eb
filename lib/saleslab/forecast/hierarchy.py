"""Coherent forecasts of the total and every region, channel and category (domain.md §9).

The hierarchy is grouped: total = Σ regions = Σ channels = Σ categories, all sums of the bottom
series region × channel × category (:func:`saleslab.forecast.series.bottom_series`). Each
aggregate series is forecast by :func:`saleslab.forecast.selection.run` (every model, chosen by
back-test); the bottom series, many and small, by seasonal naive and AutoTheta (chosen by
back-test). hierarchicalforecast reconciles the base forecasts by ``bottom_up`` (BottomUp),
``mint_ols`` (MinTrace, identity weights) and ``mint_wls_struct`` (MinTrace, weights = the number
of bottom series aggregated); the same reconciliations are applied to the back-test windows, and
the method with the lowest mean MASE over the aggregate series (each level weighing the same) wins.
Coherence to the cent: the winner's bottom forecasts are rounded to the cent and every aggregate
is their sum. Intervals are conformal on the winner's own back-test errors (:mod:`saleslab.forecast.selection`).
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd

from ..engine import Engine
from ..errors import InsufficientData
from ..facts import Params as FactsParams
from ..params import attach
from ..periods import as_date
from . import selection as B
from .params import Params
from .series import bottom_series, cube, hierarchy_series, months_of

METHODS = ("bottom_up", "mint_ols", "mint_wls_struct")
#: Column names of the stage's tables (the long-frame API keeps ds, n, mae, ...; the stage's tables
#: use names of their own, labelled in both languages).
STAGE_COLUMNS = {"ds": "month", "n": "test_months", "mae": "fc_mae", "rmse": "fc_rmse", "mape": "fc_mape",
                 "bias": "fc_bias", "method": "reconciliation"}
BOTTOM_MODELS = ("seasonal_naive", "theta")


def summing_matrix(agg_ids: pd.DataFrame, bottom_ids) -> pd.DataFrame:
    """S: one row per aggregate series (columns unique_id, level) and bottom series, one column per
    bottom series (``bottom/<region>|<channel>|<category>``); 1 where the bottom series adds into the row."""
    bottom_ids = list(bottom_ids)
    parts = [b.split("/", 1)[1].split("|") for b in bottom_ids]
    rows = {}
    for uid, lv in zip(agg_ids["unique_id"], agg_ids["level"]):
        if lv == "total":
            rows[uid] = np.ones(len(bottom_ids))
        else:
            k = {"region": 0, "channel": 1, "category": 2}[lv]
            member = uid.split("/", 1)[1]
            rows[uid] = np.array([1.0 if p[k] == member else 0.0 for p in parts])
    for i, b in enumerate(bottom_ids):
        e = np.zeros(len(bottom_ids))
        e[i] = 1.0
        rows[b] = e
    S = pd.DataFrame.from_dict(rows, orient="index", columns=bottom_ids)
    S.index.name = "unique_id"
    return S.reset_index()


def _tags(agg_ids: pd.DataFrame, bottom_ids) -> dict:
    tags = {lv: np.array(agg_ids.loc[agg_ids["level"] == lv, "unique_id"]) for lv in ("total", "region", "channel", "category")}
    tags["bottom"] = np.array(list(bottom_ids))
    return tags


def _reconcile(yhat: pd.DataFrame, S: pd.DataFrame, tags: dict) -> pd.DataFrame:
    """yhat: unique_id, ds, base → the same with one column per method (coherent)."""
    from hierarchicalforecast.core import HierarchicalReconciliation
    from hierarchicalforecast.methods import BottomUp, MinTrace

    hr = HierarchicalReconciliation(reconcilers=[BottomUp(), MinTrace(method="ols"), MinTrace(method="wls_struct")])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        out = hr.reconcile(Y_hat_df=yhat, S_df=S, tags=tags)
    names = {"base/BottomUp": "bottom_up", "base/MinTrace_method-ols": "mint_ols",
             "base/MinTrace_method-wls_struct": "mint_wls_struct"}
    return out.rename(columns=names)


def _coherent(rec: pd.DataFrame, method: str, S: pd.DataFrame) -> pd.DataFrame:
    """The method's bottom forecasts to the cent, every row of S their sum (unique_id, ds, value)."""
    bottoms = [c for c in S.columns if c != "unique_id"]
    b = rec[rec["unique_id"].isin(bottoms)].pivot(index="ds", columns="unique_id", values=method)[bottoms].round(2)
    agg = b.to_numpy() @ S[bottoms].to_numpy().T
    out = pd.DataFrame(np.round(agg, 2), index=b.index, columns=S["unique_id"])
    return out.reset_index().melt(id_vars="ds", var_name="unique_id", value_name="value")


def _cv_inputs(cv: pd.DataFrame, fit: pd.DataFrame, ids) -> pd.DataFrame:
    """Back-test forecasts (chosen model) for every id and window; an id without a back-test
    (too short) gets the mean of its months before the cutoff."""
    cv = cv[["unique_id", "ds", "cutoff", "y", "chosen"]]
    cuts = cv[["ds", "cutoff"]].drop_duplicates()
    have = set(cv["unique_id"])
    extra = []
    for uid in ids:
        if uid in have:
            continue
        g = fit[fit["unique_id"] == uid]
        for c, grp in cuts.groupby("cutoff"):
            past = g.loc[g["ds"] <= c, "y"]
            val = float(past.mean()) if len(past) else 0.0
            y = g.set_index("ds")["y"].reindex(grp["ds"]).fillna(0.0).to_numpy()
            extra.append(pd.DataFrame({"unique_id": uid, "ds": grp["ds"].to_numpy(), "cutoff": c, "y": y, "chosen": val}))
    return pd.concat([cv] + extra, ignore_index=True) if extra else cv


def hierarchy_forecast(eng: Engine, start, end, params: Params | None = None,
                       facts_params: FactsParams | None = None, n_jobs: int = 1) -> dict:
    """Coherent forecasts of the total, regions, channels and categories of [start, end].

    Input: :func:`saleslab.forecast.series.cube` (revenue or volume by ``params.forecast_measure``).
    Returns a dict of frames (each records ``params``):

    Column names: those below, with ds → month, n → test_months, mae/rmse/mape/bias → fc_mae,
    fc_rmse, fc_mape, fc_bias, method → reconciliation (:data:`STAGE_COLUMNS`).

    - ``history``: unique_id, level, member, ds, y (元 or units), y_fit (what the models fit), outlier, zero_run;
    - ``forecast``: unique_id, level, member, ds, forecast, lo_80, hi_80, lo_95, hi_95, model (the
      base model chosen by back-test), method (the reconciliation that won) — coherent to the cent;
    - ``backtest``: unique_id, level, member, model, n, mae, rmse, mape, mase, bias, coverage_80,
      coverage_95, mase_seasonal_naive, relative_mase (the reconciled winner's back-test; model =
      the base choice) and the seasonal naive's MASE beside it;
    - ``models``: :func:`saleslab.forecast.selection.backtest` rows of every aggregate series;
    - ``methods``: method, level, mase (mean over the level's series) and ``overall`` rows, winner;
    - ``diagnostics``: :func:`saleslab.forecast.prep.prepare`'s diagnostics of the aggregate series.
    """
    p, fp = params or Params(), facts_params or FactsParams()
    start, end = as_date(start), as_date(end)
    c = cube(eng, start, end, fp)
    if c.empty:
        raise InsufficientData(f"no sales between {start} and {end}", needed_for="sales forecasting")
    months = months_of(start, end)
    agg = hierarchy_series(c, p.forecast_measure, months)
    bot = bottom_series(c, p.forecast_measure, months)
    h, w, step, m = p.forecast_horizon, p.forecast_windows, p.forecast_step, p.forecast_season_length
    if len(months) < B._need(h, w, step) + 4:
        raise InsufficientData(f"{len(months)} months between {start} and {end}; the back-test needs "
                               f"{B._need(h, w, step) + 4}", needed_for="sales forecasting")
    kw = dict(n_windows=w, step=step, lags=p.forecast_mlp_lags, n_jobs=n_jobs, min_seasons=p.forecast_min_seasons,
              zero_run=p.forecast_zero_run, outlier_z=p.forecast_outlier_z)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ra = B.run(agg, h, m, B.LEVELS, ensemble_size=p.forecast_ensemble_size, **kw)
        rb = B.run(bot, h, m, B.LEVELS, models=BOTTOM_MODELS, ensemble_size=2, **kw)
    ids = agg[["unique_id", "level"]].drop_duplicates()
    bottom_ids = sorted(bot["unique_id"].unique())
    S = summing_matrix(ids, bottom_ids)
    tags = _tags(ids, bottom_ids)
    fit = pd.concat([ra.series, rb.series])[["unique_id", "ds", "y_fit"]].rename(columns={"y_fit": "y"})
    # reconcile the final forecasts
    base = pd.concat([ra.forecast, rb.forecast], ignore_index=True)
    rec = _reconcile(base[["unique_id", "ds", "forecast"]].rename(columns={"forecast": "base"}), S, tags)
    # reconcile every back-test window, score each method on the aggregate series
    cvi = pd.concat([_cv_inputs(ra.cv, fit, ids["unique_id"]), _cv_inputs(rb.cv, fit, bottom_ids)], ignore_index=True)
    recs = []
    for cut, g in cvi.groupby("cutoff"):
        r = _reconcile(g[["unique_id", "ds", "chosen"]].rename(columns={"chosen": "base"}), S, tags)
        r = r.merge(g[["unique_id", "ds", "y"]], on=["unique_id", "ds"], how="left")
        r["cutoff"] = cut
        recs.append(r)
    rcv = pd.concat(recs, ignore_index=True)
    rcv = rcv[rcv["unique_id"].isin(ids["unique_id"])].copy()
    rcv["step"] = B._horizon_step(rcv)
    scales = ra.scales
    score = B._metrics(rcv, ("base",) + METHODS, scales).merge(ids, on="unique_id")
    lv_mean = score.groupby(["model", "level"], as_index=False)["mase"].mean()
    overall = lv_mean.groupby("model", as_index=False)["mase"].mean().assign(level="overall")
    methods = pd.concat([lv_mean, overall], ignore_index=True).rename(columns={"model": "method"})
    coh = overall[overall["model"].isin(METHODS)].sort_values(["mase", "model"])
    winner = str(coh.iloc[0]["model"])
    methods["winner"] = methods["method"] == winner
    # the winner, coherent to the cent, with conformal intervals from its own back-test errors
    fc = _coherent(rec, winner, S)
    fc = fc[fc["unique_id"].isin(ids["unique_id"])].rename(columns={"value": "forecast"})
    fc["step"] = fc.groupby("unique_id")["ds"].rank(method="first").astype(int)
    q = B.quantiles(B._scaled_errors(rcv, winner, scales), h)
    never_neg = ra.series.groupby("unique_id")["y_fit"].min() >= 0
    for lv in B.LEVELS:
        width = fc["step"].map(lambda k: q[lv][k - 1]).to_numpy() * fc["unique_id"].map(scales).to_numpy()
        lo = fc["forecast"].to_numpy() - width
        fc[f"lo_{lv}"] = np.round(np.where(fc["unique_id"].map(never_neg).fillna(False), np.maximum(lo, 0), lo), 2)
        fc[f"hi_{lv}"] = np.round(fc["forecast"].to_numpy() + width, 2)
    fc["model"] = fc["unique_id"].map(dict(zip(ra.choice["unique_id"], ra.choice["model"])))
    fc["method"] = winner
    fc = _with_level(fc.drop(columns="step"), ids)
    # back-test table: the winner's reconciled errors per series, the base choice and seasonal naive beside
    bt = B._metrics(rcv, [winner], scales).drop(columns="model")
    cov = B.coverage(rcv, winner, scales, h)
    bt = bt.merge(cov, on="unique_id", how="left")
    sn = ra.metrics[ra.metrics["model"] == B.BASELINE].set_index("unique_id")["mase"]
    bt["mase_seasonal_naive"] = bt["unique_id"].map(sn)
    bt["relative_mase"] = bt["mase"] / bt["mase_seasonal_naive"]
    bt["model"] = bt["unique_id"].map(dict(zip(ra.choice["unique_id"], ra.choice["model"])))
    bt = _with_level(bt, ids)
    hist = ra.series.merge(ids, on="unique_id")
    hist = _with_level(hist[["unique_id", "ds", "y", "y_fit", "outlier", "zero_run"]], ids)
    models = _with_level(ra.metrics, ids)
    diag = _with_level(ra.diagnostics, ids)
    rec_ = dict(period_start=str(start), period_end=str(end), winner=winner, **fp.model_dump(mode="json"))
    return {k: attach(v.reset_index(drop=True).rename(columns=STAGE_COLUMNS), p, **rec_) for k, v in dict(
        history=hist, forecast=fc, backtest=bt, models=models, methods=methods, diagnostics=diag).items()}


_ORDER = {"total": 0, "region": 1, "channel": 2, "category": 3}


def _with_level(df: pd.DataFrame, ids: pd.DataFrame) -> pd.DataFrame:
    out = df.drop(columns=[c for c in ("level",) if c in df.columns]).merge(ids, on="unique_id", how="left")
    out["member"] = [u.split("/", 1)[1] if "/" in u else u for u in out["unique_id"]]
    out["_o"] = out["level"].map(_ORDER)
    keys = ["_o", "unique_id"] + (["ds"] if "ds" in out.columns else []) + (["model"] if "model" in out.columns and "ds" not in out.columns and out.duplicated("unique_id").any() else [])
    out = out.sort_values(keys).drop(columns="_o")
    first = ["unique_id", "level", "member"]
    return out[first + [c for c in out.columns if c not in first]]
