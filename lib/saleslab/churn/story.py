"""The churn warning's generated text: readable churn reasons and the findings of the 07 stage,
from templates in :mod:`saleslab.churn.labels` (no sentence is written once per language); the
thresholds are those the tables were computed with (:func:`saleslab.params.used`)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..parts import value_of
from ..params import used
from ..report.format import money
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
    reasons = df[["reason_1", "reason_2", "reason_3"]]
    # column lookups and one text per (reason, value): a row lookup per customer took minutes at scale
    pos = f.index.get_indexer(df["customer_id"])
    named = sorted({r for c in reasons.columns for r in reasons[c] if isinstance(r, str)})
    values = {r: f[r].to_numpy(dtype=object)[pos] for r in named}
    done: dict = {}
    texts = []
    for i, row in enumerate(reasons.itertuples(index=False)):
        parts = []
        for r in row:
            if not isinstance(r, str):
                continue
            if pos[i] < 0:
                raise KeyError(df["customer_id"].iloc[i])  # a customer the features do not hold
            v = values[r][i]
            key = (r, v)
            if key not in done:
                done[key] = reason_text(r, v, means.get(r, np.nan), lang)
            parts.append(done[key])
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
                             loss=money(float(calls["expected_loss"].sum()), lang), **rules))
        else:
            lines.append(say("story_churn_no_calls", lang, **rules))
    if not lines:
        return say("story_churn_none", lang)
    return "\n".join(f"{i}. {line}" for i, line in enumerate(lines, 1))


def summary_finding(scores: pd.DataFrame, calls: pd.DataFrame, lang: str) -> dict:
    """The churn warning in one sentence for the executive summary: customers at or above
    ``churn_risk_min`` (as :func:`saleslab.churn.risk_totals` counts them), the call list's size and
    its expected loss (Σ expected_loss, 元): ``{"text", "value"}``."""
    risk_min = used(scores, "churn_risk_min")
    n = int((scores["churn_probability"] >= risk_min).sum())
    loss = float(calls["expected_loss"].sum()) if "expected_loss" in calls.columns else 0.0
    return {"text": say("story_churn_summary_risk", lang, n=f"{n:,}", risk_min=f"{risk_min:.0%}", calls=len(calls),
                        loss=money(loss, lang)),
            "value": round(loss, 2)}
