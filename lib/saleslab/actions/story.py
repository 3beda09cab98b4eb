"""The actions stage's text: evidence and expected effects in words, the findings of the run, and
the review's summary lines (also written to ``summary.json`` for the executive summary), from the
templates in :mod:`saleslab.actions.labels`."""

from __future__ import annotations

import json

import pandas as pd

from ..params import used
from ..report.format import count, money, number, percent, pp
from ..report.i18n import has, join, say, t  # noqa: F401 (say is used by the loop too)

#: evidence columns shown as money (元) and as shares
MONEY = {"spend_12m", "clv", "monetary", "revenue", "outstanding", "at_stake", "avg_inventory_value", "invoiced",
         "collected", "risk_value", "expected_loss", "current_value", "potential_value"}
SHARE = {"collection_rate", "churn_probability", "gross_margin", "revenue_growth", "market_share", "conversion_rate",
         "alert_value"}
RATE_METRICS = {"bought_again", "collection"}


def _value(col: str, v, lang: str) -> str:
    if v is None:
        return "–"
    if isinstance(v, str):
        return t(v, lang) if has(v) else v
    if isinstance(v, bool):
        return t("yes", lang) if has("yes") and v else str(v)
    if col in MONEY:
        return money(v, lang)
    if col in SHARE:
        return percent(v)
    return number(v) if isinstance(v, float) and v != int(v) else count(int(v))


def evidence_text(evidence: str, lang: str) -> str:
    """The figures that triggered an action (its ``evidence`` JSON) as text, e.g.
    ``距上次购买天数 95；近12个月消费 3.50 万元``."""
    d = json.loads(evidence) if isinstance(evidence, str) and evidence else {}
    sep = "；" if lang == "zh-CN" else "; "
    return sep.join(f"{t(k, lang) if has(k) else k} {_value(k, v, lang)}" for k, v in d.items())


def expected_text(change, metric: str, lang: str) -> str:
    """The expected effect: ``回购率 +15.0 个百分点`` (rates) or ``销售额 +10.0%`` (amounts)."""
    if change is None or change != change:
        return "–"
    return f"{t(metric, lang)} {pp(change, lang) if metric in RATE_METRICS else percent(change, signed=True)}"


def with_text(actions: pd.DataFrame, lang: str) -> pd.DataFrame:
    """``actions`` (:func:`saleslab.actions.actions_table`) with ``evidence`` and ``expected_effect``
    as text in ``lang``; the evidence JSON is kept as ``evidence_data``. Keeps recorded parameters."""
    out = actions.copy()
    out["evidence_data"] = out["evidence"]
    out["evidence"] = [evidence_text(e, lang) for e in out["evidence_data"]]
    out.insert(out.columns.get_loc("expected_change") + 1, "expected_effect",
               [expected_text(c, m, lang) for c, m in zip(out["expected_change"], out["outcome_metric"])])
    out.attrs = dict(actions.attrs)
    return out


def _outcome(v, metric: str, lang: str) -> str:
    if v is None or v != v:
        return "–"
    return percent(v) if metric in RATE_METRICS else money(v, lang)


def _diff(v, metric: str, lang: str) -> str:
    if v is None or v != v:
        return "–"
    if metric in RATE_METRICS:
        return pp(v, lang)
    m = money(abs(v), lang)
    return ("+" if v >= 0 else "−") + m


def _range(v, metric: str, lang: str) -> str:
    if v is None or v != v:
        return "–"
    if metric in RATE_METRICS:
        return f"{v * 100:.0f}" if lang == "zh-CN" else f"{v * 100:.0f} pp"
    return ("" if v >= 0 else "−") + money(abs(v), lang)


def review_lines(summary: pd.DataFrame, lang: str) -> list[dict]:
    """One summary line per reviewed rule and creation date (worked first, as the summary is
    ordered): ``{"key", "text"}``, key = ``review_<rule_id>_<created>``."""
    if summary is None or summary.empty:
        return []
    level = f"{used(summary, 'actions_confidence'):.0%}".replace("%", " %") if lang == "zh-CN" else \
        f"{used(summary, 'actions_confidence'):.0%}"
    out = []
    for r in summary.itertuples():
        base = dict(created=r.created, n=int(r.actions_due), kind=t(r.kind, lang), done=int(r.actions_done),
                    verdict=t(r.verdict, lang))
        if r.verdict in ("verdict_worked", "verdict_no_effect") and r.measured_effect == r.measured_effect:
            key = "story_actions_review_rate" if r.outcome_metric in RATE_METRICS else "story_actions_review_amount"
            text = say(key, lang, **base, metric=t(r.outcome_metric, lang),
                       acted=_outcome(r.acted_outcome, r.outcome_metric, lang),
                       comparison=_outcome(r.comparison_outcome, r.outcome_metric, lang),
                       effect=_diff(r.measured_effect, r.outcome_metric, lang), level=level,
                       low=_range(r.effect_low, r.outcome_metric, lang), high=_range(r.effect_high, r.outcome_metric, lang))
            if r.done_vs_not_done == r.done_vs_not_done:
                text += " " + say("story_actions_review_dvn", lang, effect=_diff(r.done_vs_not_done, r.outcome_metric, lang),
                                  level=level, low=_range(r.done_vs_not_done_low, r.outcome_metric, lang),
                                  high=_range(r.done_vs_not_done_high, r.outcome_metric, lang))
        else:
            text = say("story_actions_review_plain", lang, **base)
        out.append({"key": f"review_{r.rule_id}_{r.created}", "text": text})
    return out


def actions_lines(rules: pd.DataFrame, actions: pd.DataFrame, heads: dict, lang: str) -> list[dict]:
    """The run's action lines: counts (key ``actions``), rules without trigger data
    (``actions_missing``), the owners with most open actions (``actions_owners``)."""
    found = int(rules["triggered"].fillna(0).sum())
    out = []
    if found == 0 and heads["actions_open"] == 0:
        out.append({"key": "actions", "text": say("story_actions_none", lang)})
    else:
        out.append({"key": "actions", "text": say(
            "story_actions_new", lang, found=found, new=heads["actions_new"],
            updated=int(rules["actions_updated"].fillna(0).sum()),
            reopened=int(rules["actions_reopened"].fillna(0).sum()), open=heads["actions_open"],
            overdue=heads["actions_overdue"])})
    missing = rules[rules["rule_status"] != "rule_evaluated"]
    if len(missing):
        out.append({"key": "actions_missing", "text": say("story_actions_missing", lang, rules=join(
            [f"{t(k, lang)} ({d})" for k, d in zip(missing["kind"], missing["rule_detail"])], lang))})
    o = actions[actions["action_status"].isin(["status_open", "status_overdue"])]
    if len(o):
        top = o.groupby("owner").size().sort_values(ascending=False, kind="stable").head(3)
        names = [f"{t(k, lang) if has(k) else k} {n}" for k, n in top.items()]
        out.append({"key": "actions_owners", "text": say("story_actions_owner", lang, owners=join(names, lang))})
    return out


def summary_lines(rules, actions, heads, summary, lang: str) -> list[dict]:
    """What ``data/13_actions/summary.json`` holds: the review lines (what worked first), then the
    run's action lines; without a review, a line saying so."""
    review = review_lines(summary, lang)
    if not review:
        review = [{"key": "review", "text": say("story_actions_no_review", lang)}]
    return review + actions_lines(rules, actions, heads, lang)


def markdown(lines: list[dict]) -> str:
    return "\n\n".join(f"- {x['text']}" for x in lines)
