"""Customer 360° (domain.md §6) on the small demo: a known id gives its orders and follow-ups
(checked against the warehouse files read with pandas), the top customer, unknown ids, where the
segment / value figures come from, the next-action rule, labels, charts and narratives."""

import matplotlib.pyplot as plt
import pandas as pd
import pytest

from saleslab.crosssell import rules as crosssell
from saleslab.customer360 import card as c360
from saleslab.lifecycle import stages as lifecycle
from saleslab.engine import connect
from saleslab.lifecycle import charts as charts_lifecycle, story as narrative_lifecycle
from saleslab.report import i18n

S, E = "2023-01-01", "2025-12-31"


@pytest.fixture(scope="module")
def eng(demo_warehouse, tmp_path_factory):
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
    per_order = lines.groupby("order_id")["net_amount"].sum()
    returned = rets[pd.to_datetime(rets["return_date"]) <= pd.Timestamp(E)].groupby("order_id")["amount"].sum()
    o = orders[orders["order_date"].between(S, E)].copy()
    o["revenue"] = o["order_id"].map(per_order).fillna(0) - o["order_id"].map(returned).fillna(0)
    return o, fu


def test_known_customer_gets_exactly_its_orders(eng, raw):
    o, _ = raw
    cid = o[o["customer_id"].str.startswith("C", na=False)]["customer_id"].value_counts().index[0]
    hist = c360.order_history(eng, cid, S, E)
    mine = o[o["customer_id"] == cid]
    assert sorted(hist["order_id"]) == sorted(mine["order_id"])
    assert hist["revenue"].sum() == pytest.approx(mine["revenue"].sum(), abs=0.05)
    assert hist["order_date"].tolist() == sorted(hist["order_date"], reverse=True)
    assert (hist["revenue"] == (hist["gross_sales"] - hist["returns"]).round(2)).all()
    monthly = c360.monthly_history(hist, S, E)
    assert len(monthly) == 36 and monthly["orders"].sum() == len(hist)
    assert monthly["revenue"].sum() == pytest.approx(hist["revenue"].sum(), abs=0.05)


def test_top_customer_has_the_highest_revenue(eng, raw):
    o, _ = raw
    rev = o.dropna(subset=["customer_id"]).groupby("customer_id")["revenue"].sum().round(2)
    top = rev[rev == rev.max()].index.min()
    assert c360.top_customer(eng, S, E) == top
    assert c360.resolve_customer(eng, "", S, E) == top
    assert c360.resolve_customer(eng, f"  {top} ", S, E) == top


def test_unknown_customer_id_is_a_clear_error(eng):
    with pytest.raises(c360.CustomerNotFound, match="NO-SUCH-ID") as err:
        c360.resolve_customer(eng, "NO-SUCH-ID", S, E)
    assert err.value.customer_id == "NO-SUCH-ID"


def test_profile_and_follow_ups_of_a_crm_customer(eng, raw):
    _, fu = raw
    cid = fu["customer_id"].dropna().value_counts().index[0]
    prof = c360.profile(eng, cid)
    assert prof["customer_id"].tolist() == [cid]
    table = c360.profile_table(prof, cid)
    assert table["c360_field"].iloc[0] == "c360_customer_id" and table["c360_value"].iloc[0] == cid
    got = c360.followups(eng, cid, E)
    want = fu[(fu["customer_id"] == cid) & (pd.to_datetime(fu["followup_date"]) <= pd.Timestamp(E))]
    assert len(got) == len(want) > 0
    assert list(got["followup_date"]) == sorted(got["followup_date"], reverse=True)
    missing = c360.profile_table(c360.profile(eng, "NOT-IN-MASTER"), "NOT-IN-MASTER")
    assert missing["c360_field"].tolist() == ["c360_customer_id", "c360_profile_missing"]


def test_results_of_earlier_stages_are_read_from_the_run(eng, tmp_path):
    cid = c360.top_customer(eng, S, E)
    d = tmp_path / "data" / "06_segments"
    d.mkdir(parents=True)
    pd.DataFrame({"customer_id": [cid], "recency_days": [1], "frequency": [2], "monetary": [3.0],
                  "rfm_class": ["rfm_general_winback"], "customer_tier": ["tier_basic"]}).to_parquet(
        d / "customer_segments.parquet")
    seg = c360.segment_info(eng, cid, E, tmp_path)
    assert seg["source_segment"] == "run" and seg["rfm_class"] == "rfm_general_winback" and seg["frequency"] == 2
    computed = c360.segment_info(eng, cid, E, None)
    assert computed["source_segment"] == "computed" and computed["rfm_class"] in (
        "rfm_important_value", "rfm_important_retention")  # the top customer has high M
    d7 = tmp_path / "data" / "07_clv_churn"
    d7.mkdir(parents=True)
    pd.DataFrame({"customer_id": [cid, "X"], "clv": [10.0, 5.0], "p_alive": [0.9, 0.5], "expected_purchases": [1.0, 1.0],
                  "churn_probability": [0.7, 0.1], "reason_1": ["recency_days", None], "reason_2": [None, None],
                  "reason_3": [None, None], "top_reasons": ["long time without a purchase", ""]}).to_parquet(
        d7 / "churn_scores.parquet")
    val = c360.value_info(eng, cid, E, tmp_path)
    assert val["source_value"] == "run" and val["clv"] == 10.0 and val["clv_percentile"] == 0.5
    reasons = c360.risk_reasons({"stage_reason": "why_regular_buyer"}, val)
    assert reasons["c360_reason"].tolist() == ["why_regular_buyer", "long time without a purchase"]


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


def test_card_labels_charts_and_narratives(eng, tmp_path):
    cid = c360.top_customer(eng, S, E)
    stages = lifecycle.lifecycle_stages(eng, E)
    orders = c360.order_history(eng, cid, S, E)
    seg = {"rfm_class": "rfm_important_value", "customer_tier": "tier_high_value", "source_segment": "run"}
    val = {"clv": 1000.0, "p_alive": 0.9, "churn_probability": 0.1, "clv_percentile": 0.99, "source_value": "run"}
    card = c360.customer_card(cid, c360.profile(eng, cid), lifecycle.customer_stage(stages, cid), seg, val, orders)
    assert card["orders"].iloc[0] == len(orders) and card["next_action"].iloc[0] in ("act_vip_care", "act_onboard")
    keys = [*card.columns, *orders.columns, *lifecycle.STAGES, lifecycle.ABSENT, *lifecycle.REASONS, *c360.ACTIONS,
            "c360_profile_missing", *(f"c360_{f}" for f in c360.PROFILE_FIELDS), *stages.columns,
            *lifecycle.stage_movements(stages, stages).columns, *lifecycle.monthly_rates(eng, "2025-01-01", E).columns]
    assert [k for k in keys if k not in i18n.LABELS] == []
    rules = crosssell.association_rules(eng, S, E)
    assert [k for k in rules.columns if k not in i18n.LABELS] == []
    for lang in ("zh-CN", "en"):
        assert cid in narrative_lifecycle.customer_narrative(card, lang)
        assert rules["antecedent"].iloc[0] in narrative_lifecycle.crosssell_narrative(rules, lang)
    counts = lifecycle.stage_counts(stages)
    figs = [charts_lifecycle.stage_chart(counts, "zh-CN"),
            charts_lifecycle.customer_monthly_chart(c360.monthly_history(orders, S, E), "en")]
    assert all(len({p.get_facecolor() for ax in f.axes for p in ax.patches}) <= 5 for f in figs)
    plt.close("all")
