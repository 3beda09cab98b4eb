"""Customer 360° (客户全景, domain.md §6): one customer's profile, orders, follow-ups, segment,
value, churn risk, next action and cross-sell suggestions.

Where the figures come from:

- profile: the ``customers`` master row with the customer id (none for ids known only from orders);
- orders: the customer's orders in the period, revenue = Σ net_amount of the order's lines −
  Σ returns of the order (whenever returned, up to the period end);
- RFM class and tier: the ``customer_segments`` table a segments stage (``06_*``) saved in the
  run folder when present, else computed here (:func:`saleslab.customers.rfm` and
  :func:`saleslab.customers.assign_tiers` over all customers, 12-month window to ``as_of``);
- CLV and churn risk: the ``churn_scores`` table of the CLV stage (``07_*``, CLV and churn
  probability side by side) when present, else computed here (:mod:`saleslab.clv` BG/NBD +
  Gamma-Gamma and :func:`saleslab.churn.score_customers`); ``source_*`` fields say which;
- lifecycle stage: :func:`saleslab.lifecycle.lifecycle_stages`;
- next action: :func:`next_action`, a rule over stage, segment, value and risk;
- cross-sell: :func:`saleslab.crosssell.recommendations` for this customer.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from ..engine import Engine
from ..errors import SalesLabError
from ..performance.kpis import as_date

#: Next actions (label keys in :mod:`saleslab.report.labels.lifecycle`), most urgent first.
ACTIONS = ("act_retention_call", "act_winback_call", "act_retention_offer", "act_winback_campaign", "act_convert",
           "act_onboard", "act_vip_care", "act_upsell", "act_maintain")
#: RFM classes whose M is high (domain.md §6: 重要 = important).
IMPORTANT_CLASSES = ("rfm_important_value", "rfm_important_development", "rfm_important_retention",
                     "rfm_important_winback")
PROFILE_FIELDS = ("customer_id", "name", "customer_type", "industry", "employees", "region", "city", "phone", "email",
                  "owner_rep_id", "acquisition_channel", "created_date")


class CustomerNotFound(SalesLabError):
    """The customer id is neither in the customer master nor on any order."""

    def __init__(self, customer_id: str):
        self.customer_id = customer_id
        super().__init__(f"customer {customer_id!r} not found: it is neither in the customer master (customers) "
                         f"nor on any order; check the id (ids carry their system prefix, e.g. C000001)")


def top_customer(eng: Engine, start, end) -> str:
    """The customer with the highest revenue in [start, end] (net_amount − returns of their
    orders dated in the period, to the cent; ties: smallest id)."""
    start, end = as_date(start), as_date(end)
    o = eng.table("orders")
    o = o.filter(o.customer_id.notnull() & o.order_date.between(start, end)).select("order_id", "customer_id")
    ln = eng.table("order_lines").select("order_id", "net_amount")
    s = ln.join(o, "order_id")
    sales = eng.execute(s.group_by("customer_id").aggregate(gross=s.net_amount.sum()))
    r = eng.table("returns").select("order_id", "amount")
    rj = r.join(o, "order_id")
    rets = eng.execute(rj.group_by("customer_id").aggregate(returned=rj.amount.sum()))
    if sales.empty:
        raise SalesLabError(f"no customer bought anything between {start} and {end}: pass a customer_id")
    df = sales.merge(rets, on="customer_id", how="left").fillna({"returned": 0.0})
    df["revenue"] = (df["gross"] - df["returned"]).round(2)
    df = df.sort_values(["revenue", "customer_id"], ascending=[False, True], kind="mergesort")
    return str(df["customer_id"].iloc[0])


def resolve_customer(eng: Engine, customer_id: str, start, end) -> str:
    """``customer_id`` when known (master or orders), the top customer of the period when empty;
    raises :class:`CustomerNotFound` naming the id otherwise."""
    cid = (customer_id or "").strip()
    if not cid:
        return top_customer(eng, start, end)
    c = eng.table("customers")
    o = eng.table("orders")
    n = int(eng.execute(c.filter(c.customer_id == cid).count())) + int(eng.execute(o.filter(o.customer_id == cid).count()))
    if n == 0:
        raise CustomerNotFound(cid)
    return cid


def profile(eng: Engine, customer_id: str) -> pd.DataFrame:
    """The customer's master row(s): :data:`PROFILE_FIELDS` (no row for an id known only from orders)."""
    c = eng.table("customers")
    df = eng.execute(c.filter(c.customer_id == customer_id).select(*PROFILE_FIELDS))
    return df.reset_index(drop=True)


def profile_table(prof: pd.DataFrame, customer_id: str) -> pd.DataFrame:
    """The profile as two columns for reading: c360_field (label key ``c360_<column>``),
    c360_value (text); a ``c360_profile_missing`` row when the master has no row for the id."""
    if prof.empty:
        return pd.DataFrame({"c360_field": ["c360_customer_id", "c360_profile_missing"], "c360_value": [customer_id, ""]})
    row = prof.iloc[0]
    vals = ["" if pd.isna(row[f]) else str(row[f]) for f in PROFILE_FIELDS]
    return pd.DataFrame({"c360_field": [f"c360_{f}" for f in PROFILE_FIELDS], "c360_value": vals})


def order_history(eng: Engine, customer_id: str, start, end) -> pd.DataFrame:
    """The customer's orders dated in [start, end], newest first.

    Returns order_id, order_date, channel, region, rep_id, lines, quantity, gross_sales (Σ
    net_amount), returns (refunds of the order dated up to ``end``), revenue (= gross_sales − returns).
    """
    start, end = as_date(start), as_date(end)
    o = eng.table("orders")
    o = o.filter((o.customer_id == customer_id) & o.order_date.between(start, end)).select(
        "order_id", "order_date", "channel", "region", "rep_id")
    ln = eng.table("order_lines").select("order_id", "quantity", "net_amount")
    lj = ln.join(o.select("order_id"), "order_id")
    lines = lj.group_by("order_id").aggregate(lines=lj.count(), quantity=lj.quantity.sum(),
                                              gross_sales=lj.net_amount.sum())
    r = eng.table("returns")
    r = r.filter(r.return_date <= end).select("order_id", "amount")
    rj = r.join(o.select("order_id"), "order_id")
    rets = rj.group_by("order_id").aggregate(returns=rj.amount.sum())
    df = eng.execute(o).merge(eng.execute(lines), on="order_id", how="left").merge(
        eng.execute(rets), on="order_id", how="left")
    df["order_date"] = pd.to_datetime(df["order_date"]).dt.date
    df["lines"] = df["lines"].fillna(0).astype("int64")
    df["quantity"] = df["quantity"].fillna(0.0).astype(float)
    df["gross_sales"] = df["gross_sales"].fillna(0.0).astype(float).round(2)
    df["returns"] = df["returns"].fillna(0.0).astype(float).round(2)
    df["revenue"] = (df["gross_sales"] - df["returns"]).round(2)
    df = df.sort_values(["order_date", "order_id"], ascending=[False, False], kind="mergesort")
    return df[["order_id", "order_date", "channel", "region", "rep_id", "lines", "quantity", "gross_sales", "returns",
               "revenue"]].reset_index(drop=True)


def monthly_history(orders: pd.DataFrame, start, end) -> pd.DataFrame:
    """:func:`order_history` per calendar month of [start, end] (months without orders: 0):
    month, orders, revenue."""
    months = pd.period_range(as_date(start), as_date(end), freq="M")
    o = orders.assign(_m=pd.to_datetime(orders["order_date"]).dt.to_period("M"))
    g = o.groupby("_m").agg(orders=("order_id", "nunique"), revenue=("revenue", "sum"))
    g = g.reindex(months, fill_value=0)
    return pd.DataFrame({"month": [p.start_time.date() for p in months], "orders": g["orders"].astype("int64").to_numpy(),
                         "revenue": g["revenue"].astype(float).round(2).to_numpy()})


def followups(eng: Engine, customer_id: str, end) -> pd.DataFrame:
    """The customer's CRM follow-ups up to ``end``, newest first: followup_date, followup_kind
    (visit / call / complaint / ...), rep_id, followup_content."""
    cols = ["followup_date", "followup_kind", "rep_id", "followup_content"]
    try:
        f = eng.table("followups")
    except SalesLabError:  # a warehouse without CRM follow-ups
        return pd.DataFrame(columns=cols)
    f = f.filter((f.customer_id == customer_id) & (f.followup_date <= as_date(end)))
    df = eng.execute(f.select("followup_id", "followup_date", "rep_id", followup_kind=f.kind, followup_content=f.content))
    df = df.sort_values(["followup_date", "followup_id"], ascending=[False, False], kind="mergesort")
    return df[cols].reset_index(drop=True)


# ---------------------------------------------------------------------------------------------
# Results of earlier stages, or computed here
# ---------------------------------------------------------------------------------------------

def run_table(run_dir, name: str) -> Path | None:
    """``<run_dir>/data/<stage>/<name>.parquet`` of any stage in this run (None when absent)."""
    if not run_dir:
        return None
    found = sorted(Path(run_dir).glob(f"data/*/{name}.parquet"))
    return found[0] if found else None


def _row(df: pd.DataFrame, customer_id: str) -> dict:
    r = df[df["customer_id"] == customer_id]
    return r.iloc[0].to_dict() if len(r) else {}


def segment_info(eng: Engine, customer_id: str, as_of, run_dir=None, window_months: int = 12) -> dict:
    """RFM values, class and tier of the customer: from the run's ``customer_segments`` table when
    present (``source_segment`` = ``run``), else computed over all customers (``computed``).
    Keys: recency_days, frequency, monetary, rfm_class, customer_tier (None when the customer has
    no order in the window), source_segment."""
    path = run_table(run_dir, "customer_segments")
    if path is not None:
        row = _row(pd.read_parquet(path), customer_id)
        source = "run"
    else:
        from ..customers import segments

        scored = segments.rfm(eng, as_of, window_months)
        scored["customer_tier"] = segments.assign_tiers(scored) if len(scored) else []
        row = _row(scored, customer_id)
        source = "computed"
    keys = ("recency_days", "frequency", "monetary", "rfm_class", "customer_tier")
    return {**{k: row.get(k) for k in keys}, "source_segment": source}


def value_info(eng: Engine, customer_id: str, as_of, run_dir=None, horizon_months: int = 12,
               churn_window_days: int = 180) -> dict:
    """CLV and churn risk of the customer: from the run's ``churn_scores`` table (07 stage) when
    present, else computed (BG/NBD + Gamma-Gamma on all customers, churn model trained at
    as_of − ``churn_window_days``). Keys: clv, p_alive, expected_purchases, churn_probability,
    reason_1..3 (feature keys), top_reasons (text, run table only), clv_percentile (share of
    customers with a lower CLV), source_value (``run`` / ``computed``)."""
    path = run_table(run_dir, "churn_scores")
    if path is not None:
        table = pd.read_parquet(path)
        source = "run"
    else:
        from ..churn import model as churn
        from ..clv import models as clv

        summ = clv.summary(eng, as_of, time_unit="W")
        values = clv.customer_value(summ, clv.fit_bg_nbd(summ), clv.fit_gamma_gamma(summ), horizon_months)
        scores, _ = churn.score_customers(eng, as_of, churn_window_days)
        table = churn.combined_scores(scores, values)
        source = "computed"
    row = _row(table, customer_id)
    out = {k: row.get(k) for k in ("clv", "p_alive", "expected_purchases", "churn_probability", "reason_1", "reason_2",
                                    "reason_3", "top_reasons")}
    out = {k: (None if (isinstance(v, float) and np.isnan(v)) else v) for k, v in out.items()}
    c = table["clv"].dropna() if "clv" in table else pd.Series(dtype=float)
    out["clv_percentile"] = float((c < out["clv"]).mean()) if out["clv"] is not None and len(c) else None
    out["source_value"] = source
    return out


def risk_reasons(stage_row: dict, val: dict) -> pd.DataFrame:
    """Why the customer is (or is not) at risk: the lifecycle rule that set the stage, then the
    churn model's top reasons (feature keys reason_1..3, or their texts when the run saved them).
    Returns c360_reason_from (``reason_lifecycle`` / ``reason_model``), c360_reason (a label key or text)."""
    rows = [("reason_lifecycle", stage_row.get("stage_reason", "why_no_orders"))]
    text = val.get("top_reasons")
    if isinstance(text, str) and text:
        rows.append(("reason_model", text))
    else:
        rows += [("reason_model", val[k]) for k in ("reason_1", "reason_2", "reason_3") if isinstance(val.get(k), str)]
    return pd.DataFrame(rows, columns=["c360_reason_from", "c360_reason"])


# ---------------------------------------------------------------------------------------------
# Next action
# ---------------------------------------------------------------------------------------------

def is_high_value(rfm_class=None, customer_tier=None, clv_percentile=None, clv_top_share: float = 0.2) -> bool:
    """High value = tier high value, or an important RFM class (high M), or CLV in the top
    ``clv_top_share`` of customers."""
    return bool(customer_tier == "tier_high_value" or rfm_class in IMPORTANT_CLASSES
                or (clv_percentile is not None and clv_percentile >= 1 - clv_top_share))


def next_action(stage: str, rfm_class=None, customer_tier=None, churn_probability=None, clv_percentile=None,
                risk_min: float = 0.5, clv_top_share: float = 0.2) -> tuple[str, str]:
    """The recommended next action and why, as label keys (:data:`ACTIONS`, ``why_act_*``).

    Rule, first match wins (stage from :func:`saleslab.lifecycle.lifecycle_stages`; high value
    from :func:`is_high_value`; at risk = stage at risk or churn_probability ≥ ``risk_min``):

    1. prospect → convert (first deal: follow up, introductory offer);
    2. churned → high value: win-back call by the owner rep; else low-cost win-back campaign;
    3. at risk → high value: retention call within a week; else retention offer (coupon);
    4. new → onboarding (welcome, second-purchase incentive);
    5. high value → VIP care (perks, key-account service);
    6. potential tier or a development class (recent buyer, low frequency) → upsell / cross-sell;
    7. otherwise → maintain at low cost.
    """
    high = is_high_value(rfm_class, customer_tier, clv_percentile, clv_top_share)
    risky = stage == "stage_at_risk" or (churn_probability is not None and churn_probability >= risk_min)
    if stage == "stage_prospect":
        return "act_convert", "why_act_prospect"
    if stage == "stage_churned":
        return ("act_winback_call", "why_act_churned_high") if high else ("act_winback_campaign", "why_act_churned")
    if risky:
        return ("act_retention_call", "why_act_risk_high") if high else ("act_retention_offer", "why_act_risk")
    if stage == "stage_new":
        return "act_onboard", "why_act_new"
    if high:
        return "act_vip_care", "why_act_high_value"
    if customer_tier == "tier_potential" or rfm_class in ("rfm_general_development", "rfm_important_development"):
        return "act_upsell", "why_act_potential"
    return "act_maintain", "why_act_regular"


def customer_card(customer_id: str, prof: pd.DataFrame, stage_row: dict, seg: dict, val: dict, orders: pd.DataFrame,
                  risk_min: float = 0.5) -> pd.DataFrame:
    """One row summarising the customer for the page and the run's table: customer_id, customer_name,
    stage, stage_reason, days_since_last_order, orders (in the period), revenue (in the period),
    rfm_class, customer_tier, clv, p_alive, churn_probability, next_action, next_action_reason,
    source_segment, source_value."""
    action, why = next_action(stage_row.get("stage", "stage_prospect"), seg.get("rfm_class"), seg.get("customer_tier"),
                              val.get("churn_probability"), val.get("clv_percentile"), risk_min)
    name = prof["name"].iloc[0] if len(prof) else None
    days = stage_row.get("days_since_last_order")
    return pd.DataFrame([{
        "customer_id": customer_id, "customer_name": name, "stage": stage_row.get("stage"),
        "stage_reason": stage_row.get("stage_reason"),
        "days_since_last_order": None if days is None or pd.isna(days) else int(days),
        "orders": int(orders["order_id"].nunique()), "revenue": round(float(orders["revenue"].sum()), 2),
        "rfm_class": seg.get("rfm_class"), "customer_tier": seg.get("customer_tier"), "clv": val.get("clv"),
        "p_alive": val.get("p_alive"), "churn_probability": val.get("churn_probability"),
        "next_action": action, "next_action_reason": why,
        "source_segment": seg.get("source_segment"), "source_value": val.get("source_value"),
    }])
