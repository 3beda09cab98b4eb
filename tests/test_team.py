"""Team metrics (domain.md §8) on a hand-made warehouse (DuckDB and PySpark) and on the small demo."""

import json

import pytest

import hand_sales
from saleslab.team import performance as team
from saleslab.engine import connect
from saleslab.team import charts as charts_team, story as narrative_team
from saleslab.report import i18n

S, E = hand_sales.START, hand_sales.END


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


def test_thresholds_are_parameters(eng):
    r = team.rep_performance(eng, S, E, reward_min=1.3, coaching_max=0.3).set_index("rep_id")
    assert r.loc["S1", "tier"] == "tier_on_target" and r.loc["S2", "tier"] == "tier_below_target"


def test_team_uses_team_target_or_sum_of_rep_targets(eng, reps):
    t = team.team_performance(eng, S, E, reps).set_index("team")
    assert t.loc["T1", ["reps", "revenue", "target", "achievement_rate", "revenue_per_rep"]].tolist() == [2, 150, 150, 1.0, 75]
    assert t.loc["T1", "tier"] == "tier_on_target"
    assert t.loc["T1", "collection_rate"] == pytest.approx(70 / 120, abs=1e-6)
    assert t.loc["T2", ["revenue", "target", "achievement_rate"]].tolist() == [10, 8, 1.25]  # no team target
    assert t.index.tolist() == ["T2", "T1"] and t["rank"].tolist() == [1, 2]


def test_team_totals(reps):
    assert team.team_totals(reps) == {"revenue": 160.0, "target": 348.0, "achievement_rate": 0.4598,
                                      "revenue_per_rep": 53.33, "reward_reps": 2, "coaching_reps": 1}


# --- small demo: the planted reps land in the reward tier and on the coaching list ------------

@pytest.fixture(scope="module")
def demo(demo_warehouse, demo_dir, tmp_path_factory):
    planted = json.loads((demo_dir / "truth" / "planted.json").read_text(encoding="utf-8"))
    with connect(demo_warehouse, "duckdb", {"memory_limit": "1GB",
                                            "temp_directory": str(tmp_path_factory.mktemp("d"))}) as e:
        reps = team.rep_performance(e, "2023-01-01", "2025-12-31")
        teams = team.team_performance(e, "2023-01-01", "2025-12-31", reps)
    return planted, reps, teams


def test_demo_planted_reps_are_rewarded_and_coached(demo):
    planted, reps, _ = demo
    assert sorted(team.reward_list(reps)["rep_id"]) == sorted(planted["reps_above_target"]["ids"])
    assert sorted(team.coaching_list(reps)["rep_id"]) == sorted(planted["reps_below_target"]["ids"])
    assert reps["rank"].tolist() == list(range(1, len(reps) + 1))


def test_demo_team_revenue_adds_up_to_rep_revenue(demo):
    _, reps, teams = demo
    assert teams["revenue"].sum() == pytest.approx(reps["revenue"].sum(), abs=0.05)
    assert teams["reps"].sum() == reps["team"].notna().sum()


def test_labels_charts_and_narrative_cover_the_stage(demo):
    planted, reps, teams = demo
    for col in [*reps.columns, *teams.columns, *team.TIERS]:
        assert col in i18n.LABELS, col
    for lang in ("zh-CN", "en"):
        text = narrative_team.team_narrative(reps, teams, lang)
        assert all(i in text for i in planted["reps_above_target"]["ids"] + planted["reps_below_target"]["ids"])
    figs = [charts_team.achievement_chart(reps, "zh-CN"), charts_team.team_chart(teams, "en")]
    assert all(len({p.get_facecolor() for ax in f.axes for p in ax.patches}) <= 5 for f in figs)
    import matplotlib.pyplot as plt
    plt.close("all")
