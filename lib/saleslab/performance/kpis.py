"""Sales KPIs over the facts layer (domain.md §3): the monthly overview, the KPI cube against last
year, the previous period and target, and the collection rate.

Revenue, returns and cost are those of :mod:`saleslab.facts` (the one definition): a sale counts
on its order date, a return on its return date (or its order's date, ``returns_basis``) with the
channel, region and rep of its original order; revenue (销售额) = sales − returns; cost of goods =
quantity × unit cost, less the returned quantities; gross profit (毛利) = revenue − cost; gross
margin (毛利率) = gross profit / revenue; orders (订单数) = distinct orders with a sale line;
active customers = distinct known customers among them. Price bands are :func:`facts.price_band`'s.

Partial warehouses: without a product master giving unit costs (a warehouse of order lines
only), the cost of goods is unknown: cost, gross_profit and gross_margin are empty (NaN), not
computed from a cost of 0 (:func:`costs_known`). Targets, invoices and payments are optional
sources: target columns stay empty without targets, and :func:`collection_rate` raises
:class:`~saleslab.errors.MissingSource` without invoices or payments.

The names other areas import from here (``as_date``, ``period_start``, ``sales_lines`` ...) are
re-exported from :mod:`saleslab.periods` and :mod:`saleslab.facts`.
"""

from __future__ import annotations

import ibis
import numpy as np
import pandas as pd

from .. import facts
from ..engine import Engine
from ..errors import SalesLabError
from ..facts import DEFAULT_PRICE_BANDS, UNKNOWN, parse_price_bands, price_band, price_band_labels  # noqa: F401
from ..facts import Params as FactsParams
from ..facts import sales_lines  # noqa: F401  (re-exported: other areas import it from here)
from ..params import attach
from ..periods import GRAINS, as_date, comparison_window, period_end, period_start  # noqa: F401
from ..periods import comparison_offset as _offset


def _facts(facts_params: FactsParams | None) -> FactsParams:
    return facts_params if facts_params is not None else FactsParams()


def _ratio(a: pd.Series, b: pd.Series) -> pd.Series:
    a, b = a.astype("float64"), b.astype("float64")
    return (a / b).where(b != 0)


def costs_known(eng: Engine) -> bool:
    """Whether the warehouse knows any unit cost: a product master with at least one unit_cost.

    Without one (no product master, or one without costs) the cost of goods of every sale is
    unknown; :mod:`saleslab.facts` counts a missing unit cost as 0, which summed over all sales
    would read as a 100 % gross margin, so the KPIs leave cost and margin empty instead.
    """
    if eng.rows("products") == 0:
        return False
    p = facts.products(eng)
    return int(eng.execute(p.filter(p.unit_cost.notnull()).count())) > 0


def _unknown_cost(df: pd.DataFrame, known: bool) -> pd.DataFrame:
    """cost, gross_profit, gross_margin empty when no unit cost is known (:func:`costs_known`)."""
    if not known:
        df[["cost", "gross_profit", "gross_margin"]] = np.nan
    return df


def monthly_overview(eng: Engine, start, end, facts_params: FactsParams | None = None) -> pd.DataFrame:
    """Revenue, orders, active customers, gross profit and margin per month over [start, end].

    Input: :func:`saleslab.facts.revenue_by_expr` per calendar month of the movement's date.
    Returns columns month, gross_sales, returns, revenue, cost, gross_profit, gross_margin, orders,
    active_customers, average_order_value — one row per month with sales or returns, sorted.
    Formula: revenue = gross_sales − returns; gross_profit = revenue − cost; gross_margin =
    gross_profit / revenue; average_order_value = revenue / orders. The result records
    ``facts_params`` (``df.attrs["params"]``). cost, gross_profit and gross_margin are empty
    without any unit cost (:func:`costs_known`).
    """
    fp = _facts(facts_params)
    eng.require("orders", "order_lines", needed_for="the monthly overview")
    month = ibis._.date.truncate("M").cast("date").name("month")
    expr = facts.revenue_by_expr(eng, start, end, [month], fp.returns_basis).order_by("month")
    df = eng.execute(expr)
    df["month"] = pd.to_datetime(df["month"]).dt.date
    for c in ("gross_sales", "returns"):
        df[c] = df[c].astype("float64").round(2) + 0.0  # + 0.0: no "-0.0" where nothing was returned
    df["revenue"] = (df["gross_sales"] - df["returns"]).round(2)
    df["cost"] = (df["sales_cost"] - df["returns_cost"]).astype("float64").round(2)
    df["gross_profit"] = (df["revenue"] - df["cost"]).round(2)
    df["gross_margin"] = _ratio(df["gross_profit"], df["revenue"])
    df = _unknown_cost(df, costs_known(eng))
    df["orders"] = df["orders"].astype("int64")
    df["active_customers"] = df["active_customers"].astype("int64")
    df["average_order_value"] = _ratio(df["revenue"], df["orders"]).round(2)
    out = df[["month", "gross_sales", "returns", "revenue", "cost", "gross_profit", "gross_margin",
              "orders", "active_customers", "average_order_value"]].reset_index(drop=True)
    return attach(out, None, **fp.model_dump(mode="json"))


def active_customers(eng: Engine, start, end) -> int:
    """Distinct known customers with at least one sale line in [start, end] (not additive over months)."""
    expr = facts.revenue_by_expr(eng, start, end, [])
    return int(eng.execute(expr)["active_customers"].iloc[0])


def headline_totals(monthly: pd.DataFrame) -> dict:
    """Period totals from :func:`monthly_overview`: revenue, orders, gross_profit (Σ of the months)
    and gross_margin = Σ gross_profit / Σ revenue (active customers are not additive: not summed);
    gross_profit and gross_margin are None when the cost of goods is unknown (no unit cost)."""
    revenue = float(monthly["revenue"].sum())
    known = bool(monthly["gross_profit"].notna().any())
    profit = float(monthly["gross_profit"].sum())
    return {
        "revenue": round(revenue, 2),
        "orders": int(monthly["orders"].sum()),
        "gross_profit": round(profit, 2) if known else None,
        "gross_margin": round(profit / revenue, 4) if revenue and known else None,
    }


# ---------------------------------------------------------------------------------------------
# The KPI cube: any time grain x any of the dimensions, with last year, previous period and target
# ---------------------------------------------------------------------------------------------

#: Dimensions a cube can be cut by.
DIMENSIONS = ("channel", "region", "product_id", "category", "price_band", "team", "rep_id")
#: Target levels (``targets.level``) and the dimension each one matches, finest first.
TARGET_LEVELS = {"rep_id": "rep", "team": "team", "region": "region"}

CUBE_MONEY = ("gross_sales", "returns", "revenue", "cost", "gross_profit", "rep_revenue")


def _check_grain(grain: str) -> None:
    if grain not in GRAINS:
        raise SalesLabError(f"unknown time grain {grain!r}; allowed: {', '.join(GRAINS)}")


def _check_cube_args(grain: str, by) -> tuple[str, ...]:
    _check_grain(grain)
    by = (by,) if isinstance(by, str) else tuple(by or ())
    bad = [d for d in by if d not in DIMENSIONS]
    if bad:
        raise SalesLabError(f"unknown dimension(s) {', '.join(map(repr, bad))}; allowed: {', '.join(DIMENSIONS)}")
    if len(set(by)) != len(by):
        raise SalesLabError(f"dimension repeated in by={by!r}")
    return by


def _period(col, grain: str):
    return col if grain == "day" else col.truncate(GRAINS[grain]).cast("date")


def movements(eng: Engine, start, end, grain: str = "month", by=("channel", "region"),
              facts_params: FactsParams | None = None) -> ibis.Table:
    """The cube's rows (Ibis): :func:`saleslab.facts.movements_expr` over [start, end] with the
    cube's extra columns.

    Input: facts.movements_expr (sales on their order date, returns on the date ``returns_basis``
    says, negative, with their original order's channel / region / rep / customer), the product
    master (category, list price → :func:`saleslab.facts.price_band` on ``price_band_edges``),
    reps (team), and every customer's first order date in the warehouse.
    Columns: date, period, <by...>, amount, quantity, cost (signed, as in facts), is_sale,
    order_rep_id (the rep of the sale's or return's order), and, null on returns: sale_order_id,
    sale_customer_id, sale_rep_id, new_customer_id (the customer when their first order ever falls
    in this row's period). Missing dimension values read :data:`UNKNOWN`.
    """
    by = _check_cube_args(grain, by)
    fp = _facts(facts_params)
    m = facts.movements_expr(eng, start, end, fp.returns_basis)
    o = eng.table("orders")
    first = (o.filter(o.customer_id.notnull()).group_by("customer_id")
             .aggregate(first_order_date=o.order_date.min())
             .select(f_customer_id="customer_id", first_order_date="first_order_date"))
    m = m.left_join(first, m.customer_id == first.f_customer_id).drop("f_customer_id")
    extra = (["category"] if "category" in by else []) + (["list_price"] if "price_band" in by else [])
    if extra:
        p = facts.products(eng).select(p_product_id="product_id", **{c: c for c in extra})
        m = m.left_join(p, m.product_id == p.p_product_id).drop("p_product_id")
    if "team" in by:
        reps = eng.table("reps").select(r_rep_id="rep_id", team="team")
        m = m.left_join(reps, m.rep_id == reps.r_rep_id).drop("r_rep_id")
    dims = {d: price_band(m.list_price, fp.price_band_edges) if d == "price_band" else m[d] for d in by}
    dims = {d: v.cast("string").fill_null(UNKNOWN) for d, v in dims.items()}
    per = _period(m.date, grain)
    null = ibis.null("string")
    return m.select(
        date=m.date, period=per, **dims, amount=m.amount, quantity=m.quantity, cost=m.cost, is_sale=m.is_sale,
        order_rep_id=m.rep_id,
        sale_order_id=ibis.ifelse(m.is_sale, m.order_id, null),
        sale_customer_id=ibis.ifelse(m.is_sale, m.customer_id, null),
        sale_rep_id=ibis.ifelse(m.is_sale, m.rep_id, null),
        new_customer_id=ibis.ifelse(m.is_sale & (_period(m.first_order_date, grain) == per), m.customer_id, null))


def cube_expr(eng: Engine, start, end, grain: str = "month", by=("channel", "region"),
              facts_params: FactsParams | None = None, in_range_from=None, windows=None) -> ibis.Table:
    """The cube's aggregation as one Ibis expression over :func:`movements`.

    Columns: period, <by...>, [in_range: date ≥ ``in_range_from``], gross_sales, returns (positive),
    revenue, volume, cost, orders, active_customers, new_customers, reps, rep_revenue, and
    ``revenue_<name>`` / ``gross_sales_<name>`` = revenue / gross sales of the rows dated in the
    window for each ``windows`` name -> (lo, hi).
    Formula: revenue = Σ amount; gross_sales = Σ amount of sales; returns = −Σ amount of returns;
    volume = Σ quantity; cost = Σ cost; orders / active_customers / new_customers / reps = distinct
    sale_order_id / sale_customer_id / new_customer_id / sale_rep_id; rep_revenue = Σ amount of
    rows whose order has a rep.
    """
    by = _check_cube_args(grain, by)
    m = movements(eng, start, end, grain, by, facts_params)
    keys = ["period", *by]
    if in_range_from is not None:
        m = m.mutate(in_range=m.date >= as_date(in_range_from))
        keys.append("in_range")
    zero = ibis.literal(0.0)
    win = {}
    for name, (lo, hi) in (windows or {}).items():
        inside = m.date.between(as_date(lo), as_date(hi))
        win[f"revenue_{name}"] = ibis.ifelse(inside, m.amount, zero).sum()
        win[f"gross_sales_{name}"] = ibis.ifelse(inside & m.is_sale, m.amount, zero).sum()
    return m.group_by(keys).aggregate(
        gross_sales=ibis.ifelse(m.is_sale, m.amount, zero).sum(),
        returns=-ibis.ifelse(m.is_sale, zero, m.amount).sum(),
        revenue=m.amount.sum(),
        volume=m.quantity.sum(),
        cost=m.cost.sum(),
        orders=m.sale_order_id.nunique(),
        active_customers=m.sale_customer_id.nunique(),
        new_customers=m.new_customer_id.nunique(),
        reps=m.sale_rep_id.nunique(),
        rep_revenue=ibis.ifelse(m.order_rep_id.notnull(), m.amount, zero).sum(),
        **win,
    )


def _dates(df: pd.DataFrame, col: str = "period") -> pd.DataFrame:
    df[col] = pd.to_datetime(df[col]).dt.date
    return df


def target_by_period(eng: Engine, start, end, grain: str, level: str) -> pd.DataFrame:
    """Targets of ``level`` (rep / team / region) summed to ``grain`` over [start, end].

    Input: targets(month, level, level_id, target_amount).
    Returns columns period, level_id, target.
    Formula: a month's target spreads evenly over its days (target_amount / days in the month),
    so a period holding part of a month (a week, or a month cut by ``start`` / ``end``) gets the
    matching part of that month's target; target = Σ of those daily parts in the period.
    """
    _check_grain(grain)
    start, end = as_date(start), as_date(end)
    t = eng.table("targets")
    t = t.filter((t.level == level) & t.month.between(start.replace(day=1), end)).select(
        "month", "level_id", "target_amount")
    df = eng.execute(t)
    if df.empty:
        return pd.DataFrame({"period": pd.Series(dtype=object), "level_id": pd.Series(dtype=object),
                             "target": pd.Series(dtype="float64")})
    month = pd.to_datetime(df["month"])
    ndays = month.dt.days_in_month.to_numpy()
    rep = df.loc[df.index.repeat(ndays)].reset_index(drop=True)
    offsets = np.concatenate([np.arange(n) for n in ndays])
    day = pd.to_datetime(rep["month"]).to_numpy() + offsets.astype("timedelta64[D]")
    rep["day"] = pd.to_datetime(day)
    rep["daily"] = rep["target_amount"] / np.repeat(ndays, ndays)
    rep = rep[(rep["day"] >= pd.Timestamp(start)) & (rep["day"] <= pd.Timestamp(end))]
    if grain == "week":
        rep["period"] = (rep["day"] - pd.to_timedelta(rep["day"].dt.weekday, unit="D")).dt.date
    else:
        rep["period"] = rep["day"].dt.to_period({"day": "D", "month": "M", "quarter": "Q", "year": "Y"}[grain]
                                                ).dt.start_time.dt.date
    out = rep.groupby(["period", "level_id"], as_index=False)["daily"].sum().rename(columns={"daily": "target"})
    out["target"] = out["target"].round(2)
    return out


def kpi_cube(eng: Engine, start, end, grain: str = "month", by=("channel", "region"),
             facts_params: FactsParams | None = None, targets: bool = True) -> pd.DataFrame:
    """Sales KPIs per ``grain`` period × ``by`` dimensions over [start, end], with last year, the
    previous period and the target alongside (domain.md §3).

    Parameters
    ----------
    grain : day, week (Monday first), month, quarter or year.
    by : any of :data:`DIMENSIONS` (channel, region, product_id, category, price_band, team, rep_id).
    facts_params : the facts layer's choices (:class:`saleslab.facts.Params`): ``returns_basis``,
        ``achievement_basis`` (what achievement_rate measures) and ``price_band_edges`` (the
        ``price_band`` dimension); defaults when None.
    targets : add target / achievement when ``by`` holds a target level (rep_id, team or region).

    Returns
    -------
    One row per period and segment with sales or returns, sorted; the result records
    ``facts_params`` (``df.attrs["params"]``). Input: :func:`movements` (facts.movements_expr).
    Formulas (money in 元, cents):

    - revenue = Σ net_amount of sale lines in the period − Σ returned amounts counted in the period
      (:mod:`saleslab.facts`); gross_sales and returns are its two parts;
    - volume = quantity sold − quantity returned; cost = the same at unit cost;
      gross_profit = revenue − cost; gross_margin = gross_profit / revenue;
    - orders = distinct orders with a sale line; average_order_value = revenue / orders;
    - active_customers = distinct known customers with a sale line; new_customers = those of them
      whose first order ever (whole warehouse) falls in the period (both are not additive over segments);
    - revenue_per_customer = revenue / active_customers;
    - revenue_per_rep = revenue of orders carrying a rep / distinct reps with a sale;
    - revenue_last_year = revenue of the same segment in the same period a year earlier (weeks and
      days: 52 weeks earlier); yoy_growth = revenue / revenue_last_year − 1; revenue_prev_period and
      pop_growth likewise against the previous period. A period cut by ``start`` or ``end`` is
      compared with the same cut of the earlier period (:func:`comparison_window`: year to date
      against last year to date); ``complete`` says whether the period lies wholly in [start, end];
    - target = target of the finest target level in ``by`` (rep_id > team > region) for the period,
      target_level names it; achievement_rate = revenue (``achievement_basis`` "net") or gross sales
      ("gross") of that level's member in the period / target. With further dimensions in ``by``
      the level's target and achievement repeat on each of its rows (targets are not split by
      channel or product).

    Partial warehouses: cost, gross_profit and gross_margin are empty without any unit cost
    (:func:`costs_known`); target and achievement_rate are empty without targets; category and
    team read :data:`UNKNOWN` without product master or rep list; a cube by ``price_band`` raises
    :class:`~saleslab.errors.MissingSource` without a product master (no list prices, no bands).
    """
    by = _check_cube_args(grain, by)
    fp = _facts(facts_params)
    eng.require("orders", "order_lines", needed_for="the KPI cube")
    if "price_band" in by:
        eng.require("products", needed_for="price bands")
    start, end = as_date(start), as_date(end)
    yoy, pop = _offset(grain, "yoy"), _offset(grain, "pop")
    # whole comparison periods: from the start of the period a year before the first one
    ext_start = (pd.Timestamp(period_start(start, grain)) - yoy).date()
    windows = {"ly": comparison_window(start, end, grain, "yoy"), "pp": comparison_window(start, end, grain, "pop")}
    raw = _dates(eng.execute(cube_expr(eng, ext_start, end, grain, by, fp, in_range_from=start, windows=windows)))
    keys = ["period", *by]
    cur = raw[raw["in_range"].astype(bool)].drop(
        columns=["in_range", "revenue_ly", "revenue_pp", "gross_sales_ly", "gross_sales_pp"]).copy()
    for name, win, off in (("revenue_last_year", "revenue_ly", yoy), ("revenue_prev_period", "revenue_pp", pop)):
        shifted = raw.groupby(keys, as_index=False, dropna=False)[win].sum().rename(columns={win: name})
        shifted["period"] = (pd.to_datetime(shifted["period"]) + off).dt.date
        cur = cur.merge(shifted, on=keys, how="left")
    for c in ("gross_sales", "returns", "revenue", "cost", "rep_revenue", "revenue_last_year", "revenue_prev_period"):
        cur[c] = cur[c].astype("float64").round(2) + 0.0  # + 0.0: no "-0.0" where nothing was returned
    cur["volume"] = cur["volume"].astype("float64").round(6)
    for c in ("orders", "active_customers", "new_customers", "reps"):
        cur[c] = cur[c].astype("int64")
    cur["gross_profit"] = (cur["revenue"] - cur["cost"]).round(2)
    cur["gross_margin"] = _ratio(cur["gross_profit"], cur["revenue"])
    cur = _unknown_cost(cur, costs_known(eng))
    cur["average_order_value"] = _ratio(cur["revenue"], cur["orders"]).round(2)
    cur["revenue_per_customer"] = _ratio(cur["revenue"], cur["active_customers"]).round(2)
    cur["revenue_per_rep"] = _ratio(cur["rep_revenue"], cur["reps"]).round(2)
    cur["yoy_growth"] = _ratio(cur["revenue"], cur["revenue_last_year"]) - 1
    cur["pop_growth"] = _ratio(cur["revenue"], cur["revenue_prev_period"]) - 1
    cur["complete"] = [(p >= start) and (period_end(p, grain) <= end) for p in cur["period"]]
    cols = ["period", *by, "gross_sales", "returns", "revenue", "volume", "cost", "gross_profit", "gross_margin",
            "orders", "average_order_value", "active_customers", "new_customers", "revenue_per_customer",
            "reps", "rep_revenue", "revenue_per_rep", "revenue_last_year", "yoy_growth", "revenue_prev_period", "pop_growth",
            "complete"]
    level_dim = next((d for d in TARGET_LEVELS if d in by), None)
    if targets and level_dim is not None:
        tgt = target_by_period(eng, start, end, grain, TARGET_LEVELS[level_dim]).rename(columns={"level_id": level_dim})
        actual = "revenue" if fp.achievement_basis == "net" else "gross_sales"
        lvl = cur.groupby(["period", level_dim], as_index=False)[actual].sum().rename(
            columns={actual: "level_actual"})
        lvl = lvl.merge(tgt, on=["period", level_dim], how="left")
        lvl["achievement_rate"] = _ratio(lvl["level_actual"].round(2), lvl["target"])
        cur = cur.merge(lvl[["period", level_dim, "target", "achievement_rate"]], on=["period", level_dim], how="left")
        cur["target_level"] = TARGET_LEVELS[level_dim]
        cols += ["target", "achievement_rate", "target_level"]
    if "price_band" in by:  # bands in price order (by lower edge), unknown last; not as text (0-200, 1000-3000, 200-500)
        order = {b: i for i, b in enumerate(price_band_labels(fp.price_band_edges))}
        out = cur[cols].sort_values(keys, key=lambda c: c.map(lambda b: order.get(b, len(order)))
                                    if c.name == "price_band" else c)
    else:
        out = cur[cols].sort_values(keys)
    out = out.reset_index(drop=True)
    return attach(out, None, **fp.model_dump(mode="json"))


#: Dimensions :func:`collection_rate` can be cut by (those of the invoice's order, and its rep's team).
COLLECTION_DIMENSIONS = ("channel", "region", "rep_id", "team")


def collection_rate(eng: Engine, start, end, grain: str = "month", by=()) -> pd.DataFrame:
    """Collection rate (回款率) of the invoices due in each period.

    Input: :func:`saleslab.facts.invoices_due_expr` (invoices due in [start, end] with their
    order's channel, region, rep), payments(invoice_id, payment_date, amount), reps(team).
    Returns columns period, <by...>, invoices, invoiced, collected, collection_rate.
    Formula: invoiced = Σ amount of the invoices with due_date in the period (within [start, end]);
    collected = Σ over those invoices of min(invoice amount, payments matched by invoice_id dated
    up to the end of the invoice's due period and up to ``end``); collection_rate = collected /
    invoiced. (facts' own ``collected`` counts payments up to ``end`` for every period; here an
    invoice due in January is judged on what was paid by the end of January.)
    ``by``: channel, region, rep_id, team (through the invoice's order; :data:`UNKNOWN` otherwise).
    Raises :class:`~saleslab.errors.MissingSource` without invoices or payments (with no
    payments source nothing would read as collected: a rate of 0 that is not known).
    """
    _check_grain(grain)
    by = (by,) if isinstance(by, str) else tuple(by or ())
    if any(d not in COLLECTION_DIMENSIONS for d in by):
        raise SalesLabError(f"collection_rate can be cut by {', '.join(COLLECTION_DIMENSIONS)} (got {by!r})")
    start, end = as_date(start), as_date(end)
    eng.require("invoices", "payments", needed_for="the collection rate")
    inv = facts.invoices_due_expr(eng, start, end).select("invoice_id", "due_date", "amount", "channel", "region",
                                                          "rep_id")
    if "team" in by:
        reps = eng.table("reps").select(r_rep_id="rep_id", team="team")
        inv = inv.left_join(reps, inv.rep_id == reps.r_rep_id).drop("r_rep_id")
    inv = inv.select("invoice_id", "amount", period=_period(inv.due_date, grain),
                     **{d: inv[d].cast("string").fill_null(UNKNOWN) for d in by})
    pay = eng.table("payments")
    pay = pay.filter(pay.invoice_id.notnull() & (pay.payment_date <= end)).select(
        pay_invoice_id=pay.invoice_id, pay_period=_period(pay.payment_date, grain), pay_amount=pay.amount)
    due = inv.select(due_invoice_id="invoice_id", due_period="period")
    paid = pay.join(due, pay.pay_invoice_id == due.due_invoice_id)
    paid = (paid.filter(paid.pay_period <= paid.due_period)
            .group_by(paid_invoice_id=paid.pay_invoice_id).aggregate(paid=paid.pay_amount.sum()))
    j = inv.left_join(paid, inv.invoice_id == paid.paid_invoice_id).drop("paid_invoice_id")
    collected = ibis.least(j.paid.fill_null(0.0), j.amount)
    agg = j.group_by(["period", *by]).aggregate(
        invoices=j.invoice_id.nunique(), invoiced=j.amount.sum(), collected=collected.sum())
    df = _dates(eng.execute(agg))
    df["invoices"] = df["invoices"].astype("int64")
    df["invoiced"] = df["invoiced"].astype("float64").round(2)
    df["collected"] = df["collected"].astype("float64").round(2)
    df["collection_rate"] = _ratio(df["collected"], df["invoiced"])
    return df[["period", *by, "invoices", "invoiced", "collected", "collection_rate"]].sort_values(
        ["period", *by]).reset_index(drop=True)


def year_to_date(eng: Engine, end, facts_params: FactsParams | None = None) -> dict:
    """The headline sales figures of the year to date of ``end`` and of the same days a year
    earlier (the executive summary's "vs last year").

    Windows: [1 January of ``end``'s year, ``end``] and :func:`comparison_window` of it (a month
    end maps to the month end a year earlier). Returns ``{"start", "end", "ly_start", "ly_end",
    "revenue", "gross_margin", "orders", "active_customers"}`` and the same four with the suffix
    ``_last_year``: revenue, orders and gross_margin from :func:`monthly_overview` summed by
    :func:`headline_totals`, active_customers from :func:`active_customers` (distinct over the
    window). A year without any sale gives 0 revenue and None margin.
    """
    end = as_date(end)
    start = period_start(end, "year")
    ly_start, ly_end = comparison_window(start, end, "year", "yoy")
    out: dict = {"start": start, "end": end, "ly_start": ly_start, "ly_end": ly_end}
    for suffix, (a, b) in (("", (start, end)), ("_last_year", (ly_start, ly_end))):
        monthly = monthly_overview(eng, a, b, facts_params)
        tot = headline_totals(monthly) if len(monthly) else {"revenue": 0.0, "orders": 0, "gross_margin": None}
        out["revenue" + suffix] = tot["revenue"]
        out["orders" + suffix] = tot["orders"]
        out["gross_margin" + suffix] = tot["gross_margin"]
        out["active_customers" + suffix] = active_customers(eng, a, b)
    return out
