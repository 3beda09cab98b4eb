"""Sales team performance (团队绩效, domain.md §8): achievement against target, new customers
won, collection rate, revenue per rep, ranking, reward tier and coaching list.

Definitions used here:

- revenue (业绩) of a rep = Σ order_lines.net_amount of the orders carrying the rep's rep_id
  dated in the period, 元 (net of discounts; returns are not deducted, as in sales targets);
  a team's revenue is the sum over its reps (reps table);
- target (目标) = Σ targets.target_amount of the months whose first day lies between the first
  day of the start month and the period end (level ``rep`` for reps; level ``team`` for teams,
  or the sum of the team's rep targets when a team has no team-level target);
- achievement rate (目标达成率) = revenue / target;
- new customers won = customers whose first order in the warehouse (earliest date, then
  smallest order id) carries the rep's rep_id and is dated in the period;
- collection rate (回款率) = collected / invoiced over invoices due in the period whose order
  carries the rep's rep_id (see :func:`saleslab.channels.collected_invoices`);
- ranking: by achievement rate (rounded to 4 decimals), then revenue (to the cent), then rep
  id — no ties; reps without a target rank last;
- tiers: ``tier_reward`` (achievement ≥ ``reward_min``, 1.2), ``tier_on_target`` (≥ 1),
  ``tier_below_target``, ``tier_coaching`` (≤ ``coaching_max``, 0.6), ``tier_no_target``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..channels.performance import collected_invoices, first_orders
from ..engine import Engine
from ..performance.kpis import as_date, sales_lines

TIERS = ("tier_reward", "tier_on_target", "tier_below_target", "tier_coaching", "tier_no_target")


def _target_filter(eng: Engine, start, end, level: str):
    start, end = as_date(start), as_date(end)
    t = eng.table("targets")
    t = t.filter((t.level == level) & t.month.between(start.replace(day=1), end))
    return t.group_by("level_id").aggregate(target=t.target_amount.sum())


def _tier(ach: pd.Series, reward_min: float, coaching_max: float) -> pd.Series:
    return pd.Series(np.select(
        [ach.isna(), ach >= reward_min, ach <= coaching_max, ach >= 1.0],
        ["tier_no_target", "tier_reward", "tier_coaching", "tier_on_target"], default="tier_below_target"), index=ach.index)


def _rank(df: pd.DataFrame) -> pd.Series:
    """1..n by achievement (desc, missing last), revenue (desc), then id: deterministic, no ties."""
    key = df.columns[0]
    order = df.assign(_a=df["achievement_rate"].round(4).fillna(-np.inf), _r=df["revenue"].round(2)).sort_values(
        ["_a", "_r", key], ascending=[False, False, True], kind="mergesort")
    rank = pd.Series(np.arange(1, len(df) + 1), index=order.index)
    return rank.reindex(df.index).astype("int64")


def rep_performance(eng: Engine, start, end, reward_min: float = 1.2, coaching_max: float = 0.6) -> pd.DataFrame:
    """One row per rep: revenue, target, achievement, new customers, collection, rank, tier.

    Input: reps(rep_id, name, team), orders(order_id, order_date, customer_id, rep_id),
    order_lines(net_amount), targets(month, level = rep, level_id, target_amount), invoices, payments.
    Returns: rep_id, rep_name, team, revenue, target, achievement_rate, orders, new_customers,
    invoiced, collected, collection_rate, rank, tier — sorted by rank.
    Formula: achievement_rate = revenue (Σ net_amount of the rep's orders) / Σ monthly rep targets;
    tier = tier_reward if ≥ ``reward_min``, tier_coaching if ≤ ``coaching_max``.
    """
    start, end = as_date(start), as_date(end)
    o = eng.table("orders").select("order_id", "rep_id")
    s = sales_lines(eng, start, end).join(o, "order_id")
    s = s.filter(s.rep_id.notnull())
    sales = eng.execute(s.group_by("rep_id").aggregate(revenue=s.net_amount.sum(), orders=s.order_id.nunique()))
    f = first_orders(eng, end)
    f = f.filter(f.first_date.between(start, end) & f.first_rep_id.notnull())
    new = eng.execute(f.group_by(rep_id=f.first_rep_id).aggregate(new_customers=f.customer_id.nunique()))
    ci = collected_invoices(eng, start, end)
    ci = ci.join(o, "order_id")
    ci = ci.filter(ci.rep_id.notnull())
    coll = eng.execute(ci.group_by("rep_id").aggregate(invoiced=ci.invoiced.sum(), collected=ci.collected.sum()))
    tgt = eng.execute(_target_filter(eng, start, end, "rep")).rename(columns={"level_id": "rep_id"})
    reps = eng.execute(eng.table("reps").select("rep_id", rep_name="name", team="team")).drop_duplicates("rep_id")
    ids = sorted(set(reps["rep_id"]) | set(sales["rep_id"]) | set(tgt["rep_id"]))
    df = pd.DataFrame({"rep_id": ids})
    for part in (reps, sales, tgt, new, coll):
        df = df.merge(part, on="rep_id", how="left")
    df["revenue"] = df["revenue"].fillna(0.0).astype(float).round(2)
    df["target"] = df["target"].astype(float).round(2)
    df["achievement_rate"] = (df["revenue"] / df["target"]).where(df["target"] > 0).round(6)
    for c in ("orders", "new_customers"):
        df[c] = df[c].fillna(0).astype("int64")
    for c in ("invoiced", "collected"):
        df[c] = df[c].fillna(0.0).astype(float).round(2)
    df["collection_rate"] = (df["collected"] / df["invoiced"]).where(df["invoiced"] > 0).round(6)
    df["rank"] = _rank(df)
    df["tier"] = _tier(df["achievement_rate"], reward_min, coaching_max)
    df = df.sort_values("rank").reset_index(drop=True)
    return df[["rep_id", "rep_name", "team", "revenue", "target", "achievement_rate", "orders", "new_customers",
               "invoiced", "collected", "collection_rate", "rank", "tier"]]


def team_performance(eng: Engine, start, end, reps: pd.DataFrame | None = None,
                     reward_min: float = 1.2, coaching_max: float = 0.6) -> pd.DataFrame:
    """One row per team: reps, revenue, target, achievement, new customers, collection, revenue per rep.

    Input: :func:`rep_performance`'s table (computed when ``reps`` is None), targets(level = team).
    Returns: team, reps, revenue, target, achievement_rate, new_customers, invoiced, collected,
    collection_rate, revenue_per_rep, rank, tier — sorted by rank.
    Formula: achievement_rate = Σ rep revenue / team target (Σ rep targets when the team has
    none); revenue_per_rep = revenue / reps in the team.
    """
    if reps is None:
        reps = rep_performance(eng, start, end, reward_min, coaching_max)
    r = reps[reps["team"].notna()]
    g = r.groupby("team").agg(reps=("rep_id", "nunique"), revenue=("revenue", "sum"), rep_target=("target", "sum"),
                              new_customers=("new_customers", "sum"), invoiced=("invoiced", "sum"),
                              collected=("collected", "sum")).reset_index()
    tgt = eng.execute(_target_filter(eng, start, end, "team")).rename(columns={"level_id": "team"})
    df = g.merge(tgt, on="team", how="left")
    df["target"] = df["target"].where(df["target"].notna(), df["rep_target"].where(df["rep_target"] > 0))
    df["target"] = df["target"].astype(float).round(2)
    df["revenue"] = df["revenue"].round(2)
    df["achievement_rate"] = (df["revenue"] / df["target"]).where(df["target"] > 0).round(6)
    df["reps"] = df["reps"].astype("int64")
    df["new_customers"] = df["new_customers"].astype("int64")
    df["invoiced"] = df["invoiced"].round(2)
    df["collected"] = df["collected"].round(2)
    df["collection_rate"] = (df["collected"] / df["invoiced"]).where(df["invoiced"] > 0).round(6)
    df["revenue_per_rep"] = (df["revenue"] / df["reps"]).round(2)
    df["rank"] = _rank(df)
    df["tier"] = _tier(df["achievement_rate"], reward_min, coaching_max)
    df = df.sort_values("rank").reset_index(drop=True)
    return df[["team", "reps", "revenue", "target", "achievement_rate", "new_customers", "invoiced", "collected",
               "collection_rate", "revenue_per_rep", "rank", "tier"]]


def reward_list(reps: pd.DataFrame) -> pd.DataFrame:
    """Reps in the reward tier (from :func:`rep_performance`), best first."""
    return reps[reps["tier"] == "tier_reward"].sort_values("rank").reset_index(drop=True)


def coaching_list(reps: pd.DataFrame) -> pd.DataFrame:
    """Reps in the coaching list (achievement ≤ coaching_max), furthest below target first."""
    return reps[reps["tier"] == "tier_coaching"].sort_values(
        ["achievement_rate", "rep_id"]).reset_index(drop=True)


def team_totals(reps: pd.DataFrame) -> dict:
    """Headline figures over :func:`rep_performance`: revenue, target, achievement_rate,
    revenue_per_rep (over reps with a target or revenue), reward_reps, coaching_reps."""
    active = reps[(reps["revenue"] > 0) | reps["target"].notna()]
    revenue = float(active["revenue"].sum())
    target = float(active["target"].fillna(0).sum())
    return {
        "revenue": round(revenue, 2),
        "target": round(target, 2),
        "achievement_rate": round(revenue / target, 4) if target else None,
        "revenue_per_rep": round(revenue / len(active), 2) if len(active) else None,
        "reward_reps": int((reps["tier"] == "tier_reward").sum()),
        "coaching_reps": int((reps["tier"] == "tier_coaching").sum()),
    }
