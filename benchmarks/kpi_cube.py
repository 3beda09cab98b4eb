"""Benchmark: the KPI cube through our Ibis code on DuckDB vs hand-written DuckDB SQL vs pandas.

    python benchmarks/kpi_cube.py --scale small|medium|large [--seed 42] [--workdir DIR] [--repeat 3]

Uses the warehouse ``<workdir>/<scale>/warehouse`` when it exists; otherwise generates the demo
(``saleslab.demo.generate``) into ``<workdir>/<scale>/demo`` and ingests it there first.

The work, the same for the three contenders, over 2024-01-01 .. 2025-12-31 (2023 read for last year):

1. month x region x channel: gross sales, returns, revenue, volume, cost, orders, active and new
   customers, reps and rep revenue, revenue last year and previous month, region target and
   achievement;
2. month x product: the same measures without target.

(a) ``saleslab.performance.kpi_cube`` (Ibis on DuckDB, 2 threads), (b) one hand-written DuckDB SQL query per
cube over the same Parquet files (same connection settings), (c) idiomatic pandas (read the needed
columns with pyarrow, merge, groupby). The three results are checked to agree (money to the cent).
Each contender's time is the best of ``--repeat`` runs. Each contender (and the demo generation
and ingest, when the warehouse is missing) runs in its own freshly started process, so each peak
(``ru_maxrss``) is that contender's own: the interpreter and its imports plus the work, never the
demo generation's memory (which an earlier version reported as the cube's peak on its first run).
Ends with one JSON line of the figures.
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

from saleslab.performance import kpis  # noqa: E402
from saleslab.engine import connect  # noqa: E402

START, END, EXT_START = "2024-01-01", "2025-12-31", "2023-01-01"
CUBES = {"region_channel": ("region", "channel"), "product": ("product_id",)}
MONEY = ["gross_sales", "returns", "revenue", "cost", "rep_revenue", "revenue_last_year", "revenue_prev_period"]
COUNTS = ["orders", "active_customers", "new_customers", "reps"]
COMPARED = MONEY + ["volume"] + COUNTS


def ensure_warehouse(work: Path, scale: str, seed: int) -> Path:
    """The warehouse ``<work>/<scale>/warehouse``, generated and ingested first (in a process of
    its own, so its memory is not any later measurement's) when it is missing."""
    wh = work / scale / "warehouse"
    if wh.is_dir() and (wh / "_ingest").is_dir():
        print(f"reusing warehouse {wh}", flush=True)
        return wh
    p = mp.get_context("spawn").Process(target=_build_warehouse, args=(work, scale, seed))
    p.start()
    p.join()
    if p.exitcode:
        raise SystemExit(f"generating / ingesting the {scale} demo failed (exit code {p.exitcode})")
    return wh


def _build_warehouse(work: Path, scale: str, seed: int) -> None:
    wh = work / scale / "warehouse"
    from saleslab.demo import generate
    from saleslab.ingest.load import ingest

    demo = work / scale / "demo"
    t0 = time.perf_counter()
    print(f"generating the {scale} demo into {demo} ...", flush=True)
    generate(demo, scale=scale, seed=seed)
    print(f"  {time.perf_counter() - t0:.0f}s; ingesting into {wh} ...", flush=True)
    t0 = time.perf_counter()
    ingest(demo / "exports", ROOT / "parameters" / "sources", wh)
    print(f"  {time.perf_counter() - t0:.0f}s", flush=True)


# ---- (a) our Ibis code --------------------------------------------------------------------------

def run_ibis(eng) -> dict[str, pd.DataFrame]:
    return {name: kpis.kpi_cube(eng, START, END, "month", by, targets=name == "region_channel")
            for name, by in CUBES.items()}


# ---- (b) hand-written DuckDB SQL ----------------------------------------------------------------

def cube_sql(wh: Path, dims: tuple[str, ...], with_target: bool) -> str:
    def src(t):
        return f"read_parquet('{wh}/{t}/*.parquet')"

    sale_dims = ", ".join({"region": "coalesce(o.region, 'unknown') AS region",
                           "channel": "coalesce(o.channel, 'unknown') AS channel",
                           "product_id": "coalesce(l.product_id, 'unknown') AS product_id"}[d] for d in dims)
    ret_dims = ", ".join({"region": "coalesce(o.region, 'unknown')", "channel": "coalesce(o.channel, 'unknown')",
                          "product_id": "coalesce(r.product_id, 'unknown')"}[d] for d in dims)
    d = ", ".join(dims)
    on = lambda a, b: " AND ".join(f"{a}.{x} = {b}.{x}" for x in dims)  # noqa: E731
    sql = f"""
WITH o_all AS (SELECT order_id, order_date, customer_id, channel, region, rep_id FROM {src('orders')}),
first AS (SELECT customer_id, min(order_date) AS first_date FROM o_all WHERE customer_id IS NOT NULL GROUP BY 1),
p AS (SELECT product_id, unit_cost FROM {src('products')}),
mv AS (
  SELECT date_trunc('month', o.order_date)::DATE AS period, {sale_dims}, l.net_amount AS amount,
         l.quantity, l.quantity * coalesce(p.unit_cost, 0) AS cost, TRUE AS is_sale, o.rep_id AS order_rep,
         o.order_id AS sale_order, o.customer_id AS sale_customer, o.rep_id AS sale_rep,
         CASE WHEN date_trunc('month', f.first_date) = date_trunc('month', o.order_date) THEN o.customer_id END
           AS new_customer
  FROM {src('order_lines')} l JOIN o_all o ON l.order_id = o.order_id
  LEFT JOIN first f ON o.customer_id = f.customer_id LEFT JOIN p ON l.product_id = p.product_id
  WHERE o.order_date BETWEEN DATE '{EXT_START}' AND DATE '{END}'
  UNION ALL
  SELECT date_trunc('month', r.return_date)::DATE, {ret_dims}, -r.amount, -r.quantity,
         -r.quantity * coalesce(p.unit_cost, 0), FALSE, o.rep_id, NULL, NULL, NULL, NULL
  FROM {src('returns')} r LEFT JOIN o_all o ON r.order_id = o.order_id LEFT JOIN p ON r.product_id = p.product_id
  WHERE r.return_date BETWEEN DATE '{EXT_START}' AND DATE '{END}'
),
agg AS (
  SELECT period, {d},
    sum(CASE WHEN is_sale THEN amount ELSE 0 END) AS gross_sales,
    -sum(CASE WHEN is_sale THEN 0 ELSE amount END) AS returns,
    sum(amount) AS revenue, sum(quantity) AS volume, sum(cost) AS cost,
    count(DISTINCT sale_order) AS orders, count(DISTINCT sale_customer) AS active_customers,
    count(DISTINCT new_customer) AS new_customers, count(DISTINCT sale_rep) AS reps,
    sum(CASE WHEN order_rep IS NOT NULL THEN amount ELSE 0 END) AS rep_revenue
  FROM mv GROUP BY ALL
),
cur AS (
  SELECT a.*, ly.revenue AS revenue_last_year, pp.revenue AS revenue_prev_period
  FROM agg a
  LEFT JOIN agg ly ON ly.period = (a.period - INTERVAL 1 YEAR)::DATE AND {on('ly', 'a')}
  LEFT JOIN agg pp ON pp.period = (a.period - INTERVAL 1 MONTH)::DATE AND {on('pp', 'a')}
  WHERE a.period >= DATE '{START}'
)"""
    if not with_target:
        return sql + "\nSELECT * FROM cur ORDER BY ALL"
    return sql + f""",
lvl AS (SELECT period, region, sum(revenue) AS level_revenue FROM cur GROUP BY ALL),
tg AS (SELECT month AS period, level_id AS region, sum(target_amount) AS target FROM {src('targets')}
       WHERE level = 'region' AND month BETWEEN DATE '{START}' AND DATE '{END}' GROUP BY ALL)
SELECT cur.*, tg.target, round(lvl.level_revenue, 2) / nullif(tg.target, 0) AS achievement_rate
FROM cur JOIN lvl USING (period, region) LEFT JOIN tg USING (period, region)
ORDER BY ALL"""


def run_sql(con, wh: Path) -> dict[str, pd.DataFrame]:
    out = {}
    for name, by in CUBES.items():
        df = con.sql(cube_sql(wh, by, name == "region_channel")).df()
        df["period"] = pd.to_datetime(df["period"]).dt.date
        out[name] = df
    return out


# ---- (c) pandas ---------------------------------------------------------------------------------

def run_pandas(wh: Path) -> dict[str, pd.DataFrame]:
    def read(t, cols):
        return pd.read_parquet(wh / t, columns=cols, engine="pyarrow")

    orders = read("orders", ["order_id", "order_date", "customer_id", "channel", "region", "rep_id"])
    orders["order_date"] = pd.to_datetime(orders["order_date"])
    lines = read("order_lines", ["order_id", "product_id", "quantity", "net_amount"])
    products = read("products", ["product_id", "unit_cost"])
    returns = read("returns", ["order_id", "product_id", "return_date", "quantity", "amount"])
    returns["return_date"] = pd.to_datetime(returns["return_date"])
    targets = read("targets", ["month", "level", "level_id", "target_amount"])
    lo, hi = pd.Timestamp(EXT_START), pd.Timestamp(END)

    first = orders.dropna(subset=["customer_id"]).groupby("customer_id")["order_date"].min().rename("first_date")
    o = orders[orders["order_date"].between(lo, hi)].join(first, on="customer_id")
    s = lines.merge(o, on="order_id").merge(products, on="product_id", how="left")
    s["period"] = s["order_date"].dt.to_period("M").dt.start_time
    s["cost"] = s["quantity"] * s["unit_cost"].fillna(0)
    s["new_customer"] = s["customer_id"].where(s["first_date"].dt.to_period("M").dt.start_time == s["period"])
    s = s.rename(columns={"net_amount": "amount"})
    s["is_sale"] = True
    s["sale_rep"], s["sale_order"], s["sale_customer"] = s["rep_id"], s["order_id"], s["customer_id"]
    r = returns[returns["return_date"].between(lo, hi)]
    r = r.merge(orders[["order_id", "channel", "region", "rep_id"]], on="order_id", how="left")
    r = r.merge(products, on="product_id", how="left")
    r = r.assign(period=r["return_date"].dt.to_period("M").dt.start_time, amount=-r["amount"],
                 quantity=-r["quantity"], cost=-r["quantity"] * r["unit_cost"].fillna(0), is_sale=False)
    cols = ["period", "channel", "region", "product_id", "rep_id", "amount", "quantity", "cost", "is_sale",
            "sale_order", "sale_customer", "sale_rep", "new_customer"]
    mv = pd.concat([s[cols], r.reindex(columns=cols)], ignore_index=True)
    for c in ("channel", "region", "product_id"):
        mv[c] = mv[c].fillna("unknown")
    mv["gross"] = mv["amount"].where(mv["is_sale"], 0.0)
    mv["ret"] = (-mv["amount"]).where(~mv["is_sale"], 0.0)
    mv["rep_amount"] = mv["amount"].where(mv["rep_id"].notna(), 0.0)
    tg = (targets[(targets["level"] == "region")].assign(period=lambda t: pd.to_datetime(t["month"]))
          .groupby(["period", "level_id"], as_index=False)["target_amount"].sum()
          .rename(columns={"level_id": "region", "target_amount": "target"}))

    out = {}
    for name, by in CUBES.items():
        keys = ["period", *by]
        g = mv.groupby(keys).agg(
            gross_sales=("gross", "sum"), returns=("ret", "sum"), revenue=("amount", "sum"),
            volume=("quantity", "sum"), cost=("cost", "sum"), orders=("sale_order", "nunique"),
            active_customers=("sale_customer", "nunique"), new_customers=("new_customer", "nunique"),
            reps=("sale_rep", "nunique"), rep_revenue=("rep_amount", "sum")).reset_index()
        for col, off in (("revenue_last_year", pd.DateOffset(years=1)), ("revenue_prev_period", pd.DateOffset(months=1))):
            sh = g[keys + ["revenue"]].rename(columns={"revenue": col})
            sh["period"] = sh["period"] + off
            g = g.merge(sh, on=keys, how="left")
        g = g[g["period"] >= pd.Timestamp(START)]
        if name == "region_channel":
            lvl = g.groupby(["period", "region"], as_index=False)["revenue"].sum().merge(tg, on=["period", "region"], how="left")
            lvl["achievement_rate"] = lvl["revenue"].round(2) / lvl["target"]
            g = g.merge(lvl[["period", "region", "target", "achievement_rate"]], on=["period", "region"], how="left")
        g["period"] = g["period"].dt.date
        out[name] = g.sort_values(keys).reset_index(drop=True)
    return out


# ---- checks and timing --------------------------------------------------------------------------

def check_same(ref: dict, other: dict, label: str) -> None:
    for name, by in CUBES.items():
        keys = ["period", *by]
        a, b = ref[name], other[name]
        if len(a) != len(b):
            raise SystemExit(f"{label} / {name}: {len(b)} rows, expected {len(a)}")
        cols = COMPARED + (["target", "achievement_rate"] if name == "region_channel" else [])
        m = a[keys + cols].merge(b[keys + cols], on=keys, how="outer", suffixes=("", "_o"), indicator=True)
        if (m["_merge"] != "both").any():
            raise SystemExit(f"{label} / {name}: segments differ, e.g. {m[m['_merge'] != 'both'].head(3)}")
        for c in cols:
            x, y = m[c].astype("float64").to_numpy(), m[c + "_o"].astype("float64").to_numpy()
            tol = 1e-6 if c == "achievement_rate" else (0.011 if c in MONEY + ["target"] else 1e-6)
            if c in MONEY + ["target"]:
                x, y = np.round(x, 2), np.round(y, 2)
            bad = ~((np.isnan(x) & np.isnan(y)) | (np.abs(x - y) <= tol))
            if bad.any():
                raise SystemExit(f"{label} / {name}: column {c} differs on {int(bad.sum())} rows, e.g.\n"
                                 f"{m.loc[bad, keys + [c, c + '_o']].head(5)}")


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _contender(name: str, a, wh: Path, cfg: dict, q) -> None:
    """One contender in its own process: (best seconds, results, this process's peak MB)."""
    try:
        if name == "ibis":
            with connect(wh, "duckdb", cfg) as eng:
                secs, res = best_of(a.repeat, lambda: run_ibis(eng))
        elif name == "duckdb_sql":
            import duckdb

            con = duckdb.connect(config=dict(cfg))
            secs, res = best_of(a.repeat, lambda: run_sql(con, wh))
            con.close()
        else:
            secs, res = best_of(a.repeat, lambda: run_pandas(wh))
        q.put((secs, res, _peak_mb()))
    except BaseException as e:  # report, don't hang the parent
        q.put(f"{type(e).__name__}: {e}")


def measure(name: str, a, wh: Path, cfg: dict):
    """Run contender ``name`` in a freshly started process; return (seconds, results, peak MB)."""
    ctx = mp.get_context("spawn")
    q = ctx.Queue()
    p = ctx.Process(target=_contender, args=(name, a, wh, cfg, q))
    p.start()
    out = q.get()
    p.join()
    if isinstance(out, str):
        raise SystemExit(f"contender {name} failed: {out}")
    return out


def best_of(n: int, fn):
    times, result = [], None
    for _ in range(n):
        t0 = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - t0)
    return min(times), result


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--scale", choices=["small", "medium", "large"], default="medium")
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--workdir", default=str(ROOT / ".tmp" / "bench_kpi"))
    ap.add_argument("--repeat", type=int, default=3, help="runs per contender; the best time counts")
    ap.add_argument("--memory-limit", default="1GB", help="DuckDB memory_limit for both DuckDB contenders")
    ap.add_argument("--threads", type=int, default=2)
    a = ap.parse_args()
    wh = ensure_warehouse(Path(a.workdir), a.scale, a.seed).resolve()
    tmp = Path(a.workdir) / "duckdb_tmp"
    tmp.mkdir(parents=True, exist_ok=True)
    cfg = {"memory_limit": a.memory_limit, "threads": a.threads, "temp_directory": str(tmp)}
    import duckdb

    lines = duckdb.sql(f"SELECT count(*) FROM read_parquet('{wh}/order_lines/*.parquet')").fetchall()[0][0]
    print(f"{lines:,} order lines; cubes month x region x channel (YoY, PoP, region target) and month x product",
          flush=True)

    ibis_s, res_ibis, ibis_peak = measure("ibis", a, wh, cfg)
    print(f"(a) Ibis on DuckDB      {ibis_s:7.2f}s, peak {ibis_peak:,.0f} MB", flush=True)
    sql_s, res_sql, sql_peak = measure("duckdb_sql", a, wh, cfg)
    print(f"(b) DuckDB SQL          {sql_s:7.2f}s, peak {sql_peak:,.0f} MB", flush=True)
    pandas_s, res_pd, pandas_peak = measure("pandas", a, wh, cfg)
    print(f"(c) pandas              {pandas_s:7.2f}s, peak {pandas_peak:,.0f} MB", flush=True)

    check_same(res_ibis, res_sql, "duckdb_sql")
    check_same(res_ibis, res_pd, "pandas")
    rc = res_ibis["region_channel"]
    print(f"the three agree: {len(rc):,} region x channel rows, {len(res_ibis['product']):,} product rows, "
          f"revenue {rc['revenue'].sum():,.2f}", flush=True)
    process_peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({
        "benchmark": "kpi_cube", "scale": a.scale, "order_lines": int(lines), "repeat": a.repeat,
        "threads": a.threads, "ibis_s": round(ibis_s, 3), "duckdb_sql_s": round(sql_s, 3),
        "pandas_s": round(pandas_s, 3), "ratio_vs_duckdb_sql": round(ibis_s / sql_s, 2),
        "ratio_vs_pandas": round(pandas_s / ibis_s, 2), "rows_region_channel": len(rc),
        "rows_product": len(res_ibis["product"]), "results_agree": True, "peak_mb": round(ibis_peak), "duckdb_sql_peak_mb": round(sql_peak),
        "pandas_peak_mb": round(pandas_peak), "process_peak_mb": round(process_peak),
    }))


if __name__ == "__main__":
    main()
