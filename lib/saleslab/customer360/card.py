"""Customer 360° (客户全景, domain.md §6): one customer's profile, orders, follow-ups, segment,
value, churn risk, next action and cross-sell suggestions.

Where the figures come from:

- profile: the ``customers`` master row with the customer id (none for ids known only from orders);
- revenue of the customer in the period (the card, and the choice of the top customer): the facts
  layer's revenue (:func:`saleslab.facts.revenue_by_expr`) = the customer's sales in [start, end]
  − the returns counted in [start, end] by ``returns_basis`` (on their return date by default,
  attributed to the original order's customer), the same figure every other stage reports;
- order history: the customer's orders dated in [start, end], each with its lines and, as
  *returns*, the refunds of **this order** dated up to ``end`` (whenever the order was placed in the
  period; a refund after ``end`` is not known yet). Σ of the history's revenue therefore differs from
  the card's revenue by the returns counted in the period of orders placed before it (in the card,
  not in the history);
- lifecycle stage, RFM class and tier, CLV and churn risk: the table an earlier stage of this run
  saved (``lifecycle_stages``, ``customer_segments``, ``churn_scores``, found with
  :meth:`saleslab.engine.Engine.find_result`) when there is one; else computed here with the run's
  parameter models (lifecycle, customers, clv, churn — never hard-coded defaults). The card's
  ``source_stage`` / ``source_segment`` / ``source_value`` say which: the stage that saved the
  table, or ``computed``;
- next action: :func:`next_action`, a rule over stage, segment, value and risk;
- cross-sell: :func:`saleslab.crosssell.recommendations` for this customer.

What each part needs: the page needs a customer (one who bought in the period, or a known id);
the profile needs the customer master (:func:`profile_view` raises
:class:`~saleslab.errors.MissingSource` without it; the card then has no name), the follow-ups
the CRM's follow-ups; value and risk need what the CLV and churn models need (computed with
:func:`saleslab.clv.attempt`, the card's value columns stay empty when they cannot be computed).
"""

from __future__ import annotations

import datetime as dt

import ibis
import numpy as np
import pandas as pd

from .. import facts
from ..churn.params import Params as ChurnParams
from ..clv.params import Params as ClvParams
from ..parts import value_of
from ..customers.params import Params as CustomersParams
from ..engine import Engine
from ..errors import InsufficientData, UnknownCustomer
from ..facts import Params as FactsParams
from ..lifecycle.params import Params as LifecycleParams
from ..params import attach
from ..periods import as_date
from .params import Params

#: Next actions (label keys in :mod:`saleslab.lifecycle.labels`), most urgent first.
ACTIONS = ("act_retention_call", "act_winback_call", "act_retention_offer", "act_winback_campaign", "act_convert",
           "act_onboard", "act_vip_care", "act_upsell", "act_maintain")
#: RFM classes whose M is high (domain.md §6: 重要 = important).
IMPORTANT_CLASSES = ("rfm_important_value", "rfm_important_development", "rfm_important_retention",
                     "rfm_important_winback")
PROFILE_FIELDS = ("customer_id", "name", "customer_type", "industry", "employees", "region", "city", "phone", "email",
                  "owner_rep_id", "acquisition_channel", "created_date")
#: Tables of earlier stages the page reads (``source_*`` = the stage that saved them, or COMPUTED).
STAGES_TABLE, SEGMENTS_TABLE, SCORES_TABLE = "lifecycle_stages", "customer_segments", "churn_scores"
COMPUTED = "computed"
_EARLIEST = dt.date(1900, 1, 1)


def _facts(facts_params: FactsParams | None) -> FactsParams:
    return facts_params or FactsParams()


def _revenue_expr(eng: Engine, start, end, facts_params: FactsParams | None) -> ibis.Table:
    r = facts.revenue_by_expr(eng, start, end, ["customer_id"], _facts(facts_params).returns_basis)
    return r.filter(r.customer_id.notnull())


def top_customer(eng: Engine, start, end, facts_params: FactsParams | None = None) -> str:
    """The customer with the highest revenue in [start, end] among those who bought in the period.

    Input: :func:`saleslab.facts.revenue_by_expr` per customer_id (``facts_params.returns_basis``).
    Formula: revenue = sales in [start, end] − returns counted in [start, end], rounded to the
    cent; ties: smallest id. Raises :class:`~saleslab.errors.InsufficientData` when nobody bought.
    """
    r = _revenue_expr(eng, start, end, facts_params)
    r = r.filter(r.orders > 0)
    top = eng.execute(r.select("customer_id", revenue=r.revenue.round(2))
                      .order_by([ibis.desc("revenue"), "customer_id"]).limit(1))
    if top.empty:
        raise InsufficientData(f"no customer bought anything between {as_date(start)} and {as_date(end)}: "
                               f"pass a customer_id")
    return str(top["customer_id"].iloc[0])


def resolve_customer(eng: Engine, customer_id: str, start, end, facts_params: FactsParams | None = None) -> str:
    """``customer_id`` when known (customer master or orders), the top customer of the period
    (:func:`top_customer`) when empty; raises :class:`~saleslab.errors.UnknownCustomer` naming the id otherwise."""
    cid = (customer_id or "").strip()
    if not cid:
        return top_customer(eng, start, end, facts_params)
    c = eng.table("customers")
    o = eng.table("orders")
    n = int(eng.execute(c.filter(c.customer_id == cid).count())) + int(eng.execute(o.filter(o.customer_id == cid).count()))
    if n == 0:
        raise UnknownCustomer(f"customer {cid!r} not found: it is neither in the customer master (customers) "
                              f"nor on any order; check the id (ids carry their system prefix, e.g. C000001)")
    return cid


def profile(eng: Engine, customer_id: str) -> pd.DataFrame:
    """The customer's master row(s): :data:`PROFILE_FIELDS` (no row for an id known only from orders)."""
    c = eng.table("customers")
    df = eng.execute(c.filter(c.customer_id == customer_id).select(*PROFILE_FIELDS))
    return df.reset_index(drop=True)


def profile_view(eng: Engine, customer_id: str) -> pd.DataFrame:
    """:func:`profile_table` of the customer's master row, for the profile section. Raises
    :class:`~saleslab.errors.MissingSource` when no source provides the customer master."""
    eng.require("customers", needed_for="the customer profile")
    return profile_table(profile(eng, customer_id), customer_id)


def profile_table(prof: pd.DataFrame, customer_id: str) -> pd.DataFrame:
    """The profile as two columns for reading: c360_field (label key ``c360_<column>``),
    c360_value (text: the customer type as its label key ``type_company`` / ``type_person``, the
    creation date as a date, the employees as an integer); a ``c360_profile_missing`` row when
    the master has no row for the id."""
    if prof.empty:
        return pd.DataFrame({"c360_field": ["c360_customer_id", "c360_profile_missing"], "c360_value": [customer_id, ""]})
    row = prof.iloc[0]

    def text(f):
        v = row[f]
        if v is None or (not isinstance(v, str) and pd.isna(v)):
            return ""
        if f == "customer_type":
            return {"company": "type_company", "person": "type_person"}.get(str(v), str(v))
        if f == "created_date":
            return pd.Timestamp(v).date().isoformat()
        if f == "employees":
            return f"{int(v):,}"
        return str(v)

    vals = [text(f) for f in PROFILE_FIELDS]
    return pd.DataFrame({"c360_field": [f"c360_{f}" for f in PROFILE_FIELDS], "c360_value": vals})


def customer_revenue(eng: Engine, customer_id: str, start, end, facts_params: FactsParams | None = None) -> dict:
    """The customer's sales, returns and revenue in [start, end], as every stage counts them.

    Input: :func:`saleslab.facts.revenue_by_expr` (``facts_params.returns_basis``).
    Returns: gross_sales, returns, revenue (= gross_sales − returns, returns counted in the period
    by the returns basis), orders (distinct orders with a sale line in the period); zeros when the
    customer has no movement in the period.
    """
    r = _revenue_expr(eng, start, end, facts_params)
    df = eng.execute(r.filter(r.customer_id == customer_id))
    if df.empty:
        return {"gross_sales": 0.0, "returns": 0.0, "revenue": 0.0, "orders": 0}
    row = df.iloc[0]
    money = {k: round(float(row[k]), 2) + 0.0 for k in ("gross_sales", "returns", "revenue")}  # + 0.0: no -0.0
    return {**money, "orders": int(row["orders"])}


def order_history(eng: Engine, customer_id: str, start, end) -> pd.DataFrame:
    """The customer's orders dated in [start, end], newest first.

    Input: orders(order_id, order_date, customer_id, channel, region, rep_id),
    :func:`saleslab.facts.sales_lines`, :func:`saleslab.facts.return_lines` (by return date, up to ``end``).
    Returns: order_id, order_date, channel, region, rep_id, lines, quantity, gross_sales (Σ
    net_amount of the order's lines), returns (the refunds of this order dated ≤ ``end``), revenue.
    Formula: revenue = gross_sales − returns. A return counted in the period whose order is older
    is in the card's revenue (:func:`customer_revenue`) but in no row here.
    """
    start, end = as_date(start), as_date(end)
    o = eng.table("orders")
    o = o.filter((o.customer_id == customer_id) & o.order_date.between(start, end)).select(
        "order_id", "order_date", "channel", "region", "rep_id")
    s = facts.sales_lines(eng, start, end)
    s = s.filter(s.customer_id == customer_id)
    lines = s.group_by("order_id").aggregate(lines=s.count(), quantity=s.quantity.sum(), gross_sales=s.net_amount.sum())
    r = facts.return_lines(eng, _EARLIEST, end, "return_date")
    r = r.filter((r.customer_id == customer_id) & r.order_date.between(start, end))
    rets = r.group_by("order_id").aggregate(returns=r.amount.sum())
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


def monthly_history(orders: pd.DataFrame, start, end, params: Params | None = None) -> pd.DataFrame:
    """:func:`order_history` per calendar month of [start, end] (months without orders: 0):
    month, orders (distinct order ids), revenue (Σ of the orders' revenue). Records ``params``
    (``c360_trend_min_months``: the chart needs that many months, see
    :func:`saleslab.customer360.story.monthly_chart`)."""
    months = pd.period_range(as_date(start), as_date(end), freq="M")
    o = orders.assign(_m=pd.to_datetime(orders["order_date"]).dt.to_period("M"))
    g = o.groupby("_m").agg(orders=("order_id", "nunique"), revenue=("revenue", "sum"))
    g = g.reindex(months, fill_value=0)
    out = pd.DataFrame({"month": [p.start_time.date() for p in months], "orders": g["orders"].astype("int64").to_numpy(),
                        "revenue": g["revenue"].astype(float).round(2).to_numpy()})
    return attach(out, params or Params())


def followups(eng: Engine, customer_id: str, end) -> pd.DataFrame:
    """The customer's CRM follow-ups up to ``end``, newest first: followup_date, followup_kind
    (visit / call / complaint / ...), rep_id, followup_content (no rows: the customer was not
    followed up). Raises :class:`~saleslab.errors.MissingSource` when no source provides follow-ups."""
    cols = ["followup_date", "followup_kind", "rep_id", "followup_content"]
    eng.require("followups", needed_for="the follow-up history")
    f = eng.table("followups")
    f = f.filter((f.customer_id == customer_id) & (f.followup_date <= as_date(end)))
    df = eng.execute(f.select("followup_id", "followup_date", "rep_id", followup_kind=f.kind, followup_content=f.content))
    df = df.sort_values(["followup_date", "followup_id"], ascending=[False, False], kind="mergesort")
    return df[cols].reset_index(drop=True)


# ---------------------------------------------------------------------------------------------
# Results of earlier stages of the run, or computed here with the run's parameters
# ---------------------------------------------------------------------------------------------

def _row(df: pd.DataFrame, customer_id: str) -> dict:
    r = df[df["customer_id"] == customer_id]
    return r.iloc[0].to_dict() if len(r) else {}


def _clean(v):
    return None if (isinstance(v, float) and np.isnan(v)) or v is pd.NA else v


def stage_info(eng: Engine, customer_id: str, as_of, lifecycle_params: LifecycleParams | None = None) -> dict:
    """The customer's lifecycle row: from the run's ``lifecycle_stages`` table when an earlier stage
    saved one (``source_stage`` = that stage), else :func:`saleslab.lifecycle.lifecycle_stages` at
    ``as_of`` with ``lifecycle_params`` (``source_stage`` = ``computed``).
    Keys: the :func:`~saleslab.lifecycle.lifecycle_stages` columns (empty for an unknown id),
    source_stage."""
    found = eng.find_result(STAGES_TABLE)
    if found is not None:
        source, table = found
    else:
        from ..lifecycle import stages as lifecycle

        source, table = COMPUTED, lifecycle.lifecycle_stages(eng, as_of, lifecycle_params)
    return {**{k: _clean(v) for k, v in _row(table, customer_id).items()}, "source_stage": source}


def segment_info(eng: Engine, customer_id: str, as_of, params: CustomersParams | None = None,
                 facts_params: FactsParams | None = None) -> dict:
    """RFM values, class and tier of the customer: from the run's ``customer_segments`` table when an
    earlier stage saved one (``source_segment`` = that stage), else computed over all customers
    (:func:`saleslab.customers.rfm` and :func:`~saleslab.customers.assign_tiers` with ``params``, the
    run's customers parameters; ``source_segment`` = ``computed``).
    Keys: recency_days, frequency, monetary, rfm_class, customer_tier (None when the customer has
    no purchase in the RFM window), source_segment."""
    found = eng.find_result(SEGMENTS_TABLE)
    if found is not None:
        source, table = found
    else:
        from ..customers import segments

        scored = segments.rfm(eng, as_of, params, facts_params)
        scored["customer_tier"] = segments.assign_tiers(scored, params) if len(scored) else []
        source, table = COMPUTED, scored
    row = _row(table, customer_id)
    keys = ("recency_days", "frequency", "monetary", "rfm_class", "customer_tier")
    return {**{k: _clean(row.get(k)) for k in keys}, "source_segment": source}


def value_info(eng: Engine, customer_id: str, as_of, clv_params: ClvParams | None = None,
               churn_params: ChurnParams | None = None) -> dict:
    """CLV and churn risk of the customer: from the run's ``churn_scores`` table when an earlier
    stage saved one (``source_value`` = that stage), else computed with the run's parameters
    (:func:`saleslab.clv.predicted_clv` with ``clv_params``, :func:`saleslab.churn.score_customers`
    with ``churn_params``; ``source_value`` = ``computed``).
    Keys: clv, p_alive, expected_purchases, churn_probability, reason_1..3 (feature keys),
    top_reasons (text, run table only), clv_percentile (share of customers with a lower CLV),
    source_value."""
    found = eng.find_result(SCORES_TABLE)
    if found is not None:
        source, table = found
    else:
        from ..churn import model as churn
        from ..clv import models as clv

        values = clv.predicted_clv(eng, as_of, clv_params)
        scores, _ = churn.score_customers(eng, as_of, churn_params)
        source, table = COMPUTED, churn.combined_scores(scores, values)
    row = _row(table, customer_id)
    out = {k: _clean(row.get(k)) for k in ("clv", "p_alive", "expected_purchases", "churn_probability", "reason_1",
                                            "reason_2", "reason_3", "top_reasons")}
    c = table["clv"].dropna() if "clv" in table else pd.Series(dtype=float)
    out["clv_percentile"] = float((c < out["clv"]).mean()) if out["clv"] is not None and len(c) else None
    out["source_value"] = source
    return out


def risk_reasons(stage_row: dict, val) -> pd.DataFrame:
    """Why the customer is (or is not) at risk: the lifecycle rule that set the stage, then the
    churn model's top reasons (feature keys reason_1..3, or their texts when the run saved them).
    ``val``: :func:`value_info`'s dict, or a part of it (:func:`saleslab.clv.attempt`; none when it
    could not be computed: the lifecycle reason only).
    Returns c360_reason_from (``reason_lifecycle`` / ``reason_model``), c360_reason (a label key or text)."""
    val = value_of(val) or {}
    rows = [("reason_lifecycle", stage_row.get("stage_reason") or "why_no_orders")]
    text = val.get("top_reasons")
    if isinstance(text, str) and text:
        rows.append(("reason_model", text))
    else:
        rows += [("reason_model", f"reason_{val[k]}") for k in ("reason_1", "reason_2", "reason_3")
                 if isinstance(val.get(k), str)]
    return pd.DataFrame(rows, columns=["c360_reason_from", "c360_reason"])


# ---------------------------------------------------------------------------------------------
# Next action
# ---------------------------------------------------------------------------------------------

def is_high_value(rfm_class=None, customer_tier=None, clv_percentile=None, params: Params | None = None) -> bool:
    """High value = tier high value, or an important RFM class (high M), or CLV in the top
    ``c360_clv_top_share`` of customers."""
    top_share = (params or Params()).c360_clv_top_share
    return bool(customer_tier == "tier_high_value" or rfm_class in IMPORTANT_CLASSES
                or (clv_percentile is not None and clv_percentile >= 1 - top_share))


def next_action(stage: str, rfm_class=None, customer_tier=None, churn_probability=None, clv_percentile=None,
                params: Params | None = None, churn_params: ChurnParams | None = None) -> tuple[str, str]:
    """The recommended next action and why, as label keys (:data:`ACTIONS`, ``why_act_*``).

    Rule, first match wins (stage from :func:`saleslab.lifecycle.lifecycle_stages`; high value
    from :func:`is_high_value`; at risk = stage at risk or churn_probability ≥ ``churn_risk_min``):

    1. prospect → convert (first deal: follow up, introductory offer);
    2. churned → high value: win-back call by the owner rep; else low-cost win-back campaign;
    3. at risk → high value: retention call within a week; else retention offer (coupon);
    4. new → onboarding (welcome, second-purchase incentive);
    5. high value → VIP care (perks, key-account service);
    6. potential tier or a development class (recent buyer, low frequency) → upsell / cross-sell;
    7. otherwise → maintain at low cost.
    """
    risk_min = (churn_params or ChurnParams()).churn_risk_min
    high = is_high_value(rfm_class, customer_tier, clv_percentile, params)
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


CARD_COLUMNS = ["customer_id", "customer_name", "stage", "stage_reason", "days_since_last_order", "orders", "gross_sales",
                "returns", "revenue", "rfm_class", "customer_tier", "clv", "p_alive", "churn_probability",
                "next_action", "next_action_reason", "source_stage", "source_segment", "source_value"]


def customer_card(customer_id: str, prof: pd.DataFrame, stage_row: dict, seg: dict, val, revenue: dict,
                  params: Params | None = None, churn_params: ChurnParams | None = None,
                  facts_params: FactsParams | None = None) -> pd.DataFrame:
    """One row summarising the customer for the page and the run's table.

    Input: :func:`profile`, :func:`stage_info`, :func:`segment_info`, :func:`value_info` (or a part
    of it, :func:`saleslab.clv.attempt`: when it could not be computed clv, p_alive,
    churn_probability and source_value are empty), :func:`customer_revenue` (the period's revenue
    as every stage counts it).
    Returns: :data:`CARD_COLUMNS` — customer_id, customer_name, stage, stage_reason,
    days_since_last_order, orders, gross_sales, returns, revenue (in the period, facts layer),
    rfm_class, customer_tier, clv, p_alive, churn_probability, next_action, next_action_reason
    (:func:`next_action`), source_stage, source_segment, source_value (the stage whose table was
    read, or ``computed``). Records ``params``, ``churn_params`` and ``facts_params``.
    """
    val = value_of(val) or {}
    action, why = next_action(stage_row.get("stage") or "stage_prospect", seg.get("rfm_class"),
                              seg.get("customer_tier"), val.get("churn_probability"), val.get("clv_percentile"),
                              params, churn_params)
    name = prof["name"].iloc[0] if len(prof) else None
    days = stage_row.get("days_since_last_order")
    card = pd.DataFrame([{
        "customer_id": customer_id, "customer_name": name, "stage": stage_row.get("stage"),
        "stage_reason": stage_row.get("stage_reason"),
        "days_since_last_order": None if days is None or pd.isna(days) else int(days),
        "orders": int(revenue["orders"]), "gross_sales": revenue["gross_sales"], "returns": revenue["returns"],
        "revenue": revenue["revenue"],
        "rfm_class": seg.get("rfm_class"), "customer_tier": seg.get("customer_tier"), "clv": val.get("clv"),
        "p_alive": val.get("p_alive"), "churn_probability": val.get("churn_probability"),
        "next_action": action, "next_action_reason": why, "source_stage": stage_row.get("source_stage"),
        "source_segment": seg.get("source_segment"), "source_value": val.get("source_value"),
    }])[CARD_COLUMNS]
    more = {**(churn_params or ChurnParams()).model_dump(mode="json"), **_facts(facts_params).model_dump(mode="json")}
    return attach(card, params or Params(), **more)
