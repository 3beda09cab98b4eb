"""Customer segments (domain.md §6): RFM, tiers, rule tags, firmographics, value matrix.

Hand-made warehouse, as of 2024-12-31 (RFM window 2024-01-01 .. 2024-12-31; the 12 months before:
2023; "recent" = 2024-10-01 .. 2024-12-31; no follow-up after 2024-06-30 = 6 months without).
Every order is one line of P1 (price 10, unit cost 6), so an order of q units is 10 q 元.

 cust  orders in 2024 (date: units)                         2023 orders     returns            R    F  M
 A     03-01:25 06-01:25 09-01:25 12-31:25                   –               (2025 return: out)  0   4  1000
 B     12-31:80                                              –                                   0   1   800
 C     02-01:3 05-01:3 12-21:4                               11-01:3         –                  10   3   100
 D     12-01:12                                              –               2 units 12-15: −20 30   1   100
 E     04-01:20 12-01:20                                     05-01:50                           30   2   400
 F     12-01:5                                               08-01:4                            30   1    50
 G     02-01:20 05-01:20 09-22:20                            03-01:150                         100   3   600
 H     06-14:50                                              12-20:10        1 unit 2024-01-10 of
                                                                             the 2023 order: −10 200  1   490
 I     01-15:1 03-06:2                                       02-01:6                           300   2    30
 J     01-01:2                                               –                                 365   1    20
 K     –                                                     06-01:10        (lapsed: not in RFM)
 (anonymous order in 2024: not a customer)

Scores (n = 10, score = 1 + ⌊5 w / 10⌋, w = customers strictly worse):
 R: A5 B5 C4 D3 E3 F3 G2 H2 I1 J1 (mean 2.9)   F: A5 C4 G4 E3 I3, B D F H J 1 (mean 2.4)
 M: A5 B5 G4 H4 E3 C2 D2 F2 I1 J1 (mean 2.9)
Classes: A, E important value; B important development; C general value; D, F general development;
G important retention; H important win-back; I general retention; J general win-back.

With ``returns_basis="order_date"`` a return counts on its order's date: H's 2024-01-10 return of
its 2023 order leaves the window (H: 500), A's 2025 return of its 2024-12-31 order enters it (A: 950).
"""

import re


import numpy as np
import pandas as pd
import pytest
from pydantic import ValidationError

import handmade
from handmade import source_yaml
from saleslab.clv.params import Params as ClvParams
from saleslab.customers import segments as sg
from saleslab.customers.params import Params
from saleslab.errors import ParameterError, SalesLabError
from saleslab.facts import Params as FactsParams
from saleslab.params import used

AS_OF = "2024-12-31"

ORDERS = """order,date,cust,channel,region,sku,qty,price
A1,2024-03-01,A,direct,east,P1,25,10
A2,2024-06-01,A,direct,east,P1,25,10
A3,2024-09-01,A,direct,east,P1,25,10
A4,2024-12-31,A,direct,east,P1,25,10
B1,2024-12-31,B,direct,east,P1,80,10
C0,2023-11-01,C,online,east,P1,3,10
C1,2024-02-01,C,online,east,P1,3,10
C2,2024-05-01,C,online,east,P1,3,10
C3,2024-12-21,C,online,east,P1,4,10
D1,2024-12-01,D,direct,east,P1,12,10
E0,2023-05-01,E,direct,east,P1,50,10
E1,2024-04-01,E,direct,east,P1,20,10
E2,2024-12-01,E,direct,east,P1,20,10
F0,2023-08-01,F,retail,east,P1,4,10
F1,2024-12-01,F,retail,east,P1,5,10
G0,2023-03-01,G,direct,east,P1,150,10
G1,2024-02-01,G,direct,east,P1,20,10
G2,2024-05-01,G,direct,east,P1,20,10
G3,2024-09-22,G,direct,east,P1,20,10
H0,2023-12-20,H,direct,east,P1,10,10
H1,2024-06-14,H,direct,east,P1,50,10
I0,2023-02-01,I,online,east,P1,6,10
I1,2024-01-15,I,online,east,P1,1,10
I2,2024-03-06,I,online,east,P1,2,10
J1,2024-01-01,J,online,east,P1,2,10
K1,2023-06-01,K,direct,east,P1,10,10
N1,2024-12-30,,retail,east,P1,99,10
"""

FILES = {
    "orders.csv": ORDERS,
    "products.csv": "sku,name,cat,price,cost\nP1,A,x,10,6\n",
    "returns.csv": "id,order,sku,date,qty,amount\nR1,D1,P1,2024-12-15,2,20\nR2,H0,P1,2024-01-10,1,10\n"
                   "R3,A4,P1,2025-01-05,5,50\n",
    # K is a company without an owner rep (a distributor, say): the CRM does not cover it
    "customers.csv": "id,name,type,industry,employees,owner\n"
                     "A,甲,company,制造业,500,S1\nB,乙,company,零售业,499,S1\nC,丙,person,,,\nD,丁,company,服务业,50,S1\n"
                     "E,戊,company,其他,49,S1\nG,己,company,批发业,0,S1\nH,庚,company,,,S1\nI,辛,person,,,\nJ,壬,person,,,\n"
                     "K,癸,company,制造业,10,\n",
    # H: 2 follow-ups in the last 3 months and no order there; D's last one is on the 6-month edge;
    # E's the day after it; B's only one is after as_of; F1 has no customer (a lead)
    "followups.csv": "id,cust,date,kind\nF1,,2024-12-01,call\nF2,A,2024-11-01,visit\nF3,A,2024-12-01,visit\n"
                     "F4,H,2024-10-15,call\nF5,H,2024-11-20,call\nF6,D,2024-06-30,visit\nF7,E,2024-07-01,visit\n"
                     "F8,B,2025-01-10,call\nF9,J,2024-12-01,message\n",
}
MAPS = {
    "orders.yaml": handmade.ORDERS,
    "products.yaml": handmade.PRODUCTS,
    "returns.yaml": handmade.RETURNS,
    "customers.yaml": source_yaml("customers.csv", "customers", {"customer_id": "id", "name": "name",
                                                                 "customer_type": "type", "industry": "industry",
                                                                 "employees": "employees", "owner_rep_id": "owner"}),
    "followups.yaml": source_yaml("followups.csv", "followups", {"followup_id": "id", "customer_id": "cust",
                                                                 "followup_date": "date", "kind": "kind"}),
}

RFM = {  # customer: (recency_days, frequency, monetary)
    "A": (0, 4, 1000.0), "B": (0, 1, 800.0), "C": (10, 3, 100.0), "D": (30, 1, 100.0), "E": (30, 2, 400.0),
    "F": (30, 1, 50.0), "G": (100, 3, 600.0), "H": (200, 1, 490.0), "I": (300, 2, 30.0), "J": (365, 1, 20.0),
}
CLASSES = {"A": "rfm_important_value", "B": "rfm_important_development", "C": "rfm_general_value",
           "D": "rfm_general_development", "E": "rfm_important_value", "F": "rfm_general_development",
           "G": "rfm_important_retention", "H": "rfm_important_winback", "I": "rfm_general_retention",
           "J": "rfm_general_winback"}


@pytest.fixture(scope="module")
def hand_warehouse(tmp_path_factory):
    return handmade.build_warehouse(tmp_path_factory.mktemp("hand_segments"), FILES, MAPS)


@pytest.fixture(scope="module")
def scored(eng):
    return sg.rfm(eng, AS_OF)


@pytest.fixture(scope="module")
def activity(eng):
    return sg.customer_activity(eng, AS_OF)


# --- RFM ----------------------------------------------------------------------------------------

def _rfm(df):
    return {r.customer_id: (int(r.recency_days), int(r.frequency), float(r.monetary)) for r in df.itertuples()}


def test_rfm_expr_counts_window_orders_and_nets_returns_when_they_happen(eng):
    """Parity: the same hand-computed table on DuckDB and PySpark. H's return of its 2023 order
    counts on its 2024 return date, against H; A's return dated after as_of does not count."""
    df = eng.execute(sg.rfm_expr(eng, AS_OF)).sort_values("customer_id")
    assert _rfm(df) == RFM  # K (2023 only) and the anonymous order are not customers of the window


def test_rfm_monetary_follows_the_returns_basis_of_the_facts_layer(eng):
    df = eng.execute(sg.rfm_expr(eng, AS_OF, facts_params=FactsParams(returns_basis="order_date")))
    want = dict(RFM, H=(200, 1, 500.0), A=(0, 4, 950.0))  # R2 moves to 2023, R3 to 2024-12-31
    assert _rfm(df.sort_values("customer_id")) == want
    scored = sg.rfm(eng, AS_OF, facts_params=FactsParams(returns_basis="order_date"))
    assert used(scored, "returns_basis") == "order_date" and used(scored, "rfm_window_months") == 12


def test_rfm_window_is_a_parameter(eng):
    df = eng.execute(sg.rfm_expr(eng, AS_OF, Params(rfm_window_months=24))).set_index("customer_id")
    assert df.loc["K", ["recency_days", "frequency", "monetary"]].tolist() == [579, 1, 100.0]
    # G: 2023 order counted, the return of H0 is now beside its sale
    assert df.loc["G", ["frequency", "monetary"]].tolist() == [4, 2100.0]
    assert df.loc["H", ["frequency", "monetary"]].tolist() == [2, 590.0]


def test_scores_are_quintiles_with_shared_scores_for_ties(scored):
    s = scored.set_index("customer_id")
    assert s["r_score"].to_dict() == dict(A=5, B=5, C=4, D=3, E=3, F=3, G=2, H=2, I=1, J=1)
    assert s["f_score"].to_dict() == dict(A=5, B=1, C=4, D=1, E=3, F=1, G=4, H=1, I=3, J=1)
    assert s["m_score"].to_dict() == dict(A=5, B=5, C=2, D=2, E=3, F=2, G=4, H=4, I=1, J=1)


def test_each_of_the_eight_classes_follows_high_low_against_the_mean_score(scored):
    assert scored.set_index("customer_id")["rfm_class"].to_dict() == CLASSES
    assert set(scored["rfm_class"]) == set(sg.RFM_CLASSES)


def test_quintile_score_equals_brute_force_count_of_worse_values():
    rng = np.random.default_rng(3)
    for n in (1, 2, 5, 7, 23, 100):
        v = pd.Series(rng.integers(0, 6, n).astype(float))
        naive = [1 + (5 * sum(1 for y in v if y < x)) // n for x in v]
        assert sg.quintile_score(v).tolist() == naive
        naive_low = [1 + (5 * sum(1 for y in v if y > x)) // n for x in v]
        assert sg.quintile_score(v, higher_is_better=False).tolist() == naive_low


def test_distinct_values_fill_five_equal_groups():
    s = sg.quintile_score(pd.Series(np.arange(20.0)[::-1]))
    assert s.value_counts().sort_index().tolist() == [4, 4, 4, 4, 4]
    assert s.iloc[0] == 5 and s.iloc[-1] == 1


def test_threshold_score3_differs_from_mean_for_a_middle_score():
    # five distinct values: scores 1..5, mean 3 -> score 3 is low against the mean, high with score3
    t = pd.DataFrame({"customer_id": list("abcde"), "recency_days": [50, 40, 30, 20, 10],
                      "frequency": [1, 2, 3, 4, 5], "monetary": [10.0, 20, 30, 40, 50]})
    by_mean = sg.score_rfm(t, Params(rfm_threshold="mean")).set_index("customer_id")["rfm_class"]
    by3 = sg.score_rfm(t, Params(rfm_threshold="score3")).set_index("customer_id")["rfm_class"]
    assert by_mean["c"] == "rfm_general_winback" and by3["c"] == "rfm_important_value"
    assert by_mean["d"] == by3["d"] == "rfm_important_value"
    with pytest.raises(ValidationError):
        Params(rfm_threshold="median")


def test_money_is_rounded_before_ranking():
    # float noise below a cent does not split a tie
    t = pd.DataFrame({"customer_id": ["a", "b", "c"], "recency_days": [1, 1, 1], "frequency": [1, 1, 1],
                      "monetary": [0.1 + 0.2, 0.3, 0.1]})
    s = sg.score_rfm(t).set_index("customer_id")["m_score"]
    assert s["a"] == s["b"] == 2 and s["c"] == 1


def test_rfm_summary_classes_add_up_to_the_customers(scored):
    summ = sg.rfm_summary(scored).set_index("rfm_class")
    assert summ.index.tolist() == list(sg.RFM_CLASSES)
    assert summ["customers"].sum() == len(scored) == 10
    assert summ.loc["rfm_important_value", ["customers", "revenue"]].tolist() == [2, 1400.0]
    assert summ.loc["rfm_general_development", ["customers", "revenue"]].tolist() == [2, 150.0]
    assert summ["revenue_share"].sum() == pytest.approx(1.0)
    assert summ.loc["rfm_important_value", "revenue_share"] == pytest.approx(1400 / 3590)
    assert summ.loc["rfm_important_value", "treatment"] == "treat_important_value"


def test_rfm_grid_counts_customers_per_r_and_f_score(scored):
    g = sg.rfm_grid(scored).set_index(["r_score", "f_score"])
    assert len(g) == 25 and g["customers"].sum() == 10
    assert g.loc[(5, 5), "customers"] == 1 and g.loc[(5, 1), "customers"] == 1  # A; B
    assert g.loc[(3, 1), ["customers", "avg_monetary"]].tolist() == [2, 75.0]  # D 100, F 50


# --- tiers --------------------------------------------------------------------------------------

def test_default_tiers_churn_risk_is_longest_recency_then_value_ranks(scored):
    tiers = sg.assign_tiers(scored)
    got = dict(zip(scored["customer_id"], tiers))
    assert got == {"J": "tier_churn_risk", "I": "tier_churn_risk", "A": "tier_high_value", "B": "tier_high_value",
                   "G": "tier_potential", "H": "tier_potential", "E": "tier_potential",
                   "C": "tier_basic", "D": "tier_basic", "F": "tier_basic"}


def test_tier_ties_break_by_revenue_frequency_then_id(scored):
    # churn 5: J I H G then the least revenue among the three at 30 days (F);
    # high 2 (A, B), potential 2: E, then C before D (same revenue, more orders)
    tiers = sg.assign_tiers(scored, Params(tier_high_share=0.2, tier_potential_share=0.2, tier_basic_share=0.1,
                                           tier_churn_share=0.5))
    got = dict(zip(scored["customer_id"], tiers))
    assert sorted(k for k, v in got.items() if v == "tier_churn_risk") == ["F", "G", "H", "I", "J"]
    assert [k for k in "ABCDE" if got[k] == "tier_potential"] == ["C", "E"]
    assert got["D"] == "tier_basic"


def test_tier_shares_must_add_up_to_one_and_the_message_names_the_four_keys():
    with pytest.raises(ValidationError) as e:
        Params(tier_high_share=0.2)
    assert all(k in str(e.value) for k in ("tier_high_share", "tier_potential_share", "tier_basic_share",
                                           "tier_churn_share"))
    with pytest.raises(ParameterError, match="tier_basic_share"):
        from saleslab.params import validate_thresholds

        validate_thresholds({"tier_basic_share": 0.3})


def test_tier_summary_adds_up(scored):
    seg = sg.segment_table(scored, sg.assign_tiers(scored))
    ts = sg.tier_summary(seg).set_index("customer_tier")
    assert ts["customers"].tolist() == [2, 3, 3, 2]
    assert ts.loc["tier_high_value", "revenue"] == 1800.0
    assert ts["revenue"].sum() == pytest.approx(3590.0)


# --- activity and rule tags ---------------------------------------------------------------------

def test_activity_nets_returns_counts_repeat_orders_and_followups(activity):
    a = activity.set_index("customer_id")
    assert a.loc["H", ["revenue_12m", "revenue_prev_12m", "revenue_change"]].tolist() == [490.0, 100.0, 390.0]
    # H: 500 sold at cost 300, 1 unit (cost 6) returned -> profit 490 - 294
    assert a.loc["H", ["cost_12m", "gross_profit_12m"]].tolist() == [294.0, 196.0]
    assert a.loc["D", ["revenue_12m", "gross_profit_12m"]].tolist() == [100.0, 40.0]
    assert a["repeat_orders_12m"].to_dict() == dict(A=3, B=0, C=3, D=0, E=2, F=1, G=3, H=1, I=2, J=0, K=0)
    assert a.loc["H", ["orders_recent", "followups_recent", "followups"]].tolist() == [0, 2, 2]
    assert a.loc["A", ["orders_recent", "followups_recent"]].tolist() == [1, 2]
    assert str(a.loc["D", "last_followup_date"]) == "2024-06-30"
    assert pd.isna(a.loc["B", "last_followup_date"])  # its follow-up is after as_of
    assert a["crm_managed"].to_dict() == dict(A=True, B=True, C=False, D=True, E=True, F=False, G=True, H=True,
                                              I=False, J=True, K=False)  # J: followed up once; K: no owner rep
    assert str(a.loc["G", "last_order_date"]) == "2024-09-22" and str(a.loc["K", "last_order_date"]) == "2023-06-01"
    assert str(a.loc["H", "last_order_date"]) == "2024-06-14"  # its 2024-01-10 return is not a sale
    assert "K" in a.index and a.loc["K", "revenue_12m"] == 0


def test_activity_money_follows_the_returns_basis(eng):
    a = sg.customer_activity(eng, AS_OF, facts_params=FactsParams(returns_basis="order_date")).set_index("customer_id")
    # H's return now counts in 2023, against the 2023 order; A's 2025 return against its 2024 order
    assert a.loc["H", ["revenue_12m", "revenue_prev_12m", "cost_12m"]].tolist() == [500.0, 90.0, 300.0]
    assert a.loc["A", ["revenue_12m", "cost_12m", "gross_profit_12m"]].tolist() == [950.0, 570.0, 380.0]
    assert a.loc["D", "revenue_12m"] == 100.0  # its return falls in the window on either basis
    assert used(a, "returns_basis") == "order_date"


def test_activity_restricted_to_given_customers_fills_zeros(eng):
    a = sg.customer_activity(eng, AS_OF, customer_ids=["B", "ZZ"]).set_index("customer_id")
    assert a.index.tolist() == ["B", "ZZ"]
    assert a.loc["ZZ", ["revenue_12m", "orders_12m", "followups"]].tolist() == [0, 0, 0]


def test_each_rule_tag(activity):
    tags = sg.rule_tags(activity, AS_OF).set_index("customer_id")
    on = {r: sorted(tags.index[tags[r]]) for r in ("rule_revenue", "rule_repeat", "rule_followups", "rule_rising",
                                                   "rule_no_followup", "rule_decline")}
    assert on == {
        "rule_revenue": [],  # nobody reaches 100,000 元
        "rule_repeat": ["A", "C", "G"],  # C's and G's first orders are in 2023
        "rule_followups": ["H"],  # A was followed up twice but bought in the last 3 months
        "rule_rising": ["C", "F", "H"],  # F: 50 ≥ 1.2 × 40
        # not followed up since 2024-06-30: B, D, G, K; B (800 today, nothing before) and D (100 on
        # 12-01, nothing before) bought within 90 days and grow: not at risk; K has no owner rep and
        # no follow-up (not CRM); C, F, I are not CRM customers either
        "rule_no_followup": ["G"],
        "rule_decline": ["G", "I", "K"],  # I: 30 = 50 % of 60 (edge); K: nothing this year
    }
    assert tags["tags"].to_dict() == {
        "A": "tag_high_value", "B": "", "C": "tag_high_value,tag_potential", "D": "",
        "E": "", "F": "tag_potential", "G": "tag_high_value,tag_churn_risk", "H": "tag_potential",
        "I": "tag_churn_risk", "J": "", "K": "tag_churn_risk"}


def test_tag_thresholds_are_parameters(activity):
    p = Params(tag_high_value_min=800, tag_repeat_min=2, tag_followups_min=3, tag_rising_min=0.25,
               tag_no_followup_months=5, tag_decline_min=0.6)
    tags = sg.rule_tags(activity, AS_OF, p).set_index("customer_id")
    assert used(tags, "tag_no_followup_months") == 5 and used(tags, "returns_basis") == "return_date"
    assert sorted(tags.index[tags["rule_revenue"]]) == ["A", "B"]  # B exactly 800
    assert sorted(tags.index[tags["rule_repeat"]]) == ["A", "C", "E", "G", "I"]
    assert not tags["rule_followups"].any()
    assert sorted(tags.index[tags["rule_rising"]]) == ["C", "F", "H"]  # F: 50 = 1.25 × 40 (edge)
    # cut-off 2024-07-31: E (last follow-up 07-01) bought on 12-01 but declines (400 < 500): at risk
    assert sorted(tags.index[tags["rule_no_followup"]]) == ["E", "G"]
    assert sorted(tags.index[tags["rule_decline"]]) == ["G", "K"]  # G: 600 ≤ 0.4 × 1500; I: 30 > 24


def _act(rows):
    """An activity table (as :func:`sg.customer_activity` returns it) from (id, revenue_12m,
    revenue_prev_12m, last order, followups, last follow-up, crm_managed) rows."""
    df = pd.DataFrame(rows, columns=["customer_id", "revenue_12m", "revenue_prev_12m", "last_order_date", "followups",
                                     "last_followup_date", "crm_managed"])
    df["repeat_orders_12m"], df["orders_recent"], df["followups_recent"] = 0, 0, 0
    for c in ("last_order_date", "last_followup_date"):
        df[c] = pd.to_datetime(df[c]).dt.date
    return df


def test_churn_risk_does_not_fire_on_a_buying_distributor_for_lack_of_follow_ups():
    # as of 2024-12-31: no follow-up after 2024-06-30 is "6 months without"; active = bought after 2024-10-02
    act = _act([
        ("DIST", 1900.0, 1000.0, "2024-12-27", 0, None, False),      # D005: distributor, +90 %, 4 days ago
        ("DIST_DOWN", 400.0, 1000.0, "2024-12-27", 0, None, False),  # a distributor whose purchases fell 60 %
        ("CRM_NONE", 500.0, 1000.0, "2024-08-01", 0, None, True),    # CRM customer never followed up, −50 %
        ("CRM_IDLE", 900.0, 1000.0, "2024-09-01", 3, "2024-03-01", True),   # CRM, last call 03-01, −10 %
        ("CRM_ACTIVE_UP", 1200.0, 1000.0, "2024-12-01", 3, "2024-03-01", True),  # same, but buying and +20 %
        ("CRM_ACTIVE_DOWN", 900.0, 1000.0, "2024-12-01", 3, "2024-03-01", True),  # buying but declining: at risk
        ("CRM_OLD_UP", 1200.0, 1000.0, "2024-10-01", 3, "2024-03-01", True),  # growing, last order 91 days ago
        ("CRM_FOLLOWED", 100.0, 1000.0, "2024-12-01", 5, "2024-12-01", True),  # called this month, −90 %
    ])
    tags = sg.rule_tags(act, AS_OF).set_index("customer_id")
    assert tags["rule_no_followup"].to_dict() == {
        "DIST": False, "DIST_DOWN": False, "CRM_NONE": True, "CRM_IDLE": True, "CRM_ACTIVE_UP": False,
        "CRM_ACTIVE_DOWN": True, "CRM_OLD_UP": True, "CRM_FOLLOWED": False}
    # the decline rule is about purchases and holds for anyone: 400 ≤ 500, 500 ≤ 500 (edge), 100
    assert sorted(tags.index[tags["rule_decline"]]) == ["CRM_FOLLOWED", "CRM_NONE", "DIST_DOWN"]
    assert sorted(tags.index[tags["tag_churn_risk"]]) == ["CRM_ACTIVE_DOWN", "CRM_FOLLOWED", "CRM_IDLE",
                                                           "CRM_NONE", "CRM_OLD_UP", "DIST_DOWN"]
    assert not tags.loc["DIST", "tag_churn_risk"] and tags.loc["DIST", "tag_potential"]  # rising (+90 %)
    # the thresholds are parameters: a 120-day activity window spares CRM_OLD_UP; requiring +25 % to count
    # as growing puts CRM_ACTIVE_UP (+20 %) back at risk
    p = Params(tag_active_days=120, tag_active_growth_min=0.25)
    wide = sg.rule_tags(act, AS_OF, p).set_index("customer_id")
    assert used(wide, "tag_active_days") == 120 and used(wide, "tag_active_growth_min") == 0.25
    assert wide["rule_no_followup"].to_dict() == {
        "DIST": False, "DIST_DOWN": False, "CRM_NONE": True, "CRM_IDLE": True, "CRM_ACTIVE_UP": True,
        "CRM_ACTIVE_DOWN": True, "CRM_OLD_UP": True, "CRM_FOLLOWED": False}
    p = Params(tag_active_days=120)
    assert not sg.rule_tags(act, AS_OF, p).set_index("customer_id").loc["CRM_OLD_UP", "rule_no_followup"]
    with pytest.raises(ValidationError, match="tag_active_days"):
        Params(tag_active_days=0)


def test_tags_refuse_an_activity_computed_with_another_recent_window(activity):
    with pytest.raises(SalesLabError, match="tag_recent_months"):
        sg.rule_tags(activity, AS_OF, Params(tag_recent_months=4))


def test_tag_summary_counts_rules(activity):
    ts = sg.tag_summary(sg.rule_tags(activity, AS_OF)).set_index(["tag", "rule"])
    assert ts.loc[("tag_churn_risk", "rule_any"), "customers"] == 3  # G, I, K
    assert ts.loc[("tag_churn_risk", "rule_decline"), "customers"] == 3
    assert ts.loc[("tag_potential", "rule_any"), "customer_share"] == pytest.approx(3 / 11)


# --- firmographics ------------------------------------------------------------------------------

def test_industry_and_size_bands():
    ind = sg.industry_band(pd.Series(["制造业", "零售业", " 服务业", "其他", "批发业", None, np.nan]))
    assert ind.tolist() == ["industry_manufacturing", "industry_retail", "industry_services", "industry_other",
                            "industry_other", "industry_other", "industry_other"]
    size = sg.size_band(pd.Series([500, 499, 50, 49, 0, None, -3]))
    assert size.tolist() == ["size_large", "size_medium", "size_medium", "size_small", "size_small", "size_unknown",
                             "size_unknown"]


def test_firmographic_cuts_from_the_master(eng, scored):
    firmo = sg.firmographics(eng, scored["customer_id"]).set_index("customer_id")
    assert firmo.loc["F"].tolist() == ["type_unknown", "industry_other", "size_unknown"]  # not in the master
    assert firmo.loc["G"].tolist() == ["type_company", "industry_other", "size_small"]
    cuts = sg.firmographic_cuts(sg.segment_table(scored, firmo=firmo.reset_index())).set_index(
        ["dimension", "segment"])
    assert cuts.loc[("industry_band", "industry_other"), ["customers", "revenue"]].tolist() == [7, 1690.0]
    assert cuts.loc[("industry_band", "industry_retail"), ["customers", "revenue"]].tolist() == [1, 800.0]
    assert cuts.loc[("size_band", "size_medium"), ["customers", "revenue"]].tolist() == [2, 900.0]
    assert cuts.loc[("size_band", "size_small"), ["customers", "revenue"]].tolist() == [2, 1000.0]
    assert cuts.loc[("size_band", "size_unknown"), ["customers", "revenue"]].tolist() == [5, 690.0]
    assert cuts.loc[("customer_type", "type_person"), ["customers", "revenue"]].tolist() == [3, 150.0]
    for dim in ("customer_type", "industry_band", "size_band"):
        assert cuts.loc[dim, "customers"].sum() == 10
        assert cuts.loc[dim, "revenue_share"].sum() == pytest.approx(1.0)


# --- value matrix -------------------------------------------------------------------------------

def test_value_matrix_puts_each_customer_in_its_quadrant():
    df = pd.DataFrame({"customer_id": list("abcde"), "current_value": [10.0, 10, 1, 1, 5],
                       "potential_value": [5.0, -5, 5, -5, 0]})
    m = sg.value_matrix(df).set_index("customer_id")
    assert used(m, "value_split") == "median"
    # medians 5 and 0; a value equal to the median is low
    assert m["quadrant"].to_dict() == {"a": "quadrant_deepen", "b": "quadrant_maintain", "c": "quadrant_develop",
                                       "d": "quadrant_low_cost", "e": "quadrant_low_cost"}
    counts = sg.quadrant_counts(m).set_index("quadrant")
    assert counts["customers"].tolist() == [1, 1, 1, 2]
    assert counts.loc["quadrant_low_cost", ["current_value", "potential_value"]].tolist() == [6.0, -5.0]


def test_value_matrix_split_is_a_parameter():
    df = pd.DataFrame({"customer_id": list("abcd"), "cv": [1.0, 2, 3, 100], "pv": [1.0, 1, 1, 2]})
    mean = sg.value_matrix(df, Params(value_split="mean"), current="cv", potential="pv")
    assert mean["current_high"].tolist() == [False, False, False, True]
    q = sg.value_matrix(df, Params(value_split="0.25"), current="cv", potential="pv")
    assert q["current_high"].tolist() == [False, True, True, True]
    for bad in ("top", "1.5", "0"):
        with pytest.raises(ValidationError, match="value_split"):
            Params(value_split=bad)
    with pytest.raises(SalesLabError):
        sg.value_threshold(df["cv"], "top")


def test_value_table_uses_margin_and_growth_or_clv(activity):
    v = sg.value_table(activity).set_index("customer_id")
    assert v.loc["H", ["current_value", "potential_value", "potential_basis"]].tolist() == [196.0, 390.0, "growth"]
    assert v.loc["A", "current_value"] == 400.0
    clv = pd.DataFrame({"customer_id": ["A", "H"], "clv": [1234.5, 10.0]})
    w = sg.value_table(activity, clv).set_index("customer_id")
    assert w.loc["A", "potential_value"] == 1234.5 and w.loc["B", "potential_value"] == 0.0
    assert (w["potential_basis"] == "clv").all() and len(w) == len(activity)


def test_segment_table_has_one_row_per_rfm_customer(scored, activity):
    tags = sg.rule_tags(activity, AS_OF)
    matrix = sg.value_matrix(sg.value_table(activity))
    seg = sg.segment_table(scored, sg.assign_tiers(scored), tags, None, matrix,
                           pd.DataFrame({"customer_id": ["A"], "cluster": [1]}))
    assert seg["customer_id"].tolist() == sorted(RFM)
    assert seg.set_index("customer_id").loc["G", "tags"] == "tag_high_value,tag_churn_risk"
    assert {"rfm_class", "customer_tier", "quadrant", "cluster", "tag_churn_risk"} <= set(seg.columns)


# --- small demo: the planted behaviour is found -------------------------------------------------

@pytest.fixture(scope="module")
def demo(demo_warehouse, demo_dir, open_engine, tmp_path_factory):
    with open_engine(demo_warehouse, "duckdb", tmp_path_factory.mktemp("d")) as e:
        sc = sg.rfm(e, "2025-12-31")
    sc["customer_tier"] = sg.assign_tiers(sc)
    ent = pd.read_csv(demo_dir / "truth" / "customer_entities.csv")
    par = pd.read_csv(demo_dir / "truth" / "customer_params.csv")
    m = sc.merge(ent[["customer_id", "entity_id"]], on="customer_id").merge(par, on="entity_id")
    m["churned"] = pd.to_datetime(m["churn_date"]) <= pd.Timestamp("2025-12-31") - pd.Timedelta(days=180)
    return sc, m


def test_demo_planted_churners_score_low_recency_and_land_in_churn_risk(demo):
    sc, m = demo
    assert m["churned"].sum() >= 30
    assert m.loc[m["churned"], "r_score"].mean() < 1.5 < 2.5 < m.loc[~m["churned"], "r_score"].mean()
    assert (m.loc[m["churned"], "customer_tier"] == "tier_churn_risk").mean() > 0.6
    assert (m.loc[~m["churned"], "customer_tier"] == "tier_churn_risk").mean() < 0.2


def test_demo_planted_purchase_rate_orders_frequency_scores(demo):
    _, m = demo
    assert m["purchase_rate"].corr(m["f_score"], method="spearman") > 0.4
    summ = sg.rfm_summary(demo[0])
    assert summ["customers"].sum() == len(demo[0])
    # important value customers carry most of the revenue
    assert summ.set_index("rfm_class").loc["rfm_important_value", "revenue_share"] > 0.4


CJK = re.compile(r"[\u3400-\u9fff\u3000-\u303f\uff01-\uff5e]")


def _english_words(text: str) -> set[str]:
    return set(re.findall(r"[A-Za-z]{2,}", text))


def test_labels_charts_and_narrative_cover_the_stage(scored, activity):
    import matplotlib.pyplot as plt

    from saleslab.customers import charts as charts_customers, story as narrative_customers
    from saleslab.report import i18n

    tags = sg.rule_tags(activity, AS_OF)
    firmo = pd.DataFrame({"customer_id": scored["customer_id"], "customer_type": "type_company",
                          "industry_band": "industry_retail", "size_band": "size_small"})
    matrix = sg.value_matrix(sg.value_table(activity))
    seg = sg.segment_table(scored, sg.assign_tiers(scored), tags, firmo, matrix)
    summary, quadrants = sg.rfm_summary(scored), sg.quadrant_counts(matrix)
    tables = [summary, sg.tier_summary(seg), sg.tag_summary(tags), sg.firmographic_cuts(seg), quadrants, seg]
    codes = [*sg.RFM_CLASSES, *sg.TREATMENTS.values(), *sg.TIERS, *sg.TAGS, *sg.INDUSTRY_BANDS, *sg.SIZE_BANDS,
             *sg.CUSTOMER_TYPES, *sg.QUADRANTS, *tags.columns[1:-1]]
    for key in [c for df in tables for c in df.columns] + codes:
        assert key in i18n.LABELS, key
    for lang in ("zh-CN", "en"):
        text = narrative_customers.customers_narrative(seg, summary, lang, quadrants)
        assert "**10**" in text and f"{1400 / 3590:.1%}" in text  # customers; important value revenue share
    figs = [charts_customers.rfm_class_chart(summary, "zh-CN"),
            charts_customers.rfm_heatmap(sg.rfm_grid(scored), "en"),
            charts_customers.tier_tag_chart(sg.tier_summary(seg), sg.tag_summary(tags), "zh-CN"),
            charts_customers.firmographic_chart(sg.firmographic_cuts(seg), "en"),
            charts_customers.value_matrix_chart(matrix, quadrants, "zh-CN")]
    assert all(len({p.get_facecolor() for ax in f.axes for p in ax.patches}) <= 5 for f in figs)
    plt.close("all")


@pytest.fixture(scope="module")
def custom(eng):
    """The stage computed with non-default thresholds (growth as the potential value)."""
    from saleslab.customers import clusters as cl

    p = Params(rfm_window_months=12, tag_no_followup_months=5, tag_decline_min=0.6, value_split="mean",
               value_potential="growth", cluster_k_min=2, cluster_k_max=4, cluster_seed=1)
    scored = sg.rfm(eng, AS_OF, p)
    activity = sg.customer_activity(eng, AS_OF, p, customer_ids=scored["customer_id"])
    tags = sg.rule_tags(activity, AS_OF, p)
    matrix = sg.value_matrix(sg.potential_value_table(eng, AS_OF, activity, p), p)
    fitted = cl.fit_clusters(cl.cluster_features(eng, AS_OF, p, rfm_table=scored), p)
    seg = sg.segment_table(scored, sg.assign_tiers(scored, p), tags, None, matrix, fitted.labels)
    return seg, sg.rfm_summary(scored), matrix, sg.quadrant_counts(matrix), fitted


def test_story_states_the_thresholds_the_tables_were_computed_with(custom):
    from saleslab.customers import story

    seg, summary, _, quadrants, fitted = custom
    en = story.customers_narrative(seg, summary, "en", quadrants, fitted)
    zh = story.customers_narrative(seg, summary, "zh-CN", quadrants, fitted)
    assert "no follow-up for 5 months, or purchases down by 60% or more" in en
    assert "5 个月未跟进或采购额同比下降 60% 以上" in zh
    assert "split at the mean" in en and "以平均值划分" in zh
    assert f"picked **{fitted.k}** groups out of 2–4" in en and "2–4 类" in zh
    assert "in the last 12 months" in en and "最近 12 个月" in zh


def test_english_story_has_no_chinese_and_the_chinese_story_no_english_sentence(custom):
    from saleslab.customers import story

    seg, summary, _, quadrants, fitted = custom
    en = story.customers_narrative(seg, summary, "en", quadrants, fitted)
    zh = story.customers_narrative(seg, summary, "zh-CN", quadrants, fitted)
    assert not CJK.search(en), CJK.findall(en)
    assert not _english_words(zh), _english_words(zh)
    assert len(en.splitlines()) == len(zh.splitlines()) == 5
    empty = seg.iloc[:0]
    assert story.customers_narrative(empty, summary, "en") == "No identified customer bought in the last 12 months."
    assert not _english_words(story.customers_narrative(empty, summary, "zh-CN"))


def test_value_matrix_chart_draws_the_split_the_matrix_was_computed_with(custom):
    import matplotlib.pyplot as plt

    from saleslab.customers import charts

    _, _, matrix, quadrants, _ = custom
    for lang, legend, axis in (("en", "High/low split: mean", "Potential value (revenue change YoY)"),
                               ("zh-CN", "高低分界：平均值", "潜在价值(销售额同比变化)")):
        fig = charts.value_matrix_chart(matrix, quadrants, lang)
        ax = fig.axes[0]
        split = [ln for ln in ax.get_lines() if ln.get_label() == legend]
        assert len(split) == 1 and split[0].get_xdata()[0] == pytest.approx(matrix["current_value"].mean())
        assert legend in [x.get_text() for x in ax.get_legend().get_texts()]
        assert ax.get_ylabel().startswith(axis)
        counts = {x.get_text() for x in ax.texts}
        assert any(c.endswith(f": {int(quadrants.loc[0, 'customers']):,}") for c in counts)
    plt.close("all")


def test_potential_value_is_the_clv_of_the_clv_stage_with_its_horizon_and_discount(demo_warehouse, open_engine,
                                                                                   tmp_path):
    import matplotlib.pyplot as plt

    from saleslab import clv
    from saleslab.customers import charts

    cp = ClvParams(clv_horizon_months=6, clv_annual_discount=0.3)
    with open_engine(demo_warehouse, "duckdb", tmp_path) as e:
        act = sg.customer_activity(e, "2025-12-31")
        got = sg.potential_value_table(e, "2025-12-31", act, Params(), cp)
        want = clv.predicted_clv(e, "2025-12-31", cp)
        other = clv.predicted_clv(e, "2025-12-31", ClvParams(clv_horizon_months=6))  # discount 0.1
        growth = sg.potential_value_table(e, "2025-12-31", act, Params(value_potential="growth"))
    with pytest.raises(ValidationError, match="value_potential"):
        Params(value_potential="hope")
    assert set(got.potential_basis) == {"clv"} and set(growth.potential_basis) == {"growth"}
    assert used(got, "clv_horizon_months") == 6 and used(got, "clv_annual_discount") == 0.3
    m = got.merge(want[["customer_id", "clv"]], on="customer_id", how="left")
    assert len(m) == len(act) and m["clv"].notna().mean() > 0.95
    assert np.allclose(m["potential_value"], m["clv"].fillna(0).round(2))
    # the discount matters: the same customer would get another CLV without the clv area's discount
    o = got.merge(other[["customer_id", "clv"]], on="customer_id")
    assert (o["potential_value"] < o["clv"] - 0.005).mean() > 0.5
    assert (got.current_value == growth.current_value).all()
    matrix = sg.value_matrix(got)
    fig = charts.value_matrix_chart(matrix, sg.quadrant_counts(matrix), "en")
    assert fig.axes[0].get_ylabel().startswith("Potential value (predicted 6-month CLV)")
    plt.close("all")


# --- partial data: warehouses of a few sources ----------------------------------------------------
# Orders only (no customer master, follow-ups, leads or returns), as of 2024-12-31: P buys twice in
# 2024 (20 + 30 元), Q once (10 元), R only in 2023 (40 元). One customer with a repeat purchase is
# too few for the CLV's Gamma-Gamma model (it needs 3), so the CLV potential falls back to growth.

BARE_ORDERS = """order,date,cust,channel,region,sku,qty,price
P1,2024-03-01,P,direct,east,P1,2,10
P2,2024-09-01,P,direct,east,P1,3,10
Q1,2024-06-01,Q,direct,east,P1,1,10
R1,2023-06-01,R,direct,east,P1,4,10
"""


@pytest.fixture(scope="module")
def bare(tmp_path_factory, open_engine):
    """Engines on two partial warehouses: orders only; orders + the product master (P1 costs 6)."""
    engines = {}
    for case in ("orders_only", "costed"):
        tmp = tmp_path_factory.mktemp(f"bare_{case}")
        files, maps = {"orders.csv": BARE_ORDERS}, {"orders.yaml": handmade.ORDERS}
        if case == "costed":
            files["products.csv"], maps["products.yaml"] = "sku,name,cat,price,cost\nP1,A,x,10,6\n", handmade.PRODUCTS
        engines[case] = open_engine(handmade.build_warehouse(tmp, files, maps), "duckdb", tmp)
    yield engines
    for e in engines.values():
        e.close()


def test_without_followups_the_followup_rules_are_not_evaluated_and_the_purchase_tags_stay(bare):
    from saleslab.errors import MissingSource

    e = bare["orders_only"]
    act = sg.customer_activity(e, AS_OF).set_index("customer_id")
    assert act["followups"].isna().all() and act["followups_recent"].isna().all()
    assert act.loc["P", "revenue_12m"] == 50.0 and act.loc["R", "revenue_prev_12m"] == 40.0
    tags = sg.rule_tags(act.reset_index(), AS_OF).set_index("customer_id")
    assert tags["rule_followups"].isna().all() and tags["rule_no_followup"].isna().all()
    # R: 40 → 0 is a decline of 100 %: churn risk from purchases alone; P: repeat 1 < 3, not high value
    assert tags.loc["R", "tags"] == "tag_churn_risk" and tags.loc["R", "rule_decline"]
    assert not tags["tag_potential"].any() and tags["tag_churn_risk"].dtype == bool
    summary = sg.tag_summary(tags.reset_index()).set_index("rule")
    assert summary.loc["rule_followups", "customers"] is pd.NA and summary.loc["rule_no_followup", "customers"] is pd.NA
    assert summary.loc["rule_decline", "customers"] == 1
    with pytest.raises(MissingSource) as err:
        sg.require_followups(e)
    assert err.value.tables == ("followups",) and "follow-up rules" in str(err.value)


def test_firmographics_need_the_customer_master(bare):
    from saleslab.errors import MissingSource

    with pytest.raises(MissingSource) as err:
        sg.firmographics(bare["orders_only"], ["P", "Q"])
    assert err.value.tables == ("customers",) and "firmographics" in str(err.value)


def test_the_value_matrix_needs_unit_costs_and_falls_back_to_growth_without_enough_repeat_buyers(bare):
    from saleslab.errors import InsufficientData, MissingSource

    with pytest.raises(MissingSource) as err:
        sg.potential_value_table(bare["orders_only"], AS_OF, sg.customer_activity(bare["orders_only"], AS_OF))
    assert err.value.tables == ("products",) and "gross profit" in str(err.value)
    e = bare["costed"]
    values = sg.potential_value_table(e, AS_OF, sg.customer_activity(e, AS_OF))  # value_potential = clv
    v = values.set_index("customer_id")
    assert (v["potential_basis"] == "growth").all()
    assert v[["current_value", "potential_value"]].to_dict("index") == {
        "P": {"current_value": 20.0, "potential_value": 50.0}, "Q": {"current_value": 4.0, "potential_value": 10.0},
        "R": {"current_value": 0.0, "potential_value": -40.0}}
    matrix = sg.value_matrix(values)
    # the clv models' own sentence (one repeat buyer: too few), then what the matrix does instead
    with pytest.raises(InsufficientData, match=r"^the predicted CLV could not be computed \(.*1 .*needs at least 3.*\); "
                                               r"the potential value is the revenue change year over year instead$"):
        sg.require_clv_potential(matrix)
    sg.require_clv_potential(sg.value_matrix(sg.potential_value_table(e, AS_OF, sg.customer_activity(e, AS_OF),
                                                                      Params(value_potential="growth"))))


def test_a_part_keeps_what_stopped_it_and_the_segment_table_leaves_its_columns_empty(bare):
    from saleslab.errors import MissingSource

    e = bare["orders_only"]
    scored = sg.rfm(e, AS_OF)
    firmo = sg.attempt(sg.firmographics, e, scored["customer_id"])
    assert not firmo.ok and isinstance(firmo.error, MissingSource)
    with pytest.raises(MissingSource, match="firmographics"):
        firmo.get()
    later = sg.attempt(sg.firmographic_cuts, firmo)  # a failed argument fails the part, fn is not called
    assert later.error is firmo.error
    assert sg.attempt(sg.rfm_summary, scored).ok
    with pytest.raises(KeyError):  # any other error is not a missing input: it propagates
        sg.attempt(sg.rfm_summary, scored.drop(columns="rfm_class"))
    seg = sg.segment_table(scored, sg.assign_tiers(scored), sg.rule_tags(sg.customer_activity(e, AS_OF), AS_OF),
                           firmo)
    assert seg.columns.tolist() == [c for c in sg.SEGMENT_COLUMNS if c not in ("current_value", "potential_value",
                                                                              "quadrant", "cluster")]
    assert seg["industry_band"].isna().all() and seg["customer_id"].tolist() == ["P", "Q"]
    from saleslab.customers import story

    text = story.customers_narrative(seg, sg.rfm_summary(scored), "en", sg.attempt(sg.quadrant_counts, firmo),
                                     None, sg.rule_tags(sg.customer_activity(e, AS_OF), AS_OF))
    assert len(text.splitlines()) == 3 and "follow-up rules were not evaluated" in text
