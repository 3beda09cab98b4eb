"""Team metrics (domain.md §8) on hand-made warehouses (DuckDB and PySpark) and on the small demo."""

import json
import re

import matplotlib
import pytest

import hand_sales
import handmade
from saleslab import team
from saleslab.engine import connect
from saleslab.errors import SalesLabError
from saleslab.facts import Params as FactsParams
from saleslab.performance.kpis import kpi_cube
from saleslab.report import i18n
from saleslab.team import charts as charts_team, story as narrative_team

matplotlib.use("Agg")

S, E = hand_sales.START, hand_sales.END
CJK = re.compile(r"[\u3400-\u9fff]")
ENGLISH_PHRASE = re.compile(r"[A-Za-z]+(?:\s+[A-Za-z]+){2,}")


@pytest.fixture(scope="module")
def hand_warehouse(tmp_path_factory):
    return hand_sales.build(tmp_path_factory.mktemp("hand_team"))


@pytest.fixture(scope="module")
def reps(eng):
    return team.rep_performance(eng, S, E)


def test_achievement_is_rep_order_revenue_over_period_targets(reps):
    r = reps.set_index("rep_id")
    # S1: O1 20 + O2 30 = 50 over 20 + 20; S2: O3 100 (O0 is before the period) over 3 x 100
    assert r.loc["S1", ["revenue", "target", "achievement_rate"]].tolist() == [50, 40, 1.25]
    assert r.loc["S2", ["revenue", "target"]].tolist() == [100, 300]
    assert r.loc["S2", "achievement_rate"] == pytest.approx(1 / 3, abs=1e-6)
    assert r.loc["S4", "revenue"] == 0 and r["target"].isna().loc["S4"]


def test_new_customers_are_first_orders_with_the_rep(reps):
    r = reps.set_index("rep_id")
    assert r["new_customers"].to_dict() == {"S1": 1, "S2": 0, "S3": 1, "S4": 0}  # C2 first bought in 2023


def test_rep_collection_rate_over_invoices_due_in_the_period(reps):
    r = reps.set_index("rep_id")
    assert r.loc["S1", ["invoiced", "collected", "collection_rate"]].tolist() == [20, 20, 1.0]  # overpayment capped
    assert r.loc["S2", "collection_rate"] == 0.5


def test_ranking_breaks_ties_by_revenue_and_tiers_follow_thresholds(reps):
    # S1 and S3 both reach 125 %: S1 has more revenue; S4 has no target and ranks last
    assert reps["rep_id"].tolist() == ["S1", "S3", "S2", "S4"]
    assert reps["rank"].tolist() == [1, 2, 3, 4]
    assert reps["tier"].tolist() == ["tier_reward", "tier_reward", "tier_coaching", "tier_no_target"]
    assert team.reward_list(reps)["rep_id"].tolist() == ["S1", "S3"]
    assert team.coaching_list(reps)["rep_id"].tolist() == ["S2"]


def test_thresholds_come_from_the_params_model_and_are_recorded(eng):
    r = team.rep_performance(eng, S, E, team.Params(reward_min=1.3, coaching_max=0.3))
    assert r.set_index("rep_id").loc["S1", "tier"] == "tier_on_target"
    assert r.set_index("rep_id").loc["S2", "tier"] == "tier_below_target"
    assert r.attrs["params"]["reward_min"] == 1.3 and r.attrs["params"]["achievement_basis"] == "net"
    assert team.reward_list(r).attrs["params"]["reward_min"] == 1.3
    assert team.coaching_list(r).attrs["params"]["coaching_max"] == 0.3


def test_team_uses_team_target_or_sum_of_rep_targets(eng, reps):
    t = team.team_performance(eng, S, E, reps).set_index("team")
    assert t.loc["T1", ["reps", "revenue", "target", "achievement_rate", "revenue_per_rep"]].tolist() == [2, 150, 150, 1.0, 75]
    assert t.loc["T1", "tier"] == "tier_on_target"
    assert t.loc["T1", "collection_rate"] == pytest.approx(70 / 120, abs=1e-6)
    assert t.loc["T2", ["revenue", "target", "achievement_rate"]].tolist() == [10, 8, 1.25]  # no team target
    assert t.index.tolist() == ["T2", "T1"] and t["rank"].tolist() == [1, 2]


def test_team_table_takes_the_parameters_of_its_rep_table(eng):
    reps = team.rep_performance(eng, S, E, team.Params(reward_min=1.3))
    teams = team.team_performance(eng, S, E, reps)
    assert teams.attrs["params"]["reward_min"] == 1.3
    assert teams.set_index("team").loc["T2", "tier"] == "tier_on_target"  # 125 % < 130 %
    with pytest.raises(SalesLabError, match="reward_min"):
        team.team_performance(eng, S, E, reps, team.Params())
    with pytest.raises(SalesLabError, match="2024-01-01 .. 2024-03-31"):
        team.team_performance(eng, S, "2024-02-29", reps)


def test_team_totals(reps):
    assert team.team_totals(reps) == {"revenue": 160.0, "target": 348.0, "achievement_rate": 0.4598,
                                      "revenue_per_rep": 53.33, "reward_reps": 2, "coaching_reps": 1}


def test_a_month_cut_by_the_period_counts_its_target_pro_rata(eng):
    r = team.rep_performance(eng, "2024-01-01", "2024-01-15").set_index("rep_id")
    # S1: 20 in January -> 15/31 of it; revenue O1 20
    assert r.loc["S1", "target"] == pytest.approx(20 * 15 / 31, abs=0.01)
    assert r.loc["S1", "achievement_rate"] == pytest.approx(20 / round(20 * 15 / 31, 2), abs=1e-6)


def test_story_and_chart_show_the_thresholds_the_table_was_computed_with(eng):
    reps = team.rep_performance(eng, S, E, team.Params(reward_min=1.1, coaching_max=0.5))
    teams = team.team_performance(eng, S, E, reps)
    for lang in ("zh-CN", "en"):
        text = narrative_team.team_narrative(reps, teams, lang)
        assert "110%" in text and "50%" in text and "120%" not in text and "60%" not in text
    fig = charts_team.achievement_chart(reps, "en")
    ax = fig.axes[0]
    lines = {ln.get_label(): ln.get_ydata()[0] for ln in ax.get_lines()}
    assert lines == {"Target 100%": 1.0, "Reward line 110%": 1.1, "Coaching line 50%": 0.5}
    assert [tk.get_text() for tk in ax.get_xticklabels()] == ["S1 Alice", "S3 Carol", "S2 Bob"]  # S4: no target
    assert [round(p.get_height(), 6) for p in ax.patches] == [1.25, 1.25, round(1 / 3, 6)]
    matplotlib.pyplot.close("all")


def test_english_story_has_no_chinese_and_chinese_story_no_english_sentence(eng, reps):
    teams = team.team_performance(eng, S, E, reps)
    en = narrative_team.team_narrative(reps, teams, "en")
    zh = narrative_team.team_narrative(reps, teams, "zh-CN")
    assert not CJK.search(en)
    assert not ENGLISH_PHRASE.search(zh), ENGLISH_PHRASE.search(zh)
    assert "Alice" in en and "Alice" in zh  # names are data, not text


# --- returns: achievement is net of the returns of the rep's orders -----------------------------

# R2 returns 2 of O3's (S2) units in the period; R3 returns one unit of O1 (S1) after the period;
# R4 returns O0's unit (S2, ordered before the period) in the period.
RETURNS_FILES = {**hand_sales.FILES, "returns.csv": "id,order,sku,date,qty,amount\n"
                 "R1,O5,P2,2024-02-05,1,30\nR2,O3,P1,2024-02-15,2,20\n"
                 "R3,O1,P1,2024-04-05,1,10\nR4,O0,P1,2024-01-10,1,10\n"}


@pytest.fixture(scope="module")
def returns_eng(tmp_path_factory, open_engine):
    tmp = tmp_path_factory.mktemp("hand_team_returns")
    wh = handmade.build_warehouse(tmp, RETURNS_FILES, hand_sales.MAPS)
    e = open_engine(wh, "duckdb", tmp)
    yield e
    e.close()


def test_achievement_is_net_of_returns_counted_on_their_return_date(returns_eng):
    r = team.rep_performance(returns_eng, S, E).set_index("rep_id")
    # S2: 100 sold, R2 20 and R4 10 (O0 is before the period, its return is not) -> 70 / 300
    assert r.loc["S2", ["gross_sales", "returns", "revenue"]].tolist() == [100, 30, 70]
    assert r.loc["S2", "achievement_rate"] == pytest.approx(70 / 300, abs=1e-6)
    # S1: R3 is after the period
    assert r.loc["S1", ["returns", "revenue", "achievement_rate"]].tolist() == [0, 50, 1.25]
    t = team.team_performance(returns_eng, S, E, team.rep_performance(returns_eng, S, E)).set_index("team")
    assert t.loc["T1", ["revenue", "achievement_rate"]].tolist() == [120, 0.8]


def test_returns_on_order_date_count_with_their_order(returns_eng):
    fp = FactsParams(returns_basis="order_date")
    r = team.rep_performance(returns_eng, S, E, facts_params=fp).set_index("rep_id")
    assert r.loc["S1", ["returns", "revenue", "achievement_rate"]].tolist() == [10, 40, 1.0]  # R3 (order O1 in period)
    assert r.loc["S2", ["returns", "revenue"]].tolist() == [20, 80]  # R4's order O0 is before the period


def test_gross_achievement_basis_ignores_returns(returns_eng):
    reps = team.rep_performance(returns_eng, S, E, facts_params=FactsParams(achievement_basis="gross"))
    r = reps.set_index("rep_id")
    assert r.loc["S2", "revenue"] == 70 and r.loc["S2", "achievement_rate"] == pytest.approx(1 / 3, abs=1e-6)
    assert team.team_totals(reps)["achievement_rate"] == 0.4598  # 160 / 348, as without returns


@pytest.mark.parametrize("fp", [FactsParams(), FactsParams(returns_basis="order_date"),
                                FactsParams(achievement_basis="gross")],
                         ids=["net", "order_date", "gross"])
def test_rep_achievement_equals_the_performance_kpi_cube(returns_eng, fp):
    reps = team.rep_performance(returns_eng, S, E, facts_params=fp)
    cube = kpi_cube(returns_eng, S, E, grain="year", by=("rep_id",), facts_params=fp)
    mine = reps[reps["target"].notna()].set_index("rep_id")["achievement_rate"]
    theirs = cube.set_index("rep_id")["achievement_rate"].reindex(mine.index)
    assert mine.tolist() == pytest.approx(theirs.tolist(), abs=1e-6)
    assert reps.set_index("rep_id").loc[["S1", "S2"], "revenue"].tolist() == \
        cube.set_index("rep_id").loc[["S1", "S2"], "revenue"].tolist()


# --- small demo: the planted reps land in the reward tier and on the coaching list ------------

@pytest.fixture(scope="module")
def demo(demo_warehouse, demo_dir, tmp_path_factory):
    planted = json.loads((demo_dir / "truth" / "planted.json").read_text(encoding="utf-8"))
    with connect(demo_warehouse, "duckdb", {"memory_limit": "1GB",
                                            "temp_directory": str(tmp_path_factory.mktemp("d"))}) as e:
        reps = team.rep_performance(e, "2023-01-01", "2025-12-31")
        teams = team.team_performance(e, "2023-01-01", "2025-12-31", reps)
        cube = kpi_cube(e, "2023-01-01", "2025-12-31", grain="year", by=("rep_id",))
    return planted, reps, teams, cube


def test_demo_planted_reps_are_rewarded_and_coached(demo):
    planted, reps, _, _ = demo
    assert sorted(team.reward_list(reps)["rep_id"]) == sorted(planted["reps_above_target"]["ids"])
    assert sorted(team.coaching_list(reps)["rep_id"]) == sorted(planted["reps_below_target"]["ids"])
    assert reps["rank"].tolist() == list(range(1, len(reps) + 1))


def test_demo_rep_achievement_agrees_with_the_performance_stage(demo):
    _, reps, _, cube = demo
    per_rep = cube[cube["rep_id"] != "unknown"].groupby("rep_id")[["revenue", "target"]].sum()
    mine = reps.set_index("rep_id").loc[per_rep.index]
    assert mine["revenue"].tolist() == pytest.approx(per_rep["revenue"].tolist(), abs=0.05)
    assert mine["achievement_rate"].tolist() == pytest.approx((per_rep["revenue"] / per_rep["target"]).tolist(), abs=1e-6)


def test_demo_team_revenue_adds_up_to_rep_revenue(demo):
    _, reps, teams, _ = demo
    assert teams["revenue"].sum() == pytest.approx(reps[reps["team"].notna()]["revenue"].sum(), abs=0.05)
    assert teams["reps"].sum() == reps["team"].notna().sum()


def test_labels_charts_and_narrative_cover_the_stage(demo):
    planted, reps, teams, _ = demo
    for col in [*reps.columns, *teams.columns, *team.TIERS]:
        assert col in i18n.LABELS, col
    for lang in ("zh-CN", "en"):
        text = narrative_team.team_narrative(reps, teams, lang)
        assert all(i in text for i in planted["reps_above_target"]["ids"] + planted["reps_below_target"]["ids"])
    figs = [charts_team.achievement_chart(reps, "zh-CN"), charts_team.team_chart(teams, "en")]
    assert all(len({p.get_facecolor() for ax in f.axes for p in ax.patches}) <= 5 for f in figs)
    matplotlib.pyplot.close("all")


def test_coaching_line_must_be_below_the_reward_line():
    from saleslab.errors import ParameterError
    from saleslab.params import validate_thresholds

    with pytest.raises(ParameterError, match="coaching_max .* must be below reward_min"):
        validate_thresholds({"reward_min": 0.8, "coaching_max": 0.9})


# --- partial warehouses: orders only; a rep list without teams and targets without rep ones ------

@pytest.fixture(scope="module")
def orders_only(tmp_path_factory, open_engine):
    tmp = tmp_path_factory.mktemp("team_orders_only")
    wh = handmade.build_warehouse(tmp, {"orders.csv": hand_sales.FILES["orders.csv"]},
                                  {"orders.yaml": hand_sales.MAPS["orders.yaml"]})
    e = open_engine(wh, "duckdb", tmp)
    yield e
    e.close()


def test_without_rep_list_targets_or_invoices_reps_show_their_revenue(orders_only):
    from saleslab.errors import MissingSource

    reps = team.rep_performance(orders_only, S, E)
    r = reps.set_index("rep_id")
    assert list(reps["rep_id"]) == ["S2", "S1", "S3"]  # the rep ids of the orders, ranked by revenue
    assert r["revenue"].tolist() == [100.0, 50.0, 10.0] and r["rep_name"].isna().all() and r["team"].isna().all()
    assert r["target"].isna().all() and r["achievement_rate"].isna().all() and set(r["tier"]) == {"tier_no_target"}
    # no invoices, no payments: collection unknown, not 0
    assert r[["invoiced", "collected", "collection_rate"]].isna().all().all()
    assert r.loc["S1", "new_customers"] == 1 and r.loc["S3", "new_customers"] == 1  # C2's first order is of 2023
    assert team.team_totals(reps) == {"revenue": 160.0, "target": 0.0, "achievement_rate": None,
                                      "revenue_per_rep": 53.33, "reward_reps": None, "coaching_reps": None}
    with pytest.raises(MissingSource) as e:
        team.team_performance(orders_only, S, E, reps)
    assert e.value.tables == ("reps",)
    with pytest.raises(MissingSource) as e:
        team.with_targets(orders_only, reps)
    assert e.value.tables == ("targets",)
    for lang in ("en", "zh-CN"):
        text = narrative_team.rep_narrative(reps, lang)
        assert "3" in text and "1.6" not in text  # 3 reps; 160 元 is 0.0 万元
    assert "need sales targets" in narrative_team.rep_narrative(reps, "en")
    assert narrative_team.team_narrative(reps, None, "en") == narrative_team.rep_narrative(reps, "en")


def test_targets_without_rep_ones_and_reps_without_teams_say_why(tmp_path, open_engine):
    from saleslab.errors import InsufficientData

    files = {"orders.csv": hand_sales.FILES["orders.csv"], "reps.csv": "id,name,team\nS1,Alice,T1\nS2,Bob,T1\n",
             "targets.csv": "month,level,id,amount\n2024-01-01,team,T1,100\n"}
    maps = {k: hand_sales.MAPS[k] for k in ("orders.yaml", "reps.yaml", "targets.yaml")}
    with open_engine(handmade.build_warehouse(tmp_path, files, maps), "duckdb", tmp_path) as e:
        reps = team.rep_performance(e, S, E)
        with pytest.raises(InsufficientData, match="no rep has a sales target between 2024-01-01 and 2024-03-31"):
            team.with_targets(e, reps)
        assert team.team_performance(e, S, E, reps).set_index("team").loc["T1", "achievement_rate"] == 1.5
        with pytest.raises(InsufficientData, match="no rep of the rep list has a team"):
            team.team_performance(e, S, E, reps.assign(team=None))
    assert reps.set_index("rep_id").loc["S1", "rep_name"] == "Alice"


def test_team_text_names_the_best_team_by_achievement_or_by_revenue(eng, reps):
    teams = team.team_performance(eng, S, E, reps)
    assert narrative_team.team_text(teams, "en").startswith("The best team is **T2** at 125.0% of target")
    no_targets = teams.assign(target=float("nan"), achievement_rate=float("nan"))  # ranked by revenue then
    no_targets = no_targets.assign(rank=no_targets["revenue"].rank(ascending=False).astype(int))
    assert "the team with the most revenue is **T1**" in narrative_team.team_text(no_targets, "en")
    assert team.with_targets(eng, reps) is reps
