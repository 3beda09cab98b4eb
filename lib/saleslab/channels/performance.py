"""Channel performance (渠道分析, domain.md §5): revenue and share, margin, conversion, retention,
CAC and ROI per channel, and collection per distributor.

Definitions used here (each function's docstring repeats its own):

- revenue (销售额) = Σ order_lines.net_amount of orders dated in the period − Σ returns.amount
  of returns dated in the period (attributed to the channel of the returned order), 元;
- new customer of a channel = a customer whose first order in the warehouse (earliest date,
  then smallest order id) was in that channel and falls in the period. The warehouse history
  starts with its first export, so customers who bought before it count as new at its start;
- retention (留存率) = new customers of the channel who ordered again (any channel) in a later
  calendar month up to the period end / new customers of the channel;
- conversion (转化率) = online orders / web visits (online), won leads / leads created (the
  CRM's leads are the direct channel's); other channels have no top-of-funnel data;
- CAC (获客成本) = acquisition spend (channel_costs cost_type ``acquisition``) / new customers;
- ROI (投入产出比) = channel revenue / (all channel_costs of the channel + spend of the
  channel's campaigns starting in the period); ROI < ``roi_min`` (1.2) flags the channel;
  sales, returns and cost come from :mod:`saleslab.facts` (the one definition of revenue);
- collection rate (回款率) = payments matched by invoice_id (received up to the period end,
  at most the invoice amount) / amount of invoices due in the period; a distributor below
  ``collection_min`` (0.6) is flagged for closure review.

A warehouse built from a few sources lacks some inputs. Revenue, share, orders, new customers and
retention need only orders and their lines. Without the product master the cost, gross profit and
gross margin are unknown (empty), not 0; without channel costs, the acquisition cost, channel cost,
CAC and ROI are empty; without web traffic and leads the conversion rate is empty; without invoices
and payments the distributors' invoiced and collected amounts are empty. The sections built on them
(:func:`roi_table`, :func:`conversion_funnel`, :func:`collection_table`) raise
:class:`~saleslab.errors.MissingSource` naming the tables no source provides, or
:class:`~saleslab.errors.InsufficientData` when those tables hold nothing for the period.

Everything that scans order lines is an Ibis expression; pandas only sees channel /
distributor grain results.
"""

from __future__ import annotations

import ibis
import numpy as np
import pandas as pd

from .. import facts
from ..engine import Engine
from ..errors import InsufficientData, MissingSource
from ..facts import Params as FactsParams
from ..params import attach
from ..periods import as_date
from .params import Params

#: The CRM's leads are worked by the direct sales reps.
LEADS_CHANNEL = "direct"
#: Lead stages that count as won.
WON_STAGES = ("contract", "repeat")


def _month_start(d):
    return d.replace(day=1)


def _sales_by(eng: Engine, start, end, keys: list[str], facts_params: FactsParams | None = None) -> ibis.Table:
    """Gross sales, returns and their cost per ``keys`` (order attributes), from the facts layer."""
    fp = facts_params or FactsParams()
    m = facts.revenue_by_expr(eng, start, end, keys, fp.returns_basis)
    return m.select(*keys, "gross_sales", "returns", "sales_cost", "returns_cost", "orders", "active_customers")


def _finish_sales(df: pd.DataFrame, costs_known: bool = True) -> pd.DataFrame:
    """Money columns rounded, revenue, cost, gross profit and margin, share; ``costs_known``
    False (no product master): cost, gross_profit and gross_margin empty."""
    df["gross_sales"] = df["gross_sales"].astype(float).round(2)
    df["returns"] = df["returns"].astype(float).round(2)
    df["revenue"] = (df["gross_sales"] - df["returns"]).round(2)
    df["cost"] = (df["sales_cost"] - df["returns_cost"]).astype(float).round(2) if costs_known else np.nan
    df["gross_profit"] = (df["revenue"] - df["cost"]).round(2)
    df["gross_margin"] = (df["gross_profit"] / df["revenue"]).where(df["revenue"] != 0).round(6)
    total = df["revenue"].sum()
    df["revenue_share"] = (df["revenue"] / total).round(6) if total else float("nan")
    df["orders"] = df["orders"].astype("int64")
    df["active_customers"] = df["active_customers"].astype("int64")
    return df.drop(columns=["sales_cost", "returns_cost"])


def channel_revenue(eng: Engine, start, end, facts_params: FactsParams | None = None) -> pd.DataFrame:
    """Revenue, share and gross margin per channel.

    Input: orders(order_id, channel), order_lines, returns(order_id, return_date, amount,
    quantity), products(unit_cost).
    Returns: channel, gross_sales, returns, revenue, cost, gross_profit, gross_margin,
    revenue_share, orders, active_customers — one row per channel with sales, largest revenue first.
    Formula: revenue = Σ net_amount − Σ returns; gross_margin = (revenue − cost) / revenue;
    revenue_share = revenue / Σ revenue. Without a product master (no unit costs) cost,
    gross_profit and gross_margin are empty: the cost is unknown, not 0.
    """
    eng.require("orders", "order_lines", needed_for="channel revenue")
    df = _finish_sales(eng.execute(_sales_by(eng, start, end, ["channel"], facts_params)), eng.rows("products") > 0)
    df = df.sort_values(["revenue", "channel"], ascending=[False, True]).reset_index(drop=True)
    return df[["channel", "gross_sales", "returns", "revenue", "cost", "gross_profit", "gross_margin",
               "revenue_share", "orders", "active_customers"]]


def first_orders(eng: Engine, end) -> ibis.Table:
    """Each known customer's first order up to ``end`` (earliest date, then smallest order id).

    Input: orders(order_id, order_date, customer_id, channel, rep_id).
    Returns (Ibis): customer_id, first_order_id, first_date, first_channel, first_rep_id.
    """
    end = as_date(end)
    o = eng.table("orders")
    o = o.filter(o.customer_id.notnull() & (o.order_date <= end))
    w = ibis.window(group_by=o.customer_id, order_by=[o.order_date, o.order_id])
    f = o.mutate(_rn=ibis.row_number().over(w))
    f = f.filter(f._rn == 0)
    return f.select(customer_id=f.customer_id, first_order_id=f.order_id, first_date=f.order_date,
                    first_channel=f.channel, first_rep_id=f.rep_id)


def retention(eng: Engine, start, end) -> pd.DataFrame:
    """New customers per channel and the share who ordered again in a later month.

    Input: orders(order_id, order_date, customer_id, channel).
    Returns: channel, new_customers, retained_customers, retention_rate.
    Formula: retention_rate = new customers of the channel with an order (any channel) in a
    later calendar month ≤ end / new customers of the channel (first order in the channel, in the period).
    """
    start, end = as_date(start), as_date(end)
    f = first_orders(eng, end)
    f = f.filter(f.first_date.between(start, end))
    o = eng.table("orders")
    o = o.filter(o.customer_id.notnull() & (o.order_date <= end))
    last = o.group_by("customer_id").aggregate(last_date=o.order_date.max())
    j = f.join(last, "customer_id")
    later = (j.last_date.truncate("M") > j.first_date.truncate("M")).cast("int64")
    expr = j.group_by(channel=j.first_channel).aggregate(
        new_customers=j.customer_id.nunique(), retained_customers=later.sum())
    df = eng.execute(expr)
    df["new_customers"] = df["new_customers"].astype("int64")
    df["retained_customers"] = df["retained_customers"].astype("int64")
    df["retention_rate"] = (df["retained_customers"] / df["new_customers"]).where(df["new_customers"] > 0).round(6)
    return df.sort_values("channel").reset_index(drop=True)


def _counts(eng: Engine, expr: ibis.Table) -> list[int]:
    """The one row of an aggregate as whole numbers (an empty sum: 0)."""
    return [0 if pd.isna(v) else int(v) for v in eng.execute(expr).iloc[0]]


def _funnel(eng: Engine, start, end, leads_channel: str = LEADS_CHANNEL, won_stages=WON_STAGES) -> pd.DataFrame:
    """:func:`conversion_funnel` without its checks (a channel without top-of-funnel data has no rows)."""
    start, end = as_date(start), as_date(end)
    visits = clicks = n_leads = n_won = 0
    if eng.rows("web_traffic"):
        wt = eng.table("web_traffic")
        wt = wt.filter(wt.date.between(start, end))
        visits, clicks = _counts(eng, wt.aggregate(visits=wt.visits.sum(), clicks=wt.clicks.sum()))
    o = eng.table("orders")
    o = o.filter(o.order_date.between(start, end) & (o.channel == "online"))
    orders = int(eng.execute(o.order_id.nunique()))
    if eng.rows("leads"):
        ld = eng.table("leads")
        ld = ld.filter(ld.created_date.between(start, end))
        n_leads, n_won = _counts(eng, ld.aggregate(leads=ld.lead_id.nunique(),
                                                   won=ld.stage.isin(list(won_stages)).cast("int64").sum()))
    rows = [("online", "web_visits", 1, visits), ("online", "web_clicks", 2, clicks), ("online", "orders", 3, orders),
            (leads_channel, "crm_leads", 1, n_leads), (leads_channel, "won_leads", 2, n_won)]
    df = pd.DataFrame(rows, columns=["channel", "funnel_step", "funnel_step_order", "funnel_count"])
    df = df[df.groupby("channel")["funnel_count"].transform("first") > 0].copy()
    df["funnel_step_rate"] = (df["funnel_count"] / df.groupby("channel")["funnel_count"].transform("first")).round(6)
    return df.reset_index(drop=True)


def conversion_funnel(eng: Engine, start, end, leads_channel: str = LEADS_CHANNEL,
                      won_stages=WON_STAGES) -> pd.DataFrame:
    """Funnel counts per channel where top-of-funnel data exists.

    Input: web_traffic(date, visits, clicks), orders(order_date, channel), leads(created_date, stage);
    either web traffic or leads is enough (a channel without its data has no rows).
    Returns: channel, funnel_step (web_visits | web_clicks | orders | crm_leads | won_leads), funnel_step_order,
    funnel_count, funnel_step_rate (funnel_count / the channel's first step).
    Formula: online: visits → clicks → online orders; ``leads_channel``: leads created in the
    period → those now in a won stage (``won_stages``).
    Raises :class:`~saleslab.errors.MissingSource` when no source provides web traffic or leads,
    :class:`~saleslab.errors.InsufficientData` when there is no visit and no lead in the period.
    """
    if not eng.rows("web_traffic") and not eng.rows("leads"):
        raise MissingSource("conversion needs web_traffic or leads: no source in this warehouse provides either",
                            tables=("web_traffic", "leads"), needed_for="conversion")
    df = _funnel(eng, start, end, leads_channel, won_stages)
    if df.empty:
        raise InsufficientData(f"no web visit and no lead created between {as_date(start)} and {as_date(end)}; "
                               f"the conversion funnel needs at least one", needed_for="conversion")
    return df


def _conversion(f: pd.DataFrame) -> pd.DataFrame:
    first = f[f["funnel_step_order"] == 1].set_index("channel")
    last = f.sort_values("funnel_step_order").groupby("channel").tail(1).set_index("channel")
    out = pd.DataFrame({
        "channel": first.index,
        "conversion_basis": first["funnel_step"].to_numpy(),
        "funnel_entries": first["funnel_count"].astype("int64").to_numpy(),
        "conversions": last.loc[first.index, "funnel_count"].astype("int64").to_numpy(),
    })
    out["conversion_rate"] = (out["conversions"] / out["funnel_entries"]).round(6)
    return out.sort_values("channel").reset_index(drop=True)


def conversion(eng: Engine, start, end, leads_channel: str = LEADS_CHANNEL, won_stages=WON_STAGES) -> pd.DataFrame:
    """Conversion rate per channel with top-of-funnel data.

    Input: as :func:`conversion_funnel` (and its errors when neither web traffic nor leads exist).
    Returns: channel, conversion_basis (web_visits | crm_leads), funnel_entries, conversions, conversion_rate.
    Formula: online: orders / visits; ``leads_channel``: won leads / leads created in the period.
    """
    return _conversion(conversion_funnel(eng, start, end, leads_channel, won_stages))


def _costs(eng: Engine, start, end) -> pd.DataFrame:
    """:func:`channel_costs` without its check; campaign_spend empty when no source provides campaigns."""
    start, end = as_date(start), as_date(end)
    c = eng.table("channel_costs")
    c = c.filter(c.month.between(_month_start(start), end))
    costs = eng.execute(c.group_by(["channel", "cost_type"]).aggregate(amount=c.amount.sum()))
    cp = eng.table("campaigns")
    cp = cp.filter(cp.start_date.between(start, end) & cp.channel.notnull())
    camp = eng.execute(cp.group_by("channel").aggregate(campaign_spend=cp.spend.sum()))
    wide = costs.pivot_table(index="channel", columns="cost_type", values="amount", aggfunc="sum")
    out = pd.DataFrame(index=sorted(set(wide.index) | set(camp["channel"])))
    out["acquisition_cost"] = wide["acquisition"] if "acquisition" in wide else 0.0
    out["operating_cost"] = wide["operating"] if "operating" in wide else 0.0
    out["campaign_spend"] = camp.set_index("channel")["campaign_spend"]
    out = out.fillna(0.0).astype(float).round(2)
    if not eng.rows("campaigns"):
        out["campaign_spend"] = np.nan  # unknown, not 0: the channel cost is then the channel_costs alone
    other = wide.drop(columns=[k for k in ("acquisition", "operating") if k in wide]).sum(axis=1)
    out["channel_cost"] = (out.sum(axis=1) + other.reindex(out.index).fillna(0.0)).round(2)
    return out.rename_axis("channel").reset_index()


def channel_costs(eng: Engine, start, end) -> pd.DataFrame:
    """Channel cost in the period: channel_costs by type plus campaign spend.

    Input: channel_costs(month, channel, cost_type, amount), campaigns(channel, start_date, spend)
    (optional: without campaigns campaign_spend is empty and the channel cost is the channel_costs alone).
    Returns: channel, acquisition_cost, operating_cost, campaign_spend, channel_cost.
    Formula: channel_cost = Σ channel_costs (months in the period) + Σ spend of the channel's
    campaigns starting in the period. Raises :class:`~saleslab.errors.MissingSource` when no
    source provides channel_costs.
    """
    eng.require("channel_costs", needed_for="channel costs")
    return _costs(eng, start, end)


def channel_performance(eng: Engine, start, end, params: Params | None = None,
                        facts_params: FactsParams | None = None) -> pd.DataFrame:
    """One row per channel: revenue, share, margin, conversion, retention, CAC, ROI, review flag.

    Input: as :func:`channel_revenue`, :func:`retention`, :func:`conversion`, :func:`channel_costs`;
    only orders and order lines are required: without the product master gross_profit and
    gross_margin are empty, without web traffic and leads conversion_rate is empty, without
    channel_costs acquisition_cost, channel_cost, cac and roi are empty (roi_review too: unknown).
    Returns: channel, revenue, revenue_share, gross_profit, gross_margin, orders, conversion_rate,
    new_customers, retention_rate, acquisition_cost, channel_cost, cac, roi, roi_review.
    Formula: cac = acquisition_cost / new_customers; roi = revenue / channel_cost;
    roi_review = roi < ``params.roi_min`` (empty where the ROI is unknown). The result records
    ``params`` (``df.attrs["params"]``).
    """
    params = params or Params()
    rev = channel_revenue(eng, start, end, facts_params)
    ret = retention(eng, start, end)
    conv = _conversion(_funnel(eng, start, end, params.leads_channel))
    df = rev.merge(ret, on="channel", how="left").merge(conv[["channel", "conversion_rate"]], on="channel", how="left")
    if eng.rows("channel_costs"):
        df = df.merge(_costs(eng, start, end), on="channel", how="left")
        for c in ("acquisition_cost", "channel_cost"):
            df[c] = df[c].fillna(0.0)
    else:  # no source provides channel costs: unknown, not 0
        df["acquisition_cost"] = df["channel_cost"] = np.nan
    df["new_customers"] = df["new_customers"].fillna(0).astype("int64")
    df["cac"] = (df["acquisition_cost"] / df["new_customers"]).where(df["new_customers"] > 0).round(2)
    df["roi"] = (df["revenue"] / df["channel_cost"]).where(df["channel_cost"] > 0).round(4)
    df["roi_review"] = (df["roi"] < params.roi_min).where(df["roi"].notna())
    out = df[["channel", "revenue", "revenue_share", "gross_profit", "gross_margin", "orders", "conversion_rate",
              "new_customers", "retention_rate", "acquisition_cost", "channel_cost", "cac", "roi",
              "roi_review"]].reset_index(drop=True)
    return attach(out, params, **(facts_params or FactsParams()).model_dump(mode="json"))


ROI_COLUMNS = ["channel", "revenue", "new_customers", "acquisition_cost", "channel_cost", "cac", "roi", "roi_review"]


def roi_table(eng: Engine, perf: pd.DataFrame) -> pd.DataFrame:
    """The ROI and CAC of :func:`channel_performance`'s table, for the section that shows them.

    Input: ``perf`` (channel_performance) and the warehouse's channel_costs.
    Returns: :data:`ROI_COLUMNS` — channel, revenue, new_customers, acquisition_cost, channel_cost,
    cac, roi, roi_review — in ``perf``'s order, recording ``perf``'s parameters.
    Raises :class:`~saleslab.errors.MissingSource` when no source provides channel_costs and
    :class:`~saleslab.errors.InsufficientData` when no channel has a cost in the period.
    """
    eng.require("channel_costs", needed_for="channel ROI and CAC")
    if not (perf["channel_cost"].fillna(0) > 0).any():
        raise InsufficientData("no channel has a cost in the period (channel_costs and campaigns): ROI and CAC "
                               "need at least one", needed_for="channel ROI and CAC")
    out = perf[ROI_COLUMNS].reset_index(drop=True)
    out.attrs = {"params": dict(perf.attrs.get("params", {}))}
    return out


def collected_invoices(eng: Engine, start, end, on_time_only: bool = False) -> ibis.Table:
    """Invoices due in the period with the amount collected on each.

    Input: invoices(invoice_id, order_id, customer_id, distributor_id, due_date, amount),
    payments(invoice_id, payment_date, amount).
    Returns (Ibis): invoice_id, order_id, customer_id, distributor_id, invoiced, collected.
    Formula: collected = min(invoice amount, Σ payments with the invoice_id received ≤ end
    (≤ due date when ``on_time_only``)).
    """
    start, end = as_date(start), as_date(end)
    inv = eng.table("invoices")
    inv = inv.filter(inv.due_date.between(start, end))
    pay = eng.table("payments")
    pay = pay.filter(pay.invoice_id.notnull() & (pay.payment_date <= end))
    j = inv.select("invoice_id", "due_date").join(pay.select("invoice_id", "payment_date", "amount"), "invoice_id")
    if on_time_only:
        j = j.filter(j.payment_date <= j.due_date)
    paid = j.group_by("invoice_id").aggregate(paid=j.amount.sum())
    k = inv.left_join(paid, "invoice_id")
    paid_amt = k.paid.fill_null(0)
    return k.select(
        invoice_id=k.invoice_id, order_id=k.order_id, customer_id=k.customer_id, distributor_id=k.distributor_id,
        invoiced=k.amount, collected=ibis.ifelse(paid_amt > k.amount, k.amount, paid_amt))


#: What the distributors' collection needs (the distributor master only names them).
COLLECTION_TABLES = ("invoices", "payments")


def distributor_performance(eng: Engine, start, end, params: Params | None = None,
                            on_time_only: bool = False, facts_params: FactsParams | None = None) -> pd.DataFrame:
    """Per distributor: sell-in revenue and share, invoiced, collected, collection rate, closure flag.

    Input: orders(channel = distribution, distributor_id), order_lines, returns, invoices,
    payments, distributors(distributor_id, name). Only orders and lines are required: without
    invoices or payments invoiced, collected, collection_rate and closure_review are empty
    (unknown); without the distributor master distributor_name is empty.
    Returns: distributor_id, distributor_name, revenue, distribution_share, orders, invoiced,
    collected, collection_rate, closure_review — lowest collection rate first.
    Formula: collection_rate = collected / invoiced (invoices due in the period, payments by
    invoice_id); closure_review = collection_rate < ``params.collection_min`` (empty where the rate
    is unknown). The result records ``params``.
    """
    params = params or Params()
    eng.require("orders", "order_lines", needed_for="distributor sell-in")
    s = _sales_by(eng, start, end, ["channel", "distributor_id"], facts_params)
    s = s.filter((s.channel == "distribution") & s.distributor_id.notnull())
    sales = _finish_sales(eng.execute(s), eng.rows("products") > 0).drop(columns=["channel"])
    collection_known = all(eng.rows(t) for t in COLLECTION_TABLES)
    if collection_known:
        ci = collected_invoices(eng, start, end, on_time_only)
        ci = ci.filter(ci.distributor_id.notnull())
        coll = eng.execute(ci.group_by("distributor_id").aggregate(
            invoiced=ci.invoiced.sum(), collected=ci.collected.sum()))
    else:
        coll = pd.DataFrame({"distributor_id": pd.Series(dtype="object"), "invoiced": pd.Series(dtype="float64"),
                             "collected": pd.Series(dtype="float64")})
    d = eng.execute(eng.table("distributors").select("distributor_id", distributor_name="name")).drop_duplicates(
        "distributor_id")
    df = sales.merge(coll, on="distributor_id", how="outer").merge(d, on="distributor_id", how="left")
    df["revenue"] = df["revenue"].fillna(0.0)
    df["distribution_share"] = (df["revenue"] / df["revenue"].sum()).round(6) if df["revenue"].sum() else float("nan")
    df["orders"] = df["orders"].fillna(0).astype("int64")
    for c in ("invoiced", "collected"):
        df[c] = df[c].fillna(0.0).astype(float).round(2) if collection_known else np.nan
    df["collection_rate"] = (df["collected"] / df["invoiced"]).where(df["invoiced"] > 0).round(6)
    df["closure_review"] = (df["collection_rate"] < params.collection_min).where(df["collection_rate"].notna())
    df = df.sort_values(["collection_rate", "distributor_id"], na_position="last").reset_index(drop=True)
    out = df[["distributor_id", "distributor_name", "revenue", "distribution_share", "orders", "invoiced",
              "collected", "collection_rate", "closure_review"]]
    return attach(out, params, **(facts_params or FactsParams()).model_dump(mode="json"))


def collection_table(eng: Engine, dist: pd.DataFrame) -> pd.DataFrame:
    """:func:`distributor_performance`'s table for the collection section (the same rows and
    parameters). Raises :class:`~saleslab.errors.MissingSource` when no source provides invoices or
    payments, :class:`~saleslab.errors.InsufficientData` when no distributor invoice falls due in the period."""
    eng.require(*COLLECTION_TABLES, needed_for="distributor collection")
    if not (dist["invoiced"].fillna(0) > 0).any():
        raise InsufficientData("no distributor invoice falls due in the period: the collection rate needs at least "
                               "one", needed_for="distributor collection")
    out = dist.reset_index(drop=True)
    out.attrs = {"params": dict(dist.attrs.get("params", {}))}
    return out


def flagged(perf: pd.DataFrame, flag: str) -> pd.DataFrame:
    """Rows of ``perf`` whose boolean column ``flag`` is true (roi_review, closure_review)."""
    return perf[perf[flag].fillna(False).astype(bool)].reset_index(drop=True)
