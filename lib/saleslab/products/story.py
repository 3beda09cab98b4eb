"""The products stage's narrative: its three biggest findings, and the definitions used.

Each finding is one template in :mod:`saleslab.products.labels` (``story_products_*``), in both
languages; thresholds are those the tables were computed with (:func:`saleslab.params.used`).
"""

from __future__ import annotations

import pandas as pd

from ..params import used
from ..report.format import money
from ..report.i18n import say, t


def _name(row) -> str:
    """A product's name, or its id when the master does not name it (or there is no master)."""
    name = row["product_name"]
    return str(row["product_id"]) if name is None or pd.isna(name) else str(name)


def _total(abc: pd.DataFrame) -> float:
    return float(abc["revenue"].clip(lower=0).sum())


def concentration_text(abc: pd.DataFrame, lang: str) -> str:
    """The revenue concentration finding (ABC) of :func:`saleslab.products.abc_classes`: how many
    products make class A and their share of revenue; needs only the order lines."""
    total = _total(abc)
    if total <= 0:
        return say("story_products_empty", lang)
    n = len(abc)
    a = abc[abc["abc_class"] == "A"]
    return say("story_products_concentration", lang, a_count=len(a), n=n, a_product_share=f"{len(a) / n:.1%}",
               a_share=f"{float(a['revenue'].sum()) / total:.1%}")


def stars_text(stars: pd.DataFrame, abc: pd.DataFrame, lang: str) -> str:
    """The star products finding: how many, their share of revenue (of ``abc``'s total,
    :func:`saleslab.products.abc_classes`) and the first one (:func:`saleslab.products.star_products`)."""
    total = _total(abc)
    if not len(stars) or total <= 0:
        return say("story_products_no_stars", lang)
    lead = stars.iloc[0]
    return say("story_products_stars", lang, count=len(stars), share=f"{float(stars['revenue'].sum()) / total:.1%}",
               name=_name(lead), revenue=money(lead["revenue"], lang),
               margin=f"{lead['gross_margin']:.1%}")


def slow_text(slow: pd.DataFrame, lang: str) -> str:
    """The slow movers finding: how many, the stock value they tie up and the slowest one
    (:func:`saleslab.products.slow_movers`)."""
    if not len(slow):
        return say("story_products_no_slow", lang)
    worst = slow.iloc[0]
    days = worst["days_of_inventory"]
    beyond = worst.get("days_note") == "doi_beyond_cap"
    pace = (say("story_products_pace_beyond_cap", lang, years=f"{used(slow, 'inventory_days_cap') / 365:,.0f}",
                volume=f"{worst['volume']:,.0f}", stock=f"{worst['avg_stock_units']:,.0f}") if beyond else
            say("story_products_pace_no_sales", lang) if pd.isna(days) else
            say("story_products_pace_days", lang, days=f"{days:,.0f}"))
    return say("story_products_slow", lang, count=len(slow), value=money(float(slow["avg_inventory_value"].sum()), lang),
               name=_name(worst), pace=pace)


def products_narrative(abc: pd.DataFrame, stars: pd.DataFrame, slow: pd.DataFrame, lang: str) -> str:
    """Three findings as a Markdown list: revenue concentration (ABC), star products, slow movers
    (:func:`concentration_text`, :func:`stars_text`, :func:`slow_text`).

    ``abc`` from :func:`saleslab.products.abc_classes`, ``stars`` from
    :func:`saleslab.products.star_products`, ``slow`` from :func:`saleslab.products.slow_movers`.
    The stage shows the first at the top (it needs only the order lines) and the others in their
    sections, which a warehouse without product master or inventory skips.
    """
    if _total(abc) <= 0:
        return say("story_products_empty", lang)
    items = [concentration_text(abc, lang), stars_text(stars, abc, lang), slow_text(slow, lang)]
    return "\n".join(f"- {i}" for i in items)


def definitions_text(abc: pd.DataFrame, lang: str) -> str:
    """:func:`definitions_note` from the parameters ``abc`` (:func:`saleslab.products.abc_classes`)
    records: they are the stage's whole parameter set (star, slow mover, BCG and ABC thresholds,
    returns basis), so the note needs no table a partial warehouse may lack."""
    return definitions_note(abc, abc, abc, abc, lang)


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
