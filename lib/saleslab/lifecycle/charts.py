"""Charts of the lifecycle / customer 360° stage: customers per stage, stage movements, cohort
retention heatmap and curves, monthly repurchase and churn rates, one customer's monthly revenue.
They draw; the figures come from :mod:`saleslab.lifecycle` and :mod:`saleslab.customer360`, thresholds
from the tables (:func:`saleslab.params.used`)."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.colors import LinearSegmentedColormap
from matplotlib.ticker import PercentFormatter

from ..params import used
from ..report.charts import money_axis, palette_colours, setup_fonts
from ..report.i18n import has, say, t


def _cmap(colour: str):
    return LinearSegmentedColormap.from_list("saleslab", ["#ffffff", colour])


def _months(values) -> list[str]:
    return [m.strftime("%Y-%m") for m in values]


def stage_chart(counts, lang: str, palette=None):
    """Bars of customers per lifecycle stage (:func:`saleslab.lifecycle.stage_counts`), one colour per
    stage; the title names the new / at-risk / churned days ``counts`` was computed with."""
    setup_fonts()
    colours = palette_colours(palette)
    fig, ax = plt.subplots(figsize=(8, 3.8), dpi=110)
    labels = [t(s, lang) for s in counts["stage"]]
    ax.bar(labels, counts["customers"], color=[colours[i % len(colours)] for i in range(len(counts))])
    top = float(counts["customers"].max() or 1)
    for i, (n, s) in enumerate(zip(counts["customers"], counts["share"])):
        ax.text(i, n + top * 0.01, f"{n:,}\n{s:.1%}" if s == s else f"{n:,}", ha="center", va="bottom", fontsize=9)
    ax.set_ylim(0, top * 1.2)
    ax.set_ylabel(t("customers", lang) if _has("customers") else "")
    ax.set_title(say("lifecycle_by_stage_title", lang, new_days=used(counts, "lifecycle_new_days"),
                     at_risk_days=used(counts, "lifecycle_at_risk_days"),
                     churned_days=used(counts, "lifecycle_churned_days")))
    ax.spines[["top", "right"]].set_visible(False)
    fig.tight_layout()
    return fig


def _has(key: str) -> bool:
    return has(key)


def flow_chart(matrix, lang: str, palette=None):
    """Heatmap of customers moving from a stage (rows) to a stage (columns)
    (:func:`saleslab.lifecycle.movement_matrix`), counts written in the cells."""
    setup_fonts()
    colours = palette_colours(palette)
    fig, ax = plt.subplots(figsize=(8, 0.55 * len(matrix) + 1.8), dpi=110)
    vals = matrix.to_numpy(dtype=float)
    ax.imshow(np.log1p(vals), cmap=_cmap(colours[0]), aspect="auto")
    for i in range(vals.shape[0]):
        for j in range(vals.shape[1]):
            if vals[i, j]:
                dark = np.log1p(vals[i, j]) > 0.6 * np.log1p(vals.max())
                ax.text(j, i, f"{int(vals[i, j]):,}", ha="center", va="center", fontsize=9,
                        color="white" if dark else "#222")
    ax.set_xticks(range(vals.shape[1]), [t(c, lang) for c in matrix.columns], rotation=30, ha="right")
    ax.set_yticks(range(vals.shape[0]), [t(r, lang) for r in matrix.index])
    ax.set_xlabel(t("to_stage", lang))
    ax.set_ylabel(t("from_stage", lang))
    ax.set_title(t("stage_flow", lang))
    fig.tight_layout()
    return fig


def cohort_heatmap(matrix, lang: str, palette=None, max_months: int = 12):
    """Retention matrix (:func:`saleslab.lifecycle.cohort_matrix`) as a heatmap: cohorts as rows,
    months since the first order (0..``max_months``) as columns; unobserved cells blank."""
    setup_fonts()
    colours = palette_colours(palette)
    cols = [c for c in matrix.columns if c != "cohort_size" and c <= max_months]
    vals = matrix[cols].to_numpy(dtype=float)
    fig, ax = plt.subplots(figsize=(max(8, 0.6 * len(cols) + 2.5), 0.28 * len(matrix) + 1.8), dpi=110)
    shown = np.ma.masked_invalid(np.where(np.array(cols) == 0, np.nan, vals))  # month 0 is always 100 %
    im = ax.imshow(shown, cmap=_cmap(colours[0]), aspect="auto", vmin=0)
    if len(cols) <= 13 and len(matrix) <= 40:
        vmax = float(np.nanmax(shown)) if shown.count() else 1.0
        for i in range(vals.shape[0]):
            for j, c in enumerate(cols):
                v = vals[i, j]
                if v == v and c > 0:
                    ax.text(j, i, f"{v:.0%}", ha="center", va="center", fontsize=7,
                            color="white" if v > 0.6 * vmax else "#222")
    ax.set_xticks(range(len(cols)), [str(c) for c in cols])
    ax.set_yticks(range(len(matrix)), [f"{m:%Y-%m} ({int(n):,})" for m, n in zip(matrix.index, matrix["cohort_size"])],
                  fontsize=8)
    ax.set_xlabel(t("months_since", lang))
    ax.set_ylabel(t("cohort_month", lang))
    ax.set_title(t("cohort_heatmap", lang))
    cb = fig.colorbar(im, ax=ax, fraction=0.03)
    cb.ax.yaxis.set_major_formatter(PercentFormatter(1.0))
    fig.tight_layout()
    return fig


def retention_curve_chart(cohorts, curve, lang: str, palette=None, recent: int = 4, max_months: int = 12):
    """Retention by months since the first order: the size-weighted curve over all cohorts
    (:func:`saleslab.lifecycle.retention_curve`) and up to ``recent`` (≤ 4) cohorts six months apart,
    the latest observed for at least min(``max_months``, 6) months (:func:`saleslab.lifecycle.cohort_table`)
    — at most 5 lines."""
    setup_fonts()
    colours = palette_colours(palette)
    fig, ax = plt.subplots(figsize=(9, 4), dpi=110)
    c = curve[(curve["months_since"] >= 1) & (curve["months_since"] <= max_months)]
    ax.plot(c["months_since"], c["retention_rate"], color=colours[0], linewidth=2.5, marker="o", ms=3,
            label=t("all_cohorts", lang))
    observed = cohorts.groupby("cohort_month")["months_since"].max()
    candidates = sorted(observed[observed >= min(max_months, 6)].index)
    picks = sorted(candidates[::-1][::6][:min(recent, 4)])  # the latest long-observed cohorts, half a year apart
    for i, m in enumerate(picks):
        d = cohorts[(cohorts["cohort_month"] == m) & (cohorts["months_since"] >= 1)
                    & (cohorts["months_since"] <= max_months)]
        ax.plot(d["months_since"], d["retention_rate"], color=colours[(i + 1) % len(colours)], linewidth=1.2,
                alpha=0.9, label=f"{m:%Y-%m}")
    ax.yaxis.set_major_formatter(PercentFormatter(1.0))
    ax.set_xlabel(t("months_since", lang))
    ax.set_ylabel(t("retention_rate", lang))
    ax.set_ylim(0, max(0.05, float(np.nanmax([c["retention_rate"].max() if len(c) else 0,
                                               cohorts.loc[cohorts["months_since"] >= 1, "retention_rate"].max()
                                               if (cohorts["months_since"] >= 1).any() else 0])) * 1.15))
    ax.set_title(t("retention_curves", lang))
    ax.legend(loc="upper right", frameon=False, fontsize=8)
    ax.spines[["top", "right"]].set_visible(False)
    fig.tight_layout()
    return fig


def rates_chart(rates, lang: str, palette=None):
    """Active customers per month (bars) with the repurchase and churn rates (lines, right axis)
    (:func:`saleslab.lifecycle.monthly_rates`); the churn line names the churned days it was computed with."""
    setup_fonts()
    colours = palette_colours(palette)
    fig, ax = plt.subplots(figsize=(11, 4.2), dpi=110)
    x = _months(rates["month"])
    ax.bar(x, rates["active_customers"], color=colours[0], alpha=0.55, label=t("active_customers", lang))
    ax.set_ylabel(t("active_customers", lang))
    ax2 = ax.twinx()
    ax2.plot(x, rates["repurchase_rate"], color=colours[1 % len(colours)], marker="o", ms=3,
             label=t("repurchase_rate", lang))
    ax2.plot(x, rates["churn_rate"], color=colours[2 % len(colours)], marker="s", ms=3,
             label=say("churn_rate_days", lang, days=used(rates, "lifecycle_churned_days")))
    ax2.yaxis.set_major_formatter(PercentFormatter(1.0))
    ax2.set_ylim(0, 1.05)
    step = max(1, len(x) // 18)
    ax.set_xticks(range(0, len(x), step), [x[i] for i in range(0, len(x), step)], rotation=45, ha="right")
    handles = ax.get_legend_handles_labels()[0] + ax2.get_legend_handles_labels()[0]
    ax.legend(handles, [h.get_label() for h in handles], loc="upper left", frameon=False, fontsize=8)
    ax.set_title(t("monthly_customer_rates", lang))
    ax.spines[["top"]].set_visible(False)
    fig.tight_layout()
    return fig


def customer_monthly_chart(monthly, lang: str, palette=None, title: str = ""):
    """One customer's revenue per month (bars, 万元) and orders (line)
    (:func:`saleslab.customer360.monthly_history`)."""
    setup_fonts()
    colours = palette_colours(palette)
    fig, ax = plt.subplots(figsize=(11, 3.8), dpi=110)
    x = _months(monthly["month"])
    ax.bar(x, monthly["revenue"], color=colours[0], label=t("revenue", lang))
    money_axis(ax, lang)
    ax2 = ax.twinx()
    ax2.plot(x, monthly["orders"], color=colours[1 % len(colours)], marker="o", ms=3, label=t("orders", lang))
    ax2.set_ylabel(t("orders", lang))
    ax2.set_ylim(0, max(1, int(monthly["orders"].max())) * 1.3)
    step = max(1, len(x) // 18)
    ax.set_xticks(range(0, len(x), step), [x[i] for i in range(0, len(x), step)], rotation=45, ha="right")
    handles = ax.get_legend_handles_labels()[0] + ax2.get_legend_handles_labels()[0]
    ax.legend(handles, [h.get_label() for h in handles], loc="upper left", frameon=False, fontsize=8)
    ax.set_title(f"{t('customer_monthly_orders', lang)} {title}".strip())
    ax.spines[["top"]].set_visible(False)
    fig.tight_layout()
    return fig

