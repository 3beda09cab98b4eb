"""Campaign effects (营销活动效果, domain.md §10): funnel counts, what orders carrying a campaign
brought (association), and what the campaign added against a counterfactual (effect), with an
interval, and ROI on both.

Definitions used here:

- click-through rate (点击率) = clicks / visits; conversion rate (转化率) = conversions / visits
  (``campaign_conversion_base="visits"``, the default) or conversions / clicks (``"clicks"``),
  all as the campaign source reports them;
- attributed revenue (关联销售额) = revenue (:func:`saleslab.facts.revenue_by_expr`: sales net of
  discounts less returns, 元) of the orders carrying the campaign's id, counted in the period;
  attributed ROI = attributed revenue / spend. This is an **association**: those orders may have
  been placed without the campaign;
- incremental revenue (增量销售额) = revenue of the campaign's channel in the reached units during
  the campaign minus a counterfactual (:func:`saleslab.campaigns.lift.estimate_lift`): weekly
  revenue per region (weeks counted from the campaign's first day; the post weeks are the weeks
  overlapping the campaign, the pre weeks the ``campaign_pre_weeks`` before it). A campaign with a
  region (``campaigns.region``) is compared with the channel's other regions (difference-in-
  differences; a region reached by another regional campaign of the channel in the same weeks is
  left out, orders without a region too); a nationwide campaign (no region) with its own pre-period
  trend (interrupted time series). incremental ROI = incremental revenue / spend, with the
  interval of the incremental revenue divided by the spend; this is an **effect** under the
  method's assumption (parallel trends; a trend that would have continued);
- effect class: ``effect_up`` (interval above 0), ``effect_down`` (below 0), ``effect_none``
  (the interval holds 0: no effect the data can tell from noise); a campaign whose incremental ROI
  is below ``campaign_roi_min`` (1.2) is flagged for review.

Order lines the cleaning layer flagged as outliers (``_outliers``: a quantity far above the
product's normal range) are left out of the weekly revenue (``campaign_exclude_outliers``): one
such line can be several weeks of a region's sales and would swamp the comparison. Weeks outside
the warehouse's sales (before the first order, after the period's end) are left out; a campaign
with too few weeks left gets no estimate (``note`` says why).
"""

from __future__ import annotations

import datetime as dt
import weakref

import numpy as np
import pandas as pd

from .. import facts
from ..engine import Engine
from ..errors import InsufficientData, SalesLabError
from ..facts import Params as FactsParams
from ..params import attach
from ..periods import as_date
from .lift import LIFT_COLUMNS, estimate_lift, placebo_lift
from .params import Params

NEED = "campaign effects"
_CAMPAIGN_COLUMNS = ["campaign_id", "name", "channel", "region", "start_date", "end_date", "days", "spend",
                     "visits", "clicks", "conversions", "ctr", "conversion_rate", "attributed_orders",
                     "attributed_revenue", "attributed_roi"]
_EFFECT_COLUMNS = _CAMPAIGN_COLUMNS + ["lift_abs", "lift_lo", "lift_hi", "lift_pct", "lift_pct_lo", "lift_pct_hi",
                                       "lift_method", "actual", "counterfactual", "treated_units", "control_units",
                                       "pre_periods", "post_periods", "incremental_roi", "roi_lo", "roi_hi",
                                       "effect", "review", "note"]
EFFECTS = ("effect_up", "effect_none", "effect_down")


def _ratio(a: pd.Series, b: pd.Series) -> pd.Series:
    a, b = a.astype(float), b.astype(float)
    return (a / b).where(b > 0).round(6)


def campaign_metrics(eng: Engine, start, end, params: Params | None = None,
                     facts_params: FactsParams | None = None) -> pd.DataFrame:
    """One row per campaign starting in [start, end]: funnel counts, rates and attributed revenue.

    Input: campaigns(campaign_id, name, channel, region, start_date, end_date, spend, visits,
    clicks, conversions); :func:`saleslab.facts.revenue_by_expr` by campaign_id over [start, end].
    Returns: campaign_id, name, channel, region (null: nationwide), start_date, end_date, days,
    spend, visits, clicks, conversions, ctr, conversion_rate, attributed_orders,
    attributed_revenue, attributed_roi — by start date, then id.
    Formula: ctr = clicks / visits; conversion_rate = conversions / visits (or / clicks, by
    ``campaign_conversion_base``); attributed_roi = attributed_revenue / spend (empty without
    spend). Raises :class:`~saleslab.errors.MissingSource` without campaigns and
    :class:`InsufficientData` when no campaign starts in the period.
    """
    params, fp = params or Params(), facts_params or FactsParams()
    start, end = as_date(start), as_date(end)
    eng.require("campaigns", needed_for=NEED)
    c = eng.table("campaigns")
    c = c.filter(c.start_date.between(start, end))
    df = eng.execute(c.select("campaign_id", "name", "channel", "region", "start_date", "end_date", "spend",
                              "visits", "clicks", "conversions"))
    if df.empty:
        raise InsufficientData(f"no campaign starts between {start} and {end}", needed_for=NEED)
    df = df.drop_duplicates("campaign_id")
    df["start_date"] = pd.to_datetime(df["start_date"]).dt.date
    df["end_date"] = pd.to_datetime(df["end_date"]).dt.date
    df["days"] = [(e - s).days + 1 for s, e in zip(df["start_date"], df["end_date"])]
    df["spend"] = df["spend"].astype(float).round(2)
    for k in ("visits", "clicks", "conversions"):
        df[k] = df[k].astype("Int64")
    df["ctr"] = _ratio(df["clicks"], df["visits"])
    df["conversion_rate"] = _ratio(df["conversions"], df[params.campaign_conversion_base])
    att = pd.DataFrame(columns=["campaign_id", "attributed_orders", "attributed_revenue"])
    if eng.rows("orders") and eng.rows("order_lines"):
        m = facts.revenue_by_expr(eng, start, end, ["campaign_id"], fp.returns_basis)
        m = m.filter(m.campaign_id.notnull())
        att = eng.execute(m.select("campaign_id", attributed_orders=m.orders, attributed_revenue=m.revenue))
    df = df.merge(att, on="campaign_id", how="left")
    df["attributed_orders"] = df["attributed_orders"].fillna(0).astype("int64")
    df["attributed_revenue"] = df["attributed_revenue"].astype(float).fillna(0.0).round(2)
    df["attributed_roi"] = _ratio(df["attributed_revenue"], df["spend"])
    df = df.sort_values(["start_date", "campaign_id"]).reset_index(drop=True)
    return attach(df[_CAMPAIGN_COLUMNS], params, period_start=str(start), period_end=str(end),
                  **fp.model_dump(mode="json"))


def _weeks(c, pre_weeks: int) -> tuple[dt.date, dt.date, int]:
    """First day of the first pre week, last day of the last post week, number of post weeks."""
    n_post = -(-c["days"] // 7)
    first = c["start_date"] - dt.timedelta(days=7 * pre_weeks)
    last = c["start_date"] + dt.timedelta(days=7 * n_post - 1)
    return first, last, n_post


def _daily(eng: Engine, camps: pd.DataFrame, end, params: Params, fp: FactsParams) -> tuple[pd.DataFrame, dt.date]:
    """Revenue per channel, region and day over every campaign's weeks (up to ``end``), and the
    first day with sales in the warehouse."""
    eng.require("orders", "order_lines", needed_for=NEED)
    spans = [_weeks(c, params.campaign_pre_weeks) for _, c in camps.iterrows()]
    lo, hi = min(s[0] for s in spans), min(max(s[1] for s in spans), end)
    o = eng.table("orders")
    first = eng.execute(o.aggregate(first=o.order_date.min()))["first"].iloc[0]
    m = facts.revenue_by_expr(eng, lo, hi, ["channel", "region", "date"], fp.returns_basis)
    d = eng.execute(m.select("channel", "region", "date", "revenue"))
    if params.campaign_exclude_outliers and eng.has("_outliers"):
        x = eng.table("_outliers")
        x = x.filter(x.order_date.between(lo, hi)).select("order_id", "line_no", "net_amount").distinct()
        x = x.join(o.select("order_id", "channel", "region", "order_date"), "order_id")
        out = eng.execute(x.group_by(["channel", "region", x.order_date.name("date")]).aggregate(
            outliers=x.net_amount.sum()))
        d = d.merge(out, on=["channel", "region", "date"], how="left")
        d["revenue"] = d["revenue"] - d["outliers"].fillna(0.0)
        d = d.drop(columns="outliers")
    d["date"] = pd.to_datetime(d["date"]).dt.date
    d["region"] = d["region"].fillna(facts.UNKNOWN)
    d["revenue"] = d["revenue"].astype(float).round(2)
    return d, (pd.Timestamp(first).date() if first is not None and not pd.isna(first) else hi)


def _panel(c, daily: pd.DataFrame, camps: pd.DataFrame, first_day: dt.date, end: dt.date, params: Params):
    """The long panel of campaign ``c`` (unit region, ds week start, y revenue, treated, post)."""
    first, last, n_post = _weeks(c, params.campaign_pre_weeks)
    d = daily[(daily["channel"] == c["channel"]) & (daily["date"] >= first) & (daily["date"] <= last)].copy()
    d["week"] = (pd.to_datetime(d["date"]) - pd.Timestamp(c["start_date"])).dt.days // 7
    weeks = np.arange(-params.campaign_pre_weeks, n_post)
    starts = [c["start_date"] + dt.timedelta(days=7 * int(k)) for k in weeks]
    keep = [k for k, s in zip(weeks, starts) if s >= first_day and s + dt.timedelta(days=6) <= end]
    regional = isinstance(c["region"], str) and c["region"] != ""
    if regional:
        d = d[d["region"] != facts.UNKNOWN]
        others = camps[(camps["channel"] == c["channel"]) & camps["region"].notna() & (camps["region"] != c["region"])
                       & (camps["start_date"] <= last) & (camps["end_date"] >= first)]
        d = d[~d["region"].isin(set(others["region"]))]
    y = d.groupby(["region", "week"])["revenue"].sum()
    pre_units = set(y[y.index.get_level_values("week") < 0].index.get_level_values("region"))
    units = sorted(pre_units | ({c["region"]} if regional else set()))
    grid = pd.MultiIndex.from_product([units, keep], names=["region", "week"])
    p = y.reindex(grid, fill_value=0.0).reset_index()
    p["ds"] = [c["start_date"] + dt.timedelta(days=7 * int(k)) for k in p["week"]]
    p["treated"] = (p["region"] == c["region"]) if regional else True
    p["post"] = p["week"] >= 0
    return p.rename(columns={"revenue": "y"})[["region", "ds", "week", "y", "treated", "post"]]


_LAST: list = []  # [(weak reference to the engine, key, (metrics, panels))]: the last engine's panels


def _panels(eng, start, end, params, fp):
    """:func:`campaign_metrics` and every campaign's panel; the last ones are kept for the same
    engine and arguments (the stage's three tables share them: one read of the warehouse)."""
    key = (str(as_date(start)), str(as_date(end)), params.model_dump_json(), fp.model_dump_json())
    if not (_LAST and _LAST[0][0]() is eng and _LAST[0][1] == key):
        camps = campaign_metrics(eng, start, end, params, fp)
        end = as_date(end)
        daily, first_day = _daily(eng, camps, end, params, fp)
        value = camps, {c["campaign_id"]: _panel(c, daily, camps, first_day, end, params) for _, c in camps.iterrows()}
        _LAST[:] = [(weakref.ref(eng), key, value)]
    camps, panels = _LAST[0][2]
    return camps.copy(), panels


def _estimate(p: pd.DataFrame, params: Params, placebo: bool = False) -> pd.DataFrame:
    f = placebo_lift if placebo else estimate_lift
    return f(p, "region", "ds", "y", "treated", "post", params.campaign_level,
             min_clusters=params.campaign_min_clusters, trend=params.campaign_its_trend)


def campaign_effects(eng: Engine, start, end, params: Params | None = None,
                     facts_params: FactsParams | None = None) -> pd.DataFrame:
    """:func:`campaign_metrics` plus the incremental revenue of each campaign, its interval and ROI.

    Input: the campaigns, :func:`saleslab.facts.revenue_by_expr` by channel, region and day over
    every campaign's pre and post weeks (up to ``end``).
    Returns: the columns of :func:`campaign_metrics`, then lift_abs, lift_lo, lift_hi (元, the
    ``campaign_level`` % interval), lift_pct (and its interval) = lift / counterfactual revenue,
    lift_method (``did_cluster``, ``did_few``, ``its``), actual, counterfactual, treated_units,
    control_units, pre_periods, post_periods (weeks), incremental_roi, roi_lo, roi_hi (= lift and
    its interval / spend), effect (``effect_up`` / ``effect_none`` / ``effect_down``), review
    (incremental ROI < ``campaign_roi_min``), note (why a campaign has no estimate).
    Formula: see the module docstring and :func:`saleslab.campaigns.lift.estimate_lift`.
    """
    params, fp = params or Params(), facts_params or FactsParams()
    start, end = as_date(start), as_date(end)
    camps, panels = _panels(eng, start, end, params, fp)
    rows = []
    for cid in camps["campaign_id"]:
        try:
            r = _estimate(panels[cid], params).iloc[0].to_dict()
            r["note"] = None
        except InsufficientData as e:
            r = {k: np.nan for k in LIFT_COLUMNS}
            r.update(method=None, note=str(e))
        r["campaign_id"] = cid
        rows.append(r)
    lift = pd.DataFrame(rows)
    lift = lift.drop(columns=["se", "level"]).rename(columns={"method": "lift_method"})
    df = camps.merge(lift, on="campaign_id", how="left")
    for k in ("lift_abs", "lift_lo", "lift_hi", "actual", "counterfactual"):
        df[k] = df[k].astype(float).round(2)
    for k in ("lift_pct", "lift_pct_lo", "lift_pct_hi"):
        df[k] = df[k].astype(float).round(6)
    spend = df["spend"].where(df["spend"] > 0)
    for k, v in (("incremental_roi", "lift_abs"), ("roi_lo", "lift_lo"), ("roi_hi", "lift_hi")):
        df[k] = (df[v] / spend).round(4)
    df["effect"] = np.select([df["lift_abs"].isna(), df["lift_lo"] > 0, df["lift_hi"] < 0],
                             [None, "effect_up", "effect_down"], default="effect_none")
    df["effect"] = df["effect"].where(df["lift_abs"].notna(), None)
    df["review"] = (df["incremental_roi"] < params.campaign_roi_min).where(df["incremental_roi"].notna(), None)
    return attach(df[_EFFECT_COLUMNS], params, period_start=str(start), period_end=str(end),
                  **fp.model_dump(mode="json"))


def placebo_checks(eng: Engine, start, end, params: Params | None = None,
                   facts_params: FactsParams | None = None) -> pd.DataFrame:
    """The same estimate with fake campaign dates (:func:`saleslab.campaigns.lift.placebo_lift`):
    the campaign's real weeks are dropped and the last pre weeks play the campaign.

    Returns: campaign_id, name, region, lift_method, fake_start, fake_end, lift_abs, lift_lo, lift_hi,
    holds_zero (the interval holds 0, as it should: there was no campaign), note.
    A placebo interval away from 0 says the counterfactual does not track the reached units even
    without a campaign, and the campaign's own estimate is not to be trusted.
    """
    params, fp = params or Params(), facts_params or FactsParams()
    start, end = as_date(start), as_date(end)
    camps, panels = _panels(eng, start, end, params, fp)
    rows = []
    for _, c in camps.iterrows():
        r = {"campaign_id": c["campaign_id"], "name": c["name"], "region": c["region"]}
        try:
            e = _estimate(panels[c["campaign_id"]], params, placebo=True).iloc[0]
            r.update({k: e[k] for k in ("method", "fake_start", "fake_end", "lift_abs", "lift_lo", "lift_hi",
                                        "holds_zero")}, note=None)
        except InsufficientData as err:
            r.update(method=None, fake_start=None, fake_end=None, lift_abs=np.nan, lift_lo=np.nan, lift_hi=np.nan,
                     holds_zero=None, note=str(err))
        rows.append(r)
    df = pd.DataFrame(rows).rename(columns={"method": "lift_method"})
    for k in ("lift_abs", "lift_lo", "lift_hi"):
        df[k] = df[k].astype(float).round(2)
    return attach(df, params, period_start=str(start), period_end=str(end), **fp.model_dump(mode="json"))


def campaign_weekly(eng: Engine, start, end, campaign_id: str, params: Params | None = None,
                    facts_params: FactsParams | None = None) -> pd.DataFrame:
    """Weekly revenue of the units a campaign reached and its counterfactual, for the chart.

    Returns: ds (week start), week (0 = the campaign's first week), post, actual (Σ revenue of the
    reached units), counterfactual — for a regional campaign n_treated × (mean control revenue of
    the week + the pre-period mean gap treated − control: the difference-in-differences line), for
    a nationwide one the pre-period trend line carried on.
    """
    params, fp = params or Params(), facts_params or FactsParams()
    camps, panels = _panels(eng, start, end, params, fp)
    if campaign_id not in panels:
        raise SalesLabError(f"no campaign {campaign_id!r} starts between {start} and {end}")
    p = panels[campaign_id]
    t = p[p["treated"]].groupby(["ds", "week", "post"], as_index=False)["y"].agg(["sum", "mean"])
    n_t = p.loc[p["treated"], "region"].nunique()
    if (~p["treated"]).any():
        ctrl = p[~p["treated"]].groupby("ds")["y"].mean().reindex(t["ds"]).to_numpy()
        pre = ~t["post"].to_numpy()
        gap = float((t["mean"].to_numpy() - ctrl)[pre].mean()) if pre.any() else 0.0
        cf = n_t * (ctrl + gap)
    else:
        pre = ~t["post"].to_numpy()
        x = t["week"].to_numpy(dtype=float)
        k = 2 if params.campaign_its_trend and pre.sum() >= 2 else 1
        coef = np.polyfit(x[pre], t["sum"].to_numpy()[pre], k - 1) if pre.any() else np.array([0.0])
        cf = np.polyval(coef, x)
    out = pd.DataFrame({"ds": t["ds"], "week": t["week"].astype("int64"), "post": t["post"].astype(bool),
                        "actual": t["sum"].round(2), "counterfactual": np.round(cf, 2)})
    name = camps.loc[camps["campaign_id"] == campaign_id, "name"].iloc[0]
    return attach(out, params, campaign_id=campaign_id, campaign_name=f"{campaign_id} {name}",
                  period_start=str(as_date(start)),
                  period_end=str(as_date(end)), **fp.model_dump(mode="json"))


def featured_campaign(effects: pd.DataFrame) -> str:
    """The campaign the page charts: the regional one (with a control group) with the largest
    incremental revenue, else the campaign with the largest incremental revenue."""
    e = effects[effects["lift_abs"].notna()]
    if e.empty:
        raise InsufficientData("no campaign has an estimate of its effect", needed_for="the campaign chart")
    ctrl = e[e["control_units"] > 0]
    pick = ctrl if not ctrl.empty else e
    return str(pick.sort_values(["lift_abs", "campaign_id"], ascending=[False, True]).iloc[0]["campaign_id"])


def campaign_totals(effects: pd.DataFrame) -> dict:
    """Headline figures over :func:`campaign_effects`: campaigns, spend, attributed revenue,
    incremental revenue (Σ of the estimates), campaigns with an effect (interval above 0), campaigns
    flagged for review."""
    est = effects[effects["lift_abs"].notna()]
    return {"campaigns": int(len(effects)), "spend": float(effects["spend"].sum()),
            "attributed_revenue": float(effects["attributed_revenue"].sum()),
            "incremental_revenue": float(est["lift_abs"].sum()),
            "with_effect": int((effects["effect"] == "effect_up").sum()),
            "review": int((effects["review"] == True).sum())}  # noqa: E712
