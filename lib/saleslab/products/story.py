"""The products stage's narrative: its three biggest findings, and the definitions used."""

from __future__ import annotations

import pandas as pd

from ..report.i18n import t
from ..report.format import wan


def products_narrative(abc: pd.DataFrame, stars: pd.DataFrame, slow: pd.DataFrame, lang: str) -> str:
    """Three findings as a Markdown list: revenue concentration (ABC), star products, slow movers.

    ``abc`` from :func:`saleslab.products.abc_classes`, ``stars`` from
    :func:`saleslab.products.star_products`, ``slow`` from :func:`saleslab.products.slow_movers`.
    """
    zh = lang == "zh-CN"
    total = float(abc["revenue"].clip(lower=0).sum())
    if total <= 0:
        return "本期间没有产品销售。" if zh else "No product sold in this period."
    unit = t("wan_yuan", lang)
    n = len(abc)
    a = abc[abc["abc_class"] == "A"]
    a_share = float(a["revenue"].sum()) / total
    items = []
    if zh:
        items.append(f"**销售集中度**：{len(a)} 个产品（占 {n} 个产品的 {len(a) / n:.0%}）贡献了 "
                     f"**{a_share:.1%}** 的销售额（A 类）。")
    else:
        items.append(f"**Concentration**: {len(a)} of {n} products ({len(a) / n:.0%}) bring **{a_share:.1%}** "
                     f"of revenue (class A).")
    if len(stars):
        lead = stars.iloc[0]
        s_share = float(stars["revenue"].sum()) / total
        if zh:
            items.append(f"**明星产品**：{len(stars)} 个产品销量与毛利率同时居前，合计贡献 **{s_share:.1%}** 的销售额；"
                         f"首位是 {lead['product_name']}（{wan(lead['revenue'])} {unit}，毛利率 {lead['gross_margin']:.1%}）。"
                         f"建议加大曝光。")
        else:
            items.append(f"**Stars**: {len(stars)} products combine top volume with top margin and bring "
                         f"**{s_share:.1%}** of revenue; the first is {lead['product_name']} ({wan(lead['revenue'])} "
                         f"{unit}, margin {lead['gross_margin']:.1%}). Give them more exposure.")
    else:
        items.append("**明星产品**：本期没有产品同时达到高销量和高毛利。" if zh else
                     "**Stars**: no product reaches both high volume and high margin in this period.")
    if len(slow):
        value = float(slow["avg_inventory_value"].sum())
        worst = slow.iloc[0]
        days = worst["days_of_inventory"]
        if zh:
            pace = "本期没有销售" if pd.isna(days) else f"按本期销售速度需 {days:,.0f} 天才能售完"
            items.append(f"**滞销产品**：{len(slow)} 个产品销量低、库存高，平均占用库存金额 **{wan(value)} {unit}**；"
                         f"最慢的 {worst['product_name']} {pace}。建议捆绑促销或清理库存。")
        else:
            pace = ("did not sell at all" if pd.isna(days) else
                    f"would take {days:,.0f} days to sell at this period's pace")
            items.append(f"**Slow movers**: {len(slow)} products sell little while holding high stock, tying up "
                         f"**{wan(value)} {unit}** of inventory on average; the slowest, {worst['product_name']}, "
                         f"{pace}. Consider bundles or clearing the stock.")
    else:
        items.append("**滞销产品**：本期没有低销量、高库存的产品。" if zh else
                     "**Slow movers**: no product combines low sales with high stock in this period.")
    return "\n".join(f"- {i}" for i in items)


def definitions_note(lang: str, star_volume_quantile: float = 0.8, star_margin_quantile: float = 0.8,
                     slow_volume_quantile: float = 0.25, slow_stock_quantile: float = 0.5,
                     bcg_share_basis: str = "relative", bcg_share_threshold: float = 0.5,
                     bcg_growth_threshold: float = 0.1, abc_a_share: float = 0.8, abc_b_share: float = 0.15) -> str:
    """One paragraph stating the definitions and thresholds this run used."""
    q = _pct
    ab = abc_a_share + abc_b_share
    if lang == "zh-CN":
        basis = "产品销售额 / 同品类最大产品销售额" if bcg_share_basis == "relative" else "产品销售额 / 品类销售额"
        return (f"*口径*：明星产品 = 销量 ≥ {q(star_volume_quantile)} 分位且毛利率 ≥ {q(star_margin_quantile)} 分位；"
                f"滞销产品 = 有库存产品中销量 ≤ {q(slow_volume_quantile)} 分位且平均库存 ≥ {q(slow_stock_quantile)} 分位；"
                f"波士顿矩阵：相对市场份额 = {basis}（≥ {bcg_share_threshold:g} 为高），"
                f"增长率 = 期末12个月（期间不足12个月时为整个期间）较上年同期（≥ {q(bcg_growth_threshold)} 为高）；"
                f"ABC：累计销售额前 {q(abc_a_share)} 为 A、至 {q(ab)} 为 B、其余为 C；"
                f"销售额已扣除退货，金额单位为元。")
    basis = ("product revenue / revenue of the largest product in its category" if bcg_share_basis == "relative"
             else "product revenue / category revenue")
    return (f"*Definitions*: star = volume ≥ the {q(star_volume_quantile)} quantile and gross margin ≥ the "
            f"{q(star_margin_quantile)} quantile; slow mover = among products in stock, volume ≤ the "
            f"{q(slow_volume_quantile)} quantile and average stock ≥ the {q(slow_stock_quantile)} quantile; "
            f"BCG: relative market share = {basis} (high from {bcg_share_threshold:g}), growth = the period's last 12 "
            f"months (the whole period when shorter) vs the same months a year earlier (high from {q(bcg_growth_threshold)}); ABC: A up to {q(abc_a_share)} of cumulative "
            f"revenue, B up to {q(ab)}, C the rest; revenue is net of returns, in CNY.")


def _pct(v: float) -> str:
    return f"{v:.0%}"
