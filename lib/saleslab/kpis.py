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
import pandas as pd

from .engine import Engine


def _month(col):
    return col.truncate("M").cast("date")


def as_date(value) -> dt.date:
    """A date from a date or an ISO string (notebook parameters arrive as strings)."""
    return value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value))


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
