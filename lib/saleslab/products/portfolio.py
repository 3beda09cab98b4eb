"""Product analytics (domain.md §4): stars, slow movers, BCG matrix, ABC classes, sell-through,
inventory turnover, price bands and penetration.

Order lines are scanned as Ibis expressions (DuckDB or PySpark) and only per-product results
are brought into pandas. Definitions used throughout, consistent with :mod:`saleslab.performance`:

- volume (销量) = units sold in the period − units returned in the period;
- revenue (销售额) = Σ net_amount of lines whose order date is in the period − Σ refunds whose
  return date is in the period, 元, rounded to the cent before any ranking;
- cost of goods (销售成本) = Σ quantity × unit cost, less returned quantity × unit cost;
- gross margin (毛利率) = (revenue − cost) / revenue;
- stock (库存) comes from the month-end ``inventory`` snapshots dated within the period, summed
  over warehouses; a product missing from a snapshot holds 0 units on that date.

Every eng-level function has the shape ``f(eng, start, end, ...thresholds) -> pandas.DataFrame``;
the thresholds are parameters with the defaults stated in the docstrings.
"""

from __future__ import annotations

import datetime as dt

import ibis
import numpy as np
import pandas as pd

from ..engine import Engine
from ..performance.kpis import as_date, sales_lines

#: Code of the category / price band of a product missing from the product master.
UNKNOWN = "category_unknown"

#: The four BCG quadrants (codes; labels in report/labels/products.py).
BCG_QUADRANTS = ("bcg_star", "bcg_cash_cow", "bcg_question_mark", "bcg_dog")

#: Default list-price band edges, 元 (bands are [edge_i, edge_i+1), the last one open).
DEFAULT_PRICE_EDGES = (0, 200, 500, 1000, 3000)  # same default as the performance stage

_PERF_COLUMNS = ["product_id", "product_name", "category", "list_price", "unit_cost", "volume", "gross_sales",
                 "returns", "revenue", "cost", "gross_profit", "gross_margin", "orders", "buyers"]


def period_days(start, end) -> int:
    """Days in [start, end], both included."""
    return (as_date(end) - as_date(start)).days + 1


def _scalar(eng: Engine, expr):
    v = eng.execute(expr)
    return None if v is None or (not isinstance(v, str) and pd.isna(v)) else v


def _to_date(v) -> dt.date | None:
    if v is None:
        return None
    return v if isinstance(v, dt.date) and not isinstance(v, dt.datetime) else pd.Timestamp(v).date()


def _master(eng: Engine) -> pd.DataFrame:
    """The product master (a dimension table, small): one row per product_id."""
    p = eng.table("products")
    df = eng.execute(p.select("product_id", product_name=p.name, category=p.category, list_price=p.list_price,
                              unit_cost=p.unit_cost))
    # the warehouse is not de-duplicated yet: keep one row per product (deterministically)
    return df.sort_values(["product_id", "product_name"]).drop_duplicates("product_id").reset_index(drop=True)


def _sales_by_product(eng: Engine, start, end) -> ibis.Table:
    """Per product: units_sold, gross_sales, sales_cost, orders, buyers, units_returned, returns,
    returns_cost (Ibis; sales by order date, returns by return date)."""
    start, end = as_date(start), as_date(end)
    s = sales_lines(eng, start, end)
    sales = s.group_by("product_id").aggregate(
        units_sold=s.quantity.sum(), gross_sales=s.net_amount.sum(), sales_cost=s.cost.sum(),
        orders=s.order_id.nunique(), buyers=s.customer_id.nunique())
    r = eng.table("returns")
    p = eng.table("products").select(cost_product_id="product_id", unit_cost="unit_cost")
    r = r.filter(r.return_date.between(start, end))
    r = r.left_join(p, r.product_id == p.cost_product_id)
    rets = r.group_by(ret_product_id=r.product_id).aggregate(
        units_returned=r.quantity.sum(), returns=r.amount.sum(),
        returns_cost=(r.quantity * r.unit_cost.fill_null(0)).sum())
    j = sales.outer_join(rets, sales.product_id == rets.ret_product_id)
    return j.select(
        product_id=ibis.coalesce(j.product_id, j.ret_product_id),
        units_sold=j.units_sold.fill_null(0), gross_sales=j.gross_sales.fill_null(0),
        sales_cost=j.sales_cost.fill_null(0), orders=j.orders.fill_null(0), buyers=j.buyers.fill_null(0),
        units_returned=j.units_returned.fill_null(0), returns=j.returns.fill_null(0),
        returns_cost=j.returns_cost.fill_null(0))


def product_performance(eng: Engine, start, end) -> pd.DataFrame:
    """Sales, returns, cost and margin per product in [start, end].

    Input: ``orders``, ``order_lines``, ``returns``, ``products``.
    Returns: product_id, product_name, category, list_price, unit_cost, volume, gross_sales, returns,
    revenue, cost, gross_profit, gross_margin, orders, buyers — one row per product in the
    master (zeros when it did not sell) plus one per product sold but unknown to the master
    (category ``category_unknown``); sorted by revenue (desc) then product_id.
    Formula: revenue = gross_sales − returns; gross_margin = (revenue − cost) / revenue;
    volume = units sold − units returned; buyers = distinct customers who bought.
    """
    agg = eng.execute(_sales_by_product(eng, start, end))
    df = _master(eng).merge(agg, on="product_id", how="outer")
    df["category"] = df["category"].fillna(UNKNOWN)
    for c in ("units_sold", "gross_sales", "sales_cost", "orders", "buyers", "units_returned", "returns",
              "returns_cost"):
        df[c] = df[c].fillna(0)
    df["volume"] = (df["units_sold"] - df["units_returned"]).astype(float)
    df["gross_sales"] = df["gross_sales"].round(2)
    df["returns"] = df["returns"].round(2)
    df["revenue"] = (df["gross_sales"] - df["returns"]).round(2)
    df["cost"] = (df["sales_cost"] - df["returns_cost"]).round(2)
    df["gross_profit"] = (df["revenue"] - df["cost"]).round(2)
    df["gross_margin"] = (df["gross_profit"] / df["revenue"]).where(df["revenue"] > 0).round(6)
    df["orders"] = df["orders"].astype("int64")
    df["buyers"] = df["buyers"].astype("int64")
    df = df.sort_values(["revenue", "product_id"], ascending=[False, True])
    return df[_PERF_COLUMNS].reset_index(drop=True)


def _stock_by_product(eng: Engine, start, end) -> tuple[pd.DataFrame, int]:
    """Average and closing stock per product over the snapshots dated in [start, end].

    Returns (frame with product_id, avg_stock_units, closing_stock_units, in_stock, number of
    snapshot dates in the period)."""
    start, end = as_date(start), as_date(end)
    inv = eng.table("inventory")
    inv = inv.filter(inv.snapshot_date.between(start, end)).select("snapshot_date", "product_id", "quantity")
    snaps = eng.execute(inv.aggregate(n=inv.snapshot_date.nunique(), last=inv.snapshot_date.max()))
    n_snap = int(snaps["n"].iloc[0] or 0) if len(snaps) else 0
    cols = ["product_id", "avg_stock_units", "closing_stock_units", "in_stock"]
    if n_snap == 0:
        return pd.DataFrame(columns=cols), 0
    last = _to_date(snaps["last"].iloc[0])
    per = inv.group_by("product_id").aggregate(
        stock_units=inv.quantity.sum(),
        closing_stock_units=(inv.snapshot_date == last).ifelse(inv.quantity, 0).sum(),
        in_stock=(inv.quantity > 0).cast("int64").max())
    df = eng.execute(per)
    df["avg_stock_units"] = (df["stock_units"] / n_snap).round(4)
    df["closing_stock_units"] = df["closing_stock_units"].astype(float)
    df["in_stock"] = df["in_stock"].fillna(0).astype(bool)
    return df[cols], n_snap


def _quantile(values: pd.Series, q: float) -> float:
    return float(values.quantile(q)) if len(values) else float("nan")


def star_products(eng: Engine, start, end, star_volume_quantile: float = 0.8,
                  star_margin_quantile: float = 0.8) -> pd.DataFrame:
    """Star products (明星产品): high volume and high gross margin.

    Input: :func:`product_performance`.
    Returns: product_id, product_name, category, volume, revenue, gross_profit, gross_margin,
    volume_percentile, margin_percentile — the stars only, by revenue (desc), product_id.
    Formula: star ⇔ volume ≥ the ``star_volume_quantile`` quantile (default 0.8) and
    gross_margin ≥ the ``star_margin_quantile`` quantile (default 0.8), both taken over the
    products with positive volume and revenue; percentiles are the products' ranks in [0, 1].
    """
    return classify_stars(product_performance(eng, start, end), star_volume_quantile, star_margin_quantile)


def classify_stars(perf: pd.DataFrame, star_volume_quantile: float = 0.8,
                   star_margin_quantile: float = 0.8) -> pd.DataFrame:
    """:func:`star_products` on an already computed :func:`product_performance` table."""
    sold = perf[(perf["volume"] > 0) & (perf["revenue"] > 0)].copy()
    v_cut = _quantile(sold["volume"], star_volume_quantile)
    m_cut = _quantile(sold["gross_margin"], star_margin_quantile)
    sold["volume_percentile"] = sold["volume"].rank(pct=True, method="max").round(4)
    sold["margin_percentile"] = sold["gross_margin"].rank(pct=True, method="max").round(4)
    stars = sold[(sold["volume"] >= v_cut) & (sold["gross_margin"] >= m_cut)]
    stars = stars.sort_values(["revenue", "product_id"], ascending=[False, True])
    return stars[["product_id", "product_name", "category", "volume", "revenue", "gross_profit", "gross_margin",
                  "volume_percentile", "margin_percentile"]].reset_index(drop=True)


def inventory_turnover(eng: Engine, start, end, by: str = "product") -> pd.DataFrame:
    """Inventory turnover (库存周转率) and days of inventory (周转天数).

    Input: :func:`product_performance` (cost of goods) and ``inventory`` snapshots in the period.
    Returns, ``by`` = ``product``: product_id, product_name, category, cost, avg_stock_units,
    closing_stock_units, avg_inventory_value, inventory_turnover, days_of_inventory;
    ``by`` = ``category``: category, cost, avg_inventory_value, inventory_turnover,
    days_of_inventory; ``by`` = ``all``: one row with category ``all``.
    Formula: avg_inventory_value = mean over the period's snapshots of Σ quantity × unit_cost;
    inventory_turnover = cost of goods sold / avg_inventory_value;
    days_of_inventory = period days / inventory_turnover (empty when nothing sold).
    Products neither sold nor stocked in the period are left out.
    """
    if by not in ("product", "category", "all"):
        raise ValueError(f"by must be product, category or all (got {by!r})")
    perf = product_performance(eng, start, end)
    stock, _ = _stock_by_product(eng, start, end)
    df = perf.merge(stock, on="product_id", how="left")
    df["avg_stock_units"] = df["avg_stock_units"].fillna(0.0)
    df["closing_stock_units"] = df["closing_stock_units"].fillna(0.0)
    df["avg_inventory_value"] = (df["avg_stock_units"] * df["unit_cost"].fillna(0)).round(2)
    df = df[(df["cost"] != 0) | (df["avg_inventory_value"] > 0)]
    if by == "category":
        df = df.groupby("category", as_index=False)[["cost", "avg_inventory_value"]].sum()
    elif by == "all":
        df = pd.DataFrame([{"category": "all", "cost": df["cost"].sum(),
                            "avg_inventory_value": df["avg_inventory_value"].sum()}])
    df = _add_turnover(df, period_days(start, end))
    if by == "product":
        df = df.sort_values(["days_of_inventory", "product_id"], ascending=[False, True], na_position="first")
        return df[["product_id", "product_name", "category", "cost", "avg_stock_units", "closing_stock_units",
                   "avg_inventory_value", "inventory_turnover", "days_of_inventory"]].reset_index(drop=True)
    return df[["category", "cost", "avg_inventory_value", "inventory_turnover",
               "days_of_inventory"]].reset_index(drop=True)


def _add_turnover(df: pd.DataFrame, days: int) -> pd.DataFrame:
    df = df.copy()
    df["cost"] = df["cost"].round(2)
    df["avg_inventory_value"] = df["avg_inventory_value"].round(2)
    turnover = (df["cost"] / df["avg_inventory_value"]).where(df["avg_inventory_value"] > 0)
    df["inventory_turnover"] = turnover.round(4)
    df["days_of_inventory"] = (days / turnover).where(turnover > 0).round(1)
    return df


def slow_movers(eng: Engine, start, end, slow_volume_quantile: float = 0.25,
                slow_stock_quantile: float = 0.5) -> pd.DataFrame:
    """Slow movers (滞销产品): low sales and high stock.

    Input: :func:`product_performance` and the ``inventory`` snapshots in the period.
    Returns: product_id, product_name, category, volume, revenue, avg_stock_units, closing_stock_units,
    avg_inventory_value, inventory_turnover, days_of_inventory — the slow movers only, longest
    days of inventory first (no sales at all first).
    Formula: among SKUs in stock (quantity > 0 in a snapshot of the period), slow ⇔ volume ≤ the
    ``slow_volume_quantile`` quantile (default 0.25) and average stock units ≥ the
    ``slow_stock_quantile`` quantile (default 0.5) of those SKUs.
    """
    perf = product_performance(eng, start, end)
    stock, _ = _stock_by_product(eng, start, end)
    df = stock[stock["in_stock"]].merge(perf, on="product_id", how="left")
    df["category"] = df["category"].fillna(UNKNOWN)
    for c in ("volume", "revenue", "cost"):
        df[c] = df[c].fillna(0.0)
    v_cut = _quantile(df["volume"], slow_volume_quantile)
    s_cut = _quantile(df["avg_stock_units"], slow_stock_quantile)
    df = df[(df["volume"] <= v_cut) & (df["avg_stock_units"] >= s_cut)].copy()
    df["avg_inventory_value"] = (df["avg_stock_units"] * df["unit_cost"].fillna(0)).round(2)
    df = _add_turnover(df, period_days(start, end))
    df = df.sort_values(["days_of_inventory", "product_id"], ascending=[False, True], na_position="first")
    return df[["product_id", "product_name", "category", "volume", "revenue", "avg_stock_units", "closing_stock_units",
               "avg_inventory_value", "inventory_turnover", "days_of_inventory"]].reset_index(drop=True)


def sell_through_rate(eng: Engine, start, end) -> pd.DataFrame:
    """Sell-through rate (动销率) per category and overall.

    Input: ``inventory`` snapshots in the period, order lines in the period, ``products``.
    Returns: category, skus_in_stock, skus_sold, sell_through_rate — one row per category, then
    the ``all`` row.
    Formula: sell_through_rate = SKUs in stock with at least one unit sold in the period / SKUs in
    stock (quantity > 0 in a snapshot dated in the period).
    """
    start, end = as_date(start), as_date(end)
    inv = eng.table("inventory")
    inv = inv.filter(inv.snapshot_date.between(start, end) & (inv.quantity > 0))
    stocked = inv.select("product_id").distinct()
    s = sales_lines(eng, start, end)
    sold = s.filter(s.quantity > 0).select(sold_product_id="product_id").distinct()
    j = stocked.left_join(sold, stocked.product_id == sold.sold_product_id)
    df = eng.execute(j.select("product_id", sold=j.sold_product_id.notnull()))
    cats = _master(eng)[["product_id", "category"]]
    df = df.merge(cats, on="product_id", how="left")
    df["category"] = df["category"].fillna(UNKNOWN)
    out = df.groupby("category", as_index=False).agg(skus_in_stock=("product_id", "count"),
                                                      skus_sold=("sold", "sum"))
    out = out.sort_values("category").reset_index(drop=True)
    total = pd.DataFrame([{"category": "all", "skus_in_stock": len(df), "skus_sold": int(df["sold"].sum())}])
    out = pd.concat([out, total], ignore_index=True)
    out["skus_in_stock"] = out["skus_in_stock"].astype("int64")
    out["skus_sold"] = out["skus_sold"].astype("int64")
    out["sell_through_rate"] = (out["skus_sold"] / out["skus_in_stock"]).where(out["skus_in_stock"] > 0).round(6)
    return out


def abc_classes(eng: Engine, start, end, abc_a_share: float = 0.8, abc_b_share: float = 0.15) -> pd.DataFrame:
    """ABC / Pareto classes by cumulative revenue share.

    Input: :func:`product_performance`.
    Returns: revenue_rank, product_id, product_name, category, revenue, revenue_share, cumulative_share, abc_class —
    every product, by revenue (rounded to the cent, desc) then product_id.
    Formula: cumulative_share = running Σ revenue / Σ positive revenue; a product is A when the
    products ranked before it hold less than ``abc_a_share`` (default 0.8, so the product crossing
    80 % is A), B when they hold less than ``abc_a_share + abc_b_share`` (default 0.95), else C;
    products without positive revenue are C.
    """
    return classify_abc(product_performance(eng, start, end), abc_a_share, abc_b_share)


def classify_abc(perf: pd.DataFrame, abc_a_share: float = 0.8, abc_b_share: float = 0.15) -> pd.DataFrame:
    """:func:`abc_classes` on an already computed :func:`product_performance` table."""
    df = perf[["product_id", "product_name", "category", "revenue"]].copy()
    # integer cents: exact running sums, identical on every engine
    cents = np.rint(df["revenue"].to_numpy(dtype=float) * 100).astype("int64")
    df["revenue"] = cents / 100
    df = df.sort_values(["revenue", "product_id"], ascending=[False, True]).reset_index(drop=True)
    pos = np.where(df["revenue"].to_numpy() > 0, np.rint(df["revenue"].to_numpy() * 100), 0).astype("int64")
    total = int(pos.sum())
    running = np.cumsum(pos)
    before = running - pos
    if total > 0:
        df["revenue_share"] = np.round(pos / total, 6)
        df["cumulative_share"] = np.round(running / total, 6)
        a_cut = abc_a_share * total
        b_cut = (abc_a_share + abc_b_share) * total
        cls = np.where(before < a_cut, "A", np.where(before < b_cut, "B", "C"))
        df["abc_class"] = np.where(pos > 0, cls, "C")
    else:
        df["revenue_share"] = 0.0
        df["cumulative_share"] = 0.0
        df["abc_class"] = "C"
    df.insert(0, "revenue_rank", np.arange(1, len(df) + 1, dtype="int64"))
    return df[["revenue_rank", "product_id", "product_name", "category", "revenue", "revenue_share", "cumulative_share",
               "abc_class"]]


def abc_summary(abc: pd.DataFrame) -> pd.DataFrame:
    """Products and revenue per ABC class from :func:`abc_classes`.

    Returns: abc_class, product_count, product_share, revenue, revenue_share (A, B, C).
    """
    g = abc.groupby("abc_class").agg(product_count=("product_id", "count"), revenue=("revenue", "sum"))
    g = g.reindex(["A", "B", "C"], fill_value=0).reset_index()
    n, rev = g["product_count"].sum(), abc["revenue"].clip(lower=0).sum()
    g["product_count"] = g["product_count"].astype("int64")
    g["product_share"] = (g["product_count"] / n).round(6) if n else 0.0
    g["revenue"] = g["revenue"].round(2)
    g["revenue_share"] = (g["revenue"].clip(lower=0) / rev).round(6) if rev else 0.0
    return g[["abc_class", "product_count", "product_share", "revenue", "revenue_share"]]


def bcg_windows(start, end) -> tuple[tuple[dt.date, dt.date], tuple[dt.date, dt.date]]:
    """The current and previous windows of :func:`bcg_matrix`.

    Current = the last 12 months of [start, end] (the whole period when shorter); previous = the
    same window one year earlier (同比).
    """
    start, end = as_date(start), as_date(end)
    year_before_end = _shift_year(end, -1)
    cur_start = max(start, year_before_end + dt.timedelta(days=1))
    return (cur_start, end), (_shift_year(cur_start, -1), year_before_end)


def _shift_year(d: dt.date, years: int) -> dt.date:
    try:
        return d.replace(year=d.year + years)
    except ValueError:  # 29 February
        return d.replace(year=d.year + years, day=28)


def bcg_matrix(eng: Engine, start, end, bcg_share_threshold: float = 0.5, bcg_growth_threshold: float = 0.1,
               bcg_share_basis: str = "relative") -> pd.DataFrame:
    """BCG growth–share matrix: 明星 star, 金牛 cash cow, 问题 question mark, 瘦狗 dog.

    Input: :func:`product_performance` for the current and previous windows (:func:`bcg_windows`:
    the last 12 months of the period vs the 12 months before).
    Returns: product_id, product_name, category, revenue, previous_revenue, revenue_growth, market_share,
    bcg_quadrant — products with positive revenue in the current window, by revenue, product_id.
    Formula: market_share = revenue / revenue of the largest product of its category
    (``bcg_share_basis="relative"``, default) or revenue / category revenue (``"category"``);
    revenue_growth = revenue / previous_revenue − 1 (empty for a product without previous revenue, which
    counts as high growth); high share ⇔ market_share ≥ ``bcg_share_threshold`` (default 0.5);
    high growth ⇔ revenue_growth ≥ ``bcg_growth_threshold`` (default 0.10); star = high/high,
    cash cow = high share/low growth, question mark = low share/high growth, dog = low/low.
    """
    if bcg_share_basis not in ("relative", "category"):
        raise ValueError(f"bcg_share_basis must be relative or category (got {bcg_share_basis!r})")
    (cs, ce), (ps, pe) = bcg_windows(start, end)
    cur = product_performance(eng, cs, ce)
    prev = product_performance(eng, ps, pe)[["product_id", "revenue"]].rename(columns={"revenue": "previous_revenue"})
    df = cur[cur["revenue"] > 0][["product_id", "product_name", "category", "revenue"]].merge(prev, on="product_id", how="left")
    df["previous_revenue"] = df["previous_revenue"].fillna(0.0)
    if bcg_share_basis == "relative":
        base = df.groupby("category")["revenue"].transform("max")
    else:
        base = df.groupby("category")["revenue"].transform("sum")
    df["market_share"] = (df["revenue"] / base).round(6)
    has_prev = df["previous_revenue"] > 0
    df["revenue_growth"] = (df["revenue"] / df["previous_revenue"] - 1).where(has_prev).round(6)
    high_share = df["market_share"] >= bcg_share_threshold
    high_growth = ~has_prev | (df["revenue_growth"] >= bcg_growth_threshold)
    df["bcg_quadrant"] = np.select(
        [high_share & high_growth, high_share & ~high_growth, ~high_share & high_growth],
        ["bcg_star", "bcg_cash_cow", "bcg_question_mark"], "bcg_dog")
    df = df.sort_values(["revenue", "product_id"], ascending=[False, True]).reset_index(drop=True)
    return df[["product_id", "product_name", "category", "revenue", "previous_revenue", "revenue_growth", "market_share",
               "bcg_quadrant"]]


def bcg_summary(bcg: pd.DataFrame) -> pd.DataFrame:
    """Products and revenue per quadrant of :func:`bcg_matrix`.

    Returns: bcg_quadrant, product_count, revenue, revenue_share (star, cash cow, question mark, dog).
    """
    g = bcg.groupby("bcg_quadrant").agg(product_count=("product_id", "count"), revenue=("revenue", "sum"))
    g = g.reindex(list(BCG_QUADRANTS), fill_value=0).reset_index()
    total = g["revenue"].sum()
    g["product_count"] = g["product_count"].astype("int64")
    g["revenue"] = g["revenue"].round(2)
    g["revenue_share"] = (g["revenue"] / total).round(6) if total else 0.0
    return g


def parse_edges(edges) -> list[float]:
    """Price-band edges from a list or a comma-separated string (``"0,100,300"``), ascending."""
    if isinstance(edges, str):
        vals = [float(x) for x in edges.split(",") if x.strip()]
    else:
        vals = [float(x) for x in edges]
    if not vals or any(b <= a for a, b in zip(vals, vals[1:])):
        raise ValueError(f"price band edges must be strictly ascending numbers (got {edges!r})")
    return vals


def band_label(lo: float, hi: float | None) -> str:
    """``"100–300"`` for [100, 300), ``"≥2000"`` for the open last band."""
    return f"≥{_num(lo)}" if hi is None else f"{_num(lo)}–{_num(hi)}"


def _num(v: float) -> str:
    return f"{v:,.0f}" if float(v).is_integer() else f"{v:,.2f}"


def price_band_performance(eng: Engine, start, end, price_band_edges=DEFAULT_PRICE_EDGES) -> pd.DataFrame:
    """Revenue, volume, margin and share per list-price band.

    Input: :func:`product_performance` (list price from the product master).
    Returns: price_band, band_lower, product_count, volume, revenue, gross_profit, gross_margin,
    revenue_share, volume_share — one row per band (in price order, empty bands kept), then
    ``category_unknown`` for products without a list price.
    Formula: band = [edge_i, edge_i+1) of list_price (the last band open above; ``price_band_edges``
    default 0,200,500,1000,3000 元); revenue_share = band revenue / total revenue;
    gross_margin = band gross profit / band revenue.
    """
    edges = parse_edges(price_band_edges)
    perf = product_performance(eng, start, end)
    bounds = edges + [np.inf]
    idx = pd.cut(perf["list_price"], bins=bounds, right=False, labels=False)
    labels = [band_label(lo, None if np.isinf(hi) else hi) for lo, hi in zip(bounds, bounds[1:])]
    perf = perf.assign(band=idx)
    g = perf.groupby("band").agg(product_count=("product_id", "count"), volume=("volume", "sum"),
                                 revenue=("revenue", "sum"), gross_profit=("gross_profit", "sum"))
    g = g.reindex(range(len(labels)), fill_value=0)
    g["price_band"] = labels
    g["band_lower"] = edges
    unknown = perf[perf["band"].isna()]
    if len(unknown):
        g.loc[len(labels)] = {"product_count": len(unknown), "volume": unknown["volume"].sum(),
                              "revenue": unknown["revenue"].sum(), "gross_profit": unknown["gross_profit"].sum(),
                              "price_band": UNKNOWN, "band_lower": np.nan}
    g = g.reset_index(drop=True)
    g["product_count"] = g["product_count"].astype("int64")
    g["revenue"] = g["revenue"].round(2)
    g["gross_profit"] = g["gross_profit"].round(2)
    g["gross_margin"] = (g["gross_profit"] / g["revenue"]).where(g["revenue"] > 0).round(6)
    rev, vol = g["revenue"].sum(), g["volume"].sum()
    g["revenue_share"] = (g["revenue"] / rev).round(6) if rev else np.nan
    g["volume_share"] = (g["volume"] / vol).round(6) if vol else np.nan
    return g[["price_band", "band_lower", "product_count", "volume", "revenue", "gross_profit", "gross_margin",
              "revenue_share", "volume_share"]]


def penetration(eng: Engine, start, end) -> pd.DataFrame:
    """Market penetration (市场渗透率) per product.

    Input: order lines in the period (:func:`saleslab.performance.sales_lines`), ``products``.
    Returns: product_id, product_name, category, buyers, active_customers, penetration — products with
    at least one known buyer, highest penetration first (then product_id).
    Formula: penetration = distinct customers who bought the product / distinct active customers
    (customers with any order line in the period, as :func:`saleslab.performance.active_customers`).
    """
    s = sales_lines(eng, start, end)
    active = int(_scalar(eng, s.customer_id.nunique()) or 0)
    perf = product_performance(eng, start, end)
    df = perf[perf["buyers"] > 0][["product_id", "product_name", "category", "buyers"]].copy()
    df["active_customers"] = active
    df["penetration"] = (df["buyers"] / active).round(6) if active else np.nan
    df = df.sort_values(["penetration", "product_id"], ascending=[False, True])
    return df.reset_index(drop=True)


def top_bottom(perf: pd.DataFrame, n: int = 10, measure: str = "revenue") -> pd.DataFrame:
    """The ``n`` best and ``n`` worst sellers by ``measure`` among products that sold.

    Input: :func:`product_performance`. Returns: rank_group (``top_products`` | ``bottom_products``), product_id, name,
    category, and ``measure`` — top ones best first, then bottom ones worst last.
    """
    sold = perf[perf["volume"] > 0].sort_values([measure, "product_id"], ascending=[False, True])
    top = sold.head(n).assign(rank_group="top_products")
    bottom = sold.iloc[max(n, len(sold) - n):].assign(rank_group="bottom_products")
    out = pd.concat([top, bottom], ignore_index=True)
    return out[["rank_group", "product_id", "product_name", "category", measure]]


def headline_figures(stars: pd.DataFrame, slow: pd.DataFrame, sell_through: pd.DataFrame,
                     turnover_all: pd.DataFrame) -> dict:
    """The stage's headline figures: star_product_count, slow_mover_count, sell_through_rate
    (the ``all`` row of :func:`sell_through_rate`) and days_of_inventory, inventory_turnover
    (:func:`inventory_turnover` with ``by="all"``); None where undefined."""
    def first(df, col):
        v = df[col].iloc[0] if len(df) else None
        return None if v is None or pd.isna(v) else float(v)

    return {
        "star_product_count": int(len(stars)),
        "slow_mover_count": int(len(slow)),
        "sell_through_rate": first(sell_through[sell_through["category"] == "all"], "sell_through_rate"),
        "inventory_turnover": first(turnover_all, "inventory_turnover"),
        "days_of_inventory": first(turnover_all, "days_of_inventory"),
    }
