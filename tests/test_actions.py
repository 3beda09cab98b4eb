"""Actions (stage 13_actions): the strategy file, rule evaluation, the actions database (schema,
migrations, no duplicates, atomic audited status changes), outcomes and matched effects on a
hand-made warehouse, the CLI, and the closed loop on the demo: two runs (2025-06-30, 2025-12-31)
find the planted retention call-back effect inside its interval.

Hand-made warehouse (actions created on C = 2024-03-31, window 30 days: (C, 2024-04-30]):

  order date        cust channel sku qty x price  net   note
  O1    2024-03-01  C1   direct  P1  1 x 100      100   before C
  O2    2024-04-10  C1   direct  P1  2 x 100      200   C1 bought again: 200
  O3    2024-04-20  C2   direct  P2  1 x 50        50   returned in full on 04-25 (R1): value 0, not "bought again"
  O4    2024-05-05  C3   direct  P1  1 x 100      100   after the window
  O5    2024-04-05  C4   online  P1  1 x 100      100   C4 bought again: 100
  (C5: no order)
  product revenue in [04-01, 04-30]: P1 200 + 100 = 300; P2 50 − 50 = 0; channel direct 200, online 100
  invoices due in the window: I1 (C1, due 04-15, 100: paid 60 on 04-20 and 50 on 05-10, after the
  window) → 0.6; I2 (C2, due 04-30, 200: paid 200 on 04-29) → 1.0; I3 (C3, due 05-15) outside.
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import handmade
import numpy as np
import pandas as pd
import pytest
from handmade import source_yaml

from saleslab import actions
from saleslab.actions import charts, story
from saleslab.actions.store import ActionStore
from saleslab.actions.strategy import Rule, evaluate_rule, load_strategy
from saleslab.config import PROJECT_ROOT
from saleslab.errors import InvalidArgument, ParameterError

C = "2024-03-31"
MAPS = {
    "orders.yaml": handmade.orders_yaml(
        {"order_id": "order", "order_date": "date", "customer_id": "cust", "channel": "channel", "rep_id": "rep"}),
    "products.yaml": handmade.PRODUCTS,
    "returns.yaml": handmade.RETURNS,
    "customers.yaml": source_yaml("customers.csv", "customers", {"customer_id": "id", "name": "name",
                                                                 "owner_rep_id": "owner", "region": "region"}),
    "reps.yaml": source_yaml("reps.csv", "reps", {"rep_id": "id", "name": "name", "team": "team"}),
    "invoices.yaml": source_yaml("invoices.csv", "invoices", {"invoice_id": "id", "order_id": "order",
                                                              "customer_id": "cust", "invoice_date": "date",
                                                              "due_date": "due", "amount": "amount"}),
    "payments.yaml": source_yaml("payments.csv", "payments", {"payment_id": "id", "invoice_id": "inv",
                                                              "payment_date": "date", "amount": "amount"}),
}
FILES = {
    "orders.csv": "order,date,cust,channel,rep,sku,qty,price\n"
                  "O1,2024-03-01,C1,direct,S1,P1,1,100\n"
                  "O2,2024-04-10,C1,direct,S1,P1,2,100\n"
                  "O3,2024-04-20,C2,direct,S2,P2,1,50\n"
                  "O4,2024-05-05,C3,direct,S1,P1,1,100\n"
                  "O5,2024-04-05,C4,online,,P1,1,100\n",
    "products.csv": "sku,name,cat,price,cost\nP1,A,x,100,60\nP2,B,y,50,20\n",
    "returns.csv": "id,order,sku,date,qty,amount\nR1,O3,P2,2024-04-25,1,50\n",
    "customers.csv": "id,name,owner,region\nC1,甲公司,S1,east\nC2,乙公司,S2,north\nC3,丙公司,,east\nC4,丁,,south\n",
    "reps.csv": "id,name,team\nS1,Alice,T1\nS2,Bob,T1\n",
    "invoices.csv": "id,order,cust,date,due,amount\nI1,O1,C1,2024-03-01,2024-04-15,100\n"
                    "I2,O3,C2,2024-04-20,2024-04-30,200\nI3,O4,C3,2024-05-05,2024-05-15,100\n",
    "payments.csv": "id,inv,date,amount\nPA1,I1,2024-04-20,60\nPA2,I1,2024-05-10,50\nPA3,I2,2024-04-29,200\n",
}


@pytest.fixture(scope="module")
def hand_warehouse(tmp_path_factory):
    return handmade.build_warehouse(tmp_path_factory.mktemp("hand_actions"), FILES, MAPS)


def _rule(**over) -> Rule:
    base = {"id": "r", "kind": "action_retention_callback", "target_type": "customer",
            "trigger": {"stage": "06_customers", "table": "t", "target": "customer_id",
                        "when": [{"column": "recency_days", "op": ">=", "value": 60}]},
            "scores": ["recency_days"], "owner": "customer_rep", "due_days": 14,
            "expected_effect": {"change": 0.15}, "outcome": {"metric": "bought_again", "window_days": 30}}
    base.update(over)
    return Rule.model_validate(base)


# ---- the strategy file ---------------------------------------------------------------------------
def test_the_project_strategy_file_validates_and_covers_the_issue_rules():
    s = actions.load()
    kinds = {r.kind for r in s.rules}
    assert {"action_retention_callback", "action_high_value_perks", "action_star_exposure", "action_slow_mover_bundle",
            "action_channel_review", "action_distributor_closure", "action_budget_channel", "action_budget_region",
            "action_credit_alert", "action_ageing_alert"} <= kinds
    roi = s.rule("channel_roi_review").trigger.when[0]
    assert (roi.column, roi.op, roi.value) == ("roi", "<", 1.2)
    assert s.rule("distributor_closure_review").trigger.when[0].value == 0.6


@pytest.mark.parametrize("patch, message", [
    ({"owner": "the_boss"}, "key 'rules.0.owner': owner rule 'the_boss' is not allowed; allowed: customer_rep"),
    ({"trigger": {"stage": "06_customers", "table": "t", "target": "customer_id",
                  "when": [{"column": "x", "op": "~", "value": 1}]}}, "key 'rules.0.trigger.when.0.op'"),
    ({"outcome": {"metric": "volume", "window_days": 30}}, "cannot be measured on a customer; allowed: bought_again"),
    ({"due_days": 0}, "key 'rules.0.due_days'"),
    ({"colour": "red"}, "unknown key 'rules.0.colour'"),
])
def test_a_bad_strategy_file_names_the_key_and_what_is_allowed(tmp_path, patch, message):
    rule = {"id": "r", "kind": "action_x", "target_type": "customer",
            "trigger": {"stage": "06_customers", "table": "t", "target": "customer_id",
                        "when": [{"column": "a", "op": ">=", "value": 1}]},
            "scores": ["a"], "owner": "customer_rep", "due_days": 14, "expected_effect": {"change": 0.1},
            "outcome": {"metric": "bought_again", "window_days": 30}} | patch
    import yaml

    f = tmp_path / "strategy.yaml"
    f.write_text(yaml.safe_dump({"version": 1, "rules": [rule]}), encoding="utf-8")
    with pytest.raises(ParameterError) as e:
        load_strategy(f)
    assert str(f) in str(e.value) and message in str(e.value)


def test_two_rules_with_one_id_are_refused(tmp_path):
    import yaml

    r = _rule().model_dump(mode="json")
    f = tmp_path / "s.yaml"
    f.write_text(yaml.safe_dump({"version": 1, "rules": [r, r]}), encoding="utf-8")
    with pytest.raises(ParameterError, match="rule id\\(s\\) r used twice"):
        load_strategy(f)


# ---- evaluating a rule --------------------------------------------------------------------------
TABLE = pd.DataFrame({"customer_id": ["A", "B", "C", "D", "E", None, "A"],
                      "recency_days": [90, 30, 60, 200, 75, 99, 1],
                      "monetary": [5000.0, 9000.0, 100.0, 800.0, np.nan, 1.0, 1.0],
                      "customer_type": ["type_company", "type_company", "type_company", "type_person",
                                        "type_company", "type_company", "type_company"]})


def test_a_rule_keeps_the_rows_meeting_every_condition_within_its_population():
    r = _rule(trigger={"stage": "06_customers", "table": "t", "target": "customer_id",
                       "among": [{"column": "customer_type", "op": "==", "value": "type_company"}],
                       "when": [{"column": "recency_days", "op": ">=", "value": 60}]},
              scores=["recency_days", "monetary"])
    f, pop = evaluate_rule(r, TABLE)
    # D is a person (outside the population); the id-less row and A's second row are left out
    assert list(f.target) == ["A", "C", "E"]
    assert json.loads(f.evidence[0]) == {"recency_days": 90, "monetary": 5000.0}
    assert json.loads(f.scores[2]) == {"recency_days": 75, "monetary": None}
    assert list(pop.target) == ["A", "B", "C", "E"] and list(pop.triggered) == [True, False, True, True]


def test_rank_by_and_limit_keep_the_first_targets_and_leave_the_rest_in_the_pool():
    r = _rule(trigger={"stage": "06_customers", "table": "t", "target": "customer_id", "rank_by": "monetary",
                       "limit": 2, "when": [{"column": "recency_days", "op": ">", "value": 10}]})
    f, pop = evaluate_rule(r, TABLE)
    assert list(f.target) == ["B", "A"]  # by monetary, largest first; E (no monetary) last
    assert pop.set_index("target").triggered.to_dict() == {"A": True, "B": True, "C": False, "D": False, "E": False}


def test_in_and_not_in_conditions():
    r = _rule(trigger={"stage": "06_customers", "table": "t", "target": "customer_id",
                       "when": [{"column": "customer_type", "op": "not in", "value": ["type_person"]},
                                {"column": "customer_id", "op": "in", "value": ["A", "D", "E"]}]})
    assert list(evaluate_rule(r, TABLE)[0].target) == ["A", "E"]


class _Results:
    """An engine stand-in that serves earlier stages' tables (the only part of the engine the
    evaluation reads besides the warehouse, which the owner tests give it)."""

    def __init__(self, eng, tables):
        self.eng, self.tables = eng, tables

    def stage_result(self, stage, name):
        return self.tables.get((stage, name))

    def __getattr__(self, name):
        return getattr(self.eng, name)


def test_owners_follow_the_owner_rule_and_a_missing_trigger_table_is_reported(eng):
    s = actions.Strategy.model_validate({"version": 1, "channel_manager": "zhang_san", "rules": [
        _rule(id="a").model_dump(), _rule(id="b", owner="region_supervisor").model_dump(),
        _rule(id="c", owner="channel_manager", target_type="channel", outcome={"metric": "revenue", "window_days": 30},
              trigger={"stage": "04_channels", "table": "ch", "target": "channel",
                       "when": [{"column": "roi", "op": "<", "value": 1.2}]}, scores=["roi"]).model_dump(),
        _rule(id="d", trigger={"stage": "99_nowhere", "table": "x", "target": "customer_id",
                               "when": [{"column": "a", "op": ">", "value": 1}]}).model_dump()]})
    tables = {("06_customers", "t"): pd.DataFrame({"customer_id": ["C1", "C3", "C9"], "recency_days": [70, 80, 90]}),
              ("04_channels", "ch"): pd.DataFrame({"channel": ["online", "direct"], "roi": [0.9, 3.0]})}
    findings, pops, rules = actions.evaluate(_Results(eng, tables), s)
    assert rules.set_index("rule_id").rule_status.to_dict() == {
        "a": "rule_evaluated", "b": "rule_evaluated", "c": "rule_evaluated", "d": "rule_trigger_missing"}
    from saleslab.actions.strategy import assign_owners

    policy = PROJECT_ROOT / "parameters" / "access.yaml"
    o = assign_owners(eng, findings, s, policy).set_index(["rule_id", "target"])
    # C1's rep S1 (Alice); C3 has no rep: customer service; C9 is not in the master
    assert o.loc[("a", "C1"), ["owner_type", "owner", "owner_name"]].tolist() == ["owner_rep", "S1", "Alice"]
    assert o.loc[("a", "C3"), "owner"] == "role_customer_service"
    assert o.loc[("b", "C1"), ["owner_type", "owner"]].tolist() == ["owner_user", "sup_east"]
    assert o.loc[("b", "C9"), "owner"] == "role_region_supervisor"
    assert o.loc[("c", "online"), "owner"] == "zhang_san" and ("c", "direct") not in o.index


# ---- the actions database ----------------------------------------------------------------------------
def _findings(targets, rule="r", evidence="{}", window=30, due="2024-04-14"):
    return pd.DataFrame({"action_id": [actions.action_id(rule, t) for t in targets], "rule_id": rule,
                         "kind": "action_retention_callback", "target_type": "customer", "target": targets,
                         "owner_type": "owner_rep", "owner": "S1", "owner_name": None, "due_date": due,
                         "expected_change": 0.15, "outcome_metric": "bought_again", "window_days": window,
                         "evidence": evidence, "scores": '{"recency_days": 1}'})


def test_the_action_id_is_stable_and_differs_by_rule_and_target():
    assert actions.action_id("r", "C1") == actions.action_id("r", "C1")
    assert len({actions.action_id("r", "C1"), actions.action_id("r", "C2"), actions.action_id("q", "C1")}) == 3


def test_a_new_database_gets_the_latest_schema_and_an_old_one_is_migrated(tmp_path):
    old = ActionStore.__new__(ActionStore)  # a file at schema version 1, as the first release wrote it
    old.path, old.audit, old.user = tmp_path / "a.sqlite", None, "x"
    old.con = sqlite3.connect(old.path, isolation_level=None)
    old.con.row_factory = sqlite3.Row
    assert old.migrate(to=1) == 1
    old.con.execute("INSERT INTO actions (action_id, rule_id, kind, target_type, target, created, first_seen, "
                    "last_seen, due_date, status) VALUES ('A1', 'r', 'k', 'customer', 'C1', '2024-01-01', "
                    "'2024-01-01', '2024-01-01', '2024-01-15', 'open')")
    old.close()
    with ActionStore(tmp_path / "a.sqlite") as s:
        assert s.version() == actions.SCHEMA_VERSION == 2
        a = s.actions()
        assert a.loc[0, "cycle"] == 1 and a.loc[0, "target"] == "C1"  # kept, with the new column's default
    with ActionStore(tmp_path / "b.sqlite") as s:
        assert s.version() == 2 and s.actions().empty


def test_a_database_from_a_newer_saleslab_is_refused(tmp_path):
    with ActionStore(tmp_path / "a.sqlite") as s:
        s.con.execute("UPDATE schema_version SET version = 99")
    from saleslab.errors import SalesLabError

    with pytest.raises(SalesLabError, match="schema version 99; this SalesLab knows up to 2"):
        ActionStore(tmp_path / "a.sqlite")


def test_a_repeated_finding_updates_the_open_action_instead_of_duplicating_it(tmp_path):
    with ActionStore(tmp_path / "a.sqlite") as s:
        s.record_findings(_findings(["C1", "C2"], evidence='{"v": 1}'), "2024-03-31")
        s.record_findings(_findings(["C1"], evidence='{"v": 2}'), "2024-04-30")
        a = s.actions().set_index("target")
        assert len(a) == 2
        assert a.loc["C1", ["evidence", "last_seen", "created", "status"]].tolist() == ['{"v": 2}', "2024-04-30",
                                                                                        "2024-03-31", "open"]
        assert a.loc["C2", "last_seen"] == "2024-03-31"
        assert s.events().event.tolist() == ["created", "created", "seen_again"]


def test_a_closed_action_is_not_reopened_within_its_window_and_is_after_it(tmp_path):
    with ActionStore(tmp_path / "a.sqlite") as s:
        s.record_findings(_findings(["C1"]), "2024-03-31")
        aid = actions.action_id("r", "C1")
        assert s.set_status([aid], "done", user="S1", on="2024-04-05") == [aid]
        s.record_findings(_findings(["C1"]), "2024-04-30")  # window ends 2024-04-30: kept closed
        assert s.actions().loc[0, "status"] == "done"
        s.record_findings(_findings(["C1"]), "2024-05-01")
        cur, every = s.actions(), s.actions(history=True)
        assert cur.loc[0, ["status", "created", "cycle"]].tolist() == ["open", "2024-05-01", 2]
        assert len(every) == 2 and sorted(every.status) == ["done", "open"]


def test_a_status_change_is_all_or_nothing_and_audited(tmp_path):
    seen = []
    with ActionStore(tmp_path / "a.sqlite", audit=lambda action, **w: seen.append((action, w))) as s:
        s.record_findings(_findings(["C1", "C2"]), "2024-03-31", run_id="run1")
        assert seen.pop() == ("change", {"table": "actions", "rows": 2, "change": {
            "findings": {"created": 2, "updated": 0, "reopened": 0, "kept_closed": 0}, "as_of": "2024-03-31",
            "run_id": "run1"}})
        a1, a2 = (actions.action_id("r", t) for t in ("C1", "C2"))
        with pytest.raises(InvalidArgument, match="unknown action id\\(s\\): NOPE"):
            s.set_status([a1, "NOPE"], "done")
        assert set(s.actions().status) == {"open"} and not seen
        assert s.set_status([a1, a2], "dismissed", user="ceo", note="not worth it") == [a1, a2]
        assert seen == [("change", {"table": "actions", "rows": 2, "change": {
            "status": "dismissed", "action_ids": [a1, a2], "note": "not worth it"}})]
        assert s.set_status([a1], "dismissed") == []  # already dismissed: nothing to change

    def failing(action, **what):
        raise OSError("disk full")

    with ActionStore(tmp_path / "a.sqlite", audit=failing) as s:
        with pytest.raises(OSError):
            s.set_status([a1], "done")
        assert s.actions().set_index("action_id").loc[a1, "status"] == "dismissed"  # rolled back
    with pytest.raises(InvalidArgument, match="allowed: open, done, dismissed"):
        ActionStore(tmp_path / "a.sqlite").set_status([a1], "finished")


# ---- outcomes and the matched effect -----------------------------------------------------------------
def test_bought_again_counts_a_purchase_in_the_window_that_was_not_refunded(eng):
    o = actions.outcomes(eng, "customer", "bought_again", C, 30)
    assert dict(zip(o.target, o.outcome)) == {"C1": 1.0, "C2": 0.0, "C4": 1.0}


def test_revenue_and_volume_outcomes_are_the_facts_revenue_in_the_window(eng):
    r = actions.outcomes(eng, "customer", "revenue", C, 30)
    assert dict(zip(r.target, r.outcome)) == {"C1": 200.0, "C2": 0.0, "C4": 100.0}
    p = actions.outcomes(eng, "product", "revenue", C, 30)
    assert dict(zip(p.target, p.outcome)) == {"P1": 300.0, "P2": 0.0}
    v = actions.outcomes(eng, "product", "volume", C, 30)
    assert dict(zip(v.target, v.outcome)) == {"P1": 3.0, "P2": 0.0}
    ch = actions.outcomes(eng, "channel", "revenue", C, 30)
    assert dict(zip(ch.target, ch.outcome)) == {"direct": 200.0, "online": 100.0}


def test_collection_outcome_counts_payments_up_to_the_window_end(eng):
    c = actions.outcomes(eng, "customer", "collection", C, 30)
    assert dict(zip(c.target, c.outcome)) == {"C1": 0.6, "C2": 1.0}


def test_matched_effect_by_hand():
    est = actions.matched_effect([1, 1, 0], [[0.1], [0.5], [0.9]], [0, 1, 0, 0], [[0.1], [0.5], [0.9], [0.95]], k=1)
    # matches: 0.1 -> 0, 0.5 -> 1, 0.9 -> 0; differences 1, 0, 0
    assert est["effect"] == pytest.approx(1 / 3) and est["comparison_mean"] == pytest.approx(1 / 3)
    half = 4.302653 * np.sqrt(1 / 3) / np.sqrt(3)  # t(0.975, 2) x sd / sqrt(n)
    assert est["low"] == pytest.approx(1 / 3 - half, abs=1e-5) and est["high"] == pytest.approx(1 / 3 + half, abs=1e-5)
    assert est["controls"] == 3 and est["note"] == ""
    few = actions.matched_effect([1, 1], [[0.1], [0.2]], [0, 0, 0], [[0.1], [0.2], [0.3]])
    assert few["note"] == "note_few_targets" and np.isnan(few["effect"])


def test_the_review_measures_due_actions_and_says_too_early_and_not_done(eng, tmp_path):
    s = actions.Strategy.model_validate({"version": 1, "rules": [_rule(id="r").model_dump()]})
    with ActionStore(tmp_path / "a.sqlite") as st:
        f = _findings(["C1", "C2", "C3"]).assign(scores=[json.dumps({"recency_days": v}) for v in (90, 80, 70)])
        pop = pd.DataFrame({"target": ["C1", "C2", "C3", "C4", "C5", "C6"],
                            "scores": [json.dumps({"recency_days": v}) for v in (90, 80, 70, 10, 20, 30)],
                            "triggered": [True, True, True, False, False, False]})
        st.record_findings(f, C, populations={"r": pop})
        st.set_status([actions.action_id("r", t) for t in ("C1", "C2")], "done", on="2024-04-02")
        early, early_s = actions.review(eng, st, s, "2024-04-20")
        assert set(early.verdict) == {"verdict_too_early", "verdict_not_done"} and early_s.verdict[0] == "verdict_too_early"
        rev, summ = actions.review(eng, st, s, "2024-05-31", actions.Params(actions_min_group=2, actions_match_k=1))
    r = rev.set_index("target")
    assert r.outcome.to_dict() == {"C1": 1.0, "C2": 0.0, "C3": 0.0}
    assert r.loc["C3", "verdict"] == "verdict_not_done"
    # pool C4 (bought again: 1), C5, C6 (no order: 0); scores as ranks over the six targets:
    # C1 (rank 1.0) and C2 (5/6) are both nearest to C6 (3/6): comparison 0 → differences 1, 0
    assert r.loc["C1", "comparison_outcome"] == 0.0 and r.loc["C2", "comparison_outcome"] == 0.0
    row = summ.iloc[0]
    assert (row.actions_due, row.actions_done, row.acted_outcome, row.measured_effect) == (3, 2, 0.5, 0.5)
    assert row.verdict == "verdict_no_effect"  # two targets: the interval (t with 1 df) includes 0
    assert row.not_done_outcome == 0.0


# ---- the stage's text and charts ------------------------------------------------------------------
def test_evidence_and_expected_effect_read_in_both_languages():
    ev = '{"recency_days": 95, "monetary": 35000.0, "rfm_class": "rfm_important_value"}'
    zh, en = story.evidence_text(ev, "zh-CN"), story.evidence_text(ev, "en")
    assert "3.50 万元" in zh and "95" in zh and "CNY 35.0 K" in en
    assert story.expected_text(0.15, "bought_again", "zh-CN") == "回购率 +15.0 个百分点"
    assert story.expected_text(0.1, "revenue", "en") == "Revenue +10.0%"


def test_review_lines_state_rates_comparison_effect_and_interval():
    summ = pd.DataFrame([{"rule_id": "retention_callback", "kind": "action_retention_callback",
                          "created": "2025-06-30", "outcome_metric": "bought_again", "window_end": "2025-09-28",
                          "actions_due": 42, "actions_done": 30, "acted_outcome": 0.31, "comparison_outcome": 0.18,
                          "measured_effect": 0.13, "effect_low": 0.06, "effect_high": 0.20, "comparison_targets": 50,
                          "verdict": "verdict_worked", "review_note": "", "not_done_outcome": 0.2,
                          "done_vs_not_done": 0.11, "done_vs_not_done_low": -0.02, "done_vs_not_done_high": 0.24,
                          "expected_change": 0.15}])
    from saleslab.params import attach

    attach(summ, actions.Params())
    zh = story.review_lines(summ, "zh-CN")[0]["text"]
    assert "42 项挽留回访" in zh and "回购率 31.0% vs 对照组 18.0%" in zh and "+13.0 个百分点" in zh and "95 %: 6–20" in zh
    en = story.review_lines(summ, "en")[0]["text"]
    assert "42 Retention call-back actions" in en and "95%: 6 pp to 20 pp" in en and "Worked" in en
    fig = charts.effect_chart(summ, "en")
    ax = fig.axes[0]
    assert ax.get_title() == "Effect of the actions (vs similar targets without one, interval)"
    assert ax.lines[0].get_xdata()[0] == pytest.approx(13.0)  # percentage points


# ---- the closed loop on the demo ---------------------------------------------------------------------
def _segments(eng, as_of, run_dir: Path) -> None:
    """What stage 06 saves as customer_segments, the parts the retention rule reads (RFM and type)."""
    from saleslab.customers import segments

    scored = segments.rfm(eng, as_of)
    firmo = segments.firmographics(eng, scored["customer_id"])
    seg = scored.merge(firmo[["customer_id", "customer_type"]], on="customer_id", how="left")
    d = run_dir / "data" / "06_customers"
    d.mkdir(parents=True, exist_ok=True)
    seg.to_parquet(d / "customer_segments.parquet", index=False)


@pytest.fixture(scope="module")
def loop(demo_dir, demo_warehouse, tmp_path_factory, open_engine):
    """Two monthly runs sharing one reports folder and actions database: 2025-06-30, then the
    reps' call-backs are marked done (truth/retention_callbacks.csv), then 2025-12-31."""
    from saleslab.pipeline import execute_stage

    reports = tmp_path_factory.mktemp("reports")
    e = open_engine(demo_warehouse, "duckdb", reports)
    runs = {}
    for name, as_of in (("run1", "2025-06-30"), ("run2", "2025-12-31")):
        run_dir = reports / name
        _segments(e, as_of, run_dir)
        execute_stage("13_actions", {"run_dir": str(run_dir), "warehouse": str(demo_warehouse), "language": "zh-CN",
                                     "period_start": "2023-01-01", "period_end": as_of, "as_of": as_of,
                                     "duckdb_memory_limit": "1GB", "duckdb_temp_directory": str(reports / "duck")},
                      run_dir)
        runs[name] = run_dir
        if name == "run1":
            calls = pd.read_csv(demo_dir / "truth" / "retention_callbacks.csv", dtype=str)
            called = calls[calls.called == "True"].customer_id
            m = e.execute(e.table("customer_map"))
            canon = set(m[m.customer_id.isin(called)].canonical_id) | set(called)
            with ActionStore(reports / "actions.sqlite") as s:
                a = s.actions()
                done = a[(a.rule_id == "retention_callback") & a.target.isin(canon)].action_id
                s.set_status(list(done), "done", user="reps", on="2025-07-20")
    e.close()
    return reports, runs


def _table(run_dir, name):
    return pd.read_parquet(run_dir / "data" / "13_actions" / f"{name}.parquet")


def test_the_first_run_creates_owned_actions_and_the_second_reviews_every_due_one(loop):
    reports, runs = loop
    first = _table(runs["run1"], "actions")
    ret = first[first.rule_id == "retention_callback"]
    assert len(ret) >= 20 and (ret.due_date == "2025-07-14").all()
    assert ret.owner_type.eq("owner_rep").mean() > 0.9  # a company whose master row lost its rep: customer service
    assert set(ret.owner[ret.owner_type == "owner_role"]) <= {"role_customer_service"}
    assert ret.action_id.is_unique and ret.evidence.str.contains("万元").all()
    second = _table(runs["run2"], "actions")
    assert second.action_id.is_unique  # the second run's findings updated the open ones, no duplicate
    review = _table(runs["run2"], "action_review")
    due = set(ret.action_id)
    assert due <= set(review.action_id)
    assert set(review[review.action_id.isin(due)].verdict) <= {"verdict_worked", "verdict_no_effect",
                                                               "verdict_not_done"}
    lines = json.loads((runs["run2"] / "data" / "13_actions" / "summary.json").read_text(encoding="utf-8"))
    assert lines[0]["key"].startswith("review_retention_callback_2025-06-30") and "挽留回访" in lines[0]["text"]


def test_the_review_finds_the_planted_call_back_effect_inside_its_interval(loop, demo_dir):
    reports, runs = loop
    planted = json.loads((demo_dir / "truth" / "planted.json").read_text(encoding="utf-8"))["retention_programme"]
    s = _table(runs["run2"], "action_review_summary").set_index(["rule_id", "created"]).loc[
        ("retention_callback", "2025-06-30")]
    effect = planted["effect_on_called"]
    # done (called back) vs not done (eligible, not called): the programme's randomisation
    assert s.done_vs_not_done_low <= effect <= s.done_vs_not_done_high, (effect, s.to_dict())
    assert s.done_vs_not_done_low > 0
    # vs matched companies that got no action at all
    assert s.effect_low <= effect <= s.effect_high and s.verdict == "verdict_worked", (effect, s.to_dict())


# ---- the command line ------------------------------------------------------------------------------
def test_actions_cli_lists_and_marks_done_audited_and_a_rep_may_change_only_their_own(tmp_path, capsys):
    import yaml

    from saleslab import cli

    (tmp_path / "in").mkdir()
    policy = tmp_path / "access.yaml"
    policy.write_text(yaml.safe_dump({
        "service_user": "svc", "pii_key_file": "keys/pii.key",
        "audit": {"log": "audit/audit.jsonl", "anchor": "anchor/anchor.json", "key_file": "keys/audit.key",
                  "retention_days": 365},
        "roles": {"service": {"scope": "all", "export": False, "pii": False},
                  "rep": {"scope": "own", "export": True, "pii": False}},
        "users": {"svc": {"role": "service"}, "S1": {"role": "rep", "rep_id": "S1"}}}), encoding="utf-8")
    run = tmp_path / "run.yaml"
    run.write_text(yaml.safe_dump({
        "name": "t", "input_dir": str(tmp_path / "in"), "warehouse_dir": str(tmp_path / "wh"),
        "period": {"start": "2024-01-01", "end": "2024-03-31"}, "ingest": False, "stages": ["13_actions"],
        "reports_dir": str(tmp_path / "reports"), "access_policy": str(policy),
        "actions": {"strategy": str(PROJECT_ROOT / "parameters" / "strategy.yaml")},
        "sources_dir": str(PROJECT_ROOT / "parameters" / "sources")}), encoding="utf-8")
    assert cli.main(["actions", "list", "--params", str(run)]) == 1  # no database yet: one line, no traceback
    assert "does not exist yet" in capsys.readouterr().err
    with ActionStore(tmp_path / "reports" / "actions.sqlite") as s:
        f = _findings(["C1", "C2"])
        f.loc[1, "owner"] = "S2"
        s.record_findings(f, "2024-03-31")
    a1, a2 = (actions.action_id("r", t) for t in ("C1", "C2"))
    assert cli.main(["actions", "list", "--params", str(run), "--json"]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert {r["action_id"] for r in listed} == {a1, a2}
    assert cli.main(["actions", "done", a2, "--params", str(run), "--user", "S1"]) == 8  # not S1's: access denied
    assert "may change only actions in their scope" in capsys.readouterr().err
    assert cli.main(["actions", "done", a1, "--params", str(run), "--user", "S1", "--note", "called"]) == 0
    assert cli.main(["actions", "dismiss", a2, "--params", str(run)]) == 0
    with ActionStore(tmp_path / "reports" / "actions.sqlite") as s:
        st = s.actions().set_index("action_id")
        assert st.loc[a1, ["status", "status_by", "note"]].tolist() == ["done", "S1", "called"]
        assert st.loc[a2, ["status", "status_by"]].tolist() == ["dismissed", "svc"]
    log = [json.loads(x) for x in (tmp_path / "audit" / "audit.jsonl").read_text(encoding="utf-8").splitlines()]
    changes = [e for e in log if e.get("action") == "change" and e.get("table") == "actions"]
    assert [(e["user"], e["change"]["status"]) for e in changes] == [("S1", "done"), ("svc", "dismissed")]
    assert any(e.get("action") == "deny" and e.get("user") == "S1" for e in log)


def test_a_review_that_needs_a_missing_table_says_which(tmp_path):
    from saleslab.engine import connect
    from saleslab.errors import MissingSource

    wh = handmade.build_warehouse(tmp_path, {"orders.csv": FILES["orders.csv"], "products.csv": FILES["products.csv"]},
                                  {"orders.yaml": MAPS["orders.yaml"], "products.yaml": MAPS["products.yaml"]})
    s = actions.Strategy.model_validate({"version": 1, "rules": [
        _rule(id="r", outcome={"metric": "collection", "window_days": 30}).model_dump()]})
    with connect(wh, "duckdb", {"memory_limit": "1GB", "temp_directory": str(tmp_path / "duck")}) as e, \
            ActionStore(tmp_path / "a.sqlite") as st:
        st.record_findings(_findings(["C1"]).assign(outcome_metric="collection"), C)
        st.set_status([actions.action_id("r", "C1")], "done", on="2024-04-01")
        rules = pd.DataFrame({"rule_id": ["r"], "kind": ["action_retention_callback"], "triggered": [np.nan],
                              "rule_status": ["rule_trigger_missing"], "rule_detail": ["06_customers/t"],
                              **{c: [np.nan] for c in ("actions_new", "actions_updated", "actions_reopened")}})
        res = actions.stage_tables(e, st, s, rules, "2024-06-30")
        assert len(res.get("actions")) == 1 and res.heads["actions_open"] == 0
        with pytest.raises(MissingSource) as err:
            res.get("summary")
        assert err.value.tables == ("invoices", "payments")
        lines = story.summary_lines(rules, res.actions, res.heads, res.summary, "en")
        assert [x["key"] for x in lines] == ["review", "actions", "actions_missing"]
        assert "Retention call-back (06_customers/t)" in lines[2]["text"]


def test_the_rules_chart_shows_each_rule_with_its_new_updated_reopened_and_closed_actions():
    rules = pd.DataFrame({"kind": ["action_retention_callback", "action_star_exposure"], "actions_new": [5.0, np.nan],
                          "actions_updated": [2.0, np.nan], "actions_reopened": [3.0, np.nan],
                          "actions_kept_closed": [1.0, np.nan]})
    fig = charts.rules_chart(rules, "zh-CN")
    ax = fig.axes[0]
    assert [x.get_text() for x in ax.get_yticklabels()] == ["挽留回访", "明星产品加大曝光"]
    widths = [p.get_width() for p in ax.patches]
    assert widths == [5.0, 0.0, 2.0, 0.0, 3.0, 0.0, 1.0, 0.0]
    assert ax.get_title() == "各规则的行动"


def test_the_run_file_names_the_database_and_strategy_and_a_bad_strategy_fails_the_run_file(tmp_path):
    import yaml

    from saleslab.config import load_params

    (tmp_path / "in").mkdir()
    doc = {"name": "t", "input_dir": str(tmp_path / "in"), "warehouse_dir": str(tmp_path / "wh"),
           "period": {"start": "2024-01-01", "end": "2024-03-31"}, "reports_dir": str(tmp_path / "reports"),
           "sources_dir": str(PROJECT_ROOT / "parameters" / "sources")}
    run = tmp_path / "run.yaml"
    run.write_text(yaml.safe_dump(doc), encoding="utf-8")
    p = load_params(run)
    injected = p.notebook_parameters(tmp_path / "reports" / "r1", "13_actions")
    assert injected["actions_database"] == str(tmp_path / "reports" / "actions.sqlite")  # shared by the folder's runs
    assert injected["actions_strategy_file"] == str(PROJECT_ROOT / "parameters" / "strategy.yaml")
    assert "actions_database" not in p.notebook_parameters(tmp_path / "reports" / "r1", "12_risk")
    bad = tmp_path / "strategy.yaml"
    bad.write_text("version: 1\nrules: []\n", encoding="utf-8")
    run.write_text(yaml.safe_dump(doc | {"actions": {"strategy": str(bad), "database": str(tmp_path / "a.db")}}),
                   encoding="utf-8")
    with pytest.raises(ParameterError, match="key 'rules': List should have at least 1 item"):
        load_params(run)
    run.write_text(yaml.safe_dump(doc | {"actions": {"store": "x"}}), encoding="utf-8")
    with pytest.raises(ParameterError, match="unknown key 'actions.store'.*allowed keys: database, strategy"):
        load_params(run)
