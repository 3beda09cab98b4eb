"""Charts of the risk stage: ageing of past-due receivables, distributor collection against the
alert and watch lines, the turnover watch against its expected band, concentration by channel,
credit grades. They draw; the figures and thresholds come from the tables of :mod:`saleslab.risk`."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.ticker import PercentFormatter

from ..params import used
from ..report.charts import money_axis, palette_colours, setup_fonts
from ..report.i18n import t



def _colours(palette, n: int) -> list:
    c = palette_colours(palette)
    return [c[i % len(c)] for i in range(n)]


def _finish(fig, ax, title: str):
    ax.set_title(title)
    ax.spines[["top", "right"]].set_visible(False)
    fig.tight_layout()
    return fig


def ageing_chart(summary: pd.DataFrame, lang: str, palette=None):
    """Bars of past-due outstanding per ageing bucket (万元) with each bucket's share
    (:func:`saleslab.risk.ageing_summary`)."""
    setup_fonts()
    base, old = _colours(palette, 4)[0], _colours(palette, 4)[3]
    fig, ax = plt.subplots(figsize=(7, 4), dpi=110)
    colours = [base] * (len(summary) - 1) + [old]
    ax.bar(summary["ageing_bucket"], summary["outstanding"], color=colours)
    for i, (v, s) in enumerate(zip(summary["outstanding"], summary["share"])):
        if s == s:
            ax.text(i, v, f"{s:.0%}", ha="center", va="bottom", fontsize=9)
    money_axis(ax, lang, "outstanding")
    ax.set_xlabel(t("ageing_bucket", lang))
    ax.set_ylim(0, max(float(summary["outstanding"].max()), 1.0) * 1.15)
    return _finish(fig, ax, t("risk_ageing_title", lang))


def collection_chart(dist: pd.DataFrame, lang: str, palette=None):
    """Bars of collection rate per distributor, lowest first, with the alert and watch lines the
    table was computed with (:func:`saleslab.risk.distributor_collection`)."""
    lo, watch = used(dist, "risk_distributor_collection_min"), used(dist, "risk_distributor_collection_watch")
    setup_fonts()
    base, low_c, watch_c = _colours(palette, 3)
    fig, ax = plt.subplots(figsize=(max(7, 0.5 * len(dist) + 2), 4.2), dpi=110)
    colours = [low_c if s == "collection_low" else watch_c if s == "collection_watch" else base
               for s in dist["collection_status"]]
    ax.bar(dist["distributor_id"], dist["collection_rate"], color=colours)
    ax.axhline(lo, color=low_c, linestyle="--", linewidth=1.2, label=f"{t('risk_collection_min_line', lang)} {lo:.0%}")
    ax.axhline(watch, color=watch_c, linestyle=":", linewidth=1.2,
               label=f"{t('risk_collection_watch_line', lang)} {watch:.0%}")
    ax.yaxis.set_major_formatter(PercentFormatter(1.0))
    ax.set_ylim(0, 1.08)
    ax.set_ylabel(t("collection_rate", lang))
    ax.tick_params(axis="x", labelrotation=45)
    ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), frameon=False, fontsize=8)
    return _finish(fig, ax, t("risk_collection_title", lang))


def turnover_chart(watch: pd.DataFrame, lang: str, palette=None, category: str = "all"):
    """Turnover at each observation (line), its expected level (dashed) with the ± threshold band
    the table was computed with, and the observations beyond it (dots)
    (:func:`saleslab.risk.turnover_watch`)."""
    mx = used(watch, "risk_turnover_deviation_max")
    setup_fonts()
    line_c, exp_c, alert_c = _colours(palette, 3)
    w = watch[watch["category"] == category].sort_values("snapshot_date")
    x = pd.to_datetime(w["snapshot_date"])
    fig, ax = plt.subplots(figsize=(9, 4), dpi=110)
    ax.plot(x, w["turnover"], color=line_c, marker="o", markersize=3, label=t("turnover", lang))
    ax.plot(x, w["expected_turnover"], color=exp_c, linestyle="--", label=t("expected_turnover", lang))
    ax.fill_between(x, w["expected_turnover"] * (1 - mx), w["expected_turnover"] * (1 + mx), color=exp_c, alpha=0.2,
                    label=f"{t('risk_turnover_band', lang)} {mx:.0%}")
    f = w[w["turnover_alert"]]
    ax.scatter(pd.to_datetime(f["snapshot_date"]), f["turnover"], color=alert_c, zorder=3, s=18,
               label=t("turnover_alert", lang))
    ax.set_ylabel(t("turnover", lang))
    top = np.nanmax(w["turnover"].to_numpy(dtype=float)) if len(w) else 1.0
    ax.set_ylim(0, (top if top == top else 1.0) * 1.15)
    ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), frameon=False, fontsize=8)
    return _finish(fig, ax, f"{t('risk_turnover_title', lang)} · {t(category, lang) if category == 'all' else category}")


def concentration_chart(conc: pd.DataFrame, lang: str, palette=None):
    """Top-N share and HHI per channel (grouped bars) with the HHI alert line the table was
    computed with (:func:`saleslab.risk.concentration_by_channel`)."""
    hhi_max, n = used(conc, "risk_hhi_max"), used(conc, "risk_top_n")
    setup_fonts()
    top_c, hhi_c, line_c = _colours(palette, 3)
    c = conc[conc["channel"] != "all"]
    x = np.arange(len(c))
    fig, ax = plt.subplots(figsize=(max(7, 1.2 * len(c) + 2), 4), dpi=110)
    ax.bar(x - 0.2, c["top_share"].fillna(0), 0.4, color=top_c, label=f"{t('top_share', lang)} (N={n})")
    ax.bar(x + 0.2, c["hhi"].fillna(0), 0.4, color=hhi_c, label=t("hhi", lang))
    ax.axhline(hhi_max, color=line_c, linestyle="--", linewidth=1.2, label=f"HHI {hhi_max:g}")
    ax.set_xticks(x, [t(ch, lang) for ch in c["channel"]])
    ax.yaxis.set_major_formatter(PercentFormatter(1.0))
    ax.set_ylim(0, 1.08)
    ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), frameon=False, fontsize=8)
    return _finish(fig, ax, t("risk_concentration_title", lang))


def credit_chart(grades: pd.DataFrame, lang: str, palette=None):
    """Exposure (万元) per credit grade with the number of customers above each bar
    (:func:`saleslab.risk.grade_counts`)."""
    setup_fonts()
    colours = _colours(palette, 4)
    fig, ax = plt.subplots(figsize=(7, 4), dpi=110)
    labels = [t(g, lang) for g in grades["credit_grade"]]
    ax.bar(labels, grades["outstanding"], color=colours)
    for i, (v, n) in enumerate(zip(grades["outstanding"], grades["customers"])):
        ax.text(i, v, f"{n}", ha="center", va="bottom", fontsize=9)
    money_axis(ax, lang, "outstanding")
    ax.set_ylim(0, max(float(grades["outstanding"].max()), 1.0) * 1.15)
    return _finish(fig, ax, t("risk_credit_title", lang))
