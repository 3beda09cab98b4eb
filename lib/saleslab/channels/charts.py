"""Charts of the channels stage: revenue share, ROI and distributor collection against their
thresholds, and the conversion funnel. They draw; the figures come from :mod:`saleslab.channels`."""

from __future__ import annotations

import matplotlib.pyplot as plt
from matplotlib.ticker import FuncFormatter, PercentFormatter

from ..params import used
from ..report.charts import palette_colours, setup_fonts, share_bars
from ..report.i18n import t


def revenue_share_chart(perf, lang: str, palette=None):
    """Bars of each channel's revenue share (:func:`saleslab.channels.channel_performance`)."""
    labels = [t(c, lang) for c in perf["channel"]]
    return share_bars(perf["revenue_share"], labels, t("channel_revenue_share", lang), palette)


def _threshold_bars(labels, values, flags, threshold, title, threshold_label, palette, percent):
    setup_fonts()
    colours = palette_colours(palette)
    ok, bad, line = colours[0], colours[3 % len(colours)], colours[1 % len(colours)]
    fig, ax = plt.subplots(figsize=(8, 0.45 * len(labels) + 1.4), dpi=110)
    vals = [0.0 if v != v else float(v) for v in values]
    ax.barh(list(labels), vals, color=[bad if f == f and bool(f) else ok for f in flags])  # unknown: not flagged
    ax.axvline(threshold, color=line, linestyle="--", linewidth=1.5,
               label=f"{threshold_label} {threshold:.0%}" if percent else f"{threshold_label} {threshold:g}")
    for y, v in enumerate(vals):
        ax.text(v, y, f" {v:.1%}" if percent else f" {v:.2f}", va="center", fontsize=9)
    if percent:
        ax.xaxis.set_major_formatter(PercentFormatter(1.0))
        ax.set_xlim(0, max(1.05, max(vals, default=0) * 1.12))
    else:
        ax.set_xlim(0, max(threshold, max(vals, default=0)) * 1.15)
    ax.set_title(title)
    ax.invert_yaxis()
    ax.legend(loc="lower left", bbox_to_anchor=(1.0, 0.0), frameon=False)
    ax.spines[["top", "right"]].set_visible(False)
    fig.tight_layout()
    return fig


def roi_chart(perf, lang: str, palette=None):
    """Bars of ROI per channel with the review threshold ``roi_min`` that ``perf`` was computed with;
    channels below it in the alert colour."""
    labels = [t(c, lang) for c in perf["channel"]]
    return _threshold_bars(labels, perf["roi"], perf["roi_review"], used(perf, "roi_min"), t("channel_roi", lang),
                           t("roi_threshold", lang), palette, percent=False)


def collection_chart(dist, lang: str, palette=None):
    """Bars of collection rate per distributor with the closure threshold it was computed with
    (:func:`saleslab.channels.distributor_performance`)."""
    labels = [f"{i} {n}" if isinstance(n, str) else str(i) for i, n in zip(dist["distributor_id"], dist["distributor_name"])]
    return _threshold_bars(labels, dist["collection_rate"], dist["closure_review"], used(dist, "collection_min"),
                           t("distributor_collection", lang), t("collection_threshold", lang), palette, percent=True)


def conversion_chart(funnel, lang: str, palette=None):
    """One funnel panel per channel: counts per step (log scale) with the share of the first step."""
    setup_fonts()
    colours = palette_colours(palette)
    chans = list(dict.fromkeys(funnel["channel"]))
    fig, axes = plt.subplots(1, max(1, len(chans)), figsize=(5.5 * max(1, len(chans)), 3.2), dpi=110, squeeze=False)
    for ax, ch in zip(axes[0], chans):
        f = funnel[funnel["channel"] == ch].sort_values("funnel_step_order")
        labels = [t(s, lang) for s in f["funnel_step"]]
        ax.barh(labels, f["funnel_count"], color=[colours[i % len(colours)] for i in range(len(f))])
        ax.set_xscale("log")
        ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:,.0f}"))
        for y, (n, r) in enumerate(zip(f["funnel_count"], f["funnel_step_rate"])):
            ax.text(n, y, f" {n:,.0f} ({r:.1%})", va="center", fontsize=9)
        ax.set_xlim(right=float(f["funnel_count"].max()) * 20)
        ax.invert_yaxis()
        ax.set_title(t(ch, lang))
        ax.spines[["top", "right"]].set_visible(False)
    fig.suptitle(t("channel_conversion", lang))
    fig.tight_layout()
    return fig
