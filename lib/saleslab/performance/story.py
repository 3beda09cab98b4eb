"""The performance stage's narrative (zh-CN / English): the latest month against the month
before and the same month last year, the biggest movements and what drove them, anomalies and
the spend–revenue association."""

from __future__ import annotations

import math

import pandas as pd

from ..report.i18n import t
from ..report.format import wan

#: Columns of the monthly table as shown in the report.
MONTHLY_COLUMNS = ("period", "revenue", "revenue_last_year", "yoy_growth", "pop_growth", "gross_margin", "orders",
                   "average_order_value", "active_customers", "new_customers", "revenue_per_customer")


def _plain(v):
    return None if v is None or (isinstance(v, float) and math.isnan(v)) else round(float(v), 4)


def headline_figures(monthly: pd.DataFrame, vs_target: pd.DataFrame, collection: pd.DataFrame) -> dict:
    """Headline numbers (plain floats or None): latest month's revenue and YoY growth, year-to-date
    achievement (Σ revenue / Σ target of :func:`saleslab.performance.comparison`) and collection rate
    (:func:`saleslab.performance.collection_rate` at year grain)."""
    from .analysis import overall_achievement

    last = monthly.sort_values("period").iloc[-1] if len(monthly) else None
    coll = collection.sort_values("period").iloc[-1] if len(collection) else None
    return {
        "latest_month_revenue": _plain(last["revenue"]) if last is not None else None,
        "yoy_growth": _plain(last["yoy_growth"]) if last is not None else None,
        "ytd_achievement": overall_achievement(vs_target),
        "collection_rate": _plain(coll["collection_rate"]) if coll is not None else None,
    }


def for_display(df: pd.DataFrame, columns=None) -> pd.DataFrame:
    """``df``, or only its ``columns``, for display."""
    return df[list(columns)] if columns is not None else df


def _name(code, lang: str) -> str:
    try:
        return t(str(code), lang)
    except KeyError:
        return str(code)


def _pct(v) -> str:
    return "–" if v is None or (isinstance(v, float) and math.isnan(v)) else f"{v:+.1%}"


def _ok(v) -> bool:
    return v is not None and not (isinstance(v, float) and math.isnan(v))


def performance_headline(monthly: pd.DataFrame, movements: pd.DataFrame, lang: str) -> str:
    """Markdown: the latest month's revenue vs the previous month and last year, then the biggest
    movements (:func:`saleslab.performance.biggest_movements`) each with its main driver."""
    if monthly.empty:
        return "本期间没有销售数据。" if lang == "zh-CN" else "There are no sales in this period."
    last = monthly.sort_values("period").iloc[-1]
    p, unit = pd.Timestamp(last["period"]), t("wan_yuan", lang)
    if lang == "zh-CN":
        out = [f"**{p:%Y年%m月}** 销售额 **{wan(last['revenue'])} {unit}**，环比 **{_pct(last['pop_growth'])}**，"
               f"同比 **{_pct(last['yoy_growth'])}**；毛利率 {last['gross_margin']:.1%}。"]
        if len(movements):
            out.append("\n**三大变动及主因：**\n")
    else:
        out = [f"Revenue in **{p:%b %Y}** was **{wan(last['revenue'])} {unit}**: **{_pct(last['pop_growth'])}** on "
               f"the month before and **{_pct(last['yoy_growth'])}** on a year earlier; gross margin "
               f"{last['gross_margin']:.1%}."]
        if len(movements):
            out.append("\n**The biggest movements and what drove them:**\n")
    for i, m in enumerate(movements.itertuples(index=False), 1):
        seg = _name(m.segment, lang)
        up = m.change >= 0
        if lang == "zh-CN":
            cmp_ = "环比" if m.comparison == "pop" else "同比"
            s = (f"{i}. {seg} 销售额{cmp_}{'增长' if up else '下降'} {abs(m.pct_change):.1%}"
                 if _ok(m.pct_change) else f"{i}. {seg} 销售额{cmp_}{'增加' if up else '减少'}")
            s += f"（{'+' if up else '−'}{wan(abs(m.change))} {unit}）"
            if _ok(m.driver_share) and m.driver_segment is not None:
                s += f"，其中 {m.driver_share:.0%} 的{'增量' if up else '降幅'}来自 {_name(m.driver_segment, lang)}"
            out.append(s + "。")
        else:
            cmp_ = "vs the previous month" if m.comparison == "pop" else "vs last year"
            s = f"{i}. {seg} revenue {'up' if up else 'down'} "
            s += f"{abs(m.pct_change):.1%} {cmp_}" if _ok(m.pct_change) else cmp_
            s += f" ({'+' if up else '−'}{wan(abs(m.change))} {unit})"
            if _ok(m.driver_share) and m.driver_segment is not None:
                s += f"; {m.driver_share:.0%} of the {'gain' if up else 'drop'} came from {_name(m.driver_segment, lang)}"
            out.append(s + ".")
    return "\n".join(out)


def anomaly_text(flagged: pd.DataFrame, threshold: float, lang: str, dims=("region", "channel")) -> str:
    """One or two sentences on the flagged anomalies (rows of :func:`saleslab.performance.anomalies`
    with is_anomaly) and the one furthest from its expected level in 元."""
    if flagged.empty:
        return (f"没有偏离预期超过 {threshold:.0%} 的月份。" if lang == "zh-CN"
                else f"No month deviated from its expected level by more than {threshold:.0%}.")
    top = flagged.loc[flagged["gap"].abs().idxmax()]
    seg = " · ".join(_name(top[d], lang) for d in dims if d in flagged.columns)
    p = pd.Timestamp(top["period"])
    if lang == "zh-CN":
        return (f"共 {len(flagged)} 个月份/细分偏离预期超过 {threshold:.0%}（预期 = 去年同期 × 近期趋势，历史不足时用滚动中位数）。"
                f"金额偏离最大的是 {p:%Y年%m月} {seg}：{_pct(top['deviation'])}（{'+' if top['gap'] >= 0 else '−'}"
                f"{wan(abs(top['gap']))} {t('wan_yuan', lang)}）。")
    return (f"{len(flagged)} month/segment values deviated from their expected level by more than {threshold:.0%} "
            f"(expected = same month last year × recent trend, or a rolling median where history is short). "
            f"The largest in money: {seg} in {p:%b %Y}, {_pct(top['deviation'])} "
            f"({'+' if top['gap'] >= 0 else '−'}{wan(abs(top['gap']))} {t('wan_yuan', lang)}).")


def correlation_text(corr: pd.DataFrame, lang: str) -> str:
    """Pearson / Spearman per channel, stated as an association, not a cause."""
    if corr.empty:
        return "没有可比较的营销投入数据。" if lang == "zh-CN" else "There is no marketing spend to compare with revenue."
    parts = []
    for r in corr.itertuples(index=False):
        name = _name(r.channel, lang)
        parts.append(f"{name} r={r.pearson:.2f} / ρ={r.spearman:.2f}" if _ok(r.pearson) else f"{name} –")
    if lang == "zh-CN":
        return ("营销投入与销售额的月度相关性（皮尔逊 r / 斯皮尔曼 ρ）：" + "；".join(parts) +
                "。相关只说明两者同向变动，不代表投入带来了销售：预算常按预期销售安排，季节也同时推动两者。")
    return ("Monthly association of marketing spend with revenue (Pearson r / Spearman ρ): " + "; ".join(parts) +
            ". Correlation says the two moved together, not that spend caused sales: budgets often follow "
            "expected sales, and seasons drive both.")


def overview_narrative(monthly: pd.DataFrame, lang: str) -> str:
    """Three sentences on :func:`saleslab.performance.monthly_overview`: total, best month, trailing-12-month growth."""
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
