"""Charts of the customer value and churn stage. They draw; the figures come from
:mod:`saleslab.clv` and :mod:`saleslab.churn`."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.ticker import FuncFormatter, PercentFormatter

from ..report.charts import palette_colours, setup_fonts
from ..report.i18n import t


def _tidy(ax):
    ax.spines[["top", "right"]].set_visible(False)


def holdout_chart(groups, lang: str, palette=None):
    """Calibration plot of the hold-out check (:func:`saleslab.clv.holdout_check` ``groups``):
    actual and BG/NBD-predicted purchases per customer by calibration frequency group, with the
    naive baseline as a line."""
    setup_fonts()
    colours = palette_colours(palette)
    x = np.arange(len(groups))
    fig, ax = plt.subplots(figsize=(8.5, 4.2), dpi=110)
    ax.bar(x - 0.2, groups["actual_mean"], 0.4, color=colours[0], label=t("actual_mean", lang))
    ax.bar(x + 0.2, groups["predicted_mean"], 0.4, color=colours[1 % len(colours)], label=t("predicted_mean", lang))
    ax.plot(x, groups["naive_mean"], color=colours[2 % len(colours)], marker="o", ms=4, linestyle="--",
            label=t("naive_mean", lang))
    ax.set_xticks(x, list(groups["frequency_group"]))
    ax.set_xlabel(t("frequency_group", lang))
    ax.set_title(t("clv_holdout_chart", lang))
    ax.legend(loc="upper left", frameon=False)
    _tidy(ax)
    fig.tight_layout()
    return fig


def clv_distribution_chart(values, lang: str, palette=None, top: int = 10):
    """Left: histogram of CLV (元, up to the 99th percentile); right: the ``top`` customers by
    CLV (:func:`saleslab.clv.customer_value`)."""
    setup_fonts()
    colours = palette_colours(palette)
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(11, 4.2), dpi=110, gridspec_kw={"width_ratios": [3, 2]})
    v = values["clv"].to_numpy(dtype="float64")
    hi = float(np.quantile(v, 0.99)) if len(v) else 1.0
    ax1.hist(np.clip(v, None, hi), bins=40, color=colours[0])
    ax1.xaxis.set_major_formatter(FuncFormatter(lambda z, _: f"{z:,.0f}"))
    ax1.set_xlabel(f"{t('clv', lang)} ({t('yuan', lang)})")
    ax1.set_ylabel(t("customers_axis", lang))
    ax1.set_title(t("clv_distribution_chart", lang))
    _tidy(ax1)
    best = values.sort_values(["clv", "customer_id"], ascending=[False, True]).head(top)
    ax2.barh(list(best["customer_id"].astype(str)), best["clv"], color=colours[1 % len(colours)])
    ax2.invert_yaxis()
    ax2.xaxis.set_major_formatter(FuncFormatter(lambda z, _: f"{z / 1e4:,.0f}"))
    ax2.set_xlabel(f"{t('clv', lang)} ({t('wan_yuan', lang)})")
    ax2.set_title(t("clv_top_customers_chart", lang))
    _tidy(ax2)
    fig.tight_layout()
    return fig


def ltv_cac_chart(table, lang: str, palette=None):
    """LTV/CAC per acquisition channel (:func:`saleslab.clv.ltv_cac`) with the break-even line at 1."""
    setup_fonts()
    colours = palette_colours(palette)
    df = table[table["ltv_cac"].notna()]
    fig, ax = plt.subplots(figsize=(7.5, 3.8), dpi=110)
    ax.bar([t(c, lang) for c in df["channel"]], df["ltv_cac"], color=colours[0])
    ax.axhline(1.0, color=colours[3 % len(colours)], linestyle="--", linewidth=1.2, label=t("ltv_cac_breakeven", lang))
    for i, v in enumerate(df["ltv_cac"]):
        ax.text(i, v, f"{v:.2f}", ha="center", va="bottom", fontsize=9)
    ax.set_ylabel(t("ltv_cac", lang))
    ax.set_title(t("ltv_cac_chart", lang))
    ax.legend(loc="upper right", frameon=False)
    _tidy(ax)
    fig.tight_layout()
    return fig


def roc_chart(roc: dict, evaluation, lang: str, palette=None):
    """ROC curves of the churn model and the recency score on the held-out cut-off
    (:class:`saleslab.churn.ChurnBacktest` ``roc`` and ``evaluation``), AUC in the legend."""
    setup_fonts()
    colours = palette_colours(palette)
    auc = dict(zip(evaluation["scorer"], evaluation["auc"]))
    fig, ax = plt.subplots(figsize=(5.2, 5.0), dpi=110)
    for i, (name, pts) in enumerate(roc.items()):
        ax.plot(pts["false_positive_rate"], pts["true_positive_rate"], color=colours[i % len(colours)],
                label=f"{t(name, lang)} (AUC {auc.get(name, float('nan')):.3f})")
    ax.plot([0, 1], [0, 1], color="#999999", linestyle=":", linewidth=1)
    ax.set_xlabel(t("false_positive_rate", lang))
    ax.set_ylabel(t("true_positive_rate", lang))
    ax.set_title(t("churn_roc_chart", lang))
    ax.legend(loc="lower right", frameon=False, fontsize=8)
    _tidy(ax)
    fig.tight_layout()
    return fig


def calibration_chart(calibration, lang: str, palette=None):
    """Mean predicted churn probability against the observed churn rate per probability bin
    (:func:`saleslab.churn.calibration_table`); the diagonal is perfect calibration."""
    setup_fonts()
    colours = palette_colours(palette)
    fig, ax = plt.subplots(figsize=(5.2, 5.0), dpi=110)
    ax.plot([0, 1], [0, 1], color="#999999", linestyle=":", linewidth=1)
    sizes = 20 + 200 * calibration["customer_count"] / max(calibration["customer_count"].max(), 1)
    ax.scatter(calibration["mean_predicted"], calibration["observed_rate"], s=sizes, color=colours[0], zorder=3)
    ax.plot(calibration["mean_predicted"], calibration["observed_rate"], color=colours[0])
    ax.xaxis.set_major_formatter(PercentFormatter(1.0))
    ax.yaxis.set_major_formatter(PercentFormatter(1.0))
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    ax.set_xlabel(t("mean_predicted", lang))
    ax.set_ylabel(t("observed_rate", lang))
    ax.set_title(t("churn_calibration_chart", lang))
    _tidy(ax)
    fig.tight_layout()
    return fig


def lift_chart(lift, lang: str, palette=None):
    """Churn rate per risk decile (1 = highest predicted risk) with the overall rate as a line
    (:func:`saleslab.churn.lift_table`)."""
    setup_fonts()
    colours = palette_colours(palette)
    fig, ax = plt.subplots(figsize=(7.5, 3.8), dpi=110)
    ax.bar(lift["decile"].astype(str), lift["churn_rate"], color=colours[0])
    base = float((lift["churn_rate"] * lift["customer_count"]).sum() / max(lift["customer_count"].sum(), 1))
    ax.axhline(base, color=colours[1 % len(colours)], linestyle="--", linewidth=1.2, label=t("base_rate", lang))
    ax.yaxis.set_major_formatter(PercentFormatter(1.0))
    ax.set_xlabel(t("decile", lang))
    ax.set_ylabel(t("churn_rate", lang))
    ax.set_title(t("churn_lift_chart", lang))
    ax.legend(loc="upper right", frameon=False)
    _tidy(ax)
    fig.tight_layout()
    return fig
