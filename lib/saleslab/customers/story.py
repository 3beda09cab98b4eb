"""The customer segments stage's generated narrative (main findings first) and the clusters'
descriptions in words."""

from __future__ import annotations

import pandas as pd

from ..report.i18n import has, t
from ..report.format import wan


def cluster_description(traits: str, lang: str) -> str:
    """Words for a cluster's traits (:func:`saleslab.customers.cluster_profiles`): "recent, frequent,
    high spend, mostly Online" / "近期购买、高频、高消费、以线上电商为主"."""
    words = []
    for key in [k for k in (traits or "").split(",") if k]:
        if key.startswith("channel:"):
            code = key.split(":", 1)[1]
            words.append(t("trait_mostly", lang).format(t(code, lang) if has(code) else code))
        elif key.startswith("category:"):
            words.append(t("trait_prefers", lang).format(key.split(":", 1)[1]))
        else:
            words.append(t(key, lang))
    if not words:
        return t("trait_average", lang)
    return ("、" if lang == "zh-CN" else ", ").join(words)


def describe_profiles(profiles: pd.DataFrame, lang: str) -> pd.DataFrame:
    """:func:`saleslab.customers.cluster_profiles` with the traits replaced by a description."""
    out = profiles.copy()
    out["description"] = [cluster_description(x, lang) for x in out.pop("traits")]
    return out


def customers_narrative(seg: pd.DataFrame, summary: pd.DataFrame, lang: str, quadrants: pd.DataFrame | None = None,
                        clusters=None, window_months: int = 12) -> str:
    """Findings from :func:`saleslab.customers.segment_table` (``seg``) and :func:`~saleslab.customers.rfm_summary`:
    who carries the revenue, the churn-risk customers, the value matrix and the clusters."""
    zh = lang == "zh-CN"
    n = len(seg)
    if n == 0:
        return (f"最近 {window_months} 个月没有可识别客户的购买记录。" if zh
                else f"No identified customer bought in the last {window_months} months.")
    unit = t("wan_yuan", lang)
    total = float(seg["monetary"].sum())
    iv = summary.set_index("rfm_class").loc["rfm_important_value"]
    lines = []
    if zh:
        lines.append(f"1. 最近 {window_months} 个月共有 **{n:,}** 位客户购买，合计 {wan(total)} {unit}；"
                     f"**重要价值客户 {iv['customers']:,} 位（{iv['customer_share']:.1%}）贡献了 "
                     f"{iv['revenue_share']:.1%} 的销售额**。")
    else:
        lines.append(f"1. **{n:,}** customers bought in the last {window_months} months, {wan(total)} {unit} in all; "
                     f"**{iv['customers']:,} important value customers ({iv['customer_share']:.1%}) brought "
                     f"{iv['revenue_share']:.1%} of the revenue**.")
    if "customer_tier" in seg:
        hi = seg[seg["customer_tier"] == "tier_high_value"]
        risk = seg[seg["customer_tier"] == "tier_churn_risk"]
        hi_share = float(hi["monetary"].sum()) / total if total else 0.0
        days = int(risk["recency_days"].min()) if len(risk) else 0
        if zh:
            lines.append(f"2. 高价值层 {len(hi):,} 位客户贡献 **{hi_share:.1%}** 的销售额；流失风险层 {len(risk):,} 位客户"
                         f"已至少 {days} 天未购买，过去一年贡献 {wan(float(risk['monetary'].sum()))} {unit}。")
        else:
            lines.append(f"2. The high-value tier's {len(hi):,} customers brought **{hi_share:.1%}** of revenue; the "
                         f"{len(risk):,} churn-risk customers have not bought for {days}+ days and brought "
                         f"{wan(float(risk['monetary'].sum()))} {unit} in the window.")
    if "tag_churn_risk" in seg:
        tagged = seg[seg["tag_churn_risk"]]
        both = seg[seg["tag_churn_risk"] & seg["tag_high_value"]]
        if zh:
            lines.append(f"3. **{len(tagged):,}** 位客户带有流失风险标签（长期未跟进或采购额同比下降一半以上），"
                         f"其中 {len(both):,} 位同时是高价值客户，应优先回访。")
        else:
            lines.append(f"3. **{len(tagged):,}** customers carry the churn-risk tag (no recent follow-up or purchases "
                         f"down by half or more); {len(both):,} of them are also high value: call them first.")
    if quadrants is not None and len(quadrants):
        q = quadrants.set_index("quadrant")
        cv = float(q["current_value"].sum())
        share = float(q.loc["quadrant_deepen", "current_value"]) / cv if cv else 0.0
        if zh:
            lines.append(f"4. 价值矩阵中「深耕」客户 {int(q.loc['quadrant_deepen', 'customers']):,} 位，"
                         f"占当前毛利的 {share:.1%}；「培育」客户 {int(q.loc['quadrant_develop', 'customers']):,} 位。")
        else:
            lines.append(f"4. In the value matrix, {int(q.loc['quadrant_deepen', 'customers']):,} customers to deepen hold "
                         f"{share:.1%} of current gross profit; {int(q.loc['quadrant_develop', 'customers']):,} "
                         f"customers to develop.")
    if clusters is not None:
        p = clusters.profiles.sort_values("customers", ascending=False)
        name = t("cluster", lang)
        parts = [f"{name} {int(r.cluster)}" + (f"：{cluster_description(r.traits, lang)}（{r.customer_share:.0%}）" if zh
                 else f": {cluster_description(r.traits, lang)} ({r.customer_share:.0%})") for r in p.itertuples()]
        sep = "；" if zh else "; "
        if zh:
            lines.append(f"5. 聚类按轮廓系数选出 **{clusters.k}** 类（轮廓系数 {clusters.silhouette:.2f}）：" + sep.join(parts) + "。")
        else:
            lines.append(f"5. Clustering picked **{clusters.k}** groups by silhouette ({clusters.silhouette:.2f}): "
                         + sep.join(parts) + ".")
    return "\n".join(lines)
