"""The churn warning's generated text: readable churn reasons and the findings of the 07 stage,
from templates in :mod:`saleslab.churn.labels` (no sentence is written once per language); the
thresholds are those the tables were computed with (:func:`saleslab.params.used`)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..parts import value_of
from ..params import used
from ..report.format import wan
from ..report.i18n import has, say, t

_DAYS = {"recency_days", "tenure_days"}
_TRENDS = {"frequency_trend", "spend_trend", "followups_trend"}


def reason_text(feature: str, value, average, lang: str) -> str:
    """One reason, e.g. ``距上次购买天数 239（平均 95）`` / ``Days since last purchase 239 (avg 95)``."""
    label = t(f"reason_{feature}", lang)
    if feature == "main_channel":
        v = t(value, lang) if isinstance(value, str) and has(value) else str(value)
        return say("reason_with_value", lang, label=label, value=v)
    if feature in _TRENDS:
        val, avg = f"{value:+.0%}", f"{average:+.0%}"
    elif feature == "spend_12m":
        val, avg = f"{value:,.0f}", f"{average:,.0f}"
    else:
        val, avg = f"{value:,.0f}", f"{average:,.1f}" if feature not in _DAYS else f"{average:,.0f}"
    return say("reason_with_average", lang, label=label, value=val, average_label=t("reason_average", lang),
               average=avg)


def with_reason_texts(df: pd.DataFrame, features: pd.DataFrame, lang: str) -> pd.DataFrame:
    """``df`` (customer_id, reason_1..3) with a ``top_reasons`` column: the reasons as text with
    the customer's value and the average over ``features`` (:func:`saleslab.churn.features`).
    Keeps ``df``'s recorded parameters."""
    f = features.set_index("customer_id")
    means = f.select_dtypes("number").mean()
    sep = t("reason_separator", lang)
    texts = []
    for cid, reasons in zip(df["customer_id"], df[["reason_1", "reason_2", "reason_3"]].itertuples(index=False)):
        named = [r for r in reasons if isinstance(r, str)]
        row = f.loc[cid] if named else None
        parts = [reason_text(r, row[r], means.get(r, np.nan), lang) for r in named]
        texts.append(sep.join(parts))
    out = df.copy()
    out["top_reasons"] = texts
    return out


def churn_narrative(evaluation, calls, lang: str) -> str:
    """Two findings: the churn model against the recency baseline on the held-out cut-off
    (:func:`saleslab.churn.backtest`: the backtest or its ``evaluation`` table) and the call list
    (:func:`~saleslab.churn.call_list`) with the risk threshold, value basis and share it was made with.

    Either may be a :class:`~saleslab.clv.Part`: one that could not be computed gives no finding
    (its section says why); with neither, one sentence says so."""
    evaluation, calls = value_of(evaluation), value_of(calls)
    evaluation = getattr(evaluation, "evaluation", evaluation)  # a ChurnBacktest: its evaluation table
    lines = []
    if evaluation is not None:
        ev = evaluation.set_index("scorer")
        m_auc, r_auc = float(ev.loc["churn_model", "auc"]), float(ev.loc["recency_score", "auc"])
        key = "story_churn_model_better" if m_auc > r_auc else "story_churn_model_not_better"
        lines.append(say(key, lang, auc=f"{m_auc:.3f}", recency_auc=f"{r_auc:.3f}",
                         top_decile=f"{float(ev.loc['churn_model', 'top_decile_precision']):.1%}",
                         base_rate=f"{float(ev.loc['churn_model', 'base_rate']):.1%}"))
    if calls is not None:
        rules = dict(risk_min=f"{used(calls, 'churn_risk_min'):g}", share=f"{used(calls, 'churn_value_share'):.0%}",
                     basis=t(f"churn_basis_{used(calls, 'churn_value_basis')}", lang))
        if len(calls):
            lines.append(say("story_churn_calls", lang, customers=f"{len(calls):,}",
                             loss=wan(float(calls["expected_loss"].sum())), unit=t("wan_yuan", lang), **rules))
        else:
            lines.append(say("story_churn_no_calls", lang, **rules))
    if not lines:
        return say("story_churn_none", lang)
    return "\n".join(f"{i}. {line}" for i, line in enumerate(lines, 1))
