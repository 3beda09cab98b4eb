"""Charts of customer value (07 stage): hold-out check, CLV distribution, LTV/CAC. They draw; the
figures come from :mod:`saleslab.clv`, thresholds from the tables (:func:`saleslab.params.used`).
The churn charts are in :mod:`saleslab.churn.charts`."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.ticker import FuncFormatter

from ..params import used
from ..report.charts import money_axis, palette_colours, setup_fonts
from ..report.i18n import say, t


def _tidy(ax):
    ax.spines[["top", "right"]].set_visible(False)


def holdout_chart(groups, lang: str, palette=None):
    """Calibration plot of the hold-out check (:func:`saleslab.clv.holdout_check` ``groups``):
    actual and BG/NBD-predicted purchases per customer by calibration frequency group, with the
    naive baseline as a line; the title names the hold-out months ``groups`` was computed with."""
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
    ax.set_title(say("clv_holdout_title", lang, months=used(groups, "clv_holdout_months")))
    ax.legend(loc="upper left", frameon=False)
    _tidy(ax)
    fig.tight_layout()
    return fig


def clv_distribution_chart(values, lang: str, palette=None, top: int = 10):
    """Left: histogram of CLV (元, up to the 99th percentile), titled with the horizon ``values`` was
    computed with; right: the ``top`` customers by CLV (:func:`saleslab.clv.customer_value`)."""
    setup_fonts()
    colours = palette_colours(palette)
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(11, 4.2), dpi=110, gridspec_kw={"width_ratios": [3, 2]})
    v = values["clv"].to_numpy(dtype="float64")
    hi = float(np.quantile(v, 0.99)) if len(v) else 1.0
    ax1.hist(np.clip(v, None, hi), bins=40, color=colours[0])
    ax1.xaxis.set_major_formatter(FuncFormatter(lambda z, _: f"{z:,.0f}"))
    ax1.set_xlabel(f"{t('clv', lang)} ({t('yuan', lang)})")
    ax1.set_ylabel(t("customers_axis", lang))
    ax1.set_title(say("clv_distribution_title", lang, months=used(values, "clv_horizon_months")))
    _tidy(ax1)
    best = values.sort_values(["clv", "customer_id"], ascending=[False, True]).head(top)
    ax2.barh(list(best["customer_id"].astype(str)), best["clv"], color=colours[1 % len(colours)])
    ax2.invert_yaxis()
    money_axis(ax2, lang, "clv", which="x")
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
