"""Customer segments (客户细分, domain.md §6): RFM scores and classes, value tiers, rule tags,
firmographic cuts and the value matrix.

Definitions used here (money in 元, rounded to the cent before any ranking or comparison):

- the customer is ``orders.customer_id`` (orders without one are anonymous and left out);
- windows end at ``as_of`` and include it: a window of m months is [as_of − m months + 1 day, as_of];
- revenue, returns and cost come from :mod:`saleslab.facts` (the one definition): revenue of a
  customer in a window = Σ ``amount`` of :func:`saleslab.facts.movements_expr` — their sales dated
  in it − the returns of their orders counted in it (on the return date, or on the order date with
  ``facts.Params.returns_basis = "order_date"``); cost likewise; gross profit = revenue − cost;
- **RFM** (window ``rfm_window_months``, default 12) over the customers with at least one sale in
  the window: recency_days = as_of − date of the last order, frequency = distinct orders,
  monetary = revenue (sales − returns in the window);
- **scores** 1–5 by quintile: score = 1 + ⌊5 × w / n⌋ where w is the number of customers with a
  strictly worse value (longer recency; fewer orders; less revenue) and n the number of customers,
  so equal values always share a score (no arbitrary split of ties) and the best value scores
  ``1 + ⌊5 × (n − k) / n⌋`` for k customers tied at the top;
- **classes**: a score is high when above the mean score (``rfm_threshold="mean"``) or ≥ 3
  (``"score3"``); the (R, F, M) high/low pattern names one of :data:`RFM_CLASSES`;
- **tiers** (:func:`assign_tiers`): the ``tier_churn_share`` customers with the longest recency are
  churn risk; the others are ranked by monetary, then frequency (both descending), then customer id:
  the first ``tier_high_share`` of all customers are high value, the next ``tier_potential_share``
  potential, the rest basic. Counts are ⌊share × n + ½⌋;
- **rule tags** (:func:`rule_tags`, a customer may carry several): high value = revenue in the last
  12 months ≥ ``tag_high_value_min`` or ≥ ``tag_repeat_min`` repeat purchases in them (orders other
  than the customer's first order ever); potential = ≥ ``tag_followups_min`` follow-ups in the last
  ``tag_recent_months`` with no order in them, or rising purchases (last 12 months ≥ (1 +
  ``tag_rising_min``) × the 12 months before, which must be > 0); churn risk = a customer the
  CRM covers (followed up at least once, or a company in the master with an owner rep:
  distributors and e-commerce companies without an owner rep are served elsewhere and have no
  follow-ups) with no follow-up in the last ``tag_no_followup_months`` — unless it bought within
  the last ``tag_active_days`` and its last 12 months are > 0 and ≥ (1 + ``tag_active_growth_min``)
  × the 12 months before (an active, growing buyer is not at risk for lack of a call) — or
  purchases down by ≥ ``tag_decline_min`` against the 12 months before (which must be > 0);
- **firmographics**: industry 制造业 / 零售业 / 服务业, anything else or missing → 其他; size by
  employees: large ≥ 500, medium 50–499, small < 50, unknown when missing;
- **value matrix**: current value = gross profit of the last 12 months; potential value = predicted
  CLV (:mod:`saleslab.clv` with the clv area's ``clv_horizon_months`` and ``clv_annual_discount``,
  the same figures as the CLV stage) or, with ``value_potential="growth"``, the revenue change (last
  12 months − the 12 months before, 元); high/low against ``value_split`` (median by default).

Every result records the parameters it was computed with (:func:`saleslab.params.attach`): the
customers area's, the facts layer's and, for the value matrix, the clv area's.

**Partial data** (a warehouse from a few exports): RFM, tiers and the purchase-based tag rules need
orders and their lines only. Without follow-ups (no CRM follow-up source) the two follow-up rules
cannot be evaluated: their columns are NA, they set no tag (:func:`require_followups` says so);
firmographics need the customer master (:func:`firmographics` raises
:class:`~saleslab.errors.MissingSource`); the value matrix needs the product master's unit costs
(gross profit), and when the CLV models cannot be fitted it falls back to the ``growth`` basis and
says why (:func:`require_clv_potential`). A notebook computes such parts with :func:`attempt` and
shows each, or the line saying what it needs, in its own ``st.section``.
"""

from __future__ import annotations

import datetime as dt

import ibis
import numpy as np
import pandas as pd

from .. import facts
from ..channels import first_orders
from ..clv.params import Params as ClvParams
from ..engine import Engine
from ..errors import InsufficientData, MissingSource, SalesLabError
from ..facts import Params as FactsParams
from ..parts import Part, attempt, value_of  # noqa: F401  (the stage's parts API)
from ..periods import as_date
from .params import Params

#: The eight RFM classes of domain.md §6 in (R, F, M) order of the table there.
RFM_CLASSES = (
    "rfm_important_value", "rfm_important_development", "rfm_important_retention", "rfm_important_winback",
    "rfm_general_value", "rfm_general_development", "rfm_general_retention", "rfm_general_winback",
)
_CLASS_OF = {
    (True, True, True): "rfm_important_value",
    (True, False, True): "rfm_important_development",
    (False, True, True): "rfm_important_retention",
    (False, False, True): "rfm_important_winback",
    (True, True, False): "rfm_general_value",
    (True, False, False): "rfm_general_development",
    (False, True, False): "rfm_general_retention",
    (False, False, False): "rfm_general_winback",
}
#: Recommended treatment (a label key) for each RFM class.
TREATMENTS = {c: c.replace("rfm_", "treat_", 1) for c in RFM_CLASSES}
THRESHOLDS = ("mean", "score3")

TIERS = ("tier_high_value", "tier_potential", "tier_basic", "tier_churn_risk")
TAGS = ("tag_high_value", "tag_potential", "tag_churn_risk")
#: The tag rules that need CRM follow-ups (NA without them).
FOLLOWUP_RULES = ("rule_followups", "rule_no_followup")
INDUSTRIES = {"制造业": "industry_manufacturing", "零售业": "industry_retail", "服务业": "industry_services"}
INDUSTRY_BANDS = ("industry_manufacturing", "industry_retail", "industry_services", "industry_other")
SIZE_BANDS = ("size_large", "size_medium", "size_small", "size_unknown")
CUSTOMER_TYPES = ("type_company", "type_person", "type_unknown")
QUADRANTS = ("quadrant_deepen", "quadrant_maintain", "quadrant_develop", "quadrant_low_cost")
_QUADRANT_OF = {(True, True): "quadrant_deepen", (True, False): "quadrant_maintain",
                (False, True): "quadrant_develop", (False, False): "quadrant_low_cost"}
POTENTIAL_BASES = ("clv", "growth")


# ---------------------------------------------------------------------------------------------
# parameters recorded on the results
# ---------------------------------------------------------------------------------------------

def _record(df, *sources, **models):
    """Set ``df.attrs["params"]``: the parameters recorded on ``sources`` (earlier results, in
    order), then those of ``models`` (pydantic models or None), which win. Returns ``df``."""
    d: dict = {}
    for src in sources:
        if src is not None:
            d.update(getattr(src, "attrs", {}).get("params", {}))
    for m in models.values():
        if m is not None:
            d.update(m.model_dump(mode="json"))
    df.attrs["params"] = d
    return df


def _facts(facts_params: FactsParams | None) -> FactsParams:
    return facts_params or FactsParams()




# ---------------------------------------------------------------------------------------------
# windows
# ---------------------------------------------------------------------------------------------

def window(as_of, months: int) -> tuple[dt.date, dt.date]:
    """The ``months``-month window ending at ``as_of`` (inclusive): (as_of − months + 1 day, as_of)."""
    as_of = as_date(as_of)
    if int(months) < 1:
        raise SalesLabError(f"a window needs at least 1 month (got {months!r})")
    lo = (pd.Timestamp(as_of) - pd.DateOffset(months=int(months)) + pd.Timedelta(days=1)).date()
    return lo, as_of


def _months_back(as_of, months: int) -> dt.date:
    return (pd.Timestamp(as_date(as_of)) - pd.DateOffset(months=int(months))).date()


# ---------------------------------------------------------------------------------------------
# RFM
# ---------------------------------------------------------------------------------------------

def rfm_expr(eng: Engine, as_of, params: Params | None = None, facts_params: FactsParams | None = None
             ) -> ibis.Table:
    """RFM per customer over the ``params.rfm_window_months`` ending at ``as_of`` (Ibis, any engine).

    Input: :func:`saleslab.facts.movements_expr` over the window (sales and returns of known customers).
    Returns (Ibis): customer_id, recency_days, frequency, monetary — one row per customer with at
    least one sale dated in the window.
    Formulas: recency_days = as_of − max(order date of a sale); frequency = distinct order_id of the
    sales; monetary = round(Σ amount, 2) = sales − returns counted in the window
    (``facts_params.returns_basis``), attributed to the returned order's customer.
    """
    p, fp = params or Params(), _facts(facts_params)
    lo, hi = window(as_of, p.rfm_window_months)
    m = facts.movements_expr(eng, lo, hi, fp.returns_basis)
    m = m.filter(m.customer_id.notnull())
    g = m.group_by("customer_id").aggregate(
        last_order=ibis.ifelse(m.is_sale, m.date, ibis.null("date")).max(),
        frequency=ibis.ifelse(m.is_sale, m.order_id, ibis.null("string")).nunique(),
        monetary=m.amount.sum(),
    )
    g = g.filter(g.last_order.notnull())
    return g.select(
        customer_id=g.customer_id,
        recency_days=ibis.literal(hi).delta(g.last_order, unit="day").cast("int64"),
        frequency=g.frequency.cast("int64"),
        monetary=g.monetary.cast("float64").round(2),
    )


def quintile_score(values: pd.Series, higher_is_better: bool = True) -> pd.Series:
    """Scores 1–5: 1 + ⌊5 × (customers with a strictly worse value) / n⌋; ties share a score."""
    v = values if higher_is_better else -values
    worse = v.rank(method="min", ascending=True).astype("int64") - 1
    n = len(v)
    return (1 + (5 * worse) // max(n, 1)).astype("int64")


def score_rfm(rfm_table: pd.DataFrame, params: Params | None = None) -> pd.DataFrame:
    """Add quintile scores and the RFM class to an RFM table (pure; see :func:`rfm`).

    Input columns: customer_id, recency_days, frequency, monetary.
    Returns the same rows sorted by customer_id with r_score, f_score, m_score (1–5; recent, frequent,
    high spend = 5), r_high, f_high, m_high (score > mean score, or score ≥ 3 with
    ``params.rfm_threshold="score3"``) and rfm_class (one of :data:`RFM_CLASSES`). Records ``params``
    (and what ``rfm_table`` records).
    """
    p = params or Params()
    threshold = p.rfm_threshold
    df = rfm_table.sort_values("customer_id", kind="mergesort").reset_index(drop=True).copy()
    df["monetary"] = df["monetary"].astype(float).round(2)
    df["r_score"] = quintile_score(df["recency_days"], higher_is_better=False)
    df["f_score"] = quintile_score(df["frequency"])
    df["m_score"] = quintile_score(df["monetary"])
    for s in "rfm":
        score = df[f"{s}_score"]
        df[f"{s}_high"] = (score > score.mean()) if threshold == "mean" else (score >= 3)
    df["rfm_class"] = [_CLASS_OF[k] for k in zip(df["r_high"], df["f_high"], df["m_high"])]
    return _record(df, rfm_table, params=p)


def rfm(eng: Engine, as_of, params: Params | None = None, facts_params: FactsParams | None = None) -> pd.DataFrame:
    """RFM with quintile scores and class per customer (see :func:`rfm_expr`, :func:`score_rfm`).

    Returns: customer_id, recency_days, frequency, monetary, r_score, f_score, m_score, r_high,
    f_high, m_high, rfm_class — sorted by customer_id; records ``params`` and ``facts_params``.
    """
    p, fp = params or Params(), _facts(facts_params)
    df = _record(eng.execute(rfm_expr(eng, as_of, p, fp)), facts=fp)
    return score_rfm(df, p)


def rfm_summary(scored: pd.DataFrame) -> pd.DataFrame:
    """Customers and revenue per RFM class, all eight classes in :data:`RFM_CLASSES` order.

    Input: :func:`rfm`'s table. Returns: rfm_class, customers, customer_share, revenue (Σ monetary),
    revenue_share (= revenue / Σ revenue), avg_recency_days, avg_frequency, treatment (label key).
    """
    g = scored.groupby("rfm_class").agg(customers=("customer_id", "size"), revenue=("monetary", "sum"),
                                        avg_recency_days=("recency_days", "mean"), avg_frequency=("frequency", "mean"))
    out = g.reindex(list(RFM_CLASSES)).rename_axis("rfm_class").reset_index()
    out["customers"] = out["customers"].fillna(0).astype("int64")
    out["revenue"] = out["revenue"].fillna(0.0).round(2)
    n, total = out["customers"].sum(), out["revenue"].sum()
    out["customer_share"] = out["customers"] / n if n else 0.0
    out["revenue_share"] = out["revenue"] / total if total else 0.0
    out["avg_recency_days"] = out["avg_recency_days"].round(1)
    out["avg_frequency"] = out["avg_frequency"].round(2)
    out["treatment"] = out["rfm_class"].map(TREATMENTS)
    out = out[["rfm_class", "customers", "customer_share", "revenue", "revenue_share", "avg_recency_days",
               "avg_frequency", "treatment"]]
    return _record(out, scored)


def rfm_grid(scored: pd.DataFrame) -> pd.DataFrame:
    """R score × F score grid of :func:`rfm`'s table, as a long table: r_score (5..1), f_score (1..5),
    customers (count), avg_monetary (mean monetary of the cell, NaN when empty) — all 25 cells."""
    idx = pd.MultiIndex.from_product([range(5, 0, -1), range(1, 6)], names=["r_score", "f_score"])
    g = scored.groupby(["r_score", "f_score"]).agg(customers=("customer_id", "size"), avg_monetary=("monetary", "mean"))
    g = g.reindex(idx)
    g["customers"] = g["customers"].fillna(0).astype("int64")
    g["avg_monetary"] = g["avg_monetary"].round(2)
    return _record(g.reset_index(), scored)


# ---------------------------------------------------------------------------------------------
# tiers
# ---------------------------------------------------------------------------------------------

def _count(share: float, n: int) -> int:
    return int(np.floor(share * n + 0.5))


def assign_tiers(scored: pd.DataFrame, params: Params | None = None) -> pd.Series:
    """Tier per customer (index of ``scored``): one of :data:`TIERS`.

    Input columns: customer_id, recency_days, frequency, monetary.
    Rule: the ⌊tier_churn_share × n + ½⌋ customers with the longest recency (ties: less revenue,
    then customer id) are churn risk; the others by monetary (desc), frequency (desc), customer id:
    the first ⌊tier_high_share × n + ½⌋ are high value, the next up to ⌊(high + potential) × n + ½⌋
    potential, the rest basic (the four shares add up to 1: :class:`Params` checks it).
    """
    p = params or Params()
    n = len(scored)
    df = scored[["customer_id", "recency_days", "frequency", "monetary"]].copy()
    df["monetary"] = df["monetary"].astype(float).round(2)
    tier = pd.Series("tier_basic", index=df.index, dtype=object, name="customer_tier")
    by_recency = df.sort_values(["recency_days", "monetary", "customer_id"], ascending=[False, True, True],
                                kind="mergesort")
    churn = by_recency.index[:_count(p.tier_churn_share, n)]
    tier[churn] = "tier_churn_risk"
    rest = df.drop(churn).sort_values(["monetary", "frequency", "customer_id"], ascending=[False, False, True],
                                      kind="mergesort")
    n_high = min(_count(p.tier_high_share, n), len(rest))
    n_top = min(_count(p.tier_high_share + p.tier_potential_share, n), len(rest))
    tier[rest.index[:n_high]] = "tier_high_value"
    tier[rest.index[n_high:n_top]] = "tier_potential"
    return _record(tier, scored, params=p)


def tier_summary(segments: pd.DataFrame, value: str = "monetary") -> pd.DataFrame:
    """Customers and revenue per tier (:data:`TIERS` order).

    Input columns: customer_tier, ``value``. Returns: customer_tier, customers, customer_share
    (= customers / Σ customers), revenue (Σ ``value``), revenue_share (= revenue / Σ revenue)."""
    out = _cut(segments, "customer_tier", TIERS, value).rename(columns={"segment": "customer_tier"}).drop(
        columns="dimension")
    return _record(out, segments)


# ---------------------------------------------------------------------------------------------
# activity and rule tags
# ---------------------------------------------------------------------------------------------

def activity_expr(eng: Engine, as_of, params: Params | None = None, facts_params: FactsParams | None = None
                  ) -> ibis.Table:
    """Per customer: revenue and cost over the last 24 months and CRM follow-ups up to ``as_of`` (Ibis).

    Input: :func:`saleslab.facts.movements_expr` over the 24 months ending at ``as_of`` (sales and
    returns, ``facts_params.returns_basis``), the first orders (:func:`saleslab.channels.first_orders`),
    followups(customer_id, followup_date).
    Returns (Ibis): customer_id, revenue_12m, cost_12m, revenue_prev_12m, orders_12m,
    repeat_orders_12m, orders_recent, followups_recent, followups, last_followup_date,
    last_order_date (latest sale in the 24 months, empty without one) — one row per
    customer with a sale or a return in the 24 months, or any follow-up.
    Formulas: "12m" is the 12-month window ending at as_of, "prev_12m" the 12 months before it,
    "recent" the last ``params.tag_recent_months``; revenue = Σ amount (sales − returns), cost = Σ
    cost; orders = distinct orders with a sale; repeat orders are orders other than the customer's
    first order ever (earliest date, then smallest order id).
    """
    p, fp = params or Params(), _facts(facts_params)
    as_of = as_date(as_of)
    cur_lo, _ = window(as_of, 12)
    prev_lo, _ = window(as_of, 24)
    rec_lo, _ = window(as_of, p.tag_recent_months)
    m = facts.movements_expr(eng, prev_lo, as_of, fp.returns_basis)
    m = m.filter(m.customer_id.notnull())
    first = first_orders(eng, as_of).select(f_customer_id="customer_id", first_order_id="first_order_id")
    m = m.left_join(first, m.customer_id == first.f_customer_id)
    null_s, zero = ibis.null("string"), ibis.literal(0.0)
    sale_id = ibis.ifelse(m.is_sale, m.order_id, null_s)
    money = m.select(
        customer_id=m.customer_id, date=m.date, is_sale=m.is_sale, is_followup=ibis.literal(False),
        order_id=sale_id,
        repeat_order_id=ibis.ifelse(m.is_sale & (m.order_id != m.first_order_id.fill_null("")), m.order_id, null_s),
        amount=m.amount.cast("float64"), cost=m.cost.cast("float64"))
    f = eng.table("followups")
    f = f.filter(f.customer_id.notnull() & (f.followup_date <= as_of))
    fol = f.select(customer_id=f.customer_id, date=f.followup_date, is_sale=ibis.literal(False),
                   is_followup=ibis.literal(True), order_id=null_s, repeat_order_id=null_s, amount=zero, cost=zero)
    u = money.union(fol)
    money_row = ~u.is_followup
    cur, prev, rec = u.date >= cur_lo, u.date < cur_lo, u.date >= rec_lo

    def total(cond, col):
        return ibis.ifelse(cond, col, zero).sum()

    return u.group_by("customer_id").aggregate(
        revenue_12m=total(money_row & cur, u.amount),
        cost_12m=total(money_row & cur, u.cost),
        revenue_prev_12m=total(money_row & prev, u.amount),
        orders_12m=ibis.ifelse(cur, u.order_id, null_s).nunique(),
        repeat_orders_12m=ibis.ifelse(cur, u.repeat_order_id, null_s).nunique(),
        orders_recent=ibis.ifelse(rec, u.order_id, null_s).nunique(),
        followups_recent=ibis.ifelse(u.is_followup & rec, 1, 0).sum(),
        followups=ibis.ifelse(u.is_followup, 1, 0).sum(),
        last_followup_date=ibis.ifelse(u.is_followup, u.date, ibis.null("date")).max(),
        last_order_date=ibis.ifelse(money_row & u.is_sale, u.date, ibis.null("date")).max(),
    )


def customer_activity(eng: Engine, as_of, params: Params | None = None, facts_params: FactsParams | None = None,
                      customer_ids=None) -> pd.DataFrame:
    """Per-customer activity for the tags and the value matrix (see :func:`activity_expr`).

    ``customer_ids`` (e.g. the RFM customers) restricts the rows to those customers, with zeros for
    one without activity; None keeps every customer of :func:`activity_expr`.

    Input: :func:`activity_expr`, customers(customer_id, customer_type, owner_rep_id) (optional:
    without a customer master no customer is a known company), followups (optional: see below).
    Returns: customer_id, revenue_12m, revenue_prev_12m, revenue_change (= revenue_12m −
    revenue_prev_12m), cost_12m, gross_profit_12m (= revenue_12m − cost_12m), orders_12m,
    repeat_orders_12m, orders_recent, followups_recent, followups, last_followup_date,
    last_order_date, crm_managed (the CRM covers the customer: followed up at least once up to
    as_of, or a company in the customer master with an owner rep) — sorted by customer_id; money
    rounded to the cent. Records ``params`` and ``facts_params``.
    Without follow-ups in the warehouse (no source provides them) followups_recent and followups are
    NA (unknown, not 0) and last_followup_date is empty: :func:`rule_tags` then leaves the
    follow-up rules unevaluated.
    """
    p, fp = params or Params(), _facts(facts_params)
    df = eng.execute(activity_expr(eng, as_of, p, fp))
    if customer_ids is not None:
        ids = pd.DataFrame({"customer_id": pd.Series(sorted(set(customer_ids)), dtype=object)})
        df = ids.merge(df, on="customer_id", how="left")
        num = [c for c in df.columns if c not in ("customer_id", "last_followup_date", "last_order_date")]
        df[num] = df[num].fillna(0)
    c = eng.table("customers")
    owned = c.filter((c.customer_type == "company") & c.owner_rep_id.notnull())
    companies = set(eng.execute(owned.select("customer_id").distinct())["customer_id"])
    df["revenue_12m"] = df["revenue_12m"].astype(float).round(2)
    df["revenue_prev_12m"] = df["revenue_prev_12m"].astype(float).round(2)
    df["revenue_change"] = (df["revenue_12m"] - df["revenue_prev_12m"]).round(2)
    df["cost_12m"] = df["cost_12m"].astype(float).round(2)
    df["gross_profit_12m"] = (df["revenue_12m"] - df["cost_12m"]).round(2)
    for col in ("orders_12m", "repeat_orders_12m", "orders_recent", "followups_recent", "followups"):
        df[col] = df[col].fillna(0).astype("int64")
    df["last_followup_date"] = pd.to_datetime(df["last_followup_date"]).dt.date
    df["last_order_date"] = pd.to_datetime(df["last_order_date"]).dt.date
    df["crm_managed"] = df["customer_id"].isin(companies) | (df["followups"] > 0)
    if eng.rows("followups") == 0:  # no source provides follow-ups: unknown, not zero
        df["followups_recent"] = pd.array([pd.NA] * len(df), dtype="Int64")
        df["followups"] = pd.array([pd.NA] * len(df), dtype="Int64")
    cols = ["customer_id", "revenue_12m", "revenue_prev_12m", "revenue_change", "cost_12m", "gross_profit_12m",
            "orders_12m", "repeat_orders_12m", "orders_recent", "followups_recent", "followups",
            "last_followup_date", "last_order_date", "crm_managed"]
    out = df[cols].sort_values("customer_id").reset_index(drop=True)
    return _record(out, params=p, facts=fp)


def rule_tags(activity: pd.DataFrame, as_of, params: Params | None = None) -> pd.DataFrame:
    """Rule tags per customer (domain.md §6; several may apply). Pure function over :func:`customer_activity`.

    Returns: customer_id, rule_revenue (revenue_12m ≥ tag_high_value_min), rule_repeat
    (repeat_orders_12m ≥ tag_repeat_min), rule_followups (followups_recent ≥ tag_followups_min and
    orders_recent = 0), rule_rising (revenue_prev_12m > 0 and revenue_12m ≥ (1 + tag_rising_min) ×
    revenue_prev_12m), rule_no_followup (crm_managed and no follow-up after as_of −
    tag_no_followup_months, and not an active grower: last_order_date > as_of − tag_active_days and
    revenue_12m > 0 and revenue_12m ≥ (1 + tag_active_growth_min) × revenue_prev_12m), rule_decline (revenue_prev_12m > 0 and revenue_12m ≤ (1 −
    tag_decline_min) × revenue_prev_12m), tag_high_value (revenue or repeat), tag_potential
    (followups or rising), tag_churn_risk (no_followup or decline), tags (the tag keys that apply,
    comma-separated, "" when none). Records ``params`` (and what ``activity`` records).
    A customer whose follow-ups are unknown (``followups`` NA: no follow-up source) gets NA in
    rule_followups and rule_no_followup (nullable booleans); an unevaluated rule sets no tag, so
    the tags rest on the purchase rules alone.
    """
    p = params or Params()
    recorded = activity.attrs.get("params", {}).get("tag_recent_months", p.tag_recent_months)
    if recorded != p.tag_recent_months:
        raise SalesLabError(f"the activity was computed with tag_recent_months={recorded}, the tags are asked "
                            f"with {p.tag_recent_months}: compute both with the same parameters")
    a = activity
    cutoff = _months_back(as_of, p.tag_no_followup_months)
    last = pd.to_datetime(a["last_followup_date"])
    prev, cur = a["revenue_prev_12m"].round(2), a["revenue_12m"].round(2)
    out = pd.DataFrame({"customer_id": a["customer_id"]})
    out["rule_revenue"] = cur >= p.tag_high_value_min
    out["rule_repeat"] = a["repeat_orders_12m"] >= p.tag_repeat_min
    known = a["followups"].notna().to_numpy()
    recent = a["followups_recent"].fillna(0).astype("int64")
    out["rule_followups"] = (recent >= p.tag_followups_min) & (a["orders_recent"] == 0)
    out["rule_rising"] = (prev > 0) & (cur >= ((1 + p.tag_rising_min) * prev).round(2))
    last_order = a["last_order_date"] if "last_order_date" in a else pd.Series(pd.NaT, index=a.index)
    bought = pd.to_datetime(last_order) > pd.Timestamp(as_date(as_of)) - pd.Timedelta(days=p.tag_active_days)
    growing = (cur > 0) & (cur >= ((1 + p.tag_active_growth_min) * prev).round(2))
    out["rule_no_followup"] = a["crm_managed"].astype(bool) & ~(last > pd.Timestamp(cutoff)) & ~(bought & growing)
    out["rule_decline"] = (prev > 0) & (cur <= ((1 - p.tag_decline_min) * prev).round(2))
    fol, no_fol = out["rule_followups"].to_numpy(bool) & known, out["rule_no_followup"].to_numpy(bool) & known
    if not known.all():  # follow-ups unknown: the follow-up rules are not evaluated (NA)
        for rule in FOLLOWUP_RULES:
            out[rule] = out[rule].astype("boolean").mask(~known)
    out["tag_high_value"] = out["rule_revenue"] | out["rule_repeat"]
    out["tag_potential"] = fol | out["rule_rising"].to_numpy(bool)
    out["tag_churn_risk"] = no_fol | out["rule_decline"].to_numpy(bool)
    flags = out[list(TAGS)].to_numpy()
    out["tags"] = [",".join(t for t, on in zip(TAGS, row) if on) for row in flags]
    return _record(out.reset_index(drop=True), activity, params=p)


def _customers_with(flags: pd.Series):
    """How many flags are true; None when the rule was not evaluated for some customer (NA)."""
    return None if flags.isna().any() else int(flags.sum())


def tag_summary(tags: pd.DataFrame) -> pd.DataFrame:
    """Customers per tag and per rule behind it (:func:`rule_tags`): tag, rule (``rule_any`` for the
    tag itself), customers, customer_share (= customers / all rows of ``tags``). A rule that could
    not be evaluated (follow-up rules without follow-ups) has NA customers and share."""
    rules = {"tag_high_value": ("rule_revenue", "rule_repeat"), "tag_potential": ("rule_followups", "rule_rising"),
             "tag_churn_risk": ("rule_no_followup", "rule_decline")}
    n = len(tags)
    rows = []
    for tag, parts in rules.items():
        rows.append({"tag": tag, "rule": "rule_any", "customers": int(tags[tag].sum())})
        rows += [{"tag": tag, "rule": r, "customers": _customers_with(tags[r])} for r in parts]
    out = pd.DataFrame(rows)
    if out["customers"].isna().any():
        out["customers"] = out["customers"].astype("Int64")
        out["customer_share"] = (out["customers"] / n if n else out["customers"] * 0.0).astype("Float64")
    else:
        out["customers"] = out["customers"].astype("int64")
        out["customer_share"] = out["customers"] / n if n else 0.0
    return _record(out, tags)


def require_followups(eng: Engine) -> None:
    """Raise :class:`~saleslab.errors.MissingSource` when no source provides CRM follow-ups: the
    follow-up rules of the tags (potential: followed up without an order; churn risk: a CRM
    customer not followed up) are then not evaluated (:func:`rule_tags`)."""
    eng.require("followups", needed_for="the follow-up rules of the tags")


# ---------------------------------------------------------------------------------------------
# firmographics
# ---------------------------------------------------------------------------------------------

def industry_band(industry: pd.Series) -> pd.Series:
    """制造业 / 零售业 / 服务业 → their keys; anything else or missing → industry_other."""
    return industry.map(lambda v: INDUSTRIES.get(v.strip(), "industry_other") if isinstance(v, str)
                        else "industry_other")


def size_band(employees: pd.Series, large_min: int = 500, medium_min: int = 50) -> pd.Series:
    """Employees → size_large (≥ large_min), size_medium (medium_min .. large_min − 1), size_small
    (0 .. medium_min − 1), size_unknown (missing or negative)."""
    e = pd.to_numeric(employees, errors="coerce")
    return pd.Series(np.select([e >= large_min, e >= medium_min, e >= 0], ["size_large", "size_medium", "size_small"],
                               default="size_unknown"), index=employees.index)


def firmographics(eng: Engine, customer_ids=None) -> pd.DataFrame:
    """Profile bands per customer from the customer master (first record per customer_id).

    Input: customers(customer_id, customer_type, industry, employees, created_date).
    Returns: customer_id, customer_type (type_company / type_person / type_unknown), industry_band,
    size_band — for ``customer_ids`` (customers missing from the master get type_unknown,
    industry_other, size_unknown) or for every master row when None.
    Raises :class:`~saleslab.errors.MissingSource` when no source provides the customer master.
    """
    eng.require("customers", needed_for="firmographics (customer type, industry and size)")
    c = eng.table("customers")
    m = eng.execute(c.select("customer_id", "customer_type", "industry", "employees", "created_date"))
    m = m.sort_values(["customer_id", "created_date"], na_position="last", kind="mergesort").drop_duplicates(
        "customer_id")
    if customer_ids is not None:
        m = pd.DataFrame({"customer_id": pd.Series(list(customer_ids), dtype=object)}).merge(
            m, on="customer_id", how="left")
    out = pd.DataFrame({"customer_id": m["customer_id"].to_numpy()})
    ctype = m["customer_type"].map({"company": "type_company", "person": "type_person"}).fillna("type_unknown")
    out["customer_type"] = ctype.to_numpy()
    out["industry_band"] = industry_band(m["industry"]).to_numpy()
    out["size_band"] = size_band(m["employees"]).to_numpy()
    return out.sort_values("customer_id").reset_index(drop=True)


def _cut(df: pd.DataFrame, column: str, order, value: str) -> pd.DataFrame:
    g = df.groupby(column).agg(customers=("customer_id", "size"), revenue=(value, "sum"))
    keys = list(order) + sorted(set(g.index) - set(order))
    g = g.reindex(keys).rename_axis("segment").reset_index()
    g["customers"] = g["customers"].fillna(0).astype("int64")
    g["revenue"] = g["revenue"].fillna(0.0).astype(float).round(2)
    n, total = g["customers"].sum(), g["revenue"].sum()
    g["customer_share"] = g["customers"] / n if n else 0.0
    g["revenue_share"] = g["revenue"] / total if total else 0.0
    g.insert(0, "dimension", column)
    return g[["dimension", "segment", "customers", "customer_share", "revenue", "revenue_share"]]


def firmographic_cuts(df: pd.DataFrame, value: str = "monetary") -> pd.DataFrame:
    """Customers and revenue per customer type, industry band and size band.

    Input columns: customer_id, customer_type, industry_band, size_band, ``value`` (revenue).
    Returns: dimension (customer_type / industry_band / size_band), segment, customers,
    customer_share (= customers / Σ customers of the dimension), revenue (Σ ``value``), revenue_share
    (= revenue / Σ revenue of the dimension) — every band listed, zero when empty.
    """
    out = pd.concat([_cut(df, "customer_type", CUSTOMER_TYPES, value),
                     _cut(df, "industry_band", INDUSTRY_BANDS, value),
                     _cut(df, "size_band", SIZE_BANDS, value)], ignore_index=True)
    return _record(out, df)


# ---------------------------------------------------------------------------------------------
# value matrix
# ---------------------------------------------------------------------------------------------

def value_table(activity: pd.DataFrame, clv: pd.DataFrame | None = None, clv_column: str = "clv") -> pd.DataFrame:
    """Current and potential value per customer of :func:`customer_activity`.

    Returns: customer_id, current_value (= gross_profit_12m), potential_value (``clv[clv_column]``
    when ``clv`` — a table with customer_id — is given, 0 for customers it lacks; else
    revenue_change = revenue_12m − revenue_prev_12m), potential_basis ("clv" or "growth").
    Records what ``activity`` records.
    """
    out = activity[["customer_id"]].copy()
    out["current_value"] = activity["gross_profit_12m"].astype(float).round(2)
    if clv is not None:
        v = clv[["customer_id", clv_column]].drop_duplicates("customer_id")
        out = out.merge(v, on="customer_id", how="left")
        out["potential_value"] = out.pop(clv_column).fillna(0.0).astype(float).round(2)
        out["potential_basis"] = "clv"
    else:
        out["potential_value"] = activity["revenue_change"].astype(float).round(2).to_numpy()
        out["potential_basis"] = "growth"
    return _record(out.reset_index(drop=True), activity)


def potential_value_table(eng: Engine, as_of, activity: pd.DataFrame, params: Params | None = None,
                          clv_params: ClvParams | None = None, predicted=None) -> pd.DataFrame:
    """:func:`value_table` with the potential value chosen by ``params.value_potential``: ``clv`` —
    the predicted customer lifetime value, :func:`saleslab.clv.predicted_clv` with ``clv_params``
    (clv_horizon_months, clv_annual_discount: the call and parameters of the CLV stage, so a
    customer's CLV is the same on both pages) — or ``growth`` (revenue change year over year).

    Returns: customer_id, current_value, potential_value, potential_basis; records ``params``,
    ``clv_params`` and what ``activity`` records.

    The current value is a gross profit: without a product master (no unit costs, so every cost
    would be 0) this raises :class:`~saleslab.errors.MissingSource`.
    When the CLV cannot be computed (the clv models raise InsufficientData or MissingSource, e.g.
    too few repeat buyers) the potential value falls back to ``growth``: potential_basis says so and
    ``attrs["potential_fallback"]`` holds why (:func:`require_clv_potential` raises it for the page).
    ``predicted``: the predicted CLV already computed with ``clv_params`` (its table, or the
    InsufficientData / MissingSource that stopped it: ``Part.outcome`` of the stage's part); None:
    computed here.
    """
    p = params or Params()
    if p.value_potential not in POTENTIAL_BASES:  # the model allows only these; a guard for model_construct
        raise SalesLabError(f"value_potential must be one of {', '.join(POTENTIAL_BASES)} (got {p.value_potential!r})")
    needed_for = "the value matrix (current value = gross profit, costed with the product master's unit costs)"
    eng.require("products", needed_for=needed_for)
    if p.value_potential == "growth":
        return _record(value_table(activity), activity, params=p)
    from .. import clv

    cp = clv_params or ClvParams()
    try:
        if isinstance(predicted, (InsufficientData, MissingSource)):
            raise predicted
        values = clv.predicted_clv(eng, as_of, cp) if predicted is None else predicted
    except (InsufficientData, MissingSource) as e:
        out = _record(value_table(activity), activity, params=p)
        out.attrs["potential_fallback"] = (f"the predicted CLV could not be computed ({e}); the potential value "
                                           "is the revenue change year over year instead")
        return out
    return _record(value_table(activity, values[["customer_id", "clv"]]), activity, params=p, clv=cp)


def require_clv_potential(values: pd.DataFrame) -> None:
    """Raise :class:`~saleslab.errors.InsufficientData` (saying why) when :func:`potential_value_table`
    was asked for the CLV but fell back to the revenue change; nothing otherwise."""
    why = values.attrs.get("potential_fallback")
    if why:
        raise InsufficientData(why, needed_for="the predicted CLV as potential value")


def value_threshold(values: pd.Series, split="median") -> float:
    """The high/low cut of ``values``: its median, mean, or the given quantile (a number in (0, 1))."""
    v = values.astype(float)
    if split == "median":
        return float(v.median())
    if split == "mean":
        return float(v.mean())
    try:
        q = float(split)
    except (TypeError, ValueError):
        q = -1.0
    if not 0 < q < 1:
        raise SalesLabError(f"value split must be 'median', 'mean' or a quantile in (0, 1) (got {split!r})")
    return float(v.quantile(q))


def value_matrix(values: pd.DataFrame, params: Params | None = None, *, current: str = "current_value",
                 potential: str = "potential_value") -> pd.DataFrame:
    """Quadrant per customer of :func:`potential_value_table` (or any table with the two columns).

    Returns ``values`` with current_high (``current`` > its cut), potential_high (likewise) and
    quadrant: deepen (high, high), maintain (high, low), develop (low, high), low-cost service (low,
    low) — one of :data:`QUADRANTS`. The cut of each column is :func:`value_threshold` with
    ``params.value_split`` (a value equal to the cut is low). Records ``params``.
    """
    p = params or Params()
    out = values.copy()
    cx, py = value_threshold(out[current], p.value_split), value_threshold(out[potential], p.value_split)
    out["current_high"] = out[current].astype(float) > cx
    out["potential_high"] = out[potential].astype(float) > py
    out["quadrant"] = [_QUADRANT_OF[k] for k in zip(out["current_high"], out["potential_high"])]
    if values.attrs.get("potential_fallback"):
        out.attrs["potential_fallback"] = values.attrs["potential_fallback"]
    return _record(out, values, params=p)


def quadrant_counts(matrix: pd.DataFrame, current: str = "current_value", potential: str = "potential_value"
                    ) -> pd.DataFrame:
    """Per quadrant of :func:`value_matrix` (:data:`QUADRANTS` order): quadrant, customers,
    customer_share (= customers / Σ customers), current_value, potential_value (sums)."""
    g = matrix.groupby("quadrant").agg(customers=("quadrant", "size"), current_value=(current, "sum"),
                                       potential_value=(potential, "sum"))
    g = g.reindex(list(QUADRANTS)).rename_axis("quadrant").reset_index()
    g["customers"] = g["customers"].fillna(0).astype("int64")
    n = g["customers"].sum()
    g["customer_share"] = g["customers"] / n if n else 0.0
    for c in ("current_value", "potential_value"):
        g[c] = g[c].fillna(0.0).round(2)
    out = g[["quadrant", "customers", "customer_share", "current_value", "potential_value"]]
    return _record(out, matrix)


# ---------------------------------------------------------------------------------------------
# the per-customer table
# ---------------------------------------------------------------------------------------------

SEGMENT_COLUMNS = ["customer_id", "recency_days", "frequency", "monetary", "r_score", "f_score", "m_score",
                   "rfm_class", "customer_tier", "tag_high_value", "tag_potential", "tag_churn_risk", "tags",
                   "customer_type", "industry_band", "size_band", "current_value", "potential_value", "quadrant",
                   "cluster"]


def segment_table(scored: pd.DataFrame, tiers: pd.Series | None = None, tags: pd.DataFrame | None = None,
                  firmo: pd.DataFrame | None = None, matrix: pd.DataFrame | None = None,
                  clusters: pd.DataFrame | None = None) -> pd.DataFrame:
    """One row per RFM customer with everything the customer pages read.

    Returns the columns of :data:`SEGMENT_COLUMNS` that the given parts provide: RFM values, scores
    and class; customer_tier (``tiers``, indexed like ``scored``); tag_* and tags (``tags``: False /
    "" for customers it lacks); customer_type, industry_band, size_band (``firmo``); current_value,
    potential_value, quadrant (``matrix``); cluster (``clusters``: customer_id, cluster, or a
    :class:`~saleslab.customers.ClusterResult`). Records the parameters of every part.
    A part may be a :class:`Part`: one that failed (its inputs are missing) leaves its columns
    empty (NA) — they are there, unknown.
    """
    failed = [(x, cols) for x, cols in ((tiers, ["customer_tier"]), (tags, [*TAGS, "tags"]),
                                         (firmo, ["customer_type", "industry_band", "size_band"]),
                                         (matrix, ["current_value", "potential_value", "quadrant"]),
                                         (clusters, ["cluster"])) if isinstance(x, Part) and not x.ok]
    tiers, tags, firmo, matrix, clusters = map(value_of, (tiers, tags, firmo, matrix, clusters))
    if clusters is not None and not isinstance(clusters, pd.DataFrame):
        clusters = clusters.labels  # a ClusterResult
    out = scored.copy()
    if tiers is not None:
        out["customer_tier"] = tiers.reindex(out.index)
    if tags is not None:
        out = out.merge(tags[["customer_id", *TAGS, "tags"]], on="customer_id", how="left")
        for t in TAGS:
            out[t] = out[t].fillna(False).astype(bool)
        out["tags"] = out["tags"].fillna("")
    if firmo is not None:
        out = out.merge(firmo[["customer_id", "customer_type", "industry_band", "size_band"]], on="customer_id",
                        how="left")
        out = out.fillna({"customer_type": "type_unknown", "industry_band": "industry_other",
                          "size_band": "size_unknown"})
    if matrix is not None:
        out = out.merge(matrix[["customer_id", "current_value", "potential_value", "quadrant"]], on="customer_id",
                        how="left")
    if clusters is not None:
        out = out.merge(clusters[["customer_id", "cluster"]], on="customer_id", how="left")
    empty = {"current_value": "float64", "potential_value": "float64", "cluster": "Int64"}
    for _, cols in failed:
        for c in cols:
            out[c] = pd.Series(pd.NA if c == "cluster" else None, index=out.index, dtype=empty.get(c, "object"))
    cols = [c for c in SEGMENT_COLUMNS if c in out.columns]
    out = out[cols].sort_values("customer_id").reset_index(drop=True)
    return _record(out, scored, tiers, tags, matrix, clusters)


def headline_figures(seg: pd.DataFrame, summary: pd.DataFrame, tiers: pd.DataFrame) -> dict:
    """The stage's headline figures from :func:`segment_table`, :func:`rfm_summary` and
    :func:`tier_summary`: segment_customers (rows of ``seg``), important_value_share (revenue share
    of the important value class), high_tier_revenue_share (of the high-value tier),
    churn_risk_tagged (customers with the churn-risk tag; 0 without tags)."""
    return {
        "segment_customers": int(len(seg)),
        "important_value_share": float(summary.set_index("rfm_class").loc["rfm_important_value", "revenue_share"]),
        "high_tier_revenue_share": float(tiers.set_index("customer_tier").loc["tier_high_value", "revenue_share"]),
        "churn_risk_tagged": int(seg["tag_churn_risk"].sum()) if "tag_churn_risk" in seg else 0,
    }


def top_customers(seg: pd.DataFrame, n: int = 20, by: str = "monetary") -> pd.DataFrame:
    """The ``n`` rows of :func:`segment_table` with the largest ``by`` (ties: smaller customer id first)."""
    out = seg.sort_values([by, "customer_id"], ascending=[False, True], kind="mergesort").head(n)
    return _record(out.reset_index(drop=True), seg)
