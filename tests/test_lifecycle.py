"""Lifecycle stages, stage movements, cohorts and monthly rates (domain.md §6) on hand-made
warehouses (DuckDB and PySpark), plus charts, labels and narrative on the small demo.

Lifecycle warehouse, as of 2024-12-31 (new 90 d, at risk 180 d, churned 365 d, trend windows
recent (2024-07-04, 2024-12-31], prior (2024-01-06, 2024-07-04]):

  A  2024-11-15                                  first order 46 days ago           -> new
  B  2023-05-01 2024-03-01 2024-09-01 2024-12-01 prior 1 (< 2 orders: no trend)    -> mature
  C  2023-06-01 2024-05-01                       idle 244 days                     -> at risk (inactive)
  D  2023-10-01                                  idle 457 days                     -> churned
  E  2024-02-01 03-01 04-01 05-01, 2024-12-15    prior 4, recent 1 (≤ 0.5 × 4)     -> at risk (falling)
  M  2024-02-01 2024-03-01 2024-08-01 2024-09-01 prior 2, recent 2                 -> mature
  F  2024-01-01                                  idle exactly 365                  -> churned
  G  2024-01-02                                  idle 364                          -> at risk
  H  2024-07-04                                  idle exactly 180                  -> at risk
  I  2023-01-10 2024-07-05                       idle 179                          -> mature
  J  2024-10-03                                  first order 89 days ago           -> new
  K  2024-10-02                                  first order 90 days ago           -> mature
  P  master only; Q lead with a customer id; lead L2 open without id               -> prospects
  (lost lead L3, master Z created 2025, R ordering only in 2025, anonymous order: not counted)
"""

import datetime as dt
import re

import pandas as pd
import pytest
from pydantic import ValidationError

import handmade
from handmade import source_yaml
from saleslab.lifecycle import stages as lc
from saleslab.lifecycle.params import Params
from saleslab.params import used

AS_OF = "2024-12-31"

ORDERS = {
    "A": ["2024-11-15"], "B": ["2023-05-01", "2024-03-01", "2024-09-01", "2024-12-01"],
    "C": ["2023-06-01", "2024-05-01"], "D": ["2023-10-01"],
    "E": ["2024-02-01", "2024-03-01", "2024-04-01", "2024-05-01", "2024-12-15"],
    "M": ["2024-02-01", "2024-03-01", "2024-08-01", "2024-09-01"],
    "F": ["2024-01-01"], "G": ["2024-01-02"], "H": ["2024-07-04"], "I": ["2023-01-10", "2024-07-05"],
    "J": ["2024-10-03"], "K": ["2024-10-02"], "R": ["2025-01-05"], "": ["2024-06-01"],
}
EXPECTED = {"A": "stage_new", "B": "stage_mature", "C": "stage_at_risk", "D": "stage_churned",
            "E": "stage_at_risk", "M": "stage_mature", "F": "stage_churned", "G": "stage_at_risk",
            "H": "stage_at_risk", "I": "stage_mature", "J": "stage_new", "K": "stage_mature",
            "P": "stage_prospect", "Q": "stage_prospect", "L2": "stage_prospect"}


def _orders_csv(orders: dict) -> str:
    rows, n = ["order,date,cust,channel,region,sku,qty,price"], 0
    for cust, dates in orders.items():
        for d in dates:
            n += 1
            rows.append(f"O{n:03d},{d},{cust},online,east,P1,1,10")
    return "\n".join(rows) + "\n"


CUSTOMERS_MAP = source_yaml("customers.csv", "customers", {"customer_id": "id", "name": "name",
                                                           "created_date": "created"})
LEADS_MAP = source_yaml("leads.csv", "leads", {"lead_id": "id", "customer_id": "cust", "created_date": "date",
                                               "stage": "stage"})
PRODUCTS = "sku,name,cat,price,cost\nP1,A,x,10,6\n"


def _build(tmp, orders: dict, customers: str, leads: str):
    files = {"orders.csv": _orders_csv(orders), "products.csv": PRODUCTS, "customers.csv": customers,
             "leads.csv": leads}
    maps = {"orders.yaml": handmade.ORDERS, "products.yaml": handmade.PRODUCTS, "customers.yaml": CUSTOMERS_MAP,
            "leads.yaml": LEADS_MAP}
    return handmade.build_warehouse(tmp, files, maps)


@pytest.fixture(scope="module")
def hand_warehouse(tmp_path_factory):
    customers = "id,name,created\n" + "".join(f"{c},n{c},2020-01-01\n" for c in "ABCDEFGHIJKMP") + "Z,nZ,2025-01-10\n"
    leads = ("id,cust,date,stage\nL1,Q,2024-05-01,needs\nL2,,2024-06-01,proposal\nL3,,2024-06-01,lost\n"
             "L4,,2025-02-01,lead\n")
    return _build(tmp_path_factory.mktemp("hand_lifecycle"), ORDERS, customers, leads)


@pytest.fixture(scope="module")
def stages(eng):
    return lc.lifecycle_stages(eng, AS_OF).set_index("customer_id")


def test_every_lifecycle_rule_and_its_boundaries(stages):
    assert stages["stage"].to_dict() == EXPECTED


def test_stage_reasons_name_the_rule_that_applied(stages):
    why = stages["stage_reason"]
    assert why["C"] == "why_inactive_at_risk" and why["E"] == "why_falling_frequency"
    assert why["D"] == why["F"] == "why_inactive_churned"
    assert why["A"] == "why_recent_first_order" and why["B"] == "why_regular_buyer"
    assert why["P"] == why["Q"] == why["L2"] == "why_no_orders"
    assert stages.loc[["P", "Q", "L2", "A"], "known_from"].tolist() == [
        "from_customers", "from_leads", "from_open_lead", "from_customers"]


def test_activity_columns_count_orders_in_the_trend_windows(stages):
    e = stages.loc["E"]
    assert (e["orders"], e["orders_recent"], e["orders_prior"], e["days_since_last_order"]) == (5, 1, 4, 16)
    assert stages.loc["B", ["orders_recent", "orders_prior"]].tolist() == [2, 1]
    assert stages.loc["A", "first_order_date"] == dt.date(2024, 11, 15)
    assert pd.isna(stages.loc["P", "days_since_last_order"]) and stages.loc["P", "orders"] == 0


def test_thresholds_are_parameters(eng):
    p = Params(lifecycle_new_days=100, lifecycle_at_risk_days=250, lifecycle_churned_days=458,
               lifecycle_falling_ratio=0.2)
    s = lc.lifecycle_stages(eng, AS_OF, p, include_open_leads=False).set_index("customer_id")
    assert used(s, "lifecycle_churned_days") == 458
    # K (90 days) is new now; C (244) and H (180) no longer at risk; D (457) not churned; E not falling
    assert s.loc[["K", "C", "H", "D", "E"], "stage"].tolist() == [
        "stage_new", "stage_mature", "stage_mature", "stage_at_risk", "stage_mature"]
    assert "L2" not in s.index
    with pytest.raises(ValidationError, match="lifecycle_at_risk_days"):
        Params(lifecycle_at_risk_days=400, lifecycle_churned_days=365)


def test_stage_counts_follow_lifecycle_order(stages):
    counts = lc.stage_counts(stages.reset_index())
    assert counts["stage"].tolist() == list(lc.STAGES)
    assert counts["customers"].tolist() == [3, 2, 4, 4, 2]
    assert counts["share"].sum() == pytest.approx(1.0)
    # 3 prospects never bought; the other 2 + 4 + 4 + 2 did, 4 of them at risk
    assert lc.headline_counts(counts) == {"active_buyers": 12, "at_risk": 4}


def test_movements_count_customers_per_from_and_to_stage(eng, stages):
    prev = lc.lifecycle_stages(eng, lc.one_month_earlier(AS_OF))  # 2024-11-30
    mv = lc.stage_movements(stages.reset_index(), prev)
    pairs = {(f, t): n for f, t, n in zip(mv["from_stage"], mv["to_stage"], mv["customers"])}
    # on 2024-11-30: K new (59 days) -> mature (90); H mature (149 days idle) -> at risk (180);
    # F at risk (334 days idle) -> churned (365); E at risk (213 days idle) -> at risk (falling)
    assert pairs == {
        ("stage_prospect", "stage_prospect"): 3, ("stage_new", "stage_new"): 2, ("stage_new", "stage_mature"): 1,
        ("stage_mature", "stage_mature"): 3, ("stage_mature", "stage_at_risk"): 1,
        ("stage_at_risk", "stage_at_risk"): 3, ("stage_at_risk", "stage_churned"): 1,
        ("stage_churned", "stage_churned"): 1}
    assert mv["moved"].tolist() == [f != t for f, t in zip(mv["from_stage"], mv["to_stage"])]
    assert lc.one_month_earlier("2024-03-31") == dt.date(2024, 2, 29)


def test_movements_mark_customers_missing_from_one_side_as_absent(stages):
    prev = pd.DataFrame({"customer_id": ["A", "X"], "stage": ["stage_prospect", "stage_mature"]})
    cur = stages.reset_index()
    mv = lc.stage_movements(cur, prev).set_index(["from_stage", "to_stage"])["customers"]
    assert mv[("stage_prospect", "stage_new")] == 1 and mv[("stage_mature", lc.ABSENT)] == 1
    assert mv[(lc.ABSENT, "stage_churned")] == 2  # D and F were not in the previous table
    m = lc.movement_matrix(lc.stage_movements(cur, prev))
    assert m.loc[lc.ABSENT].sum() == len(cur) - 1 and m.values.sum() == len(cur) + 1


def test_previous_stages_come_from_the_previous_run_through_the_engine(hand_warehouse, tmp_path, stages):
    from saleslab.engine import connect

    reports = tmp_path / "reports"
    old, new = reports / "run1", reports / "run2"
    (old / "data" / "06_customers").mkdir(parents=True)
    new.mkdir()
    cfg = {"memory_limit": "1GB", "threads": 1, "temp_directory": str(tmp_path / "duck")}
    with connect(hand_warehouse, "duckdb", cfg, run_dir=new) as e:
        # no previous run: the stages one month earlier (with the parameters given)
        table, basis = lc.previous_stages(e, "06_customers", AS_OF, Params(lifecycle_churned_days=400))
        assert basis == "one_month_earlier" and used(table, "lifecycle_churned_days") == 400
        assert table.set_index("customer_id").loc["K", "stage"] == "stage_new"  # 59 days old on 2024-11-30
        (reports / "latest").symlink_to("run1")
        assert lc.previous_stages(e, "06_customers", AS_OF)[1] == "one_month_earlier"  # run1 has no such table
        pd.DataFrame({"customer_id": ["A"], "stage": ["stage_prospect"]}).to_parquet(
            old / "data" / "06_customers" / f"{lc.STAGES_TABLE}.parquet")
        table, basis = lc.previous_stages(e, "06_customers", AS_OF)
        assert basis == "previous_run" and table.to_dict("list") == {"customer_id": ["A"], "stage": ["stage_prospect"]}
        assert lc.previous_stages(e, "08_customer_360", AS_OF)[1] == "one_month_earlier"  # the stage is asked for
    with connect(hand_warehouse, "duckdb", cfg, run_dir=old) as e:  # latest is this run: no previous one
        assert lc.previous_stages(e, "06_customers", AS_OF)[1] == "one_month_earlier"


# --- cohorts and monthly rates ------------------------------------------------------------------
# U1 2024-01-05 01-20 03-10; U2 01-31 02-01; U3 2023-12-15 2024-02-10; U4 02-29 04-30; U5 2024-05-02
# period 2024-01-01 .. 2024-04-30: cohort Jan = {U1, U2}, Feb = {U4}; U3's cohort (Dec 2023) is before it.

COHORT_ORDERS = {"U1": ["2024-01-05", "2024-01-20", "2024-03-10"], "U2": ["2024-01-31", "2024-02-01"],
                 "U3": ["2023-12-15", "2024-02-10"], "U4": ["2024-02-29", "2024-04-30"], "U5": ["2024-05-02"]}
CS, CE = "2024-01-01", "2024-04-30"


@pytest.fixture(scope="module")
def ceng(backend, tmp_path_factory, open_engine):
    tmp = tmp_path_factory.mktemp("hand_cohorts")
    wh = _build(tmp, COHORT_ORDERS, "id,name,created\nV,nV,2020-01-01\n", "id,cust,date,stage\nL9,,2024-01-01,lost\n")
    e = open_engine(wh, backend, tmp)
    yield e
    e.close()


def test_cohort_expr_counts_active_customers_per_cohort_month(ceng):
    df = ceng.execute(lc.cohort_expr(ceng, CS, CE))
    got = sorted((pd.Timestamp(c).date().isoformat(), int(k), int(n))
                 for c, k, n in zip(df["cohort_month"], df["months_since"], df["active_customers"]))
    assert got == [("2024-01-01", 0, 2), ("2024-01-01", 1, 1), ("2024-01-01", 2, 1),
                   ("2024-02-01", 0, 1), ("2024-02-01", 2, 1)]


def test_cohort_matrix_is_the_share_of_the_cohort_active_k_months_later(ceng):
    ct = lc.cohort_table(ceng, CS, CE)
    m = lc.cohort_matrix(ct)
    jan, feb = dt.date(2024, 1, 1), dt.date(2024, 2, 1)
    assert m.loc[jan].tolist() == [2, 1.0, 0.5, 0.5, 0.0]
    assert m.loc[feb, ["cohort_size", 0, 1, 2]].tolist() == [1, 1.0, 0.0, 1.0] and pd.isna(m.loc[feb, 3])
    assert lc.cohort_matrix(ct, "active_customers").loc[jan, [0, 1, 2, 3]].tolist() == [2, 1, 1, 0]
    curve = lc.retention_curve(ct)
    assert curve["retention_rate"].round(6).tolist() == [1.0, round(1 / 3, 6), round(2 / 3, 6), 0.0]
    assert curve["cohorts"].tolist() == [2, 2, 2, 1]


def test_monthly_rates_hand_computed(ceng):
    r = lc.monthly_rates(ceng, CS, CE, Params(lifecycle_at_risk_days=40, lifecycle_churned_days=40,
                                              lifecycle_repeat_days=30)).set_index("month")
    assert r["active_customers"].tolist() == [2, 3, 1, 1]
    assert r["new_customers"].tolist() == [2, 1, 0, 0]
    assert r["repurchase_rate"].round(6).tolist() == [0.0, round(2 / 3, 6), 1.0, 1.0]
    # Jan: U1 (15 days) and U2 (1 day) buy again within 30 days; Feb: U4 only after 61 days
    assert r["new_repeat_rate"].iloc[:2].tolist() == [1.0, 0.0] and r["new_repeat_rate"].iloc[2:].isna().all()
    # churn events (last order + 40 days, no order in between): U3 01-24; U1 02-29; U3 03-21, U2 03-12;
    # U1 04-19, U4 04-09. Base: an order in the 40 days before the 1st (U1's 01-20 is 41 days before Mar 1)
    assert r["churned_customers"].tolist() == [1, 1, 2, 2]
    assert r["customers_at_start"].tolist() == [1, 2, 3, 2]
    assert r["churn_rate"].round(6).tolist() == [1.0, 0.5, round(2 / 3, 6), 1.0]


def test_churn_base_agrees_with_lifecycle_stages_the_day_before(ceng):
    p = Params(lifecycle_at_risk_days=40, lifecycle_churned_days=40)
    r = lc.monthly_rates(ceng, CS, CE, p)
    for month, base in zip(r["month"], r["customers_at_start"]):
        st = lc.lifecycle_stages(ceng, month - dt.timedelta(days=1), p)
        alive = st[st["orders"].gt(0) & ~st["stage"].isin(["stage_churned", "stage_prospect"])]
        assert len(alive) == base, month


# --- story and charts: the thresholds of the tables, one template per finding ----------------------

CJK = re.compile(r"[\u3400-\u9fff\u3000-\u303f\uff01-\uff5e]")


@pytest.fixture(scope="module")
def story_inputs(eng, ceng):
    p = Params(lifecycle_at_risk_days=200, lifecycle_churned_days=400)
    cur = lc.lifecycle_stages(eng, AS_OF, p)
    counts = lc.stage_counts(cur)
    movements = lc.stage_movements(cur, lc.lifecycle_stages(eng, lc.one_month_earlier(AS_OF), p))
    rates = lc.monthly_rates(ceng, CS, CE, p)
    curve = lc.retention_curve(lc.cohort_table(ceng, CS, CE))
    return counts, movements, rates, curve


def test_lifecycle_story_and_charts_state_the_thresholds_of_the_tables(story_inputs):
    import matplotlib.pyplot as plt

    from saleslab.lifecycle import charts, story

    counts, movements, rates, curve = story_inputs
    assert used(counts, "lifecycle_churned_days") == used(movements, "lifecycle_churned_days") == 400
    figures = lc.rates_summary(rates, months=3)
    en = story.lifecycle_narrative(counts, movements, "one_month_earlier", figures, curve, "en")
    zh = story.lifecycle_narrative(counts, movements, "previous_run", figures, curve, "zh-CN")
    assert "(no order for 400 days)" in en and "超过 400 天未下单" in zh
    assert "Over the last 3 months" in en and "近3个月" in zh
    assert "compared with one month earlier" in en and "与上一次运行相比" in zh
    buying = int(counts.set_index("stage")["customers"].drop("stage_prospect").sum())
    assert f"**{buying:,}** customers have bought" in en and f"**{buying:,}** 位" in zh
    fig = charts.stage_chart(counts, "en")
    assert fig.axes[0].get_title() == ("Customers by lifecycle stage (new < 90 days, at risk ≥ 200, churned ≥ 400 "
                                       "days without an order)")
    assert [b.get_height() for b in fig.axes[0].patches] == counts["customers"].tolist()
    fig = charts.rates_chart(rates, "zh-CN")
    labels = [ln.get_label() for ax in fig.axes for ln in ax.get_lines()]
    assert "流失率（400 天未下单）" in labels
    plt.close("all")


def test_english_stories_have_no_chinese_and_chinese_stories_no_english_sentence(story_inputs):
    from saleslab.lifecycle import story

    counts, movements, rates, curve = story_inputs
    figures = lc.rates_summary(rates)
    card = pd.DataFrame([{"customer_id": "C1", "customer_name": "Acme", "stage": "stage_at_risk",
                          "stage_reason": "why_inactive_at_risk", "days_since_last_order": 200, "orders": 3,
                          "revenue": 12345.0, "rfm_class": "rfm_important_winback", "customer_tier": "tier_potential",
                          "clv": 5000.0, "churn_probability": 0.4, "next_action": "act_winback_call",
                          "next_action_reason": "why_act_risk"}])
    texts = {lang: [story.lifecycle_narrative(counts, movements, "one_month_earlier", figures, curve, lang),
                    story.customer_narrative(card, lang)] for lang in ("en", "zh-CN")}
    for text in texts["en"]:
        assert not CJK.search(text), CJK.findall(text)
    for text in texts["zh-CN"]:
        # data values (product ids, the customer's name) and the RFM acronym are not sentences
        assert set(re.findall(r"[A-Za-z]{2,}", text)) <= {"P1", "P2", "Acme", "RFM"}, text
    assert "**Acme (C1)** is **At risk** (No order for the warning period, last order 200 days ago)" in texts["en"][1]
    assert "**Acme（C1）** 处于 **预警客户** 阶段" in texts["zh-CN"][1] and "1.23 万元" in texts["zh-CN"][1]


# --- partial data -------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def orders_only(tmp_path_factory, open_engine):
    """The lifecycle orders with neither a customer master nor leads (an ERP export alone)."""
    tmp = tmp_path_factory.mktemp("lifecycle_orders_only")
    wh = handmade.build_warehouse(tmp, {"orders.csv": _orders_csv(ORDERS)}, {"orders.yaml": handmade.ORDERS})
    e = open_engine(wh, "duckdb", tmp)
    yield e
    e.close()


def test_without_customer_master_and_leads_no_prospect_can_be_known_and_the_page_says_so(orders_only, eng):
    from saleslab.errors import MissingSource
    from saleslab.lifecycle import story

    stages = lc.lifecycle_stages(orders_only, AS_OF)
    buyers = {c: s for c, s in EXPECTED.items() if s != "stage_prospect"}
    assert dict(zip(stages["customer_id"], stages["stage"])) == buyers  # the buyers' stages need orders only
    assert stages.attrs["prospects_known"] is False and set(stages["known_from"]) == {"from_orders"}
    counts = lc.stage_counts(stages)
    assert counts.attrs["prospects_known"] is False and counts.set_index("stage").loc["stage_prospect", "customers"] == 0
    with pytest.raises(MissingSource) as err:
        lc.require_prospect_sources(orders_only)
    assert err.value.tables == ("customers", "leads") and "customer master or CRM leads" in str(err.value)
    lc.require_prospect_sources(eng)  # the hand warehouse has both
    movements = lc.stage_movements(stages, lc.lifecycle_stages(orders_only, lc.one_month_earlier(AS_OF)))
    curve = lc.retention_curve(lc.cohort_table(orders_only, "2023-01-01", AS_OF))
    rates = lc.rates_summary(lc.monthly_rates(orders_only, "2023-01-01", AS_OF))
    for lang in ("en", "zh-CN"):
        first = story.lifecycle_narrative(counts, movements, "one_month_earlier", rates, curve, lang).splitlines()[0]
        assert "prospect" not in first and "潜在" not in first
    assert "**12** customers have bought" in story.lifecycle_narrative(counts, movements, "one_month_earlier", rates,
                                                                        curve, "en")


def test_purchases_need_orders(tmp_path, open_engine):
    from saleslab.errors import MissingSource

    wh = handmade.build_warehouse(tmp_path, {"customers.csv": "id,name,created\nP,nP,2020-01-01\n"},
                                  {"customers.yaml": CUSTOMERS_MAP})
    with open_engine(wh, "duckdb", tmp_path) as e:
        with pytest.raises(MissingSource) as err:
            lc.lifecycle_stages(e, AS_OF)
    assert err.value.tables == ("orders",)
