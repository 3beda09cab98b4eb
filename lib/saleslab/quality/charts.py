"""Charts of the data-quality stage: merged and quarantined rows per source, coverage against its
target, and the trend across ingests. They draw; the figures come from :mod:`saleslab.quality`."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.ticker import FuncFormatter, MaxNLocator, PercentFormatter

from ..errors import InsufficientData
from ..params import used
from ..report.charts import palette_colours, setup_fonts, share_bars
from ..report.i18n import say, t


def accounting_chart(sources, lang: str, palette=None):
    """Horizontal stacked bars per source: rows merged as duplicates and rows quarantined, with
    the rows read written beside each bar (:func:`saleslab.quality.source_accounting`)."""
    setup_fonts()
    colours = palette_colours(palette)
    s = sources.sort_values(["source"]).reset_index(drop=True)
    y = np.arange(len(s))
    fig, ax = plt.subplots(figsize=(9, 0.38 * len(s) + 1.6), dpi=110)
    merged, quar = s["rows_merged"].to_numpy(), s["rows_quarantined"].to_numpy()
    ax.barh(y, merged, color=colours[0], label=t("rows_merged", lang))
    ax.barh(y, quar, left=merged, color=colours[1 % len(colours)], label=t("rows_quarantined", lang))
    for i, (m, q, r) in enumerate(zip(merged, quar, s["rows_read"])):
        ax.text(m + q, i, f"  {m + q:,} / {r:,}", va="center", fontsize=8)
    ax.set_yticks(y, list(s["source"]))
    ax.invert_yaxis()
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:,.0f}"))
    top = float((merged + quar).max()) if len(s) else 1.0
    ax.set_xlim(0, max(top, 1.0) * 1.35)
    parts = (t("rows", lang), t("rows_merged", lang), t("rows_quarantined", lang), t("rows_read", lang))
    ax.set_xlabel("{} ({} + {} / {})".format(*parts), fontsize=8)
    ax.set_title(t("dq_accounting_chart", lang))
    ax.legend(loc="lower right", frameon=False, fontsize=8)
    ax.spines[["top", "right"]].set_visible(False)
    fig.tight_layout()
    return fig


def coverage_target_chart(target_table, lang: str, palette=None):
    """Bars of the four coverage shares with the target as a line (:func:`saleslab.quality.coverage_vs_target`).

    The axis starts below the lowest share (at most at 90 %) so that a gap of one point to the
    target stays visible; every bar carries its value."""
    setup_fonts()
    colours = palette_colours(palette)
    tt = target_table.reset_index(drop=True)
    target = float(tt["target"].iloc[0]) if len(tt) else 0.98
    low = float(min(tt["coverage"].min() if len(tt) else 1.0, target))
    start = max(0.0, min(0.9, np.floor((low - 0.02) * 20) / 20))
    fig, ax = plt.subplots(figsize=(8, 0.5 * len(tt) + 1.4), dpi=110)
    bar_c = [colours[0] if ok else colours[2 % len(colours)] for ok in tt["meets_target"]]
    labels = [t(m, lang) for m in tt["coverage_measure"]]
    ax.barh(labels, tt["coverage"] - start, left=start, color=bar_c)
    ax.axvline(target, color=colours[1 % len(colours)], linestyle="--", linewidth=1.2,
               label=f"{t('dq_target_line', lang)} {target:.0%}")
    for i, v in enumerate(tt["coverage"]):
        ax.text(v, i, f" {v:.2%}", va="center", fontsize=9)
    ax.set_xlim(start, 1.025)
    step = 0.02 if start >= 0.8 else 0.1
    ax.set_xticks(np.arange(start, 1.0 + 1e-9, step))
    ax.xaxis.set_major_formatter(PercentFormatter(1.0))
    ax.invert_yaxis()
    ax.set_title(t("dq_coverage_target", lang))
    ax.legend(loc="lower left", frameon=False, fontsize=8)
    ax.spines[["top", "right"]].set_visible(False)
    fig.tight_layout()
    return fig


_ROWS = ("rows_merged", "rows_quarantined", "values_filled", "outliers_flagged")
_COV = ("coverage_customer", "coverage_product", "coverage_region", "coverage_channel")


def trend_chart(trend, lang: str, palette=None):
    """Two panels per ingest (:func:`saleslab.quality.quality_trend`): rows merged, quarantined,
    values filled and outliers flagged; and the coverage shares with the target line. A trend
    needs at least ``dq_trend_min_ingests`` ingests (recorded on ``trend``, default 3): with fewer,
    :class:`~saleslab.errors.InsufficientData` with one sentence in ``lang`` (``with st.section``
    shows it instead of a one- or two-point chart; the trend table still lists the ingests). The
    target is the ``coverage_target`` the trend was computed with."""
    need = int(trend.attrs.get("params", {}).get("dq_trend_min_ingests", 3))
    if len(trend) < need:
        raise InsufficientData(say("dq_trend_too_short", lang, ingests=len(trend), need=need),
                               needed_for="the quality trend")
    target = used(trend, "coverage_target")
    setup_fonts()
    colours = palette_colours(palette)
    fig, (a1, a2) = plt.subplots(1, 2, figsize=(11, 3.8), dpi=110)
    n = len(trend)
    x = list(trend["ingest_no"]) if n else []
    for i, c in enumerate(_ROWS):
        if n:
            a1.plot(x, trend[c].astype("float64"), marker="o", color=colours[i % len(colours)], label=t(c, lang))
    a1.set_title(t("dq_trend_rows", lang))
    a1.set_ylim(bottom=0)
    a1.yaxis.set_major_locator(MaxNLocator(integer=True))
    a1.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:,.0f}"))
    for i, c in enumerate(_COV):
        if n:
            a2.plot(x, trend[c], marker="o", color=colours[i % len(colours)], label=t(c, lang))
    a2.axhline(target, color=colours[4 % len(colours)], linestyle="--", linewidth=1,
               label=f"{t('dq_target_line', lang)} {target:.0%}")
    a2.yaxis.set_major_formatter(PercentFormatter(1.0))
    lows = [float(trend[c].min()) for c in _COV if n and trend[c].notna().any()]
    a2.set_ylim(max(0.0, min([target, *lows]) - 0.02), 1.005)
    a2.set_title(t("coverage", lang))
    for ax in (a1, a2):
        ax.set_xlabel(t("ingest_no", lang))
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        if n == 1:
            ax.set_xlim(x[0] - 1, x[0] + 1)
        if ax.get_legend_handles_labels()[0]:
            ax.legend(loc="best", frameon=False, fontsize=7)
        ax.spines[["top", "right"]].set_visible(False)
    title = t("dq_trend_title", lang)
    if n == 0:
        title += f" ({t('dq_no_history', lang)})"
    elif n == 1:
        title += f" ({t('dq_single_ingest', lang)})"
    fig.suptitle(title)
    fig.tight_layout()
    return fig


def quarantine_chart(totals, lang: str, palette=None):
    """Bars of quarantined rows per reason (:func:`saleslab.quality.reason_totals`)."""
    labels = [t(r, lang) for r in totals["reason"]]
    return share_bars(totals["rows"], labels, t("quarantine_by_reason", lang), palette, percent=False)


def coverage_chart(cov, lang: str, palette=None, measure: str = "known_customer"):
    """Bars of the coverage share per channel (:func:`saleslab.quality.coverage`)."""
    labels = [t(c, lang) for c in cov["channel"]]
    return share_bars(cov[measure], labels, f"{t('coverage_by_channel', lang)} · {t(measure, lang)}", palette)
