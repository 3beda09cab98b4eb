"""Churn warning (domain.md §6): features at a cut-off on a hand-made warehouse (DuckDB and PySpark)
that ignore later data and take spend from the facts layer, metric functions on hand-computed
cases, and on the small demo a model trained at one cut-off that beats the recency baseline at a
later, held-out one; stories and charts show the thresholds the tables were computed with."""

import datetime as dt
import re

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest

import handmade
from handmade import source_yaml
from saleslab import churn, clv
from saleslab.churn import charts as churn_charts, model as churn_model, story as churn_story
from saleslab.churn.params import Params
from saleslab.engine import connect
from saleslab.errors import InsufficientData, SalesLabError

CUT = "2024-06-30"

# Customer A: 2023-03-01 (before the 12-month window), 2024-01-10 online, 2024-05-01 online + retail
# (one purchase day, 40), 2024-06-20 retail; after the cut-off: 2024-08-01.
# Customer B: only 2023-01-15 (not active in the window) and 2024-09-01 (after).
# Customer C: 2024-02-01 direct (10), 4 of it refunded on 2024-03-01, nothing after.
# A's 2024-06-20 purchase (10) is refunded on 2024-07-05, after the cut-off.
ORDERS_BEFORE = ("order,date,cust,channel,region,sku,qty,price\n"
                 "O1,2023-03-01,A,online,east,P1,1,10\n"
                 "O2,2024-01-10,A,online,east,P1,2,10\n"
                 "O3,2024-05-01,A,online,east,P1,1,10\n"
                 "O4,2024-05-01,A,retail,east,P1,3,10\n"
                 "O5,2024-06-20,A,retail,east,P1,1,10\n"
                 "O7,2023-01-15,B,online,east,P1,1,10\n"
                 "O9,2024-02-01,C,direct,east,P1,1,10\n")
ORDERS_AFTER = "O6,2024-08-01,A,retail,east,P1,5,10\nO8,2024-09-01,B,online,east,P1,1,10\n"
FOLLOWUPS_BEFORE = ("id,cust,date,kind\nF1,A,2024-04-01,call\nF2,A,2024-06-01,complaint\nF3,A,2023-10-01,visit\n"
                    "F5,C,2024-03-01,visit\n")
FOLLOWUPS_AFTER = "F4,A,2024-07-15,complaint\n"
RETURNS_BEFORE = "id,order,sku,date,qty,amount\nR1,O9,P1,2024-03-01,1,4\n"
RETURNS_AFTER = "R2,O5,P1,2024-07-05,1,10\n"

MAPS = {
    "orders.yaml": handmade.ORDERS,
    "products.yaml": handmade.PRODUCTS,
    "returns.yaml": handmade.RETURNS,
    "followups.yaml": source_yaml("followups.csv", "followups", {"followup_id": "id", "customer_id": "cust",
                                                                 "followup_date": "date", "kind": "kind"}),
}


def _files(later: bool) -> dict:
    return {"orders.csv": ORDERS_BEFORE + (ORDERS_AFTER if later else ""),
            "followups.csv": FOLLOWUPS_BEFORE + (FOLLOWUPS_AFTER if later else ""),
            "products.csv": "sku,name,cat,price,cost\nP1,A,x,10,6\n",
            "returns.csv": RETURNS_BEFORE + (RETURNS_AFTER if later else "")}


@pytest.fixture(scope="module")
def hand_warehouse(tmp_path_factory):
    return handmade.build_warehouse(tmp_path_factory.mktemp("hand_churn"), _files(True), MAPS)


@pytest.fixture(scope="module")
def feats(eng):
    return churn.features(eng, CUT).set_index("customer_id")


def test_features_at_cutoff_hand_computed(feats):
    assert feats.index.tolist() == ["A", "C"]  # B bought nothing in the 12 months before the cut-off
    a = feats.loc["A"]
    cut = dt.date(2024, 6, 30)
    assert a["recency_days"] == (cut - dt.date(2024, 6, 20)).days
    assert a["tenure_days"] == (cut - dt.date(2023, 3, 1)).days
    # purchase days aged 10, 60 and 172 days; the 2023-03-01 one is outside the 12 months
    assert a[["frequency_3m", "frequency_6m", "frequency_12m"]].tolist() == [2, 3, 3]
    assert a["frequency_trend"] == 1.0 and a["spend_12m"] == 70.0 and a["spend_trend"] == 1.0
    assert a["main_channel"] == "online"  # 2 online and 2 retail orders: tie broken by channel code
    assert a[["followups_6m", "complaints_6m"]].tolist() == [2, 1]
    assert a["followups_trend"] == pytest.approx(1 / 3, abs=1e-6)  # 2 in the last 6 months, 1 before
    assert feats.loc["C", "main_channel"] == "direct" and feats.loc["C", "frequency_3m"] == 0
    assert feats.attrs["params"]["churn_feature_months"] == 12


def test_spend_is_net_of_refunds_dated_up_to_the_cutoff(feats, eng):
    # C: 10 less the 4 refunded before the cut-off; A: the refund of 2024-07-05 is not known at 06-30
    assert feats.loc["C", "spend_12m"] == 6.0 and feats.loc["A", "spend_12m"] == 70.0
    later = churn.features(eng, "2024-07-31").set_index("customer_id")
    # by 07-31 the refund is netted on A's 06-20 purchase day (20 + 40 + 0; 2023-03-01 is out of the window)
    assert later.loc["A", "spend_12m"] == 60.0 and later.loc["A", "frequency_12m"] == 3
    short = churn.features(eng, CUT, Params(churn_feature_months=3)).set_index("customer_id")
    assert short.index.tolist() == ["A"] and short.loc["A", "spend_12m"] == 50.0  # C bought 5 months ago


def test_features_ignore_everything_after_the_cutoff(hand_warehouse, tmp_path, open_engine):
    # DuckDB only: on PySpark two warehouses in one session would share the table views
    wh = handmade.build_warehouse(tmp_path, _files(False), MAPS)
    frames = []
    for w in (hand_warehouse, wh):
        e = open_engine(w, "duckdb", tmp_path)
        try:
            frames.append(churn.features(e, CUT).set_index("customer_id"))
        finally:
            e.close()
    pd.testing.assert_frame_equal(frames[0], frames[1])


def test_labels_are_no_purchase_in_the_window_after_the_cutoff(eng):
    d = churn.dataset(eng, CUT, Params(churn_window_days=60)).set_index("customer_id")
    assert d["churned"].to_dict() == {"A": False, "C": True}
    assert d.attrs["params"]["churn_window_days"] == 60 and d.attrs["params"]["cutoff"] == CUT
    with pytest.raises(InsufficientData, match="label window"):
        churn.dataset(eng, CUT, Params(churn_window_days=90))  # would end after the last order (2024-09-01)


# --- metrics on hand-computed cases -------------------------------------------------------------

def test_a_dataset_asked_again_is_a_copy_of_the_first(eng):
    # the back-test's held-out cut-off is the scores' training cut-off: built once per engine
    p = Params(churn_window_days=60)
    first = churn.dataset(eng, CUT, p)
    first.loc[:, "churned"] = ~first["churned"]  # a caller changing its table changes no later one
    again = churn.dataset(eng, CUT, p)
    pd.testing.assert_frame_equal(again, churn_model._dataset(eng, CUT, p))
    assert again.attrs == churn_model._dataset(eng, CUT, p).attrs
    assert len(churn.dataset(eng, CUT, Params(churn_window_days=30))) > 0  # other parameters: built anew


def test_roc_auc_counts_correctly_ordered_pairs():
    # positives 0.9, 0.3; negatives 0.8, 0.1: pairs (0.9>0.8, 0.9>0.1, 0.3<0.8, 0.3>0.1) -> 3/4
    assert churn.roc_auc([1, 0, 1, 0], [0.9, 0.8, 0.3, 0.1]) == 0.75
    assert churn.roc_auc([1, 0], [0.5, 0.5]) == 0.5  # a tie counts half
    assert np.isnan(churn.roc_auc([1, 1], [0.2, 0.3]))


def test_top_decile_precision_breaks_ties_by_id():
    y = [1, 0, 0, 1, 0, 0, 0, 0, 0, 1, 0]
    s = [0.9, 0.8, 0.8, 0.1, 0.2, 0.3, 0.2, 0.1, 0.0, 0.05, 0.3]
    # 11 customers, 10 % -> ceil(1.1) = 2: 0.9 (churned) and the first by id of the two 0.8s
    assert churn.top_share_precision(y, s, 0.1, ids=list("abcdefghijk")) == 0.5
    assert churn.top_share_precision([0, 1], [0.5, 0.5], 0.5, ids=["b", "a"]) == 1.0


def test_calibration_and_lift_tables():
    c = churn.calibration_table([0, 1, 0, 1], [0.05, 0.15, 0.12, 0.95])
    assert c["customer_count"].tolist() == [1, 2, 1]
    assert c["mean_predicted"].tolist() == [0.05, 0.135, 0.95]
    assert c["observed_rate"].tolist() == [0.0, 0.5, 1.0]
    assert c["bin_lower"].tolist() == [0.0, 0.1, 0.9]
    lift = churn.lift_table([1, 1, 0, 0], [0.9, 0.1, 0.8, 0.2], groups=2)
    # decile 1: 0.9 (churned), 0.8 (not) -> 50 %; decile 2: 0.2, 0.1 (churned) -> 50 %; base 50 %
    assert lift["churn_rate"].tolist() == [0.5, 0.5] and lift["churn_lift"].tolist() == [1.0, 1.0]
    assert lift["cumulative_capture"].tolist() == [0.5, 1.0]


def test_evaluate_compares_the_model_with_recency_baselines():
    test = pd.DataFrame({"customer_id": list("abcd"), "churned": [True, False, True, False],
                         "recency_days": [200, 10, 100, 190]})
    ev = churn.evaluate(test, [0.9, 0.2, 0.6, 0.4], Params(churn_recency_days=180, churn_risk_min=0.5))
    assert ev.attrs["params"]["churn_risk_min"] == 0.5
    ev = ev.set_index("scorer")
    assert ev.loc["churn_model", "auc"] == 1.0
    assert ev.loc["recency_score", "auc"] == 0.75  # 200 > 190 > 100 > 10
    assert ev.loc["recency_rule", ["flagged", "flagged_precision", "flagged_recall"]].tolist() == [2, 0.5, 0.5]
    assert ev.loc["churn_model", ["flagged", "flagged_precision", "flagged_recall"]].tolist() == [2, 1.0, 1.0]
    assert ev.loc["churn_model", "brier"] == pytest.approx(np.mean([0.01, 0.04, 0.16, 0.16]), abs=1e-4)
    strict = churn.evaluate(test, [0.9, 0.2, 0.6, 0.4], Params(churn_recency_days=195, churn_risk_min=0.7))
    strict = strict.set_index("scorer")
    assert strict.loc["churn_model", "flagged"] == 1 and strict.loc["recency_rule", "flagged"] == 1


# --- small demo -----------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def demo(demo_warehouse, tmp_path_factory):
    with connect(demo_warehouse, "duckdb", {"memory_limit": "1GB",
                                            "temp_directory": str(tmp_path_factory.mktemp("d"))}) as e:
        bt = churn.backtest(e, "2025-12-31", Params(churn_window_days=180))
        scores, model = churn.score_customers(e, "2025-12-31", Params(churn_window_days=180))
        values = clv.predicted_clv(e, "2025-12-31")
        calls = churn.call_list(e, scores, values, Params(churn_risk_min=0.5, churn_value_share=0.2))
        calls_clv = churn.call_list(e, scores, values, Params(churn_value_basis="clv"))
        strict = churn.call_list(e, scores, values, Params(churn_risk_min=0.7, churn_value_share=0.1))
        again = churn.backtest(e, "2025-12-31", Params(churn_window_days=180))
    return bt, scores, model, values, calls, calls_clv, again, strict


def test_demo_model_beats_recency_on_the_held_out_cutoff(demo):
    bt = demo[0]
    assert bt.train_cutoff + dt.timedelta(days=180) == bt.test_cutoff  # training labels end where testing starts
    ev = bt.evaluation.set_index("scorer")
    assert ev.loc["churn_model", "auc"] > ev.loc["recency_score", "auc"]
    assert ev.loc["churn_model", "auc"] > ev.loc["recency_rule", "auc"]
    assert ev.loc["churn_model", "top_decile_precision"] > ev.loc["churn_model", "base_rate"]
    # calibrated: predicted and observed rates agree within 10 points in well-filled bins
    c = bt.calibration[bt.calibration["customer_count"] >= 100]
    assert (c["mean_predicted"] - c["observed_rate"]).abs().max() < 0.10


def test_demo_fit_is_deterministic(demo):
    bt, again = demo[0], demo[6]
    pd.testing.assert_frame_equal(bt.model.coefficients, again.model.coefficients)
    pd.testing.assert_frame_equal(bt.evaluation, again.evaluation)


def test_contributions_add_up_to_the_log_odds_and_reasons_push_risk_up(demo):
    _, scores, model, *_ = demo
    head = scores.head(200)
    logit = model.contributions(head).sum(axis=1) + model.intercept
    p = model.predict_proba(head)
    assert np.allclose(logit, np.log(p / (1 - p)), atol=1e-8)
    c = model.contributions(head)
    assert all(c.loc[i, r] > 0 for i, r in zip(head.index, head["reason_1"]) if isinstance(r, str))
    assert scores["churn_probability"].is_monotonic_decreasing


def test_demo_call_list_is_at_risk_and_high_value(demo):
    _, scores, _, values, calls, calls_clv, _, strict = demo
    assert 0 < len(calls) <= 50
    assert (calls["churn_probability"] >= 0.5).all()
    assert calls["risk_value"].min() >= scores["spend_12m"].quantile(0.8)
    assert calls["expected_loss"].is_monotonic_decreasing
    assert calls["reason_1"].notna().all()
    v = values.set_index("customer_id")["clv"]
    assert (calls_clv["risk_value"].to_numpy() == v.loc[calls_clv["customer_id"]].round(2).to_numpy()).all()
    assert (strict["churn_probability"] >= 0.7).all() and strict["risk_value"].min() >= scores["spend_12m"].quantile(0.9)
    assert strict.attrs["params"]["churn_risk_min"] == 0.7
    with pytest.raises(SalesLabError, match="needs the CLV table"):
        churn.call_list(None, scores, None, Params(churn_value_basis="clv"))


def test_reasons_read_in_both_languages(demo):
    from saleslab.report import i18n

    bt, scores, _, _, calls, _, _, _ = demo
    zh = churn_story.with_reason_texts(calls, scores, "zh-CN")["top_reasons"]
    en = churn_story.with_reason_texts(calls, scores, "en")["top_reasons"]
    assert zh.str.len().gt(0).all() and en.str.len().gt(0).all()
    assert not en.str.contains(CHINESE).any() and "；" in zh.iloc[0]
    assert churn_story.reason_text("recency_days", 239, 95.4, "en") == "Days since last purchase 239 (avg 95)"
    assert churn_story.reason_text("recency_days", 239, 95.4, "zh-CN") == "距上次购买天数 239（平均 95）"
    assert churn_story.reason_text("main_channel", "direct", np.nan, "zh-CN").endswith(i18n.t("direct", "zh-CN"))
    for col in [*bt.evaluation.columns, *bt.calibration.columns, *bt.lift.columns, *churn.SCORERS,
                *[f"reason_{f}" for f in churn.REASON_FEATURES], "churn_probability", "risk_value", "expected_loss"]:
        assert col in i18n.LABELS, col
    figs = [churn_charts.roc_chart(bt.roc, bt.evaluation, "zh-CN"),
            churn_charts.calibration_chart(bt.calibration, "en"), churn_charts.lift_chart(bt.lift, "zh-CN")]
    assert all(len({p.get_facecolor() for ax in f.axes for p in ax.patches}) <= 5 for f in figs)
    plt.close("all")


CHINESE = re.compile(r"[\u4e00-\u9fff]")
ENGLISH_SENTENCE = re.compile(r"[A-Za-z]{2,}(?: [A-Za-z]{2,}){2,}")


def test_story_and_chart_show_the_thresholds_the_tables_were_computed_with(demo):
    bt, scores, _, _, calls, _, _, strict = demo
    zh = churn_story.churn_narrative(bt.evaluation, strict, "zh-CN")
    en = churn_story.churn_narrative(bt.evaluation, strict, "en")
    assert "不低于 0.7" in zh and "前 10%" in zh
    assert "at least 0.7" in en and "top 10%" in en and f"**{len(strict)}** customers" in en
    assert "at least 0.5" in churn_story.churn_narrative(bt.evaluation, calls, "en")
    assert not CHINESE.search(en) and not ENGLISH_SENTENCE.search(zh)
    assert "empty" in churn_story.churn_narrative(bt.evaluation, strict.iloc[:0], "en")
    assert churn.churn_totals(bt, scores)["at_risk_customers"] == int((scores["churn_probability"] >= 0.5).sum())
    fig = churn_charts.calibration_chart(bt.calibration, "en")
    assert any(list(line.get_xdata()) == [0.5, 0.5] for line in fig.axes[0].lines)
    assert "Risk threshold 0.5" in [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    strict_cal = churn.calibration_table(bt.test["churned"], bt.test["churn_probability"])
    strict_cal.attrs["params"] = Params(churn_risk_min=0.7).model_dump()
    fig = churn_charts.calibration_chart(strict_cal, "zh-CN")
    assert any(list(line.get_xdata()) == [0.7, 0.7] for line in fig.axes[0].lines)
    plt.close("all")


# --- partial data: the model says which class is missing -------------------------------------------

def test_the_model_needs_churned_and_retained_customers_at_the_cutoff(eng):
    # labels in (2024-06-30, 2024-07-30]: A buys again on 2024-08-01 only, C never: both churned
    short = Params(churn_window_days=30)
    train = churn.dataset(eng, CUT, short)
    assert train["churned"].all() and len(train) == 2
    with pytest.raises(InsufficientData, match="all 2 customers active at the cut-off 2024-06-30 churned .none "
                                               "bought again.: training the churn model needs churned and retained"):
        churn.fit_churn_model(train)
    kept = train.assign(churned=False)
    with pytest.raises(InsufficientData, match="none of the 2 customers active at the cut-off 2024-06-30 churned"):
        churn.fit_churn_model(kept)
    # a cut-off with nobody active in the month before it
    with pytest.raises(InsufficientData, match="no customer bought in the 1 months before the cut-off 2023-06-30"):
        churn.dataset(eng, "2023-06-30", Params(churn_window_days=30, churn_feature_months=1))


def test_call_list_by_clv_needs_the_clv_and_scores_without_clv_keep_the_risk(eng):
    two_months = Params(churn_window_days=60)  # A retained (2024-08-01), C churned: both classes
    scores, _ = churn.score_customers(eng, CUT, two_months)
    assert churn.customer_scores(eng, CUT, two_months)["churn_probability"].tolist() == \
        scores["churn_probability"].tolist()
    with pytest.raises(InsufficientData, match="needs the CLV table"):
        churn.call_list(eng, scores, None, Params(churn_window_days=60, churn_value_basis="clv"))
    combined = churn.combined_scores(scores, None)
    assert combined["clv"].isna().all() and combined["churn_probability"].notna().all()
    assert sorted(combined["customer_id"]) == sorted(scores["customer_id"])
    assert churn.risk_totals(scores)["scored_customers"] == len(scores)
