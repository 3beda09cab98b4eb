"""Analysis kinds of domain.md §3 on KPI tables: comparison, structure, anomaly, correlation.

Every function but :func:`marketing_spend` and :func:`spend_vs_revenue` is pure pandas on small,
aggregated frames such as
:func:`saleslab.performance.kpi_cube`'s (one row per period and segment); only additive values
(revenue, gross profit, volume, cost) may be summed over segments, so :func:`explain_change`
and :func:`biggest_movements` take additive values only.

- comparison: value vs the same period last year and vs target (:func:`comparison`);
- structure: shares of a value and their change vs the previous period (:func:`shares`);
- anomaly: periods / segments far from their own expected level (:func:`anomalies`), and a
  drill-down of a change into the segments that made it (:func:`explain_change`,
  :func:`biggest_movements`);
- correlation: marketing spend vs revenue per channel (:func:`spend_vs_revenue`) — an
  association over months, not evidence that spend caused the revenue.

Thresholds come from parameter models, never loose arguments: :class:`saleslab.performance.Params`
(``anomaly_threshold``, ``top_movements``) and, for the achievement bands, the team stage's
:class:`saleslab.team.params.Params` (``reward_min``, ``coaching_max``); every result records the
parameters it was computed with (:func:`saleslab.params.attach`), with those of its input.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
import pandas as pd

from . import kpis
from ..engine import Engine
from ..errors import InsufficientData, MissingSource, SalesLabError
from ..facts import Params as FactsParams
from ..params import attach
from .params import Params

#: Values that can be summed over segments.
ADDITIVE = ("revenue", "gross_sales", "returns", "cost", "gross_profit", "volume", "revenue_last_year",
            "revenue_prev_period", "rep_revenue", "spend")


def _tuple(by) -> tuple[str, ...]:
    return (by,) if isinstance(by, str) else tuple(by or ())


def _ratio(a, b):
    a = pd.Series(a, dtype="float64") if not isinstance(a, pd.Series) else a.astype("float64")
    b = pd.Series(b, dtype="float64") if not isinstance(b, pd.Series) else b.astype("float64")
    return (a / b).where(b != 0)


def _check_additive(value: str) -> None:
    if value not in ADDITIVE:
        raise SalesLabError(f"{value!r} cannot be summed over segments; use one of {', '.join(ADDITIVE)}")


def _carry(out: pd.DataFrame, source: pd.DataFrame, params=None, **more) -> pd.DataFrame:
    """``out`` recording the parameters ``source`` was computed with, then ``params`` and ``more``."""
    out.attrs["params"] = dict(source.attrs.get("params", {}))
    return attach(out, params, **more)


def latest_period(df: pd.DataFrame, period: str = "period"):
    """The latest period of ``df`` (None when it is empty)."""
    return df[period].max() if len(df) else None


# ---- comparison -------------------------------------------------------------------------------

def comparison(cube: pd.DataFrame, by=(), team_params=None) -> pd.DataFrame:
    """Revenue vs the same period last year and vs target, per period and ``by`` segment.

    Input: :func:`saleslab.performance.kpi_cube`'s table (columns period, <dims>, revenue,
    gross_sales, revenue_last_year, and target / achievement_rate / target_level when it has them).
    ``team_params``: :class:`saleslab.team.params.Params` (the reward tier and coaching list
    thresholds of domain.md §8, one home for both stages); defaults when None.

    Returns columns period, <by...>, revenue, revenue_last_year, change_vs_last_year (revenue −
    last year), yoy_growth (revenue / last year − 1) and, when ``by`` is exactly the cube's target
    level: target, gap_to_target (actual − target), achievement_rate (actual / target; actual =
    revenue, or gross sales when the cube was computed with ``achievement_basis`` "gross") and
    achievement_band: ``above`` (≥ ``reward_min``), ``on_track``, ``below`` (≤ ``coaching_max``)
    or ``no_target``. The result records the cube's parameters and ``team_params``.
    """
    from ..team.params import Params as TeamParams

    team_params = team_params if team_params is not None else TeamParams()
    by = _tuple(by)
    g = cube.groupby(["period", *by], as_index=False, dropna=False).agg(
        revenue=("revenue", "sum"), revenue_last_year=("revenue_last_year", lambda s: s.sum(min_count=1)))
    g["revenue"] = g["revenue"].round(2)
    g["change_vs_last_year"] = (g["revenue"] - g["revenue_last_year"]).round(2)
    g["yoy_growth"] = _ratio(g["revenue"], g["revenue_last_year"]) - 1
    level = cube["target_level"].iloc[0] if "target_level" in cube.columns and len(cube) else None
    level_dim = {v: k for k, v in kpis.TARGET_LEVELS.items()}.get(level)
    if level_dim is not None and by == (level_dim,):
        gross = cube.attrs.get("params", {}).get("achievement_basis") == "gross"
        actual = cube.groupby(["period", level_dim], as_index=False).agg(
            target=("target", "first"), _actual=("gross_sales" if gross else "revenue", "sum"))
        g = g.merge(actual, on=["period", level_dim], how="left")
        g["_actual"] = g["_actual"].round(2)
        g["gap_to_target"] = (g["_actual"] - g["target"]).round(2)
        g["achievement_rate"] = _ratio(g["_actual"], g["target"])
        a = g["achievement_rate"]
        g["achievement_band"] = np.select([a.isna(), a >= team_params.reward_min, a <= team_params.coaching_max],
                                          ["no_target", "above", "below"], "on_track")
        g = g.drop(columns="_actual")
    out = g.sort_values(["period", *by]).reset_index(drop=True)
    return _carry(out, cube, team_params)


def target_comparison(eng: Engine, start, end, by: str = "region", team_params=None,
                      facts_params: FactsParams | None = None, grain: str = "year") -> pd.DataFrame:
    """:func:`comparison` against target of the ``by`` level (region, team or rep_id) over [start, end]:
    the :func:`saleslab.performance.kpi_cube` by ``by`` at ``grain``, compared per ``by`` segment.

    Returns :func:`comparison`'s columns with target, gap_to_target, achievement_rate and
    achievement_band. Raises :class:`MissingSource` (targets) when no source provides targets and
    :class:`InsufficientData` when no target of that level falls in [start, end]: without targets
    there is no achievement to show (every row would read "no target").
    """
    if by not in kpis.TARGET_LEVELS:
        raise SalesLabError(f"targets are set per {', '.join(kpis.TARGET_LEVELS)} (got {by!r})")
    eng.require("targets", needed_for="achievement against target")
    cube = kpis.kpi_cube(eng, start, end, grain, by, facts_params)
    out = comparison(cube, by, team_params)
    if "target" not in out.columns or not out["target"].notna().any():
        start, end = kpis.as_date(start), kpis.as_date(end)
        raise InsufficientData(f"no {kpis.TARGET_LEVELS[by]} target of the sales falls between {start} and {end}",
                               needed_for="achievement against target")
    return out


# ---- structure --------------------------------------------------------------------------------

def shares(df: pd.DataFrame, value: str, by, within=(), period: str = "period") -> pd.DataFrame:
    """Share of ``value`` per ``by`` segment in each period, and its change vs the previous period.

    Input: a frame with ``period``, ``by`` and ``value`` columns (e.g. :func:`kpi_cube`'s).
    share = segment value / total of the period (or of the period and ``within`` group, e.g.
    channel shares inside each region); share_prev = the same in the previous period present in
    ``df`` (0 when the segment had nothing then, missing in the first period); share_change =
    share − share_prev (a difference of shares: 0.05 is 5 percentage points).

    Returns columns period, <by...>, <value>, share, share_prev, share_change.
    """
    by, within = _tuple(by), _tuple(within)
    if any(w not in by for w in within):
        raise SalesLabError(f"within={within!r} must be part of by={by!r}")
    g = df.groupby([period, *by], as_index=False, dropna=False)[value].sum()
    tot = g.groupby([period, *within], dropna=False)[value].transform("sum")
    g["share"] = _ratio(g[value], tot)
    periods = sorted(g[period].unique())
    prev_of = dict(zip(periods[1:], periods[:-1]))
    prev = g[[period, *by, "share"]].rename(columns={"share": "share_prev"})
    prev[period] = prev[period].map({p: n for n, p in prev_of.items()})
    prev = prev.dropna(subset=[period])
    g = g.merge(prev, on=[period, *by], how="left")
    has_prev = g[period].isin(prev_of)
    g.loc[has_prev, "share_prev"] = g.loc[has_prev, "share_prev"].fillna(0.0)
    g["share_change"] = g["share"] - g["share_prev"]
    return g.sort_values([period, *by]).reset_index(drop=True)


# ---- anomaly ----------------------------------------------------------------------------------

def anomalies(series_df: pd.DataFrame, params: Params | None = None, value: str = "revenue", by=(),
              period: str = "period", method: str = "seasonal", season: int = 12, trend_window: int = 3,
              window: int = 6, min_periods: int = 3) -> pd.DataFrame:
    """Periods (per ``by`` segment) whose value deviates from its own expected level by more than
    ``params.anomaly_threshold`` (0.2 = ±20 %).

    Input: a frame with ``period``, ``by`` and ``value`` columns (e.g. :func:`kpi_cube`'s).

    Periods are the sorted distinct periods of ``series_df`` (a segment without a row in a period
    has 0 there). Expected level, from earlier periods only:

    - ``seasonal``: value ``season`` periods earlier × trend, trend = Σ of the ``trend_window``
      periods before / Σ of the same periods a season earlier; where that history is missing (or
      zero) the ``median`` rule is used instead;
    - ``median``: median of the ``window`` previous periods (at least ``min_periods`` of them).

    deviation = value / expected − 1; gap = value − expected; is_anomaly = |deviation| >
    anomaly_threshold (expected > 0). Returns columns period, <by...>, value, expected, gap,
    deviation, is_anomaly, direction (``up`` / ``down``), method (the rule used) — one row per period
    and segment with an expectation. The result records the input's parameters, ``params`` and
    ``anomaly_method``.
    Raises :class:`InsufficientData` when no period has an expected level (at most ``min_periods``
    periods of history): "no anomaly" would then be a claim the data cannot support.
    """
    params = params if params is not None else Params()
    threshold = params.anomaly_threshold
    by = _tuple(by)
    if method not in ("seasonal", "median"):
        raise SalesLabError(f"unknown anomaly method {method!r}; allowed: seasonal, median")
    g = series_df.groupby([period, *by], dropna=False)[value].sum()
    wide = g.unstack(list(by)) if by else g.to_frame("__all__")
    wide = wide.sort_index().fillna(0.0).astype("float64")
    v = wide.to_numpy()
    n = len(wide)
    med = np.full_like(v, np.nan)
    for t in range(n):
        past = v[max(0, t - window):t]
        if len(past) >= min_periods:
            med[t] = np.median(past, axis=0)
    seas = np.full_like(v, np.nan)
    if method == "seasonal":
        for t in range(season + trend_window, n):
            recent = v[t - trend_window:t].sum(axis=0)
            before = v[t - season - trend_window:t - season].sum(axis=0)
            with np.errstate(divide="ignore", invalid="ignore"):
                trend = np.where(before > 0, recent / before, np.nan)
            seas[t] = v[t - season] * trend
        seas[~(seas > 0)] = np.nan
    expected = np.where(np.isnan(seas), med, seas)
    used = np.where(np.isnan(seas), "median", "seasonal")
    out = pd.DataFrame({
        period: np.repeat(wide.index.to_numpy(), v.shape[1]),
        "value": v.ravel(), "expected": expected.ravel(), "method": used.ravel(),
    })
    if by:
        cols = wide.columns.to_frame(index=False)
        for d in by:
            out[d] = np.tile(cols[d].to_numpy(), n)
    out = out[out["expected"].notna()].copy()
    if out.empty:
        raise InsufficientData(f"{n} period{'s' if n != 1 else ''} of history; an expected level needs at least "
                               f"{min_periods} earlier periods, so at least {min_periods + 1} periods are needed",
                               needed_for="anomalies")
    out["deviation"] = _ratio(out["value"], out["expected"]) - 1
    out["is_anomaly"] = (out["deviation"].abs() > threshold) & (out["expected"] > 0)
    out["direction"] = np.where(out["deviation"] >= 0, "up", "down")
    out["expected"] = out["expected"].round(2)
    out["gap"] = (out["value"] - out["expected"]).round(2)
    out = out[[period, *by, "value", "expected", "gap", "deviation", "is_anomaly", "direction", "method"]
              ].sort_values([period, *by]).reset_index(drop=True)
    return _carry(out, series_df, params, anomaly_method=method)


@dataclass
class ChangeExplanation:
    """A change of an additive value between two periods and the segments that made it.

    ``segments``: columns <dims...>, value_a, value_b, change, share_of_change (segment change /
    total change: the shares of all segments add up to 1; a segment moving against the total has a
    negative share), the top segments moving with the total first.
    """

    value: str
    period_a: object
    period_b: object
    dims: tuple[str, ...]
    total_a: float
    total_b: float
    change: float
    pct_change: float | None
    segments: pd.DataFrame


def explain_change(cube: pd.DataFrame, period_a, period_b, dims, value: str = "revenue", top: int = 3,
                   period: str = "period") -> ChangeExplanation:
    """Decompose the change of ``value`` from ``period_a`` to ``period_b`` into ``dims`` segments.

    Input: a frame with ``period``, ``dims`` and ``value`` columns (e.g. :func:`kpi_cube`'s).
    Returns a :class:`ChangeExplanation` (its ``segments``: the ``top`` segments).
    change = Σ over segments (value_b − value_a); each segment's share_of_change = its change / the
    total change, e.g. revenue −12 % MoM with 70 % of the drop from East China · offline.
    Only additive values (:data:`ADDITIVE`).
    """
    _check_additive(value)
    dims = _tuple(dims)
    if not dims:
        raise SalesLabError("explain_change needs at least one dimension to drill into")
    a = cube[cube[period] == period_a].groupby(list(dims), dropna=False)[value].sum().rename("value_a")
    b = cube[cube[period] == period_b].groupby(list(dims), dropna=False)[value].sum().rename("value_b")
    seg = pd.concat([a, b], axis=1).fillna(0.0).reset_index()
    seg["change"] = (seg["value_b"] - seg["value_a"]).round(2)
    total_a, total_b = round(float(seg["value_a"].sum()), 2), round(float(seg["value_b"].sum()), 2)
    change = round(total_b - total_a, 2)
    seg["share_of_change"] = seg["change"] / change if change else np.nan
    sign = 1.0 if change >= 0 else -1.0
    # stable: ties keep the dimensions' sorted order (total, so both engines pick the same top rows)
    seg = seg.assign(_k=seg["change"] * sign).sort_values("_k", ascending=False, kind="mergesort").drop(columns="_k")
    return ChangeExplanation(value, period_a, period_b, dims, total_a, total_b, change,
                             (total_b / total_a - 1) if total_a else None,
                             seg.head(top).reset_index(drop=True))


def comparison_period(p, grain: str, kind: str) -> dt.date:
    """The period ``p`` is compared with: ``pop`` the previous one, ``yoy`` the same one a year earlier."""
    return (pd.Timestamp(p) - kpis._offset(grain, kind)).date()


def biggest_movements(cube: pd.DataFrame, period, dims, params: Params | None = None, value: str = "revenue",
                      grain: str = "month", comparisons=("pop", "yoy")) -> pd.DataFrame:
    """The ``params.top_movements`` largest changes of one segment of one dimension, vs the
    previous period (``pop``) and the same period last year (``yoy``), each with the segment of
    another dimension that drove most of it.

    Input: :func:`kpi_cube`'s table (period, ``dims``, ``value``), additive values only.

    Candidates: every segment of every dimension in ``dims`` (e.g. each region, each channel),
    for each comparison; ranked by the size of the change (元), at most one movement per
    (dimension, segment). Driver: within the segment, the explain_change of the other dimensions
    taken one at a time; the one whose top segment carries the largest share of the change.
    A dimension whose every value is :data:`~saleslab.performance.kpis.UNKNOWN` (not in the
    warehouse: category without a product master) is left out.

    Returns columns comparison, dimension, segment, period, base_period, value, base_value, change
    (value − base_value), pct_change (change / base_value), driver_dimension, driver_segment,
    driver_change, driver_share (driver_change / change). The result records the cube's
    parameters and ``params``.
    """
    params = params if params is not None else Params()
    top = params.top_movements
    _check_additive(value)
    # a dimension the warehouse does not know (every value unknown, e.g. category without a
    # product master) has one segment, the total: it is neither a movement nor a driver
    dims = tuple(d for d in _tuple(dims) if not (len(cube) and (cube[d] == kpis.UNKNOWN).all()))
    rows = []
    for kind in comparisons:
        base = comparison_period(period, grain, kind)
        for d in dims:
            ex = explain_change(cube, base, period, d, value, top=10 ** 6)
            for _, s in ex.segments.iterrows():
                rows.append({"comparison": kind, "dimension": d, "segment": s[d], "period": period,
                             "base_period": base, "value": s["value_b"], "base_value": s["value_a"],
                             "change": s["change"]})
    cols = ["comparison", "dimension", "segment", "period", "base_period", "value", "base_value", "change",
            "pct_change", "driver_dimension", "driver_segment", "driver_change", "driver_share"]
    if not rows:
        return _carry(pd.DataFrame(columns=cols), cube, params)
    m = pd.DataFrame(rows)
    m = m[m["change"] != 0]
    m = m.assign(_a=m["change"].abs()).sort_values(["_a", "comparison"], ascending=[False, True])
    m = m.drop_duplicates(["dimension", "segment"]).head(top).drop(columns="_a").reset_index(drop=True)
    m["pct_change"] = _ratio(m["change"], m["base_value"])
    drivers = []
    for _, r in m.iterrows():
        sub = cube[cube[r["dimension"]] == r["segment"]]
        best = (None, None, np.nan, -np.inf)
        for other in (x for x in dims if x != r["dimension"]):
            ex = explain_change(sub, r["base_period"], period, other, value, top=1)
            if len(ex.segments) and ex.change:
                s = ex.segments.iloc[0]
                if s["share_of_change"] > best[3]:
                    best = (other, s[other], s["change"], float(s["share_of_change"]))
        drivers.append(best if best[0] is not None else (None, None, np.nan, np.nan))
    m[["driver_dimension", "driver_segment", "driver_change", "driver_share"]] = pd.DataFrame(
        drivers, index=m.index, dtype=object)
    m["driver_change"] = m["driver_change"].astype("float64")
    m["driver_share"] = m["driver_share"].astype("float64")
    return _carry(m[cols].copy(), cube, params)


# ---- correlation ------------------------------------------------------------------------------

def _pearson(x: np.ndarray, y: np.ndarray) -> float:
    if len(x) < 3 or np.std(x) == 0 or np.std(y) == 0:
        return float("nan")
    return float(np.corrcoef(x, y)[0, 1])


def correlate(df: pd.DataFrame, x: str, y: str, by=()) -> pd.DataFrame:
    """Pearson and Spearman (Pearson of average ranks) correlation of ``x`` and ``y`` per ``by`` group.

    Input: a frame with ``x``, ``y`` and ``by`` columns. Returns columns <by...>, n (rows),
    pearson, spearman. Formula: pearson = cov(x, y) / (σx σy); spearman = pearson of the ranks;
    missing (NaN) where a group has fewer than 3 rows or a constant column.
    """
    by = _tuple(by)
    groups = df.groupby(list(by), dropna=False) if by else [((), df)]
    rows = []
    for key, g in groups:
        key = key if isinstance(key, tuple) else (key,)
        xs, ys = g[x].to_numpy(dtype="float64"), g[y].to_numpy(dtype="float64")
        rx, ry = g[x].rank().to_numpy(dtype="float64"), g[y].rank().to_numpy(dtype="float64")
        rows.append({**dict(zip(by, key)), "n": len(g), "pearson": _pearson(xs, ys), "spearman": _pearson(rx, ry)})
    return pd.DataFrame(rows, columns=[*by, "n", "pearson", "spearman"])


def marketing_spend(eng: Engine, start, end, cost_types=None) -> pd.DataFrame:
    """Marketing spend per month and channel over [start, end].

    Input: channel_costs(month, channel, cost_type, amount), campaigns(channel, start_date,
    end_date, spend). Returns columns month, channel, channel_costs, campaign_spend, spend (元).
    Formula: spend = channel_costs (all cost types, or ``cost_types``) + campaign spend spread
    evenly over the campaign's days (start_date..end_date), the days in [start, end] only.
    Either source may be missing (its part is then 0); raises :class:`MissingSource` when no
    source provides either.
    """
    if eng.rows("channel_costs") == 0 and eng.rows("campaigns") == 0:
        raise MissingSource("marketing spend needs channel costs or campaigns: no source in this warehouse "
                            "provides either", tables=("channel_costs", "campaigns"), needed_for="marketing spend")
    start, end = kpis.as_date(start), kpis.as_date(end)
    cc = eng.table("channel_costs")
    cc = cc.filter(cc.month.between(start.replace(day=1), end))
    if cost_types:
        cc = cc.filter(cc.cost_type.isin(list(_tuple(cost_types))))
    costs = eng.execute(cc.group_by("month", "channel").aggregate(channel_costs=cc.amount.sum()))
    costs["month"] = pd.to_datetime(costs["month"]).dt.date
    cp = eng.table("campaigns")
    cp = cp.filter(cp.channel.notnull() & (cp.start_date <= end) & (cp.end_date >= start)).select(
        "channel", "start_date", "end_date", "spend")
    camp = eng.execute(cp)
    rows = []
    for c in camp.itertuples(index=False):
        days = pd.date_range(pd.Timestamp(c.start_date), pd.Timestamp(c.end_date), freq="D")
        if len(days) == 0:
            continue
        per_day = float(c.spend) / len(days)
        days = days[(days >= pd.Timestamp(start)) & (days <= pd.Timestamp(end))]
        for m, k in pd.Series(days.to_period("M")).value_counts().items():
            rows.append({"month": m.start_time.date(), "channel": c.channel, "campaign_spend": per_day * k})
    camp_m = (pd.DataFrame(rows, columns=["month", "channel", "campaign_spend"])
              .groupby(["month", "channel"], as_index=False)["campaign_spend"].sum())
    out = costs.merge(camp_m, on=["month", "channel"], how="outer")
    out[["channel_costs", "campaign_spend"]] = out[["channel_costs", "campaign_spend"]].astype("float64").fillna(0.0)
    out["channel_costs"] = out["channel_costs"].round(2)
    out["campaign_spend"] = out["campaign_spend"].round(2)
    out["spend"] = (out["channel_costs"] + out["campaign_spend"]).round(2)
    return out.sort_values(["month", "channel"]).reset_index(drop=True)


class SpendRevenue(NamedTuple):
    """``monthly``: month, channel, channel_costs, campaign_spend, spend, revenue.
    ``correlation``: channel, n (months), pearson, spearman, spend, revenue (totals)."""

    monthly: pd.DataFrame
    correlation: pd.DataFrame


def spend_vs_revenue(eng: Engine, start, end, cost_types=None,
                     facts_params: FactsParams | None = None) -> SpendRevenue:
    """Marketing spend (:func:`marketing_spend`) vs revenue (:func:`saleslab.performance.kpi_cube`) by
    channel and month, with Pearson and Spearman correlation over the months of each channel.

    Months where a channel has spend or revenue count (a missing side is 0); channels without any
    spend are not correlated. Raises :class:`MissingSource` without channel costs and campaigns
    (:func:`marketing_spend`). A correlation says that spend and revenue moved together, not that
    spend caused the revenue: budgets are often set from expected sales, and seasons drive both.
    Both frames record ``facts_params``.
    """
    spend = marketing_spend(eng, start, end, cost_types)
    cube = kpis.kpi_cube(eng, start, end, "month", by="channel", facts_params=facts_params, targets=False)
    rev = cube[["period", "channel", "revenue"]]
    rev = rev.rename(columns={"period": "month"})
    rev = rev[rev["channel"] != kpis.UNKNOWN]
    m = spend.merge(rev, on=["month", "channel"], how="outer")
    for c in ("channel_costs", "campaign_spend", "spend", "revenue"):
        m[c] = m[c].astype("float64").fillna(0.0)
    m = m.sort_values(["channel", "month"]).reset_index(drop=True)
    spenders = set(m.loc[m["spend"] > 0, "channel"])
    corr = correlate(m[m["channel"].isin(spenders)], "spend", "revenue", "channel")
    tot = m.groupby("channel", as_index=False)[["spend", "revenue"]].sum().round(2)
    corr = corr.merge(tot, on="channel", how="left")
    return SpendRevenue(_carry(m, cube), _carry(corr, cube))


def overall_achievement(vs_target: pd.DataFrame) -> float | None:
    """Σ actual / Σ target over the rows of :func:`comparison` that have a target (None without any);
    actual = target + gap_to_target (revenue, or gross sales with ``achievement_basis`` "gross")."""
    if "target" not in vs_target.columns:
        return None
    t = vs_target.dropna(subset=["target"])
    tot = float(t["target"].sum())
    return round(float((t["target"] + t["gap_to_target"]).sum()) / tot, 4) if tot else None


def flagged(anoms: pd.DataFrame, last_periods: int | None = None, period: str = "period") -> pd.DataFrame:
    """The anomalies of :func:`anomalies` (optionally only in the last ``last_periods`` periods),
    largest gap to the expected level (元) first, so small segments with large percentages do not
    crowd out the material ones. Keeps the parameters ``anoms`` records."""
    a = anoms[anoms["is_anomaly"].astype(bool)]
    if last_periods:
        keep = sorted(anoms[period].unique())[-last_periods:]
        a = a[a[period].isin(keep)]
    out = a.reindex(a["gap"].abs().round(2).sort_values(ascending=False, kind="mergesort").index).reset_index(drop=True)
    return _carry(out, anoms)


def target_total(vs_target: pd.DataFrame) -> float | None:
    """Σ target over the rows of :func:`comparison` that have one (None without any): the target
    the summary compares the year-to-date revenue with."""
    if "target" not in vs_target.columns or not vs_target["target"].notna().any():
        return None
    return round(float(vs_target["target"].sum()), 2)
