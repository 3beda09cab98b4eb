"""Customer credit rating (客户信用评级) from payment behaviour (domain.md §10).

A points scorecard over the invoices due in [start, as_of] (collection by the one rule,
:func:`saleslab.facts.invoices_due_expr`: payments matched by invoice_id, dated ≤ ``as_of``, at
most the invoice amount). Per customer:

- **unpaid share** = outstanding of its open invoices / invoiced (1 − collection rate, without
  rounding remnants below ``risk_open_item_min``);
- **late share** (share paid late) = 1 − collected by the due date / invoiced: the part of what
  fell due that was not paid on time (paid late or not yet paid);
- **days overdue** = the outstanding-weighted mean of (``as_of`` − due date) over its open
  invoices (0 when nothing is open);
- **exposure** = outstanding past due (元) of its open invoices.

Each factor scores 0, 1 or 2 points: 1 above its ``*_low`` threshold, 2 above its ``*_high``
(unpaid share 5 % / 20 %, late share 50 % / 75 %, days overdue 30 / 90, exposure 50,000 /
300,000 元). The grade follows the total (0–8): **A** (low risk) up to ``risk_grade_a_max`` (1),
**B** up to ``risk_grade_b_max`` (3), **C** up to ``risk_grade_c_max`` (5), **D** (high risk)
above. The late-share thresholds are high because the rule counts a payment one day after the
due date as late (there is no grace period in the collection rule).

The owner of a customer's credit: its owning rep in the customer master (``owner_rep_id``),
else the rep of its invoices' orders (the one with most invoiced), else, for a distributor, the
role ``role_channel_manager``, else the role ``role_credit_manager``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..engine import Engine
from ..params import attach
from ..periods import as_date
from .params import Params
from .receivables import _names, invoice_items

GRADES = ("credit_a", "credit_b", "credit_c", "credit_d")
OWNER_TYPES = ("owner_rep", "owner_role")
ROLES = ("role_channel_manager", "role_credit_manager", "role_finance_manager", "role_inventory_manager")

_COLUMNS = ["customer_id", "customer_name", "invoices", "invoiced", "collected", "outstanding", "unpaid_share",
            "late_share", "days_overdue", "points_unpaid", "points_late", "points_overdue", "points_exposure",
            "credit_points", "credit_grade", "risk_owner_type", "risk_owner", "risk_owner_name"]


def _points(values: pd.Series, low: float, high: float) -> pd.Series:
    return pd.Series(np.select([values > high, values > low], [2, 1], default=0), index=values.index).astype("int64")


def grade_of(points: pd.Series, params: Params) -> pd.Series:
    """The grade code of each total of points (A ≤ ``risk_grade_a_max`` < B ≤ ... < D)."""
    return pd.Series(np.select([points <= params.risk_grade_a_max, points <= params.risk_grade_b_max,
                                points <= params.risk_grade_c_max], list(GRADES[:3]), default=GRADES[3]),
                     index=points.index)


def _owners(eng: Engine, by_rep: pd.DataFrame, ids: pd.Series) -> pd.DataFrame:
    """risk_owner_type, risk_owner, risk_owner_name per customer id (see the module's rule), from
    the customers' invoiced amount per order rep (``by_rep``: customer_id, rep_id, invoiced_c, dist)."""
    owner = {}
    if eng.rows("customers"):
        c = eng.execute(eng.table("customers").select("customer_id", "owner_rep_id"))
        owner = {i: r for i, r in zip(c["customer_id"], c["owner_rep_id"]) if isinstance(r, str) and r}
    reps = by_rep[by_rep["rep_id"].notna()].sort_values(["customer_id", "invoiced_c", "rep_id"],
                                                        ascending=[True, False, True]).drop_duplicates("customer_id")
    by_invoice = dict(zip(reps["customer_id"], reps["rep_id"]))
    dist = set(by_rep.loc[by_rep["dist"] > 0, "customer_id"])
    if eng.rows("distributors"):
        dist |= set(eng.execute(eng.table("distributors").select("distributor_id"))["distributor_id"])
    rows = []
    for i in ids:
        rep = owner.get(i) or by_invoice.get(i)
        if rep:
            rows.append(("owner_rep", rep))
        elif i in dist:
            rows.append(("owner_role", "role_channel_manager"))
        else:
            rows.append(("owner_role", "role_credit_manager"))
    out = pd.DataFrame(rows, columns=["risk_owner_type", "risk_owner"], index=ids.index)
    names = _names(eng, "rep", out["risk_owner"])
    out["risk_owner_name"] = np.where(out["risk_owner_type"] == "owner_rep", names.values, None)
    return out


def credit_rating(eng: Engine, start, as_of, params: Params | None = None) -> pd.DataFrame:
    """One row per customer with invoices due in [start, as_of]: payment behaviour, points, grade, owner.

    Input: :func:`saleslab.facts.invoices_due_expr` (and its ``on_time_only`` variant) over the
    invoices due in [start, as_of]; customers (names, owner_rep_id), distributors, reps (names).
    Returns: customer_id, customer_name, invoices, invoiced, collected, outstanding, unpaid_share,
    late_share, days_overdue, points_unpaid, points_late, points_overdue, points_exposure,
    credit_points, credit_grade (credit_a .. credit_d), risk_owner_type (owner_rep | owner_role),
    risk_owner (rep id or role code), risk_owner_name — highest points first, then exposure, then id.
    Formula: see the module docstring. Invoices without a customer are not rated. The result
    records ``params``, ``period_start`` and ``as_of``.
    Raises :class:`MissingSource` without invoices or payments.
    """
    params = params or Params()
    start, as_of = as_date(start), as_date(as_of)
    k = invoice_items(eng, start, as_of, params, on_time=True)
    k = k.filter(k.customer_id.notnull())
    out_c = k.open.ifelse(k.outstanding_c, 0)
    # one query, by customer and order rep (the rep that owns the customer when the master names none)
    by_rep = eng.execute(k.group_by(["customer_id", "rep_id"]).aggregate(
        invoices=k.count(), invoiced=k.amount_c.sum(), collected=k.collected_c.sum(),
        on_time=k.on_time_c.fill_null(0).sum(), outstanding=out_c.sum(),
        weighted_days=(out_c.cast("float64") * k.days_past_due.cast("float64")).sum(),
        dist=k.distributor_id.count()))
    g = by_rep.groupby("customer_id", as_index=False)[
        ["invoices", "invoiced", "collected", "on_time", "outstanding", "weighted_days", "dist"]].sum()
    g = g.sort_values("customer_id").reset_index(drop=True)
    df = pd.DataFrame({"customer_id": g["customer_id"].astype("object")})
    df["customer_name"] = _names(eng, "customer", df["customer_id"]).values
    df["invoices"] = g["invoices"].astype("int64")
    for c in ("invoiced", "collected", "outstanding"):
        df[c] = g[c].fillna(0).astype("int64") / 100
    inv_c = g["invoiced"].astype("float64")
    df["unpaid_share"] = (g["outstanding"] / inv_c).where(inv_c > 0).round(6)
    df["late_share"] = (1 - g["on_time"] / inv_c).where(inv_c > 0).clip(lower=0).round(6)
    df["days_overdue"] = (g["weighted_days"] / g["outstanding"]).where(g["outstanding"] > 0, 0.0).round(1)
    df["points_unpaid"] = _points(df["unpaid_share"].fillna(0), params.risk_unpaid_share_low, params.risk_unpaid_share_high)
    df["points_late"] = _points(df["late_share"].fillna(0), params.risk_late_share_low, params.risk_late_share_high)
    df["points_overdue"] = _points(df["days_overdue"], params.risk_overdue_days_low, params.risk_overdue_days_high)
    df["points_exposure"] = _points(df["outstanding"], params.risk_exposure_low, params.risk_exposure_high)
    df["credit_points"] = df[["points_unpaid", "points_late", "points_overdue", "points_exposure"]].sum(axis=1).astype("int64")
    df["credit_grade"] = grade_of(df["credit_points"], params)
    df = pd.concat([df, _owners(eng, by_rep.rename(columns={"invoiced": "invoiced_c"}), df["customer_id"])], axis=1)
    df = df.sort_values(["credit_points", "outstanding", "customer_id"], ascending=[False, False, True])
    return attach(df[_COLUMNS].reset_index(drop=True), params, period_start=str(start), as_of=str(as_of))


def grade_counts(ratings: pd.DataFrame) -> pd.DataFrame:
    """Customers and exposure per grade of :func:`credit_rating`: credit_grade, customers,
    outstanding, share (of the exposure) — A to D, every grade present (0 when empty)."""
    g = ratings.groupby("credit_grade").agg(customers=("customer_id", "size"), outstanding=("outstanding", "sum"))
    g = g.reindex(list(GRADES), fill_value=0).reset_index()
    g["customers"] = g["customers"].astype("int64")
    g["outstanding"] = g["outstanding"].astype(float).round(2)
    total = g["outstanding"].sum()
    g["share"] = (g["outstanding"] / total).round(6) if total else np.nan
    g.attrs = {"params": dict(ratings.attrs.get("params", {}))}
    return g


def credit_watch_list(ratings: pd.DataFrame) -> pd.DataFrame:
    """The customers rated C or D of :func:`credit_rating` (worst first); same columns and parameters."""
    out = ratings[ratings["credit_grade"].isin(["credit_c", "credit_d"])].reset_index(drop=True)
    out.attrs = {"params": dict(ratings.attrs.get("params", {}))}
    return out
