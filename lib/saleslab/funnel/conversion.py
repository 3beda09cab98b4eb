"""Sales funnel (销售漏斗, domain.md §7) as a cohort funnel: where leads go, how fast, where they are lost.

Definitions used here:

- stages: 线索获取 ``lead`` → 需求沟通 ``needs`` → 方案报价 ``proposal`` → 合同签订 ``contract`` →
  售后复购 ``repeat`` (:data:`STAGES`); ``lost`` ends a lead;
- **cohort**: the leads that entered the funnel (their ``lead`` stage row, else ``created_date``)
  in [start, end], followed up to ``as_of`` (stage rows dated after ``as_of`` are not seen yet);
- a lead's **furthest stage** is the highest stage in its history (``lead_stages``); a lead
  without history takes its current stage (``leads.stage``) with ``created_date`` as its lead
  entry and ``close_date`` as the date of its contract or of its loss. A lead entered every stage
  up to its furthest; the entry date of a skipped stage is that of the next stage known (0 days);
- the **outcome** of a lead in stage k (lead, needs, proposal, contract): ``converted`` when it
  reached a later stage, ``dropped`` when it was lost from k, otherwise ``open`` (right-censored:
  neither converted nor dropped yet). A contract lead without a repeat purchase is ``dropped``
  once ``funnel_repeat_window_days`` have passed since its contract (or when it was lost),
  ``open`` before. A lead without history whose current stage is ``lost`` was lost from a stage
  nobody recorded: ``unknown`` at the lead stage, and counted in no stage's conversion;
- **conversion** of stage k = converted / (converted + dropped) — open leads are not lost, they
  are counted apart (``open``); **drop_off** = dropped / (converted + dropped) = 1 − conversion;
  **reach_rate** = leads that entered k / leads of the cohort;
- **days in stage** = days from entering k to entering the next stage or to the loss; an open
  stay is censored at ``as_of``. ``median_days`` and ``p90_days`` are Kaplan–Meier quantiles:
  the smallest day count by which at least 50 % (90 %) of the stays have ended, with open stays
  counting while they last (empty when too many are still open to know);
- **cycle time** (成交周期) = days from entering the funnel to the contract, over won leads
  (furthest stage contract or repeat); ``win_rate`` = won / (won + lost), open leads apart;
- cuts: ``lead_source``, ``rep_id``, ``industry`` (the lead's, else its customer's, else 其他),
  ``size_band`` (the customer's employees in ``funnel_size_bands``; ``unknown`` without a customer
  or a head count) and ``entry_month`` (the cohort's month of entry).
"""

from __future__ import annotations

import ibis
import numpy as np
import pandas as pd

from ..engine import Engine
from ..errors import InsufficientData
from ..facts import Params as FactsParams
from ..facts import UNKNOWN
from ..params import attach
from ..periods import as_date
from .params import Params, parse_size_bands

STAGES = ("lead", "needs", "proposal", "contract", "repeat")
#: The stage codes of the result tables (labels ``funnel_lead`` .. ``funnel_repeat``).
STAGE_CODES = tuple(f"funnel_{s}" for s in STAGES)
#: The stages a lead can convert from (the last stage, repeat, ends the funnel).
OPEN_STAGES = STAGES[:-1]
CUTS = ("lead_source", "rep_id", "industry", "size_band", "entry_month")
OUTCOMES = ("leads_converted", "leads_dropped", "leads_open", "unknown")
OTHER_INDUSTRY = "其他"

FUNNEL_COLUMNS = ["funnel_stage", "stage_order", "leads_entered", "leads_converted", "leads_dropped", "leads_open",
                  "lost_stage_unknown", "stage_conversion", "stage_conversion_lo", "stage_conversion_hi", "drop_off",
                  "reach_rate", "stage_median_days", "stage_p90_days"]
COHORT_COLUMNS = ["cohort_leads", "leads_won", "leads_lost", "leads_open", "lead_win_rate", "cycle_median_days",
                  "cycle_p90_days"]


def size_band_labels(edges) -> list[str]:
    """Labels of the employee bands, smallest first: ``<50``, ``50-499``, ``≥500``."""
    e = parse_size_bands(edges) if isinstance(edges, str) else tuple(edges)
    return [f"<{e[0]}"] + [f"{a}-{b - 1}" for a, b in zip(e, e[1:])] + [f"≥{e[-1]}"]


def _size_band(employees, edges: str):
    e = parse_size_bands(edges)
    labels = size_band_labels(e)
    branches = [(employees < e[0], labels[0])]
    branches += [((employees >= a) & (employees < b), labels[i + 1]) for i, (a, b) in enumerate(zip(e, e[1:]))]
    branches.append((employees >= e[-1], labels[-1]))
    return ibis.cases(*branches, else_=ibis.literal(UNKNOWN))


def _rank(stage):
    return ibis.cases(*((stage == s, i) for i, s in enumerate(STAGES)), else_=ibis.null("int64"))


def _null_date():
    return ibis.null("date")


def leads_expr(eng: Engine, start, end, as_of, params: Params | None = None) -> ibis.Table:
    """The cohort: one row per lead that entered the funnel in [start, end], as seen on ``as_of``.

    Input: leads(lead_id, customer_id, lead_source, rep_id, industry, created_date, stage,
    close_date), lead_stages(lead_id, stage, entered_date) when a source exports the history,
    customers(customer_id, industry, employees) and customer_map when present.
    Columns: lead_id, customer_id (canonical), lead_source, rep_id, industry, size_band,
    entry_month, reached (furthest stage, 0 = lead .. 4 = repeat; null: lost from an unrecorded
    stage), lost, lost_date, e_lead .. e_repeat (stage entry dates, null where not reached).
    """
    params = params or Params()
    start, end, as_of = as_date(start), as_date(end), as_date(as_of)
    eng.require("leads", needed_for="the sales funnel")
    L = eng.table("leads")
    L = L.filter(L.created_date <= as_of)
    cols = {c: L[c] for c in ("lead_id", "customer_id", "lead_source", "rep_id", "industry", "created_date",
                              "stage", "close_date")}
    L = L.select(**cols)
    if eng.rows("lead_stages"):
        S = eng.table("lead_stages")
        S = S.filter(S.entered_date <= as_of)
        agg = {f"h_{s}": ibis.cases((S.stage == s, S.entered_date), else_=_null_date()).min()
               for s in STAGES + ("lost",)}
        H = S.group_by(h_lead_id=S.lead_id).aggregate(h_reached=_rank(S.stage).max(), h_rows=S.count(), **agg)
        L = L.left_join(H, L.lead_id == H.h_lead_id)
    else:
        L = L.mutate(h_reached=ibis.null("int64"), h_rows=ibis.null("int64"),
                     **{f"h_{s}": _null_date() for s in STAGES + ("lost",)})
    if eng.rows("customers"):
        c = eng.table("customers")
        c = c.group_by(c_customer_id=c.customer_id).aggregate(c_industry=c.industry.max(), c_employees=c.employees.max())
        L = L.left_join(c, L.customer_id == c.c_customer_id)
    else:
        L = L.mutate(c_industry=ibis.null("string"), c_employees=ibis.null("int64"))
    if eng.rows("customer_map"):
        m = eng.table("customer_map")
        m = m.group_by(m_customer_id=m.customer_id).aggregate(canonical_id=m.canonical_id.min())
        L = L.left_join(m, L.customer_id == m.m_customer_id)
        canonical = ibis.coalesce(L.canonical_id, L.customer_id)
    else:
        canonical = L.customer_id
    hist = L.h_rows.notnull()
    cur = _rank(L.stage)
    won_now = L.stage.isin(["contract", "repeat"])
    d = {s: L[f"h_{s}"] for s in STAGES}
    d_contract = ibis.ifelse(hist, d["contract"], ibis.ifelse(won_now, L.close_date, _null_date()))
    reached = ibis.ifelse(hist, L.h_reached.fill_null(0), cur)
    lost = ibis.ifelse(hist, L.h_lost.notnull(), L.stage == "lost")
    lost_date = ibis.ifelse(hist, L.h_lost, ibis.ifelse(L.stage == "lost", L.close_date, _null_date()))
    e_repeat = d["repeat"]
    e_contract = ibis.coalesce(d_contract, e_repeat)
    e_proposal = ibis.coalesce(d["proposal"], e_contract)
    e_needs = ibis.coalesce(d["needs"], e_proposal)
    e_lead = ibis.coalesce(d["lead"], L.created_date)
    out = L.select(
        lead_id=L.lead_id, customer_id=canonical,
        lead_source=L.lead_source.fill_null(UNKNOWN), rep_id=L.rep_id.fill_null(UNKNOWN),
        industry=ibis.coalesce(L.industry, L.c_industry, ibis.literal(OTHER_INDUSTRY)),
        size_band=_size_band(L.c_employees, params.funnel_size_bands),
        reached=reached, lost=lost.fill_null(False), lost_date=lost_date,
        e_lead=e_lead, e_needs=ibis.ifelse(reached >= 1, e_needs, _null_date()),
        e_proposal=ibis.ifelse(reached >= 2, e_proposal, _null_date()),
        e_contract=ibis.ifelse(reached >= 3, e_contract, _null_date()),
        e_repeat=ibis.ifelse(reached >= 4, e_repeat, _null_date()))
    out = out.filter(out.e_lead.between(start, end) & (out.e_lead <= as_of))
    return out.mutate(entry_month=out.e_lead.truncate("M").cast("date"))


def _days(later, earlier):
    return ibis.greatest(later.delta(earlier, unit="day"), 0).cast("int64")


def stays_expr(eng: Engine, start, end, as_of, params: Params | None = None) -> ibis.Table:
    """One row per lead and stage it entered (lead .. contract): its outcome and days in the stage.

    Columns: the cuts (:data:`CUTS`), lead_id, funnel_stage, stage_order, outcome (converted,
    dropped, open, unknown), event (the stay ended on a known date), days (to the exit; an open
    stay: to ``as_of``; null when the entry date or, for ``unknown``, the exit is unknown). Rules in the module docstring.
    """
    params = params or Params()
    as_of = as_date(as_of)
    L = leads_expr(eng, start, end, as_of, params)
    entry = [L.e_lead, L.e_needs, L.e_proposal, L.e_contract, L.e_repeat]
    cut = {c: L[c] for c in CUTS}
    parts = []
    for k, stage in enumerate(OPEN_STAGES):
        converted = L.reached > k
        if stage == "contract":
            window = L.e_contract.notnull() & (_days(ibis.literal(as_of), L.e_contract) > params.funnel_repeat_window_days)
            dropped = (L.reached == k) & (L.lost | window)
        else:
            dropped = (L.reached == k) & L.lost
        exit_date = ibis.ifelse(converted, entry[k + 1], ibis.ifelse(dropped & L.lost, L.lost_date, _null_date()))
        outcome = ibis.cases((L.reached.isnull(), "unknown"), (converted, "leads_converted"), (dropped, "leads_dropped"),
                             else_=ibis.literal("leads_open"))
        inside = (L.reached >= k) | L.reached.isnull() if k == 0 else L.reached >= k
        # a stay that ended without a date (a contract past the repeat window) is censored at as_of
        ended = exit_date.notnull()
        parts.append(L.select(
            **cut, lead_id=L.lead_id, funnel_stage=ibis.literal(STAGE_CODES[k]), stage_order=ibis.literal(k),
            outcome=outcome, event=ended,
            days=ibis.cases((L.reached.isnull(), ibis.null("int64")), (ended, _days(exit_date, entry[k])),
                            else_=_days(ibis.literal(as_of), entry[k])),
            _inside=inside))
    u = parts[0]
    for p in parts[1:]:
        u = u.union(p)
    return u.filter(u._inside).drop("_inside")


def km_quantiles(days, events, counts, qs=(0.5, 0.9)) -> list[float]:
    """Kaplan–Meier quantiles of a duration: for each q the smallest day count t with S(t) ≤ 1 − q.

    ``days``, ``events`` (True: the stay ended at ``days``; False: still open, censored there),
    ``counts`` (stays with that pair). Ended stays count before censored ones on the same day.
    Returns NaN for a q the estimate does not reach (too many still open) or without data.
    """
    d = pd.DataFrame({"days": days, "event": events, "n": counts}).dropna(subset=["days"])
    if d.empty:
        return [float("nan")] * len(qs)
    g = d.assign(e=np.where(d["event"].astype(bool), d["n"], 0)).groupby("days").agg(n=("n", "sum"), e=("e", "sum"))
    g = g.sort_index()
    at_risk = g["n"][::-1].cumsum()[::-1]
    surv = (1 - g["e"] / at_risk).cumprod()
    out = []
    for q in qs:
        hit = surv[surv <= 1 - q + 1e-12]
        out.append(float(hit.index[0]) if len(hit) else float("nan"))
    return out


def wilson(successes, trials, level: float = 0.95):
    """Wilson score interval (lo, hi) of successes / trials at ``level``, rounded to 6 decimals;
    empty where trials is 0."""
    from scipy.stats import norm

    k, n = np.asarray(successes, dtype=float), np.asarray(trials, dtype=float)
    z = float(norm.ppf(0.5 + level / 2))
    with np.errstate(invalid="ignore", divide="ignore"):
        p = k / n
        centre = (p + z * z / (2 * n)) / (1 + z * z / n)
        half = z * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    ok = n > 0
    return np.where(ok, np.round(centre - half, 6), np.nan), np.where(ok, np.round(centre + half, 6), np.nan)


def _by(df: pd.DataFrame, by: str | None) -> tuple[pd.DataFrame, list[str]]:
    if by is None:
        return df, []
    if by == "entry_month":
        df = df.assign(entry_month=pd.to_datetime(df["entry_month"]).dt.strftime("%Y-%m"))
    return df, [by]


def _nonempty(h: pd.DataFrame, start, end) -> None:
    if h.empty:
        raise InsufficientData(f"no lead entered the funnel between {as_date(start)} and {as_date(end)}",
                               needed_for="the sales funnel")


def _check_cut(by):
    from ..errors import InvalidArgument

    if by is not None and by not in CUTS:
        raise InvalidArgument(f"a funnel cut is one of {', '.join(CUTS)} (got {by!r})")


def stay_histogram(eng: Engine, start, end, as_of, cuts=(), params: Params | None = None) -> pd.DataFrame:
    """Stays counted in the engine per ``cuts``, stage, outcome, event and day count: the one query
    behind :func:`funnel_table` and :func:`funnel_cuts`. Columns: <cuts>, funnel_stage,
    stage_order, outcome, event, days, n (``entry_month`` as ``YYYY-MM``)."""
    s = stays_expr(eng, start, end, as_of, params or Params())
    keys = list(cuts) + ["funnel_stage", "stage_order", "outcome", "event", "days"]
    h = eng.execute(s.group_by(keys).aggregate(n=s.count()))
    _nonempty(h, start, end)
    if "entry_month" in h.columns:
        h["entry_month"] = pd.to_datetime(h["entry_month"]).dt.strftime("%Y-%m")
    return h


def km_table(h: pd.DataFrame, keys: list[str], qs=(0.5, 0.9)) -> pd.DataFrame:
    """:func:`km_quantiles` for every group of ``keys`` at once. ``h``: keys, days, event, n.
    Returns keys and one column per q (``q50``, ``q90``)."""
    d = h.dropna(subset=["days"])
    d = d.assign(e=np.where(d["event"].astype(bool), d["n"], 0))
    g = d.groupby(keys + ["days"], sort=True, dropna=False)[["n", "e"]].sum().reset_index()
    g = g.sort_values(keys + ["days"], ascending=[True] * len(keys) + [False], kind="mergesort")
    g["at_risk"] = g.groupby(keys, dropna=False)["n"].cumsum()
    g = g.sort_values(keys + ["days"], kind="mergesort")
    g["surv"] = (1 - g["e"] / g["at_risk"]).groupby([g[k] for k in keys], dropna=False).cumprod()
    out = g[keys].drop_duplicates().reset_index(drop=True)
    for q in qs:
        hit = g[g["surv"] <= 1 - q + 1e-12].groupby(keys, dropna=False)["days"].first().rename(f"q{round(q * 100)}")
        out = out.merge(hit.reset_index(), on=keys, how="left")
    return out


def _funnel_from(h: pd.DataFrame, keys_by: list[str], level: float) -> pd.DataFrame:
    """:func:`funnel_table`'s columns from a :func:`stay_histogram` (summed over the other cuts)."""
    grp = keys_by + ["funnel_stage", "stage_order"]
    h = h.groupby(grp + ["outcome", "event", "days"], dropna=False)["n"].sum().reset_index()
    counts = h.pivot_table(index=grp, columns="outcome", values="n", aggfunc="sum", fill_value=0)
    counts = counts.reindex(columns=list(OUTCOMES), fill_value=0).reset_index()
    km = km_table(h, grp) if len(h) else pd.DataFrame(columns=grp + ["q50", "q90"])
    df = counts.merge(km, on=grp, how="left").rename(columns={
        "leads_converted": "leads_converted", "unknown": "lost_stage_unknown", "q50": "stage_median_days",
        "q90": "stage_p90_days"})
    df["leads_entered"] = df[list(OUTCOMES[:3]) + ["lost_stage_unknown"]].sum(axis=1)
    rep = df[(df["stage_order"] == len(OPEN_STAGES) - 1) & (df["leads_converted"] > 0)]
    rep = rep[keys_by].assign(funnel_stage=STAGE_CODES[-1], stage_order=len(OPEN_STAGES),
                              leads_entered=rep["leads_converted"].to_numpy())
    df = pd.concat([df, rep], ignore_index=True) if len(rep) else df
    for c in ("stage_order", "leads_entered", "leads_converted", "leads_dropped", "leads_open", "lost_stage_unknown"):
        df[c] = df[c].fillna(0).astype("int64")
    for c in ("stage_median_days", "stage_p90_days"):
        df[c] = df[c].astype(float)
    closed = df["leads_converted"] + df["leads_dropped"]
    last = df["stage_order"] == len(OPEN_STAGES)
    ok = (closed > 0) & ~last
    df["stage_conversion"] = (df["leads_converted"] / closed).where(ok).round(6)
    lo, hi = wilson(df["leads_converted"], closed, level)
    df["stage_conversion_lo"] = pd.Series(lo, index=df.index).where(ok)
    df["stage_conversion_hi"] = pd.Series(hi, index=df.index).where(ok)
    df["drop_off"] = (df["leads_dropped"] / closed).where(ok).round(6)
    if keys_by:
        first = df[df["stage_order"] == 0].set_index(keys_by)["leads_entered"]
        base = np.asarray(df.set_index(keys_by).index.map(first), dtype=float)
    else:
        n0 = df.loc[df["stage_order"] == 0, "leads_entered"]
        base = float(n0.iloc[0]) if len(n0) else np.nan
    df["reach_rate"] = (df["leads_entered"] / base).round(6)
    df = df.sort_values(keys_by + ["stage_order"], kind="mergesort").reset_index(drop=True)
    return df[keys_by + FUNNEL_COLUMNS]


def funnel_table(eng: Engine, start, end, as_of, by: str | None = None, params: Params | None = None,
                 facts_params: FactsParams | None = None) -> pd.DataFrame:
    """The cohort funnel, one row per stage (and per value of the cut ``by``).

    Input: :func:`stays_expr` (leads, lead_stages, customers, customer_map), aggregated per cut,
    stage, outcome and day count in the engine (:func:`stay_histogram`).
    Returns: [<by>], funnel_stage, stage_order, leads_entered, leads_converted, leads_dropped,
    leads_open, lost_stage_unknown, stage_conversion, stage_conversion_lo, stage_conversion_hi,
    drop_off, reach_rate, stage_median_days, stage_p90_days — stages lead .. repeat (repeat:
    entered only, the funnel ends there).
    Formula: stage_conversion = converted / (converted + dropped) with its Wilson interval at
    ``funnel_interval_level``; drop_off = dropped / (converted + dropped); reach_rate = entered /
    leads of the cohort (the lead stage's entered); stage_median_days, stage_p90_days:
    Kaplan–Meier over the stays (open stays censored at ``as_of``), see :func:`km_quantiles`.
    """
    _check_cut(by)
    params, fp = params or Params(), facts_params or FactsParams()
    keys_by = [by] if by else []
    df = _funnel_from(stay_histogram(eng, start, end, as_of, keys_by, params), keys_by, params.funnel_interval_level)
    return attach(df, params, period_start=str(as_date(start)), period_end=str(as_date(end)),
                  as_of=str(as_date(as_of)), funnel_cut=by or "all", **fp.model_dump(mode="json"))


def funnel_cuts(eng: Engine, start, end, as_of, params: Params | None = None,
                facts_params: FactsParams | None = None, cuts=CUTS) -> pd.DataFrame:
    """:func:`funnel_table` for every cut in ``cuts`` in one long table from one engine query:
    funnel_cut (the cut's name), funnel_cut_value, then the funnel columns (one row per cut value
    and stage)."""
    for by in cuts:
        _check_cut(by)
    params, fp = params or Params(), facts_params or FactsParams()
    h = stay_histogram(eng, start, end, as_of, cuts, params)
    parts = []
    for by in cuts:
        f = _funnel_from(h, [by], params.funnel_interval_level)
        parts.append(f.rename(columns={by: "funnel_cut_value"}).assign(funnel_cut=by))
    cols = ["funnel_cut", "funnel_cut_value"] + FUNNEL_COLUMNS
    out = pd.concat(parts, ignore_index=True)[cols] if parts else pd.DataFrame(columns=cols)
    out["funnel_cut_value"] = out["funnel_cut_value"].astype(str)
    return attach(out, params, period_start=str(as_date(start)), period_end=str(as_date(end)),
                  as_of=str(as_date(as_of)), **fp.model_dump(mode="json"))


def select_cuts(cuts: pd.DataFrame, *names: str) -> pd.DataFrame:
    """The rows of :func:`funnel_cuts` for the cuts ``names`` (in that order), same columns and
    recorded parameters (for a page that shows some cuts as a table)."""
    for by in names:
        _check_cut(by)
    order = {n: i for i, n in enumerate(names)}
    out = cuts[cuts["funnel_cut"].isin(names)].copy()
    out = out.assign(_o=out["funnel_cut"].map(order)).sort_values(["_o", "funnel_cut_value", "stage_order"],
                                                                  kind="mergesort")
    out = out.drop(columns="_o").reset_index(drop=True)
    out.attrs = dict(cuts.attrs)
    return out


def cohort_table(eng: Engine, start, end, as_of, by: str | None = "entry_month", params: Params | None = None,
                 facts_params: FactsParams | None = None) -> pd.DataFrame:
    """Leads of the cohort per value of ``by`` (default: month of entry): won, lost, open, cycle time.

    Input: :func:`leads_expr`.
    Returns: [<by>], leads, won, lost, open, win_rate, cycle_median_days, cycle_p90_days.
    Formula: won = furthest stage contract or repeat; lost = not won and lost; open = the rest
    (still in the funnel on ``as_of``); win_rate = won / (won + lost); cycle = days from entering
    the funnel to the contract over won leads (median and 90th percentile: the smallest day count
    reached by at least 50 % / 90 % of them).
    """
    _check_cut(by)
    params, fp = params or Params(), facts_params or FactsParams()
    L = leads_expr(eng, start, end, as_of, params)
    won = L.reached >= 3
    status = ibis.cases((won, "leads_won"), (L.lost, "leads_lost"), else_=ibis.literal("leads_open"))
    cyc = ibis.ifelse(won, _days(L.e_contract, L.e_lead), ibis.null("int64"))
    keys = ([by] if by else []) + ["status", "cycle"]
    q = L.mutate(status=status, cycle=cyc)
    h = eng.execute(q.group_by(keys).aggregate(n=q.count()))
    _nonempty(h, start, end)
    h, keys_by = _by(h, by)
    rows = []
    groups = h.groupby(keys_by, sort=True) if keys_by else ([((), h)] if len(h) else [])
    for key, g in groups:
        key = key if isinstance(key, tuple) else (key,)
        n = g.groupby("status")["n"].sum()
        w = g[(g["status"] == "leads_won") & g["cycle"].notna()]
        med, p90 = km_quantiles(w["cycle"], np.ones(len(w), bool), w["n"])
        rows.append((*key, int(n.sum()), *(int(n.get(k, 0)) for k in ("leads_won", "leads_lost", "leads_open")), med, p90))
    df = pd.DataFrame(rows, columns=keys_by + ["cohort_leads", "leads_won", "leads_lost", "leads_open",
                                               "cycle_median_days", "cycle_p90_days"])
    closed = df["leads_won"] + df["leads_lost"]
    df["lead_win_rate"] = (df["leads_won"] / closed).where(closed > 0).round(6)
    df = df[keys_by + COHORT_COLUMNS].reset_index(drop=True)
    return attach(df, params, period_start=str(as_date(start)), period_end=str(as_date(end)),
                  as_of=str(as_date(as_of)), funnel_cut=by or "all", **fp.model_dump(mode="json"))


def biggest_losses(cuts: pd.DataFrame, params: Params | None = None,
                   dimensions=("lead_source", "rep_id")) -> pd.DataFrame:
    """Where the loss sits: per lead source and rep, the leads dropped beyond what the overall
    conversion of each stage would have lost.

    Input: :func:`funnel_cuts` (its cuts must include ``dimensions`` and its recorded parameters
    give ``funnel_min_leads`` when ``params`` is None).
    Returns: cut, cut_value, closed (converted + dropped over stages), dropped, expected_dropped,
    excess_dropped, worst_stage, worst_conversion, overall_conversion (of that stage) — the values
    with at least ``funnel_min_leads`` closed lead-stage outcomes, biggest excess first.
    Formula: expected_dropped = Σ over stages of closed × the stage's overall drop_off (the cut's
    values together); excess_dropped = dropped − expected_dropped; worst_stage = the stage with
    the largest excess of the value.
    """
    if params is None:
        rec = cuts.attrs.get("params", {})
        params = Params(**{k: rec[k] for k in Params.model_fields if k in rec})
    c = cuts[cuts["funnel_cut"].isin(dimensions) & (cuts["stage_order"] < len(OPEN_STAGES))].copy()
    c["closed_outcomes"] = c["leads_converted"] + c["leads_dropped"]
    tot = c.groupby(["funnel_cut", "funnel_stage"]).agg(
        all_closed=("closed_outcomes", "sum"), all_dropped=("leads_dropped", "sum"),
        all_converted=("leads_converted", "sum")).reset_index()
    c = c.merge(tot, on=["funnel_cut", "funnel_stage"], how="left")
    rate = (c["all_dropped"] / c["all_closed"]).where(c["all_closed"] > 0, 0.0)
    c["expected_dropped"] = c["closed_outcomes"] * rate
    c["excess"] = c["leads_dropped"] - c["expected_dropped"]
    c["overall_conversion"] = (c["all_converted"] / c["all_closed"]).where(c["all_closed"] > 0)
    worst = c.sort_values(["excess", "stage_order"], ascending=[False, True], kind="mergesort").drop_duplicates(
        ["funnel_cut", "funnel_cut_value"])
    g = c.groupby(["funnel_cut", "funnel_cut_value"]).agg(
        closed_outcomes=("closed_outcomes", "sum"), leads_dropped=("leads_dropped", "sum"),
        expected_dropped=("expected_dropped", "sum")).reset_index()
    worst = worst[["funnel_cut", "funnel_cut_value", "funnel_stage", "stage_conversion", "overall_conversion"]].rename(
        columns={"funnel_stage": "worst_stage", "stage_conversion": "worst_conversion"})
    g = g.merge(worst, on=["funnel_cut", "funnel_cut_value"])
    g["expected_dropped"] = g["expected_dropped"].round(2)
    g["excess_dropped"] = (g["leads_dropped"] - g["expected_dropped"]).round(2)
    g["overall_conversion"] = g["overall_conversion"].round(6)
    g = g[g["closed_outcomes"] >= params.funnel_min_leads]
    g = g.sort_values(["excess_dropped", "funnel_cut", "funnel_cut_value"], ascending=[False, True, True],
                      kind="mergesort")
    g = g[["funnel_cut", "funnel_cut_value", "closed_outcomes", "leads_dropped", "expected_dropped", "excess_dropped",
           "worst_stage", "worst_conversion", "overall_conversion"]].reset_index(drop=True)
    return attach(g, params, **{k: v for k, v in cuts.attrs.get("params", {}).items() if k not in Params.model_fields})
