"""Short generated narratives: the few sentences a reader sees before the charts."""

from __future__ import annotations

import pandas as pd

from .i18n import t


def wan(v: float) -> str:
    """An amount in 元 written in 万元 with one decimal: 1234567 -> '123.5'."""
    return f"{v / 1e4:,.1f}"


def overview_narrative(monthly: pd.DataFrame, lang: str) -> str:
    """Three sentences on :func:`saleslab.kpis.monthly_overview`: total, best month, trailing-12-month growth."""
    if monthly.empty:
        return "本期间没有销售数据。" if lang == "zh-CN" else "There are no sales in this period."
    revenue = float(monthly["revenue"].sum())
    profit = float(monthly["gross_profit"].sum())
    margin = profit / revenue if revenue else 0.0
    best = monthly.loc[monthly["revenue"].idxmax()]
    growth = None
    if len(monthly) >= 24:
        last12 = float(monthly["revenue"].iloc[-12:].sum())
        prev12 = float(monthly["revenue"].iloc[-24:-12].sum())
        growth = (last12 / prev12 - 1) if prev12 else None
    unit = t("wan_yuan", lang)
    first, last = monthly["month"].iloc[0], monthly["month"].iloc[-1]
    if lang == "zh-CN":
        text = (f"{first:%Y年%m月}至{last:%Y年%m月}销售额 **{wan(revenue)} {unit}**，毛利率 **{margin:.1%}**。"
                f"销售额最高的月份是 {best['month']:%Y年%m月}（{wan(best['revenue'])} {unit}）。")
        if growth is not None:
            text += f"最近12个月销售额较前12个月{'增长' if growth >= 0 else '下降'} **{abs(growth):.1%}**。"
    else:
        text = (f"Revenue from {first:%b %Y} to {last:%b %Y} was **{wan(revenue)} {unit}** at a gross margin "
                f"of **{margin:.1%}**. The best month was {best['month']:%b %Y} ({wan(best['revenue'])} {unit}).")
        if growth is not None:
            text += (f" The last 12 months {'grew' if growth >= 0 else 'fell'} **{abs(growth):.1%}** "
                     f"against the 12 months before.")
    return text
