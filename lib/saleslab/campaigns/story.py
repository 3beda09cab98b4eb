"""The campaign stage's generated narrative: association vs effect, the best controlled campaign,
the one without effect, the counts, and the placebo check.

Each finding is one template in :mod:`saleslab.campaigns.labels` (``story_campaigns_*``), in both
languages; the level and the ROI threshold are those the tables were computed with.
"""

from __future__ import annotations

import pandas as pd

from ..params import used
from ..report.format import money
from ..report.i18n import join, say, t


def _region(r, lang: str) -> str:
    return t(r, lang) if isinstance(r, str) and r else t("nationwide", lang)


def _level(df: pd.DataFrame) -> str:
    return f"{used(df, 'campaign_level') / 100:.0%}"


def words(effects: pd.DataFrame, lang: str) -> str:
    """What association and effect mean here, said plainly (the page's first paragraph)."""
    return say("story_campaigns_words", lang, level=_level(effects))


def narrative(effects: pd.DataFrame, lang: str) -> str:
    """Three findings from :func:`saleslab.campaigns.campaign_effects`: the controlled campaign with
    the largest incremental revenue (with interval and incremental ROI), a controlled campaign
    whose interval holds 0 set against its attributed revenue, and the counts by effect class with
    the campaigns to review (incremental ROI below ``campaign_roi_min``)."""
    est = effects[effects["lift_abs"].notna()]
    if est.empty:
        return say("story_campaigns_none", lang)
    ctrl = est[est["control_units"] > 0].sort_values(["lift_abs", "campaign_id"], ascending=[False, True])
    lines = []
    if ctrl.empty:
        lines.append(say("story_campaigns_none_controlled", lang))
    else:
        b = ctrl.iloc[0]
        fmt_roi = (lambda v: f"{v:.2f}" if pd.notna(v) else "–")
        lines.append(say("story_campaigns_best", lang, name=b["name"], region=_region(b["region"], lang),
                         lift=money(b["lift_abs"], lang), lo=money(b["lift_lo"], lang), hi=money(b["lift_hi"], lang),
                         pct=f"{b['lift_pct']:+.0%}" if pd.notna(b["lift_pct"]) else "–", spend=money(b["spend"], lang),
                         roi=fmt_roi(b["incremental_roi"]), roi_lo=fmt_roi(b["roi_lo"]), roi_hi=fmt_roi(b["roi_hi"])))
    null = ctrl[ctrl["effect"] == "effect_none"].sort_values(["attributed_revenue", "campaign_id"], ascending=[False, True])
    if len(null):
        n = null.iloc[0]
        lines.append(say("story_campaigns_null", lang, name=n["name"], region=_region(n["region"], lang),
                         lo=money(n["lift_lo"], lang), hi=money(n["lift_hi"], lang),
                         attributed=money(n["attributed_revenue"], lang),
                         att_roi=f"{n['attributed_roi']:.2f}" if pd.notna(n["attributed_roi"]) else "–"))
    elif len(ctrl):
        lines.append(say("story_campaigns_no_null", lang))
    review = est[est["review"] == True]  # noqa: E712
    lines.append(say("story_campaigns_counts", lang, n=len(est), up=int((est["effect"] == "effect_up").sum()),
                     none=int((est["effect"] == "effect_none").sum()), down=int((est["effect"] == "effect_down").sum()),
                     roi_min=f"{used(effects, 'campaign_roi_min'):g}",
                     review=join(review["campaign_id"].tolist(), lang) if len(review) else "–"))
    return "\n".join(lines)


def placebo_text(placebo: pd.DataFrame, lang: str) -> str:
    """One sentence on :func:`saleslab.campaigns.placebo_checks`: how many placebo intervals hold 0,
    and which campaigns failed."""
    p = placebo[placebo["holds_zero"].notna()]
    if p.empty:
        return ""
    failed = p[p["holds_zero"] == False]  # noqa: E712
    if failed.empty:
        return say("story_campaigns_placebo_all", lang, n=len(p))
    return say("story_campaigns_placebo", lang, held=int((p["holds_zero"] == True).sum()), n=len(p),  # noqa: E712
               level=_level(placebo), failed=join(failed["campaign_id"].tolist(), lang))
