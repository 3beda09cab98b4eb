"""Benchmark: the customer analyses — RFM, cohort matrix, CLV fit — at scale.

    python benchmarks/customers.py --scale small|medium|large [--seed 42] [--workdir DIR]
                                   [--warehouse DIR] [--memory-limit 1GB] [--repeat 3]

Uses ``--warehouse`` when given (only read, never written: e.g. the KPI benchmark's
``.tmp/bench_kpi/large/warehouse``), else ``<workdir>/<scale>/warehouse`` when it exists, else
generates the demo (``saleslab.demo.generate``) into ``<workdir>/<scale>/demo`` and ingests it.

Steps, each in its own child process so its peak memory (ru_maxrss) is its own:

1. RFM over the 12 months to ``--as-of``: (a) ``saleslab.customers.rfm_expr`` (default parameters: 12
   months, returns on their return date) through Ibis on DuckDB, (b) the same query as hand-written
   DuckDB SQL over the same Parquet files;
2. cohorts (first-order month × months since, active customers) over [--start, --as-of]:
   (a) ``saleslab.lifecycle.cohort_expr`` through Ibis, (b) hand-written DuckDB SQL; the retention
   matrix (``lifecycle.cohort_table``) is built from (a);
3. CLV on all customers: ``clv.summary`` (Ibis) + ``clv.fit_bg_nbd`` + ``clv.fit_gamma_gamma``.

Ibis and SQL results must agree (counts exactly, money to the cent). Query times are the best of
``--repeat`` runs on one connection (DuckDB, ``--threads`` threads, ``--memory-limit``). Prints time
and peak memory per step, the Ibis/SQL ratios (target ≤ 1.5) and the CLV fit seconds (target < 60 s
on ≈500 k customers), and ends with ONE JSON line of the figures.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import resource
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "lib"))

import kpi_cube  # noqa: E402  (benchmarks/ is the script's folder, first on sys.path)
from saleslab.clv import models as clv
from saleslab.lifecycle import stages as lifecycle
from saleslab.customers import segments  # noqa: E402
from saleslab.engine import connect  # noqa: E402


def ensure_warehouse(work: Path, scale: str, seed: int, given: str | None) -> Path:
    if given:
        wh = Path(given)
        if not (wh / "_ingest").is_dir():
            raise SystemExit(f"--warehouse {wh} is not an ingested warehouse (no _ingest folder)")
        print(f"reading warehouse {wh} (read-only)", flush=True)
        return wh
    return kpi_cube.ensure_warehouse(work, scale, seed)


# ---- hand-written DuckDB SQL --------------------------------------------------------------------

def _src(wh: Path, t: str) -> str:
    return f"read_parquet('{wh}/{t}/*.parquet')"


def rfm_sql(wh: Path, as_of: str, months: int) -> str:
    lo, hi = segments.window(as_of, months)
    return f"""
WITH o AS (SELECT order_id, order_date, customer_id FROM {_src(wh, 'orders')}
           WHERE customer_id IS NOT NULL AND order_date BETWEEN DATE '{lo}' AND DATE '{hi}'),
s AS (SELECT o.customer_id, max(o.order_date) AS last_order, count(DISTINCT o.order_id) AS frequency,
             sum(l.net_amount) AS gross
      FROM {_src(wh, 'order_lines')} l JOIN o ON l.order_id = o.order_id GROUP BY 1),
r AS (SELECT ro.customer_id, sum(r.amount) AS returned
      FROM {_src(wh, 'returns')} r
      JOIN (SELECT order_id, customer_id FROM {_src(wh, 'orders')} WHERE customer_id IS NOT NULL) ro
        ON r.order_id = ro.order_id
      WHERE r.return_date BETWEEN DATE '{lo}' AND DATE '{hi}' GROUP BY 1)
SELECT s.customer_id, (DATE '{hi}' - s.last_order)::BIGINT AS recency_days, s.frequency::BIGINT AS frequency,
       round(s.gross - coalesce(r.returned, 0), 2) AS monetary
FROM s LEFT JOIN r ON s.customer_id = r.customer_id"""


def cohort_sql(wh: Path, start: str, end: str) -> str:
    return f"""
WITH o AS (SELECT customer_id, order_date FROM {_src(wh, 'orders')}
           WHERE customer_id IS NOT NULL AND order_date <= DATE '{end}'),
f AS (SELECT customer_id, min(order_date) AS first_date FROM o GROUP BY 1
      HAVING min(order_date) >= date_trunc('month', DATE '{start}'))
SELECT date_trunc('month', f.first_date)::DATE AS cohort_month,
       ((year(o.order_date) - year(f.first_date)) * 12 + month(o.order_date) - month(f.first_date))::BIGINT
         AS months_since,
       count(DISTINCT o.customer_id) AS active_customers
FROM o JOIN f ON o.customer_id = f.customer_id
WHERE o.order_date >= DATE '{start}'
GROUP BY 1, 2"""


# ---- steps (each runs in a child process) -------------------------------------------------------

def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def step_rfm_ibis(a):
    with connect(a.wh, "duckdb", a.cfg) as eng:
        s, df = kpi_cube.best_of(a.repeat, lambda: eng.execute(segments.rfm_expr(eng, a.as_of)))
    return {"seconds": s, "result": df, "peak_mb": _peak_mb()}


def _duck(a):
    import duckdb

    return duckdb.connect(config={"memory_limit": a.memory_limit, "threads": a.threads,
                                  "temp_directory": a.cfg["temp_directory"]})


def step_rfm_sql(a):
    con = _duck(a)
    s, df = kpi_cube.best_of(a.repeat, lambda: con.sql(rfm_sql(a.wh, a.as_of, 12)).df())
    con.close()
    return {"seconds": s, "result": df, "peak_mb": _peak_mb()}


def step_cohort_ibis(a):
    with connect(a.wh, "duckdb", a.cfg) as eng:
        s, df = kpi_cube.best_of(a.repeat, lambda: eng.execute(lifecycle.cohort_expr(eng, a.start, a.as_of)))
        t0 = time.perf_counter()
        matrix = lifecycle.cohort_matrix(lifecycle.cohort_table(eng, a.start, a.as_of, df))
        matrix_s = time.perf_counter() - t0
    return {"seconds": s, "result": df, "peak_mb": _peak_mb(), "matrix_s": matrix_s,
            "cohorts": len(matrix), "month1_retention": float(np.nanmean(matrix[1])) if 1 in matrix else None}


def step_cohort_sql(a):
    con = _duck(a)
    s, df = kpi_cube.best_of(a.repeat, lambda: con.sql(cohort_sql(a.wh, a.start, a.as_of)).df())
    con.close()
    return {"seconds": s, "result": df, "peak_mb": _peak_mb()}


def step_clv(a):
    with connect(a.wh, "duckdb", a.cfg) as eng:
        t0 = time.perf_counter()
        summ = clv.summary(eng, a.as_of, time_unit="W")
        summary_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    bgf = clv.fit_bg_nbd(summ)
    bg_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    ggf = clv.fit_gamma_gamma(summ)
    gg_s = time.perf_counter() - t0
    return {"summary_s": summary_s, "bg_nbd_s": bg_s, "gamma_gamma_s": gg_s, "customers": len(summ),
            "repeat_customers": int((summ["frequency"] > 0).sum()), "bg_nbd": bgf.params, "gamma_gamma": ggf.params,
            "converged": bool(bgf.converged and ggf.converged), "peak_mb": _peak_mb()}


def _child(fn, a, q):
    try:
        q.put(fn(a))
    except BaseException as e:  # report, don't hang the parent
        q.put({"error": f"{type(e).__name__}: {e}"})


def run_step(fn, a) -> dict:
    ctx = mp.get_context("fork")
    q = ctx.Queue()
    p = ctx.Process(target=_child, args=(fn, a, q))
    p.start()
    out = q.get()
    p.join()
    if "error" in out:
        raise SystemExit(f"{fn.__name__} failed: {out['error']}")
    return out


# ---- checks -------------------------------------------------------------------------------------

def check_rfm(ibis_df: pd.DataFrame, sql_df: pd.DataFrame) -> None:
    if len(ibis_df) != len(sql_df):
        raise SystemExit(f"RFM: Ibis {len(ibis_df)} customers, SQL {len(sql_df)}")
    m = ibis_df.merge(sql_df, on="customer_id", how="outer", suffixes=("", "_sql"), indicator=True)
    if (m["_merge"] != "both").any():
        raise SystemExit(f"RFM: customers differ, e.g. {m[m['_merge'] != 'both'].head(3)}")
    for c in ("recency_days", "frequency"):
        bad = m[c].astype("int64") != m[c + "_sql"].astype("int64")
        if bad.any():
            raise SystemExit(f"RFM: {c} differs on {int(bad.sum())} customers")
    bad = np.abs(m["monetary"].astype(float).round(2) - m["monetary_sql"].astype(float).round(2)) > 0.011
    if bad.any():
        raise SystemExit(f"RFM: monetary differs on {int(bad.sum())} customers")


def check_cohorts(ibis_df: pd.DataFrame, sql_df: pd.DataFrame) -> None:
    def norm(df):
        d = df.copy()
        d["cohort_month"] = pd.to_datetime(d["cohort_month"]).dt.date
        d = d.astype({"months_since": "int64", "active_customers": "int64"})
        return d.sort_values(["cohort_month", "months_since"]).reset_index(drop=True)

    a, b = norm(ibis_df), norm(sql_df)
    if not a.equals(b[a.columns]):
        raise SystemExit(f"cohorts: Ibis and SQL differ ({len(a)} vs {len(b)} cells)")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--scale", choices=["small", "medium", "large"], default="medium")
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--workdir", default=str(ROOT / ".tmp" / "bench_customers"))
    ap.add_argument("--warehouse", default=None, help="an existing warehouse to read (never written)")
    ap.add_argument("--as-of", default="2025-12-31", help="RFM / CLV date and end of the cohort period")
    ap.add_argument("--start", default="2023-01-01", help="first cohort month")
    ap.add_argument("--repeat", type=int, default=3, help="runs per query; the best time counts")
    ap.add_argument("--memory-limit", default="1GB", help="DuckDB memory_limit for Ibis and SQL")
    ap.add_argument("--threads", type=int, default=2)
    a = ap.parse_args()
    work = Path(a.workdir)
    a.wh = ensure_warehouse(work, a.scale, a.seed, a.warehouse).resolve()
    tmp = work / "duckdb_tmp"
    tmp.mkdir(parents=True, exist_ok=True)
    a.cfg = {"memory_limit": a.memory_limit, "threads": a.threads, "temp_directory": str(tmp.resolve())}
    import duckdb

    lines = duckdb.sql(f"SELECT count(*) FROM read_parquet('{a.wh}/order_lines/*.parquet')").fetchall()[0][0]
    print(f"{lines:,} order lines; as of {a.as_of}, cohorts from {a.start}; DuckDB {a.threads} threads, "
          f"memory_limit {a.memory_limit}", flush=True)

    res = {}
    for name, fn in (("rfm_ibis", step_rfm_ibis), ("rfm_sql", step_rfm_sql), ("cohort_ibis", step_cohort_ibis),
                     ("cohort_sql", step_cohort_sql)):
        res[name] = run_step(fn, a)
        print(f"{name:<12} {res[name]['seconds']:7.2f}s  peak {res[name]['peak_mb']:7,.0f} MB  "
              f"({len(res[name]['result']):,} rows)", flush=True)
    check_rfm(res["rfm_ibis"]["result"], res["rfm_sql"]["result"])
    check_cohorts(res["cohort_ibis"]["result"], res["cohort_sql"]["result"])
    c = res["cohort_ibis"]
    print(f"Ibis and SQL agree: {len(res['rfm_ibis']['result']):,} RFM customers, {len(c['result']):,} cohort "
          f"cells; retention matrix {c['cohorts']} cohorts built in {c['matrix_s']:.2f}s, mean month-1 retention "
          f"{c['month1_retention']:.1%}", flush=True)
    rfm_ratio = res["rfm_ibis"]["seconds"] / res["rfm_sql"]["seconds"]
    cohort_ratio = res["cohort_ibis"]["seconds"] / res["cohort_sql"]["seconds"]
    print(f"ratio Ibis/SQL: RFM {rfm_ratio:.2f}, cohorts {cohort_ratio:.2f} (target ≤ 1.5)", flush=True)

    k = run_step(step_clv, a)
    fit_s = k["bg_nbd_s"] + k["gamma_gamma_s"]
    print(f"clv          summary {k['summary_s']:.2f}s, BG/NBD {k['bg_nbd_s']:.2f}s, Gamma-Gamma "
          f"{k['gamma_gamma_s']:.2f}s (fit {fit_s:.2f}s, target < 60 s) on {k['customers']:,} customers "
          f"({k['repeat_customers']:,} with repeat purchases); peak {k['peak_mb']:,.0f} MB; converged {k['converged']}",
          flush=True)
    print(f"  BG/NBD {json.dumps({p: round(v, 4) for p, v in k['bg_nbd'].items()})}  "
          f"Gamma-Gamma {json.dumps({p: round(v, 4) for p, v in k['gamma_gamma'].items()})}", flush=True)
    print(json.dumps({
        "benchmark": "customers", "scale": a.scale, "order_lines": int(lines), "repeat": a.repeat,
        "threads": a.threads, "memory_limit": a.memory_limit,
        "rfm_ibis_s": round(res["rfm_ibis"]["seconds"], 3), "rfm_sql_s": round(res["rfm_sql"]["seconds"], 3),
        "rfm_ratio": round(rfm_ratio, 2), "rfm_customers": len(res["rfm_ibis"]["result"]),
        "cohort_ibis_s": round(res["cohort_ibis"]["seconds"], 3), "cohort_sql_s": round(res["cohort_sql"]["seconds"], 3),
        "cohort_ratio": round(cohort_ratio, 2), "cohort_cells": len(c["result"]),
        "cohort_matrix_s": round(c["matrix_s"], 3), "results_agree": True,
        "clv_customers": k["customers"], "clv_summary_s": round(k["summary_s"], 3),
        "bg_nbd_fit_s": round(k["bg_nbd_s"], 3), "gamma_gamma_fit_s": round(k["gamma_gamma_s"], 3),
        "clv_fit_s": round(fit_s, 3), "clv_converged": k["converged"],
        "peak_mb": {n: round(r["peak_mb"]) for n, r in res.items()} | {"clv": round(k["peak_mb"])},
    }))


if __name__ == "__main__":
    main()
