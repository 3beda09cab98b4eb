"""Customer segments (客户细分, domain.md §6): RFM scores and classes, value tiers, rule tags,
firmographic cuts and the value matrix.

Definitions used here (money in 元, rounded to the cent before any ranking or comparison):

- the customer is ``orders.customer_id`` (orders without one are anonymous and left out);
- windows end at ``as_of`` and include it: a window of m months is [as_of − m months + 1 day, as_of];
- revenue of a customer in a window = Σ order_lines.net_amount of their orders dated in it
  − Σ returns.amount dated in it whose original order is theirs (returns count when they happen,
  as in :mod:`saleslab.performance`); cost = Σ quantity × unit_cost likewise; gross profit = revenue − cost;
- **RFM** (window ``window_months``, default 12) over the customers with at least one order line in
  the window: recency_days = as_of − date of the last order, frequency = distinct orders,
  monetary = revenue;
- **scores** 1–5 by quintile: score = 1 + ⌊5 × w / n⌋ where w is the number of customers with a
  strictly worse value (longer recency; fewer orders; less revenue) and n the number of customers,
  so equal values always share a score (no arbitrary split of ties) and the best value scores
  ``1 + ⌊5 × (n − k) / n⌋`` for k customers tied at the top;
- **classes**: a score is high when above the mean score (``threshold="mean"``) or ≥ 3
  (``threshold="score3"``); the (R, F, M) high/low pattern names one of :data:`RFM_CLASSES`;
- **tiers** (:func:`assign_tiers`): the ``churn_share`` customers with the longest recency are
  churn risk; the others are ranked by monetary, then frequency (both descending), then customer id:
  the first ``high_share`` of all customers are high value, the next ``potential_share`` potential,
  the rest basic. Counts are ⌊share × n + ½⌋;
- **rule tags** (:func:`rule_tags`, a customer may carry several): high value = revenue in the last
  12 months ≥ ``high_value_min`` or ≥ ``repeat_min`` repeat purchases in them (orders other than the
  customer's first order ever); potential = ≥ ``followups_min`` follow-ups in the last
  ``recent_months`` with no order in them, or rising purchases (last 12 months ≥ (1 + ``rising_min``)
  × the 12 months before, which must be > 0); churn risk = a CRM-managed customer (company in the
  master, or followed up at least once) with no follow-up in the last ``no_followup_months``, or
  purchases down by ≥ ``decline_min`` against the 12 months before (which must be > 0);
- **firmographics**: industry 制造业 / 零售业 / 服务业, anything else or missing → 其他; size by
  employees: large ≥ 500, medium 50–499, small < 50, unknown when missing;
- **value matrix**: current value = gross profit of the last 12 months; potential value = predicted
  CLV when given, else the revenue change (last 12 months − the 12 months before, 元).
"""

from __future__ import annotations

import datetime as dt

import ibis
import numpy as np
import pandas as pd

from ..channels.performance import first_orders
from ..engine import Engine
from ..errors import ParameterError
from ..performance.kpis import as_date

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
INDUSTRIES = {"制造业": "industry_manufacturing", "零售业": "industry_retail", "服务业": "industry_services"}
INDUSTRY_BANDS = ("industry_manufacturing", "industry_retail", "industry_services", "industry_other")
SIZE_BANDS = ("size_large", "size_medium", "size_small", "size_unknown")
CUSTOMER_TYPES = ("type_company", "type_person", "type_unknown")
QUADRANTS = ("quadrant_deepen", "quadrant_maintain", "quadrant_develop", "quadrant_low_cost")
_QUADRANT_OF = {(True, True): "quadrant_deepen", (True, False): "quadrant_maintain",
                (False, True): "quadrant_develop", (False, False): "quadrant_low_cost"}


# ---------------------------------------------------------------------------------------------
# windows
# ---------------------------------------------------------------------------------------------

def window(as_of, months: int) -> tuple[dt.date, dt.date]:
    """The ``months``-month window ending at ``as_of`` (inclusive): (as_of − months + 1 day, as_of)."""
    as_of = as_date(as_of)
    if int(months) < 1:
        raise ParameterError(f"a window needs at least 1 month (got {months!r})")
    lo = (pd.Timestamp(as_of) - pd.DateOffset(months=int(months)) + pd.Timedelta(days=1)).date()
    return lo, as_of


def _months_back(as_of, months: int) -> dt.date:
    return (pd.Timestamp(as_date(as_of)) - pd.DateOffset(months=int(months))).date()


# ---------------------------------------------------------------------------------------------
# RFM
# ---------------------------------------------------------------------------------------------

def rfm_expr(eng: Engine, as_of, window_months: int = 12) -> ibis.Table:
    """RFM per customer over the window of ``window_months`` ending at ``as_of`` (Ibis, any engine).

    Input: orders(order_id, order_date, customer_id), order_lines(order_id, net_amount),
    returns(order_id, return_date, amount).
    Returns (Ibis): customer_id, recency_days, frequency, monetary — one row per customer with at
    least one order line dated in the window.
    Formulas: recency_days = as_of − max(order_date); frequency = distinct order_id;
    monetary = round(Σ net_amount − Σ returns.amount dated in the window on the customer's orders, 2).
    """
    lo, hi = window(as_of, window_months)
    orders = eng.table("orders")
    o = orders.filter(orders.customer_id.notnull() & orders.order_date.between(lo, hi)).select(
        "order_id", "order_date", "customer_id")
    ln = eng.table("order_lines").select("order_id", "net_amount")
    s = ln.join(o, "order_id")
    sales = s.group_by("customer_id").aggregate(
        last_order=s.order_date.max(), frequency=s.order_id.nunique(), gross=s.net_amount.sum())
    r = eng.table("returns")
    r = r.filter(r.return_date.between(lo, hi)).select("order_id", "amount")
    ro = orders.filter(orders.customer_id.notnull()).select("order_id", "customer_id")
    rj = r.join(ro, "order_id")
    rets = rj.group_by("customer_id").aggregate(returned=rj.amount.sum())
    j = sales.left_join(rets, sales.customer_id == rets.customer_id)
    return j.select(
        customer_id=j.customer_id,
        recency_days=ibis.literal(hi).delta(j.last_order, unit="day").cast("int64"),
        frequency=j.frequency.cast("int64"),
        monetary=(j.gross - j.returned.fill_null(0.0)).round(2),
    )


def quintile_score(values: pd.Series, higher_is_better: bool = True) -> pd.Series:
    """Scores 1–5: 1 + ⌊5 × (customers with a strictly worse value) / n⌋; ties share a score."""
    v = values if higher_is_better else -values
    worse = v.rank(method="min", ascending=True).astype("int64") - 1
    n = len(v)
    return (1 + (5 * worse) // max(n, 1)).astype("int64")


def score_rfm(rfm_table: pd.DataFrame, threshold: str = "mean") -> pd.DataFrame:
    """Add quintile scores and the RFM class to an RFM table (pure; see :func:`rfm`).

    Input columns: customer_id, recency_days, frequency, monetary.
    Returns the same rows sorted by customer_id with r_score, f_score, m_score (1–5; recent, frequent,
    high spend = 5), r_high, f_high, m_high (score > mean score, or score ≥ 3 with
    ``threshold="score3"``) and rfm_class (one of :data:`RFM_CLASSES`).
    """
    if threshold not in THRESHOLDS:
        raise ParameterError(f"rfm threshold must be one of {', '.join(THRESHOLDS)} (got {threshold!r})")
    df = rfm_table.sort_values("customer_id", kind="mergesort").reset_index(drop=True).copy()
    df["monetary"] = df["monetary"].astype(float).round(2)
    df["r_score"] = quintile_score(df["recency_days"], higher_is_better=False)
    df["f_score"] = quintile_score(df["frequency"])
    df["m_score"] = quintile_score(df["monetary"])
    for s in "rfm":
        score = df[f"{s}_score"]
        cut = score.mean() if threshold == "mean" else 3
        df[f"{s}_high"] = (score > cut) if threshold == "mean" else (score >= cut)
    df["rfm_class"] = [_CLASS_OF[k] for k in zip(df["r_high"], df["f_high"], df["m_high"])]
    return df


def rfm(eng: Engine, as_of, window_months: int = 12, threshold: str = "mean") -> pd.DataFrame:
    """RFM with quintile scores and class per customer (see :func:`rfm_expr`, :func:`score_rfm`).

    Returns: customer_id, recency_days, frequency, monetary, r_score, f_score, m_score, r_high,
    f_high, m_high, rfm_class — sorted by customer_id.
    """
    df = eng.execute(rfm_expr(eng, as_of, window_months))
    return score_rfm(df, threshold)


def rfm_summary(scored: pd.DataFrame) -> pd.DataFrame:
    """Customers and revenue per RFM class, all eight classes in :data:`RFM_CLASSES` order.

    Input: :func:`rfm`'s table. Returns: rfm_class, customers, customer_share, revenue (Σ monetary),
    revenue_share, avg_recency_days, avg_frequency, treatment (label key).
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
    return out[["rfm_class", "customers", "customer_share", "revenue", "revenue_share", "avg_recency_days",
                "avg_frequency", "treatment"]]


def rfm_grid(scored: pd.DataFrame) -> pd.DataFrame:
    """R score × F score grid: r_score (5..1 rows), f_score (1..5 columns) → customers, and the
    mean monetary in a second frame. Returns a long table: r_score, f_score, customers, avg_monetary."""
    idx = pd.MultiIndex.from_product([range(5, 0, -1), range(1, 6)], names=["r_score", "f_score"])
    g = scored.groupby(["r_score", "f_score"]).agg(customers=("customer_id", "size"), avg_monetary=("monetary", "mean"))
    g = g.reindex(idx)
    g["customers"] = g["customers"].fillna(0).astype("int64")
    g["avg_monetary"] = g["avg_monetary"].round(2)
    return g.reset_index()


# ---------------------------------------------------------------------------------------------
# tiers
# ---------------------------------------------------------------------------------------------

def _count(share: float, n: int) -> int:
    return int(np.floor(share * n + 0.5))


def assign_tiers(scored: pd.DataFrame, high_share: float = 0.15, potential_share: float = 0.30,
                 basic_share: float = 0.40, churn_share: float = 0.15) -> pd.Series:
    """Tier per customer (index of ``scored``): one of :data:`TIERS`.

    Input columns: customer_id, recency_days, frequency, monetary.
    Rule: the ⌊churn_share × n + ½⌋ customers with the longest recency (ties: less revenue, then
    customer id) are churn risk; the others by monetary (desc), frequency (desc), customer id: the
    first ⌊high_share × n + ½⌋ are high value, the next up to ⌊(high + potential) × n + ½⌋ potential,
    the rest basic. The four shares must add up to 1.
    """
    shares = (high_share, potential_share, basic_share, churn_share)
    if any(s < 0 for s in shares) or abs(sum(shares) - 1.0) > 1e-6:
        raise ParameterError(f"tier shares must be ≥ 0 and add up to 1 (got {shares})")
    n = len(scored)
    df = scored[["customer_id", "recency_days", "frequency", "monetary"]].copy()
    df["monetary"] = df["monetary"].astype(float).round(2)
    tier = pd.Series("tier_basic", index=df.index, dtype=object)
    by_recency = df.sort_values(["recency_days", "monetary", "customer_id"], ascending=[False, True, True],
                                kind="mergesort")
    churn = by_recency.index[:_count(churn_share, n)]
    tier[churn] = "tier_churn_risk"
    rest = df.drop(churn).sort_values(["monetary", "frequency", "customer_id"], ascending=[False, False, True],
                                      kind="mergesort")
    n_high = min(_count(high_share, n), len(rest))
    n_top = min(_count(high_share + potential_share, n), len(rest))
    tier[rest.index[:n_high]] = "tier_high_value"
    tier[rest.index[n_high:n_top]] = "tier_potential"
    return tier


def tier_summary(segments: pd.DataFrame, value: str = "monetary") -> pd.DataFrame:
    """Customers and revenue per tier (:data:`TIERS` order).

    Input columns: customer_tier, ``value``. Returns: customer_tier, customers, customer_share,
    revenue, revenue_share."""
    return _cut(segments, "customer_tier", TIERS, value).rename(columns={"segment": "customer_tier"}).drop(
        columns="dimension")


# ---------------------------------------------------------------------------------------------
# activity and rule tags
# ---------------------------------------------------------------------------------------------

def activity_expr(eng: Engine, as_of, recent_months: int = 3) -> ibis.Table:
    """Per customer: sales and returns over the last 24 months and CRM follow-ups up to ``as_of`` (Ibis).

    Input: orders, order_lines, products(unit_cost), returns, followups(customer_id, followup_date).
    Returns (Ibis): customer_id, gross_12m, returned_12m, cost_12m, returned_cost_12m, gross_prev_12m,
    returned_prev_12m, orders_12m, repeat_orders_12m, orders_recent, followups_recent, followups,
    last_followup_date — one row per customer with an order line or a return in the 24 months, or
    any follow-up. "12m" is the 12-month window ending at as_of, "prev_12m" the 12 months before it,
    "recent" the last ``recent_months``; repeat orders are orders other than the customer's first
    order ever (earliest date, then smallest order id).
    """
    as_of = as_date(as_of)
    cur_lo, _ = window(as_of, 12)
    prev_lo, _ = window(as_of, 24)
    rec_lo, _ = window(as_of, recent_months)
    orders = eng.table("orders")
    hdr = orders.filter(orders.customer_id.notnull()).select("order_id", "order_date", "customer_id")
    p = eng.table("products").select("product_id", "unit_cost")
    first = first_orders(eng, as_of).select("customer_id", "first_order_id")

    o = hdr.filter(hdr.order_date.between(prev_lo, as_of))
    o = o.left_join(first, o.customer_id == first.customer_id).select(
        "order_id", "order_date", "customer_id", "first_order_id")
    ln = eng.table("order_lines").select("order_id", "product_id", "quantity", "net_amount")
    s = ln.join(o, "order_id")
    s = s.left_join(p, s.product_id == p.product_id)
    null_s, zero = ibis.null("string"), ibis.literal(0.0)
    sales = s.select(
        customer_id=s.customer_id, date=s.order_date, kind=ibis.literal("sale"),
        order_id=s.order_id, repeat_order_id=ibis.ifelse(s.order_id == s.first_order_id.fill_null(""), null_s,
                                                         s.order_id),
        amount=s.net_amount, cost=s.quantity * s.unit_cost.fill_null(0))
    r = eng.table("returns")
    r = r.filter(r.return_date.between(prev_lo, as_of)).select("order_id", "product_id", "return_date", "quantity",
                                                                "amount")
    r = r.join(hdr.select("order_id", "customer_id"), "order_id")
    r = r.left_join(p, r.product_id == p.product_id)
    rets = r.select(customer_id=r.customer_id, date=r.return_date, kind=ibis.literal("return"), order_id=null_s,
                    repeat_order_id=null_s, amount=r.amount, cost=r.quantity * r.unit_cost.fill_null(0))
    f = eng.table("followups")
    f = f.filter(f.customer_id.notnull() & (f.followup_date <= as_of))
    fol = f.select(customer_id=f.customer_id, date=f.followup_date, kind=ibis.literal("followup"), order_id=null_s,
                   repeat_order_id=null_s, amount=zero, cost=zero)
    u = sales.union(rets).union(fol)
    cur = u.date >= cur_lo
    prev = u.date < cur_lo
    rec = u.date >= rec_lo
    is_sale, is_ret, is_fol = u.kind == "sale", u.kind == "return", u.kind == "followup"

    def total(cond, col):
        return ibis.ifelse(cond, col, zero).sum()

    return u.group_by("customer_id").aggregate(
        gross_12m=total(is_sale & cur, u.amount),
        returned_12m=total(is_ret & cur, u.amount),
        cost_12m=total(is_sale & cur, u.cost),
        returned_cost_12m=total(is_ret & cur, u.cost),
        gross_prev_12m=total(is_sale & prev, u.amount),
        returned_prev_12m=total(is_ret & prev, u.amount),
        orders_12m=ibis.ifelse(cur, u.order_id, null_s).nunique(),
        repeat_orders_12m=ibis.ifelse(cur, u.repeat_order_id, null_s).nunique(),
        orders_recent=ibis.ifelse(rec, u.order_id, null_s).nunique(),
        followups_recent=ibis.ifelse(is_fol & rec, 1, 0).sum(),
        followups=ibis.ifelse(is_fol, 1, 0).sum(),
        last_followup_date=ibis.ifelse(is_fol, u.date, ibis.null("date")).max(),
    )


def customer_activity(eng: Engine, as_of, recent_months: int = 3, customer_ids=None) -> pd.DataFrame:
    """Per-customer activity for the tags and the value matrix (see :func:`activity_expr`).

    ``customer_ids`` (e.g. the RFM customers) restricts the rows to those customers, with zeros for
    one without activity; None keeps every customer of :func:`activity_expr`.

    Returns: customer_id, revenue_12m, revenue_prev_12m, revenue_change (= revenue_12m −
    revenue_prev_12m), cost_12m, gross_profit_12m, orders_12m, repeat_orders_12m, orders_recent,
    followups_recent, followups, last_followup_date, crm_managed (company in the customer master
    or followed up at least once) — sorted by customer_id. Revenue nets returns (module docstring).
    """
    df = eng.execute(activity_expr(eng, as_of, recent_months))
    if customer_ids is not None:
        ids = pd.DataFrame({"customer_id": pd.Series(sorted(set(customer_ids)), dtype=object)})
        df = ids.merge(df, on="customer_id", how="left")
        num = [c for c in df.columns if c not in ("customer_id", "last_followup_date")]
        df[num] = df[num].fillna(0)
    c = eng.table("customers")
    companies = set(eng.execute(c.filter(c.customer_type == "company").select("customer_id").distinct())["customer_id"])
    df["revenue_12m"] = (df["gross_12m"] - df["returned_12m"]).round(2)
    df["revenue_prev_12m"] = (df["gross_prev_12m"] - df["returned_prev_12m"]).round(2)
    df["revenue_change"] = (df["revenue_12m"] - df["revenue_prev_12m"]).round(2)
    df["cost_12m"] = (df["cost_12m"] - df["returned_cost_12m"]).round(2)
    df["gross_profit_12m"] = (df["revenue_12m"] - df["cost_12m"]).round(2)
    for col in ("orders_12m", "repeat_orders_12m", "orders_recent", "followups_recent", "followups"):
        df[col] = df[col].fillna(0).astype("int64")
    df["last_followup_date"] = pd.to_datetime(df["last_followup_date"]).dt.date
    df["crm_managed"] = df["customer_id"].isin(companies) | (df["followups"] > 0)
    cols = ["customer_id", "revenue_12m", "revenue_prev_12m", "revenue_change", "cost_12m", "gross_profit_12m",
            "orders_12m", "repeat_orders_12m", "orders_recent", "followups_recent", "followups",
            "last_followup_date", "crm_managed"]
    return df[cols].sort_values("customer_id").reset_index(drop=True)


def rule_tags(activity: pd.DataFrame, as_of, high_value_min: float = 100_000, repeat_min: int = 3,
              followups_min: int = 2, rising_min: float = 0.2, no_followup_months: int = 6,
              decline_min: float = 0.5) -> pd.DataFrame:
    """Rule tags per customer (domain.md §6; several may apply). Pure function over :func:`customer_activity`.

    Returns: customer_id, rule_revenue (revenue_12m ≥ high_value_min), rule_repeat (repeat_orders_12m
    ≥ repeat_min), rule_followups (followups_recent ≥ followups_min and orders_recent = 0),
    rule_rising (revenue_prev_12m > 0 and revenue_12m ≥ (1 + rising_min) × revenue_prev_12m),
    rule_no_followup (crm_managed and no follow-up after as_of − no_followup_months),
    rule_decline (revenue_prev_12m > 0 and revenue_12m ≤ (1 − decline_min) × revenue_prev_12m),
    tag_high_value (revenue or repeat), tag_potential (followups or rising), tag_churn_risk
    (no_followup or decline), tags (the tag keys that apply, comma-separated, "" when none).
    """
    a = activity
    cutoff = _months_back(as_of, no_followup_months)
    last = pd.to_datetime(a["last_followup_date"])
    prev, cur = a["revenue_prev_12m"].round(2), a["revenue_12m"].round(2)
    out = pd.DataFrame({"customer_id": a["customer_id"]})
    out["rule_revenue"] = cur >= high_value_min
    out["rule_repeat"] = a["repeat_orders_12m"] >= repeat_min
    out["rule_followups"] = (a["followups_recent"] >= followups_min) & (a["orders_recent"] == 0)
    out["rule_rising"] = (prev > 0) & (cur >= ((1 + rising_min) * prev).round(2))
    out["rule_no_followup"] = a["crm_managed"].astype(bool) & ~(last > pd.Timestamp(cutoff))
    out["rule_decline"] = (prev > 0) & (cur <= ((1 - decline_min) * prev).round(2))
    out["tag_high_value"] = out["rule_revenue"] | out["rule_repeat"]
    out["tag_potential"] = out["rule_followups"] | out["rule_rising"]
    out["tag_churn_risk"] = out["rule_no_followup"] | out["rule_decline"]
    flags = out[list(TAGS)].to_numpy()
    out["tags"] = [",".join(t for t, on in zip(TAGS, row) if on) for row in flags]
    return out.reset_index(drop=True)


def tag_summary(tags: pd.DataFrame, value: pd.Series | None = None) -> pd.DataFrame:
    """Customers per tag and per rule behind it: tag, rule, customers, customer_share (of all rows)."""
    rules = {"tag_high_value": ("rule_revenue", "rule_repeat"), "tag_potential": ("rule_followups", "rule_rising"),
             "tag_churn_risk": ("rule_no_followup", "rule_decline")}
    n = len(tags)
    rows = []
    for tag, parts in rules.items():
        rows.append({"tag": tag, "rule": "rule_any", "customers": int(tags[tag].sum())})
        rows += [{"tag": tag, "rule": r, "customers": int(tags[r].sum())} for r in parts]
    out = pd.DataFrame(rows)
    out["customer_share"] = out["customers"] / n if n else 0.0
    return out


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

    Returns: customer_id, customer_type (type_company / type_person / type_unknown), industry_band,
    size_band — for ``customer_ids`` (customers missing from the master get type_unknown,
    industry_other, size_unknown) or for every master row when None.
    """
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
    customer_share, revenue, revenue_share — every band listed, zero when empty.
    """
    return pd.concat([_cut(df, "customer_type", CUSTOMER_TYPES, value),
                      _cut(df, "industry_band", INDUSTRY_BANDS, value),
                      _cut(df, "size_band", SIZE_BANDS, value)], ignore_index=True)


# ---------------------------------------------------------------------------------------------
# value matrix
# ---------------------------------------------------------------------------------------------

def value_table(activity: pd.DataFrame, clv: pd.DataFrame | None = None, clv_column: str = "clv") -> pd.DataFrame:
    """Current and potential value per customer of :func:`customer_activity`.

    Returns: customer_id, current_value (gross_profit_12m), potential_value (``clv[clv_column]``
    when ``clv`` — a table with customer_id — is given, 0 for customers it lacks; else
    revenue_change = revenue_12m − revenue_prev_12m), potential_basis ("clv" or "growth").
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
    return out.reset_index(drop=True)


POTENTIAL_BASES = ("clv", "growth")


def potential_value_table(eng, as_of, activity: pd.DataFrame, potential: str = "clv",
                          horizon_months: int = 12, annual_discount: float = 0.10) -> pd.DataFrame:
    """:func:`value_table` with the potential value chosen by ``potential``: ``clv`` — the predicted
    customer lifetime value over ``horizon_months`` (BG/NBD + Gamma-Gamma fitted on all purchases
    up to ``as_of``, :mod:`saleslab.clv`) — or ``growth`` (revenue change year over year)."""
    if potential not in POTENTIAL_BASES:
        raise ParameterError(f"value_potential must be one of {', '.join(POTENTIAL_BASES)} (got {potential!r})")
    if potential == "growth":
        return value_table(activity)
    from ..clv import models as clv

    summary = clv.summary(eng, as_of)
    values = clv.customer_value(summary, clv.fit_bg_nbd(summary), clv.fit_gamma_gamma(summary),
                                horizon_months, annual_discount)
    return value_table(activity, values[["customer_id", "clv"]])


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
        raise ParameterError(f"value split must be 'median', 'mean' or a quantile in (0, 1) (got {split!r})")
    return float(v.quantile(q))


def value_matrix(df: pd.DataFrame, current: str = "current_value", potential: str = "potential_value",
                 split="median") -> pd.DataFrame:
    """Quadrant per customer: high current value when above the split of ``current`` (strictly),
    high potential likewise; deepen (high, high), maintain (high, low), develop (low, high),
    low-cost service (low, low).

    Returns ``df`` with current_high, potential_high and quadrant (one of :data:`QUADRANTS`).
    """
    out = df.copy()
    cx, py = value_threshold(out[current], split), value_threshold(out[potential], split)
    out["current_high"] = out[current].astype(float) > cx
    out["potential_high"] = out[potential].astype(float) > py
    out["quadrant"] = [_QUADRANT_OF[k] for k in zip(out["current_high"], out["potential_high"])]
    return out


def quadrant_counts(matrix: pd.DataFrame, current: str = "current_value", potential: str = "potential_value"
                    ) -> pd.DataFrame:
    """Per quadrant (:data:`QUADRANTS` order): quadrant, customers, customer_share, current_value,
    potential_value (sums)."""
    g = matrix.groupby("quadrant").agg(customers=("quadrant", "size"), current_value=(current, "sum"),
                                       potential_value=(potential, "sum"))
    g = g.reindex(list(QUADRANTS)).rename_axis("quadrant").reset_index()
    g["customers"] = g["customers"].fillna(0).astype("int64")
    n = g["customers"].sum()
    g["customer_share"] = g["customers"] / n if n else 0.0
    for c in ("current_value", "potential_value"):
        g[c] = g[c].fillna(0.0).round(2)
    return g[["quadrant", "customers", "customer_share", "current_value", "potential_value"]]


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
    potential_value, quadrant (``matrix``); cluster (``clusters``: customer_id, cluster).
    """
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
    cols = [c for c in SEGMENT_COLUMNS if c in out.columns]
    return out[cols].sort_values("customer_id").reset_index(drop=True)
