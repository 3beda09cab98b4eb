"""Facts about one customer from the other stages of the run, side by side (客户360 · 跨页结论).

A manager reading the pack meets the same customer on several pages, each judging it by its own
rule: the channels stage (04) flags a distributor for closure review when its collection rate is
below the threshold; the customers stage (06) classes it by purchases (RFM class, value tier,
rule tags, value-matrix quadrant); the CLV / churn stage (07) scores its churn risk and CLV; the
risk stage (12) rates its credit and ages its receivables. :func:`linked_facts` collects them in
one table, each with the stage it comes from, so that two verdicts that look contradictory
(D011: 建议清退复核 in 04, 深耕 / 重要价值客户 in 06) are shown together and explained
(:mod:`saleslab.customer360.story`).

Whose verdict a fact is (``link_stage``: the page of the rule, 04 / 06 / 07 / 12) and where it was
read (``link_source``):

- a table an earlier stage of this run saved, found with :meth:`saleslab.engine.Engine.find_result`
  (``distributors`` of 04, ``customer_segments`` of 06, ``churn_scores`` of 07, ``credit_rating``,
  ``ageing_by_customer`` and ``alerts`` of 12) — the stage's name;
- else ``computed``: the segment and value dicts of the card (:func:`~saleslab.customer360.segment_info`,
  :func:`~saleslab.customer360.value_info`, themselves the run's tables or computed with the run's
  parameters) and, for the risk stage, which runs after this page in a full run,
  :func:`saleslab.risk.credit.credit_rating` and :func:`saleslab.risk.receivables.receivables_ageing`
  with the risk area's parameters (the same figures stage 12 reports). The risk alerts list is
  read from stage 12's table only (a run in which 12 ran before this page, or an interactive one).

A fact whose source is missing (no invoices, the stage not run and nothing to compute from) is
left out; a customer who is no distributor has no collection-review row.
"""

from __future__ import annotations

import pandas as pd

from ..engine import Engine
from ..errors import InsufficientData, MissingSource
from ..parts import value_of
from ..risk.params import Params as RiskParams

COMPUTED = "computed"
#: Columns of :func:`linked_facts`.
LINK_COLUMNS = ["link_fact", "link_value", "link_number", "link_kind", "link_stage", "link_source"]
#: The page whose rule each fact is.
PAGES = {"link_collection_review": "04_channels", "link_rfm_class": "06_customers", "link_tier": "06_customers",
         "link_tag": "06_customers", "link_quadrant": "06_customers", "link_churn_probability": "07_clv_churn",
         "link_clv": "07_clv_churn", "link_credit_grade": "12_risk", "link_outstanding": "12_risk",
         "link_overdue_90": "12_risk", "link_max_days_overdue": "12_risk", "link_alert": "12_risk"}
#: Facts in page order (label keys).
FACTS = ("link_collection_review", "link_rfm_class", "link_tier", "link_tag", "link_quadrant", "link_churn_probability",
         "link_clv", "link_credit_grade", "link_outstanding", "link_overdue_90", "link_max_days_overdue", "link_alert")
#: RFM classes, tiers and quadrants that say "valuable by purchases" (for the explanation).
VALUABLE = ("rfm_important_value", "rfm_important_development", "rfm_important_retention", "tier_high_value",
            "quadrant_deepen", "quadrant_maintain", "tag_high_value")


def _row_of(df: pd.DataFrame | None, key: str, customer_id: str) -> dict | None:
    if df is None or key not in df:
        return None
    r = df[df[key] == customer_id]
    return r.iloc[0].to_dict() if len(r) else None


def _num(v):
    if v is None or v is pd.NA:
        return None
    try:
        f = float(v)
    except (TypeError, ValueError):
        return None
    return None if f != f else f


def _found(eng: Engine, name: str):
    got = eng.find_result(name)
    return (None, None) if got is None else got


def linked_facts(eng: Engine, customer_id: str, start, as_of, seg: dict | None = None, val=None,
                 risk_params: RiskParams | None = None) -> pd.DataFrame:
    """The customer's verdicts on the other pages, one row per fact, in :data:`FACTS` order.

    Input: the run's tables (see the module docstring), else ``seg`` / ``val`` (the card's
    :func:`segment_info` / :func:`value_info` dicts, or a part, :func:`saleslab.parts.attempt`) and
    the risk area's credit rating and receivables ageing over invoices due in [start, as_of].
    Returns: link_fact (label key), link_value (a label key: class, tier, tag, grade, alert, or
    ``closure_review`` / ``link_collection_ok``; None for a figure), link_number (collection rate,
    churn probability, CLV 元, credit points, outstanding 元, outstanding more than 90 days past
    due 元, days overdue), link_kind (share | money | points | days | None), link_stage (the page
    whose rule it is: 04_channels, 06_customers, 07_clv_churn, 12_risk), link_source (the stage
    whose saved table was read, or ``computed``).
    """
    rows: list[tuple] = []

    def add(fact, value=None, number=None, kind=None, stage=COMPUTED):
        rows.append((fact, value, _num(number), kind, PAGES[fact], stage))

    # 04 channels: collection review of a distributor
    stage, table = _found(eng, "distributors")
    r = _row_of(table, "distributor_id", customer_id)
    if r is not None and "closure_review" in r:
        add("link_collection_review", "closure_review" if bool(r["closure_review"]) else "link_collection_ok",
            r.get("collection_rate"), "share", stage)
    # 06 customers: RFM class, tier, tags, quadrant
    stage, table = _found(eng, "customer_segments")
    r = _row_of(table, "customer_id", customer_id)
    seg = seg or {}
    if r is None and seg.get("rfm_class"):
        r, stage = {"rfm_class": seg.get("rfm_class"), "customer_tier": seg.get("customer_tier")}, COMPUTED
    if r is not None:
        if r.get("rfm_class"):
            add("link_rfm_class", r["rfm_class"], stage=stage)
        if r.get("customer_tier"):
            add("link_tier", r["customer_tier"], stage=stage)
        if "tags" in r:
            tags = [t for t in str(r.get("tags") or "").split(",") if t]
            for t in tags or ["link_no_tag"]:
                add("link_tag", t, stage=stage)
        if r.get("quadrant"):
            add("link_quadrant", r["quadrant"], stage=stage)
    # 07 CLV and churn: the model's risk and the CLV
    stage, table = _found(eng, "churn_scores")
    r = _row_of(table, "customer_id", customer_id)
    if r is None:
        v = value_of(val) or {}
        if v.get("churn_probability") is not None or v.get("clv") is not None:
            r, stage = v, COMPUTED
    if r is not None:
        if _num(r.get("churn_probability")) is not None:
            add("link_churn_probability", number=r["churn_probability"], kind="share", stage=stage)
        if _num(r.get("clv")) is not None:
            add("link_clv", number=r["clv"], kind="money", stage=stage)
    # 12 risk: credit grade, receivables ageing, alerts
    rp = risk_params or RiskParams()
    stage, table = _found(eng, "credit_rating")
    if table is None:
        try:
            from ..risk.credit import credit_rating

            stage, table = COMPUTED, credit_rating(eng, start, as_of, rp)
        except (MissingSource, InsufficientData):
            table = None
    r = _row_of(table, "customer_id", customer_id)
    if r is not None:
        add("link_credit_grade", r.get("credit_grade"), r.get("credit_points"), "points", stage)
    stage, table = _found(eng, "ageing_by_customer")
    if table is None:
        try:
            from ..risk.receivables import receivables_ageing

            stage, table = COMPUTED, receivables_ageing(eng, as_of, rp, by="customer")
        except (MissingSource, InsufficientData):
            table = None
    r = _row_of(table, "customer_id", customer_id)
    if r is not None:
        over = [c for c in r if isinstance(c, str) and c.startswith(">")]
        add("link_outstanding", number=r.get("outstanding"), kind="money", stage=stage)
        if over:
            add("link_overdue_90", number=r.get(over[-1]), kind="money", stage=stage)
        add("link_max_days_overdue", number=r.get("max_days_overdue"), kind="days", stage=stage)
    stage, table = _found(eng, "alerts")
    if table is not None and "entity_id" in table:
        for a in table[table["entity_id"] == customer_id]["alert"].drop_duplicates():
            add("link_alert", a, stage=stage)
    out = pd.DataFrame(rows, columns=LINK_COLUMNS)
    order = {f: i for i, f in enumerate(FACTS)}
    out = out.sort_values("link_fact", key=lambda s: s.map(order), kind="mergesort").reset_index(drop=True)
    out["link_number"] = out["link_number"].astype("float64")
    return out


def review_and_value(links: pd.DataFrame) -> tuple[bool, list[str]]:
    """(flagged for closure review or rated credit D, the purchase-based verdicts that call the
    customer valuable) — the pair a manager reads as a contradiction (see the story)."""
    vals = links["link_value"].dropna().tolist()
    flagged = "closure_review" in vals or "credit_d" in vals
    return flagged, [v for v in vals if v in VALUABLE]
