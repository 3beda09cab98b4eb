"""The data-quality stage's generated narrative: is the accounting complete, is coverage on target,
what the cleaning layer changed, and what needs a person.

Each finding is one template in :mod:`saleslab.quality.labels` (``story_quality_*``).
"""

from __future__ import annotations

import pandas as pd

from ..params import used
from ..report.i18n import join, say, t


def quality_narrative(headlines: dict, target_table: pd.DataFrame, resolution: dict, trend: pd.DataFrame,
                      lang: str) -> str:
    """Four findings from :func:`saleslab.quality.quality_headlines`,
    :func:`~saleslab.quality.coverage_vs_target` (with the target it was computed with),
    :func:`~saleslab.quality.resolution_totals` and :func:`~saleslab.quality.quality_trend`."""
    h = headlines
    read = h["rows_read"]
    share = (h["rows_quarantined"] / read) if read else 0.0
    below = target_table[~target_table["meets_target"]]
    target = f"{used(target_table, 'coverage_target'):.0%}"
    check = (t("story_quality_balanced", lang) if h["unbalanced_files"] == 0
             else say("story_quality_unbalanced", lang, n=h["unbalanced_files"]))
    if h.get("untraced_files"):
        check += say("story_quality_untraced", lang, n=h["untraced_files"])
    lines = [say("story_quality_accounting", lang, read=read, loaded=h["rows_loaded"], merged=h["rows_merged"],
                 quarantined=h["rows_quarantined"], share=share, check=check)]
    if len(below):
        worst = join((say("story_quality_measure_short", lang, measure=t(m, lang), coverage=c, lines=n)
                      for m, c, n in zip(below["coverage_measure"], below["coverage"], below["lines_to_fix"])), lang)
        lines.append(say("story_quality_coverage_below", lang, target=target, worst=worst))
    else:
        lines.append(say("story_quality_coverage_met", lang, target=target, measure=t(h["coverage_measure"], lang),
                         coverage=h["coverage"]))
    lines.append(say("story_quality_resolution", lang, records=resolution["records"],
                     customers=resolution["customers"], pairs=resolution["review_pairs"],
                     filled=h["values_filled"], outliers=h["outliers_flagged"]))
    if len(trend) <= 1:
        lines.append(t("story_quality_one_ingest", lang))
    else:
        p, c = trend.iloc[-2], trend.iloc[-1]
        lines.append(say("story_quality_trend", lang, q_before=p["quarantined_share"], q_now=c["quarantined_share"],
                         m_before=int(p["rows_merged"]), m_now=int(c["rows_merged"])))
    return "\n".join(lines)


def accuracy_text(accuracy: pd.DataFrame, lang: str) -> str:
    """One sentence on :func:`saleslab.quality.cleaning_accuracy`: not scored, or how many measures
    reach the target it was computed with and which fall short."""
    if accuracy.empty:
        return t("story_quality_not_scored", lang)
    target = f"{used(accuracy, 'accuracy_target'):.0%}"
    below = accuracy[~accuracy["meets_target"].astype(bool)]
    n, k = len(accuracy), len(accuracy) - len(below)
    if not len(below):
        return say("story_quality_accuracy_met", lang, k=k, n=n, target=target)
    short = join((f"{t(m, lang)} {a:.2%}" for m, a in zip(below["accuracy_measure"], below["accuracy"])), lang)
    return say("story_quality_accuracy_below", lang, k=k, n=n, target=target, short=short)
