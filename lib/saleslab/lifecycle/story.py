"""Generated narratives of the lifecycle / customer 360° stage: the customer base by stage and its
movements, retention and churn, the strongest cross-sell rule, and one customer's summary."""

from __future__ import annotations

import pandas as pd

from ..report.i18n import t
from ..report.format import wan


def _pct(v) -> str:
    return "–" if v is None or v != v else f"{v:.1%}"


def lifecycle_narrative(counts: pd.DataFrame, movements: pd.DataFrame, basis: str, rates: dict,
                        curve: pd.DataFrame, lang: str, churned_days: int = 365) -> str:
    """Four findings: buying customers by stage; movements since the previous run (or one month
    earlier when there is none — said so); repurchase and monthly churn rate; retention after 1
    and 12 months. Inputs: :func:`saleslab.lifecycle.stage_counts`, :func:`~saleslab.lifecycle.stage_movements`
    with its basis, :func:`~saleslab.lifecycle.rates_summary`, :func:`~saleslab.lifecycle.retention_curve`."""
    zh = lang == "zh-CN"
    c = counts.set_index("stage")["customers"]
    buying = int(c.drop("stage_prospect").sum())
    mv = movements[movements["moved"]]
    to_risk = int(mv.loc[mv["to_stage"] == "stage_at_risk", "customers"].sum())
    to_churn = int(mv.loc[mv["to_stage"] == "stage_churned", "customers"].sum())
    back = int(mv.loc[mv["from_stage"].isin(["stage_at_risk", "stage_churned"])
                      & mv["to_stage"].isin(["stage_new", "stage_mature"]), "customers"].sum())
    r = curve.set_index("months_since")["retention_rate"]
    m1, m12 = r.get(1), r.get(12)
    names = {s: t(s, lang) for s in c.index}
    if zh:
        lines = [f"1. 有购买记录的客户 **{buying:,}** 位：{names['stage_new']} {c['stage_new']:,}、"
                 f"{names['stage_mature']} {c['stage_mature']:,}、{names['stage_at_risk']} **{c['stage_at_risk']:,}**、"
                 f"{names['stage_churned']} {c['stage_churned']:,}（超过 {churned_days} 天未下单）；"
                 f"另有{names['stage_prospect']} {c['stage_prospect']:,} 位。"]
        since = "与上一次运行相比" if basis == "previous_run" else "未找到上一次运行的结果，与一个月前相比"
        lines.append(f"2. {since}：新进入预警 **{to_risk:,}** 位，新流失 **{to_churn:,}** 位，"
                     f"从预警或流失恢复 {back:,} 位。")
        lines.append(f"3. 近12个月复购率（当月购买客户中的老客户占比）**{_pct(rates.get('repurchase_rate'))}**，"
                     f"平均月流失率 **{_pct(rates.get('monthly_churn_rate'))}**。")
        lines.append(f"4. 首单后第1个月仍购买的客户占 **{_pct(m1)}**，第12个月占 {_pct(m12)}。")
    else:
        lines = [f"1. **{buying:,}** customers have bought: {c['stage_new']:,} new, {c['stage_mature']:,} mature, "
                 f"**{c['stage_at_risk']:,} at risk** and {c['stage_churned']:,} churned (no order for "
                 f"{churned_days} days); {c['stage_prospect']:,} more are prospects."]
        since = ("Since the previous run" if basis == "previous_run"
                 else "No previous run was found; compared with one month earlier")
        lines.append(f"2. {since}: **{to_risk:,}** customers became at risk, **{to_churn:,}** churned and "
                     f"{back:,} came back from at risk or churned.")
        lines.append(f"3. Over the last 12 months the repurchase rate (returning customers among the month's "
                     f"buyers) was **{_pct(rates.get('repurchase_rate'))}** and the monthly churn rate "
                     f"**{_pct(rates.get('monthly_churn_rate'))}**.")
        lines.append(f"4. **{_pct(m1)}** of customers buy again in the month after their first order; "
                     f"{_pct(m12)} in the 12th month.")
    return "\n".join(lines)


def crosssell_narrative(rules: pd.DataFrame, lang: str) -> str:
    """One sentence on :func:`saleslab.crosssell.association_rules`: how many rules, the strongest."""
    zh = lang == "zh-CN"
    if rules.empty:
        return ("在当前阈值下没有找到交叉销售规则，可降低最小支持度或置信度。" if zh
                else "No cross-sell rule reaches the thresholds; lower the minimum support or confidence.")
    top = rules.iloc[0]
    if zh:
        return (f"共 **{len(rules):,}** 条规则。最强的是：购买 **{top['antecedent']}** 的客户购买 "
                f"**{top['consequent']}** 的概率为 {top['confidence']:.1%}，是整体水平的 **{top['lift']:.2f}** 倍"
                f"（提升度）。")
    return (f"**{len(rules):,}** rules. The strongest: buyers of **{top['antecedent']}** buy "
            f"**{top['consequent']}** with {top['confidence']:.1%} confidence, **{top['lift']:.2f}×** the "
            f"overall rate (lift).")


def customer_narrative(card: pd.DataFrame, lang: str) -> str:
    """A short paragraph on one customer (:func:`saleslab.customer360.customer_card`): stage and
    why, orders and revenue in the period, segment, value, risk and the next action."""
    zh = lang == "zh-CN"
    c = card.iloc[0]
    who = f"{c['customer_name']}（{c['customer_id']}）" if zh and isinstance(c["customer_name"], str) else (
        f"{c['customer_name']} ({c['customer_id']})" if isinstance(c["customer_name"], str) else str(c["customer_id"]))
    unit = t("wan_yuan", lang)

    def lab(key):
        if not isinstance(key, str):
            return "–"
        try:
            return t(key, lang)
        except KeyError:
            return key

    clv = "–" if c["clv"] is None or c["clv"] != c["clv"] else f"{wan(float(c['clv']))} {unit}"
    days = c["days_since_last_order"]
    if zh:
        text = (f"**{who}** 处于 **{lab(c['stage'])}** 阶段（{lab(c['stage_reason'])}"
                + (f"，距上次下单 {int(days)} 天" if days == days and days is not None else "") + "）。"
                f"分析期内下单 {int(c['orders']):,} 笔，销售额 {wan(float(c['revenue']))} {unit}；"
                f"RFM类别 {lab(c['rfm_class'])}，分层 {lab(c['customer_tier'])}；"
                f"预计客户终身价值 {clv}，流失概率 {_pct(c['churn_probability'])}。"
                f"\n\n**建议行动：{lab(c['next_action'])}**（{lab(c['next_action_reason'])}）。")
    else:
        text = (f"**{who}** is **{lab(c['stage'])}** ({lab(c['stage_reason'])}"
                + (f", last order {int(days)} days ago" if days == days and days is not None else "") + "). "
                f"In the period: {int(c['orders']):,} orders, revenue {wan(float(c['revenue']))} {unit}; "
                f"RFM class {lab(c['rfm_class'])}, tier {lab(c['customer_tier'])}; expected CLV {clv}, churn "
                f"probability {_pct(c['churn_probability'])}."
                f"\n\n**Next action: {lab(c['next_action'])}** ({lab(c['next_action_reason'])}).")
    return text
