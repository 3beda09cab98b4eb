"""Sales KPIs as Ibis expressions over the warehouse (domain.md §3).

Definitions used here:

- revenue (销售额) = Σ order_lines.net_amount − Σ returns.amount, each in the month it happened
  (order date for sales, return date for returns), 元;
- cost of goods = Σ quantity × products.unit_cost, less returned quantity × unit cost;
- gross profit (毛利) = revenue − cost of goods; gross margin (毛利率) = gross profit / revenue;
- orders (订单数) = distinct orders with at least one line; active customers = distinct known
  customer ids among them.
"""

from __future__ import annotations

import datetime as dt

import ibis
import numpy as np
import pandas as pd

from ..engine import Engine
from ..periods import GRAINS, as_date, comparison_window, period_end, period_start  # noqa: F401
from ..periods import comparison_offset as _offset


def _month(col):
    return col.truncate("M").cast("date")


def sales_lines(eng: Engine, start, end) -> ibis.Table:
    """Order lines in [start, end] with their order header and unit cost.

    Columns: order_id, order_date, month, customer_id, channel, region, product_id, quantity,
    net_amount, cost.
    """
    start, end = as_date(start), as_date(end)
    o = eng.table("orders")
    ln = eng.table("order_lines")
    p = eng.table("products").select("product_id", "unit_cost")
    o = o.filter(o.order_date.between(start, end)).select(
        "order_id", "order_date", "customer_id", "channel", "region")
    j = ln.join(o, "order_id").left_join(p, "product_id")
    return j.select(
        "order_id", "order_date", month=_month(j.order_date), customer_id=j.customer_id, channel=j.channel,
        region=j.region, product_id=j.product_id, quantity=j.quantity, net_amount=j.net_amount,
        cost=(j.quantity * j.unit_cost.fill_null(0)),
    )


def monthly_overview(eng: Engine, start, end) -> pd.DataFrame:
    """Revenue, orders, active customers, gross profit and margin per month.

    Returns columns: month, gross_sales, returns, revenue, cost, gross_profit, gross_margin,
    orders, active_customers, average_order_value — one row per month with sales, sorted.
    """
    start, end = as_date(start), as_date(end)
    s = sales_lines(eng, start, end)
    sales = s.group_by("month").aggregate(
        gross_sales=s.net_amount.sum(),
        sales_cost=s.cost.sum(),
        orders=s.order_id.nunique(),
        active_customers=s.customer_id.nunique(),
    )
    r = eng.table("returns")
    p = eng.table("products").select("product_id", "unit_cost")
    r = r.filter(r.return_date.between(start, end)).left_join(p, "product_id")
    rets = r.group_by(month=_month(r.return_date)).aggregate(
        returns=r.amount.sum(), returns_cost=(r.quantity * r.unit_cost.fill_null(0)).sum())
    j = sales.left_join(rets, "month")
    expr = j.select(
        month=j.month, gross_sales=j.gross_sales, returns=j.returns.fill_null(0),
        sales_cost=j.sales_cost, returns_cost=j.returns_cost.fill_null(0),
        orders=j.orders, active_customers=j.active_customers,
    ).order_by("month")
    df = eng.execute(expr)
    df["month"] = pd.to_datetime(df["month"]).dt.date
    df["revenue"] = (df["gross_sales"] - df["returns"]).round(2)
    df["cost"] = (df["sales_cost"] - df["returns_cost"]).round(2)
    df["gross_profit"] = (df["revenue"] - df["cost"]).round(2)
    df["gross_margin"] = (df["gross_profit"] / df["revenue"]).where(df["revenue"] != 0)
    df["average_order_value"] = (df["revenue"] / df["orders"]).round(2)
    for c in ("gross_sales", "returns"):
        df[c] = df[c].round(2)
    df["orders"] = df["orders"].astype("int64")
    df["active_customers"] = df["active_customers"].astype("int64")
    return df[["month", "gross_sales", "returns", "revenue", "cost", "gross_profit", "gross_margin",
               "orders", "active_customers", "average_order_value"]].reset_index(drop=True)


def active_customers(eng: Engine, start, end) -> int:
    """Distinct known customers with at least one order line in [start, end]."""
    s = sales_lines(eng, start, end)
    return int(eng.execute(s.customer_id.nunique()))


def headline_totals(monthly: pd.DataFrame) -> dict:
    """Period totals from :func:`monthly_overview` (active customers are not additive: not summed)."""
    revenue = float(monthly["revenue"].sum())
    profit = float(monthly["gross_profit"].sum())
    return {
        "revenue": round(revenue, 2),
        "orders": int(monthly["orders"].sum()),
        "gross_profit": round(profit, 2),
        "gross_margin": round(profit / revenue, 4) if revenue else None,
    }


# ---------------------------------------------------------------------------------------------
# The KPI cube: any time grain x any of the dimensions, with last year, previous period and target
# ---------------------------------------------------------------------------------------------

#: Dimensions a cube can be cut by.
DIMENSIONS = ("channel", "region", "product_id", "category", "price_band", "team", "rep_id")
#: Target levels (``targets.level``) and the dimension each one matches, finest first.
TARGET_LEVELS = {"rep_id": "rep", "team": "team", "region": "region"}
#: Default price-band edges on the list price, 元: <0, 0-200, 200-500, 500-1000, 1000-3000, 3000+.
DEFAULT_PRICE_BANDS = (0, 200, 500, 1000, 3000)
#: Shown for a missing dimension value (order without region, product not in the master, ...).
UNKNOWN = "unknown"

CUBE_MONEY = ("gross_sales", "returns", "revenue", "cost", "gross_profit", "rep_revenue")


def _check_cube_args(grain: str, by) -> tuple[str, ...]:
    from ..errors import SalesLabError

    if grain not in GRAINS:
        raise SalesLabError(f"unknown time grain {grain!r}; allowed: {', '.join(GRAINS)}")
    by = (by,) if isinstance(by, str) else tuple(by or ())
    bad = [d for d in by if d not in DIMENSIONS]
    if bad:
        raise SalesLabError(f"unknown dimension(s) {', '.join(map(repr, bad))}; allowed: {', '.join(DIMENSIONS)}")
    if len(set(by)) != len(by):
        raise SalesLabError(f"dimension repeated in by={by!r}")
    return by


def parse_price_bands(edges) -> tuple[float, ...]:
    """Band edges from a sequence or a comma-separated string (``"0,200,500"``), strictly increasing."""
    from ..errors import SalesLabError

    if isinstance(edges, str):
        edges = [e for e in edges.replace("，", ",").split(",") if e.strip()]
    try:
        out = tuple(float(e) for e in edges)
    except (TypeError, ValueError):
        raise SalesLabError(f"price band edges must be numbers, got {edges!r}") from None
    if not out or any(b <= a for a, b in zip(out, out[1:])):
        raise SalesLabError(f"price band edges must be strictly increasing numbers, got {edges!r}")
    return out


def _num(v: float) -> str:
    return f"{v:g}"


def price_band_labels(edges=DEFAULT_PRICE_BANDS) -> list[str]:
    """Labels of the bands, lowest first: ``<0``, ``0-200``, ..., ``3000+``."""
    e = parse_price_bands(edges)
    return [f"<{_num(e[0])}"] + [f"{_num(a)}-{_num(b)}" for a, b in zip(e, e[1:])] + [f"{_num(e[-1])}+"]


def price_band(list_price, edges=DEFAULT_PRICE_BANDS):
    """Ibis expression: the band of ``list_price`` (a band includes its lower edge); null stays null."""
    e = parse_price_bands(edges)
    labels = price_band_labels(e)
    branches = [(list_price < e[0], labels[0])]
    branches += [((list_price >= a) & (list_price < b), labels[i + 1]) for i, (a, b) in enumerate(zip(e, e[1:]))]
    branches.append((list_price >= e[-1], labels[-1]))
    return ibis.cases(*branches, else_=ibis.null("string"))


def _period(col, grain: str):
    return col if grain == "day" else col.truncate(GRAINS[grain]).cast("date")


def movements(eng: Engine, start, end, grain: str = "month", by=("channel", "region"),
              price_bands=DEFAULT_PRICE_BANDS) -> ibis.Table:
    """Sales lines dated in [start, end] and returns dated in [start, end], one row each, signed.

    Sales count on their order date; a return counts on its return date, negative, with the
    channel / region / rep of its original order (whenever that order was) and its product.

    Columns: date, period, <by...>, amount (net_amount, −returned amount), quantity (±), cost
    (± quantity × unit_cost, 0 for a product without cost), is_sale, order_rep_id, and, null on
    returns: sale_order_id, sale_customer_id, sale_rep_id, new_customer_id (the customer when
    their first order ever falls in this row's period).
    Missing dimension values read :data:`UNKNOWN`.
    """
    by = _check_cube_args(grain, by)
    start, end = as_date(start), as_date(end)
    o_all = eng.table("orders")
    hdr = o_all.select("order_id", "order_date", "customer_id", "channel", "region", "rep_id")
    first = (o_all.filter(o_all.customer_id.notnull()).group_by("customer_id")
             .aggregate(first_order_date=o_all.order_date.min()))
    o = hdr.filter(hdr.order_date.between(start, end))
    o = o.left_join(first, o.customer_id == first.customer_id).select(
        "order_id", "order_date", "customer_id", "channel", "region", "rep_id", "first_order_date")
    ln = eng.table("order_lines").select("order_id", "product_id", "quantity", "net_amount")
    pcols = ["product_id", "unit_cost"] + (["category"] if "category" in by else []) + \
        (["list_price"] if "price_band" in by else [])
    p = eng.table("products").select(*pcols)
    sales = ln.join(o, "order_id")
    sales = sales.left_join(p, sales.product_id == p.product_id).select(
        date=sales.order_date, order_id=sales.order_id, customer_id=sales.customer_id,
        first_order_date=sales.first_order_date, channel=sales.channel, region=sales.region,
        rep_id=sales.rep_id, product_id=sales.product_id, quantity=sales.quantity,
        amount=sales.net_amount, unit_cost=p.unit_cost,
        **({"category": p.category} if "category" in by else {}),
        **({"list_price": p.list_price} if "price_band" in by else {}))
    base = ["date", "channel", "region", "rep_id", "product_id", "quantity", "amount", "unit_cost",
            *[c for c in ("category", "list_price") if c in sales.columns]]
    per = _period(sales.date, grain)
    sales = sales.select(
        *base, is_sale=ibis.literal(True), sale_order_id=sales.order_id, sale_customer_id=sales.customer_id,
        sale_rep_id=sales.rep_id,
        new_customer_id=ibis.ifelse(_period(sales.first_order_date, grain) == per, sales.customer_id,
                                    ibis.null("string")))

    r = eng.table("returns")
    r = r.filter(r.return_date.between(start, end)).select("order_id", "product_id", "return_date", "quantity", "amount")
    ro = hdr.select("order_id", "channel", "region", "rep_id")
    r = r.left_join(ro, r.order_id == ro.order_id)
    r = r.left_join(p, r.product_id == p.product_id).select(
        date=r.return_date, channel=r.channel, region=r.region, rep_id=r.rep_id, product_id=r.product_id,
        quantity=-r.quantity, amount=-r.amount, unit_cost=p.unit_cost,
        **({"category": p.category} if "category" in by else {}),
        **({"list_price": p.list_price} if "price_band" in by else {}))
    null = ibis.null("string")
    r = r.select(*base, is_sale=ibis.literal(False), sale_order_id=null,
                 sale_customer_id=null, sale_rep_id=null, new_customer_id=null)
    u = sales.union(r.select(*sales.columns))

    dims = {}
    if "team" in by:
        reps = eng.table("reps").select("rep_id", "team")
        u = u.left_join(reps, u.rep_id == reps.rep_id).select(*u.columns, team=reps.team)
    for d in by:
        if d == "price_band":
            dims[d] = price_band(u.list_price, price_bands)
        else:
            dims[d] = u[d]
    dims = {d: v.cast("string").fill_null(UNKNOWN) for d, v in dims.items()}
    return u.select(
        date=u.date, period=_period(u.date, grain), **dims, amount=u.amount, quantity=u.quantity,
        cost=u.quantity * u.unit_cost.fill_null(0), is_sale=u.is_sale, order_rep_id=u.rep_id,
        sale_order_id=u.sale_order_id, sale_customer_id=u.sale_customer_id, sale_rep_id=u.sale_rep_id,
        new_customer_id=u.new_customer_id)


def cube_expr(eng: Engine, start, end, grain: str = "month", by=("channel", "region"),
              price_bands=DEFAULT_PRICE_BANDS, in_range_from=None, windows=None) -> ibis.Table:
    """The cube's aggregation as one Ibis expression over :func:`movements`.

    Columns: period, <by...>, [in_range: date ≥ ``in_range_from``], gross_sales, returns (positive),
    revenue, volume, cost, orders, active_customers, new_customers, reps, rep_revenue, and
    ``revenue_<name>`` = revenue of the rows dated in the window for each ``windows`` name -> (lo, hi).
    """
    by = _check_cube_args(grain, by)
    m = movements(eng, start, end, grain, by, price_bands)
    keys = ["period", *by]
    if in_range_from is not None:
        m = m.mutate(in_range=m.date >= as_date(in_range_from))
        keys.append("in_range")
    zero = ibis.literal(0.0)
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
        **{f"revenue_{name}": ibis.ifelse(m.date.between(as_date(lo), as_date(hi)), m.amount, zero).sum()
           for name, (lo, hi) in (windows or {}).items()},
    )


def _dates(df: pd.DataFrame, col: str = "period") -> pd.DataFrame:
    df[col] = pd.to_datetime(df[col]).dt.date
    return df


def _ratio(a: pd.Series, b: pd.Series) -> pd.Series:
    a, b = a.astype("float64"), b.astype("float64")
    return (a / b).where(b != 0)


def target_by_period(eng: Engine, start, end, grain: str, level: str) -> pd.DataFrame:
    """Targets of ``level`` (rep / team / region) summed to ``grain`` over [start, end].

    A month's target spreads evenly over its days, so a period holding part of a month (a week,
    or a month cut by ``start`` / ``end``) gets the matching part of that month's target.
    Returns columns period, level_id, target.
    """
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
             price_bands=DEFAULT_PRICE_BANDS, targets: bool = True) -> pd.DataFrame:
    """Sales KPIs per ``grain`` period × ``by`` dimensions over [start, end], with last year, the
    previous period and the target alongside (domain.md §3).

    Parameters
    ----------
    grain : day, week (Monday first), month, quarter or year.
    by : any of :data:`DIMENSIONS` (channel, region, product_id, category, price_band, team, rep_id).
    price_bands : edges on the product list price (sequence or ``"0,200,500"``) for ``price_band``.
    targets : add target / achievement when ``by`` holds a target level (rep_id, team or region).

    Returns
    -------
    One row per period and segment with sales or returns, sorted. Formulas (money in 元, cents):

    - revenue = Σ net_amount of lines (order date in the period) − Σ returned amounts (return date
      in the period); gross_sales and returns are its two parts;
    - volume = quantity sold − quantity returned; cost = the same at unit cost;
      gross_profit = revenue − cost; gross_margin = gross_profit / revenue;
    - orders = distinct orders with a line; average_order_value = revenue / orders;
    - active_customers = distinct known customers with a line; new_customers = those of them whose
      first order ever (whole warehouse) falls in the period (both are not additive over segments);
    - revenue_per_customer = revenue / active_customers;
    - revenue_per_rep = revenue of orders carrying a rep / distinct reps with an order;
    - revenue_last_year = revenue of the same segment in the same period a year earlier (weeks and
      days: 52 weeks earlier); yoy_growth = revenue / revenue_last_year − 1; revenue_prev_period and
      pop_growth likewise against the previous period. A period cut by ``start`` or ``end`` is
      compared with the same cut of the earlier period (:func:`comparison_window`: year to date
      against last year to date); ``complete`` says whether the period lies wholly in [start, end];
    - target = target of the finest target level in ``by`` (rep_id > team > region) for the period,
      target_level names it; achievement_rate = revenue of that level's member in the period /
      target. With further dimensions in ``by`` the level's target and achievement repeat on each of
      its rows (targets are not split by channel or product).
    """
    by = _check_cube_args(grain, by)
    start, end = as_date(start), as_date(end)
    yoy, pop = _offset(grain, "yoy"), _offset(grain, "pop")
    # whole comparison periods: from the start of the period a year before the first one
    ext_start = (pd.Timestamp(period_start(start, grain)) - yoy).date()
    windows = {"ly": comparison_window(start, end, grain, "yoy"), "pp": comparison_window(start, end, grain, "pop")}
    raw = _dates(eng.execute(cube_expr(eng, ext_start, end, grain, by, price_bands, in_range_from=start,
                                       windows=windows)))
    keys = ["period", *by]
    cur = raw[raw["in_range"].astype(bool)].drop(columns=["in_range", "revenue_ly", "revenue_pp"]).copy()
    for name, win, off in (("revenue_last_year", "revenue_ly", yoy), ("revenue_prev_period", "revenue_pp", pop)):
        shifted = raw.groupby(keys, as_index=False, dropna=False)[win].sum().rename(columns={win: name})
        shifted["period"] = (pd.to_datetime(shifted["period"]) + off).dt.date
        cur = cur.merge(shifted, on=keys, how="left")
    for c in CUBE_MONEY[:-1] + ("rep_revenue", "revenue_last_year", "revenue_prev_period"):
        if c in cur.columns and c != "gross_profit":
            cur[c] = cur[c].astype("float64").round(2)
    cur["volume"] = cur["volume"].astype("float64").round(6)
    for c in ("orders", "active_customers", "new_customers", "reps"):
        cur[c] = cur[c].astype("int64")
    cur["gross_profit"] = (cur["revenue"] - cur["cost"]).round(2)
    cur["gross_margin"] = _ratio(cur["gross_profit"], cur["revenue"])
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
        lvl = cur.groupby(["period", level_dim], as_index=False)["revenue"].sum().rename(
            columns={"revenue": "level_revenue"})
        lvl = lvl.merge(tgt, on=["period", level_dim], how="left")
        lvl["achievement_rate"] = _ratio(lvl["level_revenue"].round(2), lvl["target"])
        cur = cur.merge(lvl[["period", level_dim, "target", "achievement_rate"]], on=["period", level_dim], how="left")
        cur["target_level"] = TARGET_LEVELS[level_dim]
        cols += ["target", "achievement_rate", "target_level"]
    return cur[cols].sort_values(keys).reset_index(drop=True)


def collection_rate(eng: Engine, start, end, grain: str = "month", by=()) -> pd.DataFrame:
    """Collection rate (回款率) of invoices due in each period.

    collection_rate = collected / invoiced, where invoiced = Σ amount of invoices with due_date in
    the period (within [start, end]) and collected = Σ over those invoices of the payments matched
    by invoice_id dated up to the period end (and ``end``), at most the invoice amount each.
    ``by``: channel, region, rep_id, team (through the invoice's order; unknown otherwise).
    Returns columns period, <by...>, invoices, invoiced, collected, collection_rate.
    """
    from ..errors import SalesLabError

    if grain not in GRAINS:
        raise SalesLabError(f"unknown time grain {grain!r}; allowed: {', '.join(GRAINS)}")
    by = (by,) if isinstance(by, str) else tuple(by or ())
    allowed = ("channel", "region", "rep_id", "team")
    if any(d not in allowed for d in by):
        raise SalesLabError(f"collection_rate can be cut by {', '.join(allowed)} (got {by!r})")
    start, end = as_date(start), as_date(end)
    inv = eng.table("invoices")
    inv = inv.filter(inv.due_date.between(start, end)).select("invoice_id", "order_id", "due_date", "amount")
    o = eng.table("orders").select("order_id", "channel", "region", "rep_id")
    inv = inv.left_join(o, inv.order_id == o.order_id).select(
        "invoice_id", "due_date", "amount", "channel", "region", "rep_id")
    if "team" in by:
        reps = eng.table("reps").select("rep_id", "team")
        inv = inv.left_join(reps, inv.rep_id == reps.rep_id).select(*inv.columns, team=reps.team)
    inv = inv.select("invoice_id", "amount", period=_period(inv.due_date, grain),
                     **{d: inv[d].cast("string").fill_null(UNKNOWN) for d in by})
    pay = eng.table("payments")
    pay = pay.filter(pay.invoice_id.notnull() & (pay.payment_date <= end)).select(
        pay_invoice_id=pay.invoice_id, pay_period=_period(pay.payment_date, grain), pay_amount=pay.amount)
    paid = (pay.join(inv.select("invoice_id", "period"), pay.pay_invoice_id == inv.invoice_id)
            .filter(lambda t: t.pay_period <= t.period)
            .group_by("invoice_id").aggregate(paid=lambda t: t.pay_amount.sum()))
    j = inv.left_join(paid, inv.invoice_id == paid.invoice_id).select(*inv.columns, paid=paid.paid.fill_null(0.0))
    collected = ibis.least(j.paid, j.amount)
    agg = j.group_by(["period", *by]).aggregate(
        invoices=j.invoice_id.nunique(), invoiced=j.amount.sum(), collected=collected.sum())
    df = _dates(eng.execute(agg))
    df["invoices"] = df["invoices"].astype("int64")
    df["invoiced"] = df["invoiced"].astype("float64").round(2)
    df["collected"] = df["collected"].astype("float64").round(2)
    df["collection_rate"] = _ratio(df["collected"], df["invoiced"])
    return df[["period", *by, "invoices", "invoiced", "collected", "collection_rate"]].sort_values(
        ["period", *by]).reset_index(drop=True)
