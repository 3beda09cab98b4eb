"""The risk stage's generated narrative and the alerts' evidence in the run's language.

Each finding is one template in :mod:`saleslab.risk.labels` (``story_risk_*``, ``evidence_*``), in
both languages; thresholds are those the tables were computed with (:func:`saleslab.params.used`).
Money in 万元 (:func:`saleslab.report.format.wan`).
"""

from __future__ import annotations

import pandas as pd

from ..params import used
from ..report.format import money
from ..report.i18n import has, join, say, t


def _pct(v) -> str:
    return "–" if v is None or v != v else f"{v:.1%}"


def _lines(lines) -> str:
    return "\n".join(f"- {ln}" for ln in lines if ln)


def alerts_text(alerts: pd.DataFrame, lang: str) -> str:
    """How many alerts, how many high (:func:`saleslab.risk.risk_alerts`)."""
    if alerts is None or alerts.empty:
        return say("story_risk_no_alerts", lang)
    high = int((alerts["severity"] == "severity_high").sum())
    return say("story_risk_alerts", lang, total=len(alerts), high=high, medium=len(alerts) - high)


def distributors_text(dist: pd.DataFrame, lang: str) -> str:
    """The distributors below the collection minimum (:func:`saleslab.risk.distributor_collection`)."""
    lo = used(dist, "risk_distributor_collection_min")
    weak = dist[dist["collection_status"] == "collection_low"]
    if weak.empty:
        return say("story_risk_no_weak_distributors", lang, collection_min=_pct(lo))
    names = join((f"{i} ({_pct(r)})" for i, r in zip(weak["distributor_id"], weak["collection_rate"])), lang)
    return say("story_risk_weak_distributors", lang, collection_min=_pct(lo), names=names,
               amount=money(float(weak["outstanding"].sum()), lang))


def bad_debt_text(bad: pd.DataFrame, lang: str) -> str:
    """The overall bad-debt rate against its target (:func:`saleslab.risk.bad_debt`, ``by=None``)."""
    r = bad.iloc[0]
    target = used(bad, "risk_bad_debt_target")
    verdict = "story_risk_verdict_above" if bool(r["above_target"]) else "story_risk_verdict_within"
    return say("story_risk_bad_debt", lang, rate=_pct(r["bad_debt_rate"]), days=used(bad, "risk_bad_debt_days"),
               bad=money(r["bad_debt"], lang), invoiced=money(r["invoiced"], lang),
               verdict=t(verdict, lang), target=_pct(target))


def ageing_text(summary: pd.DataFrame, lang: str) -> str:
    """Past-due receivables and the oldest bucket's share (:func:`saleslab.risk.ageing_summary`)."""
    total = float(summary["outstanding"].sum())
    last = summary.iloc[-1]
    return say("story_risk_ageing", lang, as_of=used(summary, "as_of"), total=money(total, lang),
               last=str(last["ageing_bucket"]).lstrip(">"), over=money(last["outstanding"], lang), share=_pct(last["share"]))


def credit_text(credit: pd.DataFrame, lang: str) -> str:
    """The customers rated D (:func:`saleslab.risk.credit_rating`), largest exposure first (at most 5 named)."""
    d = credit[credit["credit_grade"] == "credit_d"].sort_values(["outstanding", "customer_id"], ascending=[False, True])
    if d.empty:
        return say("story_risk_no_credit_d", lang)
    names = join(list(d["customer_id"].head(5)) + (["…"] if len(d) > 5 else []), lang)
    return say("story_risk_credit", lang, n=len(d), exposure=money(float(d["outstanding"].sum()), lang), names=names)


def risk_narrative(lang: str, alerts: pd.DataFrame, tables) -> str:
    """The stage's opening findings from :func:`saleslab.risk.risk_alerts` and the stage's
    :class:`~saleslab.risk.RiskTables`: alerts, weak distributors, bad-debt rate, ageing,
    D-rated customers; a table that is missing (its section lacked its inputs) gives no sentence."""
    from .receivables import ageing_summary

    ageing = tables.ageing_customer
    lines = [alerts_text(alerts, lang),
             distributors_text(tables.distributors, lang) if tables.distributors is not None else None,
             bad_debt_text(tables.bad_debt, lang) if tables.bad_debt is not None else None,
             ageing_text(ageing_summary(ageing), lang) if ageing is not None and len(ageing) else None,
             credit_text(tables.credit, lang) if tables.credit is not None else None]
    return _lines(lines)


def turnover_text(watch: pd.DataFrame, lang: str) -> str:
    """At what frequency the turnover was watched, and its last observation (overall) against the
    expected level (:func:`saleslab.risk.turnover_watch`)."""
    a = watch[watch["category"] == "all"].sort_values("snapshot_date")
    last = a.iloc[-1]
    judged = a[a["turnover_deviation"].notna()]
    gap = used(watch, "median_gap_days")
    return say("story_risk_turnover", lang, frequency=t(used(watch, "watch_frequency"), lang), n=len(a),
               gap="–" if gap != gap else f"{gap:g}", date=str(last["snapshot_date"]),
               turnover=f"{last['turnover']:.2f}", expected="–" if last["expected_turnover"] != last["expected_turnover"]
               else f"{last['expected_turnover']:.2f}", deviation=_pct(last["turnover_deviation"]),
               threshold=_pct(used(watch, "risk_turnover_deviation_max")), flagged=int(judged["turnover_alert"].sum()),
               judged=len(judged))


def concentration_text(conc: pd.DataFrame, lang: str) -> str:
    """The channel with the highest HHI (:func:`saleslab.risk.concentration_by_channel`)."""
    ch = conc[(conc["channel"] != "all") & conc["hhi"].notna()]
    if ch.empty:
        return ""
    top = ch.sort_values(["hhi", "channel"], ascending=[False, True]).iloc[0]
    return say("story_risk_concentration", lang, channel=t(top["channel"], lang) if top["channel"] else "",
               hhi=f"{top['hhi']:.3f}", equivalent=f"{top['equivalent_customers']:.1f}", n=used(conc, "risk_top_n"),
               top=_pct(top["top_share"]))


def _evidence(r, lang: str) -> str:
    share_metric = r.alert_metric in ("collection_rate", "bad_debt_rate", "turnover_deviation", "top_share")
    fmt = _pct if share_metric else (lambda v: f"{v:.3f}" if r.alert_metric == "hhi" else f"{v:.0f}")
    key = f"evidence_{r.alert}"
    if r.alert == "alert_concentration":
        key = f"evidence_alert_concentration_{r.alert_metric}"
    days = "–" if r.days_overdue != r.days_overdue else f"{r.days_overdue:.0f}"
    return say(key, lang, value=fmt(r.alert_value), threshold=fmt(r.alert_threshold), at_stake=money(r.at_stake, lang),
               days=days)


def with_evidence(alerts: pd.DataFrame, lang: str) -> pd.DataFrame:
    """``alerts`` with an ``evidence`` column: the figures that triggered each alert, in ``lang``."""
    out = alerts.copy()
    out["evidence"] = [_evidence(r, lang) for r in alerts.itertuples()]
    out.attrs = {"params": dict(alerts.attrs.get("params", {}))}
    return out


def top_alerts(alerts: pd.DataFrame, lang: str, n: int = 5) -> list[dict]:
    """The first ``n`` alerts of :func:`saleslab.risk.risk_alerts` (high first, then by kind and
    money at stake) as findings for the executive summary: ``[{"text", "value"}]``, the text
    naming the alert, who it is about and its evidence (:func:`with_evidence`); value = at stake (元)."""
    out = []
    for r in alerts.head(n).itertuples(index=False):
        evidence = getattr(r, "evidence", None) or _evidence(r, lang)
        who = r.entity_name if isinstance(r.entity_name, str) and r.entity_name else ""
        if not who and r.entity_type != "entity_company" and isinstance(r.entity_id, str):
            who = f"{t(r.entity_type, lang)} {t(r.entity_id, lang) if has(r.entity_id) else r.entity_id}"
        who = who or t(r.entity_type, lang)
        out.append({"text": say("story_risk_top_alert", lang, severity=t(r.severity, lang), alert=t(r.alert, lang),
                                who=who, evidence=evidence),
                    "value": None if r.at_stake != r.at_stake else float(r.at_stake)})
    return out
