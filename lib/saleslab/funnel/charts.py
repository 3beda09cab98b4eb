"""Charts of the funnel stage: the funnel itself and the stage conversion per lead source.
They draw; the figures come from :mod:`saleslab.funnel`."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.patches import Patch
from matplotlib.ticker import PercentFormatter

from ..params import used
from ..report.charts import palette_colours, setup_fonts
from ..report.i18n import has, t
from .conversion import OPEN_STAGES, STAGE_CODES


def _name(v, lang: str) -> str:
    return t(v, lang) if isinstance(v, str) and has(v) else str(v)


def funnel_chart(overall, lang: str, palette=None):
    """A funnel: one centred bar per stage, as wide as the leads that entered it
    (:func:`saleslab.funnel.funnel_table` without a cut), with the conversion to the next stage
    and the leads still open beside each bar; the open part of a bar in its own colour."""
    setup_fonts()
    colours = palette_colours(palette)
    base, open_c, text_c = colours[0], colours[1 % len(colours)], "#333333"
    f = overall.sort_values("stage_order").reset_index(drop=True)
    n = len(f)
    fig, ax = plt.subplots(figsize=(8.5, 0.8 * n + 1.6), dpi=110)
    widest = float(f["leads_entered"].max()) if n else 1.0
    for i, r in f.iterrows():
        y = n - 1 - i
        w, o = float(r["leads_entered"]), float(r["leads_open"])
        ax.barh(y, w, left=-w / 2, color=base, height=0.7)
        if o:
            ax.barh(y, o, left=w / 2 - o, color=open_c, height=0.7)
        ax.text(0, y, f"{int(w):,}", ha="center", va="center", color="white", fontsize=10)
        note = [] if np.isnan(r["stage_conversion"]) else [f"→ {r['stage_conversion']:.1%}"]
        if o:
            note.append(f"{t('leads_open', lang)} {int(o):,}")
        ax.text(widest / 2 * 1.04, y, "  ".join(note), ha="left", va="center", color=text_c, fontsize=9)
    ax.set_yticks(range(n), [_name(s, lang) for s in f["funnel_stage"]][::-1])
    ax.set_xticks([])
    ax.set_xlim(-widest / 2 * 1.05, widest / 2 * 1.75)
    ax.spines[["top", "right", "bottom", "left"]].set_visible(False)
    ax.set_title(f"{t('funnel_overview', lang)} ({used(overall, 'period_start')} – {used(overall, 'period_end')})")
    ax.legend(handles=[Patch(color=base, label=t("leads_entered", lang)), Patch(color=open_c, label=t("leads_open", lang))],
              loc="lower right", frameon=False, fontsize=8)
    fig.tight_layout()
    return fig


def source_conversion_chart(cuts, lang: str, palette=None):
    """Stage conversion per lead source, one group of bars per source and one colour per stage
    (lead .. contract: four colours) with the Wilson interval as error bars
    (:func:`saleslab.funnel.funnel_cuts`, rows of the cut ``lead_source``)."""
    setup_fonts()
    colours = palette_colours(palette)
    s = cuts[(cuts["funnel_cut"] == "lead_source") & (cuts["stage_order"] < len(OPEN_STAGES))]
    sources = sorted(s["funnel_cut_value"].unique())
    x = np.arange(len(sources))
    width = 0.8 / len(OPEN_STAGES)
    fig, ax = plt.subplots(figsize=(max(8, 1.4 * len(sources) + 2), 4.4), dpi=110)
    for k in range(len(OPEN_STAGES)):
        part = s[s["stage_order"] == k].set_index("funnel_cut_value").reindex(sources)
        rate = part["stage_conversion"].to_numpy(dtype=float)
        lo = np.clip(rate - part["stage_conversion_lo"].to_numpy(dtype=float), 0, None)
        hi = np.clip(part["stage_conversion_hi"].to_numpy(dtype=float) - rate, 0, None)
        label = f"{_name(STAGE_CODES[k], lang)}→{_name(STAGE_CODES[k + 1], lang)}"
        ax.bar(x + (k - (len(OPEN_STAGES) - 1) / 2) * width, np.nan_to_num(rate), width,
               yerr=np.nan_to_num(np.vstack([lo, hi])), capsize=2, color=colours[k % len(colours)], label=label,
               error_kw={"elinewidth": 0.8, "ecolor": "#555555"})
    ax.set_xticks(x, [_name(v, lang) for v in sources])
    ax.yaxis.set_major_formatter(PercentFormatter(1.0))
    ax.set_ylim(0, 1.05)
    ax.set_ylabel(t("stage_conversion", lang))
    ax.set_title(t("funnel_source_conversion", lang))
    ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), frameon=False, fontsize=8)
    ax.spines[["top", "right"]].set_visible(False)
    fig.tight_layout()
    return fig
