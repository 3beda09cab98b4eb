"""Analysis kinds (comparison, structure, anomaly, correlation) on hand-made tables with
hand-computed answers; spend vs revenue also on a tiny warehouse through both engines."""

import datetime as dt
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import handmade
from saleslab.errors import SalesLabError
from saleslab.facts import Params as FactsParams
from saleslab.performance import analysis
from saleslab.performance.params import Params
from saleslab.team.params import Params as TeamParams

D = dt.date
JAN, FEB, MAR = D(2024, 1, 1), D(2024, 2, 1), D(2024, 3, 1)


def frame(rows, cols):
    return pd.DataFrame(rows, columns=cols)


# ---- comparison -------------------------------------------------------------------------------

def test_comparison_against_last_year_and_target_at_the_target_level():
    cube = frame([
        (JAN, "direct", "east", 1700.0, 200.0, 2000.0, "region"),
        (JAN, "online", "east", 600.0, np.nan, 2000.0, "region"),
        (JAN, "retail", "south", 100.0, np.nan, 500.0, "region"),
    ], ["period", "channel", "region", "revenue", "revenue_last_year", "target", "target_level"])
    c = analysis.comparison(cube, by="region").set_index("region")
    e = c.loc["east"]
    assert (e.revenue, e.revenue_last_year, e.change_vs_last_year) == (2300.0, 200.0, 2100.0)
    assert e.yoy_growth == pytest.approx(10.5)
    assert (e.target, e.gap_to_target, e.achievement_rate) == (2000.0, 300.0, pytest.approx(1.15))
    assert e.achievement_band == "on_track"
    s = c.loc["south"]
    assert math.isnan(s.revenue_last_year) and s.achievement_band == "below"  # 100 / 500 = 0.2 ≤ 0.6
    assert "target" not in analysis.comparison(cube, by="channel").columns
    assert analysis.overall_achievement(c.reset_index()) == pytest.approx(2400 / 2500)


def test_achievement_bands_use_the_team_reward_and_coaching_thresholds():
    cube = frame([(JAN, "east", 2400.0, 2000.0, "region"), (JAN, "south", 100.0, 500.0, "region"),
                  (JAN, "west", 300.0, 500.0, "region")],
                 ["period", "region", "revenue", "target", "target_level"]).assign(revenue_last_year=np.nan)
    c = analysis.comparison(cube, "region", TeamParams(reward_min=1.3, coaching_max=0.2)).set_index("region")
    # east 1.2 < 1.3: on track; south 0.2 is at the coaching threshold: below; west 0.6: on track
    assert c["achievement_band"].tolist() == ["on_track", "below", "on_track"]
    assert (c.attrs["params"]["reward_min"], c.attrs["params"]["coaching_max"]) == (1.3, 0.2)
    default = analysis.comparison(cube, "region").set_index("region")
    assert default["achievement_band"].tolist() == ["above", "below", "below"]  # ≥ 1.2, ≤ 0.6


def test_comparison_measures_achievement_on_the_cubes_achievement_basis():
    cube = frame([(JAN, "direct", "east", 1700.0, 1800.0, 2000.0, "region"),
                  (JAN, "online", "east", 600.0, 600.0, 2000.0, "region")],
                 ["period", "channel", "region", "revenue", "gross_sales", "target", "target_level"])
    cube = cube.assign(revenue_last_year=np.nan)
    cube.attrs["params"] = FactsParams(achievement_basis="gross").model_dump(mode="json")
    c = analysis.comparison(cube, "region").iloc[0]
    assert (c.revenue, c.gap_to_target, c.achievement_rate) == (2300.0, 400.0, pytest.approx(1.2))
    assert analysis.overall_achievement(analysis.comparison(cube, "region")) == pytest.approx(1.2)


# ---- structure --------------------------------------------------------------------------------

def test_shares_and_their_change_vs_previous_period():
    df = frame([(JAN, "east", 60.0), (JAN, "south", 40.0),
                (FEB, "east", 30.0), (FEB, "south", 50.0), (FEB, "north", 20.0)], ["period", "region", "revenue"])
    s = analysis.shares(df, "revenue", "region").set_index(["period", "region"])
    assert s.loc[(JAN, "east"), "share"] == pytest.approx(0.6) and math.isnan(s.loc[(JAN, "east"), "share_prev"])
    assert s.loc[(FEB, "east"), "share"] == pytest.approx(0.3)
    assert s.loc[(FEB, "east"), "share_change"] == pytest.approx(-0.3)
    assert s.loc[(FEB, "south"), "share_change"] == pytest.approx(0.1)
    assert s.loc[(FEB, "north"), "share_prev"] == 0.0 and s.loc[(FEB, "north"), "share_change"] == pytest.approx(0.2)


def test_shares_within_a_parent_dimension():
    df = frame([(JAN, "east", "online", 30.0), (JAN, "east", "retail", 90.0), (JAN, "south", "online", 10.0)],
               ["period", "region", "channel", "revenue"])
    s = analysis.shares(df, "revenue", ("region", "channel"), within="region").set_index(["region", "channel"])
    assert s.loc[("east", "online"), "share"] == pytest.approx(0.25)
    assert s.loc[("south", "online"), "share"] == 1.0
    with pytest.raises(SalesLabError, match="must be part of"):
        analysis.shares(df, "revenue", "channel", within="region")


# ---- anomaly ----------------------------------------------------------------------------------

def months(n, first=JAN):
    return [(pd.Timestamp(first) + pd.DateOffset(months=i)).date() for i in range(n)]


def test_anomalies_against_the_rolling_median():
    df = frame(list(zip(months(8), [100, 100, 100, 100, 100, 100, 150, 90.0])), ["period", "revenue"])
    a = analysis.anomalies(df, Params(anomaly_threshold=0.2), method="median", window=6, min_periods=3)
    assert a["period"].tolist() == months(8)[3:]  # three earlier periods needed
    assert a["expected"].tolist() == [100.0] * 5
    assert a["is_anomaly"].tolist() == [False, False, False, True, False]  # +50 % in month 7; -10 % is normal
    assert a.loc[3, "direction"] == "up" and a.loc[3, "deviation"] == pytest.approx(0.5)
    assert a.attrs["params"]["anomaly_threshold"] == 0.2 and a.attrs["params"]["anomaly_method"] == "median"
    loose = analysis.anomalies(df, Params(anomaly_threshold=0.6), method="median")
    assert not loose["is_anomaly"].any()  # +50 % is within ±60 %


def test_anomalies_against_last_season_scaled_by_trend():
    values = [10, 20, 30, 40, 11, 22, 33, 44, 12, 30.0]
    df = frame(list(zip(months(10), values)), ["period", "revenue"])
    a = analysis.anomalies(df, season=4, trend_window=2, window=6, min_periods=3).set_index("period")  # ±20 %
    p = months(10)
    # t=6: 30 x (11+22)/(10+20) = 33; t=7: 40 x (22+33)/(20+30) = 44; t=9: 22 x (44+12)/(40+11) = 24.16
    assert a.loc[p[6], "expected"] == 33.0 and a.loc[p[6], "method"] == "seasonal"
    assert a.loc[p[7], "expected"] == 44.0
    assert a.loc[p[9], "expected"] == round(22 * 56 / 51, 2)
    assert a.loc[p[9], "is_anomaly"] and a.loc[p[9], "deviation"] == pytest.approx(30 / (22 * 56 / 51) - 1)
    assert not a.loc[p[8], "is_anomaly"]
    # before a season of history: the median rule, t=3: median(10, 20, 30) = 20 -> 40 is +100 %
    assert a.loc[p[3], "method"] == "median" and a.loc[p[3], "is_anomaly"]


def test_anomalies_per_segment_fill_missing_periods_with_zero():
    df = frame([(p, "east", 100.0) for p in months(4)] + [(p, "south", 50.0) for p in months(3)],
               ["period", "region", "revenue"])
    a = analysis.anomalies(df, by="region", method="median", min_periods=3).set_index(["period", "region"])
    p3 = months(4)[3]
    assert not a.loc[(p3, "east"), "is_anomaly"]
    assert a.loc[(p3, "south"), "value"] == 0.0 and a.loc[(p3, "south"), "deviation"] == -1.0
    assert a.loc[(p3, "south"), "is_anomaly"] and a.loc[(p3, "south"), "direction"] == "down"
    assert a.loc[(p3, "south"), "gap"] == -50.0
    flagged = analysis.flagged(a.reset_index())
    assert flagged["region"].tolist() == ["south"]
    assert flagged.attrs["params"]["anomaly_threshold"] == 0.2  # the default, carried to the flagged rows


# ---- explain a change -------------------------------------------------------------------------

CUBE = frame([
    (D(2023, 2, 1), "east", "online", 50.0), (D(2023, 2, 1), "east", "retail", 60.0),
    (D(2023, 2, 1), "south", "online", 140.0),
    (JAN, "east", "online", 100.0), (JAN, "east", "retail", 200.0), (JAN, "south", "online", 100.0),
    (FEB, "east", "online", 100.0), (FEB, "east", "retail", 60.0), (FEB, "south", "online", 140.0),
], ["period", "region", "channel", "revenue"])


def test_explain_change_splits_the_drop_into_segments():
    ex = analysis.explain_change(CUBE, JAN, FEB, ("region", "channel"), top=2)
    assert (ex.total_a, ex.total_b, ex.change) == (400.0, 300.0, -100.0)
    assert ex.pct_change == pytest.approx(-0.25)
    seg = ex.segments
    # east/retail -140 is 140 % of the -100 drop; south/online +40 moved against it (-40 %)
    assert seg[["region", "channel"]].values.tolist() == [["east", "retail"], ["east", "online"]]
    assert seg.loc[0, "change"] == -140.0 and seg.loc[0, "share_of_change"] == pytest.approx(1.4)
    full = analysis.explain_change(CUBE, JAN, FEB, "region", top=10).segments.set_index("region")
    assert full["share_of_change"].sum() == pytest.approx(1.0)
    assert full.loc["south", "share_of_change"] == pytest.approx(-0.4)
    with pytest.raises(SalesLabError, match="cannot be summed"):
        analysis.explain_change(CUBE.assign(active_customers=1), JAN, FEB, "region", value="active_customers")


def test_biggest_movements_with_their_drivers():
    m = analysis.biggest_movements(CUBE, FEB, ("region", "channel"), Params(top_movements=3))
    assert m[["comparison", "dimension", "segment", "change"]].values.tolist() == [
        ["pop", "region", "east", -140.0], ["pop", "channel", "retail", -140.0], ["yoy", "channel", "online", 50.0]]
    assert m.loc[0, "pct_change"] == pytest.approx(-140 / 300)
    assert (m.loc[0, "driver_dimension"], m.loc[0, "driver_segment"], m.loc[0, "driver_share"]) == ("channel", "retail", 1.0)
    assert m.loc[2, "base_period"] == D(2023, 2, 1) and m.loc[2, "pct_change"] == pytest.approx(50 / 190)
    assert (m.loc[2, "driver_segment"], m.loc[2, "driver_change"]) == ("east", 50.0)
    assert m.attrs["params"]["top_movements"] == 3
    assert len(analysis.biggest_movements(CUBE, FEB, ("region", "channel"), Params(top_movements=1))) == 1


# ---- correlation ------------------------------------------------------------------------------

def test_correlate_pearson_and_spearman_per_group():
    df = frame([("a", 1, 2), ("a", 2, 4), ("a", 3, 6), ("a", 4, 9), ("b", 1, 1), ("b", 2, 5)], ["g", "x", "y"])
    c = analysis.correlate(df, "x", "y", "g").set_index("g")
    assert c.loc["a", "pearson"] == pytest.approx(11.5 / math.sqrt(5 * 26.75))
    assert c.loc["a", "spearman"] == pytest.approx(1.0)
    assert c.loc["b", "n"] == 2 and math.isnan(c.loc["b", "pearson"])  # too few months


MAPS = {"orders.yaml": handmade.ORDERS, "products.yaml": handmade.PRODUCTS, "returns.yaml": handmade.RETURNS,
        "costs.yaml": handmade.COSTS, "campaigns.yaml": handmade.CAMPAIGNS}
FILES = {
    # online revenue Jan 1000, Feb 2500, Mar 2800; retail has revenue but no spend
    "orders.csv": "order,date,cust,channel,region,sku,qty,price\n"
                  "O1,2024-01-10,C1,online,华东,P1,10,100\nO2,2024-02-10,C1,online,华东,P1,25,100\n"
                  "O3,2024-03-10,C2,online,华东,P1,28,100\nO4,2024-01-11,C3,retail,华东,P1,5,100\n",
    "products.csv": "sku,name,cat,price,cost\nP1,甲,A,100,50\n",
    "returns.csv": "id,order,sku,date,qty,amount\nR1,O1,P1,2023-06-01,1,100\n",  # outside the period
    # online costs: Jan 100 acquisition + 50 operating, Feb 200, Mar 300
    "costs.csv": "month,channel,type,amount\n2024-01-01,online,acquisition,100\n2024-01-01,online,operating,50\n"
                 "2024-02-01,online,acquisition,200\n2024-03-01,online,acquisition,300\n",
    # 1000 over 10 days, Jan 25 - Feb 3: 700 in January, 300 in February
    "campaigns.csv": "id,name,channel,start,end,spend\nCP1,年货节,online,2024-01-25,2024-02-03,1000\n",
}


@pytest.fixture(scope="module")
def mkt_warehouse(tmp_path_factory) -> Path:
    return handmade.build_warehouse(tmp_path_factory.mktemp("mkt"), FILES, MAPS)


def test_spend_vs_revenue_by_channel_and_month(mkt_warehouse, backend, tmp_path, open_engine):
    with open_engine(mkt_warehouse, backend, tmp_path) as eng:
        sr = analysis.spend_vs_revenue(eng, "2024-01-01", "2024-03-31")
        acq = analysis.marketing_spend(eng, "2024-01-01", "2024-03-31", cost_types="acquisition")
    online = sr.monthly[sr.monthly["channel"] == "online"]
    assert online["campaign_spend"].tolist() == [700.0, 300.0, 0.0]
    assert online["spend"].tolist() == [850.0, 500.0, 300.0]
    assert online["revenue"].tolist() == [1000.0, 2500.0, 2800.0]
    c = sr.correlation.set_index("channel")
    assert list(c.index) == ["online"]  # retail has no spend: nothing to correlate
    # spend deviations 300, -50, -250; revenue -1100, 400, 700
    assert c.loc["online", "pearson"] == pytest.approx(-525000 / math.sqrt(155000 * 1860000))
    assert c.loc["online", "spearman"] == pytest.approx(-1.0)
    assert (c.loc["online", "n"], c.loc["online", "spend"], c.loc["online", "revenue"]) == (3, 1650.0, 6300.0)
    assert acq.loc[acq["month"] == JAN, "channel_costs"].tolist() == [100.0]
    assert sr.correlation.attrs["params"]["returns_basis"] == "return_date"


# ---- partial data: what a section needs --------------------------------------------------------

def test_anomalies_need_enough_history():
    from saleslab.errors import InsufficientData

    df = frame(list(zip(months(3), [100.0, 110.0, 90.0])), ["period", "revenue"])
    with pytest.raises(InsufficientData, match="3 periods of history; an expected level needs at least 3 earlier "
                                               "periods, so at least 4 periods are needed"):
        analysis.anomalies(df, method="median", min_periods=3)


def test_a_dimension_the_warehouse_does_not_know_is_neither_movement_nor_driver():
    cube = CUBE.assign(category="unknown")
    m = analysis.biggest_movements(cube, FEB, ("region", "channel", "category"), Params(top_movements=3))
    assert "category" not in set(m["dimension"]) and "category" not in set(m["driver_dimension"].dropna())
    assert m[["dimension", "segment"]].values.tolist() == \
        analysis.biggest_movements(CUBE, FEB, ("region", "channel"), Params(top_movements=3))[
            ["dimension", "segment"]].values.tolist()


@pytest.fixture(scope="module")
def lines_only(tmp_path_factory, open_engine):
    tmp = tmp_path_factory.mktemp("analysis_lines_only")
    files = {"orders.csv": FILES["orders.csv"], "targets.csv": "month,level,id,amount\n2024-01-01,rep,R1,100\n"}
    maps = {"orders.yaml": MAPS["orders.yaml"], "targets.yaml": handmade.TARGETS}
    e = open_engine(handmade.build_warehouse(tmp, files, maps), "duckdb", tmp)
    yield e
    e.close()


def test_spend_and_achievement_say_which_data_they_need(lines_only, tmp_path, open_engine):
    from saleslab.errors import InsufficientData, MissingSource

    with pytest.raises(MissingSource) as e:
        analysis.spend_vs_revenue(lines_only, "2024-01-01", "2024-03-31")
    assert e.value.tables == ("channel_costs", "campaigns")
    # targets of reps only: no region target to compare with
    with pytest.raises(InsufficientData, match="no region target of the sales falls between 2024-01-01 and 2024-03-31"):
        analysis.target_comparison(lines_only, "2024-01-01", "2024-03-31", "region")
    with pytest.raises(SalesLabError, match="targets are set per"):
        analysis.target_comparison(lines_only, "2024-01-01", "2024-03-31", "channel")
    wh = handmade.build_warehouse(tmp_path, {"orders.csv": FILES["orders.csv"]}, {"orders.yaml": MAPS["orders.yaml"]})
    with open_engine(wh, "duckdb", tmp_path) as e2:
        with pytest.raises(MissingSource) as e:
            analysis.target_comparison(e2, "2024-01-01", "2024-03-31", "region")
    assert e.value.tables == ("targets",)


def test_target_comparison_is_the_comparison_of_the_cube(tmp_path, open_engine):
    files = {**FILES, "targets.csv": "month,level,id,amount\n2024-01-01,region,east,2000\n"}
    maps = {**MAPS, "targets.yaml": handmade.TARGETS}
    from saleslab.performance import kpis

    with open_engine(handmade.build_warehouse(tmp_path, files, maps), "duckdb", tmp_path) as e:
        got = analysis.target_comparison(e, "2024-01-01", "2024-03-31", "region", grain="quarter")
        want = analysis.comparison(kpis.kpi_cube(e, "2024-01-01", "2024-03-31", "quarter", "region"), "region")
    pd.testing.assert_frame_equal(got, want)
    # east, Q1 2024: online 1000 + 2500 + 2800 and retail 500 against January's 2000
    assert got[["region", "revenue", "target"]].values.tolist() == [["east", 6800.0, 2000.0]]
    assert got["achievement_rate"].tolist() == [pytest.approx(3.4)]
