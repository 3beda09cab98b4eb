"""Customer lifecycle, cohorts, repurchase and churn rates (生命周期, 留存, 复购率, 流失率; domain.md §6).

Only dated orders with a known ``orders.customer_id`` count as purchases (anonymous orders are
left out). A customer's orders are counted by distinct order id; returns do not undo a purchase.

Lifecycle stages at a date ``as_of`` (:func:`lifecycle_stages`), the first rule that applies wins
(thresholds from :class:`saleslab.lifecycle.params.Params`):

1. ``stage_prospect`` 潜在 — known (customer master, a CRM lead carrying a customer id, or an open
   lead without one) but no order up to ``as_of``;
2. ``stage_churned`` 流失 — no order for ``lifecycle_churned_days`` (default 365) days or more;
3. ``stage_at_risk`` 预警 — no order for ``lifecycle_at_risk_days`` (default 180) days or more,
   **or** falling frequency: at least :data:`MIN_PRIOR_ORDERS` (2) orders in the
   ``lifecycle_trend_days`` (180) days before the latest ``lifecycle_trend_days`` and at most
   ``lifecycle_falling_ratio`` (0.5) times as many in the latest ``lifecycle_trend_days``;
4. ``stage_new`` 新客 — first order less than ``lifecycle_new_days`` (90) days before ``as_of``;
5. ``stage_mature`` 成熟 — every other buying customer.

The defaults follow the demo's purchase cadence: the median gap between a customer's orders is
about 36 days, the 90th percentile about 170 days, so 180 days without an order is unusual and
365 days means the customer has most likely gone.

Cohorts (:func:`cohort_expr`, :func:`cohort_table`): a customer's cohort is the calendar month of
their first order ever (up to ``end``); the customer is *active* in a month with at least one order;
retention_rate(cohort, k) = active customers of the cohort k months after the cohort month / the
cohort's size (its customers, all active in month 0).

Monthly rates (:func:`monthly_rates`): repurchase rate (复购率) = returning customers / active
customers of the month (returning: first order before the month); churn rate (流失率) = customers
whose inactivity reaches ``lifecycle_churned_days`` during the month / customers active at the
month's start (an order in the ``lifecycle_churned_days`` days before the month's first day) — the
same rule as the churned stage, so it is the monthly flow into ``stage_churned``.

Stage movements compare with the previous run's stages (:func:`previous_stages`, read through
:meth:`saleslab.engine.Engine.previous_result`), or with the stages one month earlier. Results
record the parameters they were computed with (:func:`saleslab.params.attach`).

**Partial data**: everything here needs orders only (:func:`buying_orders` raises
:class:`~saleslab.errors.MissingSource` without them), except the prospects: customers known
without an order come from the customer master or CRM leads. Without either, no prospect can be
known: :func:`lifecycle_stages` finds none and records ``attrs["prospects_known"] = False`` (kept
by :func:`stage_counts`; the narrative then does not count them), and
:func:`require_prospect_sources` says so for the page.
"""

from __future__ import annotations

import datetime as dt

import ibis
import numpy as np
import pandas as pd

from ..engine import Engine
from ..errors import MissingSource, SalesLabError
from ..params import attach
from ..periods import as_date
from .params import Params

#: Name of the table of :func:`lifecycle_stages` that a stage saves (and :func:`previous_stages` reads back).
STAGES_TABLE = "lifecycle_stages"
#: Falling frequency needs at least this many orders in the earlier trend window.
MIN_PRIOR_ORDERS = 2
#: Stage keys in lifecycle order (labels in :mod:`saleslab.lifecycle.labels`).
STAGES = ("stage_prospect", "stage_new", "stage_mature", "stage_at_risk", "stage_churned")
#: The "from" / "to" stage of a customer missing from one of the two compared tables.
ABSENT = "stage_absent"
#: Why a customer is in its stage (one key per rule).
REASONS = ("why_no_orders", "why_inactive_churned", "why_inactive_at_risk", "why_falling_frequency",
           "why_recent_first_order", "why_regular_buyer")
#: Lead stages that are closed (the lead is no longer a prospect).
CLOSED_LEAD_STAGES = ("lost", "contract", "repeat")


def _mi(col):
    """Month index year·12 + month − 1 (an integer every engine computes the same way)."""
    return col.year() * 12 + col.month() - 1


def _month_of_index(i) -> dt.date:
    i = int(i)
    return dt.date(i // 12, i % 12 + 1, 1)


def _index_of_month(d: dt.date) -> int:
    return d.year * 12 + d.month - 1


def buying_orders(eng: Engine, end) -> ibis.Table:
    """(customer_id, order_id, order_date) of orders with a known customer dated up to ``end``
    (one row per order header; counts use distinct order ids / customers). Raises
    :class:`~saleslab.errors.MissingSource` when no source provides orders."""
    eng.require("orders", needed_for="customer purchases (lifecycle, cohorts, repurchase)")
    o = eng.table("orders")
    o = o.filter(o.customer_id.notnull() & o.order_date.notnull() & (o.order_date <= as_date(end)))
    return o.select("customer_id", "order_id", "order_date")


def customer_activity_expr(eng: Engine, as_of, params: Params | None = None) -> ibis.Table:
    """Per buying customer up to ``as_of`` (Ibis).

    Input: :func:`buying_orders` up to ``as_of``.
    Returns: customer_id, first_order_date, last_order_date, orders (distinct orders up to as_of),
    orders_recent (in (as_of − trend_days, as_of]), orders_prior (in (as_of − 2·trend_days,
    as_of − trend_days]), trend_days = ``params.lifecycle_trend_days``."""
    trend_days = (params or Params()).lifecycle_trend_days
    as_of = as_date(as_of)
    o = buying_orders(eng, as_of)
    recent_lo = as_of - dt.timedelta(days=trend_days)
    prior_lo = as_of - dt.timedelta(days=2 * trend_days)
    # distinct orders counted in two plain aggregations (per customer and order, then per customer)
    # instead of three COUNT(DISTINCT) per customer: the same counts, and DuckDB spills these under
    # its memory cap (at 100 M order lines under 2 GB the distinct counts ran out of memory)
    per = o.group_by(["customer_id", "order_id"]).aggregate(
        first=o.order_date.min(), last=o.order_date.max(),
        recent=(o.order_date > recent_lo).any(),
        prior=((o.order_date > prior_lo) & (o.order_date <= recent_lo)).any())
    known = per.order_id.notnull()
    return per.group_by("customer_id").aggregate(
        first_order_date=per["first"].min(),
        last_order_date=per["last"].max(),
        orders=known.cast("int64").sum(),
        orders_recent=(known & per.recent).cast("int64").sum(),
        orders_prior=(known & per.prior).cast("int64").sum(),
    )


def known_customers(eng: Engine, as_of, include_open_leads: bool = True) -> pd.DataFrame:
    """Customers known at ``as_of`` without needing an order: customer master rows created up to
    ``as_of`` (or undated), lead customer ids, and (``include_open_leads``) open leads without a
    customer id, identified by their lead id.

    Returns customer_id, known_from (``from_customers`` / ``from_leads`` / ``from_open_lead``), one
    row per id (the master wins over leads).
    """
    as_of = as_date(as_of)
    c = eng.table("customers")
    c = c.filter(c.created_date.isnull() | (c.created_date <= as_of))
    parts = [eng.execute(c.select("customer_id").distinct()).assign(known_from="from_customers")]
    try:
        ld = eng.table("leads")
    except SalesLabError:  # a warehouse without CRM leads
        ld = None
    if ld is not None:
        ld = ld.filter(ld.created_date <= as_of)
        with_id = ld.filter(ld.customer_id.notnull()).select("customer_id").distinct()
        parts.append(eng.execute(with_id).assign(known_from="from_leads"))
        if include_open_leads:
            open_ = ld.filter(ld.customer_id.isnull() & ~ld.stage.fill_null("").isin(CLOSED_LEAD_STAGES))
            parts.append(eng.execute(open_.select(customer_id=open_.lead_id).distinct()).assign(known_from="from_open_lead"))
    df = pd.concat(parts, ignore_index=True)
    return df.drop_duplicates("customer_id", keep="first").reset_index(drop=True)


def prospects_known(eng: Engine) -> bool:
    """Whether prospects can be known: some source provides the customer master or CRM leads."""
    return eng.rows("customers") > 0 or eng.rows("leads") > 0


def require_prospect_sources(eng: Engine) -> None:
    """Raise :class:`~saleslab.errors.MissingSource` (naming both tables; either would do) when no
    source provides the customer master nor CRM leads: prospects cannot be known then."""
    if not prospects_known(eng):
        raise MissingSource("prospects (customers known without an order) need the customer master or CRM leads: "
                            "no source in this warehouse provides either", tables=("customers", "leads"),
                            needed_for="prospects")


def lifecycle_stages(eng: Engine, as_of, params: Params | None = None, include_open_leads: bool = True,
                     min_prior_orders: int = MIN_PRIOR_ORDERS) -> pd.DataFrame:
    """The lifecycle stage of every known or buying customer at ``as_of`` (rules in the module doc).

    Input: orders(order_id, order_date, customer_id), customers(customer_id, created_date),
    leads(lead_id, customer_id, created_date, stage).

    Returns one row per customer_id, sorted by id: customer_id, known_from (``from_orders`` when the
    id only appears on orders, else ``from_customers`` / ``from_leads`` / ``from_open_lead``), first_order_date,
    last_order_date, orders, orders_recent, orders_prior, days_since_last_order, stage (a key of
    :data:`STAGES`), stage_reason (a key of :data:`REASONS`). Records ``params``, and
    ``attrs["prospects_known"]`` (False without a customer master and leads: no prospect can be known).
    Formula: days_since_last_order = as_of − last_order_date; the first rule of the module doc
    that holds sets stage and stage_reason.
    """
    p = params or Params()
    new_days, at_risk_days, churned_days = p.lifecycle_new_days, p.lifecycle_at_risk_days, p.lifecycle_churned_days
    falling_ratio = p.lifecycle_falling_ratio
    as_of = as_date(as_of)
    act = eng.execute(customer_activity_expr(eng, as_of, p))
    known = known_customers(eng, as_of, include_open_leads)
    df = known.merge(act, on="customer_id", how="outer")
    df["known_from"] = df["known_from"].fillna("from_orders")
    for c in ("first_order_date", "last_order_date"):
        df[c] = pd.to_datetime(df[c]).dt.date
    for c in ("orders", "orders_recent", "orders_prior"):
        df[c] = df[c].fillna(0).astype("int64")
    bought = df["orders"] > 0
    last = pd.to_datetime(df["last_order_date"])
    first = pd.to_datetime(df["first_order_date"])
    ts = pd.Timestamp(as_of)
    df["days_since_last_order"] = (ts - last).dt.days.astype("Int64")
    since_first = (ts - first).dt.days
    idle = df["days_since_last_order"].astype("float64")
    falling = (df["orders_prior"] >= min_prior_orders) & (df["orders_recent"] <= falling_ratio * df["orders_prior"])
    conds = [~bought, idle >= churned_days, idle >= at_risk_days, falling, since_first < new_days]
    df["stage"] = np.select(conds, ["stage_prospect", "stage_churned", "stage_at_risk", "stage_at_risk", "stage_new"],
                            default="stage_mature")
    df["stage_reason"] = np.select(conds, ["why_no_orders", "why_inactive_churned", "why_inactive_at_risk",
                                           "why_falling_frequency", "why_recent_first_order"],
                                   default="why_regular_buyer")
    cols = ["customer_id", "known_from", "first_order_date", "last_order_date", "orders", "orders_recent", "orders_prior",
            "days_since_last_order", "stage", "stage_reason"]
    out = attach(df[cols].sort_values("customer_id").reset_index(drop=True), p)
    out.attrs["prospects_known"] = prospects_known(eng)
    return out


def _carry(df: pd.DataFrame, source: pd.DataFrame) -> pd.DataFrame:
    """``df`` recording the parameters ``source`` records."""
    return attach(df, None, **source.attrs.get("params", {}))


def stage_counts(stages: pd.DataFrame) -> pd.DataFrame:
    """Customers per stage of :func:`lifecycle_stages`, in lifecycle order: stage, customers, share
    (= customers / all customers); records the parameters of ``stages`` and its
    ``attrs["prospects_known"]``."""
    n = stages["stage"].value_counts().reindex(list(STAGES), fill_value=0)
    out = pd.DataFrame({"stage": list(STAGES), "customers": n.to_numpy().astype("int64")})
    total = out["customers"].sum()
    out["share"] = out["customers"] / total if total else np.nan
    out = _carry(out, stages)
    out.attrs["prospects_known"] = bool(stages.attrs.get("prospects_known", True))
    return out


def headline_counts(counts: pd.DataFrame) -> dict:
    """From :func:`stage_counts`: customers who have bought (every stage but prospect) and at risk."""
    n = counts.set_index("stage")["customers"]
    return {"active_buyers": int(n.drop("stage_prospect").sum()), "at_risk": int(n["stage_at_risk"])}


def stage_movements(current: pd.DataFrame, previous: pd.DataFrame) -> pd.DataFrame:
    """Customers moving from their stage in ``previous`` to their stage in ``current`` (both
    :func:`lifecycle_stages` tables, e.g. this run's and the last run's, or at as_of − 1 month).

    A customer missing from one table counts as :data:`ABSENT` there (new in the data, or gone).
    Returns from_stage, to_stage, customers, moved (from_stage != to_stage) — every pair with at
    least one customer, in lifecycle order; records the parameters of ``current``.
    """
    m = previous[["customer_id", "stage"]].merge(current[["customer_id", "stage"]], on="customer_id", how="outer",
                                                 suffixes=("_from", "_to"))
    m = m.fillna({"stage_from": ABSENT, "stage_to": ABSENT})
    g = m.groupby(["stage_from", "stage_to"]).size().rename("customers").reset_index()
    g = g.rename(columns={"stage_from": "from_stage", "stage_to": "to_stage"})
    order = {s: i for i, s in enumerate((ABSENT, *STAGES))}
    g = g.assign(_f=g["from_stage"].map(order), _t=g["to_stage"].map(order)).sort_values(["_f", "_t"])
    g["customers"] = g["customers"].astype("int64")
    g["moved"] = g["from_stage"] != g["to_stage"]
    return _carry(g[["from_stage", "to_stage", "customers", "moved"]].reset_index(drop=True), current)


def changed_stages(movements: pd.DataFrame) -> pd.DataFrame:
    """The rows of :func:`stage_movements` where the stage changed (``moved``)."""
    return _carry(movements[movements["moved"]].reset_index(drop=True), movements)


def movement_matrix(movements: pd.DataFrame) -> pd.DataFrame:
    """:func:`stage_movements` as a from_stage × to_stage table of counts (zeros filled)."""
    keys = [ABSENT, *STAGES]
    m = movements.pivot_table(index="from_stage", columns="to_stage", values="customers", aggfunc="sum", fill_value=0)
    m = m.reindex(index=keys, columns=keys, fill_value=0)
    return m.loc[(m.sum(axis=1) > 0), (m.sum(axis=0) > 0)].astype("int64")


def one_month_earlier(as_of) -> dt.date:
    """``as_of`` minus one calendar month (the 31st becomes the month's last day)."""
    d = pd.Timestamp(as_date(as_of)) - pd.DateOffset(months=1)
    return d.date()


def previous_stages(eng: Engine, stage: str, as_of, params: Params | None = None) -> tuple[pd.DataFrame, str]:
    """The stages to compare with: the :data:`STAGES_TABLE` table that ``stage`` (the stage that saves
    it, e.g. the calling notebook's ``st.name``) saved in the previous run
    (:meth:`saleslab.engine.Engine.previous_result`), else :func:`lifecycle_stages` at
    :func:`one_month_earlier` with ``params``.

    Returns (table, basis) with basis ``previous_run`` or ``one_month_earlier``.
    """
    previous = eng.previous_result(stage, STAGES_TABLE)
    if previous is not None:
        return previous, "previous_run"
    return lifecycle_stages(eng, one_month_earlier(as_of), params), "one_month_earlier"


def customer_stage(stages: pd.DataFrame, customer_id: str) -> dict:
    """The :func:`lifecycle_stages` row of ``customer_id`` as a dict (empty when absent)."""
    r = stages[stages["customer_id"] == customer_id]
    return r.iloc[0].to_dict() if len(r) else {}


# ---------------------------------------------------------------------------------------------
# Cohorts
# ---------------------------------------------------------------------------------------------

def _first_orders(o: ibis.Table) -> ibis.Table:
    return o.group_by("customer_id").aggregate(first_order_date=o.order_date.min())


def cohort_expr(eng: Engine, start, end) -> ibis.Table:
    """Active customers per cohort and months since the cohort month (Ibis, engine-portable).

    Input: orders(order_id, order_date, customer_id). The cohort of a customer is the month of
    their first order ever (up to ``end``); only cohorts from ``start``'s month are kept, and
    activity is counted in [start, end].
    Returns columns cohort_month (date, first of month), months_since (int, 0 = the cohort month),
    active_customers (distinct customers of the cohort with an order in that month).
    """
    start, end = as_date(start), as_date(end)
    o = buying_orders(eng, end)
    f = _first_orders(o)
    f = f.filter(f.first_order_date >= start.replace(day=1))
    a = o.filter(o.order_date >= start)
    j = a.join(f, "customer_id")
    j = j.select(customer_id=j.customer_id, cohort_month=j.first_order_date.truncate("M").cast("date"),
                 months_since=(_mi(j.order_date) - _mi(j.first_order_date)).cast("int64"))
    return j.group_by(["cohort_month", "months_since"]).aggregate(active_customers=j.customer_id.nunique())


def cohort_table(eng: Engine, start, end, cohorts: pd.DataFrame | None = None) -> pd.DataFrame:
    """:func:`cohort_expr` executed and completed: one row per cohort and every observable month
    (cohort month + k ≤ ``end``'s month; months with no active customer get 0).

    Returns cohort_month, months_since, cohort_size, active_customers, retention_rate
    (= active_customers / cohort_size), sorted.
    """
    start, end = as_date(start), as_date(end)
    df = cohorts if cohorts is not None else eng.execute(cohort_expr(eng, start, end))
    cols = ["cohort_month", "months_since", "cohort_size", "active_customers", "retention_rate"]
    if df.empty:
        return pd.DataFrame({c: pd.Series(dtype="int64" if c != "retention_rate" else "float64") for c in cols})
    df = df.copy()
    df["cohort_month"] = pd.to_datetime(df["cohort_month"]).dt.date
    df["months_since"] = df["months_since"].astype("int64")
    size = df[df["months_since"] == 0].set_index("cohort_month")["active_customers"]
    last = _index_of_month(end)
    grid = [(c, k) for c in sorted(size.index) for k in range(0, last - _index_of_month(c) + 1)]
    full = pd.DataFrame(grid, columns=["cohort_month", "months_since"])
    full = full.merge(df, on=["cohort_month", "months_since"], how="left")
    full["active_customers"] = full["active_customers"].fillna(0).astype("int64")
    full["cohort_size"] = full["cohort_month"].map(size).astype("int64")
    full["retention_rate"] = full["active_customers"] / full["cohort_size"]
    return full[cols].sort_values(["cohort_month", "months_since"]).reset_index(drop=True)


def cohort_matrix(cohorts: pd.DataFrame, value: str = "retention_rate") -> pd.DataFrame:
    """The retention matrix: one row per cohort_month, one column per months_since (0, 1, ...),
    cells = ``value`` of :func:`cohort_table` (retention_rate by default, or active_customers);
    NaN where the month is not observed yet. A ``cohort_size`` column comes first."""
    m = cohorts.pivot(index="cohort_month", columns="months_since", values=value)
    m.columns = [int(c) for c in m.columns]
    size = cohorts.drop_duplicates("cohort_month").set_index("cohort_month")["cohort_size"]
    m.insert(0, "cohort_size", size.reindex(m.index).astype("int64"))
    return m


def cohort_summary(cohorts: pd.DataFrame, months=(1, 3, 6, 12)) -> pd.DataFrame:
    """Per cohort of :func:`cohort_table`: cohort_month, cohort_size and retention_m<k> for each k
    of ``months`` (NaN while month k is not observed yet), newest cohort first."""
    out = cohorts.drop_duplicates("cohort_month")[["cohort_month", "cohort_size"]].set_index("cohort_month")
    r = cohorts.set_index(["cohort_month", "months_since"])["retention_rate"]
    for k in months:
        out[f"retention_m{k}"] = [r.get((c, k), np.nan) for c in out.index]
    return out.sort_index(ascending=False).reset_index()


def retention_curve(cohorts: pd.DataFrame, max_months: int | None = None) -> pd.DataFrame:
    """The average retention k months after the first order, over the cohorts observed at k,
    weighted by cohort size: months_since, cohorts, customers (Σ cohort sizes), active_customers,
    retention_rate = Σ active / Σ cohort size."""
    c = cohorts if max_months is None else cohorts[cohorts["months_since"] <= max_months]
    g = c.groupby("months_since").agg(cohorts=("cohort_month", "nunique"), customers=("cohort_size", "sum"),
                                      active_customers=("active_customers", "sum")).reset_index()
    g["retention_rate"] = g["active_customers"] / g["customers"]
    return g


# ---------------------------------------------------------------------------------------------
# Monthly repurchase and churn rates
# ---------------------------------------------------------------------------------------------

def _gaps(eng: Engine, end) -> ibis.Table:
    """Each distinct purchase day of a customer with the next one (null after the last)."""
    o = buying_orders(eng, end)
    d = o.select("customer_id", "order_date").distinct()
    w = ibis.window(group_by=d.customer_id, order_by=d.order_date)
    return d.mutate(next_date=d.order_date.lead().over(w))


def monthly_rates(eng: Engine, start, end, params: Params | None = None) -> pd.DataFrame:
    """Per calendar month of [start, end]: active, new and returning customers, repurchase and churn rates.

    Input: orders(order_id, order_date, customer_id); history before ``start`` counts.
    Returns month, active_customers, new_customers (first order ever in the month),
    returning_customers (= active − new), repurchase_rate (= returning / active),
    new_repeat_rate (share of the month's new customers who order again, on a later day, within
    repeat_days of their first order; NaN while month end + repeat_days is after ``end``),
    customers_at_start (an order in the churned_days days before the month's first day),
    churned_customers (their inactivity reaches churned_days within the month: last order L,
    L + churned_days in the month, no order in between), churn_rate (= churned / at start) —
    churned_days = ``params.lifecycle_churned_days``, repeat_days = ``params.lifecycle_repeat_days``.
    Records ``params``.
    """
    p = params or Params()
    churned_days, repeat_days = p.lifecycle_churned_days, p.lifecycle_repeat_days
    start, end = as_date(start), as_date(end)
    o = buying_orders(eng, end)
    f = _first_orders(o)
    a = o.filter(o.order_date >= start).join(f, "customer_id")
    a = a.mutate(m=_mi(a.order_date), fm=_mi(a.first_order_date))
    act = eng.execute(a.group_by("m").aggregate(
        active_customers=a.customer_id.nunique(),
        new_customers=ibis.ifelse(a.fm == a.m, a.customer_id, ibis.null("string")).nunique()))

    # second purchase day of each new customer
    g = _gaps(eng, end)
    second = g.join(f, "customer_id").filter(lambda t: t.order_date == t.first_order_date)
    second = second.filter(second.first_order_date >= start)
    rep = eng.execute(second.group_by(m=_mi(second.first_order_date)).aggregate(
        repeaters=ibis.ifelse(second.next_date.notnull()
                              & (second.next_date.epoch_days() - second.first_order_date.epoch_days() <= repeat_days),
                              1, 0).sum()))

    # churn: a gap (L, N) ends the customer's life at L + churned_days when N is later or absent;
    # the customer belongs to the base of every month whose first day lies in (L, min(N, L + churned_days)]
    ld = g.order_date.epoch_days()
    ev = ld + churned_days
    nd = g.next_date.epoch_days()
    g2 = g.mutate(ld=ld, ev=ev, nd=nd, churns=g.next_date.isnull() | (nd > ev),
                  upto=ibis.ifelse(g.next_date.isnull(), ev, ibis.least(nd, ev)))
    churn_ev = g2.filter(g2.churns).group_by("ev").aggregate(n=g2.customer_id.count())
    base_ev = g2.group_by("ld", "upto").aggregate(n=g2.customer_id.count())
    churn_df, base_df = eng.execute(churn_ev), eng.execute(base_ev)

    months = pd.period_range(start, end, freq="M")
    out = pd.DataFrame({"month": [p.start_time.date() for p in months]})
    idx = np.array([_index_of_month(m) for m in out["month"]])
    out = out.assign(m=idx).merge(act, on="m", how="left").merge(rep, on="m", how="left")
    epoch = dt.date(1970, 1, 1)
    mstart = np.array([(m - epoch).days for m in out["month"]])
    mend = np.array([((p.end_time.date()) - epoch).days for p in months])
    mend = np.minimum(mend, (end - epoch).days)
    ev_days = churn_df["ev"].to_numpy(dtype="int64")
    ev_n = churn_df["n"].to_numpy(dtype="int64")
    out["churned_customers"] = [int(ev_n[(ev_days >= s) & (ev_days <= e)].sum()) for s, e in zip(mstart, mend)]
    ld_days, up_days = base_df["ld"].to_numpy(dtype="int64"), base_df["upto"].to_numpy(dtype="int64")
    bn = base_df["n"].to_numpy(dtype="int64")
    out["customers_at_start"] = [int(bn[(ld_days < s) & (up_days >= s)].sum()) for s in mstart]
    for c in ("active_customers", "new_customers", "repeaters"):
        out[c] = out[c].fillna(0).astype("int64")
    out["returning_customers"] = out["active_customers"] - out["new_customers"]
    out["repurchase_rate"] = (out["returning_customers"] / out["active_customers"]).where(out["active_customers"] > 0)
    observed = (mend + repeat_days <= (end - epoch).days) & (mend >= mstart)
    out["new_repeat_rate"] = (out["repeaters"] / out["new_customers"]).where((out["new_customers"] > 0) & observed)
    out["churn_rate"] = (out["churned_customers"] / out["customers_at_start"]).where(out["customers_at_start"] > 0)
    out = out[["month", "active_customers", "new_customers", "returning_customers", "repurchase_rate",
               "new_repeat_rate", "customers_at_start", "churned_customers", "churn_rate"]]
    return attach(out, p)


def rates_summary(rates: pd.DataFrame, months: int = 12) -> dict:
    """Headline figures over the last ``months`` rows of :func:`monthly_rates`: repurchase_rate and
    monthly_churn_rate as Σ numerator / Σ denominator (monthly churn on average),
    active_customers_last_month, and ``months`` itself."""
    r = rates.tail(months)
    act, ret = r["active_customers"].sum(), r["returning_customers"].sum()
    base, ch = r["customers_at_start"].sum(), r["churned_customers"].sum()
    return {"months": months, "repurchase_rate": round(float(ret / act), 4) if act else None,
            "monthly_churn_rate": round(float(ch / base), 4) if base else None,
            "active_customers_last_month": int(r["active_customers"].iloc[-1]) if len(r) else 0}
