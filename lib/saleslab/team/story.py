"""The team stage's generated narrative: its three biggest findings.

Each finding is one template in :mod:`saleslab.team.labels` (``story_team_*``), in both languages;
thresholds and the achievement basis are those the tables were computed with.
"""

from __future__ import annotations

import pandas as pd

from ..params import used
from ..report.format import money
from ..report.i18n import join, say, t


def _people(df: pd.DataFrame, lang: str) -> str:
    return join((f"{n if isinstance(n, str) else i} ({i}, {a:.0%})"
                 for i, n, a in zip(df["rep_id"], df["rep_name"], df["achievement_rate"])), lang)


def _no_targets(reps: pd.DataFrame, lang: str) -> str:
    """What the rep table says without targets: revenue per rep, and that achievement needs targets."""
    if reps.empty:
        return say("story_team_no_reps", lang)
    active = reps[(reps["revenue"] != 0) | (reps["gross_sales"] > 0)]
    revenue = float(active["revenue"].sum())
    return say("story_team_no_targets", lang, reps=len(active), revenue=money(revenue, lang),
               per_rep=money(revenue / len(active), lang) if len(active) else "–")


def rep_narrative(reps: pd.DataFrame, lang: str) -> str:
    """The findings of :func:`saleslab.team.rep_performance` alone (the stage's opening: it needs
    only the orders): overall achievement, the reward tier, the coaching list; without targets,
    the reps' revenue and revenue per rep, and that achievement needs targets. The best team is
    :func:`team_text` (its section needs the rep list)."""
    return team_narrative(reps, None, lang)


def team_text(teams: pd.DataFrame, lang: str) -> str:
    """One sentence on :func:`saleslab.team.team_performance`: the team ranked first, with its
    achievement, or with its revenue when no team has a target."""
    if teams.empty:
        return ""
    best = teams.sort_values("rank").iloc[0]
    if pd.isna(best["achievement_rate"]):
        return say("story_team_best_by_revenue", lang, team=best["team"], revenue=money(best["revenue"], lang),
                   per_rep=money(best["revenue_per_rep"], lang))
    return say("story_team_best", lang, team=best["team"], team_rate=f"{best['achievement_rate']:.1%}",
               revenue=money(best["revenue"], lang))


def team_narrative(reps: pd.DataFrame, teams: pd.DataFrame | None, lang: str) -> str:
    """Three findings from :func:`saleslab.team.rep_performance` and :func:`~saleslab.team.team_performance`:
    overall achievement and the best team (``teams`` None: not named), the reward tier, the
    coaching list (without targets: revenue per rep, and that achievement needs targets)."""
    if reps.empty or reps["target"].isna().all():
        return _no_targets(reps, lang)
    reward_min, coaching_max = used(reps, "reward_min"), used(reps, "coaching_max")
    column = "revenue" if used(reps, "achievement_basis") == "net" else "gross_sales"
    active = reps[reps["target"].notna()]
    actual, target = float(active[column].sum()), float(active["target"].sum())
    overall = actual / target if target else 0.0
    head = dict(overall=f"{overall:.1%}", actual=money(actual, lang), target=money(target, lang),
                basis=t(f"story_team_basis_{used(reps, 'achievement_basis')}", lang))
    if teams is not None and len(teams):
        best = teams.sort_values("rank").iloc[0]
        lines = [say("story_team_overall", lang, **head, team=best["team"], team_rate=f"{best['achievement_rate']:.1%}")]
    else:
        lines = [say("story_team_overall_no_team", lang, **head)]
    reward = reps[reps["tier"] == "tier_reward"].sort_values("rank")
    coach = reps[reps["tier"] == "tier_coaching"].sort_values("achievement_rate")
    lines.append(say("story_team_reward", lang, reward_min=f"{reward_min:.0%}", names=_people(reward, lang))
                 if len(reward) else say("story_team_no_reward", lang, reward_min=f"{reward_min:.0%}"))
    lines.append(say("story_team_coaching", lang, coaching_max=f"{coaching_max:.0%}", names=_people(coach, lang))
                 if len(coach) else say("story_team_no_coaching", lang, coaching_max=f"{coaching_max:.0%}"))
    return "\n".join(lines)
