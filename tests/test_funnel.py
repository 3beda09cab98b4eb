"""Sales funnel (domain.md §7) on a hand-made warehouse (DuckDB and PySpark) and on the small demo.

The hand-made cohort (period 2024-01-01 .. 2024-06-30, as of 2024-06-30, repeat window 30 days):

  lead source  rep  customer  lead   needs  proposal contract repeat  lost   outcome
  L1 展会      S1   C1        01-01  01-11  01-21    02-20    03-01          repeat
  L2 展会      S1   -         01-05  01-15                            02-04  lost in needs
  L3 展会      S2   -         02-01                                   02-06  lost in lead
  L4 展会      S2   -         06-01                                          open in lead
  L5 转介绍    S2   C2        01-10  01-12  01-20    03-01                   no repeat after 30 days
  L6 转介绍    S1   C3        03-01  (skip) 03-05    06-20                   contract, still open
  L7 转介绍    S1   -         05-01  05-20  (07-15: after as_of)             open in needs
  L8 电话营销  S3   -         02-10, no history, current stage lost (close 03-01): lost, stage unknown
  L9 电话营销  S3   C4        03-01, no history, current stage contract (close 04-01): no repeat
  L10 展会     S1   -         2023-12-01 (before the period): not in the cohort
"""

import json
import re

import matplotlib
import numpy as np
import pandas as pd
import pytest

import handmade
from handmade import source_yaml
from saleslab import funnel
from saleslab.errors import InsufficientData, MissingSource, ParameterError
from saleslab.funnel import charts, story
from saleslab.params import validate_thresholds

matplotlib.use("Agg")

S, E, AS_OF = "2024-01-01", "2024-06-30", "2024-06-30"
P = funnel.Params(funnel_repeat_window_days=30, funnel_min_leads=1)
CJK = re.compile(r"[\u3400-\u9fff]")

MAPS = {
    "orders.yaml": handmade.ORDERS,
    "products.yaml": handmade.PRODUCTS,
    "returns.yaml": handmade.RETURNS,
    "costs.yaml": handmade.COSTS,
    "customers.yaml": source_yaml("customers.csv", "customers", {"customer_id": "id", "name": "name",
                                                                 "industry": "ind", "employees": "emp"}),
    "leads.yaml": source_yaml("leads.csv", "leads", {"lead_id": "id", "customer_id": "cust", "lead_source": "src",
                                                     "rep_id": "rep", "industry": "ind", "created_date": "date",
                                                     "stage": "stage", "close_date": "close"}),
    "stages.yaml": source_yaml("stages.csv", "lead_stages", {"lead_id": "lead", "stage": "stage",
                                                             "entered_date": "date"}),
}

FILES = {
    "leads.csv": "id,cust,src,rep,ind,date,stage,close\n"
                 "L1,C1,展会,S1,制造业,2024-01-01,repeat,\n"
                 "L2,,展会,S1,,2024-01-05,lost,\n"
                 "L3,,展会,S2,,2024-02-01,lost,\n"
                 "L4,,展会,S2,,2024-06-01,lead,\n"
                 "L5,C2,转介绍,S2,,2024-01-10,contract,\n"
                 "L6,C3,转介绍,S1,,2024-03-01,contract,\n"
                 "L7,,转介绍,S1,,2024-05-01,needs,\n"
                 "L8,,电话营销,S3,,2024-02-10,lost,2024-03-01\n"
                 "L9,C4,电话营销,S3,,2024-03-01,contract,2024-04-01\n"
                 "L10,,展会,S1,,2023-12-01,lost,\n",
    "stages.csv": "lead,stage,date\n"
                  "L1,lead,2024-01-01\nL1,needs,2024-01-11\nL1,proposal,2024-01-21\nL1,contract,2024-02-20\n"
                  "L1,repeat,2024-03-01\n"
                  "L2,lead,2024-01-05\nL2,needs,2024-01-15\nL2,lost,2024-02-04\n"
                  "L3,lead,2024-02-01\nL3,lost,2024-02-06\n"
                  "L4,lead,2024-06-01\n"
                  "L5,lead,2024-01-10\nL5,needs,2024-01-12\nL5,proposal,2024-01-20\nL5,contract,2024-03-01\n"
                  "L6,lead,2024-03-01\nL6,proposal,2024-03-05\nL6,contract,2024-06-20\n"
                  "L7,lead,2024-05-01\nL7,needs,2024-05-20\nL7,proposal,2024-07-15\n"
                  "L10,lead,2023-12-01\nL10,lost,2024-01-10\n",
    "customers.csv": "id,name,ind,emp\nC1,甲公司,制造业,10\nC2,乙公司,服务业,600\nC3,丙公司,,50\n",
    # C1 buys before (100, not counted) and after its contract (200, 20 refunded); C2 on its contract
    # day; C4 (no customer record) after its contract; C3 only after as_of
    "orders.csv": "order,date,cust,channel,region,sku,qty,price\n"
                  "O1,2024-02-01,C1,direct,华东,P1,1,100\n"
                  "O2,2024-03-10,C1,direct,华东,P1,2,100\n"
                  "O3,2024-03-01,C2,direct,华东,P1,1,50\n"
                  "O4,2024-05-01,C4,direct,华东,P1,1,80\n"
                  "O5,2024-07-05,C3,direct,华东,P1,1,999\n",
    "products.csv": "sku,name,cat,price,cost\nP1,A,x,100,60\n",
    "returns.csv": "id,order,sku,date,qty,amount\nR1,O2,P1,2024-04-01,1,20\n",
    # direct acquisition in the period: 100 + 200 (2023-12 is before it; operating and online are not counted)
    "costs.csv": "month,channel,type,amount\n2024-01-01,direct,acquisition,100\n2024-03-01,direct,acquisition,200\n"
                 "2023-12-01,direct,acquisition,999\n2024-02-01,direct,operating,50\n2024-01-01,online,acquisition,70\n",
}


@pytest.fixture(scope="module")
def hand_warehouse(tmp_path_factory):
    return handmade.build_warehouse(tmp_path_factory.mktemp("hand_funnel"), FILES, MAPS)


@pytest.fixture(scope="module")
def overall(eng):
    return funnel.funnel_table(eng, S, E, AS_OF, None, P)


@pytest.fixture(scope="module")
def cuts(eng):
    return funnel.funnel_cuts(eng, S, E, AS_OF, P)


def _row(df, stage):
    return df.set_index("funnel_stage").loc[f"funnel_{stage}"]


# ---- conversion, drop-off, open leads ------------------------------------------------------------
def test_stage_counts_keep_open_leads_apart_from_lost_ones(overall):
    got = overall.set_index("funnel_stage")[["leads_entered", "leads_converted", "leads_dropped", "leads_open",
                                             "lost_stage_unknown"]]
    assert got.to_dict("index") == {
        "funnel_lead": dict(leads_entered=9, leads_converted=6, leads_dropped=1, leads_open=1, lost_stage_unknown=1),
        "funnel_needs": dict(leads_entered=6, leads_converted=4, leads_dropped=1, leads_open=1, lost_stage_unknown=0),
        "funnel_proposal": dict(leads_entered=4, leads_converted=4, leads_dropped=0, leads_open=0,
                                lost_stage_unknown=0),
        # L5 and L9 passed the 30-day repeat window, L6 signed 10 days ago: open
        "funnel_contract": dict(leads_entered=4, leads_converted=1, leads_dropped=2, leads_open=1,
                                lost_stage_unknown=0),
        "funnel_repeat": dict(leads_entered=1, leads_converted=0, leads_dropped=0, leads_open=0, lost_stage_unknown=0),
    }


def test_conversion_is_converted_over_closed_and_drop_off_its_complement(overall):
    assert overall["stage_conversion"].tolist()[:4] == [round(6 / 7, 6), 0.8, 1.0, round(1 / 3, 6)]
    assert overall["drop_off"].tolist()[:4] == [round(1 / 7, 6), 0.2, 0.0, round(2 / 3, 6)]
    assert np.isnan(overall["stage_conversion"].iloc[4])  # the funnel ends at repeat
    assert overall["reach_rate"].tolist() == [1.0, round(6 / 9, 6), round(4 / 9, 6), round(4 / 9, 6), round(1 / 9, 6)]
    lo, hi = _row(overall, "needs")[["stage_conversion_lo", "stage_conversion_hi"]]
    assert lo < 0.8 < hi and (lo, hi) == pytest.approx(tuple(np.ravel(funnel.wilson([4], [5], 0.95))), abs=1e-6)


def test_wilson_interval_matches_the_formula():
    lo, hi = funnel.wilson([4, 0], [5, 0], 0.95)
    z = 1.959964
    p, n = 0.8, 5
    c = (p + z * z / (2 * n)) / (1 + z * z / n)
    h = z * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    assert (lo[0], hi[0]) == pytest.approx((c - h, c + h), abs=1e-5)
    assert np.isnan(lo[1]) and np.isnan(hi[1])


# ---- days in stage and cycle time with open leads --------------------------------------------------
def test_days_in_stage_are_kaplan_meier_quantiles_with_open_stays_censored(overall):
    # lead: ended 2, 4, 5, 10, 10, 19, 31 days; L4 open 29 days (censored); L8 unknown (no duration)
    assert _row(overall, "lead")[["stage_median_days", "stage_p90_days"]].tolist() == [10, 31]
    # needs: 0, 0, 8, 10, 20 ended, L7 open 41 days: S(20) = 1/6 never reaches 10 %
    med, p90 = _row(overall, "needs")[["stage_median_days", "stage_p90_days"]]
    assert med == 8 and np.isnan(p90)
    assert _row(overall, "proposal")[["stage_median_days", "stage_p90_days"]].tolist() == [30, 107]
    # contract: one repeat after 10 days, the rest censored: the median is not known yet
    assert np.isnan(_row(overall, "contract")["stage_median_days"])


def test_km_quantiles_by_hand_and_without_censoring():
    # ended at 2 and 4, one open at 3: S(2) = 2/3, S(4) = 0
    assert funnel.km_quantiles([2, 3, 4], [True, False, True], [1, 1, 1]) == [4, 4]
    # no censoring: the lower empirical quantile (smallest t with F(t) >= q)
    assert funnel.km_quantiles([1, 2, 3, 4], [True] * 4, [1, 1, 1, 1]) == [2, 4]
    assert all(np.isnan(funnel.km_quantiles([], [], [])))


def test_grouped_km_table_agrees_with_the_one_group_estimate():
    rng = np.random.default_rng(3)
    h = pd.DataFrame({"g": rng.integers(0, 4, 300), "days": rng.integers(0, 30, 300),
                      "event": rng.random(300) < 0.7, "n": rng.integers(1, 4, 300)})
    km = funnel.conversion.km_table(h, ["g"]).set_index("g")
    for g, part in h.groupby("g"):
        want = funnel.km_quantiles(part["days"], part["event"], part["n"])
        assert km.loc[g, ["q50", "q90"]].tolist() == pytest.approx(want, nan_ok=True)


def test_cohort_counts_win_rate_and_cycle_time_over_won_leads(eng):
    tot = funnel.cohort_table(eng, S, E, AS_OF, None, P).iloc[0]
    assert tot[["cohort_leads", "leads_won", "leads_lost", "leads_open"]].tolist() == [9, 4, 3, 2]
    assert tot["lead_win_rate"] == round(4 / 7, 6)
    # cycles of the won leads: 31, 50, 51, 111 days (open leads have no cycle yet)
    assert tot[["cycle_median_days", "cycle_p90_days"]].tolist() == [50, 111]


def test_cohort_by_month_of_entry(eng):
    m = funnel.cohort_table(eng, S, E, AS_OF, "entry_month", P).set_index("entry_month")
    assert m.index.tolist() == ["2024-01", "2024-02", "2024-03", "2024-05", "2024-06"]
    assert m[["cohort_leads", "leads_won", "leads_lost", "leads_open"]].loc["2024-01"].tolist() == [3, 2, 1, 0]
    assert m.loc["2024-02", "lead_win_rate"] == 0.0 and m.loc["2024-03", "lead_win_rate"] == 1.0
    assert m["lead_win_rate"].isna().loc[["2024-05", "2024-06"]].all()  # only open leads: no rate yet
    assert m.attrs["params"]["funnel_repeat_window_days"] == 30


# ---- cuts ------------------------------------------------------------------------------------------
def test_cuts_by_source_rep_industry_size_and_month(cuts):
    c = cuts.set_index(["funnel_cut", "funnel_cut_value", "funnel_stage"])
    assert c.loc[("lead_source", "展会", "funnel_lead"), "stage_conversion"] == round(2 / 3, 6)
    assert c.loc[("lead_source", "转介绍", "funnel_needs"), ["leads_converted", "leads_open"]].tolist() == [2, 1]
    assert c.loc[("lead_source", "电话营销", "funnel_lead"), ["leads_converted", "lost_stage_unknown"]].tolist() == [1, 1]
    assert c.loc[("rep_id", "S3", "funnel_lead"), "leads_entered"] == 2
    # industry: the lead's, else its customer's, else 其他; size: the customer's employees
    assert c.loc[("industry", "制造业", "funnel_lead"), "leads_entered"] == 1
    assert c.loc[("industry", "服务业", "funnel_lead"), "leads_entered"] == 1
    assert c.loc[("industry", "其他", "funnel_lead"), "leads_entered"] == 7
    sizes = c.xs("funnel_lead", level="funnel_stage").loc["size_band", "leads_entered"].to_dict()
    assert sizes == {"<50": 1, "50-499": 1, "≥500": 1, "unknown": 6}
    months = c.xs("funnel_lead", level="funnel_stage").loc["entry_month", "leads_entered"].to_dict()
    assert months == {"2024-01": 3, "2024-02": 2, "2024-03": 2, "2024-05": 1, "2024-06": 1}
    for cut in funnel.CUTS:  # every cut adds up to the cohort
        assert c.xs("funnel_lead", level="funnel_stage").loc[cut, "leads_entered"].sum() == 9


def test_size_bands_follow_the_parameter(eng):
    t = funnel.funnel_table(eng, S, E, AS_OF, "size_band", funnel.Params(funnel_size_bands="20"))
    lead = t[t["funnel_stage"] == "funnel_lead"].set_index("size_band")["leads_entered"].to_dict()
    assert lead == {"<20": 1, "≥20": 2, "unknown": 6}
    assert funnel.size_band_labels("50,500") == ["<50", "50-499", "≥500"]


def test_as_of_hides_what_happened_later(eng):
    # on 2024-02-10: L1, L2, L3, L5, L8 have entered; L1 and L5 wait in proposal (their contracts
    # come later), L2 waits in needs (lost on 02-04: dropped), L3 was lost on 02-06
    t = funnel.funnel_table(eng, S, "2024-02-10", "2024-02-10", None, P).set_index("funnel_stage")
    assert t.loc["funnel_lead", ["leads_entered", "leads_converted", "leads_dropped", "leads_open",
                                 "lost_stage_unknown"]].tolist() == [5, 3, 1, 0, 1]
    assert t.loc["funnel_needs", ["leads_converted", "leads_dropped"]].tolist() == [2, 1]
    assert t.loc["funnel_proposal", ["leads_converted", "leads_open"]].tolist() == [0, 2]


def test_biggest_loss_is_the_excess_over_the_overall_stage_rates(cuts):
    losses = funnel.biggest_losses(cuts, P)
    src = losses[losses["funnel_cut"] == "lead_source"].set_index("funnel_cut_value")
    # 展会: dropped 2 against 3/7 + 2/5 + 0 + 2/3 expected at the overall drop-off of each stage
    assert src.loc["展会", ["closed_outcomes", "leads_dropped"]].tolist() == [7, 2]
    assert src.loc["展会", "expected_dropped"] == round(3 / 7 + 2 / 5 + 2 / 3, 2)
    assert src.loc["展会", "excess_dropped"] == round(2 - (3 / 7 + 2 / 5 + 2 / 3), 2)
    assert src.loc["展会", "worst_stage"] == "funnel_needs"
    assert src.index.tolist() == ["展会", "电话营销", "转介绍"]
    # the default minimum leaves out groups this small
    assert funnel.biggest_losses(cuts, funnel.Params()).empty


# ---- lead-source ROI and CAC ---------------------------------------------------------------------
def test_revenue_of_won_customers_from_their_contract_on(eng):
    roi = funnel.source_roi(eng, S, E, AS_OF, P).set_index("lead_source")
    assert roi.loc["展会", ["leads_won", "new_customers", "won_revenue"]].tolist() == [1, 1, 180]  # 200 − 20 refund
    assert roi.loc["转介绍", ["leads_won", "new_customers", "won_revenue"]].tolist() == [2, 2, 50]
    assert roi.loc["电话营销", "won_revenue"] == 80
    assert roi.index.tolist()[-1] == "all"
    # no cost per source in the data: unknown, never 0
    assert roi.loc[["展会", "转介绍", "电话营销"], "cost_basis"].eq("cost_missing").all()
    assert roi.loc[["展会", "转介绍", "电话营销"], ["acquisition_cost", "cac", "roi"]].isna().all().all()
    # the lead funnel's channel: direct acquisition spend of the period
    assert roi.loc["all", ["new_customers", "won_revenue", "acquisition_cost", "cost_basis"]].tolist() == [
        4, 310, 300, "channel_costs"]
    assert roi.loc["all", "cac"] == 75 and roi.loc["all", "roi"] == round(310 / 300, 4)


def test_source_costs_given_as_a_parameter(eng):
    p = funnel.Params(funnel_repeat_window_days=30, funnel_source_costs="展会=90;转介绍=0")
    roi = funnel.source_roi(eng, S, E, AS_OF, p).set_index("lead_source")
    assert roi.loc["展会", ["acquisition_cost", "cost_basis", "cac", "roi"]].tolist() == [90, "cost_parameter", 90, 2.0]
    assert roi.loc["转介绍", "cac"] == 0 and np.isnan(roi.loc["转介绍", "roi"])  # a free source has no ROI
    assert roi.loc["电话营销", "cost_basis"] == "cost_missing"
    zh = story.roi_text(roi.reset_index(), "zh-CN")
    assert "展会 CAC 90 元、ROI 2.00" in zh and "转介绍 CAC 0 元、ROI –" in zh
    assert "funnel_source_costs" in zh  # 电话营销 still has no cost


def test_bad_parameters_are_refused():
    with pytest.raises(ParameterError, match="funnel_source_costs"):
        validate_thresholds({"funnel_source_costs": "展会:100"})
    with pytest.raises(ParameterError, match="funnel_size_bands"):
        validate_thresholds({"funnel_size_bands": "500,50"})
    with pytest.raises(ParameterError, match="funnel_cost_channel"):
        validate_thresholds({"funnel_cost_channel": "tv"})


# ---- partial warehouses ----------------------------------------------------------------------------
def test_without_stage_history_the_current_stage_is_used(tmp_path, open_engine):
    files = {"leads.csv": "id,src,date,stage,close\nA1,展会,2024-01-02,contract,2024-02-01\nA2,展会,2024-01-03,lost,\n"
                          "A3,展会,2024-02-01,needs,\n"}
    maps = {"leads.yaml": source_yaml("leads.csv", "leads", {"lead_id": "id", "lead_source": "src",
                                                             "created_date": "date", "stage": "stage",
                                                             "close_date": "close"})}
    wh = handmade.build_warehouse(tmp_path, files, maps)
    with open_engine(wh, "duckdb", tmp_path) as e:
        t = funnel.funnel_table(e, S, E, AS_OF, None, P).set_index("funnel_stage")
        assert t.loc["funnel_lead", ["leads_entered", "leads_converted", "lost_stage_unknown"]].tolist() == [3, 2, 1]
        assert t.loc["funnel_needs", ["leads_converted", "leads_open"]].tolist() == [1, 1]
        assert t.loc["funnel_contract", "leads_dropped"] == 1  # signed 2024-02-01, no repeat within 30 days
        assert t.loc["funnel_lead", "stage_median_days"] == 30  # A1: created 01-02, contract (close) 02-01
        roi = funnel.source_roi(e, S, E, AS_OF, P).set_index("lead_source")
        assert roi.loc["all", "cost_basis"] == "cost_missing" and np.isnan(roi.loc["all", "cac"])
        with pytest.raises(InsufficientData):
            funnel.funnel_table(e, "2025-01-01", "2025-06-30", "2025-06-30", None, P)


def test_without_leads_the_funnel_says_which_source_it_needs(tmp_path, open_engine):
    wh = handmade.build_warehouse(tmp_path, {"orders.csv": FILES["orders.csv"]}, {"orders.yaml": handmade.ORDERS})
    with open_engine(wh, "duckdb", tmp_path) as e:
        with pytest.raises(MissingSource) as err:
            funnel.funnel_table(e, S, E, AS_OF)
    assert err.value.tables == ("leads",)


# ---- chart and story ----------------------------------------------------------------------------------
def test_funnel_chart_draws_one_bar_per_stage_as_wide_as_its_leads(overall):
    fig = charts.funnel_chart(overall, "en")
    ax = fig.axes[0]
    widths = sorted({round(p.get_width()) for p in ax.patches if p.get_height() == pytest.approx(0.7)}, reverse=True)
    assert widths[:3] == [9, 6, 4]
    assert [t.get_text() for t in ax.get_yticklabels()] == ["Repeat purchase", "Contract", "Proposal / quote",
                                                             "Needs analysis", "Lead"]


def test_source_chart_shows_each_stage_conversion_of_each_source(cuts):
    fig = charts.source_conversion_chart(cuts, "en")
    ax = fig.axes[0]
    heights = [round(p.get_height(), 6) for p in ax.patches]
    # four stages (colours) x three sources, sources in code order: 展会, 电话营销, 转介绍
    assert len(heights) == 12
    assert heights[0:3] == [round(2 / 3, 6), 1.0, 1.0]  # lead -> needs
    assert heights[9:12] == [1.0, 0.0, 0.0]  # contract -> repeat: L1 repeated; L9, L5 did not (L6 open)
    assert [t.get_text() for t in ax.get_xticklabels()] == ["Trade show", "Cold calls", "Referral"]


def test_select_cuts_keeps_the_order_asked_and_the_parameters(cuts):
    shown = funnel.select_cuts(cuts, "size_band", "lead_source")
    assert shown["funnel_cut"].drop_duplicates().tolist() == ["size_band", "lead_source"]
    assert shown.attrs["params"]["funnel_repeat_window_days"] == 30


def test_story_names_the_biggest_loss_first_in_both_languages(eng, overall, cuts):
    losses = funnel.biggest_losses(cuts, P)
    sources = funnel.cohort_table(eng, S, E, AS_OF, "lead_source", P)
    totals = funnel.cohort_table(eng, S, E, AS_OF, None, P)
    en = story.funnel_narrative(overall, losses, sources, totals, "en")
    zh = story.funnel_narrative(overall, losses, sources, totals, "zh-CN")
    assert en.splitlines()[0].startswith("1. **The biggest loss sits with lead source Trade show**")
    assert "展会" in zh.splitlines()[0] and "多 **0.5** 条" in zh.splitlines()[0]
    # S2: L3 lost in lead, L5 not repeated: 2 dropped against 2/7 + 1/5 + 2/3 expected
    assert en.splitlines()[1] == "2. Among reps, the most excess loss is with **S2 (+0.8, Lead 50.0%)**."
    assert "**2 are still open**" in en and "**2 条仍未结**" in zh
    assert "Referral" in en.splitlines()[3]  # 转介绍 wins 2 of 2 closed leads
    assert not CJK.search(en)
    empty = story.funnel_narrative(overall, losses[losses["funnel_cut"] == "x"], sources, totals, "en")
    assert "No lead source loses more" in empty and "at least 1 closed" in empty
    assert "No rep loses more" in empty


def test_roi_story_says_the_cost_per_source_is_missing(eng):
    roi = funnel.source_roi(eng, S, E, AS_OF, P)
    en = story.roi_text(roi, "en")
    assert "not in the data" in en and "funnel_source_costs" in en and "CAC of 75 CNY" in en
    assert "获客成本 75 元" in story.roi_text(roi, "zh-CN")


# ---- the demo's planted funnel -----------------------------------------------------------------
@pytest.fixture(scope="module")
def demo_funnel(demo_warehouse, demo_dir, tmp_path_factory, open_engine):
    e = open_engine(demo_warehouse, "duckdb", tmp_path_factory.mktemp("demo_funnel"))
    p = funnel.Params(funnel_interval_level=0.99)
    cuts = funnel.funnel_cuts(e, "2023-01-01", "2025-12-31", "2025-12-31", p, cuts=("lead_source",))
    sources = funnel.cohort_table(e, "2023-01-01", "2025-12-31", "2025-12-31", "lead_source", p)
    e.close()
    planted = json.loads((demo_dir / "truth" / "planted.json").read_text(encoding="utf-8"))["lead_funnel"]
    return cuts, sources, planted["conversion"]


def test_demo_recovers_the_planted_stage_conversion_of_every_source(demo_funnel):
    cuts, _, planted = demo_funnel
    c = cuts.set_index(["funnel_cut_value", "funnel_stage"])
    stages = {"lead_to_needs": "funnel_lead", "needs_to_proposal": "funnel_needs", "proposal_to_contract": "funnel_proposal"}
    misses = []
    for source, conv in planted.items():
        for key, stage in stages.items():
            lo, hi = c.loc[(source, stage), ["stage_conversion_lo", "stage_conversion_hi"]]
            if not lo <= conv[key] <= hi:
                misses.append((source, key, conv[key], lo, hi))
    assert not misses, misses


def test_demo_recovers_lead_to_contract_and_the_ranking_of_sources(demo_funnel):
    _, sources, planted = demo_funnel
    s = sources.set_index("lead_source")
    lo, hi = funnel.wilson(s["leads_won"], s["leads_won"] + s["leads_lost"], 0.99)
    for i, source in enumerate(s.index):
        assert lo[i] <= planted[source]["lead_to_contract"] <= hi[i], source
    ranked = s["lead_win_rate"].sort_values()
    assert ranked.index[-1] == "转介绍" and ranked.index[0] == "电话营销"  # referral best, cold calls worst
