"""CLV (domain.md §6): the RFM summary on a hand-made warehouse (DuckDB and PySpark), BG/NBD and
Gamma-Gamma recovering simulated parameters, hand-checked formulas, the hold-out check and LTV/CAC,
the parameters each result records, and the story and charts built from them."""

import re
import time

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
from pydantic import ValidationError
from scipy import optimize

import handmade
from handmade import source_yaml
from saleslab import clv, facts
from saleslab.clv import charts as clv_charts, story as clv_story
from saleslab.clv.params import Params
from saleslab.engine import connect
from saleslab.errors import InsufficientData, SalesLabError

CAL_END, HOLD_END = "2024-03-31", "2024-06-30"

# Purchases (net = qty x price; P1 10 cost 6, P2 30 cost 12):
#   C1 2024-01-01 O1 2x P1 + O2 1x P2 (one purchase day: 50) | 01-15 O3 1x P1 (10)
#      | 02-05 O4 2x P2 (60), one P2 returned 02-10 (-30) -> 30 | hold-out: 05-01 O11, 05-02 O12
#   C2 2024-03-01 O5 3x P1 (30)
#   C3 2024-02-01 O6 1x P1 (10) | hold-out: 04-10 O7
#   C4 2023-12-01 O8 1x P2 (30) | 2024-03-31 O9 1x P1 (10), returned 04-05 (after the calibration end)
#   anonymous O10 2024-01-10
FILES = {
    "orders.csv": "order,date,cust,channel,region,sku,qty,price\n"
                  "O1,2024-01-01,C1,direct,east,P1,2,10\n"
                  "O2,2024-01-01,C1,direct,east,P2,1,30\n"
                  "O3,2024-01-15,C1,direct,east,P1,1,10\n"
                  "O4,2024-02-05,C1,direct,east,P2,2,30\n"
                  "O11,2024-05-01,C1,direct,east,P1,1,10\n"
                  "O12,2024-05-02,C1,direct,east,P1,1,10\n"
                  "O5,2024-03-01,C2,online,east,P1,3,10\n"
                  "O6,2024-02-01,C3,online,east,P1,1,10\n"
                  "O7,2024-04-10,C3,online,east,P1,5,10\n"
                  "O8,2023-12-01,C4,direct,east,P2,1,30\n"
                  "O9,2024-03-31,C4,direct,east,P1,1,10\n"
                  "O10,2024-01-10,,online,east,P1,1,10\n",
    "products.csv": "sku,name,cat,price,cost\nP1,A,x,10,6\nP2,B,x,30,12\n",
    "returns.csv": "id,order,sku,date,qty,amount\nR1,O4,P2,2024-02-10,1,30\nR2,O9,P1,2024-04-05,1,10\n",
    "customers.csv": "id,name,acq\nC1,甲,direct\nC2,乙,online\nC3,丙,online\nC4,丁,direct\n",
    # CAC (channels.channel_performance) over 2024-01..03: direct 100 / 1 new (C1; C4 first bought
    # in 2023), online 50 / 2 new (C2, C3)
    "costs.csv": "month,channel,type,amount\n2024-01-01,direct,acquisition,100\n2024-01-01,online,acquisition,50\n",
    "traffic.csv": "date,src,visits,clicks\n2024-01-01,search,100,30\n",
    "leads.csv": "id,date,stage\nL1,2024-01-02,contract\n",
    "campaigns.csv": "id,name,channel,start,end,spend\nCP1,春季,online,2024-02-01,2024-02-10,10\n",
}
MAPS = {
    "orders.yaml": handmade.ORDERS,
    "products.yaml": handmade.PRODUCTS,
    "returns.yaml": handmade.RETURNS,
    "customers.yaml": source_yaml("customers.csv", "customers", {"customer_id": "id", "name": "name",
                                                                 "acquisition_channel": "acq"}),
    "costs.yaml": handmade.COSTS,
    "campaigns.yaml": handmade.CAMPAIGNS,
    "traffic.yaml": source_yaml("traffic.csv", "web_traffic", {"date": "date", "traffic_source": "src",
                                                               "visits": "visits", "clicks": "clicks"}),
    "leads.yaml": source_yaml("leads.csv", "leads", {"lead_id": "id", "created_date": "date", "stage": "stage"}),
}


@pytest.fixture(scope="module")
def hand_warehouse(tmp_path_factory):
    return handmade.build_warehouse(tmp_path_factory.mktemp("hand_clv"), FILES, MAPS)


@pytest.fixture(scope="module")
def rfm_days(eng):
    return clv.summary(eng, CAL_END, time_unit="D").set_index("customer_id")


def test_summary_counts_purchase_days_nets_returns_and_ignores_later_data(rfm_days):
    s = rfm_days
    assert sorted(s.index) == ["C1", "C2", "C3", "C4"]  # the anonymous order is not a customer
    # C1: 3 purchase days (two orders on 01-01 are one purchase); repeat values 10 and 60 - 30 returned
    assert s.loc["C1", ["frequency", "recency", "T", "monetary_value"]].tolist() == [2, 35, 90, 20]
    assert s.loc["C2", ["frequency", "recency", "T", "monetary_value"]].tolist() == [0, 0, 30, 0]
    # C3's April order is after the calibration end
    assert s.loc["C3", ["frequency", "T"]].tolist() == [0, 59]
    # C4: the return of 04-05 is after the calibration end, so not netted
    assert s.loc["C4", ["frequency", "recency", "T", "monetary_value"]].tolist() == [1, 121, 121, 10]


def test_summary_in_weeks_and_on_margin(eng, rfm_days):
    w = clv.summary(eng, CAL_END).set_index("customer_id")
    assert w.loc["C1", "recency"] == pytest.approx(5.0) and w.loc["C1", "T"] == pytest.approx(90 / 7)
    assert w.attrs["time_unit"] == "W"
    m = clv.summary(eng, CAL_END, value="margin").set_index("customer_id")
    # C1 margin: 01-15 10 - 6 = 4; 02-05 (60 - 24) - (30 - 12) = 18 -> mean 11
    assert m.loc["C1", "monetary_value"] == pytest.approx(11.0)
    # revenue C1 50+10+30, C2 30, C3 10, C4 30+10 = 170; cost C1 24+6+12 (net of the returned P2),
    # C2 18, C3 6, C4 12+6 = 84
    assert rfm_days.attrs["margin_rate"] == pytest.approx((170 - 84) / 170, abs=1e-6)
    with pytest.raises(SalesLabError):
        clv.summary(eng, CAL_END, time_unit="M")


def test_summary_without_margin_rate_is_the_same_summary(eng, rfm_days):
    # the hold-out fit skips the margin rate (one pass over the purchases less); the figures are the same
    s = clv.summary(eng, CAL_END, time_unit="D", margin_rate=False).set_index("customer_id")
    pd.testing.assert_frame_equal(s, rfm_days)
    assert "margin_rate" not in s.attrs and s.attrs["calibration_end"] == rfm_days.attrs["calibration_end"]


def test_purchase_values_are_the_facts_layers_customer_purchases(eng):
    # the summary is built on facts.customer_purchases_expr: same days, same values to the cent
    p = eng.execute(facts.customer_purchases_expr(eng, CAL_END))
    d = eng.execute(clv.purchase_days_expr(eng, "2000-01-01", CAL_END)).merge(p, on=["customer_id", "order_date"])
    assert len(d) == len(p) == 7  # C1 3 days, C2 1, C3 1, C4 2
    assert (d["purchase_value"] == d["value"]).all() and (d["purchase_cents"] == (d["value"] * 100).round()).all()
    # C1's 02-05 purchase: 60 less the P2 refunded on 02-10; C4's 03-31 purchase: its return is dated 04-05
    v = d.set_index(["customer_id", d["order_date"].astype(str)])["purchase_value"]
    assert v[("C1", "2024-02-05")] == 30 and v[("C4", "2024-03-31")] == 10
    later = eng.execute(clv.purchase_days_expr(eng, "2024-03-31", "2024-04-30")).set_index("customer_id")
    assert later.loc["C4", "purchase_value"] == 0  # by 04-30 the refund of 04-05 is netted on the purchase day


def test_holdout_check_counts_purchases_after_calibration(eng):
    model = clv.BetaGeoModel({"r": 0.5, "alpha": 20.0, "a": 1.5, "b": 4.0}, 0.0, True, 4)
    # three hold-out months before 2024-06-30 (91 days): the calibration ends 2024-03-31
    chk = clv.holdout_check(eng, HOLD_END, Params(clv_holdout_months=3), time_unit="D", bgf=model)
    assert chk.groups.attrs["params"]["calibration_end"] == CAL_END
    assert chk.groups.attrs["params"]["clv_holdout_months"] == 3
    g = chk.groups.set_index("frequency_group")
    # group 0: C2 (none) and C3 (1); group 1: C4 (none); group 2: C1 (2 purchase days in May)
    assert g["customer_count"].to_dict() == {"0": 2, "1": 1, "2": 1}
    assert g["actual_total"].to_dict() == {"0": 1, "1": 0, "2": 2}
    s = clv.summary(eng, CAL_END, time_unit="D")
    pred = model.expected_purchases(91, s["frequency"], s["recency"], s["T"])
    assert chk.errors["predicted_total"] == pytest.approx(pred.sum(), abs=0.01)
    assert chk.errors["actual_total"] == 3
    assert chk.errors["total_relative_error"] == pytest.approx((pred.sum() - 3) / 3, abs=1e-3)
    # naive: C1 2/90 per day, C4 1/121 per day, over 91 days
    naive = np.array([2 / 90 * 91, 0, 0, 91 / 121])
    assert chk.errors["naive_mae"] == pytest.approx(np.mean(np.abs(naive - [2, 0, 1, 0])), abs=1e-4)
    assert clv.holdout_errors_table(chk).attrs["params"]["clv_holdout_months"] == 3


def test_ltv_cac_divides_mean_clv_by_channel_cac(eng):
    values = pd.DataFrame({"customer_id": ["C1", "C2", "C3", "C4", "C9"], "clv": [300.0, 10.0, 40.0, 100.0, 7.0]})
    values.attrs["params"] = {"clv_horizon_months": 6}
    t = clv.ltv_cac(eng, values, "2024-01-01", "2024-03-31").set_index("channel")
    assert t.attrs["params"]["clv_horizon_months"] == 6 and t.attrs["params"]["returns_basis"] == "return_date"
    assert t.loc["direct", ["customer_count", "mean_clv", "cac", "ltv_cac"]].tolist() == [2, 200, 100, 2.0]
    assert t.loc["online", ["customer_count", "mean_clv", "cac", "ltv_cac"]].tolist() == [2, 25, 25, 1.0]
    assert t.loc["unknown", "customer_count"] == 1 and np.isnan(t.loc["unknown", "ltv_cac"])  # no master row


# --- models ------------------------------------------------------------------------------------

BG = {"r": 1.0, "alpha": 4.0, "a": 0.8, "b": 4.0}
GG = {"p": 6.0, "q": 4.0, "v": 15.0}


@pytest.fixture(scope="module")
def simulated():
    T = np.random.default_rng(11).uniform(52, 156, 20_000)
    s = clv.simulate_bg_nbd(20_000, *BG.values(), T, seed=5, holdout=26)
    s["monetary_value"] = clv.simulate_gamma_gamma(s["frequency"], *GG.values(), seed=6)
    return s


@pytest.fixture(scope="module")
def fitted(simulated):
    return clv.fit_bg_nbd(simulated), clv.fit_gamma_gamma(simulated)


def test_bg_nbd_recovers_simulated_parameters(fitted):
    bgf, _ = fitted
    assert bgf.converged
    for k, v in BG.items():
        assert bgf.params[k] == pytest.approx(v, rel=0.10), k


def test_gamma_gamma_recovers_simulated_parameters(fitted, simulated):
    _, ggf = fitted
    assert ggf.converged and ggf.n_customers == int((simulated["frequency"] > 0).sum())
    for k, v in GG.items():
        assert ggf.params[k] == pytest.approx(v, rel=0.10), k


def test_log_likelihoods_match_closed_forms_and_their_gradients():
    r, alpha, a, b = 0.7, 3.0, 1.2, 2.5
    th = np.log([r, alpha, a, b])
    # x = 0: L = (alpha / (alpha + T))^r
    ll = clv.bg_nbd_log_likelihood(th, np.array([0.0]), np.array([0.0]), np.array([10.0]))
    assert ll == pytest.approx(r * np.log(alpha / (alpha + 10)))
    # x = 1, t_x = 4, T = 10 (Fader, Hardie & Lee 2005, eq. 6)
    from scipy.special import beta, gamma
    x, tx, T = 1, 4.0, 10.0
    lik = (beta(a, b + x) / beta(a, b) * gamma(r + x) * alpha ** r / (gamma(r) * (alpha + T) ** (r + x))
           + beta(a + 1, b + x - 1) / beta(a, b) * gamma(r + x) * alpha ** r / (gamma(r) * (alpha + tx) ** (r + x)))
    assert clv.bg_nbd_log_likelihood(th, np.array([1.0]), np.array([tx]), np.array([T])) == pytest.approx(np.log(lik))
    rng = np.random.default_rng(0)
    xs = rng.integers(0, 6, 50).astype(float)
    Ts = rng.uniform(10, 50, 50)
    txs = np.where(xs > 0, Ts * rng.random(50), 0.0)
    err = optimize.check_grad(lambda t: clv.bg_nbd_log_likelihood(t, xs, txs, Ts),
                              lambda t: clv.bg_nbd_log_likelihood(t, xs, txs, Ts, gradient=True)[1], th)
    assert err < 1e-4 * max(1.0, np.abs(clv.bg_nbd_log_likelihood(th, xs, txs, Ts, gradient=True)[1]).max())
    ms = rng.gamma(2.0, 10.0, 50)
    xs1 = xs + 1
    tg = np.log([2.0, 3.0, 20.0])
    err = optimize.check_grad(lambda t: clv.gamma_gamma_log_likelihood(t, xs1, ms),
                              lambda t: clv.gamma_gamma_log_likelihood(t, xs1, ms, gradient=True)[1], tg)
    assert err < 1e-4 * max(1.0, np.abs(clv.gamma_gamma_log_likelihood(tg, xs1, ms, gradient=True)[1]).max())


def test_expected_purchases_match_simulated_holdout_and_beat_naive(simulated):
    true = clv.BetaGeoModel(dict(BG), 0.0, True, len(simulated))
    pred = true.expected_purchases(26, simulated["frequency"], simulated["recency"], simulated["T"])
    actual = simulated["holdout_purchases"].to_numpy()
    assert pred.sum() == pytest.approx(actual.sum(), rel=0.05)
    for f in (0, 1, 3):  # per calibration frequency group too
        m = simulated["frequency"].to_numpy() == f
        assert pred[m].mean() == pytest.approx(actual[m].mean(), rel=0.15), f
    naive = simulated["frequency"] / simulated["T"] * 26
    assert np.abs(pred - actual).mean() < np.abs(naive - actual).mean()
    # probability alive: 1 without repeat purchases, and on average the simulated truth
    alive = true.probability_alive(simulated["frequency"], simulated["recency"], simulated["T"])
    assert (alive[simulated["frequency"] == 0] == 1).all()
    rep = simulated["frequency"] > 0
    assert alive[rep].mean() == pytest.approx(simulated.loc[rep, "alive"].mean(), abs=0.03)


def test_gamma_gamma_expected_value_shrinks_to_population_mean():
    ggf = clv.GammaGammaModel({"p": 6.0, "q": 4.0, "v": 15.0}, 0.0, True, 1)
    assert ggf.population_mean == pytest.approx(6 * 15 / 3)
    assert ggf.conditional_expected_value(0, 0) == pytest.approx(30.0)
    # x = 2, m = 50: 6 (15 + 100) / (12 + 3)
    assert ggf.conditional_expected_value(2, 50.0) == pytest.approx(6 * 115 / 15)


def test_customer_value_discounts_monthly_and_validates_horizon():
    s = pd.DataFrame({"customer_id": ["a", "b"], "frequency": [3, 0], "recency": [30.0, 0.0], "T": [40.0, 20.0],
                      "monetary_value": [100.0, 0.0]})
    s.attrs.update(time_unit="W", margin_rate=0.4)
    bgf = clv.BetaGeoModel({"r": 0.8, "alpha": 5.0, "a": 1.5, "b": 3.0}, 0.0, True, 2)
    ggf = clv.GammaGammaModel({"p": 6.0, "q": 4.0, "v": 15.0}, 0.0, True, 1)
    v0 = clv.customer_value(s, bgf, ggf, Params(clv_horizon_months=3, clv_annual_discount=0.0)).set_index("customer_id")
    assert v0.attrs["params"]["clv_horizon_months"] == 3 and v0.attrs["params"]["margin"] == 0.4
    weeks = 3 * clv.DAYS_PER_MONTH / 7
    exp = bgf.expected_purchases(weeks, 3, 30.0, 40.0)
    spend = ggf.conditional_expected_value(3, 100.0)
    assert v0.loc["a", "expected_purchases"] == pytest.approx(exp, abs=1e-6)
    assert v0.loc["a", "clv"] == pytest.approx(exp * spend * 0.4, abs=0.01)  # summary's margin rate
    assert v0.index.tolist() == ["a", "b"]  # highest CLV first
    # discounting: month m's purchases are divided by (1.1^(1/12))^m
    d = clv.customer_value(s, bgf, ggf, Params(clv_horizon_months=3, clv_annual_discount=0.10),
                           margin=1.0).set_index("customer_id")
    cum = [bgf.expected_purchases(m * clv.DAYS_PER_MONTH / 7, 3, 30.0, 40.0) for m in (0, 1, 2, 3)]
    q = 1.1 ** (1 / 12)
    assert d.loc["a", "clv"] == pytest.approx(sum((cum[m] - cum[m - 1]) / q ** m for m in (1, 2, 3)) * spend, abs=0.01)
    for bad in (2, 13, 6.5):
        with pytest.raises(ValidationError, match="clv_horizon_months"):
            Params(clv_horizon_months=bad)
    with pytest.raises(SalesLabError):
        clv.customer_value(s, bgf, ggf, margin=1.5)


def test_fits_say_when_the_data_are_too_few():
    s = pd.DataFrame({"customer_id": ["a", "b"], "frequency": [1, 0], "recency": [3.0, 0.0], "T": [5.0, 2.0],
                      "monetary_value": [10.0, 0.0]})
    with pytest.raises(InsufficientData, match="at least 3"):
        clv.fit_gamma_gamma(s)
    with pytest.raises(InsufficientData, match="T > 0"):
        clv.fit_bg_nbd(s.assign(T=0.0))


def test_fits_500k_customers_quickly():
    n = 500_000
    s = clv.simulate_bg_nbd(n, 0.5, 4.0, 0.8, 2.5, np.random.default_rng(1).integers(1, 157 * 7, n) / 7, seed=1)
    s["monetary_value"] = clv.simulate_gamma_gamma(s["frequency"], 6.0, 4.0, 15.0, seed=2).round(2)
    t0 = time.perf_counter()
    bgf, ggf = clv.fit_bg_nbd(s), clv.fit_gamma_gamma(s)
    assert time.perf_counter() - t0 < 30
    assert bgf.converged and ggf.converged
    assert bgf.params["r"] == pytest.approx(0.5, rel=0.05)


# --- small demo ----------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def demo(demo_warehouse, tmp_path_factory):
    with connect(demo_warehouse, "duckdb", {"memory_limit": "1GB",
                                            "temp_directory": str(tmp_path_factory.mktemp("d"))}) as e:
        check = clv.holdout_check(e, "2025-12-31")
        s = clv.summary(e, "2025-12-31")
        bgf, ggf = clv.fit_bg_nbd(s), clv.fit_gamma_gamma(s)
        values = clv.customer_value(s, bgf, ggf)
        ltv = clv.ltv_cac(e, values, "2023-01-01", "2025-12-31")
        short = clv.predicted_clv(e, "2025-12-31", Params(clv_horizon_months=6))
    return check, s, bgf, ggf, values, ltv, short


def test_demo_holdout_error_is_small_and_beats_the_naive_rate(demo):
    check = demo[0]
    assert check.model.converged
    assert abs(check.errors["total_relative_error"]) < 0.15
    assert check.errors["mae"] < check.errors["naive_mae"]
    assert check.groups["frequency_group"].tolist() == ["0", "1", "2", "3", "4", "5", "6", "7+"]


def test_demo_customer_values_are_consistent(demo):
    _, s, bgf, ggf, values, ltv, _ = demo
    assert len(values) == len(s) == s["customer_id"].nunique()
    assert (values["clv"] >= 0).all() and values["p_alive"].between(0, 1).all()
    assert values["clv"].is_monotonic_decreasing
    # more repeat purchases at the same recency and age -> more expected purchases
    e = bgf.expected_purchases(52, np.array([1, 5, 10]), np.array([50.0] * 3), np.array([60.0] * 3))
    assert (np.diff(e) > 0).all()
    assert ltv["customer_count"].sum() == len(values)


def test_labels_and_charts_cover_the_stage(demo):
    from saleslab.clv import charts as charts_clv
    from saleslab.report import i18n

    check, _, bgf, ggf, values, ltv, _ = demo
    for col in [*check.groups.columns, *clv.model_parameters(bgf, ggf).columns, *ltv.columns, "clv", "p_alive",
                "expected_purchases", "expected_spend", "monetary_value", "T"]:
        assert col in i18n.LABELS, col
    figs = [charts_clv.holdout_chart(check.groups, "zh-CN"), charts_clv.clv_distribution_chart(values, "en"),
            charts_clv.ltv_cac_chart(ltv, "zh-CN")]
    assert all(len({p.get_facecolor() for ax in f.axes for p in ax.patches}) <= 5 for f in figs)
    import matplotlib.pyplot as plt
    plt.close("all")


def test_predicted_clv_is_the_summary_fits_and_value_in_one_call(demo):
    _, s, bgf, ggf, values, _, short = demo
    want = clv.customer_value(s, bgf, ggf, Params(clv_horizon_months=6))
    pd.testing.assert_frame_equal(short, want)
    assert short.attrs["params"]["clv_horizon_months"] == 6 and short.attrs["params"]["bg_nbd_r"] == bgf.params["r"]
    assert short["clv"].sum() < values["clv"].sum()  # six months ahead are worth less than twelve


CHINESE = re.compile(r"[\u4e00-\u9fff]")
ENGLISH_SENTENCE = re.compile(r"[A-Za-z]{2,}(?: [A-Za-z]{2,}){2,}")


def test_story_and_charts_show_the_horizon_and_holdout_the_tables_were_computed_with(demo):
    check, _, _, _, values, ltv, short = demo
    errors = clv.holdout_errors_table(check)
    zh = clv_story.clv_narrative(short, errors, ltv, "zh-CN")
    en = clv_story.clv_narrative(short, errors, ltv, "en")
    assert "未来 6 个月" in zh and "next 6 months" in en and "最近 6 个月" in zh and "last 6 months" in en
    assert zh.count("\n") == en.count("\n") == 2
    assert "next 12 months" in clv_story.clv_narrative(values, errors, ltv, "en")
    assert not CHINESE.search(en) and not ENGLISH_SENTENCE.search(zh)
    fig = clv_charts.clv_distribution_chart(short, "en")
    assert fig.axes[0].get_title() == "CLV distribution (next 6 months)"
    fig = clv_charts.holdout_chart(check.groups, "zh-CN")
    assert "最近 6 个月" in fig.axes[0].get_title()
    plt.close("all")


# --- partial data: what each part needs, said in its section ---------------------------------------

def test_a_warehouse_of_orders_alone_has_no_margin_and_no_ltv_cac(tmp_path):
    from saleslab.errors import MissingSource

    wh = handmade.build_warehouse(tmp_path, {"orders.csv": FILES["orders.csv"]}, {"orders.yaml": handmade.ORDERS})
    with connect(wh, "duckdb", {"memory_limit": "1GB", "temp_directory": str(tmp_path / "duck")}) as e:
        s = clv.summary(e, HOLD_END)
        assert s.attrs["margin_rate"] is None  # no unit costs: the margin is unknown, not 100 %
        model = clv.BetaGeoModel({"r": 0.5, "alpha": 20.0, "a": 1.5, "b": 4.0}, 0.0, True, 4)
        spend = clv.GammaGammaModel({"p": 6.0, "q": 4.0, "v": 15.0}, 0.0, True, 3)
        with pytest.raises(MissingSource) as err:
            clv.customer_value(s, model, spend)
        assert err.value.tables == ("products",)
        assert len(clv.customer_value(s, model, spend, margin=0.4)) == 4  # a margin given by hand still works
        with pytest.raises(MissingSource) as err:
            clv.summary(e, HOLD_END, value="margin")
        assert err.value.tables == ("products",)
        with pytest.raises(MissingSource) as err:
            clv.ltv_cac(e, pd.DataFrame({"customer_id": ["C1"], "clv": [1.0]}), "2024-01-01", "2024-03-31")
        assert err.value.tables == ("customers", "channel_costs")


def test_the_models_say_how_many_repeat_buyers_there_are_and_how_many_they_need(rfm_days):
    s = rfm_days.reset_index()  # C1 and C4 bought more than once, C2 and C3 did not
    with pytest.raises(InsufficientData, match="2 of 4 customer.s. bought more than once: the BG/NBD purchase model "
                                               "needs at least 3 with repeat purchases"):
        clv.fit_bg_nbd(s)
    with pytest.raises(InsufficientData, match="2 customer.s. with repeat purchases of positive value: the "
                                               "Gamma-Gamma spend model needs at least 3"):
        clv.fit_gamma_gamma(s)
    # three customers who all bought on the same days: the likelihood has no finite optimum
    alike = pd.DataFrame({"customer_id": ["a", "b", "c"], "frequency": [3] * 3, "recency": [30.0, 31.0, 30.5],
                          "T": [40.0, 41.0, 42.0], "monetary_value": [10.0] * 3})
    with pytest.raises(InsufficientData, match="the BG/NBD fit on 3 customers has no finite optimum: .* ends on the "
                                               "bound of the search"):
        clv.fit_bg_nbd(alike)


def test_the_holdout_check_needs_purchases_in_the_holdout(eng):
    model = clv.BetaGeoModel({"r": 0.5, "alpha": 20.0, "a": 1.5, "b": 4.0}, 0.0, True, 4)
    # the last purchase is on 2024-05-02: nobody buys in the three months before 2024-09-30
    with pytest.raises(InsufficientData, match="none of the 4 customers of the calibration period bought in the "
                                               "hold-out .2024-07-02 – 2024-09-30, the last 3 months."):
        clv.holdout_check(eng, "2024-09-30", Params(clv_holdout_months=3), bgf=model)


def test_ltv_cac_without_values_and_parts_that_carry_the_reason(eng):
    with pytest.raises(InsufficientData, match="no customer lifetime value could be computed"):
        clv.ltv_cac(eng, None, "2024-01-01", "2024-03-31")
    s = clv.summary(eng, CAL_END, time_unit="D")
    ggf = clv.attempt(clv.fit_gamma_gamma, s)
    values = clv.attempt(clv.customer_value, s, clv.attempt(clv.fit_bg_nbd, s), ggf)
    assert not ggf.ok and not values.ok and values.error is not None and clv.value_of(values) is None
    with pytest.raises(InsufficientData, match="BG/NBD"):  # the first failed part's error, raised where it is shown
        values.get()
    ltv = clv.attempt(clv.ltv_cac, eng, values, "2024-01-01", "2024-03-31")
    assert ltv.error is values.error  # a part built on a failed part fails with its error
    assert clv.attempt(len, [1, 2]).get() == 2
    with pytest.raises(ZeroDivisionError):  # any other error is not kept
        clv.attempt(lambda: 1 / 0)
    from saleslab.report.i18n import t

    assert clv_story.clv_narrative(values, ltv, ltv, "en") == t("story_clv_none", "en")  # no finding, said once


def test_value_parts_take_the_customers_stages_clv_of_this_run_when_made_alike(demo_warehouse, tmp_path):
    """The CLV stage (07) fits the models once per run: 06 saves :func:`clv.predicted_clv`, 07's
    :func:`clv.value_parts` rebuilds the models from it — the same models, values and table — and
    fits afresh when there is none or it was made for another date or other parameters."""
    run = tmp_path / "run"
    (run / "data" / "06_customers").mkdir(parents=True)
    cfg = {"memory_limit": "1GB", "temp_directory": str(tmp_path / "t")}
    with connect(demo_warehouse, "duckdb", cfg, run_dir=run) as e:
        fresh = clv.value_parts(e, "2025-12-31")  # nothing saved yet: fitted here
        predicted = clv.predicted_clv(e, "2025-12-31")
        predicted.to_parquet(run / "data" / "06_customers" / f"{clv.SHARED_TABLE}.parquet", index=False)
        bgf, ggf, values = clv.value_parts(e, "2025-12-31")
        refit = [clv.value_parts(e, "2025-12-30"), clv.value_parts(e, "2025-12-31", Params(clv_horizon_months=6))]
        marked = predicted.assign(clv=predicted["clv"] + 1000.0)  # the saved table is what is taken
        marked.to_parquet(run / "data" / "06_customers" / f"{clv.SHARED_TABLE}.parquet", index=False)
        taken = clv.value_parts(e, "2025-12-31")[2].get()
    assert all(p.ok for p in (*fresh, bgf, ggf, values))
    for got, want in ((bgf.get(), fresh[0].get()), (ggf.get(), fresh[1].get())):
        assert type(got) is type(want) and got.params == want.params  # full precision, not the table's 6 decimals
        assert (got.log_likelihood, got.converged, got.n_customers, got.iterations, got.message) == \
            (want.log_likelihood, want.converged, want.n_customers, want.iterations, want.message)
    assert bgf.get().time_unit == fresh[0].get().time_unit
    pd.testing.assert_frame_equal(values.get(), fresh[2].get())
    pd.testing.assert_frame_equal(clv.model_parameters(bgf.get(), ggf.get()),
                                  clv.model_parameters(fresh[0].get(), fresh[1].get()))
    # the rebuilt models predict what the fitted ones do
    v = values.get()
    np.testing.assert_allclose(bgf.get().probability_alive(v["frequency"], v["recency"], v["T"]), v["p_alive"], atol=1e-6)
    # another as_of or horizon: not the saved one, fitted afresh
    assert refit[0][2].get().attrs["params"]["calibration_end"] != values.get().attrs["params"]["calibration_end"]
    assert refit[1][2].get().attrs["params"]["clv_horizon_months"] == 6
    assert refit[1][2].get()["clv"].sum() < v["clv"].sum()
    assert taken["clv"].sum() == pytest.approx(v["clv"].sum() + 1000.0 * len(v))
