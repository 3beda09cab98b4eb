"""The customer value findings of the 07 stage, from templates in :mod:`saleslab.clv.labels`
(``story_clv_*``); the horizon and hold-out months are those the tables were computed with.
The churn findings are in :mod:`saleslab.churn.story`."""

from __future__ import annotations

import pandas as pd

from ..params import used
from ..report.format import money
from ..report.i18n import say, t
from .models import clv_totals
from ..parts import value_of


def _pct(v) -> str:
    return "–" if v is None or v != v else f"{v:+.1%}"


def clv_narrative(values, holdout_errors, ltv, lang: str) -> str:
    """Up to three findings, the main one first: value ahead and its concentration
    (:func:`saleslab.clv.customer_value`), the best and worst LTV/CAC channel
    (:func:`~saleslab.clv.ltv_cac`) and the purchase model's hold-out error against the naive
    baseline (:func:`~saleslab.clv.holdout_errors_table`).

    Each table may be a :class:`~saleslab.clv.Part`: a part that could not be computed gives no
    finding (its section says why); with none, one sentence says so."""
    values, holdout_errors, ltv = value_of(values), value_of(holdout_errors), value_of(ltv)
    if values is not None and values.empty:
        return say("story_clv_empty", lang)
    findings = []
    if values is not None:
        totals = clv_totals(values)
        findings.append(say("story_clv_total", lang, months=used(values, "clv_horizon_months"),
                            total=money(totals["total_clv"], lang),
                            top20=f"{totals['top20_share'] or 0.0:.1%}"))
    ranked = ltv[ltv["ltv_cac"].notna()] if ltv is not None else pd.DataFrame()
    if len(ranked):
        best, worst = ranked.iloc[0], ranked.iloc[-1]
        findings.append(say("story_clv_ltv_cac", lang, best=t(best["channel"], lang), best_ratio=f"{best['ltv_cac']:.2f}",
                            worst=t(worst["channel"], lang), worst_ratio=f"{worst['ltv_cac']:.2f}"))
    if holdout_errors is not None:
        err = holdout_errors.set_index("scorer")["total_relative_error"]
        model_error = err.get("bg_nbd")
        if model_error is not None and model_error == model_error:  # no error without hold-out purchases
            findings.append(say("story_clv_holdout", lang, months=used(holdout_errors, "clv_holdout_months"),
                                error=_pct(model_error), naive_error=_pct(err.get("naive_rate"))))
    if not findings:
        return say("story_clv_none", lang)
    return "\n".join(f"{i}. {f}" for i, f in enumerate(findings, 1))
