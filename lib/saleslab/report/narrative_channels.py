"""The channels stage's generated narrative: its three biggest findings."""

from __future__ import annotations

import pandas as pd

from .i18n import t
from .narrative import wan


def _names(df: pd.DataFrame, lang: str, key: str, value: str, fmt: str) -> str:
    sep = "、" if lang == "zh-CN" else ", "
    return sep.join(f"{t(k, lang) if k in ('online', 'retail', 'direct', 'distribution') else k} "
                    f"({format(v, fmt)})" for k, v in zip(df[key], df[value]))


def channels_narrative(perf: pd.DataFrame, dist: pd.DataFrame, lang: str, roi_min: float = 1.2,
                       collection_min: float = 0.6) -> str:
    """Three findings from :func:`saleslab.channels.channel_performance` and
    :func:`~saleslab.channels.distributor_performance`: the largest channel, the channels below
    the ROI threshold, the distributors below the collection threshold."""
    zh = lang == "zh-CN"
    if perf.empty:
        return "本期间没有渠道销售数据。" if zh else "There are no channel sales in this period."
    unit = t("wan_yuan", lang)
    top = perf.sort_values("revenue", ascending=False).iloc[0]
    best_margin = perf.sort_values("gross_margin", ascending=False).iloc[0]
    weak = perf[perf["roi_review"].fillna(False).astype(bool)].sort_values("roi")
    bad = dist[dist["closure_review"].fillna(False).astype(bool)].sort_values("collection_rate")
    bad = bad.assign(label=[f"{i} {n}" if isinstance(n, str) else i
                            for i, n in zip(bad["distributor_id"], bad["distributor_name"])])
    if zh:
        lines = [f"1. **{t(top['channel'], lang)}** 是最大渠道：销售额 {wan(top['revenue'])} {unit}，"
                 f"占 **{top['revenue_share']:.1%}**；毛利率最高的是{t(best_margin['channel'], lang)}"
                 f"（{best_margin['gross_margin']:.1%}）。"]
        lines.append(f"2. 投入产出比低于 {roi_min:g} 的渠道需复核：**{_names(weak, lang, 'channel', 'roi', '.2f')}**。"
                     if len(weak) else f"2. 所有渠道的投入产出比均不低于 {roi_min:g}。")
        lines.append(f"3. 回款率低于 {collection_min:.0%} 的经销商建议清退复核：**{_names(bad, lang, 'label', 'collection_rate', '.1%')}**。"
                     if len(bad) else f"3. 没有经销商的回款率低于 {collection_min:.0%}。")
    else:
        lines = [f"1. **{t(top['channel'], lang)}** is the largest channel with {wan(top['revenue'])} {unit}, "
                 f"**{top['revenue_share']:.1%}** of revenue; the highest gross margin is in "
                 f"{t(best_margin['channel'], lang)} ({best_margin['gross_margin']:.1%})."]
        lines.append(f"2. Channels with ROI below {roi_min:g} need review: **{_names(weak, lang, 'channel', 'roi', '.2f')}**."
                     if len(weak) else f"2. Every channel has an ROI of at least {roi_min:g}.")
        lines.append(f"3. Distributors collecting less than {collection_min:.0%} are flagged for closure review: "
                     f"**{_names(bad, lang, 'label', 'collection_rate', '.1%')}**."
                     if len(bad) else f"3. No distributor collects less than {collection_min:.0%}.")
    return "\n".join(lines)
