"""Sales team performance (团队绩效, domain.md §8): achievement against target, new customers
won, collection rate, revenue per rep, ranking, reward tier and coaching list.

Definitions used here:

- revenue (业绩) of a rep = revenue of the orders carrying the rep's rep_id, from
  :mod:`saleslab.facts`: Σ net_amount of their lines dated in the period − Σ refunds counted in
  the period (a return counts on its return date, or its order's date with ``returns_basis``, and
  belongs to its original order's rep), 元; a team's revenue is the sum over its reps (reps table);
- target (目标) = the rep's (level ``rep``) or team's (level ``team``) monthly targets over the
  period, a month cut by the period counting pro rata of its days
  (:func:`saleslab.performance.kpis.target_by_period`); a team without a team-level target takes
  the sum of its reps' targets;
- achievement rate (目标达成率) = actual / target, where actual = revenue net of returns
  (``achievement_basis="net"``, the default, as the performance stage's KPI cube) or gross sales
  (``"gross"``) (:class:`saleslab.facts.Params`);
- new customers won = customers whose first order in the warehouse (earliest date, then
  smallest order id) carries the rep's rep_id and is dated in the period;
- collection rate (回款率) = collected / invoiced over invoices due in the period whose order
  carries the rep's rep_id (:func:`saleslab.facts.invoices_due_expr`: payments up to the period
  end, at most the invoice amount);
- ranking: by achievement rate (rounded to 4 decimals), then actual (to the cent), then rep
  id — no ties; reps without a target rank last;
- tiers: ``tier_reward`` (achievement ≥ ``reward_min``, 1.2), ``tier_on_target`` (≥ 1),
  ``tier_below_target``, ``tier_coaching`` (≤ ``coaching_max``, 0.6), ``tier_no_target``.

Partial warehouses: the rep list, the targets, the invoices and the payments are optional
sources. Without the rep list, reps are the rep ids on the orders (no name, no team) and the team
table raises :class:`~saleslab.errors.MissingSource`; without targets, target and achievement are
empty and every rep is ``tier_no_target`` (revenue per rep still shows), and
:func:`with_targets` raises for the sections that show achievement; without invoices or payments
the collection columns are empty (unknown, not 0).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .. import facts
from ..channels.performance import first_orders
from ..engine import Engine
from ..errors import InsufficientData, MissingSource, SalesLabError
from ..facts import Params as FactsParams
from ..params import attach, used
from ..performance.kpis import target_by_period
from ..periods import as_date
from .params import Params

TIERS = ("tier_reward", "tier_on_target", "tier_below_target", "tier_coaching", "tier_no_target")

_REP_COLUMNS = ["rep_id", "rep_name", "team", "gross_sales", "returns", "revenue", "target", "achievement_rate",
                "orders", "new_customers", "invoiced", "collected", "collection_rate", "rank", "tier"]
_TEAM_COLUMNS = ["team", "reps", "gross_sales", "returns", "revenue", "target", "achievement_rate", "new_customers",
                 "invoiced", "collected", "collection_rate", "revenue_per_rep", "rank", "tier"]


def _targets(eng: Engine, start, end, level: str, key: str) -> pd.DataFrame:
    """<key>, target: the level's targets over [start, end] (:func:`target_by_period`, summed over years)."""
    t = target_by_period(eng, start, end, "year", level)
    t = t.groupby("level_id", as_index=False)["target"].sum().rename(columns={"level_id": key})
    t["target"] = t["target"].astype(float).round(2)
    return t


def _actual(df: pd.DataFrame, basis: str) -> pd.Series:
    """What achievement is measured on: revenue (net of returns) or gross_sales."""
    return df["revenue"] if basis == "net" else df["gross_sales"]


def _tier(ach: pd.Series, reward_min: float, coaching_max: float) -> pd.Series:
    return pd.Series(np.select(
        [ach.isna(), ach >= reward_min, ach <= coaching_max, ach >= 1.0],
        ["tier_no_target", "tier_reward", "tier_coaching", "tier_on_target"], default="tier_below_target"), index=ach.index)


def _rank(df: pd.DataFrame, basis: str) -> pd.Series:
    """1..n by achievement (desc, missing last), actual (desc), then id: deterministic, no ties."""
    key = df.columns[0]
    order = df.assign(_a=df["achievement_rate"].round(4).fillna(-np.inf), _r=_actual(df, basis).round(2)).sort_values(
        ["_a", "_r", key], ascending=[False, False, True], kind="mergesort")
    rank = pd.Series(np.arange(1, len(df) + 1), index=order.index)
    return rank.reindex(df.index).astype("int64")


def _finish(df: pd.DataFrame, params: Params, basis: str, collection_known: bool = True) -> pd.DataFrame:
    """Round the money, add achievement, collection, rank and tier; the collection columns stay
    empty when ``collection_known`` is False (no invoices or no payments in the warehouse)."""
    for c in ("gross_sales", "returns", "invoiced", "collected"):
        df[c] = df[c].fillna(0.0).astype(float).round(2)
    if not collection_known:
        df[["invoiced", "collected"]] = np.nan
    df["revenue"] = (df["gross_sales"] - df["returns"]).round(2)
    df["target"] = df["target"].astype(float).round(2)
    df["achievement_rate"] = (_actual(df, basis) / df["target"]).where(df["target"] > 0).round(6)
    df["new_customers"] = df["new_customers"].fillna(0).astype("int64")
    df["collection_rate"] = (df["collected"] / df["invoiced"]).where(df["invoiced"] > 0).round(6)
    df["rank"] = _rank(df, basis)
    df["tier"] = _tier(df["achievement_rate"], params.reward_min, params.coaching_max)
    return df.sort_values("rank").reset_index(drop=True)


def rep_performance(eng: Engine, start, end, params: Params | None = None,
                    facts_params: FactsParams | None = None) -> pd.DataFrame:
    """One row per rep: revenue, target, achievement, new customers, collection, rank, tier.

    Input: :func:`saleslab.facts.revenue_by_expr` by rep_id (orders, order_lines, returns),
    reps(rep_id, name, team), targets (level rep, :func:`saleslab.performance.kpis.target_by_period`),
    :func:`saleslab.facts.invoices_due_expr` (invoices, payments), first orders of customers.
    Returns: rep_id, rep_name, team, gross_sales, returns, revenue, target, achievement_rate, orders,
    new_customers, invoiced, collected, collection_rate, rank, tier — sorted by rank.
    Formula: revenue = gross_sales − returns of the rep's orders; achievement_rate = revenue /
    target (``facts_params.achievement_basis="net"``) or gross_sales / target (``"gross"``);
    collection_rate = collected / invoiced; tier = tier_reward if ≥ ``params.reward_min``,
    tier_coaching if ≤ ``params.coaching_max``. The result records ``params`` and ``facts_params``.
    Optional inputs: without the rep list the reps are the rep ids of the orders (rep_name and team
    empty); without targets, target and achievement_rate are empty (tier ``tier_no_target``);
    without invoices or payments, invoiced, collected and collection_rate are empty. No order
    with a rep and no rep list: an empty table (there is no rep to show).
    """
    params, fp = params or Params(), facts_params or FactsParams()
    start, end = as_date(start), as_date(end)
    eng.require("orders", "order_lines", needed_for="rep performance")
    m = facts.revenue_by_expr(eng, start, end, ["rep_id"], fp.returns_basis)
    m = m.filter(m.rep_id.notnull())
    sales = eng.execute(m.select("rep_id", "gross_sales", "returns", "orders"))
    f = first_orders(eng, end)
    f = f.filter(f.first_date.between(start, end) & f.first_rep_id.notnull())
    new = eng.execute(f.group_by(rep_id=f.first_rep_id).aggregate(new_customers=f.customer_id.nunique()))
    inv = facts.invoices_due_expr(eng, start, end)
    inv = inv.filter(inv.rep_id.notnull())
    coll = eng.execute(inv.group_by("rep_id").aggregate(invoiced=inv.amount.sum(), collected=inv.collected.sum()))
    tgt = _targets(eng, start, end, "rep", "rep_id")
    reps = eng.execute(eng.table("reps").select("rep_id", rep_name="name", team="team")).drop_duplicates("rep_id")
    ids = sorted(set(reps["rep_id"]) | set(sales["rep_id"]) | set(tgt["rep_id"]))
    df = pd.DataFrame({"rep_id": ids})
    for part in (reps, sales, tgt, new, coll):
        df = df.merge(part, on="rep_id", how="left")
    df["orders"] = df["orders"].fillna(0).astype("int64")
    df = _finish(df, params, fp.achievement_basis, _collection_known(eng))
    return attach(df[_REP_COLUMNS], params, period_start=str(start), period_end=str(end),
                  **fp.model_dump(mode="json"))


def _collection_known(eng: Engine) -> bool:
    """Collection needs both invoices and payments: with either missing it is unknown."""
    return eng.rows("invoices") > 0 and eng.rows("payments") > 0


def with_targets(eng: Engine, reps: pd.DataFrame) -> pd.DataFrame:
    """``reps`` (:func:`rep_performance`) for a section showing achievement (the achievement chart,
    the reward tier and the coaching list): raises :class:`MissingSource` (targets) when no source
    provides targets, :class:`InsufficientData` when no rep has a target in the table's period."""
    eng.require("targets", needed_for="achievement against target")
    if not reps["target"].notna().any():
        rec = reps.attrs.get("params", {})
        when = f" between {rec['period_start']} and {rec['period_end']}" if "period_start" in rec else ""
        raise InsufficientData(f"no rep has a sales target{when} (targets of level rep)",
                               needed_for="achievement against target")
    return reps


def _recorded_params(reps: pd.DataFrame, params: Params | None, facts_params: FactsParams | None):
    """The models ``reps`` was computed with; a different one asked for is a mistake of the caller."""
    rec = reps.attrs.get("params", {})
    out = []
    for given, model in ((params, Params), (facts_params, FactsParams)):
        known = {k: rec[k] for k in model.model_fields if k in rec}
        mine = model(**known)
        if given is not None and known and given != mine:
            diff = ", ".join(f"{k}={mine_v!r}, not {v!r}" for k, v in given.model_dump(mode="json").items()
                             if (mine_v := mine.model_dump(mode="json")[k]) != v)
            raise SalesLabError(f"the rep table was computed with {diff}: compute rep_performance with the "
                                "parameters of the team table")
        out.append(given or mine)
    return out


def team_performance(eng: Engine, start, end, reps: pd.DataFrame | None = None, params: Params | None = None,
                     facts_params: FactsParams | None = None) -> pd.DataFrame:
    """One row per team: reps, revenue, target, achievement, new customers, collection, revenue per rep.

    Input: :func:`rep_performance`'s table of [start, end] (computed when ``reps`` is None; otherwise
    its recorded parameters are used), targets (level team, :func:`saleslab.performance.kpis.target_by_period`).
    Returns: team, reps, gross_sales, returns, revenue, target, achievement_rate, new_customers,
    invoiced, collected, collection_rate, revenue_per_rep, rank, tier — sorted by rank.
    Formula: revenue = Σ rep revenue; target = team target (Σ rep targets when the team has none);
    achievement_rate = revenue (or gross_sales, by ``achievement_basis``) / target;
    revenue_per_rep = revenue / reps in the team. The result records ``params`` and ``facts_params``.
    Raises :class:`MissingSource` without the rep list (teams are known from it only) and
    :class:`InsufficientData` when no rep of the list has a team. Without targets, target and
    achievement are empty and teams rank by revenue.
    """
    start, end = as_date(start), as_date(end)
    eng.require("reps", needed_for="the team comparison")
    if reps is None:
        reps = rep_performance(eng, start, end, params, facts_params)
    params, fp = _recorded_params(reps, params, facts_params)
    rec = reps.attrs.get("params", {})
    if "period_start" in rec and (rec["period_start"], rec["period_end"]) != (str(start), str(end)):
        raise SalesLabError(f"the rep table is of {rec['period_start']} .. {rec['period_end']}, not of {start} .. {end}")
    r = reps[reps["team"].notna()]
    if r.empty:
        raise InsufficientData("no rep of the rep list has a team", needed_for="the team comparison")
    g = r.groupby("team").agg(reps=("rep_id", "nunique"), gross_sales=("gross_sales", "sum"), returns=("returns", "sum"),
                              rep_target=("target", "sum"), new_customers=("new_customers", "sum"),
                              invoiced=("invoiced", "sum"), collected=("collected", "sum")).reset_index()
    df = g.merge(_targets(eng, start, end, "team", "team"), on="team", how="left")
    df["target"] = df["target"].where(df["target"].notna(), df["rep_target"].where(df["rep_target"] > 0))
    df["reps"] = df["reps"].astype("int64")
    df = _finish(df, params, fp.achievement_basis, bool(r["invoiced"].notna().any()))
    df["revenue_per_rep"] = (df["revenue"] / df["reps"]).round(2)
    return attach(df[_TEAM_COLUMNS], params, period_start=str(start), period_end=str(end),
                  **fp.model_dump(mode="json"))


def reward_list(reps: pd.DataFrame) -> pd.DataFrame:
    """Reps in the reward tier of :func:`rep_performance` (achievement ≥ the ``reward_min`` it was
    computed with), best first; same columns, same recorded parameters."""
    return reps[reps["tier"] == "tier_reward"].sort_values("rank").reset_index(drop=True)


def coaching_list(reps: pd.DataFrame) -> pd.DataFrame:
    """Reps on the coaching list of :func:`rep_performance` (achievement ≤ the ``coaching_max`` it
    was computed with), furthest below target first; same columns, same recorded parameters."""
    return reps[reps["tier"] == "tier_coaching"].sort_values(["achievement_rate", "rep_id"]).reset_index(drop=True)


def team_totals(reps: pd.DataFrame) -> dict:
    """Headline figures over :func:`rep_performance`.

    Returns: revenue, target, achievement_rate, revenue_per_rep (over reps with a target or
    revenue), reward_reps, coaching_reps.
    Formula: achievement_rate = Σ actual / Σ target (actual = revenue or gross_sales, by the
    ``achievement_basis`` ``reps`` was computed with); revenue_per_rep = Σ revenue / those reps.
    Without any target (no targets in the warehouse or the period) achievement_rate, reward_reps
    and coaching_reps are None: the tiers are not defined.
    """
    basis = used(reps, "achievement_basis")
    active = reps[(reps["revenue"] != 0) | (reps["gross_sales"] > 0) | reps["target"].notna()]
    revenue = float(active["revenue"].sum())
    actual = float(_actual(active, basis).sum())
    target = float(active["target"].fillna(0).sum())
    return {
        "revenue": round(revenue, 2),
        "target": round(target, 2),
        "achievement_rate": round(actual / target, 4) if target else None,
        "revenue_per_rep": round(revenue / len(active), 2) if len(active) else None,
        "reward_reps": int((reps["tier"] == "tier_reward").sum()) if target else None,
        "coaching_reps": int((reps["tier"] == "tier_coaching").sum()) if target else None,
    }
