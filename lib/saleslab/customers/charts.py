"""Charts of the customer segments stage: RFM classes, the R × F heatmap, tiers and tags,
firmographic cuts, the value matrix and the clusters. They draw; the figures come from
:mod:`saleslab.customers`, thresholds from the tables (:func:`saleslab.params.used`).

The charts of the parts that may lack their inputs (firmographics, value matrix, clusters) are
shown inside an ``st.section`` with their tables after them: they return figures detached from
pyplot (:func:`_detached`), which a notebook shows with ``display(fig)`` where it wants them (a
pyplot figure would be shown again, at the end of the cell)."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.colors import LinearSegmentedColormap
from matplotlib.ticker import FuncFormatter, PercentFormatter

from ..params import used
from ..report.charts import palette_colours, setup_fonts
from ..report.format import money_unit
from ..report.i18n import say, t


def _detached(fig):
    """``fig`` closed in pyplot (still drawable, savable and displayable), so that a notebook cell
    shows it only where it calls ``display(fig)``."""
    plt.close(fig)
    return fig


def _cmap(colour: str) -> LinearSegmentedColormap:
    return LinearSegmentedColormap.from_list("saleslab", ["#ffffff", colour])


def _pair_bars(ax, labels, a, b, la: str, lb: str, colours) -> None:
    y = np.arange(len(labels))
    ax.barh(y - 0.2, a, 0.4, color=colours[0], label=la)
    ax.barh(y + 0.2, b, 0.4, color=colours[1 % len(colours)], label=lb)
    ax.set_yticks(y, labels)
    ax.invert_yaxis()
    ax.xaxis.set_major_formatter(PercentFormatter(1.0))
    for yi, v in zip(y, b):
        ax.text(v, yi + 0.2, f" {v:.1%}", va="center", fontsize=8)
    ax.spines[["top", "right"]].set_visible(False)


def rfm_class_chart(summary, lang: str, palette=None):
    """Share of customers and of revenue per RFM class (:func:`saleslab.customers.rfm_summary`)."""
    setup_fonts()
    colours = palette_colours(palette)
    fig, ax = plt.subplots(figsize=(9, 4.6), dpi=110)
    _pair_bars(ax, [t(c, lang) for c in summary["rfm_class"]], summary["customer_share"], summary["revenue_share"],
               t("customer_share", lang), t("revenue_share", lang), colours)
    ax.set_title(t("rfm_class_chart", lang))
    ax.legend(loc="lower right", frameon=False)
    fig.tight_layout()
    return fig


def rfm_heatmap(grid, lang: str, palette=None):
    """R score (rows, 5 at the top) × F score (columns): customers, and mean spend beside it
    (:func:`saleslab.customers.rfm_grid`)."""
    setup_fonts()
    colours = palette_colours(palette)
    fig, axes = plt.subplots(1, 2, figsize=(11, 4.4), dpi=110)
    for ax, col, title, colour, fmt in (
            (axes[0], "customers", "rfm_heatmap", colours[0], "{:,.0f}"),
            (axes[1], "avg_monetary", "rfm_heatmap_monetary", colours[1 % len(colours)], "{:,.0f}")):
        m = grid.pivot(index="r_score", columns="f_score", values=col).reindex(index=range(5, 0, -1),
                                                                                columns=range(1, 6))
        vals = m.to_numpy(dtype=float)
        ax.imshow(np.nan_to_num(vals), cmap=_cmap(colour), aspect="auto")
        top = np.nanmax(vals) if np.isfinite(vals).any() else 0
        for i in range(5):
            for j in range(5):
                v = vals[i, j]
                if np.isfinite(v):
                    ax.text(j, i, fmt.format(v), ha="center", va="center", fontsize=8,
                            color="white" if top and v > 0.6 * top else "black")
        ax.set_xticks(range(5), [str(c) for c in m.columns])
        ax.set_yticks(range(5), [str(r) for r in m.index])
        ax.set_xlabel(t("f_score", lang))
        ax.set_ylabel(t("r_score", lang))
        ax.set_title(t(title, lang))
    fig.tight_layout()
    return fig


def tier_tag_chart(tiers, tags, lang: str, palette=None):
    """Left: share of customers and revenue per tier (:func:`saleslab.customers.tier_summary`);
    right: customers per tag and rule (:func:`saleslab.customers.tag_summary`)."""
    setup_fonts()
    colours = palette_colours(palette)
    fig, axes = plt.subplots(1, 2, figsize=(12, 4.2), dpi=110, gridspec_kw={"width_ratios": [1, 1.2]})
    _pair_bars(axes[0], [t(c, lang) for c in tiers["customer_tier"]], tiers["customer_share"], tiers["revenue_share"],
               t("customer_share", lang), t("revenue_share", lang), colours)
    axes[0].legend(loc="lower right", frameon=False, fontsize=8)
    axes[0].set_title(t("customer_tier", lang))
    ax = axes[1]
    labels = [t(r.tag, lang) if r.rule == "rule_any" else f"  {t(r.rule, lang)}" for r in tags.itertuples()]
    tag_colour = {tag: colours[(i + 2) % len(colours)] for i, tag in enumerate(dict.fromkeys(tags["tag"]))}
    y = np.arange(len(tags))
    counts = tags["customers"].astype("Float64").to_numpy(dtype=float, na_value=np.nan)  # NA: rule not evaluated
    for yi, (tag, rule, v) in enumerate(zip(tags["tag"], tags["rule"], counts)):
        # the tag itself solid, the rules behind it hatched (same colour: the palette stays at 5)
        ax.barh(yi, 0.0 if np.isnan(v) else v, color=tag_colour[tag], hatch=None if rule == "rule_any" else "///",
                edgecolor="white", linewidth=0)
    for yi, v in zip(y, counts):
        ax.text(0.0 if np.isnan(v) else v, yi, " –" if np.isnan(v) else f" {v:,.0f}", va="center", fontsize=8)
    ax.set_yticks(y, labels)
    ax.invert_yaxis()
    ax.set_xlabel(t("customers", lang))
    ax.set_title(t("tags", lang))
    ax.spines[["top", "right"]].set_visible(False)
    fig.suptitle(t("tier_chart", lang))
    fig.tight_layout()
    return fig


def firmographic_chart(cuts, lang: str, palette=None):
    """Share of customers and of revenue per industry and per size band
    (:func:`saleslab.customers.firmographic_cuts`); detached from pyplot (module doc)."""
    setup_fonts()
    colours = palette_colours(palette)
    dims = ("industry_band", "size_band")
    fig, axes = plt.subplots(1, 2, figsize=(12, 3.8), dpi=110)
    for ax, dim in zip(axes, dims):
        c = cuts[cuts["dimension"] == dim]
        _pair_bars(ax, [t(s, lang) for s in c["segment"]], c["customer_share"], c["revenue_share"],
                   t("customer_share", lang), t("revenue_share", lang), colours)
        ax.set_title(t(dim, lang))
    handles, labels = axes[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="lower center", ncol=2, frameon=False, fontsize=9)
    fig.suptitle(t("firmographic_chart", lang))
    fig.tight_layout(rect=(0, 0.07, 1, 1))
    return _detached(fig)


def _symlog_wan(ax, axis: str, values, lang: str = "zh-CN") -> None:
    """Symmetric-log axis in 万元 (CNY K in English) with ticks at 0 and ± decades from 1,000 元."""
    getattr(ax, f"set_{axis}scale")("symlog", linthresh=1000)
    def decades(top: float) -> list[float]:
        return [10.0 ** e for e in range(3, int(np.ceil(np.log10(top))) + 1)] if top > 1e3 else [1e3]

    v = np.asarray(values, dtype=float)
    v = v[np.isfinite(v)]
    hi = float(v.max()) if len(v) else 1e4
    lo = float(v.min()) if len(v) else 0.0
    ticks = sorted([-d for d in (decades(-lo) if lo < 0 else [])] + [0.0] + (decades(hi) if hi > 0 else []))
    getattr(ax, f"set_{axis}ticks")(ticks)
    divisor = 1e4 if lang == "zh-CN" else 1e3  # 万元 / CNY K: the decades stay round numbers
    getattr(ax, f"{axis}axis").set_major_formatter(FuncFormatter(lambda v, _: f"{v / divisor:,.10g}"))
    getattr(ax, f"{axis}axis").set_minor_locator(plt.NullLocator())


def value_matrix_chart(matrix, counts, lang: str, palette=None, current: str = "current_value",
                       potential: str = "potential_value"):
    """Customers by current × potential value (symmetric-log axes, 万元) with the split lines at the
    ``value_split`` ``matrix`` was computed with (named in the legend) and the customers per quadrant
    (:func:`saleslab.customers.value_matrix`, :func:`~saleslab.customers.quadrant_counts`); the
    potential axis names its basis (CLV with its horizon, or revenue growth). Detached from pyplot
    (module doc)."""
    from .segments import QUADRANTS, value_threshold
    from .story import split_text

    split = used(matrix, "value_split")

    setup_fonts()
    colours = palette_colours(palette)
    col = {q: colours[i % len(colours)] for i, q in enumerate(QUADRANTS)}
    fig, ax = plt.subplots(figsize=(8.5, 6), dpi=110)
    for q in QUADRANTS:
        m = matrix[matrix["quadrant"] == q]
        ax.scatter(m[current], m[potential], s=8, alpha=0.5, color=col[q], label=t(q, lang), linewidths=0)
    if len(matrix):
        cx, py = value_threshold(matrix[current], split), value_threshold(matrix[potential], split)
        ax.axvline(cx, color="grey", linestyle="--", linewidth=1,
                   label=say("value_split_line", lang, split=split_text(split, lang)))
        ax.axhline(py, color="grey", linestyle="--", linewidth=1)
    n = counts.set_index("quadrant")["customers"]
    pos = {"quadrant_deepen": (0.98, 0.98, "right", "top"), "quadrant_maintain": (0.98, 0.02, "right", "bottom"),
           "quadrant_develop": (0.02, 0.98, "left", "top"), "quadrant_low_cost": (0.02, 0.02, "left", "bottom")}
    for q, (x, y, ha, va) in pos.items():
        ax.text(x, y, f"{t(q, lang)}: {int(n.get(q, 0)):,}", transform=ax.transAxes, ha=ha, va=va, fontsize=10,
                color=col[q])
    _symlog_wan(ax, "x", matrix[current].to_numpy(dtype=float), lang)
    _symlog_wan(ax, "y", matrix[potential].to_numpy(dtype=float), lang)
    if "potential_basis" in matrix and (matrix["potential_basis"] == "clv").any():
        basis = say("potential_clv_axis", lang, months=used(matrix, "clv_horizon_months"))
    else:
        basis = t("potential_growth", lang)
    unit = money_unit(1e4 if lang == "zh-CN" else 1e3, lang)[1]  # the unit of _symlog_wan's ticks
    ax.set_xlabel(f"{t('current_value', lang)} ({unit})")
    ax.set_ylabel(f"{basis} ({unit})")
    ax.set_title(t("value_matrix_chart", lang))
    ax.legend(loc="center left", bbox_to_anchor=(1.0, 0.5), frameon=False, markerscale=2)
    ax.spines[["top", "right"]].set_visible(False)
    fig.tight_layout()
    return _detached(fig)


def cluster_chart(crosstab, scores, lang: str, palette=None):
    """Left: silhouette per k (:func:`saleslab.customers.choose_k`, may be None); right: each
    cluster's customers by RFM class as row shares (:func:`saleslab.customers.cluster_rfm_crosstab`).
    Detached from pyplot (module doc)."""
    setup_fonts()
    colours = palette_colours(palette)
    fig, axes = plt.subplots(1, 2, figsize=(13, 4.4), dpi=110, gridspec_kw={"width_ratios": [1, 2.6]})
    ax = axes[0]
    if scores is not None and len(scores):
        ax.plot(scores["k"], scores["silhouette"], marker="o", color=colours[0])
        best = scores.loc[scores["silhouette"].idxmax()]
        ax.scatter([best["k"]], [best["silhouette"]], s=80, color=colours[1 % len(colours)], zorder=3)
        ax.set_xticks(scores["k"].tolist())
    ax.set_xlabel(t("k", lang))
    ax.set_ylabel(t("silhouette", lang))
    ax.set_title(t("silhouette", lang))
    ax.spines[["top", "right"]].set_visible(False)
    ax = axes[1]
    classes = [c for c in crosstab.columns if c.startswith("rfm_")]
    counts = crosstab[classes].to_numpy(dtype=float)
    shares = counts / np.maximum(counts.sum(axis=1, keepdims=True), 1)
    ax.imshow(shares, cmap=_cmap(colours[0]), aspect="auto", vmin=0, vmax=1)
    for i in range(shares.shape[0]):
        for j in range(shares.shape[1]):
            ax.text(j, i, f"{int(counts[i, j]):,}", ha="center", va="center", fontsize=8,
                    color="white" if shares[i, j] > 0.6 else "black")
    ax.set_xticks(range(len(classes)), [t(c, lang) for c in classes], rotation=30, ha="right")
    ax.set_yticks(range(len(crosstab)), [f"{t('cluster', lang)} {c}" for c in crosstab["cluster"]])
    ax.set_title(t("cluster_chart", lang))
    fig.tight_layout()
    return _detached(fig)
