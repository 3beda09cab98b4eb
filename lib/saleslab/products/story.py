"""The products stage's narrative: its three biggest findings, and the definitions used.

Each finding is one template in :mod:`saleslab.products.labels` (``story_products_*``), in both
languages; thresholds are those the tables were computed with (:func:`saleslab.params.used`).
"""

from __future__ import annotations

import pandas as pd

from ..params import used
from ..report.format import wan
from ..report.i18n import say, t


def products_narrative(abc: pd.DataFrame, stars: pd.DataFrame, slow: pd.DataFrame, lang: str) -> str:
    """Three findings as a Markdown list: revenue concentration (ABC), star products, slow movers.

    ``abc`` from :func:`saleslab.products.abc_classes`, ``stars`` from
    :func:`saleslab.products.star_products`, ``slow`` from :func:`saleslab.products.slow_movers`.
    """
    total = float(abc["revenue"].clip(lower=0).sum())
    if total <= 0:
        return say("story_products_empty", lang)
    unit = t("wan_yuan", lang)
    n = len(abc)
    a = abc[abc["abc_class"] == "A"]
    items = [say("story_products_concentration", lang, a_count=len(a), n=n, a_product_share=f"{len(a) / n:.1%}",
                 a_share=f"{float(a['revenue'].sum()) / total:.1%}")]
    if len(stars):
        lead = stars.iloc[0]
        items.append(say("story_products_stars", lang, count=len(stars),
                         share=f"{float(stars['revenue'].sum()) / total:.1%}", name=lead["product_name"],
                         revenue=wan(lead["revenue"]), unit=unit, margin=f"{lead['gross_margin']:.1%}"))
    else:
        items.append(say("story_products_no_stars", lang))
    if len(slow):
        worst = slow.iloc[0]
        days = worst["days_of_inventory"]
        pace = (say("story_products_pace_no_sales", lang) if pd.isna(days) else
                say("story_products_pace_days", lang, days=f"{days:,.0f}"))
        items.append(say("story_products_slow", lang, count=len(slow), value=wan(float(slow["avg_inventory_value"].sum())),
                         unit=unit, name=worst["product_name"], pace=pace))
    else:
        items.append(say("story_products_no_slow", lang))
    return "\n".join(f"- {i}" for i in items)


def definitions_note(stars: pd.DataFrame, slow: pd.DataFrame, bcg: pd.DataFrame, abc: pd.DataFrame,
                     lang: str) -> str:
    """One paragraph stating the definitions and thresholds the tables were computed with:
    ``stars`` (:func:`saleslab.products.star_products`), ``slow`` (:func:`~saleslab.products.slow_movers`),
    ``bcg`` (:func:`~saleslab.products.bcg_matrix`), ``abc`` (:func:`~saleslab.products.abc_classes`)."""
    a, b = used(abc, "abc_a_share"), used(abc, "abc_b_share")
    return say("story_products_definitions", lang,
               star_volume=f"{used(stars, 'star_volume_quantile'):.0%}",
               star_margin=f"{used(stars, 'star_margin_quantile'):.0%}",
               slow_volume=f"{used(slow, 'slow_volume_quantile'):.0%}",
               slow_stock=f"{used(slow, 'slow_stock_quantile'):.0%}",
               basis=t(f"story_products_bcg_{used(bcg, 'bcg_share_basis')}", lang),
               share_threshold=f"{used(bcg, 'bcg_share_threshold'):g}",
               growth_threshold=f"{used(bcg, 'bcg_growth_threshold'):.0%}",
               abc_a=f"{a:.0%}", abc_ab=f"{a + b:.0%}",
               returns=t(f"story_products_returns_{used(abc, 'returns_basis')}", lang))
