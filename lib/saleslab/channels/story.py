"""The channels stage's generated narrative: its three biggest findings.

Each finding is one template in :mod:`saleslab.channels.labels` (``story_channels_*``), in both
languages; thresholds are those the tables were computed with. A finding whose figures are
unknown (no product costs, no channel costs, no invoices) is left out, never guessed.
"""

from __future__ import annotations

import pandas as pd

from ..params import used
from ..report.format import money
from ..report.i18n import join, say, t


def _names(df: pd.DataFrame, lang: str, key: str, value: str, fmt: str) -> str:
    return join((f"{t(k, lang) if k in ('online', 'retail', 'direct', 'distribution') else k} "
                 f"({format(v, fmt)})" for k, v in zip(df[key], df[value])), lang)


def channels_narrative(perf: pd.DataFrame, dist: pd.DataFrame | None, lang: str) -> str:
    """Up to three numbered findings from :func:`saleslab.channels.channel_performance` and
    :func:`~saleslab.channels.distributor_performance`: the largest channel (and the best gross
    margin when the costs are known), the channels below the ROI threshold (when channel costs are
    known), the distributors below the collection threshold (when ``dist`` is given and its
    collection is known)."""
    if perf.empty:
        return t("story_channels_empty", lang)
    top = perf.sort_values("revenue", ascending=False).iloc[0]
    margins = perf[perf["gross_margin"].notna()]
    if len(margins):
        best = margins.sort_values("gross_margin", ascending=False).iloc[0]
        lines = [say("story_channels_top", lang, channel=t(top["channel"], lang), revenue=money(top["revenue"], lang),
                     share=f"{top['revenue_share']:.1%}", best=t(best["channel"], lang),
                     best_margin=f"{best['gross_margin']:.1%}")]
    else:
        lines = [say("story_channels_top_share", lang, channel=t(top["channel"], lang), revenue=money(top["revenue"], lang),
                     share=f"{top['revenue_share']:.1%}")]
    if perf["roi"].notna().any():
        roi_min = used(perf, "roi_min")
        weak = perf[perf["roi_review"].fillna(False).astype(bool)].sort_values("roi")
        lines.append(say("story_channels_weak", lang, roi_min=f"{roi_min:g}",
                         names=_names(weak, lang, "channel", "roi", ".2f"))
                     if len(weak) else say("story_channels_no_weak", lang, roi_min=f"{roi_min:g}"))
    if dist is not None and dist["collection_rate"].notna().any():
        collection_min = used(dist, "collection_min")
        bad = dist[dist["closure_review"].fillna(False).astype(bool)].sort_values("collection_rate")
        bad = bad.assign(label=[f"{i} {n}" if isinstance(n, str) else i
                                for i, n in zip(bad["distributor_id"], bad["distributor_name"])])
        lines.append(say("story_channels_bad_collection", lang, collection_min=f"{collection_min:.0%}",
                         names=_names(bad, lang, "label", "collection_rate", ".1%"))
                     if len(bad) else say("story_channels_no_bad_collection", lang,
                                          collection_min=f"{collection_min:.0%}"))
    return "\n".join(f"{i}. {line}" for i, line in enumerate(lines, 1))
