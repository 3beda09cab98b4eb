"""Generated narratives of the lifecycle / customer 360° pages: the customer base by stage and its
movements, retention and churn, the strongest cross-sell rule, and one customer's summary.

Each finding is one template in :mod:`saleslab.lifecycle.labels` (``story_lifecycle_*``), in both
languages; thresholds are those the tables were computed with (:func:`saleslab.params.used`).
"""

from __future__ import annotations

import pandas as pd

from ..params import used
from ..report.format import money
from ..report.i18n import has, say, t


def _pct(v) -> str:
    return "–" if v is None or v != v else f"{v:.1%}"


def lifecycle_narrative(counts: pd.DataFrame, movements: pd.DataFrame, basis: str, rates: dict,
                        curve: pd.DataFrame, lang: str) -> str:
    """Four findings: buying customers by stage; movements since the previous run (or one month
    earlier when there is none — said so); repurchase and monthly churn rate; retention after 1
    and 12 months. Inputs: :func:`saleslab.lifecycle.stage_counts` (its churn threshold is the
    ``lifecycle_churned_days`` it was computed with), :func:`~saleslab.lifecycle.stage_movements`
    with its basis, :func:`~saleslab.lifecycle.rates_summary`, :func:`~saleslab.lifecycle.retention_curve`.
    When ``counts`` records that no prospect could be known (``attrs["prospects_known"]`` False: no
    customer master, no leads) the first finding does not count prospects."""
    c = counts.set_index("stage")["customers"]
    buying = int(c.drop("stage_prospect").sum())
    mv = movements[movements["moved"]]
    to_risk = int(mv.loc[mv["to_stage"] == "stage_at_risk", "customers"].sum())
    to_churn = int(mv.loc[mv["to_stage"] == "stage_churned", "customers"].sum())
    back = int(mv.loc[mv["from_stage"].isin(["stage_at_risk", "stage_churned"])
                      & mv["to_stage"].isin(["stage_new", "stage_mature"]), "customers"].sum())
    r = curve.set_index("months_since")["retention_rate"]
    since = "story_lifecycle_since_previous_run" if basis == "previous_run" else "story_lifecycle_since_month_earlier"
    stages_key = "story_lifecycle_stages" if counts.attrs.get("prospects_known", True) else "story_lifecycle_stages_buyers"
    lines = [
        say(stages_key, lang, buying=f"{buying:,}", new=f"{c['stage_new']:,}",
            mature=f"{c['stage_mature']:,}", at_risk=f"{c['stage_at_risk']:,}", churned=f"{c['stage_churned']:,}",
            prospects=f"{c['stage_prospect']:,}", churned_days=used(counts, "lifecycle_churned_days")),
        say("story_lifecycle_movements", lang, since=t(since, lang), to_risk=f"{to_risk:,}", to_churn=f"{to_churn:,}",
            back=f"{back:,}"),
        say("story_lifecycle_rates", lang, months=rates.get("months", 12), repurchase=_pct(rates.get("repurchase_rate")),
            churn=_pct(rates.get("monthly_churn_rate"))),
        say("story_lifecycle_retention", lang, m1=_pct(r.get(1)), m12=_pct(r.get(12))),
    ]
    return "\n".join(f"{i}. {line}" for i, line in enumerate(lines, 1))


def _label(key, lang: str) -> str:
    if not isinstance(key, str):
        return "–"
    return t(key, lang) if has(key) else key


def customer_narrative(card: pd.DataFrame, lang: str) -> str:
    """A short paragraph on one customer (:func:`saleslab.customer360.customer_card`): stage and
    why, orders and revenue in the period, segment, value, risk and the next action."""
    c = card.iloc[0]
    name = c["customer_name"]
    who = (say("story_lifecycle_customer_who", lang, name=name, customer_id=c["customer_id"])
           if isinstance(name, str) else str(c["customer_id"]))
    clv = "–" if c["clv"] is None or c["clv"] != c["clv"] else money(float(c['clv']), lang)
    days = c["days_since_last_order"]
    since = say("story_lifecycle_customer_days", lang, days=int(days)) if days is not None and days == days else ""
    return say("story_lifecycle_customer", lang, who=who, stage=_label(c["stage"], lang),
               reason=_label(c["stage_reason"], lang), since=since, orders=f"{int(c['orders']):,}",
               revenue=money(float(c["revenue"]), lang), rfm_class=_label(c["rfm_class"], lang),
               tier=_label(c["customer_tier"], lang), clv=clv, churn=_pct(c["churn_probability"]),
               action=_label(c["next_action"], lang), action_reason=_label(c["next_action_reason"], lang))
