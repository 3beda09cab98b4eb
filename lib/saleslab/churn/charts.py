"""Charts of the churn warning (07 stage): ROC against the recency baseline, calibration with the
risk threshold, churn rate by risk decile. They draw; the figures come from :mod:`saleslab.churn`,
thresholds from the tables (:func:`saleslab.params.used`)."""

from __future__ import annotations

import matplotlib.pyplot as plt
from matplotlib.ticker import PercentFormatter

from ..params import used
from ..report.charts import palette_colours, setup_fonts
from ..report.i18n import say, t


def _tidy(ax):
    ax.spines[["top", "right"]].set_visible(False)


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
    (:func:`saleslab.churn.calibration_table`); the diagonal is perfect calibration, the dashed
    vertical line the ``churn_risk_min`` the table was computed with (at or right of it: at risk)."""
    setup_fonts()
    colours = palette_colours(palette)
    risk_min = used(calibration, "churn_risk_min")
    fig, ax = plt.subplots(figsize=(5.2, 5.0), dpi=110)
    ax.plot([0, 1], [0, 1], color="#999999", linestyle=":", linewidth=1)
    ax.axvline(risk_min, color=colours[3 % len(colours)], linestyle="--", linewidth=1.2,
               label=say("churn_risk_threshold", lang, risk_min=f"{risk_min:g}"))
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
    ax.legend(loc="upper left", frameon=False, fontsize=8)
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
