"""The facts layer: the one definition of sales, returns, cost, purchases and collection.

Hand-computed on the tiny warehouse of :mod:`hand_sales` (period 2024-01-01 .. 2024-03-31),
with extra returns: one after the period, one in the period of an order placed before it.
"""

import pandas as pd
import pytest

import hand_sales
import handmade
from saleslab import facts
from saleslab.errors import InvalidArgument

S, E = hand_sales.START, hand_sales.END
FILES = dict(hand_sales.FILES)
FILES["returns.csv"] += "R2,O1,P1,2024-04-05,2,20\nR3,O0,P1,2024-01-10,1,10\n"


@pytest.fixture(scope="module")
def hand_warehouse(tmp_path_factory):
    return handmade.build_warehouse(tmp_path_factory.mktemp("facts"), FILES, hand_sales.MAPS)


def _x(eng, expr) -> pd.DataFrame:
    return eng.execute(expr)


def test_sales_lines_are_the_period_lines_with_their_header_and_cost(eng):
    s = _x(eng, facts.sales_lines(eng, S, E)).set_index("order_id")
    assert "O0" not in s.index and len(s) == 12  # O0 is dated before the period
    assert s.loc["O3", ["customer_id", "channel", "rep_id", "quantity", "net_amount", "cost"]].tolist() == \
        ["C2", "direct", "S2", 10, 100, 60]  # 10 x unit cost 6
    assert s.loc["O8", "distributor_id"] == "D1"


@pytest.mark.parametrize("basis, expected", [("return_date", {"R1", "R3"}), ("order_date", {"R1", "R2"})])
def test_returns_count_on_the_chosen_date_and_follow_their_order(eng, basis, expected):
    r = _x(eng, facts.return_lines(eng, S, E, basis)).set_index("return_id")
    assert set(r.index) == expected
    if "R3" in r.index:  # returned in January, ordered in December by C2 through S2
        assert r.loc["R3", ["customer_id", "rep_id", "channel", "amount", "cost"]].tolist() == ["C2", "S2", "direct", 10, 6]
        assert pd.Timestamp(r.loc["R3", "date"]) == pd.Timestamp("2024-01-10")
    if "R2" in r.index:  # counted on its order's date
        assert pd.Timestamp(r.loc["R2", "date"]) == pd.Timestamp("2024-01-05") and r.loc["R2", "cost"] == 12


def test_revenue_is_sales_minus_returns_per_key(eng):
    total = _x(eng, facts.revenue_by_expr(eng, S, E, [])).iloc[0]
    assert (total["gross_sales"], total["returns"], total["revenue"]) == (610, 40, 570)
    assert total["cost"] == total["sales_cost"] - total["returns_cost"]
    by = _x(eng, facts.revenue_by_expr(eng, S, E, ["rep_id"])).set_index("rep_id")
    assert by.loc["S2", ["gross_sales", "returns", "revenue", "orders"]].tolist() == [100, 10, 90, 1]
    od = _x(eng, facts.revenue_by_expr(eng, S, E, ["rep_id"], "order_date")).set_index("rep_id")
    assert od.loc["S1", "returns"] == 20 and od.loc["S2", "returns"] == 0


def test_a_customer_purchase_is_a_buying_day_net_of_that_days_refunds(eng):
    p = _x(eng, facts.customer_purchases_expr(eng, "2024-03-31"))
    c4 = p[p.customer_id == "C4"]
    assert c4["value"].tolist() == [30.0]  # O5 60 less R1 30 (refunded 2024-02-05 <= cut-off)
    c1 = p[p.customer_id == "C1"].sort_values("order_date")
    assert c1["value"].tolist() == [20.0, 30.0]  # R2 is after the cut-off
    later = _x(eng, facts.customer_purchases_expr(eng, "2024-04-30"))
    assert later[later.customer_id == "C1"].sort_values("order_date")["value"].tolist() == [0.0, 30.0]


def test_collection_counts_matched_payments_capped_at_the_invoice(eng):
    inv = _x(eng, facts.invoices_due_expr(eng, S, E)).set_index("invoice_id")
    assert sorted(inv.index) == ["I1", "I2", "I3", "I4"]  # I5 falls due after the period
    assert inv["collected"].to_dict() == {"I1": 150, "I2": 40, "I3": 20, "I4": 50}  # I3 paid 25: capped
    on_time = _x(eng, facts.invoices_due_expr(eng, S, E, on_time_only=True)).set_index("invoice_id")
    assert on_time["collected"].to_dict() == {"I1": 150, "I2": 0, "I3": 20, "I4": 0}
    monthly = _x(eng, facts.invoices_due_expr(eng, S, E, grain="month")).set_index("invoice_id")
    assert pd.Timestamp(monthly.loc["I1", "period"]) == pd.Timestamp("2024-02-01") and monthly["collected"].sum() == 260
    assert inv.loc["I1", ["distributor_id", "channel"]].tolist() == ["D1", "distribution"]


def test_a_payment_after_the_due_period_does_not_count_for_that_period(tmp_path):
    files = {**hand_sales.FILES, "payments.csv": "id,inv,date,amount\nPA1,I3,2024-03-02,20\n"}  # I3 due in Feb
    wh = handmade.build_warehouse(tmp_path, files, hand_sales.MAPS)
    from saleslab.engine import connect

    with connect(wh, "duckdb", {"memory_limit": "1GB", "temp_directory": str(tmp_path / "d")}) as e:
        whole = e.execute(facts.invoices_due_expr(e, S, E)).set_index("invoice_id")
        month = e.execute(facts.invoices_due_expr(e, S, E, grain="month")).set_index("invoice_id")
    assert whole.loc["I3", "collected"] == 20 and month.loc["I3", "collected"] == 0


def test_price_bands_are_one_definition_with_readable_labels():
    assert facts.price_band_labels("0,200,500") == ["<0", "0-200", "200-500", "≥500"]
    with pytest.raises(InvalidArgument, match="strictly increasing"):
        facts.parse_price_bands("0,500,200")


def test_the_product_master_has_one_row_per_product(tmp_path, open_engine):
    files = {**hand_sales.FILES, "products.csv": "sku,name,cat,price,cost\nP1,A,x,10,6\nP1,A2,x,10,7\nP2,B,x,30,12\n"}
    wh = handmade.build_warehouse(tmp_path, files, hand_sales.MAPS, quarantine_ok=True)
    e = open_engine(wh, "duckdb", tmp_path)
    try:
        p = e.execute(facts.products(e)).set_index("product_id")
        s = e.execute(facts.sales_lines(e, S, E))
    finally:
        e.close()
    assert len(p) == 2 and len(s) == 12  # a repeated product id never duplicates a sale


# Two order headers without lines (an ERP export of headers next to the lines), both refunded:
#   O20 2024-02-20 C1, R20 (5, 1x P1) — C1 bought nothing that day: no buying day, the refund is not a purchase's
#   O21 2024-02-10 C1, R21 (7, 1x P1) — the day of C1's O2 (30): that buying day is 30 - 7 = 23
HEADERLESS_FILES = {**FILES, "headers.csv": "order,date,cust,channel\nO20,2024-02-20,C1,direct\nO21,2024-02-10,C1,direct\n",
                    "returns.csv": FILES["returns.csv"] + "R20,O20,P1,2024-02-25,1,5\nR21,O21,P1,2024-02-12,1,7\n"}
HEADERLESS_MAPS = {**hand_sales.MAPS, "headers.yaml": handmade.source_yaml(
    "headers.csv", "orders", {"order_id": "order", "order_date": "date", "customer_id": "cust", "channel": "channel"})}


@pytest.fixture(scope="module")
def headerless(tmp_path_factory, backend, open_engine):
    wh = handmade.build_warehouse(tmp_path_factory.mktemp("headerless"), HEADERLESS_FILES, HEADERLESS_MAPS)
    e = open_engine(wh, backend, tmp_path_factory.mktemp("headerless_eng"))
    yield e
    e.close()


@pytest.mark.parametrize("start, end", [(None, "2024-03-31"), (S, E), ("2024-02-01", "2024-02-29"), (None, "2024-04-30")])
def test_purchase_totals_are_the_sums_of_the_buying_days(headerless, start, end):
    """customer_purchase_totals_expr (the CLV margin rate's sums, one pass without the customer x day
    grouping) gives the Σ value and Σ cost of customer_purchases_expr over the same days, to the cent,
    orders without lines included."""
    e = headerless
    o = _x(e, e.table("orders").filter(lambda t: t.order_id.isin(["O20", "O21"])))
    assert sorted(o.order_id) == ["O20", "O21"]  # the headers are in the warehouse, without lines
    days = _x(e, facts.customer_purchases_expr(e, end))
    if start:
        days = days[days.order_date >= pd.Timestamp(start)]
    t = _x(e, facts.customer_purchase_totals_expr(e, start, end)).iloc[0]
    assert int(t["value_cents"]) == round(days["value"].sum() * 100)
    assert int(t["cost_cents"]) == round(days["cost"].sum() * 100)
    c1 = days[days.customer_id == "C1"]
    c1 = c1.set_index(c1.order_date.astype(str))
    assert "2024-02-20" not in c1.index  # O20 alone: no buying day
    if "2024-02-10" in c1.index:
        assert c1.loc["2024-02-10", ["value", "cost"]].tolist() == [23.0, 6.0]  # O2 30 (cost 12) less R21 7 (cost 6)


def test_purchase_totals_by_hand(headerless):
    # all history to 2024-03-31: lines 10 (O0) + 610 (the period) = 620; refunds counted: R1 30 (O5),
    # R3 10 (O0), R21 7 (O2's day) = 47 (R2 is dated after, R20's day has no line) -> 573
    t = _x(headerless, facts.customer_purchase_totals_expr(headerless, None, "2024-03-31")).iloc[0]
    assert int(t["value_cents"]) == 57300
