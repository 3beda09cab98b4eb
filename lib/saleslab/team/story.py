"""The team stage's generated narrative: its three biggest findings.

Each finding is one template in :mod:`saleslab.team.labels` (``story_team_*``), in both languages;
thresholds and the achievement basis are those the tables were computed with.
"""

from __future__ import annotations

import pandas as pd

from ..params import used
from ..report.format import wan
from ..report.i18n import join, say, t


def _people(df: pd.DataFrame, lang: str) -> str:
    return join((f"{n if isinstance(n, str) else i} ({i}, {a:.0%})"
                 for i, n, a in zip(df["rep_id"], df["rep_name"], df["achievement_rate"])), lang)


def team_narrative(reps: pd.DataFrame, teams: pd.DataFrame, lang: str) -> str:
    """Three findings from :func:`saleslab.team.rep_performance` and :func:`~saleslab.team.team_performance`:
    overall achievement and the best team, the reward tier, the coaching list."""
    if reps.empty or reps["target"].isna().all():
        return say("story_team_empty", lang)
    reward_min, coaching_max = used(reps, "reward_min"), used(reps, "coaching_max")
    column = "revenue" if used(reps, "achievement_basis") == "net" else "gross_sales"
    active = reps[reps["target"].notna()]
    actual, target = float(active[column].sum()), float(active["target"].sum())
    overall = actual / target if target else 0.0
    unit = t("wan_yuan", lang)
    head = dict(overall=f"{overall:.1%}", actual=wan(actual), target=wan(target), unit=unit,
                basis=t(f"story_team_basis_{used(reps, 'achievement_basis')}", lang))
    if len(teams):
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
