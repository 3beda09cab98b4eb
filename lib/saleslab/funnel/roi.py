"""Lead-source ROI and CAC for new-customer acquisition (domain.md §5, §7: 展会, 线上推广, 转介绍 ...).

Definitions used here:

- new customers of a lead source = distinct customers of the cohort's won leads (furthest stage
  contract or repeat, :func:`saleslab.funnel.leads_expr`); a won lead without a customer id is a
  new customer nobody can follow (``won_unlinked``);
- revenue of won customers = their purchases (:func:`saleslab.facts.customer_purchases_expr`, net
  of refunds) dated from their contract to ``as_of``, 元;
- cost: no source exports a cost per lead source (channel_costs are per sales channel and cost
  type, campaigns per sales channel). The cost of a source is the parameter
  ``funnel_source_costs`` (元 over the period) when given, else unknown (empty, never 0);
  the row ``all`` takes the acquisition cost of the sales channel ``funnel_cost_channel``
  (channel_costs, cost_type acquisition, months of the period) — the spend that pays for the whole
  lead funnel;
- CAC (获客成本) = cost / new customers; ROI (投入产出比) = revenue / cost.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .. import facts
from ..engine import Engine
from ..facts import Params as FactsParams
from ..params import attach
from ..periods import as_date
from .conversion import leads_expr
from .params import Params, parse_source_costs

ALL = "all"
ROI_COLUMNS = ["lead_source", "cohort_leads", "leads_won", "new_customers", "won_unlinked", "won_revenue",
               "acquisition_cost", "cost_basis",
               "cac", "roi"]


def acquisition_cost(eng: Engine, start, end, channel: str) -> float | None:
    """Acquisition spend of sales channel ``channel`` over the months of [start, end] (channel_costs,
    cost_type ``acquisition``), 元; None when no source provides channel costs."""
    start, end = as_date(start), as_date(end)
    if not eng.rows("channel_costs"):
        return None
    c = eng.table("channel_costs")
    c = c.filter(c.month.between(start.replace(day=1), end) & (c.channel == channel) & (c.cost_type == "acquisition"))
    v = eng.execute(c.aggregate(amount=c.amount.sum()))["amount"].iloc[0]
    return 0.0 if pd.isna(v) else round(float(v), 2)


def source_roi(eng: Engine, start, end, as_of, params: Params | None = None,
               facts_params: FactsParams | None = None) -> pd.DataFrame:
    """One row per lead source and a row ``all``: leads, won, new customers, their revenue, cost, CAC, ROI.

    Input: :func:`saleslab.funnel.leads_expr` (leads, lead_stages, customer_map),
    :func:`saleslab.facts.customer_purchases_expr` (orders, order_lines, returns), channel_costs.
    Returns: lead_source, leads, won, new_customers, won_unlinked, revenue, cost, cost_basis
    (``cost_parameter`` | ``channel_costs`` | ``cost_missing``), cac, roi — sources by revenue, ``all`` last.
    Formula: revenue = Σ purchase value of the won customers from their contract date to
    ``as_of``; cac = cost / new_customers; roi = revenue / cost (empty without a cost).
    """
    params, fp = params or Params(), facts_params or FactsParams()
    as_of = as_date(as_of)
    L = leads_expr(eng, start, end, as_of, params)
    counts = eng.execute(L.group_by("lead_source").aggregate(
        cohort_leads=L.count(), leads_won=(L.reached >= 3).cast("int64").sum(),
        won_unlinked=((L.reached >= 3) & L.customer_id.isnull()).cast("int64").sum()))
    W = L.filter((L.reached >= 3) & L.customer_id.notnull())
    W = W.group_by(["lead_source", "customer_id"]).aggregate(won_date=W.e_contract.min())
    new = eng.execute(W.group_by("lead_source").aggregate(new_customers=W.customer_id.nunique()))
    all_new = int(eng.execute(W.customer_id.nunique()))
    rev = pd.DataFrame(columns=["lead_source", "won_revenue"])
    all_rev = 0.0
    if eng.rows("orders") and eng.rows("order_lines"):
        p = facts.customer_purchases_expr(eng, as_of)
        j = W.join(p, W.customer_id == p.customer_id)
        j = j.filter(j.order_date >= j.won_date)
        rev = eng.execute(j.group_by("lead_source").aggregate(won_revenue=j.value.sum()))
        # a customer won through two sources counts once in the total
        first = W.group_by("customer_id").aggregate(won_date=W.won_date.min())
        k = first.join(p, first.customer_id == p.customer_id)
        k = k.filter(k.order_date >= k.won_date)
        v = eng.execute(k.aggregate(won_revenue=k.value.sum()))["won_revenue"].iloc[0]
        all_rev = 0.0 if pd.isna(v) else float(v)
    df = counts.merge(new, on="lead_source", how="left").merge(rev, on="lead_source", how="left")
    df["new_customers"] = df["new_customers"].fillna(0).astype("int64")
    df["won_revenue"] = df["won_revenue"].astype(float).fillna(0.0).round(2)
    costs = parse_source_costs(params.funnel_source_costs)
    df["acquisition_cost"] = df["lead_source"].map(costs).astype(float)
    df["cost_basis"] = np.where(df["acquisition_cost"].notna(), "cost_parameter", "cost_missing")
    df = df.sort_values(["won_revenue", "lead_source"], ascending=[False, True], kind="mergesort")
    all_cost = acquisition_cost(eng, start, end, params.funnel_cost_channel)
    total = pd.DataFrame([{
        "lead_source": ALL, "cohort_leads": int(df["cohort_leads"].sum()), "leads_won": int(df["leads_won"].sum()),
        "new_customers": all_new,
        "won_unlinked": int(df["won_unlinked"].sum()), "won_revenue": round(all_rev, 2),
        "acquisition_cost": np.nan if all_cost is None else all_cost,
        "cost_basis": "cost_missing" if all_cost is None else "channel_costs"}])
    df = pd.concat([df, total], ignore_index=True)
    for c in ("cohort_leads", "leads_won", "won_unlinked"):
        df[c] = df[c].fillna(0).astype("int64")
    df["acquisition_cost"] = df["acquisition_cost"].astype(float).round(2)
    df["cac"] = (df["acquisition_cost"] / df["new_customers"]).where(df["new_customers"] > 0).round(2)
    df["roi"] = (df["won_revenue"] / df["acquisition_cost"]).where(df["acquisition_cost"] > 0).round(4)
    return attach(df[ROI_COLUMNS].reset_index(drop=True), params, period_start=str(as_date(start)),
                  period_end=str(as_date(end)), as_of=str(as_of), **fp.model_dump(mode="json"))

