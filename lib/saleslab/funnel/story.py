"""The funnel stage's generated narrative: where the biggest loss sits first, then the funnel.

Each finding is one template in :mod:`saleslab.funnel.labels` (``story_funnel_*``), in both
languages; thresholds are those the tables were computed with.
"""

from __future__ import annotations

import pandas as pd

from ..params import used
from ..report.format import money
from ..report.i18n import has, join, say, t
from .conversion import STAGE_CODES


def _name(v, lang: str) -> str:
    return t(v, lang) if isinstance(v, str) and has(v) else str(v)


def _pct(v) -> str:
    return "–" if v is None or pd.isna(v) else f"{v:.1%}"


def _count(v) -> str:
    """An expected or excess lead count: whole above 10, one decimal below."""
    return f"{v:,.0f}" if abs(v) >= 10 else f"{v:.1f}"


def _days(v) -> str:
    return "–" if v is None or pd.isna(v) else f"{v:.0f}"


def loss_text(losses: pd.DataFrame, lang: str) -> str:
    """Findings 1–2 from :func:`saleslab.funnel.biggest_losses`: the lead source with the most
    excess loss (its worst stage, its and the overall conversion there, the next two sources),
    then the three reps with the most excess loss."""
    pos = losses[losses["excess_dropped"] > 0]
    src = pos[pos["funnel_cut"] == "lead_source"]
    reps = pos[pos["funnel_cut"] == "rep_id"]
    lines = []
    if len(src):
        top = src.iloc[0]
        more = src.iloc[1:3]
        more_txt = say("story_funnel_loss_more", lang, names=join(
            (f"{_name(r.funnel_cut_value, lang)} (+{_count(r.excess_dropped)}, {_name(r.worst_stage, lang)})"
             for r in more.itertuples()), lang)) if len(more) else ""
        lines.append(say("story_funnel_loss_source", lang, source=_name(top["funnel_cut_value"], lang),
                         dropped=f"{int(top['leads_dropped']):,}", excess=_count(top["excess_dropped"]),
                         stage=_name(top["worst_stage"], lang), rate=_pct(top["worst_conversion"]),
                         overall=_pct(top["overall_conversion"]), more=more_txt).rstrip())
    else:
        lines.append(say("story_funnel_no_loss", lang, min_leads=used(losses, "funnel_min_leads")))
    if len(reps):
        lines.append(say("story_funnel_loss_rep", lang, names=join(
            (f"{r.funnel_cut_value} (+{_count(r.excess_dropped)}, {_name(r.worst_stage, lang)} {_pct(r.worst_conversion)})"
             for r in reps.head(3).itertuples()), lang)))
    else:
        lines.append(say("story_funnel_no_rep_loss", lang))
    return "\n".join(lines)


def funnel_narrative(overall: pd.DataFrame, losses: pd.DataFrame, sources: pd.DataFrame, totals: pd.DataFrame,
                     lang: str) -> str:
    """The stage's findings, the biggest loss first: from :func:`saleslab.funnel.biggest_losses`
    (``losses``), :func:`~saleslab.funnel.funnel_table` without a cut (``overall``),
    :func:`~saleslab.funnel.cohort_table` by lead source (``sources``) and without a cut
    (``totals``): the loss by source and rep, the stage conversions with the open leads, the best
    and worst source, the sales cycle."""
    if overall.empty or totals.empty:
        return say("story_funnel_empty", lang)
    lines = [loss_text(losses, lang)]
    tot = totals.iloc[0]
    steps = overall[overall["stage_conversion"].notna()]
    step_txt = join((say("story_funnel_step", lang, rate=_pct(r),
                         stage=f"{_name(STAGE_CODES[k], lang)}→{_name(STAGE_CODES[k + 1], lang)}")
                     for k, r in zip(steps["stage_order"], steps["stage_conversion"])), lang)
    lines.append(say("story_funnel_overall", lang, leads=f"{int(tot['cohort_leads']):,}", steps=step_txt,
                     won=f"{int(tot['leads_won']):,}", win_rate=_pct(tot["lead_win_rate"]),
                     open=f"{int(tot['leads_open']):,}"))
    ranked = sources[sources["lead_win_rate"].notna()].sort_values(["lead_win_rate", "lead_source"],
                                                                   ascending=[False, True])
    if len(ranked) >= 2:
        best, worst = ranked.iloc[0], ranked.iloc[-1]
        lines.append(say("story_funnel_sources", lang, best=_name(best["lead_source"], lang),
                         best_rate=_pct(best["lead_win_rate"]), worst=_name(worst["lead_source"], lang),
                         worst_rate=_pct(worst["lead_win_rate"])))
    if pd.notna(tot["cycle_median_days"]):
        lines.append(say("story_funnel_cycle", lang, median=_days(tot["cycle_median_days"]),
                         p90=_days(tot["cycle_p90_days"])))
    return "\n".join(lines)


def roi_text(roi: pd.DataFrame, lang: str) -> str:
    """What :func:`saleslab.funnel.source_roi` can say: the sources' CAC and ROI where their cost is
    a parameter, and otherwise that the cost per source is missing, with the overall CAC and ROI
    of the lead funnel's sales channel (``funnel_cost_channel``) when channel costs exist."""
    given = roi[(roi["cost_basis"] == "cost_parameter") & (roi["lead_source"] != "all")]
    total = roi[roi["lead_source"] == "all"].iloc[0]
    parts = []
    if len(given):
        parts.append(say("story_funnel_roi", lang, items=join(
            (say("story_funnel_roi_item", lang, source=_name(r.lead_source, lang),
                 cac="–" if pd.isna(r.cac) else f"{r.cac:,.0f}", roi="–" if pd.isna(r.roi) else f"{r.roi:.2f}")
             for r in given.itertuples()), lang)))
    if len(given) < (roi["lead_source"] != "all").sum():
        if total["cost_basis"] == "channel_costs":
            parts.append(say("story_funnel_roi_missing", lang, channel=t(used(roi, "funnel_cost_channel"), lang),
                             cost=money(total["acquisition_cost"], lang), new=int(total["new_customers"]),
                             cac="–" if pd.isna(total["cac"]) else f"{total['cac']:,.0f}",
                             revenue=money(total["won_revenue"], lang),
                             roi="–" if pd.isna(total["roi"]) else f"{total['roi']:.2f}"))
        else:
            parts.append(say("story_funnel_roi_no_costs", lang, revenue=money(total["won_revenue"], lang)))
    return " ".join(parts)


def cohort_text(cohorts: pd.DataFrame, lang: str) -> str:
    """One sentence on :func:`saleslab.funnel.cohort_table` by month: how many entry months still
    hold open leads (the latest of them named), so that their win rate is not final."""
    open_months = cohorts[cohorts["leads_open"] > 0]
    if open_months.empty:
        return ""
    return say("story_funnel_open_cohorts", lang, months=len(open_months), last=open_months["entry_month"].max(),
               open=int(open_months["leads_open"].sum()))
