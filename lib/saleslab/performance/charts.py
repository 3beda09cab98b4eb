"""Charts of the overview (01_overview) and performance (02_performance) stages. They draw; the
figures come from :mod:`saleslab.performance`, and the thresholds from the tables themselves
(:func:`saleslab.params.used`)."""

from __future__ import annotations

import matplotlib.pyplot as plt
import pandas as pd
from matplotlib.ticker import PercentFormatter

from ..params import used
from ..report.charts import money_axis, palette_colours, setup_fonts
from ..report.i18n import has, say, t


def _label(code, lang: str) -> str:
    return t(code, lang) if has(code) else str(code)


def _months(periods) -> list[str]:
    return [pd.Timestamp(p).strftime("%Y-%m") for p in periods]


def _xticks(ax, labels, max_ticks: int = 18) -> None:
    step = max(1, len(labels) // max_ticks)
    ax.set_xticks(range(0, len(labels), step), [labels[i] for i in range(0, len(labels), step)],
                  rotation=45, ha="right")


def revenue_vs_last_year_chart(monthly: pd.DataFrame, lang: str, palette=None):
    """Bars of monthly revenue with last year's revenue of the same month as a line.

    ``monthly``: :func:`saleslab.performance.kpi_cube` with ``by=()`` at month grain."""
    setup_fonts()
    c = palette_colours(palette)
    fig, ax = plt.subplots(figsize=(11, 4.2), dpi=110)
    x = _months(monthly["period"])
    ax.bar(range(len(x)), monthly["revenue"], color=c[0], label=t("revenue", lang))
    ax.plot(range(len(x)), monthly["revenue_last_year"], color=c[1 % len(c)], marker="o", ms=3,
            label=t("revenue_last_year", lang))
    money_axis(ax, lang)
    _xticks(ax, x)
    ax.set_title(t("revenue_vs_last_year", lang))
    ax.legend(loc="upper left", frameon=False)
    ax.spines[["top", "right"]].set_visible(False)
    fig.tight_layout()
    return fig


def achievement_chart(ach: pd.DataFrame, lang: str, palette=None, dim: str = "region"):
    """Bars of achievement rate per ``dim`` segment with the 100 % target line and the reward /
    coaching lines the bands were computed with.

    ``ach``: :func:`saleslab.performance.comparison` (rows with ``dim`` and achievement_rate,
    recording reward_min and coaching_max)."""
    setup_fonts()
    c = palette_colours(palette)
    d = ach.dropna(subset=["achievement_rate"]).sort_values("achievement_rate", ascending=False)
    fig, ax = plt.subplots(figsize=(9, 4), dpi=110)
    labels = [_label(v, lang) for v in d[dim]]
    colours = [c[0] if v >= 1 else c[1 % len(c)] for v in d["achievement_rate"]]
    ax.bar(labels, d["achievement_rate"], color=colours)
    ax.axhline(1.0, color=c[3 % len(c)], ls="--", lw=1.2, label=t("target_line", lang))
    for key, name, colour in (("reward_min", "achievement_reward_line", c[2 % len(c)]),
                              ("coaching_max", "achievement_coaching_line", c[4 % len(c)])):
        v = used(ach, key)
        ax.axhline(v, color=colour, ls=":", lw=1.0, label=say(name, lang, value=f"{v:.0%}"))
    for i, v in enumerate(d["achievement_rate"]):
        ax.text(i, v, f"{v:.0%}", ha="center", va="bottom", fontsize=9)
    ax.yaxis.set_major_formatter(PercentFormatter(1.0))
    ax.set_ylabel(t("achievement_rate", lang))
    ax.set_title(t("achievement_by_region", lang))
    top = max([1.0, used(ach, "reward_min"), *d["achievement_rate"]])
    ax.set_ylim(0, top * 1.12)
    ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), frameon=False)
    ax.spines[["top", "right"]].set_visible(False)
    fig.tight_layout()
    return fig


def share_stacked_chart(sh: pd.DataFrame, lang: str, palette=None, x: str = "region", stack: str = "channel",
                        period=None):
    """100 % stacked bars: the ``stack`` shares inside each ``x`` segment in ``period`` (default: the
    latest) of :func:`saleslab.performance.shares` with ``within=x``."""
    setup_fonts()
    c = palette_colours(palette)
    period = sh["period"].max() if period is None else period
    sh = sh[sh["period"] == period]
    wide = sh.pivot_table(index=x, columns=stack, values="share", aggfunc="sum").fillna(0.0)
    wide = wide.loc[:, wide.sum().sort_values(ascending=False).index[:5]]  # at most 5 colours
    fig, ax = plt.subplots(figsize=(10, 4.2), dpi=110)
    bottom = pd.Series(0.0, index=wide.index)
    xl = [_label(v, lang) for v in wide.index]
    for i, col in enumerate(wide.columns):
        ax.bar(xl, wide[col], bottom=bottom, color=c[i % len(c)], label=_label(col, lang))
        bottom += wide[col]
    ax.yaxis.set_major_formatter(PercentFormatter(1.0))
    ax.set_ylim(0, 1.0)
    ax.set_title(f"{t('channel_region_share', lang)} · {pd.Timestamp(period):%Y-%m}")
    ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), frameon=False)
    ax.spines[["top", "right"]].set_visible(False)
    fig.tight_layout()
    return fig


def anomaly_chart(anoms: pd.DataFrame, lang: str, palette=None):
    """Monthly value and its expected level with the band of ± the anomaly threshold it was computed
    with, anomalies marked (:func:`saleslab.performance.anomalies` of one series)."""
    setup_fonts()
    c = palette_colours(palette)
    fig, ax = plt.subplots(figsize=(11, 4.2), dpi=110)
    x = _months(anoms["period"])
    ax.plot(range(len(x)), anoms["value"], color=c[0], marker="o", ms=3, label=t("revenue", lang))
    ax.plot(range(len(x)), anoms["expected"], color=c[2 % len(c)], ls="--", label=t("expected", lang))
    th = used(anoms, "anomaly_threshold")
    ax.fill_between(range(len(x)), anoms["expected"] * (1 - th), anoms["expected"] * (1 + th), color=c[2 % len(c)],
                    alpha=0.15, lw=0, label=say("anomaly_band", lang, threshold=f"{th:.0%}"))
    flagged = [i for i, f in enumerate(anoms["is_anomaly"]) if f]
    ax.scatter(flagged, anoms["value"].iloc[flagged], s=80, facecolors="none", edgecolors=c[3 % len(c)],
               linewidths=2, zorder=3, label=t("anomaly", lang))
    money_axis(ax, lang)
    _xticks(ax, x)
    ax.set_title(t("anomaly_chart", lang))
    ax.legend(loc="upper left", frameon=False)
    ax.spines[["top", "right"]].set_visible(False)
    fig.tight_layout()
    return fig


def monthly_revenue_chart(monthly, lang: str, palette=None):
    """Bars of monthly revenue with the gross margin as a line on a second axis (left out when the
    margin is unknown: a warehouse without unit costs).

    ``monthly`` is :func:`saleslab.performance.monthly_overview`'s table.
    """
    setup_fonts()
    colours = palette_colours(palette)
    fig, ax = plt.subplots(figsize=(11, 4.2), dpi=110)
    x = [m.strftime("%Y-%m") for m in monthly["month"]]
    ax.bar(x, monthly["revenue"], color=colours[0], label=t("revenue", lang))
    money_axis(ax, lang)
    handles = ax.get_legend_handles_labels()[0]
    if monthly["gross_margin"].notna().any():
        ax2 = ax.twinx()
        ax2.plot(x, monthly["gross_margin"], color=colours[1 % len(colours)], marker="o", ms=3,
                 label=t("gross_margin", lang))
        ax2.yaxis.set_major_formatter(PercentFormatter(1.0))
        ax2.set_ylabel(t("gross_margin", lang))
        ax2.set_ylim(0, max(0.05, float(monthly["gross_margin"].max() or 0) * 1.3))
        handles += ax2.get_legend_handles_labels()[0]
    step = max(1, len(x) // 18)
    ax.set_xticks(range(0, len(x), step), [x[i] for i in range(0, len(x), step)], rotation=45, ha="right")
    ax.set_title(t("revenue_by_month", lang))
    ax.legend(handles, [h.get_label() for h in handles], loc="upper left", frameon=False)
    ax.spines[["top"]].set_visible(False)
    fig.tight_layout()
    return fig
