"""Risk metrics (domain.md §10) on a hand-made warehouse (DuckDB and PySpark) and on the small demo.

The hand-made warehouse, report date AS_OF = 2024-06-30 (days past due = AS_OF − due date):

invoice order cust dist  due         dpd amount  payments (date: amount)                 outstanding
I1      O1    C1   -     2024-06-30    0   100   06-10: 40 (on time)                              60
I2      O1    C1   -     2024-05-31   30   200   -                                               200
I3      O2    C1   -     2024-05-30   31   300   07-05: 300 (after AS_OF: not counted)           300
I4      O2    C1   -     2024-05-01   60   400   04-20: 100 (on time), 05-10: 100 (late)         200
I5      O3    C2   -     2024-04-30   61   500   -                                               500
I6      O3    C2   -     2024-04-01   90   600   03-20: 300 (on time)                            300
I12     O3    C2   -     2024-04-15   76    50   04-10: 49.5 (on time) -> 0.5 left: not open       0
I7      O3    C2   -     2024-03-31   91   700   04-10: 200 (late)                               500
I8      O4    D1   D1    2024-01-01  181   800   -                                  bad debt     800
I9      O4    D1   D1    2024-01-02  180   900   01-02: 450 (on time)               not bad debt 450
I10     O5    D2   D2    2023-12-01  213  1000   11-25: 1200 (capped at 1000)                      0
I11     O1    C1   -     2024-07-15    -  5000   - (not yet due: in no table)
PX (no invoice id) 999 is matched to nothing.
Orders: O1, O2 (C1, direct, rep S1), O3 (C2, direct, rep S2), O4 (D1), O5 (D2) (distribution);
C1 is owned by S1 in the customer master, C2 has no owner (its orders' rep S2 owns it).
"""

import datetime as dt
import json
import re

import matplotlib
import pandas as pd
import pytest

import hand_sales
import handmade
from handmade import source_yaml
from saleslab import risk
from saleslab.engine import connect
from saleslab.errors import InsufficientData, MissingSource, ParameterError
from saleslab.params import validate_thresholds
from saleslab.report import i18n
from saleslab.risk import charts as risk_charts, story as risk_story

matplotlib.use("Agg")

START, AS_OF = "2023-01-01", "2024-06-30"
CJK = re.compile(r"[\u3400-\u9fff]")

MAPS = {
    "orders.yaml": handmade.orders_yaml(
        {"order_id": "order", "order_date": "date", "customer_id": "cust", "channel": "channel", "rep_id": "rep",
         "distributor_id": "dist"}),
    "products.yaml": handmade.PRODUCTS,
    "returns.yaml": handmade.RETURNS,
    "customers.yaml": source_yaml("customers.csv", "customers", {"customer_id": "id", "name": "name",
                                                                 "owner_rep_id": "owner"}),
    # the same mappings as the shared hand-made sales warehouse
    **{k: hand_sales.MAPS[k] for k in ("invoices.yaml", "payments.yaml", "distributors.yaml", "reps.yaml")},
    "inventory.yaml": source_yaml("inventory.csv", "inventory", {"snapshot_date": "date", "product_id": "sku",
                                                                 "warehouse": "wh", "quantity": "qty"}),
}

FILES = {
    # O3 sells 2 x 500 and one unit comes back (R2): C2's revenue is 500; C9 only returns in the
    # period (its order is of 2022): negative revenue, no share. S1..S5: anonymous retail sales of
    # June for the turnover watch (P1 costs 6): 10, 10, 10, 10, 12 units, 2 returned on 06-03 (R1).
    "orders.csv": "order,date,cust,channel,rep,dist,sku,qty,price\n"
                  "O0,2022-12-01,C9,retail,,,P1,1,10\n"
                  "O1,2024-05-20,C1,direct,S1,,P2,1,300\n"
                  "O2,2024-03-01,C1,direct,S1,,P2,1,700\n"
                  "O3,2024-01-10,C2,direct,S2,,P2,2,500\n"
                  "O4,2023-11-01,D1,distribution,,D1,P1,170,10\n"
                  "O5,2023-10-01,D2,distribution,,D2,P1,100,10\n"
                  "S1,2024-06-01,,retail,,,P1,10,10\n"
                  "S2,2024-06-02,,retail,,,P1,10,10\n"
                  "S3,2024-06-03,,retail,,,P1,10,10\n"
                  "S4,2024-06-04,,retail,,,P1,10,10\n"
                  "S5,2024-06-05,,retail,,,P1,12,10\n",
    "products.csv": "sku,name,cat,price,cost\nP1,A,x,10,6\nP2,B,y,300,100\n",
    "returns.csv": "id,order,sku,date,qty,amount\nR1,S3,P1,2024-06-03,2,20\nR2,O3,P2,2024-02-01,1,500\n"
                   "R3,O0,P1,2023-01-10,1,10\n",
    "customers.csv": "id,name,owner\nC1,甲公司,S1\nC2,乙公司,\nC9,丙公司,S2\n",
    "invoices.csv": "id,order,cust,dist,date,due,amount\n"
                    "I1,O1,C1,,2024-05-20,2024-06-30,100\n"
                    "I2,O1,C1,,2024-05-01,2024-05-31,200\n"
                    "I3,O2,C1,,2024-03-01,2024-05-30,300\n"
                    "I4,O2,C1,,2024-03-01,2024-05-01,400\n"
                    "I5,O3,C2,,2024-01-10,2024-04-30,500\n"
                    "I6,O3,C2,,2024-01-10,2024-04-01,600\n"
                    "I12,O3,C2,,2024-01-10,2024-04-15,50\n"
                    "I7,O3,C2,,2024-01-10,2024-03-31,700\n"
                    "I8,O4,D1,D1,2023-11-01,2024-01-01,800\n"
                    "I9,O4,D1,D1,2023-11-01,2024-01-02,900\n"
                    "I10,O5,D2,D2,2023-10-01,2023-12-01,1000\n"
                    "I11,O1,C1,,2024-05-20,2024-07-15,5000\n",
    "payments.csv": "id,inv,date,amount\n"
                    "PA1,I1,2024-06-10,40\nPA3,I3,2024-07-05,300\nPA4,I4,2024-04-20,100\nPA5,I4,2024-05-10,100\n"
                    "PA6,I6,2024-03-20,300\nPA12,I12,2024-04-10,49.5\nPA7,I7,2024-04-10,200\n"
                    "PA9,I9,2024-01-02,450\nPA10,I10,2023-11-25,1200\nPX,,2024-05-01,999\n",
    "distributors.csv": "id,name\nD1,一号经销\nD2,二号经销\n",
    "reps.csv": "id,name,team\nS1,Alice,T1\nS2,Bob,T1\n",
    # P1 holds 100 units (600 元 at cost) every day of 2024-06-01 .. 06-05
    "inventory.csv": "date,sku,wh,qty\n" + "".join(f"2024-06-0{d},P1,WH1,100\n" for d in range(1, 6)),
}

#: exposure thresholds small enough for the hand-made amounts (see test_credit_grade_follows_exposure)
SMALL = risk.Params(risk_exposure_low=500, risk_exposure_high=1000)


@pytest.fixture(scope="module")
def hand_warehouse(tmp_path_factory):
    return handmade.build_warehouse(tmp_path_factory.mktemp("hand_risk"), FILES, MAPS)


# --- receivables ageing -----------------------------------------------------------------------

def test_ageing_buckets_hold_their_upper_edge_and_count_payments_up_to_the_report_date(eng):
    a = risk.receivables_ageing(eng, AS_OF).set_index("customer_id")
    assert list(a.columns) == ["customer_name", "invoices_open", "outstanding", "0-30", "31-60", "61-90", ">90",
                               "max_days_overdue"]
    assert a.index.tolist() == ["C2", "D1", "C1"]  # largest outstanding first; D2 has nothing open
    # C1: I1 60 (0 days) + I2 200 (30 days) | I3 300 (31 days: its payment is after AS_OF) + I4 200 (60 days)
    assert a.loc["C1", ["invoices_open", "outstanding", "0-30", "31-60", "61-90", ">90"]].tolist() == \
        [4, 760, 260, 500, 0, 0]
    # C2: I5 500 (61) + I6 300 (90) | I7 500 (91); I12's 0.5 left is below risk_open_item_min
    assert a.loc["C2", ["invoices_open", "outstanding", "0-30", "31-60", "61-90", ">90", "max_days_overdue"]].tolist() \
        == [3, 1300, 0, 0, 800, 500, 91]
    assert a.loc["D1", ["outstanding", ">90", "max_days_overdue"]].tolist() == [1250, 1250, 181]
    assert a.loc["C1", "customer_name"] == "甲公司" and a.loc["D1", "customer_name"] == "一号经销"
    assert a.attrs["params"]["as_of"] == AS_OF


def test_payments_after_the_report_date_count_once_it_is_later(eng):
    a = risk.receivables_ageing(eng, "2024-07-05").set_index("customer_id")
    # I3 paid on 07-05; I11 (5000, due 07-15) is still not due
    assert a.loc["C1", "outstanding"] == 460 and a.loc["C1", "invoices_open"] == 3


def test_ageing_by_distributor_and_by_rep(eng):
    d = risk.receivables_ageing(eng, AS_OF, by="distributor")
    assert d[["distributor_id", "distributor_name", "outstanding"]].values.tolist() == [["D1", "一号经销", 1250]]
    r = risk.receivables_ageing(eng, AS_OF, by="rep")
    # distributor invoices carry no rep: not in the rep table
    assert r[["rep_id", "rep_name", "outstanding"]].values.tolist() == [["S2", "Bob", 1300], ["S1", "Alice", 760]]
    s = risk.ageing_summary(risk.receivables_ageing(eng, AS_OF))
    assert s["outstanding"].tolist() == [260, 500, 800, 1750]
    assert s["share"].sum() == pytest.approx(1.0)


def test_ageing_edges_are_a_parameter():
    p = risk.Params(risk_ageing_edges="45,90")
    assert risk.ageing_labels(p.ageing_edges) == ["0-45", "46-90", ">90"]
    with pytest.raises(ParameterError, match="risk_ageing_edges"):
        validate_thresholds({"risk_ageing_edges": "60,30"})


def test_ageing_with_other_edges(eng):
    a = risk.receivables_ageing(eng, AS_OF, risk.Params(risk_ageing_edges="45,90")).set_index("customer_id")
    assert a.loc["C1", ["0-45", "46-90", ">90"]].tolist() == [560, 200, 0]  # 0, 30, 31 days | 60 days
    assert a.loc["C2", ["0-45", "46-90", ">90"]].tolist() == [0, 800, 500]


# --- bad debt and distributor collection ------------------------------------------------------

def test_bad_debt_is_unpaid_more_than_180_days_past_due_over_those_invoices(eng):
    b = risk.bad_debt(eng, START, AS_OF)
    # mature: I8 (181 days, unpaid 800) and I10 (213 days, paid); I9 is exactly 180 days past due
    assert b[["scope", "mature_invoices", "invoiced", "bad_debt_invoices", "bad_debt"]].values.tolist() == \
        [["all", 2, 1800, 1, 800]]
    assert b.loc[0, "bad_debt_rate"] == pytest.approx(800 / 1800, abs=1e-6) and bool(b.loc[0, "above_target"])
    assert b.attrs["params"]["bad_debt_cutoff"] == "2024-01-01"
    ch = risk.bad_debt(eng, START, AS_OF, by="channel").set_index("channel")
    assert ch.index.tolist() == ["distribution"] and ch.loc["distribution", "bad_debt"] == 800
    # 179 days: I9 (180 days past due) is bad debt too, and more is invoiced
    b2 = risk.bad_debt(eng, START, AS_OF, risk.Params(risk_bad_debt_days=179))
    assert b2[["mature_invoices", "invoiced", "bad_debt"]].values.tolist() == [[3, 2700, 1250]]
    # a target above the rate: not above target
    assert not bool(risk.bad_debt(eng, START, AS_OF, risk.Params(risk_bad_debt_target=0.5)).loc[0, "above_target"])


def test_bad_debt_needs_mature_invoices(eng):
    with pytest.raises(InsufficientData, match="mature invoices"):
        risk.bad_debt(eng, "2024-03-01", AS_OF)


def test_distributor_collection_caps_overpayments(eng):
    d = risk.distributor_collection(eng, START, AS_OF).set_index("distributor_id")
    assert d.loc["D1", ["invoices", "invoiced", "collected", "outstanding", "max_days_overdue"]].tolist() == \
        [2, 1700, 450, 1250, 181]
    assert d.loc["D1", "collection_rate"] == pytest.approx(450 / 1700, abs=1e-6)
    assert d.loc["D1", "collection_status"] == "collection_low"
    assert d.loc["D2", ["collected", "collection_rate", "collection_status"]].tolist() == [1000, 1.0, "collection_ok"]
    w = risk.distributor_collection(eng, START, AS_OF, risk.Params(risk_distributor_collection_min=0.2,
                                                                    risk_distributor_collection_watch=0.3))
    assert w.set_index("distributor_id").loc["D1", "collection_status"] == "collection_watch"


# --- credit rating ----------------------------------------------------------------------------

def test_credit_rating_factors_points_and_owners(eng):
    c = risk.credit_rating(eng, START, AS_OF).set_index("customer_id")
    # C1: invoiced 1000 (I1-I4), collected 240, open 760; on time 40 + 100
    assert c.loc["C1", ["invoices", "invoiced", "collected", "outstanding"]].tolist() == [4, 1000, 240, 760]
    assert c.loc["C1", "unpaid_share"] == 0.76 and c.loc["C1", "late_share"] == 0.86
    assert c.loc["C1", "days_overdue"] == 35.9  # (60·0 + 200·30 + 300·31 + 200·60) / 760
    assert c.loc["C1", ["points_unpaid", "points_late", "points_overdue", "points_exposure", "credit_points"]].tolist() \
        == [2, 2, 1, 0, 5]
    # C2: 1850 invoiced, 549.5 collected, 1300 open (I12's remnant is not); on time 300 + 49.5
    assert c.loc["C2", ["invoiced", "collected", "outstanding"]].tolist() == [1850, 549.5, 1300]
    assert c.loc["C2", "unpaid_share"] == pytest.approx(1300 / 1850, abs=1e-6)
    assert c.loc["C2", "late_share"] == pytest.approx(1 - 349.5 / 1850, abs=1e-6)
    assert c.loc["C2", "days_overdue"] == 79.2  # (500·61 + 300·90 + 500·91) / 1300
    # D1: late share 0.7353 is 1 point (≤ 0.75), 180.6 days is 2
    assert c.loc["D1", ["points_unpaid", "points_late", "points_overdue", "credit_points"]].tolist() == [2, 1, 2, 5]
    assert c.loc["D2", ["unpaid_share", "late_share", "days_overdue", "credit_points", "credit_grade"]].tolist() == \
        [0, 0, 0, 0, "credit_a"]
    assert c["credit_grade"].to_dict() == {"C1": "credit_c", "C2": "credit_c", "D1": "credit_c", "D2": "credit_a"}
    # owners: the master's owner rep, else the rep of the orders, else the channel manager (distributors)
    assert c.loc["C1", ["risk_owner_type", "risk_owner", "risk_owner_name"]].tolist() == ["owner_rep", "S1", "Alice"]
    assert c.loc["C2", ["risk_owner_type", "risk_owner", "risk_owner_name"]].tolist() == ["owner_rep", "S2", "Bob"]
    assert c.loc["D1", ["risk_owner_type", "risk_owner"]].tolist() == ["owner_role", "role_channel_manager"]
    assert "C9" not in c.index  # no invoice: not rated


def test_credit_grade_follows_exposure(eng):
    c = risk.credit_rating(eng, START, AS_OF, SMALL).set_index("customer_id")
    assert c["points_exposure"].to_dict() == {"C2": 2, "D1": 2, "C1": 1, "D2": 0}
    assert c["credit_grade"].to_dict() == {"C2": "credit_d", "D1": "credit_d", "C1": "credit_d", "D2": "credit_a"}
    assert c.index.tolist() == ["C2", "D1", "C1", "D2"]  # points, then exposure
    g = risk.grade_counts(c.reset_index())
    assert g[["credit_grade", "customers", "outstanding"]].values.tolist() == \
        [["credit_a", 1, 0], ["credit_b", 0, 0], ["credit_c", 0, 0], ["credit_d", 3, 3310]]


def test_grade_cut_offs_are_parameters():
    pts = pd.Series([0, 1, 2, 3, 4, 5, 6, 8])
    assert risk.credit.grade_of(pts, risk.Params()).tolist() == \
        ["credit_a", "credit_a", "credit_b", "credit_b", "credit_c", "credit_c", "credit_d", "credit_d"]
    p = risk.Params(risk_grade_a_max=0, risk_grade_b_max=1, risk_grade_c_max=2)
    assert risk.credit.grade_of(pts, p).tolist()[:4] == ["credit_a", "credit_b", "credit_c", "credit_d"]
    with pytest.raises(ParameterError, match="risk_grade_b_max"):
        validate_thresholds({"risk_grade_b_max": 6})


# --- inventory turnover watch -----------------------------------------------------------------

TW = risk.Params(risk_turnover_window_days=1, risk_turnover_baseline_days=2, risk_turnover_baseline_min=2)


def test_turnover_deviation_from_its_own_expected_level(eng):
    w = risk.turnover_watch(eng, "2024-06-01", "2024-06-05", TW)
    assert w["category"].unique().tolist() == ["all", "x"]  # category y: neither stocked nor sold in June
    a = w[w["category"] == "all"].set_index("snapshot_date")
    # turnover = cost of the day / 600 at cost x 365: 60, 60, 60 - 12 (R1), 60, 72
    assert a["cogs_window"].tolist() == [60, 60, 48, 60, 72]
    assert a["stock_value"].tolist() == [600] * 5
    assert a["turnover"].tolist() == [36.5, 36.5, 29.2, 36.5, 43.8]
    # expected = mean of the observations in the 2 days before, when there are 2 of them
    assert a["expected_turnover"].isna().tolist() == [True, True, False, False, False]
    assert a["expected_turnover"].tolist()[2:] == [36.5, 32.85, 32.85]
    assert a["turnover_deviation"].tolist()[2:] == pytest.approx([-0.2, 36.5 / 32.85 - 1, 43.8 / 32.85 - 1], abs=1e-6)
    assert a["turnover_alert"].tolist() == [False, False, True, True, True]
    assert a["turnover_direction"].tolist() == ["turnover_steady"] * 2 + ["turnover_down", "turnover_up", "turnover_up"]
    assert set(w["watch_frequency"]) == {"freq_daily"} and w.attrs["params"]["median_gap_days"] == 1
    x = w[w["category"] == "x"].reset_index(drop=True)
    assert x["turnover"].tolist() == a["turnover"].tolist()


def test_turnover_threshold_is_a_parameter_and_the_latest_observation_raises_the_alert(eng):
    quiet = risk.Params(risk_turnover_window_days=1, risk_turnover_baseline_days=2, risk_turnover_deviation_max=0.35,
                        risk_turnover_deviation_high=0.5)
    w = risk.turnover_watch(eng, "2024-06-01", "2024-06-05", quiet)
    assert not w["turnover_alert"].any()
    w = risk.turnover_watch(eng, "2024-06-01", "2024-06-05", TW)
    last = risk.latest_turnover(w).set_index("category")
    assert last.loc["all", ["flagged_observations", "judged_observations"]].tolist() == [3, 3]
    al = risk.risk_alerts(risk.RiskTables(turnover=w))
    assert al[["alert", "severity", "entity_id", "risk_owner"]].values.tolist() == [
        ["alert_turnover", "severity_high", "all", "role_inventory_manager"],
        ["alert_turnover", "severity_high", "x", "role_inventory_manager"]]
    assert al["alert_value"].tolist() == pytest.approx([43.8 / 32.85 - 1] * 2, abs=1e-6)
    assert al["observed_on"].tolist() == ["2024-06-05"] * 2
    medium = risk.Params(risk_turnover_window_days=1, risk_turnover_baseline_days=2, risk_turnover_deviation_high=0.4)
    al = risk.risk_alerts(risk.RiskTables(turnover=risk.turnover_watch(eng, "2024-06-01", "2024-06-05", medium)))
    assert set(al["severity"]) == {"severity_medium"} and set(al["alert_threshold"]) == {0.03}


def test_watch_frequency_follows_the_snapshots():
    month_ends = [dt.date(2024, m, 1) - dt.timedelta(days=1) for m in range(2, 13)]
    assert risk.frequency_of(month_ends)[0] == "freq_monthly"
    days = [dt.date(2024, 1, 1) + dt.timedelta(days=i) for i in range(10)]
    assert risk.frequency_of(days) == ("freq_daily", 1.0)
    assert risk.frequency_of(days[::7])[0] == "freq_weekly"
    assert risk.frequency_of(days[:1])[0] == "freq_irregular"


def test_turnover_needs_snapshots_in_the_period(eng):
    with pytest.raises(InsufficientData, match="no inventory snapshot"):
        risk.turnover_watch(eng, "2024-01-01", "2024-01-31", TW)


# --- concentration ----------------------------------------------------------------------------

def test_top_share_and_hhi_by_channel(eng):
    c = risk.concentration_by_channel(eng, START, AS_OF, risk.Params(risk_top_n=2)).set_index("channel")
    assert c.index.tolist() == ["all", "distribution", "direct", "retail"]
    # direct: C1 1000, C2 1000 - 500 returned
    assert c.loc["direct", ["customers", "revenue", "top_revenue", "top_share"]].tolist() == [2, 1500, 1500, 1.0]
    assert c.loc["direct", "hhi"] == pytest.approx((2 / 3) ** 2 + (1 / 3) ** 2, abs=1e-6)
    # distribution: D1 1700, D2 1000
    assert c.loc["distribution", "hhi"] == pytest.approx((17 / 27) ** 2 + (10 / 27) ** 2, abs=1e-6)
    assert c.loc["distribution", ["largest_customer", "largest_share"]].tolist() == ["D1", round(17 / 27, 6)]
    # all: D1 1700, then C1 and D2 with 1000 each (C1 first by id), C2 500; C9 (returns only) holds no share
    assert c.loc["all", ["customers", "revenue", "top_revenue"]].tolist() == [4, 4200, 2700]
    assert c.loc["all", "top_share"] == pytest.approx(2700 / 4200, abs=1e-6)
    assert c.loc["all", "hhi"] == pytest.approx((1700 ** 2 + 2 * 1000 ** 2 + 500 ** 2) / 4200 ** 2, abs=1e-6)
    assert c.loc["all", "equivalent_customers"] == round(1 / c.loc["all", "hhi"], 2)
    # retail: anonymous buyers and a customer with only a return: nobody to concentrate on
    assert c.loc["retail", "customers"] == 0 and pd.isna(c.loc["retail", "hhi"])


def test_concentration_alerts_on_hhi_and_on_top_share_of_large_channels(eng):
    c = risk.concentration_by_channel(eng, START, AS_OF, risk.Params(risk_top_n=2))
    al = risk.risk_alerts(risk.RiskTables(concentration=c))
    # both channels' HHI > 0.25: high; the retail channel has no customer
    assert al[["entity_id", "severity", "alert_metric"]].values.tolist() == [
        ["distribution", "severity_high", "hhi"], ["direct", "severity_high", "hhi"]]
    c = risk.concentration_by_channel(eng, START, AS_OF, risk.Params(risk_top_n=1, risk_hhi_max=0.9, risk_hhi_high=0.95,
                                                                     risk_top_share_max=0.6))
    al = risk.risk_alerts(risk.RiskTables(concentration=c))
    # top-1 share: direct 2/3, distribution 17/27 = 0.63, both channels have more than 1 customer
    assert al[["entity_id", "severity", "alert_metric"]].values.tolist() == [
        ["distribution", "severity_medium", "top_share"], ["direct", "severity_medium", "top_share"]]


# --- alerts -----------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def hand_tables(eng):
    return risk.risk_tables(eng, START, "2024-06-05", AS_OF, SMALL)


def test_alerts_have_severity_owner_and_evidence(hand_tables):
    al = risk.risk_alerts(hand_tables)
    assert list(al.columns) == risk.alerts.COLUMNS
    high = al[al["severity"] == "severity_high"]
    assert high["alert"].tolist()[:5] == ["alert_distributor_collection", "alert_credit_grade", "alert_credit_grade",
                                          "alert_credit_grade", "alert_bad_debt"]
    dist = al[al["alert"] == "alert_distributor_collection"].iloc[0]
    assert dist[["entity_id", "entity_name", "risk_owner", "alert_metric", "alert_threshold", "at_stake",
                 "days_overdue"]].tolist() == ["D1", "一号经销", "role_channel_manager", "collection_rate", 0.6, 1250, 181]
    assert dist["alert_value"] == pytest.approx(450 / 1700, abs=1e-6)
    credit = al[al["alert"] == "alert_credit_grade"]
    assert credit[["entity_id", "risk_owner", "alert_value", "alert_threshold"]].values.tolist() == [
        ["C2", "S2", 7, 6], ["D1", "role_channel_manager", 7, 6], ["C1", "S1", 6, 6]]
    bad = al[al["alert"] == "alert_bad_debt"].iloc[0]
    assert bad[["entity_id", "risk_owner", "at_stake", "alert_threshold"]].tolist() == \
        ["all", "role_finance_manager", 800, 0.02]
    assert risk.alert_counts(al)["high"] == len(high)
    for lang in ("zh-CN", "en"):
        ev = risk_story.with_evidence(al, lang)["evidence"]
        assert ev.str.len().gt(0).all()
    en = risk_story.with_evidence(al, "en").set_index("alert")["evidence"]
    assert en["alert_distributor_collection"] == ("collection rate 26.5% below 60.0%; CNY 1.25 K outstanding, "
                                                  "oldest 181 days past due")
    assert en["alert_bad_debt"] == "bad-debt rate 44.4% above the 2.0% target; CNY 800 unpaid more than 180 days past due"


def test_credit_c_alerts_only_with_exposure_above_the_low_line(eng):
    t = risk.RiskTables(credit=risk.credit_rating(eng, START, AS_OF))  # all C, exposures ≤ 50,000
    assert risk.risk_alerts(t).empty
    t = risk.RiskTables(credit=risk.credit_rating(eng, START, AS_OF, risk.Params(risk_exposure_low=700,
                                                                                 risk_exposure_high=100000)))
    al = risk.risk_alerts(t)  # C2 1300, D1 1250, C1 760 score 6 -> D
    assert set(al["severity"]) == {"severity_high"}


def test_missing_sources_are_kept_for_their_section(tmp_path, open_engine):
    files = {k: FILES[k] for k in ("orders.csv", "products.csv")}
    maps = {k: MAPS[k] for k in ("orders.yaml", "products.yaml")}
    with open_engine(handmade.build_warehouse(tmp_path, files, maps), "duckdb", tmp_path) as e:
        t = risk.risk_tables(e, START, AS_OF, AS_OF)
        assert t.concentration is not None and t.credit is None
        with pytest.raises(MissingSource) as err:
            t.get("credit")
        assert set(err.value.tables) == {"invoices", "payments"}
        with pytest.raises(MissingSource) as err:
            t.get("turnover")
        assert err.value.tables == ("inventory",)
        al = risk.risk_alerts(t)
        assert list(al.columns) == risk.alerts.COLUMNS
        assert risk.headlines(t, al)["risk_receivables_overdue"] is None
        text = risk_story.risk_narrative("en", al, t)
        assert text.count("\n- ") == 0  # only the alert count: the other findings need invoices


# --- story, charts, labels --------------------------------------------------------------------

def test_story_and_charts_show_the_thresholds_the_tables_were_computed_with(eng, hand_tables):
    p = risk.Params(risk_distributor_collection_min=0.3, risk_distributor_collection_watch=0.5,
                    risk_bad_debt_target=0.5)
    dist = risk.distributor_collection(eng, START, AS_OF, p)
    bad = risk.bad_debt(eng, START, AS_OF, p)
    for lang in ("zh-CN", "en"):
        assert "30.0%" in risk_story.distributors_text(dist, lang) and "D1" in risk_story.distributors_text(dist, lang)
        assert "50.0%" in risk_story.bad_debt_text(bad, lang) and "44.4%" in risk_story.bad_debt_text(bad, lang)
    assert "within the 50.0% target" in risk_story.bad_debt_text(bad, "en")
    fig = risk_charts.collection_chart(dist, "en")
    lines = {ln.get_label(): ln.get_ydata()[0] for ln in fig.axes[0].get_lines()}
    assert lines == {"Alert line 30%": 0.3, "Watch line 50%": 0.5}
    text = risk_story.turnover_text(risk.turnover_watch(eng, "2024-06-01", "2024-06-05", TW), "en")
    assert "watched **daily**" in text and "3 of 3 observations" in text
    figs = [risk_charts.ageing_chart(risk.ageing_summary(hand_tables.ageing_customer), "zh-CN"),
            risk_charts.credit_chart(risk.grade_counts(hand_tables.credit), "en"),
            risk_charts.turnover_chart(risk.turnover_watch(eng, "2024-06-01", "2024-06-05", TW), "en"),
            risk_charts.concentration_chart(hand_tables.concentration, "zh-CN"), fig]
    assert all(len({p.get_facecolor() for ax in f.axes for p in ax.patches}) <= 5 for f in figs)
    matplotlib.pyplot.close("all")


def test_every_column_and_code_has_labels_and_english_text_has_no_chinese(hand_tables):
    al = risk_story.with_evidence(risk.risk_alerts(hand_tables), "en")
    frames = [hand_tables.distributors, hand_tables.credit, hand_tables.bad_debt, hand_tables.turnover,
              hand_tables.concentration, al, risk.latest_turnover(hand_tables.turnover),
              risk.grade_counts(hand_tables.credit), risk.ageing_summary(hand_tables.ageing_customer)]
    buckets = set(risk.ageing_labels(risk.Params().ageing_edges))
    for df in frames + [hand_tables.ageing_customer, hand_tables.ageing_distributor, hand_tables.ageing_rep]:
        for col in df.columns:
            assert col in buckets or col in i18n.LABELS, col
    codes = [*risk.GRADES, *risk.SEVERITIES, *risk.ALERTS, *risk.FREQUENCIES, *risk.COLLECTION_STATUS,
             *risk.alerts.ENTITIES, *risk.credit.ROLES, *risk.credit.OWNER_TYPES, *risk.inventory.DIRECTIONS]
    assert [c for c in codes if c not in i18n.LABELS] == []
    en = "\n".join([risk_story.risk_narrative("en", al, hand_tables), *al["evidence"],
                    risk_story.concentration_text(hand_tables.concentration, "en")])
    assert not CJK.search(en), CJK.search(en)


# --- small demo: the planted distributor with poor collection raises a high alert --------------

@pytest.fixture(scope="module")
def demo(demo_warehouse, demo_dir, tmp_path_factory):
    planted = json.loads((demo_dir / "truth" / "planted.json").read_text(encoding="utf-8"))
    with connect(demo_warehouse, "duckdb", {"memory_limit": "1GB",
                                            "temp_directory": str(tmp_path_factory.mktemp("d"))}) as e:
        tables = risk.risk_tables(e, "2023-01-01", "2025-12-31", "2025-12-31")
        from saleslab.channels import distributor_performance

        channels = distributor_performance(e, "2023-01-01", "2025-12-31")
    return planted, tables, risk.risk_alerts(tables), channels


def test_demo_weak_distributor_raises_a_high_collection_alert(demo):
    planted, tables, alerts, _ = demo
    weak = planted["weak_distributor"]["ids"]
    high = alerts[(alerts["alert"] == "alert_distributor_collection") & (alerts["severity"] == "severity_high")]
    assert sorted(high["entity_id"]) == sorted(weak)
    d = tables.distributors.set_index("distributor_id")
    assert all(0.3 <= d.loc[i, "collection_rate"] <= 0.55 for i in weak)  # planted ≈ 35–50 %
    assert (d.drop(index=weak)["collection_rate"] >= 0.6).all()
    credit = alerts[alerts["alert"] == "alert_credit_grade"]
    assert set(weak) <= set(credit[credit["severity"] == "severity_high"]["entity_id"])


def test_demo_collection_agrees_with_the_channels_stage(demo):
    _, tables, _, channels = demo
    mine = tables.distributors.set_index("distributor_id")["collection_rate"]
    theirs = channels.set_index("distributor_id")["collection_rate"].reindex(mine.index)
    assert mine.tolist() == pytest.approx(theirs.tolist(), abs=1e-6)


def test_demo_tables_add_up(demo):
    _, tables, alerts, _ = demo
    a = tables.ageing_customer
    buckets = risk.ageing_labels(risk.Params().ageing_edges)
    assert (a[buckets].sum(axis=1) - a["outstanding"]).abs().max() < 0.01
    assert set(tables.turnover["watch_frequency"]) == {"freq_monthly"}  # the demo sends month-end snapshots
    assert 0 < tables.bad_debt.loc[0, "bad_debt_rate"] < 1
    conc = tables.concentration.set_index("channel")
    assert ((conc["hhi"].dropna() > 0) & (conc["hhi"].dropna() <= 1)).all()
    assert alerts["severity"].iloc[0] == "severity_high"
