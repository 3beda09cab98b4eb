"""Presentation of the customer 360° page: the other stages' verdicts on the customer as a table
with one sentence explaining how they hold together, and the monthly trend drawn only when there
are enough months (an empty table is one line: ``st.labelled(df, empty=...)``).

Templates and labels are in :mod:`saleslab.customer360.labels` (``story_c360_*``, ``link_*``);
numbers are written with :func:`saleslab.report.format.fmt`.
"""

from __future__ import annotations

import pandas as pd

from ..errors import InsufficientData
from ..params import used
from ..report.format import fmt
from ..report.i18n import has, join, say, t
from .links import review_and_value

#: Columns of :func:`links_view`.
VIEW_COLUMNS = ["link_stage", "link_fact", "link_value", "link_detail", "link_source"]


def _number(value, kind, lang: str) -> str:
    if kind == "share":
        return fmt(value, "percent", lang)
    if kind == "money":
        return fmt(value, "money", lang)
    if kind == "days":
        return fmt(value, "days", lang)
    if kind == "points":
        return say("c360_points", lang, points=fmt(value, "count", lang))
    return fmt(value, "number", lang)


def links_view(links: pd.DataFrame, lang: str) -> pd.DataFrame:
    """:func:`saleslab.customer360.linked_facts` for reading: link_stage (the page's title key),
    link_fact (label key), link_value (a label key — class, tier, tag, grade, alert — or the
    figure written in ``lang``), link_detail (the figure behind a coded verdict: the collection
    rate of a review, the points of a credit grade; else empty), link_source (``run``: read from
    that page's saved table, or ``computed`` on this page). Show it with
    ``st.labelled(view, ["link_stage", "link_fact", "link_value", "link_source"])``."""
    rows = []
    for r in links.itertuples(index=False):
        number = None if pd.isna(r.link_number) else _number(r.link_number, r.link_kind, lang)
        source = "computed" if r.link_source == "computed" else "run"
        if isinstance(r.link_value, str):
            rows.append((r.link_stage, r.link_fact, r.link_value, number or "", source))
        else:
            rows.append((r.link_stage, r.link_fact, number or "", "", source))
    return pd.DataFrame(rows, columns=VIEW_COLUMNS)


def _label(key, lang: str) -> str:
    return t(key, lang) if isinstance(key, str) and has(key) else str(key)


def _stage(stage, lang: str) -> str:
    return _label(stage, lang)


def links_narrative(links: pd.DataFrame, card: pd.DataFrame, lang: str) -> str:
    """One sentence over :func:`saleslab.customer360.linked_facts`: when the customer is flagged
    (closure review in 04, credit grade D in 12) and valued by its purchases in 06 (important
    RFM class, high-value tier or tag, deepen / maintain quadrant), both are named with their
    stages and the sentence says how both hold (purchases vs. payment behaviour, and what to do);
    flagged only, or valued only, a shorter sentence; nothing linked, one line saying so."""
    c = card.iloc[0]
    name = c["customer_name"] if isinstance(c.get("customer_name"), str) else str(c["customer_id"])
    if links.empty:
        return say("story_c360_links_none", lang, name=name)
    flagged, valuable = review_and_value(links)
    flags = []
    for r in links.itertuples(index=False):
        if r.link_value == "closure_review":
            flags.append(say("story_c360_flag_review", lang, stage=_stage(r.link_stage, lang),
                             rate=fmt(r.link_number, "percent", lang)))
        elif r.link_value == "credit_d":
            flags.append(say("story_c360_flag_credit", lang, stage=_stage(r.link_stage, lang),
                             grade=_label("credit_d", lang)))
    seg = links[links["link_value"].isin(valuable)].drop_duplicates("link_value")
    items = [say("c360_verdict_item", lang, fact=_label(f, lang), value=_label(v, lang))
             for f, v in zip(seg["link_fact"], seg["link_value"])]
    verdicts = (say("story_c360_verdicts", lang, stage=_stage(seg["link_stage"].iloc[0], lang), verdicts=join(items, lang))
                if len(seg) else "")
    alerts = links[links["link_fact"] == "link_alert"]
    watch = (say("story_c360_watch", lang, stage=_stage(alerts["link_stage"].iloc[0], lang),
                 alerts=join([_label(a, lang) for a in alerts["link_value"]], lang)) if len(alerts) else "")
    overdue = links.loc[links["link_fact"] == "link_overdue_90", "link_number"]
    over = fmt(float(overdue.iloc[0]), "money", lang) if len(overdue) and overdue.iloc[0] > 0 else None
    if flagged and valuable:
        key = "story_c360_links_review_value_overdue" if over else "story_c360_links_review_value"
        return say(key, lang, name=name, flags=join(flags, lang), verdicts=verdicts, overdue=over or "")
    if flagged:
        return say("story_c360_links_flagged", lang, name=name, flags=join(flags, lang))
    if valuable and watch:
        return say("story_c360_links_valuable_watch", lang, name=name, verdicts=verdicts, watch=watch)
    if valuable:
        return say("story_c360_links_valuable", lang, name=name, verdicts=verdicts)
    if watch:
        return say("story_c360_links_watch", lang, name=name, watch=watch)
    return say("story_c360_links_plain", lang, name=name)


def monthly_chart(monthly: pd.DataFrame, lang: str, palette=None, title: str = ""):
    """The customer's monthly revenue and orders (:func:`saleslab.lifecycle.charts.customer_monthly_chart`)
    when the history has at least ``c360_trend_min_months`` months (the value recorded on
    ``monthly``, default 3); fewer: :class:`~saleslab.errors.InsufficientData` with one sentence
    in ``lang`` (``with st.section(...)`` shows it instead of a one-point chart)."""
    from ..lifecycle import charts as lifecycle_charts

    need = used(monthly, "c360_trend_min_months") if "params" in monthly.attrs else 3
    if len(monthly) < int(need):
        raise InsufficientData(say("c360_trend_too_short", lang, months=len(monthly), need=int(need)),
                               needed_for="the monthly trend")
    return lifecycle_charts.customer_monthly_chart(monthly, lang, palette, title)
