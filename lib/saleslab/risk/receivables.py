"""Receivables risk (domain.md §10, §5): ageing as of the report date, bad-debt rate against its
target, collection per distributor.

Every figure starts from :func:`saleslab.facts.invoices_due_expr`, the one collection rule: an
invoice's ``collected`` = Σ payments matched to it by invoice_id and dated ≤ the report date
(``as_of``), at most the invoice amount. Payments after ``as_of`` are not counted. Definitions:

- **outstanding** of an invoice = amount − collected, summed in integer cents; an invoice is
  **open** when its outstanding is at least ``risk_open_item_min`` (1 元: rounding remnants are
  not receivables);
- **days past due** = ``as_of`` − due date, for invoices due on or before ``as_of`` (an invoice
  due on the report date is 0 days past due). Invoices not yet due are not in the ageing: their
  payments up to ``as_of`` cannot be read through the collection rule without counting later ones
  (see the stage's report);
- **ageing buckets** from ``risk_ageing_edges`` (``30,60,90``): ``0-30``, ``31-60``, ``61-90``,
  ``>90`` days past due — a bucket holds its upper edge (30 days is in ``0-30``, 31 in ``31-60``);
- **bad debt** = outstanding of the invoices more than ``risk_bad_debt_days`` (180) days past due
  at ``as_of`` (the *mature* invoices: due in [start, as_of − 181 days]); **bad-debt rate** =
  bad debt / invoiced amount of those mature invoices, against ``risk_bad_debt_target`` (2 %).
  The warehouse has no write-off field: an invoice written off in a ledger is, here, an unpaid
  old invoice, which is what the rule counts;
- **collection rate** of a distributor = Σ collected / Σ amount of its invoices due in
  [start, as_of] (the invoice's distributor_id).

Keys: the customer is that of the invoice's order (the invoice's own customer when the order is
unknown), the rep that of the order, the distributor the invoice's. The ageing tables leave out
invoices without their key; the bad-debt table by a key shows them as ``unknown``, so that its
rows add up to the total.
"""

from __future__ import annotations

import datetime as dt

import ibis
import numpy as np
import pandas as pd

from .. import facts
from ..engine import Engine
from ..errors import InsufficientData, SalesLabError
from ..params import attach
from ..periods import as_date
from .params import Params

#: Due dates from this day on: the ageing reads every invoice ever due up to the report date.
EPOCH = dt.date(1900, 1, 1)
#: What receivables need: invoices and the payments made against them (without payments the
#: collection is unknown, not 0).
RECEIVABLE_TABLES = ("invoices", "payments")
#: The key column and the name column of each ``by``.
KEYS = {"customer": ("customer_id", "customer_name"), "distributor": ("distributor_id", "distributor_name"),
        "rep": ("rep_id", "rep_name")}


def ageing_labels(edges) -> list[str]:
    """Bucket labels of the ageing edges: (30, 60, 90) -> ``0-30``, ``31-60``, ``61-90``, ``>90``."""
    lows = [0] + [e + 1 for e in edges]
    return [f"{lo}-{hi}" for lo, hi in zip(lows, edges)] + [f">{edges[-1]}"]


def _cents(x):
    return (x * 100).round(0).cast("int64")


def invoice_items(eng: Engine, start, as_of, params: Params, on_time: bool = False) -> ibis.Table:
    """Invoices due in [start, as_of] with what was collected on them by ``as_of`` (Ibis).

    Columns: invoice_id, due_date, customer_id, distributor_id, rep_id, channel, amount_c,
    collected_c, outstanding_c (integer cents), open (outstanding ≥ ``risk_open_item_min``),
    days_past_due (``as_of`` − due date); with ``on_time`` also on_time_c (collected by the due
    date, :func:`saleslab.facts.invoices_due_expr` with ``on_time_only``).
    """
    start, as_of = as_date(start), as_date(as_of)
    eng.require(*RECEIVABLE_TABLES, needed_for="receivables")
    k = facts.invoices_due_expr(eng, start, as_of)
    amount_c, collected_c = _cents(k.amount), _cents(k.collected)
    k = k.select("invoice_id", "due_date", "customer_id", "distributor_id", "rep_id", "channel",
                 amount_c=amount_c, collected_c=collected_c, outstanding_c=amount_c - collected_c,
                 days_past_due=ibis.literal(as_of).delta(k.due_date, unit="day"))
    k = k.mutate(open=k.outstanding_c >= int(round(params.risk_open_item_min * 100)))
    if on_time:
        t = facts.invoices_due_expr(eng, start, as_of, on_time_only=True)
        t = t.select(t_invoice_id=t.invoice_id, on_time_c=_cents(t.collected))
        k = k.left_join(t, k.invoice_id == t.t_invoice_id).drop("t_invoice_id")
    return k


def _key(t: ibis.Table, col: str):
    return t[col].fill_null(facts.UNKNOWN)


def _names(eng: Engine, by: str, ids) -> pd.Series:
    """Names of the ids of ``by``: customers (customer master, then distributor master: a
    distributor buys as a customer), distributors, reps; missing when no master names them."""
    out: dict = {}
    if by in ("customer", "distributor"):
        if eng.rows("distributors"):
            d = eng.execute(eng.table("distributors").select("distributor_id", "name"))
            out.update(dict(zip(d["distributor_id"], d["name"])))
        if by == "customer" and eng.rows("customers"):
            c = eng.execute(eng.table("customers").select("customer_id", "name"))
            out.update(dict(zip(c["customer_id"], c["name"])))
    elif by == "rep" and eng.rows("reps"):
        r = eng.execute(eng.table("reps").select("rep_id", "name"))
        out.update(dict(zip(r["rep_id"], r["name"])))
    return pd.Series([out.get(i) for i in ids], dtype="object")


def receivables_ageing(eng: Engine, as_of, params: Params | None = None, by: str = "customer") -> pd.DataFrame:
    """Receivables ageing (应收账款账龄) as of the report date, by customer, distributor or rep.

    Input: :func:`saleslab.facts.invoices_due_expr` over every invoice due up to ``as_of``
    (invoices, payments, orders); the customer, distributor and rep masters for names.
    Returns: <key> (customer_id | distributor_id | rep_id), <name>, invoices_open, outstanding,
    one column per bucket (``0-30``, ``31-60``, ``61-90``, ``>90`` with the default edges),
    max_days_overdue — largest outstanding first (then key).
    Formula: outstanding = Σ (amount − collected by ``as_of``) of the open invoices due ≤ ``as_of``;
    a bucket column = the outstanding of the open invoices whose days past due (``as_of`` − due
    date) lie in it; max_days_overdue = ``as_of`` − the oldest open due date. The result records
    ``params`` and ``as_of``.
    Raises :class:`MissingSource` without invoices or payments.
    """
    params = params or Params()
    if by not in KEYS:
        raise SalesLabError(f"ageing is by {', '.join(KEYS)} (got {by!r})")
    as_of = as_date(as_of)
    key, name = KEYS[by]
    edges = params.ageing_edges
    labels = ageing_labels(edges)
    k = invoice_items(eng, EPOCH, as_of, params)
    k = k.filter(k.open & k[key].notnull()).mutate(_k=k[key])
    d = k.days_past_due
    conds = [d <= edges[0]] + [(d > a) & (d <= b) for a, b in zip(edges, edges[1:])] + [d > edges[-1]]
    agg = {f"_b{i}": ibis.ifelse(c, k.outstanding_c, 0).sum() for i, c in enumerate(conds)}
    g = eng.execute(k.group_by("_k").aggregate(invoices_open=k.count(), outstanding=k.outstanding_c.sum(),
                                               oldest_due=k.due_date.min(), **agg))
    df = pd.DataFrame({key: g["_k"].astype("object")})
    df[name] = _names(eng, by, df[key]).values
    df["invoices_open"] = g["invoices_open"].astype("int64")
    df["outstanding"] = g["outstanding"].astype("int64") / 100
    for i, lab in enumerate(labels):
        df[lab] = g[f"_b{i}"].fillna(0).astype("int64") / 100
    oldest = pd.to_datetime(g["oldest_due"]).dt.date
    df["max_days_overdue"] = np.array([(as_of - o).days for o in oldest], dtype="int64")
    df = df.sort_values(["outstanding", key], ascending=[False, True]).reset_index(drop=True)
    return attach(df, params, as_of=str(as_of), ageing_by=by, ageing_buckets=labels)


def ageing_summary(ageing: pd.DataFrame) -> pd.DataFrame:
    """The ageing of the whole book: one row per bucket with outstanding and share (from
    :func:`receivables_ageing`, any ``by``). Columns: ageing_bucket, outstanding, share."""
    labels = ageing.attrs["params"]["ageing_buckets"]
    tot = [round(float(ageing[b].sum()), 2) for b in labels]
    total = sum(tot)
    out = pd.DataFrame({"ageing_bucket": labels, "outstanding": tot,
                        "share": [round(v / total, 6) if total else np.nan for v in tot]})
    out.attrs = {"params": dict(ageing.attrs.get("params", {}))}
    return out


def bad_debt(eng: Engine, start, as_of, params: Params | None = None, by: str | None = None) -> pd.DataFrame:
    """Bad-debt rate (坏账率) against its target, overall or by channel, distributor or customer.

    Input: :func:`saleslab.facts.invoices_due_expr` (invoices due in [start, as_of], payments by
    ``as_of``).
    Returns: <by> (``scope`` = ``all`` when ``by`` is None), mature_invoices, invoiced,
    bad_debt_invoices, bad_debt, bad_debt_rate, above_target — highest bad debt first.
    Formula: mature invoices = those due in [start, as_of − ``risk_bad_debt_days`` − 1 day] (more
    than ``risk_bad_debt_days`` days past due; ``bad_debt_cutoff`` records that last due date); bad debt =
    Σ outstanding of the open mature invoices; bad_debt_rate = bad debt / Σ amount of the mature
    invoices; above_target = bad_debt_rate > ``risk_bad_debt_target``. The result records
    ``params``, ``period_start`` and ``as_of``.
    Raises :class:`MissingSource` without invoices or payments, :class:`InsufficientData` when no
    invoice due in the period is older than ``risk_bad_debt_days``.
    """
    params = params or Params()
    start, as_of = as_date(start), as_date(as_of)
    cutoff = as_of - dt.timedelta(days=params.risk_bad_debt_days + 1)  # more than N days past due
    col = by or "scope"
    if by not in (None, "channel", "distributor_id", "customer_id", "rep_id"):
        raise SalesLabError(f"bad debt is overall or by channel, distributor_id, customer_id, rep_id (got {by!r})")
    k = invoice_items(eng, start, as_of, params)
    k = k.filter(k.due_date <= cutoff)
    k = k.mutate(_k=_key(k, by) if by else ibis.literal("all"))
    bad = k.open
    g = eng.execute(k.group_by("_k").aggregate(
        mature_invoices=k.count(), invoiced=k.amount_c.sum(),
        bad_debt_invoices=bad.cast("int64").sum(), bad_debt=ibis.ifelse(bad, k.outstanding_c, 0).sum()))
    if g.empty or int(g["mature_invoices"].sum()) == 0:
        raise InsufficientData(f"no invoice due between {start} and {cutoff} (more than {params.risk_bad_debt_days} days "
                               f"before {as_of}): the bad-debt rate needs mature invoices", needed_for="bad-debt rate")
    df = pd.DataFrame({col: g["_k"].astype("object")})
    df["mature_invoices"] = g["mature_invoices"].astype("int64")
    df["invoiced"] = g["invoiced"].astype("int64") / 100
    df["bad_debt_invoices"] = g["bad_debt_invoices"].fillna(0).astype("int64")
    df["bad_debt"] = g["bad_debt"].fillna(0).astype("int64") / 100
    df["bad_debt_rate"] = (df["bad_debt"] / df["invoiced"]).where(df["invoiced"] > 0).round(6)
    df["above_target"] = (df["bad_debt_rate"] > params.risk_bad_debt_target).where(df["bad_debt_rate"].notna())
    df = df.sort_values(["bad_debt", col], ascending=[False, True]).reset_index(drop=True)
    return attach(df, params, period_start=str(start), as_of=str(as_of), bad_debt_cutoff=str(cutoff))


#: Collection status codes of a distributor.
COLLECTION_STATUS = ("collection_low", "collection_watch", "collection_ok")


def distributor_collection(eng: Engine, start, as_of, params: Params | None = None) -> pd.DataFrame:
    """Collection per distributor (经销商回款), the evidence of the poor-collection alerts.

    Input: :func:`saleslab.facts.invoices_due_expr` (invoices due in [start, as_of] carrying a
    distributor_id, payments by ``as_of``), distributors (names).
    Returns: distributor_id, distributor_name, invoices, invoiced, collected, outstanding,
    collection_rate, max_days_overdue, collection_status — lowest collection rate first.
    Formula: collection_rate = Σ collected / Σ amount; outstanding = Σ outstanding of the open
    invoices; collection_status = ``collection_low`` below ``risk_distributor_collection_min``
    (0.6), ``collection_watch`` below ``risk_distributor_collection_watch`` (0.8), else
    ``collection_ok``. The result records ``params``, ``period_start`` and ``as_of``.
    Raises :class:`MissingSource` without invoices or payments, :class:`InsufficientData` when no
    distributor invoice falls due in the period.
    """
    params = params or Params()
    start, as_of = as_date(start), as_date(as_of)
    k = invoice_items(eng, start, as_of, params)
    k = k.filter(k.distributor_id.notnull())
    g = eng.execute(k.group_by("distributor_id").aggregate(
        invoices=k.count(), invoiced=k.amount_c.sum(), collected=k.collected_c.sum(),
        outstanding=ibis.ifelse(k.open, k.outstanding_c, 0).sum(),
        max_days_overdue=ibis.ifelse(k.open, k.days_past_due, ibis.null("int64")).max()))
    if g.empty:
        raise InsufficientData(f"no invoice of a distributor falls due between {start} and {as_of}",
                               needed_for="distributor collection")
    df = pd.DataFrame({"distributor_id": g["distributor_id"].astype("object")})
    df["distributor_name"] = _names(eng, "distributor", df["distributor_id"]).values
    df["invoices"] = g["invoices"].astype("int64")
    for c in ("invoiced", "collected", "outstanding"):
        df[c] = g[c].fillna(0).astype("int64") / 100
    df["collection_rate"] = (df["collected"] / df["invoiced"]).where(df["invoiced"] > 0).round(6)
    df["max_days_overdue"] = g["max_days_overdue"].fillna(0).astype("int64")
    r = df["collection_rate"]
    df["collection_status"] = np.select(
        [r < params.risk_distributor_collection_min, r < params.risk_distributor_collection_watch],
        ["collection_low", "collection_watch"], default="collection_ok")
    df = df.sort_values(["collection_rate", "distributor_id"]).reset_index(drop=True)
    return attach(df, params, period_start=str(start), as_of=str(as_of))
