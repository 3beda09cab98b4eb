"""Product analytics (domain.md §4): stars, slow movers, BCG matrix, ABC classes, sell-through,
inventory turnover, price bands and penetration.

Sales, returns and cost come from :mod:`saleslab.facts` (the one definition of revenue), per
product; only per-product results are brought into pandas. Definitions used throughout:

- volume (销量) = units sold in the period − units returned (a return counts on its return date,
  or on its order's date with ``returns_basis="order_date"``, :class:`saleslab.facts.Params`);
- revenue (销售额) = Σ net_amount of the lines of orders dated in the period − Σ refunds counted
  in the period, 元, rounded to the cent before any ranking;
- cost of goods (销售成本) = Σ quantity × unit cost, less returned quantity × unit cost;
- gross margin (毛利率) = (revenue − cost) / revenue;
- price band (价格带) of a product = :func:`saleslab.facts.price_band` of its list price, with the
  run's ``price_band_edges`` (the same bands as the performance stage: ``<0, 0-200, …, ≥3000``);
- stock (库存) comes from the month-end ``inventory`` snapshots dated within the period, summed
  over warehouses; a product missing from a snapshot holds 0 units on that date.

Partial warehouses: the product master and the inventory snapshots are optional sources. Without
the master, products still have their sales (the product ids on the order lines) with an unknown
name and category, and an unknown cost (empty, not 0); stars need the unit costs, turnover needs
the master and the snapshots, slow movers and sell-through the snapshots, price bands the list
prices: those analyses raise :class:`~saleslab.errors.MissingSource` naming the table (the stage
says so in one line and goes on).

:func:`product_performance` is computed once per period; the analyses of that period take its
frame (``perf``) and the area's :class:`~saleslab.products.params.Params`, and their results
record the parameters they were computed with (:func:`saleslab.params.attach`).
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from .. import facts
from ..engine import Engine
from ..errors import InsufficientData, MissingSource, SalesLabError
from ..facts import Params as FactsParams
from ..params import attach
from ..periods import as_date
from .params import Params

#: Code of the category of a product missing from the product master.
UNKNOWN = "category_unknown"

#: The four BCG quadrants (codes; labels in saleslab/products/labels.py).
BCG_QUADRANTS = ("bcg_star", "bcg_cash_cow", "bcg_question_mark", "bcg_dog")

#: Default list-price band edges, 元: the facts layer's (one definition with the performance stage).
DEFAULT_PRICE_EDGES = facts.DEFAULT_PRICE_BANDS

_PERF_COLUMNS = ["product_id", "product_name", "category", "list_price", "unit_cost", "volume", "gross_sales",
                 "returns", "revenue", "cost", "gross_profit", "gross_margin", "orders", "buyers"]


def period_days(start, end) -> int:
    """Days in [start, end], both included."""
    return (as_date(end) - as_date(start)).days + 1


def _to_date(v) -> dt.date | None:
    if v is None:
        return None
    return v if isinstance(v, dt.date) and not isinstance(v, dt.datetime) else pd.Timestamp(v).date()


def _recorded(df: pd.DataFrame) -> dict:
    return dict(df.attrs.get("params", {}))


def _carry(out: pd.DataFrame, perf: pd.DataFrame, params: Params | None = None, **more) -> pd.DataFrame:
    """``out`` recording the parameters of ``perf`` (period, facts), then ``params`` and ``more``."""
    out.attrs["params"] = _recorded(perf)
    return attach(out, params, **more)


def _check_period(perf: pd.DataFrame, start, end) -> None:
    """A ``perf`` recorded for another period than [start, end] is a mistake of the caller."""
    rec = _recorded(perf)
    if "period_start" not in rec:
        return
    want = (str(as_date(start)), str(as_date(end)))
    got = (rec["period_start"], rec["period_end"])
    if got != want:
        raise SalesLabError(f"the product figures were computed for {got[0]} .. {got[1]}, not for {want[0]} .. "
                            f"{want[1]}: compute product_performance for the same period")


def _master(eng: Engine) -> pd.DataFrame:
    """The product master (:func:`saleslab.facts.products`, one row per product_id), in pandas."""
    return eng.execute(facts.products(eng)).sort_values("product_id").reset_index(drop=True)


def _sales_by_product(eng: Engine, start, end, facts_params: FactsParams | None = None):
    """Per product (Ibis, :func:`saleslab.facts.revenue_by_expr`): gross_sales, returns, volume,
    sales_cost, returns_cost, orders, buyers (distinct known customers with a sale line)."""
    fp = facts_params or FactsParams()
    m = facts.revenue_by_expr(eng, start, end, ["product_id"], fp.returns_basis)
    return m.select("product_id", "gross_sales", "returns", "volume", "sales_cost", "returns_cost", "orders",
                    buyers=m.active_customers)


def product_performance(eng: Engine, start, end, facts_params: FactsParams | None = None) -> pd.DataFrame:
    """Sales, returns, cost and margin per product in [start, end] (compute it once per period).

    Input: :func:`saleslab.facts.revenue_by_expr` by product_id (orders, order_lines, returns,
    products), :func:`saleslab.facts.products` (the deduplicated master).
    Returns: product_id, product_name, category, list_price, unit_cost, volume, gross_sales, returns,
    revenue, cost, gross_profit, gross_margin, orders, buyers — one row per product in the
    master (zeros when it did not sell) plus one per product sold but unknown to the master
    (category ``category_unknown``, no name); sorted by revenue (desc) then product_id.
    A product without a unit cost (unknown to the master, or none given) has an unknown cost:
    cost, gross_profit and gross_margin are empty (NaN), not computed from a cost of 0; without
    any master (a warehouse of order lines only) that holds for every product.
    Formula: revenue = gross_sales − returns; gross_margin = (revenue − cost) / revenue;
    volume = units sold − units returned; buyers = distinct customers who bought.
    The result records the period and ``facts_params`` (``df.attrs["params"]``).
    """
    fp = facts_params or FactsParams()
    eng.require("orders", "order_lines", needed_for="product performance")
    agg = eng.execute(_sales_by_product(eng, start, end, fp))
    df = _master(eng).merge(agg, on="product_id", how="outer")
    df["category"] = df["category"].fillna(UNKNOWN)
    for c in ("gross_sales", "returns", "volume", "sales_cost", "returns_cost", "orders", "buyers"):
        df[c] = df[c].fillna(0)
    df["volume"] = df["volume"].astype(float)
    df["gross_sales"] = df["gross_sales"].astype(float).round(2)
    df["returns"] = df["returns"].astype(float).round(2) + 0.0  # + 0.0: no "-0.0" where nothing was returned
    df["revenue"] = (df["gross_sales"] - df["returns"]).round(2)
    # no unit cost: the cost is unknown (facts counts it as 0, which would make a 100 % margin)
    df["cost"] = (df["sales_cost"] - df["returns_cost"]).astype(float).round(2).where(df["unit_cost"].notna())
    df["gross_profit"] = (df["revenue"] - df["cost"]).round(2)
    df["gross_margin"] = (df["gross_profit"] / df["revenue"]).where(df["revenue"] > 0).round(6)
    df["orders"] = df["orders"].astype("int64")
    df["buyers"] = df["buyers"].astype("int64")
    df = df.sort_values(["revenue", "product_id"], ascending=[False, True])
    out = df[_PERF_COLUMNS].reset_index(drop=True)
    return attach(out, None, period_start=str(as_date(start)), period_end=str(as_date(end)),
                  **fp.model_dump(mode="json"))


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


def _require_snapshots(eng: Engine, start, end, needed_for: str, *tables: str) -> None:
    """``inventory`` (and ``tables``) provided by a source, and at least one snapshot dated in
    [start, end]: :class:`MissingSource` / :class:`InsufficientData` otherwise."""
    eng.require("inventory", *tables, needed_for=needed_for)
    start, end = as_date(start), as_date(end)
    inv = eng.table("inventory")
    n = int(eng.execute(inv.filter(inv.snapshot_date.between(start, end)).count()))
    if n == 0:
        raise InsufficientData(f"no inventory snapshot is dated between {start} and {end}; {needed_for} needs "
                               "at least one", needed_for=needed_for)


def _quantile(values: pd.Series, q: float) -> float:
    return float(values.quantile(q)) if len(values) else float("nan")


def star_products(perf: pd.DataFrame, params: Params | None = None) -> pd.DataFrame:
    """Star products (明星产品): high volume and high gross margin.

    Input: :func:`product_performance` (volume, revenue, gross_profit, gross_margin).
    Returns: product_id, product_name, category, volume, revenue, gross_profit, gross_margin,
    volume_percentile, margin_percentile — the stars only, by revenue (desc), product_id.
    Formula: star ⇔ volume ≥ the ``params.star_volume_quantile`` quantile (0.8) and
    gross_margin ≥ the ``params.star_margin_quantile`` quantile (0.8), both taken over the
    products with positive volume and revenue; percentiles are the products' ranks in [0, 1].
    The result records ``params`` and those of ``perf``.
    Raises :class:`MissingSource` (products) when no product has a unit cost (no product master):
    without costs there is no gross margin to rank.
    """
    params = params or Params()
    if not perf["unit_cost"].notna().any():
        raise MissingSource("star products rank the gross margin, which needs the unit costs of the product "
                            "master", tables=("products",), needed_for="star products")
    sold = perf[(perf["volume"] > 0) & (perf["revenue"] > 0)].copy()
    v_cut = _quantile(sold["volume"], params.star_volume_quantile)
    m_cut = _quantile(sold["gross_margin"], params.star_margin_quantile)
    sold["volume_percentile"] = sold["volume"].rank(pct=True, method="max").round(4)
    sold["margin_percentile"] = sold["gross_margin"].rank(pct=True, method="max").round(4)
    stars = sold[(sold["volume"] >= v_cut) & (sold["gross_margin"] >= m_cut)]
    stars = stars.sort_values(["revenue", "product_id"], ascending=[False, True])
    out = stars[["product_id", "product_name", "category", "volume", "revenue", "gross_profit", "gross_margin",
                 "volume_percentile", "margin_percentile"]].reset_index(drop=True)
    return _carry(out, perf, params)


def inventory_turnover(eng: Engine, start, end, perf: pd.DataFrame, by: str = "product",
                       params: Params | None = None) -> pd.DataFrame:
    """Inventory turnover (库存周转率) and days of inventory (周转天数).

    Input: :func:`product_performance` of [start, end] (cost, unit_cost) and the ``inventory``
    snapshots dated in [start, end].
    Returns, ``by`` = ``product``: product_id, product_name, category, cost, avg_stock_units,
    closing_stock_units, avg_inventory_value, inventory_turnover, days_of_inventory, days_note;
    ``by`` = ``category``: category, cost, avg_inventory_value, inventory_turnover,
    days_of_inventory, days_note; ``by`` = ``all``: one row with category ``all``.
    Formula: avg_inventory_value = mean over the period's snapshots of Σ quantity × unit_cost;
    inventory_turnover = cost of goods sold / avg_inventory_value;
    days_of_inventory = period days / inventory_turnover, empty when not meaningful, days_note
    saying why: ``doi_no_sales`` (nothing sold) or ``doi_beyond_cap`` (more than
    ``params.inventory_days_cap`` days: practically no sales at the period's pace).
    Products neither sold nor stocked in the period are left out.
    Raises :class:`MissingSource` without inventory snapshots or product master (unit costs value
    the stock), :class:`InsufficientData` when no snapshot is dated in the period.
    """
    if by not in ("product", "category", "all"):
        raise SalesLabError(f"inventory turnover is by product, category or all (got {by!r})")
    _check_period(perf, start, end)
    _require_snapshots(eng, start, end, "inventory turnover", "products")
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
    params = params or Params()
    df = _add_turnover(df, period_days(start, end), params.inventory_days_cap)
    if by == "product":
        df = df.sort_values(["days_of_inventory", "inventory_turnover", "product_id"], ascending=[False, True, True],
                            na_position="first")
        out = df[["product_id", "product_name", "category", "cost", "avg_stock_units", "closing_stock_units",
                  "avg_inventory_value", "inventory_turnover", "days_of_inventory", "days_note"]].reset_index(drop=True)
    else:
        out = df[["category", "cost", "avg_inventory_value", "inventory_turnover",
                  "days_of_inventory", "days_note"]].reset_index(drop=True)
    return _carry(out, perf, params)


def _add_turnover(df: pd.DataFrame, days: int, cap: float | None = None) -> pd.DataFrame:
    """inventory_turnover, days_of_inventory (empty beyond ``cap`` or without sales) and days_note
    (``doi_no_sales``, ``doi_beyond_cap``, None) of a frame with cost and avg_inventory_value."""
    df = df.copy()
    df["cost"] = df["cost"].round(2)
    df["avg_inventory_value"] = df["avg_inventory_value"].round(2)
    turnover = (df["cost"] / df["avg_inventory_value"]).where(df["avg_inventory_value"] > 0)
    df["inventory_turnover"] = turnover.round(4)
    doi = (days / turnover).where(turnover > 0).round(1)
    beyond = doi > cap if cap is not None else pd.Series(False, index=df.index)
    no_sales = doi.isna() & (df["avg_inventory_value"] > 0)
    df["days_note"] = pd.Series(["doi_beyond_cap" if b else "doi_no_sales" if n else None
                                 for b, n in zip(beyond.fillna(False), no_sales)], index=df.index, dtype=object)
    df["days_of_inventory"] = doi.mask(beyond)
    return df


def slow_movers(eng: Engine, start, end, perf: pd.DataFrame, params: Params | None = None) -> pd.DataFrame:
    """Slow movers (滞销产品): low sales and high stock.

    Input: :func:`product_performance` of [start, end] and the ``inventory`` snapshots in the period.
    Returns: product_id, product_name, category, volume, revenue, avg_stock_units, closing_stock_units,
    avg_inventory_value, inventory_turnover, days_of_inventory, days_note — the slow movers only,
    slowest first (no sales, then beyond ``params.inventory_days_cap`` by turnover, then the
    longest days; days_of_inventory is empty in the first two, days_note says why, see
    :func:`inventory_turnover`).
    Formula: among SKUs in stock (quantity > 0 in a snapshot of the period), slow ⇔ volume ≤ the
    ``params.slow_volume_quantile`` quantile (0.25) and average stock units ≥ the
    ``params.slow_stock_quantile`` quantile (0.5) of those SKUs. The result records ``params``.
    Raises :class:`MissingSource` without inventory snapshots, :class:`InsufficientData` when no
    snapshot is dated in the period.
    """
    params = params or Params()
    _check_period(perf, start, end)
    _require_snapshots(eng, start, end, "slow movers")
    stock, _ = _stock_by_product(eng, start, end)
    df = stock[stock["in_stock"]].merge(perf, on="product_id", how="left")
    df["category"] = df["category"].fillna(UNKNOWN)
    for c in ("volume", "revenue", "cost"):
        df[c] = df[c].fillna(0.0)
    v_cut = _quantile(df["volume"], params.slow_volume_quantile)
    s_cut = _quantile(df["avg_stock_units"], params.slow_stock_quantile)
    df = df[(df["volume"] <= v_cut) & (df["avg_stock_units"] >= s_cut)].copy()
    df["avg_inventory_value"] = (df["avg_stock_units"] * df["unit_cost"].fillna(0)).round(2)
    df = _add_turnover(df, period_days(start, end), params.inventory_days_cap)
    df = df.sort_values(["days_of_inventory", "inventory_turnover", "product_id"], ascending=[False, True, True],
                        na_position="first")
    out = df[["product_id", "product_name", "category", "volume", "revenue", "avg_stock_units", "closing_stock_units",
              "avg_inventory_value", "inventory_turnover", "days_of_inventory", "days_note"]].reset_index(drop=True)
    return _carry(out, perf, params)


def sell_through_window(start, end, months: int) -> tuple[dt.date, dt.date]:
    """The sell-through window: the last ``months`` calendar months of [start, end] (the first day
    of the month ``months − 1`` before ``end``'s month, or ``start`` if later, to ``end``); 0: the
    whole period."""
    start, end = as_date(start), as_date(end)
    if int(months) <= 0:
        return start, end
    first = (pd.Timestamp(end).to_period("M") - (int(months) - 1)).start_time.date()
    return max(start, first), end


def sell_through_rate(eng: Engine, start, end, params: Params | None = None) -> pd.DataFrame:
    """Sell-through rate (动销率) per category and overall, over the last months of the period.

    Input: ``inventory`` snapshots, :func:`saleslab.facts.sales_lines`, the product master
    (:func:`saleslab.facts.products` for the category, ``products.launch_date``).
    Window: :func:`sell_through_window` — the last ``params.sell_through_months`` months of
    [start, end] (default 1: the period's last month; 0: the whole period. Over a long period
    nearly every SKU sells once, so the rate says little; the trade measures it monthly).
    Returns: category, skus_on_offer, skus_in_stock, skus_sold, sell_through_rate — one row per
    category, then the ``all`` row; records ``sell_through_from`` / ``sell_through_to``.
    Formula: SKUs on offer = SKUs in stock (quantity > 0 in a snapshot dated in the window) ∪ SKUs
    listed (in the product master, launched by the window's end or without a launch date) ∪ SKUs
    sold in the window; sell_through_rate = SKUs on offer with at least one unit sold in the
    window / SKUs on offer (so it is below 100 % as soon as a listed or stocked SKU does not sell).
    Categories come from the product master when there is one (``category_unknown`` otherwise).
    Raises :class:`MissingSource` without inventory snapshots, :class:`InsufficientData` when no
    snapshot is dated in the period.
    """
    params = params or Params()
    start, end = as_date(start), as_date(end)
    _require_snapshots(eng, start, end, "sell-through")
    lo, hi = sell_through_window(start, end, params.sell_through_months)
    inv = eng.table("inventory")
    inv = inv.filter(inv.snapshot_date.between(lo, hi) & (inv.quantity > 0))
    stocked = set(eng.execute(inv.select("product_id").distinct())["product_id"])
    s = facts.sales_lines(eng, lo, hi)
    sold = set(eng.execute(s.filter(s.quantity > 0).select("product_id").distinct())["product_id"])
    listed: set = set()
    if eng.has("products"):
        p = eng.table("products")
        p = p.filter(p.launch_date.isnull() | (p.launch_date <= hi))
        listed = set(eng.execute(p.select("product_id").distinct())["product_id"])
    ids = sorted((stocked | listed | sold) - {None})
    df = pd.DataFrame({"product_id": pd.Series(ids, dtype=object)})
    df["in_stock"] = df["product_id"].isin(stocked)
    df["sold"] = df["product_id"].isin(sold)
    cats = _master(eng)[["product_id", "category"]]
    df = df.merge(cats, on="product_id", how="left")
    df["category"] = df["category"].fillna(UNKNOWN)
    out = df.groupby("category", as_index=False).agg(skus_on_offer=("product_id", "count"),
                                                      skus_in_stock=("in_stock", "sum"), skus_sold=("sold", "sum"))
    out = out.sort_values("category").reset_index(drop=True)
    total = pd.DataFrame([{"category": "all", "skus_on_offer": len(df), "skus_in_stock": int(df["in_stock"].sum()),
                           "skus_sold": int(df["sold"].sum())}])
    out = pd.concat([out, total], ignore_index=True)
    for c in ("skus_on_offer", "skus_in_stock", "skus_sold"):
        out[c] = out[c].astype("int64")
    out["sell_through_rate"] = (out["skus_sold"] / out["skus_on_offer"]).where(out["skus_on_offer"] > 0).round(6)
    return attach(out, params, period_start=str(start), period_end=str(end), sell_through_from=str(lo),
                  sell_through_to=str(hi))


def abc_classes(perf: pd.DataFrame, params: Params | None = None) -> pd.DataFrame:
    """ABC / Pareto classes by cumulative revenue share.

    Input: :func:`product_performance` (product_id, product_name, category, revenue).
    Returns: revenue_rank, product_id, product_name, category, revenue, revenue_share, cumulative_share, abc_class —
    every product, by revenue (rounded to the cent, desc) then product_id.
    Formula: cumulative_share = running Σ revenue / Σ positive revenue; a product is A when the
    products ranked before it hold less than ``params.abc_a_share`` (0.8, so the product crossing
    80 % is A), B when they hold less than ``abc_a_share + abc_b_share`` (0.95), else C;
    products without positive revenue are C. The result records ``params``.
    """
    params = params or Params()
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
        a_cut = params.abc_a_share * total
        b_cut = (params.abc_a_share + params.abc_b_share) * total
        cls = np.where(before < a_cut, "A", np.where(before < b_cut, "B", "C"))
        df["abc_class"] = np.where(pos > 0, cls, "C")
    else:
        df["revenue_share"] = 0.0
        df["cumulative_share"] = 0.0
        df["abc_class"] = "C"
    df.insert(0, "revenue_rank", np.arange(1, len(df) + 1, dtype="int64"))
    out = df[["revenue_rank", "product_id", "product_name", "category", "revenue", "revenue_share",
              "cumulative_share", "abc_class"]]
    return _carry(out, perf, params)


def abc_summary(abc: pd.DataFrame) -> pd.DataFrame:
    """Products and revenue per ABC class from :func:`abc_classes`.

    Returns: abc_class, product_count, product_share, revenue, revenue_share (A, B, C).
    Formula: product_share = class products / products; revenue_share = class revenue / Σ positive revenue.
    """
    g = abc.groupby("abc_class").agg(product_count=("product_id", "count"), revenue=("revenue", "sum"))
    g = g.reindex(["A", "B", "C"], fill_value=0).reset_index()
    n, rev = g["product_count"].sum(), abc["revenue"].clip(lower=0).sum()
    g["product_count"] = g["product_count"].astype("int64")
    g["product_share"] = (g["product_count"] / n).round(6) if n else 0.0
    g["revenue"] = g["revenue"].round(2)
    g["revenue_share"] = (g["revenue"].clip(lower=0) / rev).round(6) if rev else 0.0
    out = g[["abc_class", "product_count", "product_share", "revenue", "revenue_share"]]
    return _carry(out, abc)


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


def bcg_matrix(eng: Engine, start, end, params: Params | None = None,
               facts_params: FactsParams | None = None) -> pd.DataFrame:
    """BCG growth–share matrix: 明星 star, 金牛 cash cow, 问题 question mark, 瘦狗 dog.

    Input: :func:`product_performance` for the current and previous windows (:func:`bcg_windows`:
    the last 12 months of the period vs the 12 months before).
    Returns: product_id, product_name, category, revenue, previous_revenue, revenue_growth, market_share,
    bcg_quadrant — products with positive revenue in the current window, by revenue, product_id.
    Formula: market_share = revenue / revenue of the largest product of its category
    (``params.bcg_share_basis="relative"``) or revenue / category revenue (``"category"``);
    revenue_growth = revenue / previous_revenue − 1 (empty for a product without previous revenue, which
    counts as high growth); high share ⇔ market_share ≥ ``params.bcg_share_threshold`` (0.5);
    high growth ⇔ revenue_growth ≥ ``params.bcg_growth_threshold`` (0.10); star = high/high,
    cash cow = high share/low growth, question mark = low share/high growth, dog = low/low.
    The result records ``params`` and ``facts_params``.
    """
    params = params or Params()
    (cs, ce), (ps, pe) = bcg_windows(start, end)
    cur = product_performance(eng, cs, ce, facts_params)
    prev = product_performance(eng, ps, pe, facts_params)[["product_id", "revenue"]].rename(
        columns={"revenue": "previous_revenue"})
    df = cur[cur["revenue"] > 0][["product_id", "product_name", "category", "revenue"]].merge(prev, on="product_id", how="left")
    df["previous_revenue"] = df["previous_revenue"].fillna(0.0)
    if params.bcg_share_basis == "relative":
        base = df.groupby("category")["revenue"].transform("max")
    else:
        base = df.groupby("category")["revenue"].transform("sum")
    df["market_share"] = (df["revenue"] / base).round(6)
    has_prev = df["previous_revenue"] > 0
    df["revenue_growth"] = (df["revenue"] / df["previous_revenue"] - 1).where(has_prev).round(6)
    high_share = df["market_share"] >= params.bcg_share_threshold
    high_growth = ~has_prev | (df["revenue_growth"] >= params.bcg_growth_threshold)
    df["bcg_quadrant"] = np.select(
        [high_share & high_growth, high_share & ~high_growth, ~high_share & high_growth],
        ["bcg_star", "bcg_cash_cow", "bcg_question_mark"], "bcg_dog")
    df = df.sort_values(["revenue", "product_id"], ascending=[False, True]).reset_index(drop=True)
    out = df[["product_id", "product_name", "category", "revenue", "previous_revenue", "revenue_growth",
              "market_share", "bcg_quadrant"]]
    return attach(out, params, period_start=str(as_date(start)), period_end=str(as_date(end)),
                  **(facts_params or FactsParams()).model_dump(mode="json"))


def bcg_summary(bcg: pd.DataFrame) -> pd.DataFrame:
    """Products and revenue per quadrant of :func:`bcg_matrix`.

    Returns: bcg_quadrant, product_count, revenue, revenue_share (star, cash cow, question mark, dog).
    Formula: revenue_share = quadrant revenue / Σ revenue.
    """
    g = bcg.groupby("bcg_quadrant").agg(product_count=("product_id", "count"), revenue=("revenue", "sum"))
    g = g.reindex(list(BCG_QUADRANTS), fill_value=0).reset_index()
    total = g["revenue"].sum()
    g["product_count"] = g["product_count"].astype("int64")
    g["revenue"] = g["revenue"].round(2)
    g["revenue_share"] = (g["revenue"] / total).round(6) if total else 0.0
    return _carry(g, bcg)


def _bands_of_products(eng: Engine, edges) -> pd.DataFrame:
    """product_id, price_band of every product of the master (:func:`saleslab.facts.price_band`)."""
    p = facts.products(eng)
    return eng.execute(p.select("product_id", price_band=facts.price_band(p.list_price, edges)))


def price_band_performance(eng: Engine, perf: pd.DataFrame, facts_params: FactsParams | None = None) -> pd.DataFrame:
    """Revenue, volume, margin and share per list-price band.

    Input: :func:`product_performance`; the band of each product from its list price
    (:func:`saleslab.facts.price_band` with ``facts_params.price_band_edges``, default
    ``0,200,500,1000,3000`` 元 — the same bands as the performance stage).
    Returns: price_band, band_lower, product_count, volume, revenue, gross_profit, gross_margin,
    revenue_share, volume_share — one row per band in edge order (``<0`` only when a product is
    priced below the first edge; the other bands also when empty), then ``unknown`` for products
    without a list price or missing from the master.
    Formula: band = [edge_i, edge_i+1) of list_price (the last band open above);
    band_lower = edge_i; revenue_share = band revenue / total revenue;
    gross_margin = band gross profit / band revenue (empty when no product of the band has a
    cost). The result records ``facts_params``.
    Raises :class:`MissingSource` without a product master (no list prices, no bands).
    """
    fp = facts_params or FactsParams()
    eng.require("products", needed_for="price bands")
    edges = facts.parse_price_bands(fp.price_band_edges)
    labels = facts.price_band_labels(edges)
    lowers = [np.nan, *edges]
    df = perf.merge(_bands_of_products(eng, edges), on="product_id", how="left")
    df["price_band"] = df["price_band"].where(df["price_band"].isin(labels), facts.UNKNOWN)
    grouped = df.groupby("price_band")
    g = grouped.agg(product_count=("product_id", "count"), volume=("volume", "sum"), revenue=("revenue", "sum"))
    g["gross_profit"] = grouped["gross_profit"].sum(min_count=1)  # unknown when no product of the band has a cost
    # edge order, not text order; the band below the first edge only when a product is in it
    order = labels if labels[0] in g.index else labels[1:]
    order = order + ([facts.UNKNOWN] if facts.UNKNOWN in g.index else [])
    g = g.reindex(order, fill_value=0).rename_axis("price_band").reset_index()
    g["band_lower"] = g["price_band"].map(dict(zip(labels, lowers))).astype(float)
    g["product_count"] = g["product_count"].astype("int64")
    g["volume"] = g["volume"].astype(float)
    g["revenue"] = g["revenue"].round(2)
    g["gross_profit"] = g["gross_profit"].round(2)
    g["gross_margin"] = (g["gross_profit"] / g["revenue"]).where(g["revenue"] > 0).round(6)
    rev, vol = g["revenue"].sum(), g["volume"].sum()
    g["revenue_share"] = (g["revenue"] / rev).round(6) if rev else np.nan
    g["volume_share"] = (g["volume"] / vol).round(6) if vol else np.nan
    out = g[["price_band", "band_lower", "product_count", "volume", "revenue", "gross_profit", "gross_margin",
             "revenue_share", "volume_share"]]
    return _carry(out, perf, None, **fp.model_dump(mode="json"))


def penetration(eng: Engine, start, end, perf: pd.DataFrame) -> pd.DataFrame:
    """Market penetration (市场渗透率) per product.

    Input: :func:`product_performance` of [start, end] (buyers); active customers of the period
    (:func:`saleslab.facts.revenue_by_expr` over all sales).
    Returns: product_id, product_name, category, buyers, active_customers, penetration — products with
    at least one known buyer, highest penetration first (then product_id).
    Formula: penetration = distinct customers who bought the product / distinct active customers
    (known customers with any order line in the period).
    """
    _check_period(perf, start, end)
    total = eng.execute(facts.revenue_by_expr(eng, start, end, []).select("active_customers"))
    active = int(total["active_customers"].fillna(0).iloc[0]) if len(total) else 0
    df = perf[perf["buyers"] > 0][["product_id", "product_name", "category", "buyers"]].copy()
    df["active_customers"] = active
    df["penetration"] = (df["buyers"] / active).round(6) if active else np.nan
    df = df.sort_values(["penetration", "product_id"], ascending=[False, True])
    return _carry(df.reset_index(drop=True), perf)


def top_bottom(perf: pd.DataFrame, params: Params | None = None, measure: str = "revenue") -> pd.DataFrame:
    """The ``params.product_top_n`` (10) best and worst sellers by ``measure`` among products that sold.

    Input: :func:`product_performance`. Returns: rank_group (``top_products`` | ``bottom_products``), product_id,
    product_name, category, and ``measure`` — top ones best first, then bottom ones worst last
    (a product is in one group only). The result records ``params``.
    """
    params = params or Params()
    n = params.product_top_n
    sold = perf[perf["volume"] > 0].sort_values([measure, "product_id"], ascending=[False, True])
    top = sold.head(n).assign(rank_group="top_products")
    bottom = sold.iloc[max(n, len(sold) - n):].assign(rank_group="bottom_products")
    out = pd.concat([top, bottom], ignore_index=True)
    return _carry(out[["rank_group", "product_id", "product_name", "category", measure]], perf, params)


def leading_rows(ranked: pd.DataFrame, params: Params | None = None) -> pd.DataFrame:
    """The first 2 × ``params.product_top_n`` (20) rows of a ranked product table
    (:func:`abc_classes`, :func:`penetration`), for display. The result records ``params``."""
    params = params or Params()
    return _carry(ranked.head(2 * params.product_top_n).copy(), ranked, params)


def headline_figures(stars: pd.DataFrame | None = None, slow: pd.DataFrame | None = None,
                     sell_through: pd.DataFrame | None = None, turnover_all: pd.DataFrame | None = None) -> dict:
    """The stage's headline figures: star_product_count (:func:`star_products`), slow_mover_count
    (:func:`slow_movers`), sell_through_rate (the ``all`` row of :func:`sell_through_rate`) and
    days_of_inventory, inventory_turnover (:func:`inventory_turnover` with ``by="all"``); None where
    undefined. Each figure comes from its own table: a table not given (its section could not be
    computed) gives only None, e.g. ``headline_figures(stars=stars)["star_product_count"]``."""
    def first(df, col):
        v = df[col].iloc[0] if df is not None and len(df) else None
        return None if v is None or pd.isna(v) else float(v)

    return {
        "star_product_count": int(len(stars)) if stars is not None else None,
        "slow_mover_count": int(len(slow)) if slow is not None else None,
        "sell_through_rate": (first(sell_through[sell_through["category"] == "all"], "sell_through_rate")
                              if sell_through is not None else None),
        "inventory_turnover": first(turnover_all, "inventory_turnover"),
        "days_of_inventory": first(turnover_all, "days_of_inventory"),
    }
