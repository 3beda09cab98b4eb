"""Charts of the team stage: achievement per rep against the 100 %, reward and coaching lines,
and the team comparison. They draw; the figures come from :mod:`saleslab.team`."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.ticker import PercentFormatter

from ..params import used
from ..report.charts import money_axis, palette_colours, setup_fonts
from ..report.i18n import t


def achievement_chart(reps, lang: str, palette=None):
    """Bars of achievement rate per rep (in rank order) with lines at 100 % and at the ``reward_min``
    and ``coaching_max`` that ``reps`` was computed with; reward-tier bars and coaching bars in their
    own colours (:func:`saleslab.team.rep_performance`)."""
    reward_min, coaching_max = used(reps, "reward_min"), used(reps, "coaching_max")
    setup_fonts()
    colours = palette_colours(palette)
    base, target_c, reward_c, coach_c = (colours[i % len(colours)] for i in (0, 1, 2, 3))
    r = reps[reps["achievement_rate"].notna()]
    labels = [f"{i} {n}" if isinstance(n, str) else str(i) for i, n in zip(r["rep_id"], r["rep_name"])]
    bar_colours = [reward_c if tr == "tier_reward" else coach_c if tr == "tier_coaching" else base for tr in r["tier"]]
    fig, ax = plt.subplots(figsize=(max(8, 0.45 * len(r) + 2), 4.4), dpi=110)
    ax.bar(labels, r["achievement_rate"], color=bar_colours)
    ax.axhline(1.0, color=target_c, linestyle="-", linewidth=1.2, label=t("target_line", lang))
    ax.axhline(reward_min, color=reward_c, linestyle="--", linewidth=1.2, label=f"{t('reward_line', lang)} {reward_min:.0%}")
    ax.axhline(coaching_max, color=coach_c, linestyle="--", linewidth=1.2,
               label=f"{t('coaching_line', lang)} {coaching_max:.0%}")
    ax.yaxis.set_major_formatter(PercentFormatter(1.0))
    top = float(np.nanmax([r["achievement_rate"].max() if len(r) else 0, reward_min]))
    ax.set_ylim(0, top * 1.12)
    ax.set_ylabel(t("achievement_rate", lang))
    ax.set_title(t("rep_achievement", lang))
    ax.tick_params(axis="x", labelrotation=60)
    ax.legend(loc="upper right", frameon=False, fontsize=8)
    ax.spines[["top", "right"]].set_visible(False)
    fig.tight_layout()
    return fig


def team_chart(teams, lang: str, palette=None):
    """Revenue and target per team (grouped bars, 万元) with the achievement rate above each pair
    (:func:`saleslab.team.team_performance`)."""
    setup_fonts()
    colours = palette_colours(palette)
    x = np.arange(len(teams))
    fig, ax = plt.subplots(figsize=(max(8, 0.9 * len(teams) + 2), 4.2), dpi=110)
    ax.bar(x - 0.2, teams["revenue"], 0.4, color=colours[0], label=t("revenue", lang))
    ax.bar(x + 0.2, teams["target"].fillna(0), 0.4, color=colours[1 % len(colours)], label=t("target", lang))
    for i, (rev, tgt, a) in enumerate(zip(teams["revenue"], teams["target"].fillna(0), teams["achievement_rate"])):
        if a == a:
            ax.text(i, max(rev, tgt), f"{a:.0%}", ha="center", va="bottom", fontsize=9)
    ax.set_xticks(x, list(teams["team"]))
    money_axis(ax, lang)
    top = float(max(teams["revenue"].max(), teams["target"].fillna(0).max())) if len(teams) else 1.0
    ax.set_ylim(0, top * 1.12)
    ax.set_title(t("team_comparison", lang))
    ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), frameon=False)
    ax.spines[["top", "right"]].set_visible(False)
    fig.tight_layout()
    return fig
