"""Product analytics (saleslab.products) on a hand-made warehouse (DuckDB and PySpark) and on the small demo."""

import datetime as dt
import json
import re
from pathlib import Path

import matplotlib
import numpy as np
import pandas as pd
import pytest

import handmade
from saleslab import products
from saleslab.errors import SalesLabError
from saleslab.facts import Params as FactsParams
from saleslab.facts import price_band_labels
from saleslab.params import used
from saleslab.performance.kpis import kpi_cube
from saleslab.products import charts as charts_products, story as narrative_products

matplotlib.use("Agg")
CJK = re.compile(r"[\u3400-\u9fff]")
ENGLISH_PHRASE = re.compile(r"[A-Za-z]+(?:\s+[A-Za-z]+){2,}")

MAPS = {
    "orders.yaml": handmade.ORDERS,
    "products.yaml": handmade.PRODUCTS,
    "customers.yaml": handmade.CUSTOMERS,
    "returns.yaml": handmade.RETURNS,
    "inventory.yaml": handmade.source_yaml("inventory.csv", "inventory", {"snapshot_date": "date", "product_id": "sku",
                                                                          "warehouse": "wh", "quantity": "qty"}),
}

# Period 2024 (366 days), previous year 2023.
# 2024 per product: P1 15 units x10 = 150, one returned (-10, -6 cost) -> volume 14, revenue 140, cost 84, margin 0.4;
# P2 2x50 + 1x40 = 140, cost 60, margin 4/7; P3 1x200, cost 100; P4 1x1000, cost 500; P7 1x100, cost 50 (new in 2024);
# P5 never sells. Total revenue 1580; buyers: P1 C1,C2; P2 C1,C3; P3 C2; P4 C1; P7 C3; 3 active customers.
FILES = {
    "orders.csv": "order,date,cust,channel,region,sku,qty,price\n"
                  "O1,2024-01-10,C1,direct,华东,P1,10,10\n"
                  "O1,2024-01-10,C1,direct,华东,P2,2,50\n"
                  "O2,2024-02-10,C2,online,华南,P1,5,10\n"
                  "O2,2024-02-10,C2,online,华南,P3,1,200\n"
                  "O3,2024-03-10,C1,direct,华东,P4,1,1000\n"
                  "O4,2024-04-10,C3,online,华南,P2,1,40\n"
                  "O4,2024-04-10,C3,online,华南,P7,1,100\n"
                  "O5,2023-03-01,C1,direct,华东,P1,10,10\n"
                  "O5,2023-03-01,C1,direct,华东,P3,2,200\n"
                  "O5,2023-03-01,C1,direct,华东,P4,1,1000\n"
                  "O6,2023-05-01,C2,online,华南,P2,1,50\n",
    "products.csv": "sku,name,cat,price,cost\n"
                    "P1,甲,x,10,6\nP2,乙,x,50,20\nP3,丙,y,200,100\nP4,丁,y,1000,500\nP5,戊,y,20,10\nP7,庚,y,100,50\n",
    "customers.csv": "id,name\nC1,一\nC2,二\nC3,三\n",
    "returns.csv": "id,order,sku,date,qty,amount\nR1,O2,P1,2024-02-20,1,10\n",
    # two snapshots in 2024 (one before); P2 holds no stock in 2024; P6 is unknown to the product master
    "inventory.csv": "date,sku,wh,qty\n"
                     "2023-12-31,P2,W1,100\n"
                     "2024-06-30,P1,W1,10\n2024-06-30,P1,W2,10\n2024-06-30,P2,W1,0\n"
                     "2024-06-30,P4,W1,2\n2024-06-30,P5,W1,50\n"
                     "2024-12-31,P1,W1,20\n2024-12-31,P2,W1,0\n2024-12-31,P3,W1,4\n2024-12-31,P4,W1,2\n"
                     "2024-12-31,P5,W1,50\n2024-12-31,P6,W1,5\n",
}

S, E = "2024-01-01", "2024-12-31"


@pytest.fixture(scope="module")
def hand_warehouse(tmp_path_factory) -> Path:
    return handmade.build_warehouse(tmp_path_factory.mktemp("hand_products"), FILES, MAPS)


def by_id(df):
    return df.set_index("product_id")


@pytest.fixture(scope="module")
def perf(eng):
    return products.product_performance(eng, S, E)


def test_product_performance_nets_returns_and_keeps_unsold_products(perf):
    p = by_id(perf)
    assert list(p.index) == ["P4", "P3", "P1", "P2", "P7", "P5"]  # revenue desc, ties by product_id
    assert p.loc["P1", ["volume", "gross_sales", "returns", "revenue", "cost", "gross_profit"]].tolist() == \
        [14.0, 150.0, 10.0, 140.0, 84.0, 56.0]
    assert p.loc["P1", "gross_margin"] == pytest.approx(0.4)
    assert p.loc["P2", "revenue"] == 140.0 and p.loc["P2", "gross_margin"] == pytest.approx(4 / 7, abs=1e-6)
    assert p.loc["P5", "revenue"] == 0 and np.isnan(p.loc["P5", "gross_margin"])
    assert p.loc["P1", "buyers"] == 2 and p.loc["P1", "orders"] == 2 and p.loc["P4", "buyers"] == 1
    assert p["revenue"].sum() == pytest.approx(1580.0)


def test_star_products_need_high_volume_and_high_margin(perf):
    # volume 0.6-quantile of [1, 1, 1, 3, 14] = 1.8 -> P1, P2; margin 0.6-quantile = 0.5 -> P2 (P1 has 0.4)
    stars = products.star_products(perf, products.Params(star_volume_quantile=0.6, star_margin_quantile=0.6))
    assert stars["product_id"].tolist() == ["P2"]
    assert stars.loc[0, "volume_percentile"] == pytest.approx(0.8)
    assert stars.attrs["params"]["star_volume_quantile"] == 0.6
    assert stars.attrs["params"]["returns_basis"] == "return_date"  # carried from perf


def test_slow_movers_have_low_sales_and_high_stock(eng, perf):
    # in stock: P1 (14 units sold, avg 20), P3 (1, 2), P4 (1, 2), P5 (0, 50), P6 (0, 2.5; not in the master)
    slow = products.slow_movers(eng, S, E, perf)  # volume <= 0, avg stock >= median 2.5
    assert sorted(slow["product_id"]) == ["P5", "P6"]
    slow = products.slow_movers(eng, S, E, perf, products.Params(slow_stock_quantile=0.6))  # stock >= 9.5
    assert slow["product_id"].tolist() == ["P5"]
    row = slow.iloc[0]
    assert row["avg_stock_units"] == 50 and row["closing_stock_units"] == 50 and row["avg_inventory_value"] == 500
    assert row["inventory_turnover"] == 0 and np.isnan(row["days_of_inventory"])  # no sales: no finite days


def test_sell_through_counts_sold_skus_among_skus_on_offer_in_the_window(eng):
    # whole period 2024: on offer = in stock {P1, P3, P4, P5, P6} ∪ listed {P1, P2, P3, P4, P5, P7}
    # ∪ sold {P1, P2, P3, P4, P7} = 7 SKUs (P2 holds 0 units but is listed; P7 sold without stock);
    # sold 5: x 2/2, y 3/4 (P5 never sells), unknown 0/1 (P6, not in the master)
    whole = products.sell_through_rate(eng, S, E, products.Params(sell_through_months=0)).set_index("category")
    assert whole.loc["all", ["skus_on_offer", "skus_in_stock", "skus_sold"]].tolist() == [7, 5, 5]
    assert whole.loc["all", "sell_through_rate"] == pytest.approx(5 / 7, abs=1e-6)
    assert whole.loc["x", "sell_through_rate"] == 1.0
    assert whole.loc["y", "sell_through_rate"] == pytest.approx(0.75)
    assert whole.loc["category_unknown", "sell_through_rate"] == 0.0
    # default: the period's last month (December 2024): the same 7 on offer, nothing sold -> 0 %
    dec = products.sell_through_rate(eng, S, E).set_index("category")
    assert used(dec, "sell_through_from") == "2024-12-01" and used(dec, "sell_through_months") == 1
    assert dec.loc["all", ["skus_on_offer", "skus_sold", "sell_through_rate"]].tolist() == [7, 0, 0.0]
    # last 10 months (2024-03-01 ..): sold P4 (03-10), P2 and P7 (04-10) -> 3 / 7; x 1/2, y 2/4
    ten = products.sell_through_rate(eng, S, E, products.Params(sell_through_months=10)).set_index("category")
    assert ten.loc["all", ["skus_on_offer", "skus_sold"]].tolist() == [7, 3]
    assert ten.loc["x", "sell_through_rate"] == 0.5 and ten.loc["y", "sell_through_rate"] == 0.5


def test_sell_through_window_is_the_last_months_of_the_period():
    d = dt.date
    assert products.sell_through_window(S, E, 1) == (d(2024, 12, 1), d(2024, 12, 31))
    assert products.sell_through_window(S, E, 3) == (d(2024, 10, 1), d(2024, 12, 31))
    assert products.sell_through_window(S, E, 0) == (d(2024, 1, 1), d(2024, 12, 31))
    assert products.sell_through_window(S, E, 24) == (d(2024, 1, 1), d(2024, 12, 31))  # not before the period
    assert products.sell_through_window("2024-01-01", "2024-03-15", 1) == (d(2024, 3, 1), d(2024, 3, 15))


def test_days_of_inventory_beyond_the_cap_or_without_sales_are_empty_with_the_reason(eng, perf):
    # P1 522.9 days, P3 and P4 732, P5 in stock without sales; a cap of 700 days drops P3 and P4
    t = by_id(products.inventory_turnover(eng, S, E, perf, params=products.Params(inventory_days_cap=700)))
    assert t.loc["P1", "days_of_inventory"] == pytest.approx(522.9) and t.loc["P1", "days_note"] is None
    for pid in ("P3", "P4"):
        assert np.isnan(t.loc[pid, "days_of_inventory"]) and t.loc[pid, "days_note"] == "doi_beyond_cap"
        assert t.loc[pid, "inventory_turnover"] == 0.5  # the turnover itself stays
    assert np.isnan(t.loc["P5", "days_of_inventory"]) and t.loc["P5", "days_note"] == "doi_no_sales"
    assert used(t, "inventory_days_cap") == 700
    # the default cap (3650 days) keeps them
    assert by_id(products.inventory_turnover(eng, S, E, perf)).loc["P3", "days_of_inventory"] == 732.0
    # slow movers: beyond the cap is empty too, the no-sales product comes first, then the capped
    # ones by turnover; the story says "practically no sales" instead of a huge number of days
    slow = products.slow_movers(eng, S, E, perf, products.Params(slow_volume_quantile=0.9, slow_stock_quantile=0.1,
                                                                 inventory_days_cap=700))
    # P6 (not in the master: no cost, no inventory value, no turnover) and P5 (no sales) first
    assert sorted(slow["product_id"].tolist()[:2]) == ["P5", "P6"] and slow["product_id"].iloc[2] in ("P3", "P4")
    assert slow.set_index("product_id").loc["P6", "days_note"] is None
    assert slow.set_index("product_id").loc["P3", "days_note"] == "doi_beyond_cap"
    one = slow[slow["product_id"] == "P3"].reset_index(drop=True)
    for lang in ("zh-CN", "en"):
        text = narrative_products.slow_text(one, lang)
        assert "732" not in text and ("2 年" in text if lang == "zh-CN" else "2 years" in text)


def test_inventory_turnover_is_cost_of_goods_over_average_inventory_value(eng, perf):
    t = by_id(products.inventory_turnover(eng, S, E, perf))
    # P1: cost 84 / (avg 20 units x 6) = 0.7 -> 366 / 0.7 days; P3: 100 / (2 x 100); P4: 500 / (2 x 500)
    assert t.loc["P1", "avg_inventory_value"] == 120 and t.loc["P1", "inventory_turnover"] == pytest.approx(0.7)
    assert t.loc["P1", "days_of_inventory"] == pytest.approx(522.9)
    assert t.loc["P3", "inventory_turnover"] == 0.5 and t.loc["P3", "days_of_inventory"] == 732.0
    assert t.loc["P4", "days_of_inventory"] == 732.0
    assert np.isnan(t.loc["P2", "inventory_turnover"])  # sold without stock
    assert "P6" not in t.index  # no cost, no inventory value
    cat = products.inventory_turnover(eng, S, E, perf, by="category").set_index("category")
    assert cat.loc["x", "inventory_turnover"] == pytest.approx(1.2) and cat.loc["x", "days_of_inventory"] == 305.0
    assert cat.loc["y", "days_of_inventory"] == pytest.approx(957.2)  # 366 x 1700 / 650
    overall = products.inventory_turnover(eng, S, E, perf, by="all").iloc[0]
    assert overall["cost"] == 794 and overall["avg_inventory_value"] == 1820
    assert overall["inventory_turnover"] == pytest.approx(0.4363) and overall["days_of_inventory"] == pytest.approx(838.9)


def test_analyses_of_a_period_refuse_figures_of_another_period(eng, perf):
    other = products.product_performance(eng, "2024-01-01", "2024-06-30")
    for call in (lambda: products.slow_movers(eng, S, E, other), lambda: products.penetration(eng, S, E, other),
                 lambda: products.inventory_turnover(eng, S, E, other)):
        with pytest.raises(SalesLabError, match="2024-01-01 .. 2024-06-30"):
            call()
    with pytest.raises(SalesLabError, match="product, category or all"):
        products.inventory_turnover(eng, S, E, perf, by="region")


def test_abc_classes_break_ties_by_product_id(perf):
    abc = products.abc_classes(perf)
    assert abc["product_id"].tolist() == ["P4", "P3", "P1", "P2", "P7", "P5"]
    # cumulative 1000, 1200, 1340, 1480, 1580 of 1580: P1 starts at 75.9 % (A), its twin P2 at 84.8 % (B)
    assert abc["abc_class"].tolist() == ["A", "A", "A", "B", "B", "C"]
    assert abc["cumulative_share"].tolist()[:3] == pytest.approx([1000 / 1580, 1200 / 1580, 1340 / 1580], abs=1e-6)
    assert abc["revenue_rank"].tolist() == [1, 2, 3, 4, 5, 6]
    summary = products.abc_summary(abc).set_index("abc_class")
    assert summary["product_count"].tolist() == [3, 2, 1]
    assert summary.loc["A", "revenue_share"] == pytest.approx(1340 / 1580, abs=1e-6)


def test_abc_boundaries_on_exact_cents():
    perf = pd.DataFrame({"product_id": ["a", "b", "c", "d"], "product_name": list("abcd"), "category": "x",
                         "revenue": [80.0, 15.0, 4.999, 0.001]})
    abc = products.abc_classes(perf)
    # d rounds to 0.00: no revenue, class C; c starts at exactly 95 % -> C; b starts at exactly 80 % -> B
    assert abc["abc_class"].tolist() == ["A", "B", "C", "C"]
    assert abc["revenue"].tolist() == [80.0, 15.0, 5.0, 0.0]


def test_bcg_quadrants_from_relative_share_and_growth(eng):
    assert products.bcg_windows(S, E) == ((dt.date(2024, 1, 1), dt.date(2024, 12, 31)),
                                          (dt.date(2023, 1, 1), dt.date(2023, 12, 31)))
    b = by_id(products.bcg_matrix(eng, S, E))
    assert "P5" not in b.index  # no revenue, no share
    # x: P1 = P2 = 140 (share 1); y: P4 1000 (1), P3 200 (0.2), P7 100 (0.1)
    assert b["market_share"].to_dict() == pytest.approx({"P4": 1.0, "P3": 0.2, "P1": 1.0, "P2": 1.0, "P7": 0.1})
    assert b.loc["P1", "revenue_growth"] == pytest.approx(0.4) and b.loc["P2", "revenue_growth"] == pytest.approx(1.8)
    assert np.isnan(b.loc["P7", "revenue_growth"])  # new: no previous revenue, counts as high growth
    assert b["bcg_quadrant"].to_dict() == {"P4": "bcg_cash_cow", "P3": "bcg_dog", "P1": "bcg_star",
                                          "P2": "bcg_star", "P7": "bcg_question_mark"}
    cat = by_id(products.bcg_matrix(eng, S, E, products.Params(bcg_share_threshold=0.5, bcg_share_basis="category")))
    assert cat.loc["P4", "market_share"] == pytest.approx(1000 / 1300, abs=1e-6)
    assert cat.loc["P1", "bcg_quadrant"] == "bcg_star"
    s = products.bcg_summary(products.bcg_matrix(eng, S, E)).set_index("bcg_quadrant")
    assert s["product_count"].tolist() == [2, 1, 1, 1]


def test_bcg_window_is_the_last_twelve_months_or_the_same_period_a_year_earlier():
    assert products.bcg_windows("2023-01-01", "2025-12-31") == (
        (dt.date(2025, 1, 1), dt.date(2025, 12, 31)), (dt.date(2024, 1, 1), dt.date(2024, 12, 31)))
    assert products.bcg_windows("2025-04-01", "2025-06-30") == (
        (dt.date(2025, 4, 1), dt.date(2025, 6, 30)), (dt.date(2024, 4, 1), dt.date(2024, 6, 30)))


def test_price_bands_from_list_price(eng, perf):
    bands = products.price_band_performance(eng, perf, FactsParams(price_band_edges="0,100,500")).set_index("price_band")
    assert list(bands.index) == ["0-100", "100-500", "≥500"]  # no product below 0: no "<0" row
    assert bands["product_count"].tolist() == [3, 2, 1]  # P1 P2 P5 | P3 P7 | P4
    assert bands["revenue"].tolist() == [280.0, 300.0, 1000.0]
    assert bands["volume"].tolist() == [17.0, 2.0, 1.0]
    assert bands.loc["0-100", "gross_margin"] == pytest.approx(136 / 280, abs=1e-6)
    assert bands["revenue_share"].tolist() == pytest.approx([280 / 1580, 300 / 1580, 1000 / 1580], abs=1e-6)
    assert bands["volume_share"].tolist() == pytest.approx([0.85, 0.1, 0.05])
    assert bands["band_lower"].tolist() == [0, 100, 500]
    assert bands.attrs["params"]["price_band_edges"] == "0,100,500"


def test_price_bands_follow_edge_order_not_text_order_and_the_shared_labels(eng, perf):
    bands = products.price_band_performance(eng, perf, FactsParams(price_band_edges="50,100,1000"))
    # <50: P1 P5; 50-100: P2; 100-1000: P3 P7; >=1000: P4 (as text, "100-1000" would sort first)
    assert bands["price_band"].tolist() == price_band_labels("50,100,1000") == ["<50", "50-100", "100-1000", "≥1000"]
    assert bands["revenue"].tolist() == [140.0, 140.0, 300.0, 1000.0]
    default = products.price_band_performance(eng, perf)
    assert default["price_band"].tolist() == ["0-200", "200-500", "500-1000", "1000-3000", "≥3000"]
    fig = charts_products.price_band_chart(bands, "en")
    fig.canvas.draw()
    assert [tk.get_text() for tk in fig.axes[0].get_xticklabels()] == ["<50", "50-100", "100-1000", "≥1000"]
    matplotlib.pyplot.close(fig)


def test_price_band_revenue_agrees_with_the_performance_stage(eng, perf):
    fp = FactsParams(price_band_edges="0,100,500")
    bands = products.price_band_performance(eng, perf, fp).set_index("price_band")
    cube = kpi_cube(eng, S, E, grain="year", by=("price_band",), facts_params=fp).set_index("price_band")
    assert cube["revenue"].to_dict() == bands["revenue"].to_dict()


def test_penetration_is_buyers_over_active_customers(eng, perf):
    pen = products.penetration(eng, S, E, perf)
    assert pen["product_id"].tolist() == ["P1", "P2", "P3", "P4", "P7"]
    assert pen["penetration"].tolist() == pytest.approx([2 / 3, 2 / 3, 1 / 3, 1 / 3, 1 / 3], abs=1e-6)
    assert (pen["active_customers"] == 3).all()


def test_top_bottom_splits_best_and_worst_sellers():
    perf = pd.DataFrame({"product_id": list("abcde"), "product_name": list("abcde"), "category": "x",
                         "volume": [5, 4, 3, 2, 0], "revenue": [50.0, 40.0, 30.0, 20.0, 0.0]})
    tb = products.top_bottom(perf, products.Params(product_top_n=2))
    assert tb["rank_group"].tolist() == ["top_products"] * 2 + ["bottom_products"] * 2
    assert tb["product_id"].tolist() == ["a", "b", "c", "d"]  # e never sold


# --- returns counted on their return date or on their order's date -------------------------------

# R2: a unit of P1 from O5 (ordered 2023-03-01) returned in the period; R3: O4's P2 (ordered in the
# period) returned after it.
RETURNS_FILES = {**FILES, "returns.csv": "id,order,sku,date,qty,amount\n"
                 "R1,O2,P1,2024-02-20,1,10\nR2,O5,P1,2024-01-15,1,10\nR3,O4,P2,2025-01-10,1,40\n"}


@pytest.fixture(scope="module")
def returns_eng(tmp_path_factory, open_engine):
    tmp = tmp_path_factory.mktemp("hand_products_returns")
    e = open_engine(handmade.build_warehouse(tmp, RETURNS_FILES, MAPS), "duckdb", tmp)
    yield e
    e.close()


def test_a_return_counts_on_its_return_date_by_default(returns_eng):
    p = by_id(products.product_performance(returns_eng, S, E))
    # P1: 150 sold, R1 and R2 (its order is of 2023) returned in 2024; P2: R3 comes after the period
    assert p.loc["P1", ["volume", "returns", "revenue", "cost"]].tolist() == [13.0, 20.0, 130.0, 78.0]
    assert p.loc["P2", ["returns", "revenue"]].tolist() == [0.0, 140.0]
    assert p.loc["P1", "buyers"] == 2  # a return does not make a buyer


def test_returns_on_order_date_count_with_their_order(returns_eng):
    p = by_id(products.product_performance(returns_eng, S, E, FactsParams(returns_basis="order_date")))
    assert p.loc["P1", ["returns", "revenue"]].tolist() == [10.0, 140.0]  # R2's order is of 2023
    assert p.loc["P2", ["volume", "returns", "revenue"]].tolist() == [2.0, 40.0, 100.0]  # R3's order O4 is of 2024
    assert p.attrs["params"]["returns_basis"] == "order_date"
    bcg = by_id(products.bcg_matrix(returns_eng, S, E, facts_params=FactsParams(returns_basis="order_date")))
    assert bcg.loc["P1", "previous_revenue"] == 90.0  # 2023: O5's 10 x 10, less R2 (returned in 2024, of O5)
    assert by_id(products.bcg_matrix(returns_eng, S, E)).loc["P1", "previous_revenue"] == 100.0


# --- parameters the tables were computed with, in charts and stories ----------------------------

def test_charts_and_notes_show_the_thresholds_the_tables_were_computed_with(eng, perf):
    params = products.Params(abc_a_share=0.7, abc_b_share=0.2, bcg_share_threshold=0.3, bcg_growth_threshold=0.25,
                             star_volume_quantile=0.6, slow_stock_quantile=0.4)
    abc = products.abc_classes(perf, params)
    bcg = products.bcg_matrix(eng, S, E, params)
    stars, slow = products.star_products(perf, params), products.slow_movers(eng, S, E, perf, params)
    fig = charts_products.pareto_chart(abc, "en")
    levels = sorted(ln.get_ydata()[0] for ln in fig.axes[1].get_lines() if ln.get_linestyle() == "--")
    assert levels == pytest.approx([0.7, 0.9])
    assert {tx.get_text() for tx in fig.axes[1].texts} == {"70%", "90%"}
    fig = charts_products.bcg_chart(bcg, "en")
    ax = fig.axes[0]
    assert [ln.get_xdata()[0] for ln in ax.get_lines() if ln.get_xdata()[0] == ln.get_xdata()[1]] == [0.3]
    assert [ln.get_ydata()[0] for ln in ax.get_lines() if ln.get_ydata()[0] == ln.get_ydata()[1]] == [0.25]
    matplotlib.pyplot.close("all")
    for lang in ("en", "zh-CN"):
        note = narrative_products.definitions_note(stars, slow, bcg, abc, lang)
        assert all(x in note for x in ("60%", "40%", "0.3", "25%", "70%", "90%")), note
        assert "80%" in note  # star margin quantile left at its default


def test_notes_state_the_returns_basis_used(returns_eng):
    fp = FactsParams(returns_basis="order_date")
    perf = products.product_performance(returns_eng, S, E, fp)
    abc, stars = products.abc_classes(perf), products.star_products(perf)
    note = narrative_products.definitions_note(stars, products.slow_movers(returns_eng, S, E, perf),
                                               products.bcg_matrix(returns_eng, S, E, None, fp), abc, "en")
    assert "returns counted on their order's date" in note


def test_english_story_has_no_chinese_and_chinese_story_no_english_sentence(eng, perf):
    abc, stars = products.abc_classes(perf), products.star_products(perf)
    slow = products.slow_movers(eng, S, E, perf)
    bcg = products.bcg_matrix(eng, S, E)
    names = set(perf["product_name"].dropna())
    for text_of in (lambda lang: narrative_products.products_narrative(abc, stars, slow, lang),
                    lambda lang: narrative_products.definitions_note(stars, slow, bcg, abc, lang)):
        en, zh = text_of("en"), text_of("zh-CN")
        for n in names:  # product names are data, not text
            en = en.replace(n, "")
        assert not CJK.search(en), en
        assert not ENGLISH_PHRASE.search(zh), ENGLISH_PHRASE.search(zh)
    assert narrative_products.products_narrative(abc.assign(revenue=0.0), stars, slow, "en") == \
        "No product sold in this period."


def test_top_bottom_and_leading_rows_follow_product_top_n(perf):
    params = products.Params(product_top_n=2)
    tb = products.top_bottom(perf, params)
    assert tb["product_id"].tolist() == ["P4", "P3", "P2", "P7"]
    assert products.leading_rows(products.abc_classes(perf), params)["product_id"].tolist() == ["P4", "P3", "P1", "P2"]


# --- the small demo (seed 7): planted stars and slow movers --------------------------------------

@pytest.fixture(scope="module")
def demo_eng(demo_warehouse, tmp_path_factory, open_engine):
    e = open_engine(demo_warehouse, "duckdb", tmp_path_factory.mktemp("demo_eng"))
    yield e
    e.close()


@pytest.fixture(scope="module")
def planted(demo_dir):
    return json.loads((demo_dir / "truth" / "planted.json").read_text(encoding="utf-8"))


DEMO = ("2023-01-01", "2025-12-31")


@pytest.fixture(scope="module")
def demo_perf(demo_eng):
    return products.product_performance(demo_eng, *DEMO)


def test_planted_stars_come_out_as_stars(demo_perf, planted):
    stars = products.star_products(demo_perf)
    assert set(planted["star_products"]["ids"]) <= set(stars["product_id"])
    assert len(stars) <= 2 * len(planted["star_products"]["ids"])


def test_planted_slow_movers_come_out_as_slow_movers(demo_eng, demo_perf, planted):
    slow = products.slow_movers(demo_eng, *DEMO, demo_perf)
    assert set(slow["product_id"]) == set(planted["slow_movers"]["ids"])
    stars = set(products.star_products(demo_perf)["product_id"])
    assert not stars & set(slow["product_id"])


def test_demo_tables_are_consistent(demo_eng, demo_perf):
    abc = products.abc_classes(demo_perf)
    assert abc["cumulative_share"].iloc[-1] == pytest.approx(1.0)
    assert set(abc["abc_class"]) == {"A", "B", "C"}
    sell = products.sell_through_rate(demo_eng, *DEMO)
    assert 0 < sell.set_index("category").loc["all", "sell_through_rate"] <= 1
    bcg = products.bcg_matrix(demo_eng, *DEMO)
    assert set(bcg["bcg_quadrant"]) <= set(products.BCG_QUADRANTS)


def test_demo_price_bands_are_the_performance_stage_bands(demo_eng, demo_perf):
    bands = products.price_band_performance(demo_eng, demo_perf).set_index("price_band")
    cube = kpi_cube(demo_eng, *DEMO, grain="year", by=("price_band",))
    per_band = cube.groupby("price_band")["revenue"].sum()
    assert list(bands.index) == ["0-200", "200-500", "500-1000", "1000-3000", "≥3000"]
    assert bands.loc[per_band.index, "revenue"].tolist() == pytest.approx(per_band.tolist(), abs=0.05)
    assert bands["revenue"].sum() == pytest.approx(demo_perf["revenue"].sum(), abs=0.05)


def test_charts_and_narrative_render_in_both_languages(demo_eng, demo_perf):
    perf = demo_perf
    abc = products.abc_classes(perf)
    stars = products.star_products(perf)
    slow = products.slow_movers(demo_eng, *DEMO, perf)
    bcg = products.bcg_matrix(demo_eng, *DEMO)
    for lang in ("zh-CN", "en"):
        text = narrative_products.products_narrative(abc, stars, slow, lang)
        assert text.count("\n- ") == 2 and stars.iloc[0]["product_name"] in text
        figs = [charts_products.bcg_chart(bcg, lang), charts_products.pareto_chart(abc, lang),
                charts_products.top_bottom_chart(products.top_bottom(perf), lang),
                charts_products.slow_days_chart(slow, lang)]
        for fig in figs:
            colours = {tuple(np.round(c, 3)) for ax in fig.axes for coll in ax.collections
                       for c in coll.get_facecolors()}
            assert len(colours) <= 5
            matplotlib.pyplot.close(fig)


def test_abc_shares_must_leave_room_for_class_c():
    from saleslab.errors import ParameterError
    from saleslab.params import validate_thresholds

    with pytest.raises(ParameterError, match="abc_a_share \\+ abc_b_share must be below 1"):
        validate_thresholds({"abc_a_share": 0.9, "abc_b_share": 0.1})


# --- partial warehouses: order lines only, or inventory without a snapshot in the period --------

@pytest.fixture(scope="module")
def lines_only(tmp_path_factory, open_engine):
    """FILES' orders and lines only: no product master, no inventory, no customers, no returns."""
    tmp = tmp_path_factory.mktemp("products_lines_only")
    e = open_engine(handmade.build_warehouse(tmp, {"orders.csv": FILES["orders.csv"]},
                                             {"orders.yaml": handmade.ORDERS}), "duckdb", tmp)
    yield e
    e.close()


def test_without_a_master_products_keep_their_sales_with_unknown_name_category_and_cost(lines_only):
    perf = products.product_performance(lines_only, S, E)
    p = by_id(perf)
    assert list(p.index) == ["P4", "P3", "P1", "P2", "P7"]  # the sold products, none of the master's unsold
    assert p.loc["P1", ["volume", "revenue"]].tolist() == [15.0, 150.0]  # no returns source: nothing returned
    assert set(p["category"]) == {products.UNKNOWN} and p["product_name"].isna().all()
    # no unit cost: cost and margin unknown, not a 100 % margin from a cost of 0
    assert p[["cost", "gross_profit", "gross_margin"]].isna().all().all()
    abc = products.abc_classes(perf)
    assert abc["abc_class"].tolist()[:2] == ["A", "A"]
    assert narrative_products.concentration_text(abc, "en").startswith("**Concentration**")
    assert narrative_products.definitions_text(abc, "en") == narrative_products.definitions_note(abc, abc, abc, abc, "en")
    pen = by_id(products.penetration(lines_only, S, E, perf))
    assert pen.loc["P1", "penetration"] == pytest.approx(2 / 3, abs=1e-6)  # customer ids of the orders
    fig = charts_products.top_bottom_chart(products.top_bottom(perf), "en")
    assert "P4" in [tx.get_text() for tx in fig.axes[0].get_yticklabels()]  # the id, not "nan (P4)"
    matplotlib.pyplot.close(fig)


@pytest.mark.parametrize("call, tables", [
    (lambda e, perf: products.star_products(perf), ("products",)),
    (lambda e, perf: products.slow_movers(e, S, E, perf), ("inventory",)),
    (lambda e, perf: products.sell_through_rate(e, S, E), ("inventory",)),
    (lambda e, perf: products.inventory_turnover(e, S, E, perf), ("inventory", "products")),
    (lambda e, perf: products.price_band_performance(e, perf), ("products",)),
])
def test_analyses_name_the_table_they_lack(lines_only, call, tables):
    from saleslab.errors import MissingSource

    with pytest.raises(MissingSource) as e:
        call(lines_only, products.product_performance(lines_only, S, E))
    assert e.value.tables == tables


def test_stock_analyses_need_a_snapshot_in_the_period(tmp_path, open_engine):
    from saleslab.errors import InsufficientData

    files = {**FILES, "inventory.csv": "date,sku,wh,qty\n2023-12-31,P2,W1,100\n"}
    with open_engine(handmade.build_warehouse(tmp_path, files, MAPS), "duckdb", tmp_path) as e:
        perf = products.product_performance(e, S, E)
        for call in (lambda: products.slow_movers(e, S, E, perf), lambda: products.sell_through_rate(e, S, E),
                     lambda: products.inventory_turnover(e, S, E, perf, by="all")):
            with pytest.raises(InsufficientData, match="no inventory snapshot is dated between 2024-01-01 and "
                                                       "2024-12-31"):
                call()


def test_headline_figures_of_the_tables_given():
    stars = pd.DataFrame({"product_id": ["P1", "P2"]})
    assert products.headline_figures(stars=stars) == {"star_product_count": 2, "slow_mover_count": None,
                                                      "sell_through_rate": None, "inventory_turnover": None,
                                                      "days_of_inventory": None}
