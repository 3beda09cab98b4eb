"""The customer value and churn stage's generated text: readable churn reasons and the findings."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..report.i18n import has, t
from ..report.format import wan

_DAYS = {"recency_days", "tenure_days"}
_TRENDS = {"frequency_trend", "spend_trend", "followups_trend"}


def reason_text(feature: str, value, average, lang: str) -> str:
    """One reason, e.g. ``距上次购买天数 239（平均 95）`` / ``Days since last purchase 239 (avg 95)``."""
    label = t(f"reason_{feature}", lang)
    if feature == "main_channel":
        v = t(value, lang) if isinstance(value, str) and has(value) else str(value)
        return f"{label}: {v}"
    if feature in _TRENDS:
        val, avg = f"{value:+.0%}", f"{average:+.0%}"
    elif feature == "spend_12m":
        val, avg = f"{value:,.0f}", f"{average:,.0f}"
    else:
        val, avg = f"{value:,.0f}", f"{average:,.1f}" if feature not in _DAYS else f"{average:,.0f}"
    avg_label = t("reason_average", lang)
    return f"{label} {val}（{avg_label} {avg}）" if lang == "zh-CN" else f"{label} {val} ({avg_label} {avg})"


def with_reason_texts(df: pd.DataFrame, features: pd.DataFrame, lang: str) -> pd.DataFrame:
    """``df`` (customer_id, reason_1..3) with a ``top_reasons`` column: the reasons as text with
    the customer's value and the average over ``features`` (:func:`saleslab.churn.features`)."""
    f = features.set_index("customer_id")
    means = f.select_dtypes("number").mean()
    sep = "；" if lang == "zh-CN" else "; "
    texts = []
    for cid, reasons in zip(df["customer_id"], df[["reason_1", "reason_2", "reason_3"]].itertuples(index=False)):
        named = [r for r in reasons if isinstance(r, str)]
        row = f.loc[cid] if named else None
        parts = [reason_text(r, row[r], means.get(r, np.nan), lang) for r in named]
        texts.append(sep.join(parts))
    out = df.copy()
    out["top_reasons"] = texts
    return out


def clv_churn_narrative(clv_totals: dict, holdout_errors: dict, ltv: pd.DataFrame, evaluation: pd.DataFrame,
                        calls: pd.DataFrame, lang: str, horizon_months: int = 12) -> str:
    """Four findings, the main ones first: value ahead and its concentration, churn model vs the
    recency baseline, the call list, LTV/CAC and the hold-out error of the purchase model."""
    zh = lang == "zh-CN"
    unit = t("wan_yuan", lang)
    ev = evaluation.set_index("scorer")
    m_auc, r_auc = float(ev.loc["churn_model", "auc"]), float(ev.loc["recency_score", "auc"])
    m_top = float(ev.loc["churn_model", "top_decile_precision"])
    base = float(ev.loc["churn_model", "base_rate"])
    top20 = clv_totals.get("top20_share") or 0.0
    ranked = ltv[ltv["ltv_cac"].notna()]
    best = ranked.iloc[0] if len(ranked) else None
    worst = ranked.iloc[-1] if len(ranked) else None
    err = holdout_errors.get("total_relative_error")
    loss = float(calls["expected_loss"].sum()) if len(calls) else 0.0
    lines = []
    if zh:
        lines.append(f"1. 未来 {horizon_months} 个月客户终身价值(毛利、折现)合计 **{wan(clv_totals['total_clv'])} {unit}**，"
                     f"价值最高的 20% 客户占 **{top20:.0%}**。")
        better = "优于" if m_auc > r_auc else "未优于"
        lines.append(f"2. 流失模型在留出时点的 AUC 为 **{m_auc:.3f}**，{better}“最近购买天数”基准({r_auc:.3f})；"
                     f"风险最高的 10% 客户中实际流失 {m_top:.0%}(整体 {base:.0%})。")
        lines.append(f"3. 待回访名单: **{len(calls)}** 位高价值高风险客户，预期损失合计 {wan(loss)} {unit}。")
        if best is not None:
            lines.append(f"4. LTV/CAC 最高的获客渠道是 **{t(best['channel'], lang)}**({best['ltv_cac']:.2f})，"
                         f"最低的是 **{t(worst['channel'], lang)}**({worst['ltv_cac']:.2f})"
                         + (f"；购买次数模型留出期合计误差 {err:+.1%}。" if err is not None else "。"))
    else:
        lines.append(f"1. Customer lifetime value over the next {horizon_months} months (margin, discounted) totals "
                     f"**{wan(clv_totals['total_clv'])} {unit}**; the top 20 % of customers hold **{top20:.0%}** of it.")
        better = "beats" if m_auc > r_auc else "does not beat"
        lines.append(f"2. The churn model reaches a held-out AUC of **{m_auc:.3f}** and {better} the recency baseline "
                     f"({r_auc:.3f}); {m_top:.0%} of the riskiest 10 % did churn (overall {base:.0%}).")
        lines.append(f"3. Call list: **{len(calls)}** high-value customers at risk, expected loss "
                     f"{wan(loss)} {unit}.")
        if best is not None:
            lines.append(f"4. The best LTV/CAC is in **{t(best['channel'], lang)}** ({best['ltv_cac']:.2f}), the lowest in "
                         f"**{t(worst['channel'], lang)}** ({worst['ltv_cac']:.2f})"
                         + (f"; the purchase model's hold-out total error is {err:+.1%}." if err is not None else "."))
    return "\n".join(lines)
