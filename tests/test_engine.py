"""Engine-level functions on a hand-made warehouse, on DuckDB and PySpark (parity fixture)."""

import datetime as dt
from pathlib import Path

import pytest

import handmade
from saleslab.performance import kpis
from saleslab.quality import checks as quality
from saleslab.errors import SalesLabError


D = dt.date

MAPS = {"orders.yaml": handmade.ORDERS, "products.yaml": handmade.PRODUCTS, "customers.yaml": handmade.CUSTOMERS,
        "returns.yaml": handmade.RETURNS}

FILES = {
    # Jan: O1 = 2x10 (P1) + 1x30 (P2) = 50; O2 = 1x10 = 10 (unknown customer C9). Feb: O3 = 3x30 = 90 (no region)
    "orders.csv": "order,date,cust,channel,region,sku,qty,price\n"
                  "O1,2024-01-05,C1,direct,华东,P1,2,10\n"
                  "O1,2024-01-05,C1,direct,华东,P2,1,30\n"
                  "O2,2024-01-20,C9,online,华南,P1,1,10\n"
                  "O3,2024-02-02,C2,online,,P3,3,30\n"
                  "O4,2023-12-31,C2,online,华南,P1,5,10\n",  # outside the period
    "products.csv": "sku,name,cat,price,cost\nP1,A,x,10,6\nP2,B,x,30,12\n",  # P3 unknown: cost 0
    "customers.csv": "id,name\nC1,甲\nC2,乙\n",
    # a return in February of one P2 from O1: -30 revenue, -12 cost
    "returns.csv": "id,order,sku,date,qty,amount\nR1,O1,P2,2024-02-10,1,30\n",
}


@pytest.fixture(scope="module")
def hand_warehouse(tmp_path_factory) -> Path:
    return handmade.build_warehouse(tmp_path_factory.mktemp("hand"), FILES, MAPS)


def test_monthly_overview_matches_hand_computation(eng):
    m = kpis.monthly_overview(eng, "2024-01-01", "2024-12-31")
    assert m["month"].tolist() == [D(2024, 1, 1), D(2024, 2, 1)]
    assert m["gross_sales"].tolist() == [60.0, 90.0]
    assert m["returns"].tolist() == [0.0, 30.0]
    assert m["revenue"].tolist() == [60.0, 60.0]
    # Jan cost: 2*6 + 1*12 + 1*6 = 30; Feb: P3 has no cost (0) minus the returned P2 (12) = -12
    assert m["cost"].tolist() == [30.0, -12.0]
    assert m["gross_profit"].tolist() == [30.0, 72.0]
    assert m["gross_margin"].tolist() == [0.5, 1.2]
    assert m["orders"].tolist() == [2, 1]
    assert m["active_customers"].tolist() == [2, 1]
    assert m["average_order_value"].tolist() == [30.0, 60.0]
    assert kpis.headline_totals(m) == {"revenue": 120.0, "orders": 3, "gross_profit": 102.0, "gross_margin": 0.85}
    assert kpis.active_customers(eng, D(2024, 1, 1), D(2024, 12, 31)) == 3


def test_coverage_counts_known_customers_products_and_regions(eng):
    c = quality.coverage(eng).set_index("channel")
    assert c.loc["direct", "order_lines"] == 2 and c.loc["direct", "known_customer"] == 1.0
    # online: O2 (C9 unknown, P1, 华南), O3 (C2, P3 unknown, no region), O4 (C2, P1, 华南)
    assert c.loc["online", "order_lines"] == 3
    assert c.loc["online", "known_customer"] == pytest.approx(2 / 3, abs=1e-6)
    assert c.loc["online", "known_product"] == pytest.approx(2 / 3, abs=1e-6)
    assert c.loc["online", "known_region"] == pytest.approx(2 / 3, abs=1e-6)
    assert c.loc["all", "order_lines"] == 5 and c.loc["all", "known_customer"] == 0.8


def test_row_accounting_balances_per_source(eng):
    acc = quality.row_accounting(eng).set_index("source")
    assert acc.loc["orders", "rows_read"] == 5 and acc["balanced"].all()


def test_unknown_table_is_a_clear_error(eng):
    with pytest.raises(SalesLabError, match="unknown warehouse table 'ordres'"):
        eng.table("ordres")


def test_duckdb_limits_are_set_explicitly(hand_warehouse, tmp_path, open_engine):
    e = open_engine(hand_warehouse, "duckdb", tmp_path)
    try:
        got = e.con.raw_sql("SELECT current_setting('memory_limit'), current_setting('temp_directory'), "
                            "current_setting('threads')").fetchall()[0]
    finally:
        e.close()
    assert got[0].replace(" ", "").upper().startswith(("1.0GIB", "953.6MIB", "1GB", "1.0GB", "953"))
    assert got[1] == str(tmp_path / "duck") and int(got[2]) == 2
