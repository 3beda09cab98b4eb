"""Charts of the campaign stage: incremental revenue per campaign with its interval, the reached
regions' weekly revenue against the counterfactual, and the placebo intervals. They draw; the
figures come from :mod:`saleslab.campaigns`."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np

from ..params import used
from ..report.charts import money_axis, palette_colours, setup_fonts
from ..report.i18n import t


def _wan_x(ax, lang: str, what: str) -> None:
    money_axis(ax, lang, what, which="x")


def _intervals(ax, df, colours, lang: str) -> None:
    """Points with horizontal interval bars, one row per campaign, coloured by method."""
    methods = [m for m in ("did_cluster", "did_few", "its") if (df["lift_method"] == m).any()]
    y = np.arange(len(df))
    for k, m in enumerate(methods):
        sel = (df["lift_method"] == m).to_numpy()
        mid, lo, hi = (df[c].to_numpy(dtype=float)[sel] for c in ("lift_abs", "lift_lo", "lift_hi"))
        ax.errorbar(mid, y[sel], xerr=[mid - lo, hi - mid], fmt="o", color=colours[k % len(colours)], capsize=3,
                    label=t(m, lang))
    ax.axvline(0, color="#555555", linewidth=1, linestyle="--", label=t("zero_line", lang))
    ax.set_yticks(y, [f"{i} {n}" for i, n in zip(df["campaign_id"], df["name"])])
    ax.invert_yaxis()
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False, fontsize=8)
    ax.spines[["top", "right"]].set_visible(False)


def lift_chart(effects, lang: str, palette=None):
    """Incremental revenue of each campaign with its ``campaign_level`` % interval
    (:func:`saleslab.campaigns.campaign_effects`), coloured by method; the dashed line is no effect."""
    level = used(effects, "campaign_level")
    setup_fonts()
    e = effects[effects["lift_abs"].notna()]
    fig, ax = plt.subplots(figsize=(9, 0.32 * len(e) + 1.6), dpi=110)
    _intervals(ax, e, palette_colours(palette), lang)
    _wan_x(ax, lang, "lift_abs")
    ax.set_title(f"{t('campaign_lift_chart', lang)} ({level:g}%)")
    fig.tight_layout()
    return fig


def weekly_chart(weekly, lang: str, palette=None):
    """Weekly revenue of the regions a campaign reached and its counterfactual
    (:func:`saleslab.campaigns.campaign_weekly`), the campaign's weeks shaded."""
    setup_fonts()
    c = palette_colours(palette)
    fig, ax = plt.subplots(figsize=(9, 4), dpi=110)
    x = weekly["ds"].astype(str).to_numpy()
    post = weekly["post"].to_numpy()
    if post.any():
        first, last = int(np.flatnonzero(post)[0]), int(np.flatnonzero(post)[-1])
        ax.axvspan(first - 0.5, last + 0.5, color=c[2 % len(c)], alpha=0.15, label=t("campaign_window", lang))
    ax.plot(x, weekly["actual"], marker="o", color=c[0], label=t("actual", lang))
    ax.plot(x, weekly["counterfactual"], linestyle="--", color=c[1 % len(c)], label=t("counterfactual", lang))
    money_axis(ax, lang)
    ax.set_xlabel(t("ds", lang))
    ax.tick_params(axis="x", labelrotation=60)
    ax.set_title(f"{t('campaign_weekly_chart', lang)}: {used(weekly, 'campaign_name')}")
    ax.legend(loc="upper left", frameon=False, fontsize=8)
    ax.spines[["top", "right"]].set_visible(False)
    fig.tight_layout()
    return fig


def placebo_chart(placebo, lang: str, palette=None):
    """Placebo intervals (:func:`saleslab.campaigns.placebo_checks`): each should cross the dashed
    zero line, since nothing ran at the fake dates."""
    setup_fonts()
    p = placebo[placebo["lift_abs"].notna()]
    fig, ax = plt.subplots(figsize=(9, 0.32 * len(p) + 1.6), dpi=110)
    _intervals(ax, p, palette_colours(palette), lang)
    _wan_x(ax, lang, "lift_abs")
    ax.set_title(t("placebo_chart", lang))
    fig.tight_layout()
    return fig
