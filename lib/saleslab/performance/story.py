"""Narratives of the overview (01_overview) and performance (02_performance) stages.

Each finding is one template in :mod:`saleslab.performance.labels` (``story_performance_*``), in
both languages; thresholds are those the tables were computed with (:func:`saleslab.params.used`).
Money in 万元 (:func:`saleslab.report.format.wan`), growth and shares as percentages.
"""

from __future__ import annotations

import math

import pandas as pd

from ..params import used
from ..report.format import money
from ..report.i18n import has, say, t

#: Columns of the monthly table as shown in the report.
MONTHLY_COLUMNS = ("period", "revenue", "revenue_last_year", "yoy_growth", "pop_growth", "gross_margin", "orders",
                   "average_order_value", "active_customers", "new_customers", "revenue_per_customer")
#: Columns of the price-band table as shown in the report.
PRICE_BAND_COLUMNS = ("period", "price_band", "revenue", "volume", "gross_margin", "revenue_last_year", "yoy_growth")


def _ok(v) -> bool:
    return v is not None and not (isinstance(v, float) and math.isnan(v)) and not pd.isna(v)


def _plain(v):
    return round(float(v), 4) if _ok(v) else None


def headline_figures(monthly: pd.DataFrame, vs_target: pd.DataFrame | None = None,
                     collection: pd.DataFrame | None = None) -> dict:
    """Headline numbers (plain floats or None): latest month's revenue and YoY growth, year-to-date
    achievement (Σ actual / Σ target of :func:`saleslab.performance.comparison`) and collection rate
    (:func:`saleslab.performance.collection_rate` at year grain). ``vs_target`` and ``collection``
    may be left out (a warehouse without targets, invoices or payments): their figures are None."""
    from .analysis import overall_achievement

    last = monthly.sort_values("period").iloc[-1] if len(monthly) else None
    coll = collection.sort_values("period").iloc[-1] if collection is not None and len(collection) else None
    return {
        "latest_month_revenue": _plain(last["revenue"]) if last is not None else None,
        "yoy_growth": _plain(last["yoy_growth"]) if last is not None else None,
        "ytd_achievement": overall_achievement(vs_target) if vs_target is not None else None,
        "collection_rate": _plain(coll["collection_rate"]) if coll is not None else None,
    }


def for_display(df: pd.DataFrame, columns=None, rows: int | None = None) -> pd.DataFrame:
    """``df``, or only its ``columns`` and its first ``rows`` rows, for display."""
    out = df[list(columns)] if columns is not None else df
    return out.head(rows) if rows is not None else out


def _name(code, lang: str) -> str:
    return t(code, lang) if has(code) else str(code)


def _growth(v) -> str:
    return f"{v:+.1%}" if _ok(v) else "–"


def _share(v) -> str:
    return f"{v:.1%}" if _ok(v) else "–"


def _movement(i: int, m, lang: str) -> str:
    up = m.change >= 0
    driver = ""
    if _ok(m.driver_share) and m.driver_segment is not None:
        driver = say("story_performance_driver_gain" if up else "story_performance_driver_drop", lang,
                     share=f"{m.driver_share:.0%}", driver=_name(m.driver_segment, lang))
    key = "story_performance_movement_" + ("up" if up else "down") + ("" if _ok(m.pct_change) else "_amount")
    return say(key, lang, i=i, segment=_name(m.segment, lang), comparison=t(f"story_performance_vs_{m.comparison}", lang),
               pct=f"{abs(m.pct_change):.1%}" if _ok(m.pct_change) else "", change=money(abs(m.change), lang),
               driver=driver)


def performance_headline(monthly: pd.DataFrame, movements: pd.DataFrame, lang: str) -> str:
    """Markdown: the latest month's revenue (:func:`saleslab.performance.kpi_cube` by month) vs the
    previous month and last year, then the biggest movements
    (:func:`saleslab.performance.biggest_movements`) each with its main driver."""
    if monthly.empty:
        return t("story_performance_empty", lang)
    last = monthly.sort_values("period").iloc[-1]
    # no unit costs in the warehouse: the margin is unknown and not mentioned
    known = _ok(last["gross_margin"]) or _ok(last["cost"])
    key = "story_performance_latest" if known else "story_performance_latest_no_cost"
    out = [say(key, lang, month=pd.Timestamp(last["period"]), revenue=money(last["revenue"], lang),
               pop=_growth(last["pop_growth"]), yoy=_growth(last["yoy_growth"]),
               margin=_share(last["gross_margin"]))]
    if len(movements):
        out.append("\n" + say("story_performance_movements", lang, n=len(movements)) + "\n")
    out += [_movement(i, m, lang) for i, m in enumerate(movements.itertuples(index=False), 1)]
    return "\n".join(out)


def anomaly_text(flagged: pd.DataFrame, lang: str, dims=("region", "channel")) -> str:
    """One or two sentences on the flagged anomalies (:func:`saleslab.performance.flagged` of
    :func:`saleslab.performance.anomalies`) and the one furthest from its expected level in 元,
    with the threshold the anomalies were computed with."""
    threshold = f"{used(flagged, 'anomaly_threshold'):.0%}"
    if flagged.empty:
        return say("story_performance_no_anomaly", lang, threshold=threshold)
    top = flagged.loc[flagged["gap"].abs().idxmax()]
    seg = " · ".join(_name(top[d], lang) for d in dims if d in flagged.columns)
    expected = t(f"story_performance_expected_{used(flagged, 'anomaly_method')}", lang)
    return say("story_performance_anomalies", lang, n=len(flagged), threshold=threshold, expected=expected,
               month=pd.Timestamp(top["period"]), segment=seg, deviation=_growth(top["deviation"]),
               sign="+" if top["gap"] >= 0 else "−", gap=money(abs(top["gap"]), lang))


def correlation_text(corr: pd.DataFrame, lang: str) -> str:
    """Pearson / Spearman per channel (:func:`saleslab.performance.spend_vs_revenue`'s
    ``correlation``), stated as an association, not a cause."""
    if corr.empty:
        return t("story_performance_no_spend", lang)
    parts = [f"{_name(r.channel, lang)} r={r.pearson:.2f} / ρ={r.spearman:.2f}" if _ok(r.pearson)
             else f"{_name(r.channel, lang)} –" for r in corr.itertuples(index=False)]
    return say("story_performance_correlation", lang, channels=t("story_performance_list_sep", lang).join(parts))


def overview_narrative(monthly: pd.DataFrame, lang: str) -> str:
    """Up to three sentences on :func:`saleslab.performance.monthly_overview`: total revenue and
    gross margin (Σ gross_profit / Σ revenue; said to be unknown when the warehouse has no unit
    costs), the best month, and the last 12 months' growth against the 12 before (with at least
    24 months)."""
    if monthly.empty:
        return t("story_performance_empty", lang)
    revenue = float(monthly["revenue"].sum())
    profit = float(monthly["gross_profit"].sum())
    best = monthly.loc[monthly["revenue"].idxmax()]
    known = bool(monthly["gross_profit"].notna().any())
    key = "story_performance_overview_total" if known else "story_performance_overview_total_no_cost"
    text = say(key, lang, first=monthly["month"].iloc[0], last=monthly["month"].iloc[-1], revenue=money(revenue, lang),
               margin=f"{profit / revenue if revenue else 0.0:.1%}", best=best["month"],
               best_revenue=money(best["revenue"], lang))
    if len(monthly) >= 24:
        last12 = float(monthly["revenue"].iloc[-12:].sum())
        prev12 = float(monthly["revenue"].iloc[-24:-12].sum())
        if prev12:
            growth = last12 / prev12 - 1
            text += say("story_performance_overview_grew" if growth >= 0 else "story_performance_overview_fell",
                        lang, growth=f"{abs(growth):.1%}")
    return text


def achievement_text(vs_target: pd.DataFrame, lang: str) -> str:
    """One sentence on what achievement measures in ``vs_target``
    (:func:`saleslab.performance.target_comparison`): revenue net of returns or gross sales, by
    the ``achievement_basis`` it was computed with."""
    return say("story_performance_achievement_definition", lang,
               achievement=t(f"story_performance_achievement_{used(vs_target, 'achievement_basis')}", lang))


def definitions_text(table: pd.DataFrame, lang: str) -> str:
    """One sentence on the definitions ``table`` was computed with (domain.md: the report says which
    definition was used): the returns basis and, for a table with achievement, what it measures."""
    returns = t(f"story_performance_returns_{used(table, 'returns_basis')}", lang)
    if "achievement_rate" in table.columns:
        return say("story_performance_definitions_target", lang, returns=returns,
                   achievement=t(f"story_performance_achievement_{used(table, 'achievement_basis')}", lang))
    return say("story_performance_definitions", lang, returns=returns)


def movement_findings(movements: pd.DataFrame, lang: str) -> list[dict]:
    """The biggest movements (:func:`saleslab.performance.biggest_movements`) as findings for the
    executive summary: ``[{"text", "value"}]`` in the table's order, each sentence with its main
    driver (the text of :func:`performance_headline` without its list number); value = the change in 元."""
    out = []
    for i, m in enumerate(movements.itertuples(index=False), 1):
        text = _movement(i, m, lang)
        out.append({"text": text[len(f"{i}. "):] if text.startswith(f"{i}. ") else text, "value": float(m.change)})
    return out
