"""Campaign effects (domain.md §10, issue 15 item 2): funnel rates, attributed revenue and ROI on a
hand-made warehouse (DuckDB and PySpark), the lift estimator on hand-computed and simulated panels,
and the planted regional campaigns of the small demo.

Hand warehouse (P1 at 10 元; weeks counted from a campaign's first day; ``campaign_pre_weeks=4``):

  CA retail, region east, 2024-03-04 .. 03-10 (one post week), spend 100, visits 1000, clicks 250,
     conversions 20. Retail revenue per week (Feb 5, Feb 12, Feb 19, Feb 26 | Mar 4):
       east   0  10  10  10 | 50   (O1 30 + O2 20 carry CA; O2's refund of 10 on 03-20 is after the weeks)
       north  0  10  20  10 | 20
       south  0  10  10  20 | 20
     U1 (retail, no region, 03-05, 50) is left out of the regional comparison.
     difference series east − mean(north, south): 0, 0, −5, −5 | 30 -> β = 30 + 2.5 = 32.5 (one
     treated unit-week); residuals 2.5, 2.5, −2.5, −2.5 | 0 -> s² = 25 / 3, se = sqrt(25/3 × (1/4 + 1)),
     t(0.975, 3) = 3.182.
     attributed: O1 30 + O2 20 − 10 (refund in the period) = 40 -> ROI 0.4; O3 (CA, 04-02) is after it.
  CB online, nationwide, 2024-02-05 .. 02-11, spend 50, no visits or clicks. Online revenue per
     week (Jan 8, Jan 15, Jan 22, Jan 29 | Feb 5): 0 10 20 30 | 60 (W4 carries CB; O0 on Jan 2 is the
     first sale, the week before Jan 8) -> the pre trend gives 40:
     lift 20, a perfect fit (interval 20 .. 20); incremental ROI 0.4 < 1.2: review; attributed 60 / 50 = 1.2.
  CC retail, 2023-12 (before the period): not listed.
"""

import json

import matplotlib
import numpy as np
import pandas as pd
import pytest
from scipy import stats

import handmade
from saleslab import campaigns
from saleslab.campaigns import charts, story
from saleslab.campaigns.lift import estimate_lift, placebo_lift
from saleslab.engine import connect
from saleslab.errors import InsufficientData, InvalidArgument, MissingSource

matplotlib.use("Agg")

S, E = "2024-01-01", "2024-03-31"
P = campaigns.Params(campaign_pre_weeks=4)

ORDERS = handmade.orders_yaml(
    {"order_id": "order", "order_date": "date", "customer_id": "cust", "channel": "channel", "region": "region",
     "campaign_id": "camp"})
CAMPAIGNS = handmade.source_yaml("campaigns.csv", "campaigns", {
    "campaign_id": "id", "name": "name", "channel": "channel", "region": "region", "start_date": "start",
    "end_date": "end", "spend": "spend", "visits": "visits", "clicks": "clicks", "conversions": "conv"})
MAPS = {"orders.yaml": ORDERS, "products.yaml": handmade.PRODUCTS, "returns.yaml": handmade.RETURNS,
        "campaigns.yaml": CAMPAIGNS}


def _rows(*rows):
    return "".join(f"{o},{d},C{o},{ch},{r},{c},P1,{q},10\n" for o, d, ch, r, c, q in rows)


FILES = {
    "orders.csv": "order,date,cust,channel,region,camp,sku,qty,price\n" + _rows(
        ("O0", "2024-01-02", "online", "east", "", 1),
        ("E1", "2024-02-13", "retail", "east", "", 1), ("E2", "2024-02-20", "retail", "east", "", 1),
        ("E3", "2024-02-27", "retail", "east", "", 1), ("O1", "2024-03-05", "retail", "east", "CA", 3),
        ("O2", "2024-03-06", "retail", "east", "CA", 2), ("O3", "2024-04-02", "retail", "east", "CA", 1),
        ("N1", "2024-02-14", "retail", "north", "", 1), ("N2", "2024-02-21", "retail", "north", "", 2),
        ("N3", "2024-02-28", "retail", "north", "", 1), ("N4", "2024-03-07", "retail", "north", "", 2),
        ("S1", "2024-02-15", "retail", "south", "", 1), ("S2", "2024-02-22", "retail", "south", "", 1),
        ("S3", "2024-02-29", "retail", "south", "", 2), ("S4", "2024-03-08", "retail", "south", "", 2),
        ("U1", "2024-03-05", "retail", "", "", 5),
        ("W1", "2024-01-16", "online", "east", "", 1), ("W2", "2024-01-23", "online", "north", "", 2),
        ("W3", "2024-01-30", "online", "", "", 3), ("W4", "2024-02-06", "online", "east", "CB", 6)),
    "products.csv": "sku,name,cat,price,cost\nP1,A,x,10,6\n",
    "returns.csv": "id,order,sku,date,qty,amount\nR1,O2,P1,2024-03-20,1,10\n",
    "campaigns.csv": "id,name,channel,region,start,end,spend,visits,clicks,conv\n"
                     "CA,华东焕新,retail,华东,2024-03-04,2024-03-10,100,1000,250,20\n"
                     "CB,春季线上,online,,2024-02-05,2024-02-11,50,,,\n"
                     "CC,旧活动,retail,华南,2023-12-01,2023-12-10,999,10,1,1\n",
}


@pytest.fixture(scope="module")
def hand_warehouse(tmp_path_factory):
    return handmade.build_warehouse(tmp_path_factory.mktemp("hand_campaigns"), FILES, MAPS)


@pytest.fixture(scope="module")
def effects(eng):
    return campaigns.campaign_effects(eng, S, E, P).set_index("campaign_id")


# ---- funnel counts, attributed revenue (association) ----------------------------------------
def test_click_through_conversion_and_attributed_roi(eng):
    m = campaigns.campaign_metrics(eng, S, E, P).set_index("campaign_id")
    assert m.index.tolist() == ["CB", "CA"]  # by start date; CC starts before the period
    a = m.loc["CA"]
    assert (a["region"], a["days"], a["ctr"], a["conversion_rate"]) == ("east", 7, 0.25, 0.02)
    assert (a["attributed_orders"], a["attributed_revenue"], a["attributed_roi"]) == (2, 40.0, 0.4)
    b = m.loc["CB"]
    assert b["region"] is None or pd.isna(b["region"])
    assert pd.isna(b["ctr"]) and pd.isna(b["conversion_rate"])  # no visits: unknown, not 0
    assert (b["attributed_revenue"], b["attributed_roi"]) == (60.0, 1.2)
    by_clicks = campaigns.campaign_metrics(eng, S, E, campaigns.Params(campaign_conversion_base="clicks"))
    assert by_clicks.set_index("campaign_id").loc["CA", "conversion_rate"] == 0.08  # 20 / 250


# ---- incremental revenue (effect) -----------------------------------------------------------
def test_regional_campaign_is_the_hand_computed_difference_in_differences(effects):
    a = effects.loc["CA"]
    q, se = stats.t.ppf(0.975, 3), np.sqrt(25 / 3 * (1 / 4 + 1))
    assert a["lift_method"] == "did_few" and (a["treated_units"], a["control_units"]) == (1, 2)
    assert (a["pre_periods"], a["post_periods"]) == (4, 1)
    assert a["lift_abs"] == pytest.approx(32.5, abs=0.01)
    assert a["lift_lo"] == pytest.approx(32.5 - q * se, abs=0.01)
    assert a["lift_hi"] == pytest.approx(32.5 + q * se, abs=0.01)
    assert a["actual"] == 50 and a["counterfactual"] == pytest.approx(17.5, abs=0.01)  # U1 is left out
    assert a["lift_pct"] == pytest.approx(32.5 / 17.5, abs=1e-4)
    assert a["incremental_roi"] == pytest.approx(0.325, abs=1e-4) and a["review"] == True  # noqa: E712
    assert a["effect"] == "effect_up"


def test_nationwide_campaign_is_its_pre_trend_carried_on(effects):
    b = effects.loc["CB"]
    assert b["lift_method"] == "its" and b["control_units"] == 0
    assert (b["lift_abs"], b["lift_lo"], b["lift_hi"], b["actual"]) == pytest.approx((20, 20, 20, 60), abs=0.01)
    assert b["incremental_roi"] == pytest.approx(0.4) and b["review"] == True  # noqa: E712
    assert campaigns.campaign_totals(effects.reset_index()) == {
        "campaigns": 2, "spend": 150.0, "attributed_revenue": 100.0, "incremental_revenue": pytest.approx(52.5, abs=0.01),
        "with_effect": 2, "review": 2}


def test_weekly_counterfactual_is_the_control_mean_plus_the_pre_gap(eng):
    w = campaigns.campaign_weekly(eng, S, E, "CA", P)
    assert w["actual"].tolist() == [0, 10, 10, 10, 50]
    # control means 0, 10, 15, 15 | 20; pre gap east − control = −2.5
    assert w["counterfactual"].tolist() == pytest.approx([-2.5, 7.5, 12.5, 12.5, 17.5], abs=0.01)
    assert w["post"].tolist() == [False, False, False, False, True]


def test_a_campaign_without_enough_weeks_gets_a_note_not_an_error(eng):
    e = campaigns.campaign_effects(eng, S, E, campaigns.Params(campaign_pre_weeks=3)).set_index("campaign_id")
    # a trend and a level need 4 pre weeks: CB has 3
    assert pd.isna(e.loc["CB", "lift_abs"]) and "pre periods" in e.loc["CB", "note"]
    assert e.loc["CB", "effect"] is None and e.loc["CA", "pre_periods"] == 3
    e = campaigns.campaign_effects(eng, S, E, campaigns.Params(campaign_pre_weeks=8)).set_index("campaign_id")
    # CB's 8 pre weeks would start 2023-12-11: the weeks before the first sale (2024-01-02) are left out
    assert e.loc["CB", "pre_periods"] == 4 and e.loc["CB", "lift_abs"] == pytest.approx(20, abs=0.01)


def test_missing_campaigns_and_empty_periods_say_so(eng, tmp_path):
    with pytest.raises(InsufficientData):
        campaigns.campaign_metrics(eng, "2022-01-01", "2022-12-31")
    wh = handmade.build_warehouse(tmp_path, {k: FILES[k] for k in ("orders.csv", "products.csv")},
                                  {k: MAPS[k] for k in ("orders.yaml", "products.yaml")})
    with connect(wh, "duckdb", {"memory_limit": "1GB", "temp_directory": str(tmp_path / "duck")}) as e2:
        with pytest.raises(MissingSource):
            campaigns.campaign_effects(e2, S, E)


# ---- the estimator on hand panels -------------------------------------------------------------
def _panel(y_treated, y_control, n_pre):
    rows = []
    for u, ys, tr in (("T", y_treated, True), ("C", y_control, False)):
        rows += [{"unit": u, "ds": k, "y": v, "treated": tr, "post": k >= n_pre} for k, v in enumerate(ys)]
    return pd.DataFrame(rows)


def test_did_of_two_units_is_the_change_minus_the_control_change():
    r = estimate_lift(_panel([10, 12, 20, 22], [5, 7, 9, 11], 2), "unit", "ds", "y", "treated", "post").iloc[0]
    # pre gap 5, 5; post gap 11, 11 -> 6 per period, 2 periods
    assert (r["lift_abs"], r["lift_lo"], r["lift_hi"]) == pytest.approx((12, 12, 12))
    assert r["lift_pct"] == pytest.approx(12 / 30) and r["method"] == "did_few"


def test_its_needs_enough_pre_periods_and_a_malformed_panel_is_refused():
    p = _panel([10, 12, 20], [5, 7, 9], 2)
    with pytest.raises(InsufficientData):
        estimate_lift(p, "unit", "ds", "y", "treated", "post", method="its")  # 2 pre periods < 4
    with pytest.raises(InsufficientData):
        estimate_lift(p.assign(treated=False), "unit", "ds", "y", "treated", "post")
    with pytest.raises(InvalidArgument):
        estimate_lift(pd.concat([p, p]), "unit", "ds", "y", "treated", "post")
    with pytest.raises(InvalidArgument):
        estimate_lift(p.assign(post=[True, False, True, False, True, False]), "unit", "ds", "y", "treated", "post")


def test_placebo_moves_the_campaign_to_the_last_pre_periods():
    p = _panel([10, 11, 13, 12, 30], [5, 6, 7, 6, 7], 4)
    r = placebo_lift(p, "unit", "ds", "y", "treated", "post").iloc[0]
    manual = p[p["ds"] < 4].assign(post=lambda d: d["ds"] == 3)
    m = estimate_lift(manual, "unit", "ds", "y", "treated", "post").iloc[0]
    assert (r["fake_start"], r["fake_end"]) == (3, 3)
    assert r["lift_abs"] == pytest.approx(m["lift_abs"]) and r["holds_zero"] == (m["lift_lo"] <= 0 <= m["lift_hi"])


# ---- simulation: the interval holds the truth in most seeds ----------------------------------
def simulate(seed, n_units, n_treated, effect, n_pre=12, n_post=4, sd=20.0, rho=0.0, common=True):
    """A panel with unit levels, common period shocks (or, with one unit, a trend), AR(1) noise and
    ``effect`` per treated unit and post period; returns the panel and the true total lift."""
    rng = np.random.default_rng(seed)
    T = n_pre + n_post
    level = rng.normal(200, 50, n_units)
    shock = np.cumsum(rng.normal(0, 5, T)) if common else 3.0 * np.arange(T)
    e = np.zeros((n_units, T))
    e[:, 0] = rng.normal(0, sd, n_units)
    for t in range(1, T):
        e[:, t] = rho * e[:, t - 1] + rng.normal(0, sd * np.sqrt(1 - rho ** 2), n_units)
    tr, post = np.arange(n_units) < n_treated, np.arange(T) >= n_pre
    y = level[:, None] + shock[None, :] + e + effect * (tr[:, None] & post[None, :])
    u, t = np.meshgrid(np.arange(n_units), np.arange(T), indexing="ij")
    df = pd.DataFrame({"unit": u.ravel(), "ds": t.ravel(), "y": y.ravel(), "treated": tr[u.ravel()],
                       "post": post[t.ravel()]})
    return df, effect * n_treated * n_post


DESIGNS = {  # name: (units, treated, common shocks, method expected, most seeds allowed to miss an effect of 50)
    "many_regions": (20, 10, True, "did_cluster", 5),
    "one_treated_region": (7, 1, True, "did_few", 25),
    "nationwide": (1, 1, False, "its", 45),  # one series, no control: the weakest evidence
}
SEEDS = 100


@pytest.mark.parametrize("design", DESIGNS)
@pytest.mark.parametrize("effect", [50.0, 0.0])
def test_interval_holds_the_truth_in_most_seeds(design, effect):
    n_units, n_treated, common, expected, max_missed = DESIGNS[design]
    hits, zero, methods = 0, 0, set()
    for seed in range(SEEDS):
        df, truth = simulate(seed, n_units, n_treated, effect, common=common)
        r = estimate_lift(df, "unit", "ds", "y", "treated", "post").iloc[0]
        methods.add(r["method"])
        hits += r["lift_lo"] <= truth <= r["lift_hi"]
        zero += r["lift_lo"] <= 0 <= r["lift_hi"]
    assert methods == {expected}
    # 95 % intervals: with 100 seeds fewer than 88 hits has probability < 0.3 %
    assert hits >= 88, f"{design}: coverage {hits}/{SEEDS}"
    if effect == 0:
        assert zero == hits  # the truth is 0: holding it is holding 0
    else:
        assert zero <= max_missed, f"{design}: a planted effect of {effect} is missed in {zero}/{SEEDS} seeds"


def test_few_treated_regions_with_clustered_errors_would_be_too_narrow():
    """Why ``did_few`` exists: one treated region and cluster-robust errors cover far below 95 %."""
    hits = 0
    for seed in range(60):
        df, truth = simulate(seed, 7, 1, 50.0)
        r = estimate_lift(df, "unit", "ds", "y", "treated", "post", min_clusters=1).iloc[0]
        hits += r["lift_lo"] <= truth <= r["lift_hi"]
    assert hits <= 50  # 95 % would be 57


# ---- the small demo: the planted regional campaigns ---------------------------------------------
@pytest.fixture(scope="module")
def demo_effects(demo_warehouse, tmp_path_factory):
    with connect(demo_warehouse, "duckdb", {"memory_limit": "1GB",
                                            "temp_directory": str(tmp_path_factory.mktemp("duck"))}) as e:
        yield campaigns.campaign_effects(e, "2023-01-01", "2025-12-31"), campaigns.placebo_checks(
            e, "2023-01-01", "2025-12-31")


def test_demo_finds_the_planted_regional_effect_inside_its_interval(demo_effects, demo_dir):
    planted = json.loads((demo_dir / "truth" / "planted.json").read_text(encoding="utf-8"))["campaigns"]["regional"]
    eff = demo_effects[0].set_index("campaign_id")
    truth = {p["campaign_id"]: p for p in planted}
    up = truth["CPR2501"]
    assert up["incremental_sales"] > 0 and up["region"] == "east"
    r = eff.loc["CPR2501"]
    assert r["lift_method"] == "did_few" and r["control_units"] >= 4
    assert r["lift_lo"] <= up["incremental_sales"] <= r["lift_hi"]
    assert r["effect"] == "effect_up"
    none = eff.loc["CPR2401"]
    assert truth["CPR2401"]["incremental_sales"] == 0
    assert none["lift_lo"] <= 0 <= none["lift_hi"] and none["effect"] == "effect_none"
    assert none["attributed_revenue"] > 0  # orders carry its id: association without effect
    assert eff.loc[eff["region"].isna(), "lift_method"].eq("its").all()


def test_demo_placebo_of_the_campaign_without_effect_holds_zero(demo_effects):
    p = demo_effects[1].set_index("campaign_id")
    assert p.loc["CPR2401", "holds_zero"] == True  # noqa: E712
    assert p["holds_zero"].mean() >= 0.8


# ---- charts and story ---------------------------------------------------------------------------
def test_lift_chart_draws_one_interval_per_estimated_campaign(effects):
    e = effects.reset_index()
    fig = charts.lift_chart(e, "en")
    ax = fig.axes[0]
    assert [t.get_text() for t in ax.get_yticklabels()] == ["CB 春季线上", "CA 华东焕新"]
    assert "95%" in ax.get_title()


def test_story_says_association_vs_effect_in_both_languages(effects):
    e = effects.reset_index()
    en, zh = story.narrative(e, "en"), story.narrative(e, "zh-CN")
    assert "华东焕新" in en and "East China" in en and "below 1.2, to review: CB, CA" in en
    assert "华东" in zh and "需复盘" in zh
    assert "association" in story.words(e, "en").lower() and "关联" in story.words(e, "zh-CN")
