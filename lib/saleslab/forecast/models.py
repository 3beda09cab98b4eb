"""The candidate models of the automatic forecast (domain.md §9) and their rolling-origin runs.

- ``seasonal_naive``: the value a season before (the baseline, always reported); ``naive`` on
  short series;
- ``ets``: statsforecast AutoETS (error/trend/season chosen by AICc);
- ``arima``: statsforecast AutoARIMA (orders chosen by AICc, stepwise, p, q, P, Q ≤ 1, see :data:`ARIMA_SEARCH`);
- ``theta``: statsforecast AutoTheta (a cheap, strong combination partner);
- ``mlp``: a small neural network (scikit-learn MLPRegressor) fitted globally on all series of
  the frame: inputs the last ``lags`` values, outputs the next h, both divided by the mean
  absolute value of the inputs (so series of any size and sign share one model).

The statsforecast models are fitted once per series on the months before the first back-test
origin and filtered forward (:func:`stats_run`): no parameter sees a held-out month, and one
fit serves the back-test and the final forecast (AutoARIMA's search is the cost: ≈ 0.3 s a
series). The network is refitted at every origin on the data before it, and on all the data.
"""

from __future__ import annotations

import os
import warnings

import numpy as np
import pandas as pd

STATS_MODELS = ("seasonal_naive", "ets", "arima", "theta")
ALL_MODELS = STATS_MODELS + ("mlp",)


def _threads() -> None:
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
    os.environ.setdefault("OMP_NUM_THREADS", "1")


#: AutoARIMA's search on short monthly series (fewer than :data:`FULL_SEARCH_FROM` months before the
#: first origin): orders p, q, P, Q ≤ 1, at most 10 models by AICc (the full default search costs
#: ≈ 0.8 s per 28-month series on a loaded 2-core machine, this one ≈ 0.3 s). Longer series get
#: statsforecast's default search.
ARIMA_SEARCH = dict(max_p=1, max_q=1, max_P=1, max_Q=1, nmodels=10)
FULL_SEARCH_FROM = 60


def stats_models(names, season_length: int, seasonal: bool = True, full_search: bool = False) -> list:
    """statsforecast model objects for ``names`` (aliases = our names); ``seasonal`` False: the
    non-seasonal variants (and a naive baseline); ``full_search``: AutoARIMA's default search."""
    from statsforecast.models import AutoARIMA, AutoETS, AutoTheta, Naive, SeasonalNaive

    m = season_length if seasonal else 1
    make = {
        "seasonal_naive": lambda: SeasonalNaive(season_length=m, alias="seasonal_naive") if m > 1 else Naive(alias="seasonal_naive"),
        "ets": lambda: AutoETS(season_length=m, alias="ets"),
        "arima": lambda: AutoARIMA(season_length=m, alias="arima", **({} if full_search else ARIMA_SEARCH)),
        "theta": lambda: AutoTheta(season_length=m, alias="theta"),
    }
    return [make[n]() for n in names if n in make]


def _one(args):
    """Fit the models on one series before its first origin; forecasts at every origin (forward
    filtering, parameters fixed) and after the last month. Returns (cv rows, final rows) as dicts."""
    uid, ds, y, names, h, n_windows, step, season_length, seasonal = args
    need = h + (n_windows - 1) * step
    train = y[: len(y) - need]
    cv = {"unique_id": [], "ds": [], "cutoff": [], "y": []}
    cv.update({n: [] for n in names})
    fin = {"unique_id": [uid] * h, "ds": list(pd.date_range(ds[-1], periods=h + 1, freq="MS")[1:])}
    fitted = {}
    for name, model in zip(names, stats_models(names, season_length, seasonal, len(train) >= FULL_SEARCH_FROM)):
        try:
            fitted[name] = model.fit(train)
        except Exception:  # a model that cannot fit this series: left out of its back-test
            fitted[name] = None
    for w in range(n_windows):
        back = h + (n_windows - 1 - w) * step
        cut = len(y) - back
        cv["unique_id"] += [uid] * h
        cv["ds"] += list(ds[cut:cut + h])
        cv["cutoff"] += [ds[cut - 1]] * h
        cv["y"] += list(y[cut:cut + h])
        for name in names:
            cv[name] += list(_forward(fitted[name], y[:cut], h))
    for name in names:
        fin[name] = list(_forward(fitted[name], y, h))
    return cv, fin


def _forward(model, y: np.ndarray, h: int) -> np.ndarray:
    if model is None:
        return np.full(h, np.nan)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            f = np.asarray(model.forward(y=y, h=h)["mean"], dtype=float)
        return f if len(f) == h and np.isfinite(f).all() else np.full(h, np.nan)
    except Exception:
        return np.full(h, np.nan)


def stats_run(df: pd.DataFrame, names, h: int, n_windows: int, step: int, season_length: int, seasonal: bool,
              n_jobs: int = 1) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The statsforecast models ``names`` on every series of ``df`` (unique_id, ds, y): each model
    is fitted (form chosen by AICc within its family, parameters estimated) once, on the months
    before the first back-test origin, then filtered forward with those parameters to forecast
    from every origin and from the last month. No parameter sees a held-out month; the final
    forecast uses every month's data through the filter.

    Returns (cv, final): cv = unique_id, ds, cutoff, y, <name>...; final = unique_id, ds, <name>...
    """
    _threads()
    names = [n for n in names if n in STATS_MODELS]
    jobs = [(uid, g["ds"].to_numpy(), g["y"].to_numpy(dtype=float), names, h, n_windows, step, season_length, seasonal)
            for uid, g in df.groupby("unique_id", sort=True)]
    if not jobs or not names:
        return (pd.DataFrame(columns=["unique_id", "ds", "cutoff", "y"]), pd.DataFrame(columns=["unique_id", "ds"]))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if n_jobs > 1 and len(jobs) >= 4 * n_jobs:
            from concurrent.futures import ProcessPoolExecutor

            with ProcessPoolExecutor(n_jobs) as ex:
                out = list(ex.map(_one, jobs, chunksize=max(1, len(jobs) // (8 * n_jobs))))
        else:
            out = [_one(j) for j in jobs]
    cv = pd.concat([pd.DataFrame(c) for c, _ in out], ignore_index=True)
    fin = pd.concat([pd.DataFrame(f) for _, f in out], ignore_index=True)
    return cv, fin


def stats_cv(df: pd.DataFrame, names, h: int, n_windows: int, step: int, season_length: int, seasonal: bool,
             n_jobs: int = 1) -> pd.DataFrame:
    """statsforecast's own ``cross_validation(refit=False)`` of ``names`` (the benchmark's
    AutoETS-alone baseline): unique_id, ds, cutoff, y, <name>..."""
    from statsforecast import StatsForecast

    _threads()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        cv = StatsForecast(models=stats_models(names, season_length, seasonal), freq="MS", n_jobs=n_jobs).cross_validation(
            df=df[["unique_id", "ds", "y"]], h=h, n_windows=n_windows, step_size=step, refit=False)
    return cv.reset_index() if "unique_id" not in cv.columns else cv


def stats_forecast(df: pd.DataFrame, names, h: int, season_length: int, seasonal: bool, n_jobs: int = 1) -> pd.DataFrame:
    """statsforecast's own ``forecast`` of ``names`` fitted on all of ``df``: unique_id, ds, <name>..."""
    from statsforecast import StatsForecast

    _threads()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fc = StatsForecast(models=stats_models(names, season_length, seasonal), freq="MS", n_jobs=n_jobs).forecast(
            df=df[["unique_id", "ds", "y"]], h=h)
    return fc.reset_index() if "unique_id" not in fc.columns else fc


# ---- the neural-network challenger ---------------------------------------------------------------

def _windows(y: np.ndarray, lags: int, h: int):
    n = len(y) - lags - h + 1
    if n <= 0:
        return np.empty((0, lags)), np.empty((0, h))
    idx = np.arange(lags + h)[None, :] + np.arange(n)[:, None]
    w = y[idx]
    return w[:, :lags], w[:, lags:]


def _scale(x: np.ndarray) -> np.ndarray:
    s = np.mean(np.abs(x), axis=1, keepdims=True)
    return np.where(s > 0, s, 1.0)


def mlp_fit_predict(histories: dict[str, np.ndarray], h: int, lags: int, seed: int = 0) -> dict[str, np.ndarray]:
    """Fit one MLP on every history's windows and forecast h months after each history's end.

    Input: {unique_id: y (oldest first)}. Returns {unique_id: forecast (h)}; a history shorter
    than ``lags`` gets no forecast; no forecast at all when fewer than 10 training windows exist.
    Formula: x = last ``lags`` values / s, target = next h values / s, s = mean |x|;
    MLPRegressor(32 tanh units, L2 1e-3, lbfgs), forecast = s × output.
    """
    from sklearn.neural_network import MLPRegressor

    _threads()
    xs, ys = [], []
    for y in histories.values():
        y = np.asarray(y, dtype=float)
        if len(y) >= lags + h:
            x, t = _windows(y, lags, h)
            s = _scale(x)
            xs.append(x / s)
            ys.append(t / s)
    if not xs or sum(len(x) for x in xs) < 10:
        return {}
    X, Y = np.vstack(xs), np.vstack(ys)
    net = MLPRegressor(hidden_layer_sizes=(32,), activation="tanh", alpha=1e-3, solver="lbfgs", max_iter=400,
                       random_state=seed)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        net.fit(X, Y if h > 1 else Y.ravel())
    out = {}
    keys = [k for k, y in histories.items() if len(y) >= lags]
    if not keys:
        return out
    last = np.vstack([np.asarray(histories[k], dtype=float)[-lags:] for k in keys])
    s = _scale(last)
    pred = net.predict(last / s).reshape(len(keys), h) * s
    return dict(zip(keys, pred))


def mlp_cv(df: pd.DataFrame, h: int, n_windows: int, step: int, lags: int) -> pd.DataFrame:
    """Rolling-origin forecasts of the network with the cutoffs of :func:`stats_cv` (per series:
    the last month − h − (n_windows − 1 − w) × step): unique_id, ds, cutoff, mlp."""
    groups = {uid: (g["ds"].to_numpy(), g["y"].to_numpy(dtype=float)) for uid, g in df.groupby("unique_id", sort=False)}
    rows = []
    for w in range(n_windows):
        back = h + (n_windows - 1 - w) * step
        hist = {uid: y[:-back] for uid, (ds, y) in groups.items() if len(y) > back}
        pred = mlp_fit_predict(hist, h, lags)
        for uid, f in pred.items():
            ds = groups[uid][0]
            cut = ds[len(ds) - back - 1]
            rows.append(pd.DataFrame({"unique_id": uid, "ds": ds[len(ds) - back:len(ds) - back + h], "cutoff": cut,
                                      "mlp": f[: min(h, back)]}))
    return pd.concat(rows, ignore_index=True) if rows else pd.DataFrame(columns=["unique_id", "ds", "cutoff", "mlp"])


def mlp_forecast(df: pd.DataFrame, h: int, lags: int) -> pd.DataFrame:
    """The network fitted on all of ``df``: unique_id, ds, mlp."""
    groups = {uid: g for uid, g in df.groupby("unique_id", sort=False)}
    pred = mlp_fit_predict({uid: g["y"].to_numpy(dtype=float) for uid, g in groups.items()}, h, lags)
    rows = [pd.DataFrame({"unique_id": uid, "ds": pd.date_range(groups[uid]["ds"].max(), periods=h + 1, freq="MS")[1:],
                          "mlp": f}) for uid, f in pred.items()]
    return pd.concat(rows, ignore_index=True) if rows else pd.DataFrame(columns=["unique_id", "ds", "mlp"])
