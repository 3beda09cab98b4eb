"""The monthly overview, the KPI cube and the collection rate on a hand-made warehouse, on DuckDB
and PySpark (parity fixture).

Every expected number below is computed by hand from FILES.
"""

import datetime as dt
import math
from pathlib import Path

import pytest

import handmade
from saleslab.errors import SalesLabError
from saleslab.facts import Params as FactsParams
from saleslab.performance import kpis

D = dt.date
JAN, FEB = D(2024, 1, 1), D(2024, 2, 1)

MAPS = {
    "orders.yaml": handmade.orders_yaml({**handmade.ORDER_COLUMNS, "rep_id": "rep"},
                                        {**handmade.LINE_COLUMNS, "discount": "disc"}),
    "products.yaml": handmade.PRODUCTS,
    "returns.yaml": handmade.RETURNS,
    "reps.yaml": handmade.source_yaml("reps.csv", "reps", {"rep_id": "id", "name": "name", "team": "team",
                                                           "region": "region"}),
    "targets.yaml": handmade.TARGETS,
    "invoices.yaml": handmade.source_yaml("invoices.csv", "invoices", {"invoice_id": "id", "order_id": "order",
                                                                       "invoice_date": "date", "due_date": "due",
                                                                       "amount": "amount"}),
    "payments.yaml": handmade.source_yaml("payments.csv", "payments", {"payment_id": "id", "invoice_id": "invoice",
                                                                       "payment_date": "date", "amount": "amount"}),
}

FILES = {
    # 2023: A0 direct/east 2x100 = 200 (C1's first order); A1 online/south 300 (C2's first order)
    # 2024-01: B1 direct/east R1 3x100 + 1x1500 = 1800; B2 online/east 2x300 = 600 (C3 new);
    #          B3 retail/south anonymous 100
    # 2024-02: B4 direct/south R2 300; B5 online/east 1500 - 100 discount = 1400 (C4 new);
    #          B6 online/east C3 100
    "orders.csv": "order,date,cust,channel,region,rep,sku,qty,price,disc\n"
                  "A0,2023-01-10,C1,direct,华东,R1,P1,2,100,\n"
                  "A1,2023-02-15,C2,online,华南,,P2,1,300,\n"
                  "B1,2024-01-05,C1,direct,华东,R1,P1,3,100,\n"
                  "B1,2024-01-05,C1,direct,华东,R1,P3,1,1500,\n"
                  "B2,2024-01-20,C3,online,华东,,P2,2,300,\n"
                  "B3,2024-01-25,,retail,华南,,P1,1,100,\n"
                  "B4,2024-02-03,C2,direct,华南,R2,P2,1,300,\n"
                  "B5,2024-02-10,C4,online,华东,,P3,1,1500,100\n"
                  "B6,2024-02-12,C3,online,华东,,P1,1,100,\n",
    # P1 band 0-200 (cat A), P2 200-1000 (cat B), P3 1000+ (cat B) with edges 0,200,1000
    "products.csv": "sku,name,cat,price,cost\nP1,甲,A,100,60\nP2,乙,B,300,120\nP3,丙,B,1500,900\n",
    # R1: one P1 of the 2023 order A0 returned in January 2024 (direct/east, rep R1): -100, cost -60
    # R2: one P2 of B2 returned in February (online/east): -300, cost -120
    # R3: the P1 of the February order B6 returned in March, after a January-February period
    "returns.csv": "id,order,sku,date,qty,amount\n"
                   "R1,A0,P1,2024-01-15,1,100\nR2,B2,P2,2024-02-20,1,300\nR3,B6,P1,2024-03-05,1,100\n",
    "reps.csv": "id,name,team,region\nR1,张三,T1,华东\nR2,李四,T2,华南\n",
    "targets.csv": "month,level,id,amount\n"
                   "2024-01-01,region,east,2000\n2024-02-01,region,east,2500\n"
                   "2024-01-01,region,south,500\n2024-02-01,region,south,1000\n"
                   "2024-01-01,team,T1,1500\n2024-01-01,rep,R1,1000\n2024-02-01,rep,R2,600\n",
    # I1 due in Jan (B1, direct): 1000 paid in Jan, 800 in Feb. I2 due in Feb (B4, direct) overpaid 400 -> 300.
    # I3 due in Feb (A1, online) paid early in Jan. I4 due in March: outside the period.
    "invoices.csv": "id,order,date,due,amount\n"
                    "I1,B1,2024-01-05,2024-01-31,1800\nI2,B4,2024-02-03,2024-02-29,300\n"
                    "I3,A1,2023-02-15,2024-02-10,200\nI4,B5,2024-02-10,2024-03-15,1400\n",
    "payments.csv": "id,invoice,date,amount\n"
                    "Y1,I1,2024-01-20,1000\nY2,I1,2024-02-05,800\nY3,I2,2024-02-28,400\nY4,I3,2024-01-05,200\n",
}


@pytest.fixture(scope="module")
def hand_warehouse(tmp_path_factory) -> Path:
    return handmade.build_warehouse(tmp_path_factory.mktemp("kpihand"), FILES, MAPS)


@pytest.fixture(scope="module")
def cube(eng):
    c = kpis.kpi_cube(eng, "2024-01-01", "2024-02-29", "month", by=("channel", "region"))
    return c.set_index(["period", "channel", "region"])


def nan(v) -> bool:
    return v is None or (isinstance(v, float) and math.isnan(v))


def test_cube_has_one_row_per_period_and_segment_with_sales(cube):
    assert list(cube.index) == [
        (JAN, "direct", "east"), (JAN, "online", "east"), (JAN, "retail", "south"),
        (FEB, "direct", "south"), (FEB, "online", "east")]


def test_revenue_is_net_of_discounts_and_returns_in_the_month_of_the_return(cube):
    # Jan direct/east: B1 1800 - the return of A0 (a 2023 order) in January 100
    r = cube.loc[(JAN, "direct", "east")]
    assert (r.gross_sales, r.returns, r.revenue) == (1800.0, 100.0, 1700.0)
    # Feb online/east: B5 1500 - 100 discount + B6 100 - return of B2 300
    r = cube.loc[(FEB, "online", "east")]
    assert (r.gross_sales, r.returns, r.revenue) == (1500.0, 300.0, 1200.0)
    assert cube.loc[(JAN, "online", "east"), "revenue"] == 600.0  # the February return is not in January


def test_volume_is_quantity_sold_less_returned(cube):
    assert cube.loc[(JAN, "direct", "east"), "volume"] == 3.0  # 3 + 1 - 1
    assert cube.loc[(FEB, "online", "east"), "volume"] == 1.0  # 1 + 1 - 1


def test_gross_profit_and_margin(cube):
    r = cube.loc[(JAN, "direct", "east")]
    assert r.cost == 1020.0  # 3*60 + 900 - 60
    assert (r.gross_profit, r.gross_margin) == (680.0, pytest.approx(0.4))
    r = cube.loc[(FEB, "online", "east")]
    assert (r.cost, r.gross_profit, r.gross_margin) == (840.0, 360.0, pytest.approx(0.3))


def test_orders_and_average_order_value(cube):
    assert cube["orders"].tolist() == [1, 1, 1, 1, 2]
    assert cube.loc[(FEB, "online", "east"), "average_order_value"] == 600.0
    assert cube.loc[(JAN, "retail", "south"), "average_order_value"] == 100.0


def test_active_and_new_customers_by_first_purchase_ever(cube):
    # C1 (Jan) and C2 (Feb) first bought in 2023: active, not new; C3 new in Jan, C4 new in Feb (C3 not again)
    assert cube["active_customers"].tolist() == [1, 1, 0, 1, 2]
    assert cube["new_customers"].tolist() == [0, 1, 0, 0, 1]
    assert cube.loc[(FEB, "online", "east"), "revenue_per_customer"] == 600.0
    assert nan(cube.loc[(JAN, "retail", "south"), "revenue_per_customer"])  # anonymous buyer only


def test_revenue_per_rep_counts_reps_with_orders(cube):
    assert cube.loc[(JAN, "direct", "east"), "revenue_per_rep"] == 1700.0  # R1, his return included
    assert cube.loc[(FEB, "direct", "south"), "revenue_per_rep"] == 300.0
    assert nan(cube.loc[(JAN, "online", "east"), "revenue_per_rep"])


def test_year_over_year_and_period_over_period(cube):
    r = cube.loc[(JAN, "direct", "east")]
    assert r.revenue_last_year == 200.0 and r.yoy_growth == pytest.approx(7.5)  # A0 in Jan 2023
    assert nan(r.revenue_prev_period) and nan(r.pop_growth)
    r = cube.loc[(FEB, "online", "east")]
    assert r.revenue_prev_period == 600.0 and r.pop_growth == pytest.approx(1.0)
    assert nan(r.revenue_last_year)  # A1 of Feb 2023 was online/south
    assert cube["complete"].all()


def test_target_achievement_at_region_level_repeats_on_channel_rows(cube):
    assert set(cube["target_level"]) == {"region"}
    # Jan east: (1700 + 600) / 2000; Jan south 100 / 500; Feb east 1200 / 2500; Feb south 300 / 1000
    assert cube.loc[(JAN, "direct", "east"), "target"] == 2000.0
    assert cube.loc[(JAN, "direct", "east"), "achievement_rate"] == pytest.approx(1.15)
    assert cube.loc[(JAN, "online", "east"), "achievement_rate"] == pytest.approx(1.15)
    assert cube.loc[(JAN, "retail", "south"), "achievement_rate"] == pytest.approx(0.2)
    assert cube.loc[(FEB, "online", "east"), "achievement_rate"] == pytest.approx(0.48)
    assert cube.loc[(FEB, "direct", "south"), "achievement_rate"] == pytest.approx(0.3)


def test_target_achievement_by_rep_and_team(eng):
    c = kpis.kpi_cube(eng, "2024-01-01", "2024-02-29", by="rep_id").set_index(["period", "rep_id"])
    assert c.loc[(JAN, "R1"), "revenue"] == 1700.0 and c.loc[(JAN, "R1"), "achievement_rate"] == pytest.approx(1.7)
    assert c.loc[(FEB, "R2"), "achievement_rate"] == pytest.approx(0.5)
    assert c.loc[(JAN, kpis.UNKNOWN), "revenue"] == 700.0 and nan(c.loc[(JAN, kpis.UNKNOWN), "target"])
    t = kpis.kpi_cube(eng, "2024-01-01", "2024-02-29", by="team").set_index(["period", "team"])
    assert t.loc[(JAN, "T1"), "achievement_rate"] == pytest.approx(1700 / 1500)
    assert nan(t.loc[(FEB, "T2"), "target"])  # no team target in February
    assert "target" not in kpis.kpi_cube(eng, "2024-01-01", "2024-02-29", by="channel").columns


def test_quarter_grain_counts_distinct_customers_over_the_quarter(eng):
    q = kpis.kpi_cube(eng, "2024-01-01", "2024-03-31", "quarter", by=())
    assert len(q) == 1
    r = q.iloc[0]
    # sales 2500 + 1800, less R1 100, R2 300 and R3 100 (March: inside the quarter)
    assert r.period == JAN and r.revenue == 3800.0 and r.orders == 6
    assert r.active_customers == 4 and r.new_customers == 2  # C1..C4; new: C3, C4
    assert r.revenue_last_year == 500.0 and r.yoy_growth == pytest.approx(6.6)


def test_week_and_day_grains(eng):
    w = kpis.kpi_cube(eng, "2024-01-01", "2024-01-31", "week", by=())
    # weeks start on Monday 2024-01-01: B1 1800; R1 (-100) and B2 600 in the week of the 15th; B3 week of the 22nd
    assert w["period"].tolist() == [D(2024, 1, 1), D(2024, 1, 15), D(2024, 1, 22)]
    assert w["revenue"].tolist() == [1800.0, 500.0, 100.0]
    assert w["revenue_prev_period"].isna().tolist()[:2] == [True, True]  # no sales in the week of the 8th
    assert w["revenue_prev_period"].tolist()[2] == 500.0
    d = kpis.kpi_cube(eng, "2024-01-05", "2024-01-05", "day", by="channel")
    assert d[["period", "channel", "revenue"]].values.tolist() == [[D(2024, 1, 5), "direct", 1800.0]]


def test_partial_period_keeps_only_dates_in_range(eng):
    c = kpis.kpi_cube(eng, "2024-01-16", "2024-02-29", by=())
    # January from the 16th: B2 600 + B3 100 (B1 and the return of the 15th are before the start)
    assert c["revenue"].tolist() == [700.0, 1500.0]
    assert c["complete"].tolist() == [False, True]
    # previous period of February is the whole of January
    assert c["revenue_prev_period"].tolist()[1] == 2400.0


def test_period_cut_by_end_is_compared_with_the_same_cut_before(eng):
    c = kpis.kpi_cube(eng, "2024-01-01", "2024-02-10", by=())
    # February to the 10th: B4 300 + B5 1400, against January to the 10th: B1 1800
    assert c["revenue"].tolist() == [2400.0, 1700.0]
    assert c["revenue_prev_period"].tolist()[1] == 1800.0
    # last year to Feb 10 2023: A0 200 in January, nothing (A1 is Feb 15) in February
    assert c["revenue_last_year"].tolist() == [200.0, 0.0] and math.isnan(c["yoy_growth"].iloc[1])
    assert kpis.comparison_window("2024-02-01", "2024-02-29", "month", "pop") == (D(2024, 1, 1), D(2024, 1, 31))
    assert kpis.comparison_window("2025-01-01", "2025-06-15", "year", "yoy") == (D(2024, 1, 1), D(2024, 6, 15))


def test_targets_spread_over_days_for_weeks(eng):
    t = kpis.target_by_period(eng, "2024-01-01", "2024-01-31", "week", "region").set_index(["period", "level_id"])
    assert t.loc[(D(2024, 1, 1), "east"), "target"] == round(2000 * 7 / 31, 2)
    assert t.loc[(D(2024, 1, 29), "east"), "target"] == round(2000 * 3 / 31, 2)  # Jan 29-31 only
    m = kpis.target_by_period(eng, "2024-01-01", "2024-02-29", "quarter", "region").set_index(["period", "level_id"])
    assert m.loc[(JAN, "east"), "target"] == 4500.0


def test_price_band_category_and_product_dimensions(eng):
    pb = kpis.kpi_cube(eng, "2024-01-01", "2024-01-31", by="price_band",
                       facts_params=FactsParams(price_band_edges="0,200,1000"))
    assert dict(zip(pb["price_band"], pb["revenue"])) == {"0-200": 300.0, "200-1000": 600.0, "≥1000": 1500.0}
    assert list(pb["price_band"]) == ["0-200", "200-1000", "≥1000"]  # price order, not text order
    fine = kpis.kpi_cube(eng, "2024-01-01", "2024-01-31", by="price_band",
                         facts_params=FactsParams(price_band_edges="0,30,200,1000"))
    bands = list(fine["price_band"])
    assert bands == [b for b in ["0-30", "30-200", "200-1000", "≥1000"] if b in set(bands)]
    assert bands != sorted(bands)  # "200-1000" < "30-200" as text
    assert pb.attrs["params"]["price_band_edges"] == "0,200,1000"  # the result carries its band edges
    cat = kpis.kpi_cube(eng, "2024-01-01", "2024-01-31", by="category")
    assert dict(zip(cat["category"], cat["revenue"])) == {"A": 300.0, "B": 2100.0}
    prod = kpis.kpi_cube(eng, "2024-01-01", "2024-01-31", by="product_id").set_index("product_id")
    assert prod.loc["P1", "revenue"] == 300.0 and prod.loc["P1", "volume"] == 3.0  # 3 + 1 - 1
    assert prod.loc["P1", "orders"] == 2  # B1, B3


def test_price_band_labels_and_bad_arguments():
    assert kpis.price_band_labels((0, 200, 500)) == ["<0", "0-200", "200-500", "≥500"]  # the facts layer's labels
    assert kpis.parse_price_bands("0, 200,1000") == (0.0, 200.0, 1000.0)
    with pytest.raises(SalesLabError, match="strictly increasing"):
        kpis.parse_price_bands("0,500,200")
    with pytest.raises(SalesLabError, match="unknown dimension"):
        kpis._check_cube_args("month", ("country",))
    with pytest.raises(SalesLabError, match="unknown time grain"):
        kpis._check_cube_args("fortnight", ())


def test_collection_rate_counts_payments_by_due_date_up_to_period_end(eng):
    c = kpis.collection_rate(eng, "2024-01-01", "2024-02-29")
    # Jan: I1 1800 due, 1000 paid by Jan 31. Feb: I2 300 (400 paid, capped) + I3 200 (paid early)
    assert c["period"].tolist() == [JAN, FEB]
    assert c["invoiced"].tolist() == [1800.0, 500.0]
    assert c["collected"].tolist() == [1000.0, 500.0]
    assert c["collection_rate"].tolist() == [pytest.approx(1000 / 1800), 1.0]
    by = kpis.collection_rate(eng, "2024-01-01", "2024-02-29", by="channel").set_index(["period", "channel"])
    assert by.loc[(FEB, "online"), "invoiced"] == 200.0 and by.loc[(FEB, "direct"), "collection_rate"] == 1.0
    q = kpis.collection_rate(eng, "2024-01-01", "2024-02-29", "quarter")
    assert q["collected"].tolist() == [2300.0]  # the February payment of I1 is inside the quarter


def test_cube_totals_agree_with_monthly_overview(eng):
    m = kpis.monthly_overview(eng, "2024-01-01", "2024-02-29").set_index("month")
    c = kpis.kpi_cube(eng, "2024-01-01", "2024-02-29", by=("channel", "region"))
    s = c.groupby("period")[["revenue", "gross_profit", "orders"]].sum()
    assert s["revenue"].tolist() == m["revenue"].tolist() == [2400.0, 1500.0]
    assert s["gross_profit"].tolist() == m["gross_profit"].tolist()
    assert s["orders"].tolist() == m["orders"].tolist()


def test_cube_records_the_facts_parameters_it_was_computed_with(eng):
    c = kpis.kpi_cube(eng, "2024-01-01", "2024-02-29", by=())
    assert c.attrs["params"] == FactsParams().model_dump(mode="json")


def test_return_counts_on_its_return_date_with_its_original_orders_channel_region_and_rep(eng):
    # R1 returns a P1 of A0 (10 Jan 2023, direct / east / R1 / C1) on 15 Jan 2024
    c = kpis.kpi_cube(eng, "2024-01-01", "2024-01-31", by=("channel", "region", "rep_id"), targets=False)
    r = c.set_index(["channel", "region", "rep_id"]).loc[("direct", "east", "R1")]
    assert (r.gross_sales, r.returns, r.revenue, r.volume) == (1800.0, 100.0, 1700.0, 3.0)
    assert r.rep_revenue == 1700.0 and r.orders == 1  # a return is no order


def test_return_dated_after_the_period_is_not_deducted(eng):
    # R3 (5 March) returns a line of B6 (12 February): February keeps its 100
    feb = kpis.kpi_cube(eng, "2024-02-01", "2024-02-29", by="channel").set_index("channel")
    assert feb.loc["online", ["gross_sales", "returns", "revenue"]].tolist() == [1500.0, 300.0, 1200.0]
    m = kpis.monthly_overview(eng, "2024-01-01", "2024-02-29")
    assert m["returns"].tolist() == [100.0, 300.0] and m["revenue"].tolist() == [2400.0, 1500.0]


def test_returns_basis_order_date_counts_a_return_in_its_orders_period(eng):
    fp = FactsParams(returns_basis="order_date")
    c = kpis.kpi_cube(eng, "2024-01-01", "2024-02-29", by=("channel", "region"), facts_params=fp)
    c = c.set_index(["period", "channel", "region"])
    # R1's order A0 is of January 2023: out of January 2024, into last year's January (200 - 100)
    r = c.loc[(JAN, "direct", "east")]
    assert (r.gross_sales, r.returns, r.revenue, r.revenue_last_year) == (1800.0, 0.0, 1800.0, 100.0)
    # R2 (returned in February) counts in January with its order B2; R3 (March) in February with B6
    assert c.loc[(JAN, "online", "east"), ["returns", "revenue"]].tolist() == [300.0, 300.0]
    assert c.loc[(FEB, "online", "east"), ["returns", "revenue"]].tolist() == [100.0, 1400.0]
    assert c.attrs["params"]["returns_basis"] == "order_date"
    m = kpis.monthly_overview(eng, "2024-01-01", "2024-02-29", fp)
    assert m["revenue"].tolist() == [2200.0, 1700.0] and m.attrs["params"]["returns_basis"] == "order_date"


def test_achievement_basis_gross_measures_gross_sales_against_target(eng):
    fp = FactsParams(achievement_basis="gross")
    c = kpis.kpi_cube(eng, "2024-01-01", "2024-02-29", by="region", facts_params=fp).set_index(["period", "region"])
    # Jan east: gross sales (1800 + 600) / 2000, not revenue 2300 / 2000; Feb east (1400 + 100) / 2500
    assert c.loc[(JAN, "east"), "achievement_rate"] == pytest.approx(1.2)
    assert c.loc[(FEB, "east"), "achievement_rate"] == pytest.approx(0.6)
    assert c.loc[(JAN, "east"), "revenue"] == 2300.0  # revenue itself stays net
    net = kpis.kpi_cube(eng, "2024-01-01", "2024-02-29", by="region").set_index(["period", "region"])
    assert net.loc[(JAN, "east"), "achievement_rate"] == pytest.approx(1.15)  # the default: net of returns


def test_monthly_overview_keeps_a_month_with_returns_only(eng):
    m = kpis.monthly_overview(eng, "2024-03-01", "2024-03-31")
    assert m["month"].tolist() == [D(2024, 3, 1)]
    r = m.iloc[0]
    assert (r.gross_sales, r.returns, r.revenue, r.cost, r.orders) == (0.0, 100.0, -100.0, -60.0, 0)
    assert nan(r.average_order_value)


def test_active_customers_are_distinct_known_buyers_of_the_period(eng):
    assert kpis.active_customers(eng, "2024-01-01", "2024-02-29") == 4  # C1..C4; B3 is anonymous
    assert kpis.active_customers(eng, "2024-03-01", "2024-03-31") == 0  # a return is no purchase


# --- partial warehouses: order lines only (no master, returns, targets, invoices, payments) -----

@pytest.fixture(scope="module")
def lines_only(tmp_path_factory, open_engine):
    tmp = tmp_path_factory.mktemp("kpis_lines_only")
    wh = handmade.build_warehouse(tmp, {"orders.csv": FILES["orders.csv"]}, {"orders.yaml": MAPS["orders.yaml"]})
    e = open_engine(wh, "duckdb", tmp)
    yield e
    e.close()


def test_without_unit_costs_cost_and_margin_are_unknown_not_a_full_margin(lines_only):
    m = kpis.monthly_overview(lines_only, "2024-01-01", "2024-02-29")
    assert m["revenue"].tolist() == [2500.0, 1800.0]  # Jan 1800 + 600 + 100 (no returns source); Feb 300 + 1400 + 100
    assert m[["cost", "gross_profit", "gross_margin"]].isna().all().all()
    assert kpis.headline_totals(m) == {"revenue": 4300.0, "orders": 6, "gross_profit": None, "gross_margin": None}
    assert not kpis.costs_known(lines_only)
    c = kpis.kpi_cube(lines_only, "2024-01-01", "2024-02-29", by="region")
    assert c["gross_margin"].isna().all() and c["target"].isna().all()  # no targets: achievement empty
    assert c["achievement_rate"].isna().all() and c["revenue"].sum() == 4300.0


def test_price_bands_and_collection_name_the_tables_they_lack(lines_only):
    from saleslab.errors import MissingSource

    with pytest.raises(MissingSource) as e:
        kpis.kpi_cube(lines_only, "2024-01-01", "2024-02-29", "year", "price_band")
    assert e.value.tables == ("products",)
    with pytest.raises(MissingSource) as e:
        kpis.collection_rate(lines_only, "2024-01-01", "2024-02-29")
    assert e.value.tables == ("invoices", "payments") and "the collection rate needs invoices, payments" in str(e.value)


def test_costs_are_known_with_a_master(eng):
    assert kpis.costs_known(eng)
