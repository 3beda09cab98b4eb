"""The risk stage's alerts table (风险预警): one row per finding, with severity, owner and the
figures that triggered it.

Rules (thresholds recorded on each input table, :func:`saleslab.params.used`):

========================  ===============================================  =========  ==================
alert                     when                                             severity   owner
========================  ===============================================  =========  ==================
alert_distributor_        collection rate < risk_distributor_collection_   high       role_channel_
collection                min (0.6); < ..._watch (0.8)                     medium     manager
alert_credit_grade        credit grade D; grade C with exposure above      high;      the customer's
                          risk_exposure_low                                medium     owner (credit)
alert_bad_debt            bad-debt rate > risk_bad_debt_target (2 %)       high       role_finance_
                                                                                      manager
alert_turnover            the last observation's turnover deviates from    high if >  role_inventory_
                          its expected level by > risk_turnover_deviation_ ..._high   manager
                          max (3 %) (overall and per category)             else medium
alert_concentration       hhi > risk_hhi_max (0.15) or, in a channel with  high if    role_channel_
                          more than risk_top_n customers, top_share >      hhi > ..._ manager
                          risk_top_share_max (0.5)                         high
========================  ===============================================  =========  ==================

Evidence columns: alert_metric (code), alert_value, alert_threshold (the figure and the line it
crossed), at_stake (the money at stake: outstanding, bad debt, stock value or channel revenue,
元), days_overdue (where it applies), observed_on (the date the figure is of).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from ..engine import Engine
from ..errors import InsufficientData, MissingSource
from ..facts import Params as FactsParams
from ..params import used
from .params import Params

SEVERITIES = ("severity_high", "severity_medium")
ALERTS = ("alert_distributor_collection", "alert_credit_grade", "alert_bad_debt", "alert_turnover",
          "alert_concentration")
ENTITIES = ("entity_distributor", "entity_customer", "entity_company", "entity_category", "entity_channel")
COLUMNS = ["alert", "severity", "entity_type", "entity_id", "entity_name", "risk_owner_type", "risk_owner",
           "risk_owner_name", "alert_metric", "alert_value", "alert_threshold", "at_stake", "days_overdue",
           "observed_on"]


@dataclass
class RiskTables:
    """The stage's tables (:func:`risk_tables`); a table whose inputs are missing is None and its
    error is kept, so that its section says why when it asks for it (:meth:`get`)."""

    distributors: pd.DataFrame | None = None
    credit: pd.DataFrame | None = None
    bad_debt: pd.DataFrame | None = None
    bad_debt_by_channel: pd.DataFrame | None = None
    ageing_customer: pd.DataFrame | None = None
    ageing_distributor: pd.DataFrame | None = None
    ageing_rep: pd.DataFrame | None = None
    turnover: pd.DataFrame | None = None
    concentration: pd.DataFrame | None = None
    errors: dict = field(default_factory=dict)

    def get(self, name: str) -> pd.DataFrame:
        """Table ``name``, or the :class:`MissingSource` / :class:`InsufficientData` that kept it from
        being computed (raised again: ``with st.section(...)`` turns it into one line)."""
        if name in self.errors:
            raise self.errors[name]
        return getattr(self, name)


def risk_tables(eng: Engine, start, end, as_of, params: Params | None = None,
                facts_params: FactsParams | None = None) -> RiskTables:
    """Every table of the stage: distributor collection, credit rating and bad debt over invoices
    due in [start, as_of]; ageing (by customer, distributor, rep) as of ``as_of``; the turnover
    watch and concentration over [start, end]. A table whose inputs are missing is left None
    with its error (:meth:`RiskTables.get`)."""
    from .concentration import concentration_by_channel
    from .credit import credit_rating
    from .inventory import turnover_watch
    from .receivables import bad_debt, distributor_collection, receivables_ageing

    params, fp = params or Params(), facts_params or FactsParams()
    jobs = {
        "distributors": lambda: distributor_collection(eng, start, as_of, params),
        "credit": lambda: credit_rating(eng, start, as_of, params),
        "bad_debt": lambda: bad_debt(eng, start, as_of, params),
        "bad_debt_by_channel": lambda: bad_debt(eng, start, as_of, params, by="channel"),
        "ageing_customer": lambda: receivables_ageing(eng, as_of, params, by="customer"),
        "ageing_distributor": lambda: receivables_ageing(eng, as_of, params, by="distributor"),
        "ageing_rep": lambda: receivables_ageing(eng, as_of, params, by="rep"),
        "turnover": lambda: turnover_watch(eng, start, end, params, fp),
        "concentration": lambda: concentration_by_channel(eng, start, end, params, fp),
    }
    out = RiskTables()
    for name, job in jobs.items():
        try:
            setattr(out, name, job())
        except (MissingSource, InsufficientData) as e:
            out.errors[name] = e
    return out


def headlines(tables: RiskTables, alerts: pd.DataFrame) -> dict:
    """The stage's headline figures: risk_receivables_overdue (past-due outstanding, 元),
    bad_debt_rate, risk_high_alerts; None where the table is missing."""
    ageing = tables.ageing_customer
    bad = tables.bad_debt
    return {"risk_receivables_overdue": round(float(ageing["outstanding"].sum()), 2) if ageing is not None else None,
            "bad_debt_rate": float(bad["bad_debt_rate"].iloc[0]) if bad is not None else None,
            "risk_high_alerts": int((alerts["severity"] == "severity_high").sum())}


def _row(**kw) -> dict:
    return {c: kw.get(c) for c in COLUMNS}


def _distributors(d: pd.DataFrame) -> list[dict]:
    lo, watch = used(d, "risk_distributor_collection_min"), used(d, "risk_distributor_collection_watch")
    out = []
    for r in d[d["collection_status"] != "collection_ok"].itertuples():
        high = r.collection_status == "collection_low"
        out.append(_row(alert="alert_distributor_collection", severity="severity_high" if high else "severity_medium",
                        entity_type="entity_distributor", entity_id=r.distributor_id, entity_name=r.distributor_name,
                        risk_owner_type="owner_role", risk_owner="role_channel_manager",
                        alert_metric="collection_rate", alert_value=r.collection_rate,
                        alert_threshold=lo if high else watch, at_stake=r.outstanding,
                        days_overdue=r.max_days_overdue, observed_on=used(d, "as_of")))
    return out


def _credit(c: pd.DataFrame) -> list[dict]:
    b_max, c_max = used(c, "risk_grade_b_max"), used(c, "risk_grade_c_max")
    watch = (c["credit_grade"] == "credit_c") & (c["outstanding"] > used(c, "risk_exposure_low"))
    out = []
    for r in c[(c["credit_grade"] == "credit_d") | watch].itertuples():
        high = r.credit_grade == "credit_d"
        out.append(_row(alert="alert_credit_grade", severity="severity_high" if high else "severity_medium",
                        entity_type="entity_customer", entity_id=r.customer_id, entity_name=r.customer_name,
                        risk_owner_type=r.risk_owner_type, risk_owner=r.risk_owner, risk_owner_name=r.risk_owner_name,
                        alert_metric="credit_points",
                        alert_value=float(r.credit_points), alert_threshold=float((c_max if high else b_max) + 1),
                        at_stake=r.outstanding, days_overdue=r.days_overdue, observed_on=used(c, "as_of")))
    return out


def _bad_debt(b: pd.DataFrame) -> list[dict]:
    target = used(b, "risk_bad_debt_target")
    col = b.columns[0]
    out = []
    for r in b[b["above_target"].fillna(False).astype(bool)].itertuples():
        key = getattr(r, col)
        out.append(_row(alert="alert_bad_debt", severity="severity_high",
                        entity_type="entity_company" if key == "all" else "entity_channel", entity_id=key,
                        risk_owner_type="owner_role", risk_owner="role_finance_manager", alert_metric="bad_debt_rate",
                        alert_value=r.bad_debt_rate, alert_threshold=target, at_stake=r.bad_debt,
                        days_overdue=float(used(b, "risk_bad_debt_days")), observed_on=used(b, "as_of")))
    return out


def _turnover(t: pd.DataFrame) -> list[dict]:
    from .inventory import latest_turnover

    hi, mx = used(t, "risk_turnover_deviation_high"), used(t, "risk_turnover_deviation_max")
    out = []
    for r in latest_turnover(t).itertuples():
        if not r.turnover_alert:
            continue
        high = abs(r.turnover_deviation) > hi
        out.append(_row(alert="alert_turnover", severity="severity_high" if high else "severity_medium",
                        entity_type="entity_company" if r.category == "all" else "entity_category",
                        entity_id=r.category, risk_owner_type="owner_role", risk_owner="role_inventory_manager",
                        alert_metric="turnover_deviation", alert_value=r.turnover_deviation,
                        alert_threshold=hi if high else mx,
                        at_stake=r.stock_value, observed_on=str(r.snapshot_date)))
    return out


def _concentration(c: pd.DataFrame) -> list[dict]:
    hhi_max, hhi_high = used(c, "risk_hhi_max"), used(c, "risk_hhi_high")
    top_max, n = used(c, "risk_top_share_max"), used(c, "risk_top_n")
    out = []
    for r in c[c["channel"] != "all"].itertuples():
        base = dict(alert="alert_concentration", entity_type="entity_channel", entity_id=r.channel,
                    risk_owner_type="owner_role", risk_owner="role_channel_manager", at_stake=r.revenue,
                    observed_on=used(c, "period_end"))
        if r.hhi == r.hhi and r.hhi > hhi_max:
            out.append(_row(**base, severity="severity_high" if r.hhi > hhi_high else "severity_medium",
                            alert_metric="hhi", alert_value=r.hhi,
                            alert_threshold=hhi_high if r.hhi > hhi_high else hhi_max))
        elif r.customers > n and r.top_share > top_max:
            out.append(_row(**base, severity="severity_medium", alert_metric="top_share", alert_value=r.top_share,
                            alert_threshold=top_max))
    return out


def risk_alerts(tables: RiskTables) -> pd.DataFrame:
    """The alerts of the stage's tables (:class:`RiskTables`; a missing table adds none).

    Returns: alert, severity, entity_type, entity_id, entity_name, risk_owner_type, risk_owner,
    risk_owner_name, alert_metric, alert_value, alert_threshold, at_stake, days_overdue,
    observed_on — high first, then by alert kind (the
    order of :data:`ALERTS`), then the money at stake (desc), then entity id.
    """
    rows: list[dict] = []
    for frame, rule in ((tables.distributors, _distributors), (tables.credit, _credit), (tables.bad_debt, _bad_debt),
                        (tables.turnover, _turnover), (tables.concentration, _concentration)):
        if frame is not None and len(frame):
            rows += rule(frame)
    df = pd.DataFrame(rows, columns=COLUMNS)
    for c in ("alert_value", "alert_threshold", "at_stake", "days_overdue"):
        df[c] = pd.to_numeric(df[c], errors="coerce").astype("float64")
    df["alert_value"] = df["alert_value"].round(6)
    df["at_stake"] = df["at_stake"].round(2)
    df = df.assign(_s=df["severity"].map({s: i for i, s in enumerate(SEVERITIES)}),
                   _a=df["alert"].map({a: i for i, a in enumerate(ALERTS)}))
    df = df.sort_values(["_s", "_a", "at_stake", "entity_id"], ascending=[True, True, False, True], na_position="last")
    df = df.drop(columns=["_s", "_a"]).reset_index(drop=True)
    df["entity_name"] = df["entity_name"].where(df["entity_name"].notna(), None)
    return df


def alert_counts(alerts: pd.DataFrame) -> dict:
    """{"high": n, "medium": n, "total": n} of :func:`risk_alerts`."""
    return {"high": int((alerts["severity"] == "severity_high").sum()),
            "medium": int((alerts["severity"] == "severity_medium").sum()), "total": int(len(alerts))}
