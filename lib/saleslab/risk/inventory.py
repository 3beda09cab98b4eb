"""Inventory turnover watch (库存周转监控, domain.md §10): turnover at every inventory observation,
against its own expected level, with an alert beyond the threshold (source: 3 %).

The ``inventory`` table holds snapshots: month-end ones in the demo, daily ones from other
systems. The watch runs at the frequency of the snapshots (it cannot be daily with month-end
stock) and says which it was (``watch_frequency``: ``freq_daily``, ``freq_weekly``,
``freq_monthly``, ``freq_irregular`` from the median gap between snapshot dates). Definitions, at
an observation date d (a snapshot date in [start, end]), overall (category ``all``) and per
product category:

- stock value at a snapshot = Σ quantity × unit cost (product master; a product without cost
  counts 0), summed over warehouses; a category absent from a snapshot holds 0;
- **turnover** (库存周转率, annualised) = cost of goods sold in (d − W, d] / mean stock value of
  the snapshots in (d − W, d] × 365 / W, with W = ``risk_turnover_window_days`` (30); cost of
  goods sold from :func:`saleslab.facts.movements_expr` (sales cost less returned cost, returns on
  their return date or order date as the facts parameters say);
- **expected turnover** = the mean turnover of the observations in [d − B, d), B =
  ``risk_turnover_baseline_days`` (90), when there are at least ``risk_turnover_baseline_min`` (2)
  of them (else not judged);
- **deviation** = turnover / expected − 1; an **alert** when |deviation| >
  ``risk_turnover_deviation_max`` (0.03); ``turnover_direction`` says whether turnover fell
  (stock building up) or rose (risk of stock-outs).
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from .. import facts
from ..engine import Engine
from ..errors import InsufficientData
from ..facts import Params as FactsParams
from ..params import attach
from ..periods import as_date
from .params import Params

FREQUENCIES = ("freq_daily", "freq_weekly", "freq_monthly", "freq_irregular")
DIRECTIONS = ("turnover_down", "turnover_up", "turnover_steady")
_COLUMNS = ["snapshot_date", "category", "stock_value", "cogs_window", "turnover", "expected_turnover",
            "turnover_deviation", "turnover_alert", "turnover_direction", "watch_frequency"]


def frequency_of(dates) -> tuple[str, float]:
    """(frequency code, median gap in days) of a set of snapshot dates."""
    d = sorted(set(pd.to_datetime(pd.Series(list(dates))).dt.date))
    if len(d) < 2:
        return "freq_irregular", float("nan")
    gap = float(np.median([(b - a).days for a, b in zip(d, d[1:])]))
    code = ("freq_daily" if gap <= 1 else "freq_weekly" if 6 <= gap <= 8 else
            "freq_monthly" if 28 <= gap <= 31 else "freq_irregular")
    return code, gap


def turnover_watch(eng: Engine, start, end, params: Params | None = None,
                   facts_params: FactsParams | None = None) -> pd.DataFrame:
    """Turnover at each inventory observation in [start, end], overall and per category, with its alert.

    Input: inventory snapshots dated in [start − W, end], the product master (unit cost,
    category), :func:`saleslab.facts.movements_expr` (cost of goods) over [start − W, end].
    Returns: snapshot_date, category (``all`` for the total), stock_value, cogs_window, turnover,
    expected_turnover, turnover_deviation, turnover_alert, turnover_direction, watch_frequency —
    by category (``all`` first), then date. Formula: see the module docstring. The result records
    ``params``, ``facts_params``, ``period_start``, ``period_end``, ``watch_frequency`` and
    ``median_gap_days``.
    Raises :class:`MissingSource` without inventory, products or orders; :class:`InsufficientData`
    when no snapshot is dated in the period.
    """
    params, fp = params or Params(), facts_params or FactsParams()
    start, end = as_date(start), as_date(end)
    eng.require("inventory", "products", "orders", "order_lines", needed_for="inventory turnover watch")
    w, b = params.risk_turnover_window_days, params.risk_turnover_baseline_days
    first = start - dt.timedelta(days=w)
    p = facts.products(eng).select("product_id", "unit_cost", "category")
    inv = eng.table("inventory")
    inv = inv.filter(inv.snapshot_date.between(first, end)).select("snapshot_date", "product_id", "quantity")
    j = inv.left_join(p, "product_id")
    value = (j.quantity * j.unit_cost.fill_null(0) * 100).round(0).cast("int64")
    stock = eng.execute(j.group_by(["snapshot_date", j.category.fill_null(facts.UNKNOWN).name("category")])
                        .aggregate(value=value.sum()))
    stock["snapshot_date"] = pd.to_datetime(stock["snapshot_date"]).dt.date
    obs = sorted(d for d in set(stock["snapshot_date"]) if start <= d <= end)
    if not obs:
        raise InsufficientData(f"no inventory snapshot is dated between {start} and {end}",
                               needed_for="inventory turnover watch")
    freq, gap = frequency_of(obs)
    m = facts.movements_expr(eng, first, end, fp.returns_basis)
    mj = m.left_join(p, m.product_id == p.product_id)
    cogs = eng.execute(mj.group_by(["date", mj.category.fill_null(facts.UNKNOWN).name("category")])
                       .aggregate(cost=(mj.cost * 100).round(0).cast("int64").sum()))
    cogs["date"] = pd.to_datetime(cogs["date"]).dt.date
    snap = np.array([d.toordinal() for d in sorted(set(stock["snapshot_date"]))])
    o = np.array([d.toordinal() for d in obs])
    parts = []
    for c in ["all", *sorted(set(stock["category"]) | set(cogs["category"]))]:
        s = stock if c == "all" else stock[stock["category"] == c]
        v = s.groupby("snapshot_date")["value"].sum().reindex([dt.date.fromordinal(int(x)) for x in snap], fill_value=0)
        g = (cogs if c == "all" else cogs[cogs["category"] == c]).groupby("date")["cost"].sum().sort_index()
        cs = np.concatenate([[0], np.cumsum(v.to_numpy(dtype="int64"))])
        hi, lo = np.searchsorted(snap, o, "right"), np.searchsorted(snap, o - w, "right")
        avg = (cs[hi] - cs[lo]) / np.maximum(hi - lo, 1) / 100
        gd = np.array([d.toordinal() for d in g.index], dtype="int64")
        gc = np.concatenate([[0], np.cumsum(g.to_numpy(dtype="int64"))])
        cg = (gc[np.searchsorted(gd, o, "right")] - gc[np.searchsorted(gd, o - w, "right")]) / 100
        t = np.where(avg > 0, cg / np.where(avg > 0, avg, 1) * 365 / w, np.nan)
        valid = ~np.isnan(t)
        ts = np.concatenate([[0.0], np.cumsum(np.where(valid, t, 0.0))])
        tn = np.concatenate([[0], np.cumsum(valid)])
        first_i = np.searchsorted(o, o - b, "left")
        idx = np.arange(len(o))
        n_prev = tn[idx] - tn[first_i]
        expected = np.where(n_prev >= params.risk_turnover_baseline_min,
                            (ts[idx] - ts[first_i]) / np.maximum(n_prev, 1), np.nan)
        parts.append(pd.DataFrame({"snapshot_date": obs, "category": c,
                                   "stock_value": (v.reindex(obs).to_numpy(dtype="int64") / 100),
                                   "cogs_window": np.round(cg, 2), "turnover": t, "expected_turnover": expected}))
    df = pd.concat(parts, ignore_index=True)
    df["turnover_deviation"] = (df["turnover"] / df["expected_turnover"] - 1).where(df["expected_turnover"] > 0).round(6)
    df["turnover"] = df["turnover"].round(4)
    df["expected_turnover"] = df["expected_turnover"].round(4)
    dev = df["turnover_deviation"]
    df["turnover_alert"] = (dev.abs() > params.risk_turnover_deviation_max).where(dev.notna(), False).astype(bool)
    df["turnover_direction"] = np.select([df["turnover_alert"] & (dev < 0), df["turnover_alert"] & (dev > 0)],
                                         ["turnover_down", "turnover_up"], default="turnover_steady")
    df["watch_frequency"] = freq
    # categories neither stocked nor sold in the period are left out
    active = df.groupby("category")[["stock_value", "cogs_window"]].transform("sum").sum(axis=1) > 0
    df = df[active | (df["category"] == "all")]
    return attach(df[_COLUMNS].reset_index(drop=True), params, period_start=str(start), period_end=str(end),
                  watch_frequency=freq, median_gap_days=gap, **fp.model_dump(mode="json"))


def latest_turnover(watch: pd.DataFrame) -> pd.DataFrame:
    """The last observation of each category of :func:`turnover_watch` (the watch's state on the
    report date), with flagged_observations / judged_observations of the period — flagged first."""
    judged = watch[watch["turnover_deviation"].notna()]
    counts = judged.groupby("category").agg(judged_observations=("turnover_alert", "size"),
                                            flagged_observations=("turnover_alert", "sum"))
    last = watch.sort_values("snapshot_date").groupby("category").tail(1).set_index("category")
    out = last.join(counts, how="left").reset_index()
    for c in ("judged_observations", "flagged_observations"):
        out[c] = out[c].fillna(0).astype("int64")
    out["_all"] = out["category"] != "all"
    out = out.sort_values(["_all", "turnover_alert", "category"], ascending=[True, False, True]).drop(columns="_all")
    out = out[["category", "snapshot_date", "stock_value", "turnover", "expected_turnover", "turnover_deviation",
               "turnover_alert", "turnover_direction", "flagged_observations", "judged_observations", "watch_frequency"]]
    out = out.reset_index(drop=True)
    out.attrs = {"params": dict(watch.attrs.get("params", {}))}
    return out
