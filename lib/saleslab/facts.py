"""THE business facts every analysis area reads (domain.md §3), defined once, as Ibis expressions.

No area re-derives revenue, returns or cost: they aggregate these expressions. The rules:

- a **sale** is an order line, counted on its order's date: ``amount`` = ``net_amount`` (the line
  after its discounts), ``quantity``, ``cost`` = quantity × the product's unit cost (0 when the
  product master has no cost);
- a **return** is counted on its return date (``returns_basis: return_date``, the default) or on
  its original order's date (``order_date``), with a negative amount, quantity and cost, and is
  attributed to the original order's customer, channel, region and rep, and to its own product.
  Every return in the warehouse has its order there: ingestion quarantines the others
  (``return_order_unknown``), so no stage deducts a return that another drops;
- **revenue** (销售额) = Σ amount = sales − returns; **volume** (销量) = Σ quantity; **cost of goods**
  = Σ cost; gross profit (毛利) = revenue − cost; gross margin (毛利率) = gross profit / revenue;
- a **purchase** (for customer value models) is a customer's buying day; its value is the lines of
  that day's orders less the refunds of those orders dated up to the cut-off
  (:func:`customer_purchases_expr`).

Functions here return Ibis expressions (names end in ``_expr`` or say ``ibis.Table``); they
never execute anything.
"""

from __future__ import annotations

from typing import Literal

import ibis
from pydantic import Field, field_validator

from .engine import Engine
from .params import AreaParams
from .periods import as_date

ReturnsBasis = Literal["return_date", "order_date"]
RETURNS_BASES = ("return_date", "order_date")
#: Order attributes a sale and a return carry (a return: those of its original order).
ORDER_ATTRIBUTES = ("customer_id", "channel", "region", "rep_id", "store_id", "distributor_id", "campaign_id")
#: Shown for a missing dimension value (order without region, product not in the master, ...).
UNKNOWN = "unknown"
#: Default price-band edges on the list price, 元: <0, 0-200, 200-500, 500-1000, 1000-3000, ≥3000.
DEFAULT_PRICE_BANDS = (0, 200, 500, 1000, 3000)


class Params(AreaParams):
    """The definitions the domain leaves open (domain.md §3), one choice for every stage."""

    returns_basis: ReturnsBasis = Field(
        "return_date", description="a return counts on its return date (return_date) or on its order's date (order_date)")
    achievement_basis: Literal["net", "gross"] = Field(
        "net", description="target achievement measured on revenue net of returns (net) or gross sales (gross)")
    price_band_edges: str = Field(
        "0,200,500,1000,3000", description="list-price band edges in 元, comma-separated")

    @field_validator("price_band_edges")
    @classmethod
    def _edges(cls, v):
        parse_price_bands(v)
        return v


def parse_price_bands(edges) -> tuple[float, ...]:
    """Band edges from a sequence or a comma-separated string (``"0,200,500"``), strictly increasing."""
    from .errors import InvalidArgument

    given = edges if isinstance(edges, str) else ",".join(map(str, edges))
    if isinstance(edges, str):
        edges = [e for e in edges.replace("，", ",").split(",") if e.strip()]
    try:
        out = tuple(float(e) for e in edges)
    except (TypeError, ValueError):
        raise InvalidArgument(f"price band edges must be numbers, got {given[:80]!r}") from None
    if not out or any(b <= a for a, b in zip(out, out[1:])):
        raise InvalidArgument(f"price band edges must be strictly increasing numbers, got {given[:80]!r}")
    return out


def _num(v: float) -> str:
    return f"{v:g}"


def price_band_labels(edges=DEFAULT_PRICE_BANDS) -> list[str]:
    """Labels of the bands, lowest first: ``<0``, ``0-200``, ..., ``≥3000`` (the one definition)."""
    e = parse_price_bands(edges)
    return [f"<{_num(e[0])}"] + [f"{_num(a)}-{_num(b)}" for a, b in zip(e, e[1:])] + [f"≥{_num(e[-1])}"]


def price_band(list_price, edges=DEFAULT_PRICE_BANDS):
    """Ibis expression: the band of ``list_price`` (a band includes its lower edge); null stays null."""
    e = parse_price_bands(edges)
    labels = price_band_labels(e)
    branches = [(list_price < e[0], labels[0])]
    branches += [((list_price >= a) & (list_price < b), labels[i + 1]) for i, (a, b) in enumerate(zip(e, e[1:]))]
    branches.append((list_price >= e[-1], labels[-1]))
    return ibis.cases(*branches, else_=ibis.null("string"))


def products(eng: Engine) -> ibis.Table:
    """The product master, one row per product_id (the first by name when a master repeats one).

    Columns: product_id, product_name, category, list_price, unit_cost.
    """
    p = eng.table("products")
    p = p.select("product_id", product_name=p.name, category=p.category, list_price=p.list_price,
                 unit_cost=p.unit_cost)
    w = ibis.window(group_by="product_id", order_by=[p.product_name, p.category, p.list_price, p.unit_cost])
    return p.mutate(_n=ibis.row_number().over(w)).filter(lambda t: t._n == 0).drop("_n")


def sales_lines(eng: Engine, start, end) -> ibis.Table:
    """Sales: order lines of orders dated in [start, end] with their header and cost.

    Columns: order_id, order_date, month, <ORDER_ATTRIBUTES>, product_id, quantity, net_amount,
    cost (= quantity × unit_cost, 0 without a cost).
    """
    start, end = as_date(start), as_date(end)
    o = eng.table("orders")
    o = o.filter(o.order_date.between(start, end)).select("order_id", "order_date", *ORDER_ATTRIBUTES)
    ln = eng.table("order_lines").select("order_id", "product_id", "quantity", "net_amount")
    p = products(eng).select("product_id", "unit_cost")
    j = ln.join(o, "order_id").left_join(p, "product_id")
    return j.select(
        "order_id", "order_date", month=j.order_date.truncate("M").cast("date"),
        **{a: j[a] for a in ORDER_ATTRIBUTES}, product_id=j.product_id, quantity=j.quantity,
        net_amount=j.net_amount, cost=(j.quantity * j.unit_cost.fill_null(0)),
    )


def return_lines(eng: Engine, start, end, returns_basis: ReturnsBasis = "return_date") -> ibis.Table:
    """Returns counted in [start, end] (by ``returns_basis``), with their original order's attributes.

    Columns: return_id, order_id, date (the date the return counts on), return_date, order_date,
    <ORDER_ATTRIBUTES>, product_id, quantity, amount (both positive, as refunded), cost
    (= quantity × unit_cost).
    """
    if returns_basis not in RETURNS_BASES:
        from .errors import InvalidArgument

        raise InvalidArgument(f"returns_basis must be one of {', '.join(RETURNS_BASES)} (got {returns_basis!r})")
    start, end = as_date(start), as_date(end)
    r = eng.table("returns").select("return_id", "order_id", "product_id", "return_date", "quantity", "amount")
    o = eng.table("orders").select("order_id", "order_date", *ORDER_ATTRIBUTES)
    j = r.join(o, "order_id")
    day = j.return_date if returns_basis == "return_date" else j.order_date
    j = j.filter(day.between(start, end))
    p = products(eng).select("product_id", "unit_cost")
    j = j.left_join(p, "product_id")
    day = j.return_date if returns_basis == "return_date" else j.order_date
    return j.select(
        "return_id", "order_id", date=day, return_date=j.return_date, order_date=j.order_date,
        **{a: j[a] for a in ORDER_ATTRIBUTES}, product_id=j.product_id, quantity=j.quantity, amount=j.amount, cost=j.quantity * j.unit_cost.fill_null(0))


def movements_expr(eng: Engine, start, end, returns_basis: ReturnsBasis = "return_date") -> ibis.Table:
    """Sales and returns counted in [start, end], one signed row each: the table revenue is summed from.

    Columns: date (order date of a sale, the date a return counts on), is_sale, order_id,
    <ORDER_ATTRIBUTES>, product_id, quantity (±), amount (net_amount of a sale,
    −refund of a return), cost (±). revenue = Σ amount; volume = Σ quantity; cost of goods = Σ cost.
    """
    s = sales_lines(eng, start, end)
    sales = s.select(date=s.order_date, is_sale=ibis.literal(True), order_id=s.order_id,
                     **{a: s[a] for a in ORDER_ATTRIBUTES}, product_id=s.product_id,
                     quantity=s.quantity, amount=s.net_amount, cost=s.cost)
    r = return_lines(eng, start, end, returns_basis)
    rets = r.select(date=r.date, is_sale=ibis.literal(False), order_id=r.order_id,
                    **{a: r[a] for a in ORDER_ATTRIBUTES}, product_id=r.product_id, quantity=-r.quantity, amount=-r.amount, cost=-r.cost)
    return sales.union(rets.select(*sales.columns))


def revenue_by_expr(eng: Engine, start, end, keys, returns_basis: ReturnsBasis = "return_date") -> ibis.Table:
    """Revenue and its parts per ``keys`` (columns of :func:`movements_expr`), as one Ibis expression.

    Columns: <keys>, gross_sales (Σ sales), returns (Σ refunds, positive), revenue (= gross_sales −
    returns), volume, sales_cost, returns_cost, cost (= sales_cost − returns_cost), orders (distinct
    orders with a sale line), active_customers (distinct known customers with a sale line).
    """
    return revenue_of(movements_expr(eng, start, end, returns_basis), keys)


def revenue_of(m: ibis.Table, keys) -> ibis.Table:
    """The aggregation of :func:`revenue_by_expr` over ``m``: :func:`movements_expr` (possibly joined
    with attributes of its rows, such as a product's category) per ``keys`` (columns of ``m``). The
    one definition of the sums; :func:`revenue_by_expr` is this over :func:`movements_expr`."""
    keys = [keys] if isinstance(keys, str) else list(keys)
    zero = ibis.literal(0.0)
    null = ibis.null("string")
    agg = dict(
        gross_sales=ibis.ifelse(m.is_sale, m.amount, zero).sum(),
        returns=-ibis.ifelse(m.is_sale, zero, m.amount).sum(),
        revenue=m.amount.sum(),
        volume=m.quantity.sum(),
        sales_cost=ibis.ifelse(m.is_sale, m.cost, zero).sum(),
        returns_cost=-ibis.ifelse(m.is_sale, zero, m.cost).sum(),
        cost=m.cost.sum(),
        orders=ibis.ifelse(m.is_sale, m.order_id, null).nunique(),
        active_customers=ibis.ifelse(m.is_sale, m.customer_id, null).nunique(),
    )
    return m.group_by(keys).aggregate(**agg) if keys else m.aggregate(**agg)


def _cents(x):
    return (x * 100).round(0).cast("int64")


def customer_purchases_expr(eng: Engine, end) -> ibis.Table:
    """Purchases of known customers up to ``end``: one row per customer and buying day.

    Columns: customer_id, order_date, value (Σ net_amount of that day's orders − Σ refunds of those
    orders dated ≤ ``end``, 元 to the cent, summed in integer cents so every engine and run agrees),
    cost (Σ quantity × unit_cost of the lines − of the refunded quantities).
    """
    end = as_date(end)
    o = eng.table("orders")
    o = o.filter(o.customer_id.notnull() & (o.order_date <= end)).select("order_id", "customer_id", "order_date")
    ln = eng.table("order_lines").select("order_id", "product_id", "quantity", "net_amount")
    p = products(eng).select("product_id", "unit_cost")
    s = ln.join(o, "order_id").left_join(p, "product_id")
    days = s.group_by(["customer_id", "order_date"]).aggregate(
        gross=_cents(s.net_amount).sum(), gross_cost=_cents(s.quantity * s.unit_cost.fill_null(0)).sum())
    r = eng.table("returns")
    r = r.filter(r.return_date <= end).select("order_id", "product_id", "quantity", "amount")
    rj = r.join(o, "order_id").left_join(p, "product_id")
    rets = rj.group_by(["customer_id", "order_date"]).aggregate(
        refund=_cents(rj.amount).sum(), refund_cost=_cents(rj.quantity * rj.unit_cost.fill_null(0)).sum())
    j = days.left_join(rets, ["customer_id", "order_date"])
    return j.select(
        customer_id=j.customer_id, order_date=j.order_date,
        value=(j.gross - j.refund.fill_null(0)).cast("float64") / 100,
        cost=(j.gross_cost - j.refund_cost.fill_null(0)).cast("float64") / 100)


def customer_purchase_totals_expr(eng: Engine, start, end) -> ibis.Table:
    """Σ value and Σ cost of :func:`customer_purchases_expr` up to ``end`` over its buying days in
    [start, end] (``start`` None: all history), as one row: value_cents, cost_cents (integer cents).

    The same figures without grouping every customer × day first (at 100 M order lines that
    grouping under a global sum ran out of DuckDB's 2 GB cap while the per-customer aggregates on it
    fit): Σ of the lines of known customers' orders dated in [start, end], less the refunds dated ≤
    ``end`` of those orders whose customer bought on that day (a buying day is a day with a line, so
    the refund of an order without lines counts only when the customer has another order with lines
    that day — as in :func:`customer_purchases_expr`).
    """
    end = as_date(end)
    o = eng.table("orders")
    keep = o.customer_id.notnull() & (o.order_date <= end)
    if start is not None:
        keep &= o.order_date >= as_date(start)
    o = o.filter(keep).select("order_id", "customer_id", "order_date")
    ln = eng.table("order_lines").select("order_id", "product_id", "quantity", "net_amount")
    p = products(eng).select("product_id", "unit_cost")
    s = ln.join(o, "order_id").left_join(p, "product_id")
    gross = s.aggregate(gross=_cents(s.net_amount).sum(),
                        gross_cost=_cents(s.quantity * s.unit_cost.fill_null(0)).sum())
    r = eng.table("returns")
    r = r.filter(r.return_date <= end).select("order_id", "product_id", "quantity", "amount")
    rj = r.join(o, "order_id").left_join(p, "product_id")
    rets = rj.group_by(["customer_id", "order_date"]).aggregate(
        refund=_cents(rj.amount).sum(), refund_cost=_cents(rj.quantity * rj.unit_cost.fill_null(0)).sum())
    # the refunded customer days that are buying days: the lines are joined to the (few) refunded days
    k = rets.select(k_customer=rets.customer_id, k_date=rets.order_date)
    bl = ln.select("order_id").join(o, "order_id")
    bought = bl.join(k, [bl.customer_id == k.k_customer, bl.order_date == k.k_date]).select(
        "customer_id", "order_date").distinct()
    rets = rets.semi_join(bought, ["customer_id", "order_date"])
    refunds = rets.aggregate(refund=rets.refund.sum(), refund_cost=rets.refund_cost.sum())
    t = gross.cross_join(refunds)
    return t.select(value_cents=t.gross.fill_null(0) - t.refund.fill_null(0),
                    cost_cents=t.gross_cost.fill_null(0) - t.refund_cost.fill_null(0))


def invoices_due_expr(eng: Engine, start, end, grain: str | None = None, on_time_only: bool = False) -> ibis.Table:
    """Invoices due in [start, end] with what was collected on them (回款): the one collection rule.

    collected = Σ payments matched by invoice_id, dated ≤ ``end`` — and, with ``grain`` (day, week,
    month, quarter, year), ≤ the end of the invoice's own due period (so a month's collection rate
    does not count next month's payments); with ``on_time_only``, ≤ the invoice's due date — at
    most the invoice amount. collection_rate = Σ collected / Σ amount.

    Columns: invoice_id, order_id, due_date, period (the due date's ``grain`` period; the due date
    without one), amount, collected, distributor_id (the invoice's), channel, region, rep_id,
    customer_id (of the invoice's order; the invoice's own customer when the order is unknown).
    """
    from .periods import GRAINS

    start, end = as_date(start), as_date(end)
    inv = eng.table("invoices")
    inv = inv.filter(inv.due_date.between(start, end)).select(
        "invoice_id", "order_id", "due_date", "amount", inv_distributor_id=inv.distributor_id,
        inv_customer_id=inv.customer_id)
    period = inv.due_date if grain in (None, "day") else inv.due_date.truncate(GRAINS[grain]).cast("date")
    inv = inv.mutate(period=period)
    pay = eng.table("payments")
    pay = pay.filter(pay.invoice_id.notnull() & (pay.payment_date <= end)).select(
        pay_invoice_id=pay.invoice_id, payment_date=pay.payment_date, pay_amount=pay.amount)
    j = pay.join(inv.select(k_invoice_id=inv.invoice_id, k_due=inv.due_date, k_period=inv.period),
                 pay.pay_invoice_id == inv.invoice_id)
    if on_time_only:
        j = j.filter(j.payment_date <= j.k_due)
    if grain not in (None, "day"):
        j = j.filter(j.payment_date.truncate(GRAINS[grain]).cast("date") <= j.k_period)
    elif grain == "day":
        j = j.filter(j.payment_date <= j.k_period)
    paid = j.group_by(paid_invoice_id=j.pay_invoice_id).aggregate(paid=j.pay_amount.sum())
    o = eng.table("orders").select(o_order_id="order_id", channel="channel", region="region", rep_id="rep_id",
                                   o_customer_id="customer_id")
    k = inv.left_join(paid, inv.invoice_id == paid.paid_invoice_id).left_join(o, inv.order_id == o.o_order_id)
    return k.select("invoice_id", "order_id", "due_date", "period", "amount",
                    collected=ibis.least(k.paid.fill_null(0.0), k.amount), distributor_id=k.inv_distributor_id,
                    channel=k.channel, region=k.region, rep_id=k.rep_id,
                    customer_id=ibis.coalesce(k.o_customer_id, k.inv_customer_id))
