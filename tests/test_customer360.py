"""Customer 360° (domain.md §6). On a hand-made warehouse (DuckDB and PySpark): the customer's
revenue and the top customer from the facts layer (a return counted on its date and attributed to
the original order's customer, a return after the period, ``returns_basis="order_date"``), the
order history's per-order refunds, unknown ids, and where stage, segment and value come from (the
run's tables, or computed with the run's parameters). On the small demo: orders and follow-ups
checked against the warehouse files read with pandas, value computed with the clv/churn
parameters, the next-action rule, labels, charts and narratives."""

import matplotlib.pyplot as plt
import pandas as pd
import pytest

import handmade
from saleslab import crosssell, customer360 as c360
from saleslab.churn.params import Params as ChurnParams
from saleslab.clv import predicted_clv
from saleslab.clv.params import Params as ClvParams
from saleslab.crosssell import story as crosssell_story
from saleslab.customer360.params import Params
from saleslab.customers.params import Params as CustomersParams
from saleslab.engine import connect
from saleslab.errors import InsufficientData, UnknownCustomer
from saleslab.facts import Params as FactsParams
from saleslab.lifecycle import charts as charts_lifecycle, stages as lifecycle, story as narrative_lifecycle
from saleslab.lifecycle.params import Params as LifecycleParams
from saleslab.report import i18n

# --- hand-made warehouse, period 2024-01-01 .. 2024-03-31 ---------------------------------------
#   C1 O1 2023-12-20 P1 2x10 = 20 (before the period); R1 refunds 10 of it on 2024-01-10 (in the period)
#      O2 2024-01-15 P2 1x30 = 30; R2 refunds it on 2024-04-10 (after the period)
#      O3 2024-02-01 P1 3x10 = 30; R3 refunds 10 of it on 2024-02-20
#   C2 O4 2024-03-01 P1 1x35 = 35
#   anonymous O5 2024-02-10 P1 10x10 = 100 (no customer: never the top customer)
#   C4 in the customer master only (never ordered)
# returns_basis return_date: C1 = 60 − (R1 + R3) = 40 > C2 35;  order_date: C1 = 60 − (R2 + R3) = 20 < 35
HS, HE = "2024-01-01", "2024-03-31"
FILES = {
    "orders.csv": "order,date,cust,channel,region,sku,qty,price\n"
                  "O1,2023-12-20,C1,direct,east,P1,2,10\n"
                  "O2,2024-01-15,C1,direct,east,P2,1,30\n"
                  "O3,2024-02-01,C1,online,east,P1,3,10\n"
                  "O4,2024-03-01,C2,online,east,P1,1,35\n"
                  "O5,2024-02-10,,retail,east,P1,10,10\n",
    "products.csv": "sku,name,cat,price,cost\nP1,A,x,10,6\nP2,B,x,30,12\n",
    "returns.csv": "id,order,sku,date,qty,amount\nR1,O1,P1,2024-01-10,1,10\nR2,O2,P2,2024-04-10,1,30\n"
                   "R3,O3,P1,2024-02-20,1,10\n",
    "customers.csv": "id,name\nC1,甲\nC2,乙\nC4,丁\n",
}
MAPS = {"orders.yaml": handmade.ORDERS, "products.yaml": handmade.PRODUCTS, "returns.yaml": handmade.RETURNS,
        "customers.yaml": handmade.CUSTOMERS}


@pytest.fixture(scope="module")
def hand_warehouse(tmp_path_factory):
    return handmade.build_warehouse(tmp_path_factory.mktemp("hand_c360"), FILES, MAPS)


def test_revenue_counts_returns_in_the_period_on_the_original_orders_customer(eng):
    r = c360.customer_revenue(eng, "C1", HS, HE)
    # R1 (order of December, refunded in January) counts; R2 (refunded in April) does not
    assert r == {"gross_sales": 60.0, "returns": 20.0, "revenue": 40.0, "orders": 2}
    by_order_date = c360.customer_revenue(eng, "C1", HS, HE, FactsParams(returns_basis="order_date"))
    assert by_order_date == {"gross_sales": 60.0, "returns": 40.0, "revenue": 20.0, "orders": 2}
    assert c360.customer_revenue(eng, "C4", HS, HE) == {"gross_sales": 0.0, "returns": 0.0, "revenue": 0.0,
                                                        "orders": 0}


def test_top_customer_follows_the_returns_basis_and_skips_anonymous_orders(eng):
    assert c360.top_customer(eng, HS, HE) == "C1"  # 40 against 35; the anonymous 100 is no customer
    assert c360.top_customer(eng, HS, HE, FactsParams(returns_basis="order_date")) == "C2"  # 20 against 35
    assert c360.resolve_customer(eng, "", HS, HE) == "C1"
    assert c360.resolve_customer(eng, "  C4 ", HS, HE) == "C4"  # known from the master only
    with pytest.raises(InsufficientData, match="pass a customer_id"):
        c360.top_customer(eng, "2020-01-01", "2020-12-31")


def test_order_history_nets_each_orders_refunds_dated_up_to_the_period_end(eng):
    h = c360.order_history(eng, "C1", HS, HE).set_index("order_id")
    assert h.index.tolist() == ["O3", "O2"]  # newest first; O1 is before the period
    assert h.loc["O3", ["gross_sales", "returns", "revenue"]].tolist() == [30, 10, 20]
    assert h.loc["O2", ["gross_sales", "returns", "revenue"]].tolist() == [30, 0, 30]  # R2 is after the period end
    # 50 in the history against 40 on the card: R1 counts in the period but its order is older
    assert h["revenue"].sum() - c360.customer_revenue(eng, "C1", HS, HE)["revenue"] == 10
    later = c360.order_history(eng, "C1", HS, "2024-04-30").set_index("order_id")
    assert later.loc["O2", "returns"] == 30


def test_unknown_customer_id_raises_unknown_customer(eng):
    with pytest.raises(UnknownCustomer, match="NO-SUCH-ID"):
        c360.resolve_customer(eng, "NO-SUCH-ID", HS, HE)


def test_stage_and_segment_are_computed_with_the_runs_parameters_when_the_run_has_no_table(eng):
    assert eng.run_dir is None
    st = c360.stage_info(eng, "C1", HE)
    assert st["source_stage"] == c360.COMPUTED and st["stage"] == "stage_mature"  # first order 102 days ago
    assert c360.stage_info(eng, "C1", HE, LifecycleParams(lifecycle_new_days=200))["stage"] == "stage_new"
    seg = c360.segment_info(eng, "C1", HE)
    assert seg["source_segment"] == c360.COMPUTED and seg["rfm_class"] is not None
    # a one-month RFM window (March) holds no purchase of C1
    assert c360.segment_info(eng, "C1", HE, CustomersParams(rfm_window_months=1))["rfm_class"] is None


def test_results_of_earlier_stages_are_read_through_the_engine(hand_warehouse, tmp_path):
    run = tmp_path / "run"
    d6 = run / "data" / "06_customers"
    d6.mkdir(parents=True)
    pd.DataFrame({"customer_id": ["C1"], "recency_days": [1], "frequency": [2], "monetary": [3.0],
                  "rfm_class": ["rfm_general_winback"], "customer_tier": ["tier_basic"]}).to_parquet(
        d6 / "customer_segments.parquet")
    pd.DataFrame({"customer_id": ["C1"], "stage": ["stage_at_risk"], "stage_reason": ["why_falling_frequency"],
                  "days_since_last_order": [59]}).to_parquet(d6 / "lifecycle_stages.parquet")
    d7 = run / "data" / "07_clv_churn"
    d7.mkdir(parents=True)
    pd.DataFrame({"customer_id": ["C1", "X"], "clv": [10.0, 5.0], "p_alive": [0.9, 0.5], "expected_purchases": [1.0, 1.0],
                  "churn_probability": [0.7, 0.1], "reason_1": ["recency_days", None], "reason_2": [None, None],
                  "reason_3": [None, None], "top_reasons": ["long time without a purchase", ""]}).to_parquet(
        d7 / "churn_scores.parquet")
    e = connect(hand_warehouse, "duckdb", {"memory_limit": "1GB", "temp_directory": str(tmp_path / "duck")}, run_dir=run)
    try:
        seg = c360.segment_info(e, "C1", HE)
        st = c360.stage_info(e, "C1", HE)
        val = c360.value_info(e, "C1", HE)
        revenue = c360.customer_revenue(e, "C1", HS, HE)
        card = c360.customer_card("C1", c360.profile(e, "C1"), st, seg, val, revenue)
    finally:
        e.close()
    assert seg["source_segment"] == "06_customers" and seg["rfm_class"] == "rfm_general_winback" and seg["frequency"] == 2
    assert st["source_stage"] == "06_customers" and st["stage"] == "stage_at_risk"
    assert val["source_value"] == "07_clv_churn" and val["clv"] == 10.0 and val["clv_percentile"] == 0.5
    reasons = c360.risk_reasons(st, val)
    assert reasons["c360_reason"].tolist() == ["why_falling_frequency", "long time without a purchase"]
    c = card.iloc[0]
    assert c[["source_stage", "source_segment", "source_value"]].tolist() == ["06_customers", "06_customers",
                                                                             "07_clv_churn"]
    assert c["revenue"] == 40.0 and c["orders"] == 2 and c["customer_name"] == "甲"
    assert c["next_action"] == "act_retention_offer"  # at risk, not high value (CLV percentile 0.5)
    assert card.attrs["params"]["churn_risk_min"] == 0.5 and card.attrs["params"]["returns_basis"] == "return_date"
    assert card.columns.tolist() == c360.CARD_COLUMNS


@pytest.mark.parametrize("stage, rfm_class, tier, risk, pct, action", [
    ("stage_prospect", None, None, None, None, "act_convert"),
    ("stage_churned", "rfm_important_winback", None, None, None, "act_winback_call"),
    ("stage_churned", "rfm_general_winback", "tier_basic", None, 0.1, "act_winback_campaign"),
    ("stage_at_risk", None, "tier_high_value", None, None, "act_retention_call"),
    ("stage_mature", "rfm_general_value", "tier_basic", 0.8, 0.5, "act_retention_offer"),  # model says at risk
    ("stage_mature", "rfm_general_value", "tier_basic", 0.2, 0.95, "act_vip_care"),  # CLV in the top 20 %
    ("stage_new", "rfm_important_value", "tier_high_value", 0.1, None, "act_onboard"),
    ("stage_mature", "rfm_general_development", "tier_basic", 0.1, 0.3, "act_upsell"),
    ("stage_mature", "rfm_general_retention", "tier_potential", None, None, "act_upsell"),
    ("stage_mature", "rfm_general_retention", "tier_basic", 0.1, 0.3, "act_maintain"),
])
def test_next_action_rule(stage, rfm_class, tier, risk, pct, action):
    got, why = c360.next_action(stage, rfm_class, tier, risk, pct)
    assert got == action and got in c360.ACTIONS and why.startswith("why_act_")


def test_next_action_uses_the_risk_threshold_and_clv_share_it_is_given():
    args = ("stage_mature", "rfm_general_value", "tier_basic", 0.6, 0.75)
    assert c360.next_action(*args)[0] == "act_retention_offer"  # 0.6 ≥ 0.5; CLV not in the top 20 %
    assert c360.next_action(*args, churn_params=ChurnParams(churn_risk_min=0.7))[0] == "act_maintain"
    assert c360.next_action(*args, Params(c360_clv_top_share=0.2), ChurnParams(churn_risk_min=0.7))[0] == "act_maintain"
    assert c360.next_action(*args, Params(c360_clv_top_share=0.3))[0] == "act_retention_call"  # now high value


# --- small demo ------------------------------------------------------------------------------------

S, E = "2023-01-01", "2025-12-31"


@pytest.fixture(scope="module")
def demo_eng(demo_warehouse, tmp_path_factory):
    with connect(demo_warehouse, "duckdb", {"memory_limit": "1GB",
                                            "temp_directory": str(tmp_path_factory.mktemp("c360"))}) as e:
        yield e


@pytest.fixture(scope="module")
def raw(demo_warehouse):
    """The warehouse's Parquet files read straight with pandas (no SalesLab code)."""
    def read(t, cols):
        return pd.read_parquet(demo_warehouse / t, columns=cols)

    orders = read("orders", ["order_id", "order_date", "customer_id"])
    lines = read("order_lines", ["order_id", "net_amount"])
    rets = read("returns", ["order_id", "return_date", "amount"])
    fu = read("followups", ["followup_id", "customer_id", "followup_date"])
    orders["order_date"] = pd.to_datetime(orders["order_date"])
    rets["return_date"] = pd.to_datetime(rets["return_date"])
    per_order = lines.groupby("order_id")["net_amount"].sum()
    returned = rets[rets["return_date"] <= pd.Timestamp(E)].groupby("order_id")["amount"].sum()
    o = orders[orders["order_date"].between(S, E)].copy()
    o["revenue"] = o["order_id"].map(per_order).fillna(0) - o["order_id"].map(returned).fillna(0)
    # revenue as every stage counts it: sales in the period − returns dated in the period, by the order's customer
    sales = o.assign(sales=o["order_id"].map(per_order).fillna(0)).groupby("customer_id")["sales"].sum()
    r = rets[rets["return_date"].between(S, E)].merge(orders[["order_id", "customer_id"]], on="order_id")
    period = sales.sub(r.groupby("customer_id")["amount"].sum(), fill_value=0).reindex(sales.index)
    return o, fu, period.round(2)


def test_known_customer_gets_exactly_its_orders(demo_eng, raw):
    o, _, _ = raw
    cid = o[o["customer_id"].str.startswith("C", na=False)]["customer_id"].value_counts().index[0]
    hist = c360.order_history(demo_eng, cid, S, E)
    mine = o[o["customer_id"] == cid]
    assert sorted(hist["order_id"]) == sorted(mine["order_id"])
    assert hist["revenue"].sum() == pytest.approx(mine["revenue"].sum(), abs=0.05)
    assert hist["order_date"].tolist() == sorted(hist["order_date"], reverse=True)
    assert (hist["revenue"] == (hist["gross_sales"] - hist["returns"]).round(2)).all()
    monthly = c360.monthly_history(hist, S, E)
    assert len(monthly) == 36 and monthly["orders"].sum() == len(hist)
    assert monthly["revenue"].sum() == pytest.approx(hist["revenue"].sum(), abs=0.05)


def test_top_customer_has_the_highest_revenue_as_every_stage_counts_it(demo_eng, raw):
    _, _, period = raw
    top = period[period == period.max()].index.min()
    assert c360.top_customer(demo_eng, S, E) == top
    assert c360.customer_revenue(demo_eng, top, S, E)["revenue"] == pytest.approx(period[top], abs=0.01)


def test_profile_and_follow_ups_of_a_crm_customer(demo_eng, raw):
    _, fu, _ = raw
    cid = fu["customer_id"].dropna().value_counts().index[0]
    prof = c360.profile(demo_eng, cid)
    assert prof["customer_id"].tolist() == [cid]
    table = c360.profile_table(prof, cid)
    assert table["c360_field"].iloc[0] == "c360_customer_id" and table["c360_value"].iloc[0] == cid
    v = dict(zip(table["c360_field"], table["c360_value"]))
    # the type as its label key (not "company", which is also the whole-company scope), a date without time
    assert v["c360_customer_type"] in ("type_company", "type_person", "")
    assert v["c360_created_date"] == "" or (len(v["c360_created_date"]) == 10 and ":" not in v["c360_created_date"])
    hand = pd.DataFrame([{f: None for f in c360.PROFILE_FIELDS} | {"customer_id": "X", "customer_type": "company",
                                                                   "employees": 1200.0,
                                                                   "created_date": pd.Timestamp("2018-04-11")}])
    hv = dict(zip(*c360.profile_table(hand, "X").to_dict("list").values()))
    assert (hv["c360_customer_type"], hv["c360_employees"], hv["c360_created_date"], hv["c360_phone"]) == (
        "type_company", "1,200", "2018-04-11", "")
    got = c360.followups(demo_eng, cid, E)
    want = fu[(fu["customer_id"] == cid) & (pd.to_datetime(fu["followup_date"]) <= pd.Timestamp(E))]
    assert len(got) == len(want) > 0
    assert list(got["followup_date"]) == sorted(got["followup_date"], reverse=True)
    missing = c360.profile_table(c360.profile(demo_eng, "NOT-IN-MASTER"), "NOT-IN-MASTER")
    assert missing["c360_field"].tolist() == ["c360_customer_id", "c360_profile_missing"]


def test_value_is_computed_with_the_clv_and_churn_parameters_when_the_run_has_no_table(demo_eng):
    cid = c360.top_customer(demo_eng, S, E)
    short = ClvParams(clv_horizon_months=3)
    val = c360.value_info(demo_eng, cid, E, short, ChurnParams())
    want = predicted_clv(demo_eng, E, short).set_index("customer_id").loc[cid, "clv"]
    assert val["source_value"] == c360.COMPUTED and val["clv"] == pytest.approx(want)
    assert 0 <= val["churn_probability"] <= 1 and val["clv_percentile"] > 0.9
    assert c360.risk_reasons({"stage_reason": "why_regular_buyer"}, val)["c360_reason"].iloc[1:].str.startswith(
        "reason_").all()


def test_card_labels_charts_and_narratives(demo_eng):
    cid = c360.top_customer(demo_eng, S, E)
    stage_row = c360.stage_info(demo_eng, cid, E)
    orders = c360.order_history(demo_eng, cid, S, E)
    seg = {"rfm_class": "rfm_important_value", "customer_tier": "tier_high_value", "source_segment": "06_customers"}
    val = {"clv": 1000.0, "p_alive": 0.9, "churn_probability": 0.1, "clv_percentile": 0.99,
           "source_value": "07_clv_churn"}
    revenue = c360.customer_revenue(demo_eng, cid, S, E)
    card = c360.customer_card(cid, c360.profile(demo_eng, cid), stage_row, seg, val, revenue)
    assert card["orders"].iloc[0] == len(orders) and card["next_action"].iloc[0] in ("act_vip_care", "act_onboard")
    stages = lifecycle.lifecycle_stages(demo_eng, E)
    keys = [*card.columns, *orders.columns, *lifecycle.STAGES, lifecycle.ABSENT, *lifecycle.REASONS, *c360.ACTIONS,
            "c360_profile_missing", *(f"c360_{f}" for f in c360.PROFILE_FIELDS), *stages.columns, c360.COMPUTED,
            "06_customers", "07_clv_churn"]
    assert [k for k in keys if k not in i18n.LABELS] == []
    rules = crosssell.association_rules(demo_eng, S, E)
    recs = crosssell.recommendations(demo_eng, rules, E, customers=[cid])
    assert [k for k in [*rules.columns, *recs.columns] if k not in i18n.LABELS] == []
    for lang in ("zh-CN", "en"):
        assert cid in narrative_lifecycle.customer_narrative(card, lang)
        assert rules["antecedent"].iloc[0] in crosssell_story.crosssell_narrative(rules, lang)
    figs = [charts_lifecycle.customer_monthly_chart(c360.monthly_history(orders, S, E), "en")]
    assert all(len({p.get_facecolor() for ax in f.axes for p in ax.patches}) <= 5 for f in figs)
    plt.close("all")


# --- partial data: a warehouse of orders alone --------------------------------------------------

def test_without_customer_master_the_profile_says_so_and_orders_and_card_still_show(tmp_path):
    from saleslab.clv import attempt
    from saleslab.errors import MissingSource

    wh = handmade.build_warehouse(tmp_path, {"orders.csv": FILES["orders.csv"]}, {"orders.yaml": handmade.ORDERS})
    with connect(wh, "duckdb", {"memory_limit": "1GB", "temp_directory": str(tmp_path / "duck")}) as e:
        cid = c360.resolve_customer(e, "", HS, HE)
        assert cid == "C1"  # no returns source: C1 60 > C2 35
        with pytest.raises(MissingSource) as err:
            c360.profile_view(e, cid)
        assert err.value.tables == ("customers",)
        with pytest.raises(MissingSource) as err:
            c360.followups(e, cid, HE)
        assert err.value.tables == ("followups",)
        orders = c360.order_history(e, cid, HS, HE)
        assert orders["order_id"].tolist() == ["O3", "O2"]
        # two customers: the value models cannot be fitted; the card keeps everything else
        val = attempt(c360.value_info, e, cid, HE)
        assert not val.ok
        stage_row = c360.stage_info(e, cid, HE)
        card = c360.customer_card(cid, c360.profile(e, cid), stage_row, c360.segment_info(e, cid, HE), val,
                                  c360.customer_revenue(e, cid, HS, HE))
    c = card.iloc[0]
    assert c["customer_name"] is None and c["revenue"] == 60.0 and c["orders"] == 2
    assert c["clv"] is None and c["churn_probability"] is None and c["source_value"] is None
    assert c["stage"] == stage_row["stage"] and c["next_action"] in c360.ACTIONS
    assert c360.risk_reasons(stage_row, val)["c360_reason_from"].tolist() == ["reason_lifecycle"]


# --- facts of the other stages, side by side ------------------------------------------------------
# A run folder holding what 04, 06, 07 and 12 saved about distributor D1 (flagged for closure review
# on a collection rate of 45 %, credit D) and customer C1 (valuable, nothing flagged).

def _saved_run(run):
    tables = {
        ("04_channels", "distributors"): {"distributor_id": ["D1", "D2"], "collection_rate": [0.45, 0.9],
                                          "closure_review": [True, False]},
        ("06_customers", "customer_segments"): {
            "customer_id": ["D1", "C1"], "rfm_class": ["rfm_important_value", "rfm_general_value"],
            "customer_tier": ["tier_high_value", "tier_basic"], "tags": ["tag_high_value,tag_churn_risk", ""],
            "quadrant": ["quadrant_deepen", "quadrant_low_cost"]},
        ("07_clv_churn", "churn_scores"): {"customer_id": ["D1", "C1"], "clv": [500.0, 20.0],
                                           "churn_probability": [0.02, 0.4]},
        ("12_risk", "credit_rating"): {"customer_id": ["D1"], "credit_grade": ["credit_d"], "credit_points": [7]},
        ("12_risk", "ageing_by_customer"): {"customer_id": ["D1"], "outstanding": [300.0], "0-30": [100.0],
                                            ">90": [200.0], "max_days_overdue": [120]},
        ("12_risk", "alerts"): {"alert": ["alert_distributor_collection", "alert_credit_grade", "alert_credit_grade"],
                                "entity_id": ["D1", "D1", "D1"]},
    }
    for (stage, name), cols in tables.items():
        (run / "data" / stage).mkdir(parents=True, exist_ok=True)
        pd.DataFrame(cols).to_parquet(run / "data" / stage / f"{name}.parquet")
    return run


def test_linked_facts_show_each_stages_verdict_with_its_stage(hand_warehouse, tmp_path):
    run = _saved_run(tmp_path / "run")
    with connect(hand_warehouse, "duckdb", {"memory_limit": "1GB", "temp_directory": str(tmp_path / "duck")},
                 run_dir=run) as e:
        d1 = c360.linked_facts(e, "D1", HS, HE)
        c1 = c360.linked_facts(e, "C1", HS, HE)
    got = [(r.link_fact, r.link_value, None if pd.isna(r.link_number) else r.link_number, r.link_source)
           for r in d1.itertuples()]
    assert (d1["link_stage"] == d1["link_source"]).all()  # every fact read from its own page's table
    assert got == [
        ("link_collection_review", "closure_review", 0.45, "04_channels"),
        ("link_rfm_class", "rfm_important_value", None, "06_customers"),
        ("link_tier", "tier_high_value", None, "06_customers"),
        ("link_tag", "tag_high_value", None, "06_customers"),
        ("link_tag", "tag_churn_risk", None, "06_customers"),
        ("link_quadrant", "quadrant_deepen", None, "06_customers"),
        ("link_churn_probability", None, 0.02, "07_clv_churn"),
        ("link_clv", None, 500.0, "07_clv_churn"),
        ("link_credit_grade", "credit_d", 7.0, "12_risk"),
        ("link_outstanding", None, 300.0, "12_risk"),
        ("link_overdue_90", None, 200.0, "12_risk"),
        ("link_max_days_overdue", None, 120.0, "12_risk"),
        ("link_alert", "alert_distributor_collection", None, "12_risk"),
        ("link_alert", "alert_credit_grade", None, "12_risk"),  # one row per alert kind
    ]
    # C1 is no distributor (no review row), has no tag, and nothing in 12's tables
    assert c1["link_fact"].tolist() == ["link_rfm_class", "link_tier", "link_tag", "link_quadrant",
                                        "link_churn_probability", "link_clv"]
    assert c1.loc[c1["link_fact"] == "link_tag", "link_value"].tolist() == ["link_no_tag"]
    assert c360.review_and_value(d1) == (True, ["rfm_important_value", "tier_high_value", "tag_high_value",
                                                "quadrant_deepen"])
    assert c360.review_and_value(c1) == (False, [])


def test_linked_facts_without_the_runs_tables_use_the_cards_values_and_skip_what_is_missing(hand_warehouse, tmp_path):
    with connect(hand_warehouse, "duckdb", {"memory_limit": "1GB", "temp_directory": str(tmp_path / "duck")}) as e:
        links = c360.linked_facts(e, "C1", HS, HE, seg={"rfm_class": "rfm_general_value", "customer_tier": "tier_basic"},
                                  val={"clv": 12.5, "churn_probability": None})
    # no invoices in this warehouse: the credit rating and ageing cannot be computed and are left out
    assert list(zip(links["link_fact"], links["link_stage"], links["link_source"])) == [
        ("link_rfm_class", "06_customers", "computed"), ("link_tier", "06_customers", "computed"),
        ("link_clv", "07_clv_churn", "computed")]
    assert links["link_number"].iloc[2] == 12.5


def test_the_links_sentence_names_both_verdicts_and_how_both_hold(hand_warehouse, tmp_path):
    from saleslab.customer360 import story as c360_story

    run = _saved_run(tmp_path / "run")
    with connect(hand_warehouse, "duckdb", {"memory_limit": "1GB", "temp_directory": str(tmp_path / "duck")},
                 run_dir=run) as e:
        d1, c1 = c360.linked_facts(e, "D1", HS, HE), c360.linked_facts(e, "C1", HS, HE)
    card = pd.DataFrame([{"customer_id": "D1", "customer_name": "Dist One"}])
    zh, en = (c360_story.links_narrative(d1, card, lang) for lang in ("zh-CN", "en"))
    for part in ("渠道分析页因回款率 45.0% 低于清退阈值建议清退复核", "风险管理页信用等级为 D 高风险",
                 "客户细分页按购买评定", "重要价值客户", "深耕", "两者同时成立", "逾期超过 90 天的应收为 200 元"):
        assert part in zh, part
    assert "closure review (collection rate 45.0%" in en and "Both hold" in en and "CNY 200" in en
    assert not any("\u4e00" <= ch <= "\u9fff" for ch in en)
    view = c360_story.links_view(d1, "en").set_index("link_fact")
    assert view.loc["link_collection_review", ["link_value", "link_detail"]].tolist() == ["closure_review", "45.0%"]
    assert view.loc["link_credit_grade", "link_detail"] == "7 points" and view.loc["link_clv", "link_value"] == "CNY 500"
    assert view.loc["link_max_days_overdue", "link_value"] == "120 days" and set(view["link_source"]) == {"run"}
    card1 = pd.DataFrame([{"customer_id": "C1", "customer_name": "甲"}])
    assert "没有需要特别关注" in c360_story.links_narrative(c1, card1, "zh-CN")  # nothing flagged, nothing valuable
    keys = [*c360.LINK_FACTS, *c360_story.VIEW_COLUMNS, "link_collection_ok", "link_no_tag", "c360_links_section",
            "c360_no_rules", "c360_trend_section"]
    assert [k for k in keys if k not in i18n.LABELS] == []


def test_a_trend_needs_three_months_else_one_sentence():
    from saleslab.customer360 import story as c360_story

    orders = pd.DataFrame({"order_id": ["O1"], "order_date": [pd.Timestamp("2024-02-01").date()], "revenue": [10.0]})
    two = c360.monthly_history(orders, "2024-02-01", "2024-03-31")
    assert len(two) == 2 and two.attrs["params"]["c360_trend_min_months"] == 3
    with pytest.raises(InsufficientData, match="the period has 2 month"):
        c360_story.monthly_chart(two, "en")
    with pytest.raises(InsufficientData, match="分析期只有 2 个月"):
        c360_story.monthly_chart(two, "zh-CN")
    fig = c360_story.monthly_chart(c360.monthly_history(orders, HS, HE), "en")  # 3 months: drawn
    assert len(fig.axes[0].patches) == 3
    plt.close(fig)
    plt.close(c360_story.monthly_chart(c360.monthly_history(orders, "2024-02-01", "2024-03-31",
                                                            Params(c360_trend_min_months=2)), "en"))
