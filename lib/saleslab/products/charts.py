"""Charts of the products stage (domain.md §4, §12): BCG quadrant, Pareto curve, top/bottom bars,
days of inventory of slow movers, price bands, sell-through. They draw; saleslab.products computes.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.ticker import FuncFormatter, PercentFormatter

from ..facts import UNKNOWN as UNKNOWN_BAND
from ..params import used
from ..report.charts import money_axis, palette_colours, setup_fonts, share_bars
from .portfolio import BCG_QUADRANTS
from ..report.i18n import t


def _short(name, width: int = 14) -> str:
    name = str(name)
    return name if len(name) <= width else name[: width - 1] + "…"


def _known(name) -> bool:
    """A name the master gives (not missing: a product unknown to the master has none)."""
    return name is not None and name == name and str(name) != ""  # name == name: not NaN


def _product_label(name, pid) -> str:
    """"name (id)", or the id alone for a product the master does not name (or without a master)."""
    return f"{_short(name)} ({pid})" if _known(name) else str(pid)


def bcg_chart(bcg, lang: str, palette=None, label_top: int = 6):
    """Growth × relative share (log) scatter, bubble area ∝ revenue, one colour per quadrant,
    dashed quadrant lines at the thresholds ``bcg`` was computed with
    (:func:`saleslab.products.bcg_matrix`: ``bcg_share_threshold``, ``bcg_growth_threshold``).

    Products without previous revenue (no growth figure) are drawn at the top edge.
    """
    bcg_share_threshold, bcg_growth_threshold = used(bcg, "bcg_share_threshold"), used(bcg, "bcg_growth_threshold")
    setup_fonts()
    colours = palette_colours(palette)
    fig, ax = plt.subplots(figsize=(9.5, 6), dpi=110)
    df = bcg[bcg["market_share"] > 0].copy()
    cap = max(1.0, bcg_growth_threshold * 3)
    growth = df["revenue_growth"].astype(float)
    df["y"] = growth.clip(lower=-1.0, upper=cap).fillna(cap)
    size = 2500 * np.sqrt(df["revenue"] / max(float(df["revenue"].max()), 1.0)) + 12
    for i, q in enumerate(BCG_QUADRANTS):
        sel = df["bcg_quadrant"] == q
        ax.scatter(df.loc[sel, "market_share"], df.loc[sel, "y"], s=size[sel], alpha=0.55,
                   color=colours[i % len(colours)], edgecolor="white", linewidth=0.6,
                   label=f"{t(q, lang)} ({int(sel.sum())})")
    for k, (_, r) in enumerate(df.nlargest(label_top, "revenue").iterrows()):
        # alternate label sides: leaders of several categories share x = 1
        ax.annotate(_short(r["product_name"]) if _known(r["product_name"]) else str(r["product_id"]),
                    (r["market_share"], r["y"]), fontsize=8,
                    xytext=(-6 if k % 2 else 6, 6 if k % 2 else -10), textcoords="offset points",
                    ha="right" if k % 2 else "left")
    ax.set_xscale("log")
    ax.axvline(bcg_share_threshold, color="grey", ls="--", lw=1)
    ax.axhline(bcg_growth_threshold, color="grey", ls="--", lw=1)
    ax.yaxis.set_major_formatter(PercentFormatter(1.0))
    ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
    ax.set_xlabel(f"{t('market_share', lang)} (log)")
    ax.set_ylabel(t("revenue_growth", lang))
    ax.set_title(f"{t('bcg_matrix_title', lang)} · {t('bubble_is_revenue', lang)}")
    legend = ax.legend(loc="lower left", frameon=False, fontsize=9)
    for h in legend.legend_handles:
        h.set_sizes([60])
    ax.spines[["top", "right"]].set_visible(False)
    fig.tight_layout()
    return fig


def pareto_chart(abc, lang: str, palette=None):
    """Revenue bars per product (coloured by ABC class) and the cumulative share line, with dashed
    lines at the class boundaries ``abc`` was computed with (:func:`saleslab.products.abc_classes`:
    ``abc_a_share``, ``abc_a_share + abc_b_share``)."""
    abc_a_share, abc_b_share = used(abc, "abc_a_share"), used(abc, "abc_b_share")
    setup_fonts()
    colours = palette_colours(palette)
    fig, ax = plt.subplots(figsize=(11, 4.5), dpi=110)
    x = np.arange(1, len(abc) + 1)
    cls_colour = {c: colours[i % len(colours)] for i, c in enumerate("ABC")}
    for c in "ABC":
        sel = (abc["abc_class"] == c).to_numpy()
        ax.bar(x[sel], abc["revenue"].clip(lower=0).to_numpy()[sel], width=1.0, color=cls_colour[c],
               label=f"{t('abc_' + c.lower(), lang)} ({int(sel.sum())})")
    money_axis(ax, lang)
    ax.set_xlabel(t("products_ranked", lang))
    ax2 = ax.twinx()
    ax2.plot(x, abc["cumulative_share"], color=colours[3 % len(colours)], lw=2, label=t("cumulative_share", lang))
    for level in (abc_a_share, abc_a_share + abc_b_share):
        ax2.axhline(level, color="grey", ls="--", lw=1)
        ax2.text(len(abc), level, f"{level:.0%}", va="bottom", ha="right", fontsize=8, color="grey")
    ax2.set_ylim(0, 1.05)
    ax2.yaxis.set_major_formatter(PercentFormatter(1.0))
    ax2.set_ylabel(t("cumulative_share", lang))
    handles = ax.get_legend_handles_labels()[0] + ax2.get_legend_handles_labels()[0]
    ax.legend(handles, [h.get_label() for h in handles], loc="center right", frameon=False)
    ax.set_xlim(0.5, len(abc) + 0.5)
    ax.set_title(t("pareto_title", lang))
    ax.spines[["top"]].set_visible(False)
    fig.tight_layout()
    return fig


def top_bottom_chart(tb, lang: str, palette=None, measure: str = "revenue"):
    """Two panels of horizontal bars: best and worst sellers (:func:`saleslab.products.top_bottom`)."""
    setup_fonts()
    colours = palette_colours(palette)
    groups = ("top_products", "bottom_products")
    n = max(int((tb["rank_group"] == g).sum()) for g in groups)
    fig, axes = plt.subplots(1, 2, figsize=(12, 0.38 * n + 1.6), dpi=110)
    for i, (ax, g) in enumerate(zip(axes, groups)):
        d = tb[tb["rank_group"] == g]
        labels = [_product_label(nm, pid) for nm, pid in zip(d["product_name"], d["product_id"])]
        ax.barh(labels, d[measure], color=colours[i % len(colours)])
        ax.invert_yaxis()
        if float(d[measure].max() or 0) >= 1e5:  # large amounts in 万元 / CNY K-M, small ones as they are
            money_axis(ax, lang, measure, which="x")
        else:
            ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:,.0f}"))
            ax.set_xlabel(f"{t(measure, lang)} ({t('yuan', lang)})")
        ax.set_title(t(g, lang))
        ax.tick_params(axis="y", labelsize=8)
        ax.spines[["top", "right"]].set_visible(False)
    fig.suptitle(t("top_bottom_title", lang))
    fig.tight_layout()
    return fig


def slow_days_chart(slow, lang: str, palette=None):
    """Days of inventory of the slow movers (log scale); products without sales, or whose days
    are beyond the cap (``days_note``), are drawn hatched at the longest bar and marked "no sales"
    / "practically no sales" (:func:`saleslab.products.slow_movers`)."""
    setup_fonts()
    colours = palette_colours(palette)
    fig, ax = plt.subplots(figsize=(9, 0.45 * max(len(slow), 1) + 1.4), dpi=110)
    days = slow["days_of_inventory"].astype(float)
    top = float(days.max()) if days.notna().any() else 365.0
    values = days.fillna(top * 1.2)
    labels = [_product_label(nm, pid) for nm, pid in zip(slow["product_name"], slow["product_id"])]
    bars = ax.barh(labels, values, color=colours[0])
    notes = slow["days_note"] if "days_note" in slow else [None] * len(slow)
    for bar, d, v, note in zip(bars, days, values, notes):
        if np.isnan(d):
            bar.set_hatch("//")
            bar.set_facecolor("white")
            bar.set_edgecolor(colours[0])
        text = (t("doi_beyond_cap_short", lang) if note == "doi_beyond_cap" else t("no_sales", lang) if np.isnan(d)
                else f"{d:,.0f} {t('days', lang)}")
        ax.text(v, bar.get_y() + bar.get_height() / 2, f" {text}", va="center", fontsize=8)
    ax.set_xscale("log")
    ax.set_xlabel(f"{t('days_of_inventory', lang)} (log)")
    ax.invert_yaxis()
    ax.set_title(t("slow_days_title", lang))
    ax.spines[["top", "right"]].set_visible(False)
    fig.tight_layout()
    return fig


def price_band_chart(bands, lang: str, palette=None):
    """Revenue per price band (bars) with the band's gross margin (line), bands in the table's
    (edge) order (:func:`saleslab.products.price_band_performance`)."""
    setup_fonts()
    colours = palette_colours(palette)
    fig, ax = plt.subplots(figsize=(9, 4), dpi=110)
    x = [t(b, lang) if b == UNKNOWN_BAND else b for b in bands["price_band"]]
    ax.bar(x, bands["revenue"], color=colours[0], label=t("revenue", lang))
    money_axis(ax, lang)
    ax.set_xlabel(f"{t('price_band', lang)} ({t('yuan', lang)})")
    ax2 = ax.twinx()
    ax2.plot(x, bands["gross_margin"], color=colours[1 % len(colours)], marker="o", label=t("gross_margin", lang))
    ax2.yaxis.set_major_formatter(PercentFormatter(1.0))
    margin = bands["gross_margin"].astype(float)
    ax2.set_ylim(min(0.0, float(np.nan_to_num(margin.min()))), max(0.05, float(np.nan_to_num(margin.max())) * 1.3))
    ax2.set_ylabel(t("gross_margin", lang))
    handles = ax.get_legend_handles_labels()[0] + ax2.get_legend_handles_labels()[0]
    ax.legend(handles, [h.get_label() for h in handles], loc="upper left", frameon=False)
    ax.set_title(t("price_band_title", lang))
    ax.spines[["top"]].set_visible(False)
    fig.tight_layout()
    return fig


def sell_through_chart(sell, lang: str, palette=None):
    """Sell-through rate per category and overall (:func:`saleslab.products.sell_through_rate`)."""
    labels = [t(c, lang) if c in ("all", "category_unknown") else c for c in sell["category"]]
    return share_bars(sell["sell_through_rate"].fillna(0), labels, t("sell_through_rate", lang), palette)
