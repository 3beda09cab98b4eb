"""Charts of the actions stage: actions per rule (new, open ones updated, closed ones kept) and
the review's measured effects with their intervals. They draw; the figures come from the tables
of :mod:`saleslab.actions`."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from ..report.charts import palette_colours, setup_fonts
from ..report.i18n import t

_PARTS = ("actions_new", "actions_updated", "actions_reopened", "actions_kept_closed")


def rules_chart(rules: pd.DataFrame, lang: str, palette=None):
    """Horizontal stacked bars per rule: new actions, open actions updated, actions reopened after
    their review window, closed ones kept closed (:func:`saleslab.actions.record`); a rule without
    trigger data shows an empty bar."""
    setup_fonts()
    colours = palette_colours(palette)
    fig, ax = plt.subplots(figsize=(8, 0.45 * len(rules) + 1.6), dpi=110)
    y = np.arange(len(rules))
    left = np.zeros(len(rules))
    for i, part in enumerate(_PARTS):
        v = rules[part].fillna(0).to_numpy(dtype=float) if part in rules else np.zeros(len(rules))
        ax.barh(y, v, left=left, color=colours[i % len(colours)], label=t(part, lang))
        left += v
    ax.set_yticks(y, [t(k, lang) for k in rules["kind"]])
    ax.invert_yaxis()
    ax.set_xlabel(t("actions_count", lang))
    ax.legend(frameon=False, fontsize=8, loc="lower right")
    ax.set_title(t("actions_by_rule_title", lang))
    ax.spines[["top", "right"]].set_visible(False)
    fig.tight_layout()
    return fig


def effect_chart(summary: pd.DataFrame, lang: str, palette=None):
    """The measured effect of each reviewed group (rate metrics in percentage points) with its
    interval; the groups without an estimate are left out (:func:`saleslab.actions.review`)."""
    setup_fonts()
    s = summary[summary["measured_effect"].notna()].reset_index(drop=True)
    colours = palette_colours(palette)
    fig, ax = plt.subplots(figsize=(8, 0.55 * max(len(s), 1) + 1.6), dpi=110)
    rate = s["outcome_metric"].isin(["bought_again", "collection"]).to_numpy()
    scale = np.where(rate, 100.0, 1.0)
    eff = s["measured_effect"].to_numpy(dtype=float) * scale
    lo = s["effect_low"].to_numpy(dtype=float) * scale
    hi = s["effect_high"].to_numpy(dtype=float) * scale
    y = np.arange(len(s))
    worked = s["verdict"].eq("verdict_worked").to_numpy()
    for i in range(len(s)):
        c = colours[2 % len(colours)] if worked[i] else colours[0]
        ax.errorbar(eff[i], y[i], xerr=[[eff[i] - lo[i]], [hi[i] - eff[i]]], fmt="o", color=c, capsize=4)
    ax.axvline(0, color="#888888", linewidth=1)
    unit = [f"({t('unit_pp', lang)})" if r else "" for r in rate]
    ax.set_yticks(y, [f"{t(k, lang)} {c} {u}".strip() for k, c, u in zip(s["kind"], s["created"], unit)])
    ax.invert_yaxis()
    ax.set_xlabel(t("actions_effect_axis", lang))
    ax.set_title(t("actions_effect_title", lang))
    ax.spines[["top", "right"]].set_visible(False)
    fig.tight_layout()
    return fig
