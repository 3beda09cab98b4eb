"""Product analytics (saleslab.products) on a hand-made warehouse (DuckDB and PySpark) and on the small demo."""

import datetime as dt
import json
from pathlib import Path

import matplotlib
import numpy as np
import pandas as pd
import pytest

import handmade
from saleslab.products import portfolio as products

matplotlib.use("Agg")

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


def test_product_performance_nets_returns_and_keeps_unsold_products(eng):
    p = by_id(products.product_performance(eng, S, E))
    assert list(p.index) == ["P4", "P3", "P1", "P2", "P7", "P5"]  # revenue desc, ties by product_id
    assert p.loc["P1", ["volume", "gross_sales", "returns", "revenue", "cost", "gross_profit"]].tolist() == \
        [14.0, 150.0, 10.0, 140.0, 84.0, 56.0]
    assert p.loc["P1", "gross_margin"] == pytest.approx(0.4)
    assert p.loc["P2", "revenue"] == 140.0 and p.loc["P2", "gross_margin"] == pytest.approx(4 / 7, abs=1e-6)
    assert p.loc["P5", "revenue"] == 0 and np.isnan(p.loc["P5", "gross_margin"])
    assert p.loc["P1", "buyers"] == 2 and p.loc["P1", "orders"] == 2 and p.loc["P4", "buyers"] == 1
    assert p["revenue"].sum() == pytest.approx(1580.0)


def test_star_products_need_high_volume_and_high_margin(eng):
    # volume 0.6-quantile of [1, 1, 1, 3, 14] = 1.8 -> P1, P2; margin 0.6-quantile = 0.5 -> P2 (P1 has 0.4)
    stars = products.star_products(eng, S, E, star_volume_quantile=0.6, star_margin_quantile=0.6)
    assert stars["product_id"].tolist() == ["P2"]
    assert stars.loc[0, "volume_percentile"] == pytest.approx(0.8)


def test_slow_movers_have_low_sales_and_high_stock(eng):
    # in stock: P1 (14 units sold, avg 20), P3 (1, 2), P4 (1, 2), P5 (0, 50), P6 (0, 2.5; not in the master)
    slow = products.slow_movers(eng, S, E)  # volume <= 0, avg stock >= median 2.5
    assert sorted(slow["product_id"]) == ["P5", "P6"]
    slow = products.slow_movers(eng, S, E, slow_stock_quantile=0.6)  # stock >= 9.5
    assert slow["product_id"].tolist() == ["P5"]
    row = slow.iloc[0]
    assert row["avg_stock_units"] == 50 and row["closing_stock_units"] == 50 and row["avg_inventory_value"] == 500
    assert row["inventory_turnover"] == 0 and np.isnan(row["days_of_inventory"])  # no sales: no finite days


def test_sell_through_counts_sold_skus_among_skus_in_stock(eng):
    st = products.sell_through_rate(eng, S, E).set_index("category")
    # in stock: P1 (x), P3, P4, P5 (y), P6 (unknown); P2 has 0 units, P7 sold without stock
    assert st.loc["all", ["skus_in_stock", "skus_sold"]].tolist() == [5, 3]
    assert st.loc["all", "sell_through_rate"] == pytest.approx(0.6)
    assert st.loc["x", "sell_through_rate"] == 1.0
    assert st.loc["y", "sell_through_rate"] == pytest.approx(2 / 3, abs=1e-6)
    assert st.loc["category_unknown", "sell_through_rate"] == 0.0


def test_inventory_turnover_is_cost_of_goods_over_average_inventory_value(eng):
    t = by_id(products.inventory_turnover(eng, S, E))
    # P1: cost 84 / (avg 20 units x 6) = 0.7 -> 366 / 0.7 days; P3: 100 / (2 x 100); P4: 500 / (2 x 500)
    assert t.loc["P1", "avg_inventory_value"] == 120 and t.loc["P1", "inventory_turnover"] == pytest.approx(0.7)
    assert t.loc["P1", "days_of_inventory"] == pytest.approx(522.9)
    assert t.loc["P3", "inventory_turnover"] == 0.5 and t.loc["P3", "days_of_inventory"] == 732.0
    assert t.loc["P4", "days_of_inventory"] == 732.0
    assert np.isnan(t.loc["P2", "inventory_turnover"])  # sold without stock
    assert "P6" not in t.index  # no cost, no inventory value
    cat = products.inventory_turnover(eng, S, E, by="category").set_index("category")
    assert cat.loc["x", "inventory_turnover"] == pytest.approx(1.2) and cat.loc["x", "days_of_inventory"] == 305.0
    assert cat.loc["y", "days_of_inventory"] == pytest.approx(957.2)  # 366 x 1700 / 650
    overall = products.inventory_turnover(eng, S, E, by="all").iloc[0]
    assert overall["cost"] == 794 and overall["avg_inventory_value"] == 1820
    assert overall["inventory_turnover"] == pytest.approx(0.4363) and overall["days_of_inventory"] == pytest.approx(838.9)


def test_abc_classes_break_ties_by_product_id(eng):
    abc = products.abc_classes(eng, S, E)
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
    abc = products.classify_abc(perf)
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
    cat = by_id(products.bcg_matrix(eng, S, E, bcg_share_threshold=0.5, bcg_share_basis="category"))
    assert cat.loc["P4", "market_share"] == pytest.approx(1000 / 1300, abs=1e-6)
    assert cat.loc["P1", "bcg_quadrant"] == "bcg_star"
    s = products.bcg_summary(products.bcg_matrix(eng, S, E)).set_index("bcg_quadrant")
    assert s["product_count"].tolist() == [2, 1, 1, 1]


def test_bcg_window_is_the_last_twelve_months_or_the_same_period_a_year_earlier():
    assert products.bcg_windows("2023-01-01", "2025-12-31") == (
        (dt.date(2025, 1, 1), dt.date(2025, 12, 31)), (dt.date(2024, 1, 1), dt.date(2024, 12, 31)))
    assert products.bcg_windows("2025-04-01", "2025-06-30") == (
        (dt.date(2025, 4, 1), dt.date(2025, 6, 30)), (dt.date(2024, 4, 1), dt.date(2024, 6, 30)))


def test_price_bands_from_list_price(eng):
    bands = products.price_band_performance(eng, S, E, "0,100,500").set_index("price_band")
    assert list(bands.index) == ["0–100", "100–500", "≥500"]
    assert bands["product_count"].tolist() == [3, 2, 1]  # P1 P2 P5 | P3 P7 | P4
    assert bands["revenue"].tolist() == [280.0, 300.0, 1000.0]
    assert bands["volume"].tolist() == [17.0, 2.0, 1.0]
    assert bands.loc["0–100", "gross_margin"] == pytest.approx(136 / 280, abs=1e-6)
    assert bands["revenue_share"].tolist() == pytest.approx([280 / 1580, 300 / 1580, 1000 / 1580], abs=1e-6)
    assert bands["volume_share"].tolist() == pytest.approx([0.85, 0.1, 0.05])
    with pytest.raises(ValueError, match="ascending"):
        products.parse_edges("100,50")


def test_penetration_is_buyers_over_active_customers(eng):
    pen = products.penetration(eng, S, E)
    assert pen["product_id"].tolist() == ["P1", "P2", "P3", "P4", "P7"]
    assert pen["penetration"].tolist() == pytest.approx([2 / 3, 2 / 3, 1 / 3, 1 / 3, 1 / 3], abs=1e-6)
    assert (pen["active_customers"] == 3).all()


def test_top_bottom_splits_best_and_worst_sellers():
    perf = pd.DataFrame({"product_id": list("abcde"), "product_name": list("abcde"), "category": "x",
                         "volume": [5, 4, 3, 2, 0], "revenue": [50.0, 40.0, 30.0, 20.0, 0.0]})
    tb = products.top_bottom(perf, n=2)
    assert tb["rank_group"].tolist() == ["top_products"] * 2 + ["bottom_products"] * 2
    assert tb["product_id"].tolist() == ["a", "b", "c", "d"]  # e never sold


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


def test_planted_stars_come_out_as_stars(demo_eng, planted):
    stars = products.star_products(demo_eng, *DEMO)
    assert set(planted["star_products"]["ids"]) <= set(stars["product_id"])
    assert len(stars) <= 2 * len(planted["star_products"]["ids"])


def test_planted_slow_movers_come_out_as_slow_movers(demo_eng, planted):
    slow = products.slow_movers(demo_eng, *DEMO)
    assert set(slow["product_id"]) == set(planted["slow_movers"]["ids"])
    stars = set(products.star_products(demo_eng, *DEMO)["product_id"])
    assert not stars & set(slow["product_id"])


def test_demo_tables_are_consistent(demo_eng):
    perf = products.product_performance(demo_eng, *DEMO)
    abc = products.classify_abc(perf)
    assert abc["cumulative_share"].iloc[-1] == pytest.approx(1.0)
    assert set(abc["abc_class"]) == {"A", "B", "C"}
    sell = products.sell_through_rate(demo_eng, *DEMO)
    assert 0 < sell.set_index("category").loc["all", "sell_through_rate"] <= 1
    bcg = products.bcg_matrix(demo_eng, *DEMO)
    assert set(bcg["bcg_quadrant"]) <= set(products.BCG_QUADRANTS)


def test_charts_and_narrative_render_in_both_languages(demo_eng):
    from saleslab.products import charts as charts_products, story as narrative_products

    perf = products.product_performance(demo_eng, *DEMO)
    abc = products.classify_abc(perf)
    stars = products.classify_stars(perf)
    slow = products.slow_movers(demo_eng, *DEMO)
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
