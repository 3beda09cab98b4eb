"""Benchmark: automatic forecasting of many monthly series (issue 11).

    python benchmarks/forecast.py [--scale small|medium|large] [--series N] [--months 36] [--h 6]
                                  [--windows 3] [--jobs 2] [--seed 42]

Simulates ``--series`` monthly series of ``--months`` points (default by scale: small 100, medium
500, large 2000): levels from 10 to 10 000, additive or multiplicative seasons, trends up or down,
noise, a few that start late, a few with a run of zero months, a few outliers. Then, on
``--jobs`` processes with one BLAS/OpenMP thread each:

1. ``saleslab.forecast.run``: pre-processing, a ``--windows``-window rolling-origin back-test of
   seasonal naive, AutoETS, AutoARIMA, AutoTheta and the MLP, ensembles, the automatic choice per
   series, conformal intervals and the final ``--h``-month forecast — end to end (target ≤ 60 s
   for 500 series on 2 cores);
2. statsforecast AutoETS alone doing the same job (the same back-test with ``refit=False``, then
   the final forecast): the baseline of the ratio.

Prints the two times, their ratio, the mean MASE of the chosen models, of AutoETS alone and of
seasonal naive over the back-test, the achieved 80 % / 95 % coverage, and ends with ONE JSON line.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
import warnings
from pathlib import Path

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "lib"))

from saleslab.forecast import run  # noqa: E402
from saleslab.forecast import models as M  # noqa: E402

SCALES = {"small": 100, "medium": 500, "large": 2000}


def simulate(n: int, months: int, seed: int) -> pd.DataFrame:
    """n monthly series (unique_id, ds, y) with known shapes, see the module's docstring."""
    rng = np.random.default_rng(seed)
    ds = pd.date_range("2023-01-01", periods=months, freq="MS")
    t = np.arange(months)
    parts = []
    for i in range(n):
        level = 10 ** rng.uniform(1, 4)
        season = rng.normal(0, rng.uniform(0.05, 0.3), 12)
        season -= season.mean()
        trend = rng.normal(0, 0.01)
        if rng.random() < 0.5:  # multiplicative season
            y = level * (1 + trend) ** t * (1 + season[t % 12])
        else:
            y = level * (1 + trend * t) + level * season[t % 12]
        y = y + rng.normal(0, level * rng.uniform(0.02, 0.12), months)
        start = 0
        if rng.random() < 0.05:
            start = int(rng.integers(6, 14))
        if rng.random() < 0.03:
            a = int(rng.integers(start + 3, months - 6))
            y[a:a + 3] = 0.0
        if rng.random() < 0.05:
            y[int(rng.integers(start, months))] *= 3
        parts.append(pd.DataFrame({"unique_id": f"s{i:05d}", "ds": ds[start:], "y": np.round(y[start:], 2)}))
    return pd.concat(parts, ignore_index=True)


def ets_alone(df: pd.DataFrame, h: int, windows: int, jobs: int) -> tuple[float, pd.DataFrame]:
    """statsforecast AutoETS: the same back-test (refit=False) and the final forecast; seconds, cv."""
    t0 = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        cv = M.stats_cv(df, ["ets"], h, windows, 1, 12, True, jobs)
        M.stats_forecast(df, ["ets"], h, 12, True, jobs)
    return time.perf_counter() - t0, cv


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--scale", choices=list(SCALES), default="medium")
    ap.add_argument("--series", type=int, default=None)
    ap.add_argument("--months", type=int, default=36)
    ap.add_argument("--h", type=int, default=6)
    ap.add_argument("--windows", type=int, default=3)
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--seed", type=int, default=42)
    a = ap.parse_args()
    n = a.series or SCALES[a.scale]
    df = simulate(n, a.months, a.seed)
    print(f"{n} series × {a.months} months, h={a.h}, {a.windows} windows, {a.jobs} jobs", flush=True)
    t0 = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = run(df, a.h, 12, (80, 95), n_windows=a.windows, step=1, n_jobs=a.jobs)
    auto_s = time.perf_counter() - t0
    print(f"auto (back-test + choice + intervals + forecast): {auto_s:.1f} s", flush=True)
    ets_s, _ = ets_alone(df[df["unique_id"].isin(res.metrics["unique_id"].unique())], a.h, a.windows, a.jobs)
    print(f"statsforecast AutoETS alone (same back-test + forecast): {ets_s:.1f} s", flush=True)
    met = res.metrics
    chosen = met[met["chosen"]]
    mase = {"chosen": float(chosen["mase"].mean()), "ets": float(met.loc[met["model"] == "ets", "mase"].mean()),
            "arima": float(met.loc[met["model"] == "arima", "mase"].mean()),
            "seasonal_naive": float(met.loc[met["model"] == "seasonal_naive", "mase"].mean())}
    cov80, cov95 = float(chosen["coverage_80"].mean()), float(chosen["coverage_95"].mean())
    print(f"mean MASE: chosen {mase['chosen']:.3f}, AutoETS {mase['ets']:.3f}, AutoARIMA {mase['arima']:.3f}, "
          f"seasonal naive {mase['seasonal_naive']:.3f}; coverage 80 % {cov80:.1%}, 95 % {cov95:.1%}", flush=True)
    print(json.dumps({
        "benchmark": "forecast", "scale": a.scale, "series": n, "months": a.months, "h": a.h, "windows": a.windows,
        "jobs": a.jobs, "auto_s": round(auto_s, 2), "ets_alone_s": round(ets_s, 2),
        "ratio_vs_ets_alone": round(auto_s / ets_s, 2), "target_s": 60, "within_target": auto_s <= 60,
        "mase_chosen": round(mase["chosen"], 4), "mase_ets": round(mase["ets"], 4), "mase_arima": round(mase["arima"], 4),
        "mase_seasonal_naive": round(mase["seasonal_naive"], 4), "coverage_80": round(cov80, 4),
        "coverage_95": round(cov95, 4), "models_chosen": chosen["model"].str.replace(r"\(.*", "", regex=True)
        .value_counts().to_dict(),
    }, ensure_ascii=False))


if __name__ == "__main__":
    main()
